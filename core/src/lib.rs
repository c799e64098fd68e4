//! # haven-core
//!
//! The on-device content-safety engine behind Haven: age-tiered policy and explainable verdicts for children,
//! in the six UN languages. Nothing leaves the device.
//!
//! - [`policy`]: age tiers, categories, actions, the default policy matrix and the family's [`Profile`].
//! - [`verdict`]: the one answer every check returns, with evidence, a child-facing message and help.
//! - [`i18n`]: the message catalogue (ar, en, es, fr, ru, zh; standard and easy-read) and the help directory.
//! - [`hash`]: the hash engine: exact (MD5, SHA-1, BLAKE3) and PDQ perceptual matching against known-abuse lists.
//! - [`classify`]: the image classifier: nudity and sexual-content models run with ONNX Runtime (optional: Haven
//!   works without it).
//! - [`url`]: the URL engine: Safe Browsing canonicalisation, block lists compiled to memory-mapped files, and
//!   SafeSearch.
//!
//! [`Haven`] ties them together.
//!
//! ```
//! use haven_core::Haven;
//! use haven_core::policy::{Action, AgeTier, Profile};
//!
//! let haven = Haven::new();
//! let mut profile = Profile::new("Mia", AgeTier::Under9)?;
//! profile.allow_domain("kids.example.org")?;
//! profile.set_allowlist_only(true);
//!
//! assert_eq!(haven.check_url(&profile, "https://kids.example.org/games")?.action, Action::Allow);
//! let verdict = haven.check_url(&profile, "https://example.com/")?;
//! assert_eq!(verdict.action, Action::Block);
//! println!("{}", verdict.message.unwrap().standard.body);
//! # Ok::<(), haven_core::Error>(())
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod classify;
pub mod hash;
pub mod i18n;
pub mod policy;
pub mod url;
pub mod verdict;

use std::sync::Arc;

pub use policy::{Action, AgeTier, Category, Profile};
pub use verdict::Verdict;

use i18n::{Catalogue, HelpDirectory};
use verdict::Finding;

/// Any error `haven-core` returns. None of them carries the child's text, URLs or other personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A URL could not be checked.
    #[error(transparent)]
    Url(#[from] url::UrlError),
    /// A profile is invalid or could not be read.
    #[error(transparent)]
    Profile(#[from] policy::ProfileError),
    /// A replacement message catalogue is incomplete or malformed.
    #[error(transparent)]
    Catalogue(#[from] i18n::CatalogueError),
    /// A replacement help directory is malformed.
    #[error(transparent)]
    Help(#[from] i18n::HelpError),
    /// An image could not be decoded (malformed, unsupported, or beyond the decoding limits).
    #[error(transparent)]
    Image(#[from] hash::image::ImageError),
    /// The image classifier failed (the image could not be decoded, or inference failed).
    #[error(transparent)]
    Classify(#[from] classify::ClassifyError),
}

/// The engine: checks content for a profile and returns verdicts. Cheap to clone, safe to share across threads.
#[derive(Debug, Clone)]
pub struct Haven {
    catalogue: Arc<Catalogue>,
    help: Arc<HelpDirectory>,
    urls: url::UrlEngine,
    hashes: hash::HashEngine,
    classifier: Option<Arc<classify::ImageClassifier>>,
}

impl Default for Haven {
    fn default() -> Self {
        Haven::new()
    }
}

impl Haven {
    /// An engine with the built-in message catalogue, help directory and seed lists (gambling, social media,
    /// dating, bypass tools).
    pub fn new() -> Haven {
        Haven {
            catalogue: Catalogue::builtin(),
            help: HelpDirectory::builtin(),
            urls: url::UrlEngine::builtin(),
            hashes: hash::HashEngine::new(),
            classifier: None,
        }
    }

    /// This engine with other category lists (for example the built-in ones plus the installed adult list).
    pub fn with_url_engine(mut self, urls: url::UrlEngine) -> Haven {
        self.urls = urls;
        self
    }

    /// The category lists in use.
    pub fn url_engine(&self) -> &url::UrlEngine {
        &self.urls
    }

    /// This engine with hash lists of known abuse material (none by default: the lists are access-controlled).
    pub fn with_hash_engine(mut self, hashes: hash::HashEngine) -> Haven {
        self.hashes = hashes;
        self
    }

    /// The hash lists in use.
    pub fn hash_engine(&self) -> &hash::HashEngine {
        &self.hashes
    }

    /// This engine with an image classifier (none by default: the model and ONNX Runtime are installed
    /// separately, see [`classify`]).
    pub fn with_image_classifier(mut self, classifier: Arc<classify::ImageClassifier>) -> Haven {
        self.classifier = Some(classifier);
        self
    }

    /// The image classifier in use, if any.
    pub fn image_classifier(&self) -> Option<&classify::ImageClassifier> {
        self.classifier.as_deref()
    }

    /// Checks an image's bytes against the hash lists (exact digests, and PDQ within the radius) and, when this
    /// engine has one, the image classifier (sexual content, nudity; thresholds per age tier). A hash match is
    /// known abuse material: blocked for every age, never overridable. The image is not kept.
    pub fn check_image(&self, profile: &Profile, bytes: &[u8]) -> Result<Verdict, Error> {
        let mut findings: Vec<Finding> = self
            .hashes
            .match_image(bytes)?
            .iter()
            .map(hash::HashMatch::to_finding)
            .collect();
        if let Some(classifier) = &self.classifier {
            match classifier.check_bytes(bytes, profile.tier()) {
                Ok(found) => findings.extend(found),
                // A file the hash lists know is blocked even if it does not decode.
                Err(classify::ClassifyError::Image(_)) if !findings.is_empty() => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(self.decide(profile, findings))
    }

    /// Checks one hash (computed elsewhere, e.g. by an app that never hands Haven the image) against the lists.
    pub fn check_hash(&self, profile: &Profile, value: &hash::HashValue) -> Verdict {
        let findings = self
            .hashes
            .match_value(value)
            .iter()
            .map(hash::HashMatch::to_finding)
            .collect();
        self.decide(profile, findings)
    }

    /// This engine with the app's own message catalogue.
    pub fn with_catalogue(mut self, catalogue: Arc<Catalogue>) -> Haven {
        self.catalogue = catalogue;
        self
    }

    /// This engine with the app's own help directory (for example, the helplines of the app's market).
    pub fn with_help_directory(mut self, help: Arc<HelpDirectory>) -> Haven {
        self.help = help;
        self
    }

    /// Weighs engine findings for content that has no domain (a message, an image) against a profile.
    pub fn decide(&self, profile: &Profile, findings: Vec<Finding>) -> Verdict {
        Verdict::decide(
            profile,
            policy::DomainDecision::Unlisted,
            findings,
            &self.catalogue,
            &self.help,
        )
    }

    /// Whether the child may open a URL.
    ///
    /// The URL is canonicalised the Safe Browsing way, so encodings, IP notations and `..` tricks reach the
    /// same verdict as the plain URL. The profile's deny list and allowlist-only mode come first, then the
    /// category lists; the parent's allow list beats every category but known abuse. When the check allows
    /// or warns and the URL is a search without SafeSearch, [`Verdict::redirect`] holds the safe version.
    pub fn check_url(&self, profile: &Profile, url: &str) -> Result<Verdict, Error> {
        let canonical = url::CanonicalUrl::parse(url)?;
        let domain = profile.domain_decision(canonical.host());
        let findings = self
            .urls
            .check(&canonical)
            .iter()
            .map(url::ListMatch::to_finding)
            .collect();
        let mut verdict = Verdict::decide(profile, domain, findings, &self.catalogue, &self.help);
        if verdict.action != Action::Block && url::safesearch::is_search_host(canonical.host()) {
            verdict.redirect = url::safesearch::rewrite(url, profile.safe_search());
        }
        Ok(verdict)
    }
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use std::panic::{RefUnwindSafe, UnwindSafe};

    use super::*;

    fn assert_all<T: Send + Sync + UnwindSafe + RefUnwindSafe>() {}

    /// Every public type can be shared across threads (a compile-time check: this test fails by not building).
    #[test]
    fn public_types_are_send_and_sync() {
        assert_all::<Haven>();
        assert_all::<Error>();
        assert_all::<Profile>();
        assert_all::<policy::ProfileError>();
        assert_all::<policy::Rule>();
        assert_all::<policy::RuleOverride>();
        assert_all::<policy::DomainList>();
        assert_all::<policy::Country>();
        assert_all::<Verdict>();
        assert_all::<Finding>();
        assert_all::<verdict::Evidence>();
        assert_all::<verdict::Message>();
        assert_all::<verdict::HelpPointer>();
        assert_all::<Catalogue>();
        assert_all::<i18n::CatalogueError>();
        assert_all::<HelpDirectory>();
        assert_all::<i18n::HelpError>();
        assert_all::<url::UrlError>();
        assert_all::<url::CanonicalUrl>();
        assert_all::<url::UrlEngine>();
        assert_all::<url::CompiledList>();
        assert_all::<url::CompiledListError>();
        assert_all::<url::ParsedList>();
        assert_all::<url::ListError>();
        assert_all::<url::ListMatch>();
        assert_all::<hash::HashEngine>();
        assert_all::<hash::CompiledHashList>();
        assert_all::<hash::HashMatch>();
        assert_all::<hash::list::HashListError>();
        assert_all::<classify::ImageClassifier>();
        assert_all::<classify::ClassifyError>();
        assert_all::<classify::ModelManifest>();
        // ONNX Runtime's environment holds a logger callback, so the runtime handle is not UnwindSafe; the
        // classifier and the engine do not hold it.
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<classify::Runtime>();
    }
}
