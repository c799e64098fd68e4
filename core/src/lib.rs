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
//! - [`text`]: the text engine: evasion-proof keyword and phrase lexicons in six languages, personal data the
//!   child sends, grooming patterns over a conversation.
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
pub mod lists;
pub mod policy;
pub mod text;
pub mod url;
pub mod verdict;

use std::sync::Arc;

pub use policy::{Action, AgeTier, Category, Profile};
pub use verdict::Verdict;

use i18n::{Catalogue, HelpDirectory};
use verdict::{Evidence, Finding};

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
    /// A text or conversation could not be checked (too long).
    #[error(transparent)]
    Text(#[from] text::TextError),
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
    texts: text::TextEngine,
    pii: text::PiiDetector,
    classifier: Option<Arc<classify::ImageClassifier>>,
    toxicity: Toxicity,
}

/// The text classifier's state in an engine.
#[derive(Debug, Clone)]
enum Toxicity {
    /// None was configured: lexicons only, nothing said about it.
    NotConfigured,
    /// Loaded: its findings join the lexicon's.
    Loaded(Arc<classify::text::TextClassifier>),
    /// Configured but it could not be loaded: lexicons only, and every text verdict says so.
    Unavailable,
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
            texts: text::TextEngine::builtin(),
            pii: text::PiiDetector::new(),
            classifier: None,
            toxicity: Toxicity::NotConfigured,
        }
    }

    /// This engine with other lexicons (for example the built-in ones plus an app's own).
    pub fn with_text_engine(mut self, texts: text::TextEngine) -> Haven {
        self.texts = texts;
        self
    }

    /// This engine with the toxic-message classifier ([`classify::text`]): its bullying and hate findings join
    /// the lexicon's in [`Haven::check_text`] and [`Haven::check_conversation`].
    pub fn with_text_classifier(
        mut self,
        classifier: Arc<classify::text::TextClassifier>,
    ) -> Haven {
        self.toxicity = Toxicity::Loaded(classifier);
        self
    }

    /// This engine after a text classifier failed to load: texts are checked with the lexicons alone and every
    /// text verdict carries a `classifier-unavailable` evidence note (engine `classifier`), so the app and the
    /// parent can see that the model was not used.
    pub fn without_text_classifier(mut self) -> Haven {
        self.toxicity = Toxicity::Unavailable;
        self
    }

    /// The text classifier in use, if any.
    pub fn text_classifier(&self) -> Option<&classify::text::TextClassifier> {
        match &self.toxicity {
            Toxicity::Loaded(classifier) => Some(classifier),
            Toxicity::NotConfigured | Toxicity::Unavailable => None,
        }
    }

    /// The lexicons in use.
    pub fn text_engine(&self) -> &text::TextEngine {
        &self.texts
    }

    /// Checks one text: a message the child receives or is about to send, a search, a post.
    ///
    /// Lexicon matches become findings of their category (profanity, sexual content, bullying, hate, violence,
    /// self-harm, drugs); in text the child sends ([`text::Direction::Outgoing`]), personal data (phone numbers,
    /// e-mail and street addresses, payment cards, coordinates, "my school is ...") is personal information; and
    /// grooming phrases count as in a one-message conversation (see [`text::grooming`]). Evidence spans are
    /// byte ranges of `text`.
    ///
    /// ```
    /// use haven_core::text::TextContext;
    /// use haven_core::{Action, AgeTier, Category, Haven, Profile};
    ///
    /// let haven = Haven::new();
    /// let child = Profile::new("Leo", AgeTier::Age9To12)?;
    /// let verdict = haven.check_text(&child, "you are such a l 0 s e r", &TextContext::incoming())?;
    /// assert_eq!(verdict.categories[0].category, Category::Bullying);
    /// assert_eq!(haven.check_text(&child, "Scunthorpe United won 3-1", &TextContext::incoming())?.action, Action::Allow);
    /// # Ok::<(), haven_core::Error>(())
    /// ```
    pub fn check_text(
        &self,
        profile: &Profile,
        text: &str,
        context: &text::TextContext,
    ) -> Result<Verdict, Error> {
        self.check_text_using(&self.toxicity, profile, text, context)
    }

    /// [`Haven::check_text`] with the given classifier state.
    fn check_text_using(
        &self,
        toxicity: &Toxicity,
        profile: &Profile,
        text: &str,
        context: &text::TextContext,
    ) -> Result<Verdict, Error> {
        text::check_length(text)?;
        let mut notes = Notes::new(toxicity);
        let (mut findings, signals) = self.scan_message(
            profile,
            text,
            context.direction,
            context.language,
            None,
            0,
            &mut notes,
        );
        findings.extend(grooming_findings(text::grooming::assess(signals, 0)));
        let mut verdict = self.decide(profile, findings);
        notes.add_to(&mut verdict);
        Ok(verdict)
    }

    /// Checks a conversation, oldest message first: every message as [`Haven::check_text`] would (evidence
    /// names the message by its index), and grooming risk over the whole conversation, so that several weak
    /// signals together raise it while one innocent "how old are you" does not.
    pub fn check_conversation(
        &self,
        profile: &Profile,
        messages: &[text::ChatMessage],
        context: &text::TextContext,
    ) -> Result<Verdict, Error> {
        if messages.len() > text::MAX_MESSAGES {
            return Err(text::TextError::TooManyMessages {
                len: messages.len(),
                max: text::MAX_MESSAGES,
            }
            .into());
        }
        for message in messages {
            text::check_length(&message.text)?;
        }
        let mut findings = Vec::new();
        let mut signals = Vec::new();
        let mut notes = Notes::new(&self.toxicity);
        for (index, message) in messages.iter().enumerate() {
            let (found, signalled) = self.scan_message(
                profile,
                &message.text,
                message.direction,
                context.language,
                Some(index),
                message.sent_at,
                &mut notes,
            );
            findings.extend(found);
            signals.extend(signalled);
        }
        let last = messages.iter().map(|m| m.sent_at).max().unwrap_or(0);
        findings.extend(grooming_findings(text::grooming::assess(signals, last)));
        let mut verdict = self.decide(profile, findings);
        notes.add_to(&mut verdict);
        Ok(verdict)
    }

    /// The text with what the profile would not let through masked at its original positions: every character
    /// of such a span but spaces becomes `*`. Content the profile allows (profanity for a teenager, say) stays.
    /// Only lexicon and personal-data matches have spans, so the text classifier is not run here: a message it
    /// flags as a whole is not masked (use [`Haven::check_text`]'s verdict to hold it back).
    pub fn mask_text(
        &self,
        profile: &Profile,
        text: &str,
        context: &text::TextContext,
    ) -> Result<String, Error> {
        let verdict = self.check_text_using(&Toxicity::NotConfigured, profile, text, context)?;
        let masked_categories: Vec<Category> = verdict
            .categories
            .iter()
            .filter(|c| c.action != Action::Allow)
            .map(|c| c.category)
            .collect();
        let spans: Vec<(usize, usize)> = verdict
            .evidence
            .iter()
            .filter(|e| e.category.is_some_and(|c| masked_categories.contains(&c)))
            .filter_map(|e| e.span.map(|s| (s.start, s.end)))
            .collect();
        if spans.is_empty() {
            return Ok(text.to_owned());
        }
        Ok(mask_spans(text, spans))
    }

    /// Lexicon, personal-data and classifier findings of one message (the classifier as `notes` says), and its
    /// grooming signals. `given` is the language the app named; the lexicons fall back to the profile's, the
    /// classifier detects it.
    #[allow(clippy::too_many_arguments)]
    fn scan_message(
        &self,
        profile: &Profile,
        text: &str,
        direction: text::Direction,
        given: Option<i18n::Language>,
        message: Option<usize>,
        sent_at: u64,
        notes: &mut Notes<'_>,
    ) -> (Vec<Finding>, Vec<text::GroomingSignal>) {
        let language = given.unwrap_or(profile.language());
        let outgoing = direction == text::Direction::Outgoing;
        let mut findings = Vec::new();
        let mut signals = Vec::new();
        for found in self.texts.scan_in(text, language) {
            let entry = &found.entry;
            let category = match entry.kind {
                text::EntryKind::Category(c) => c,
                text::EntryKind::PersonalInfoPhrase if outgoing => Category::PersonalInfo,
                text::EntryKind::Grooming(family) => {
                    signals.push(text::GroomingSignal {
                        family,
                        message: message.unwrap_or(0),
                        span: found.span.clone(),
                        severity: entry.severity,
                        direction,
                        sent_at,
                        rule: format!("{}:{}", entry.kind, entry.term),
                        language: entry.language,
                    });
                    continue;
                }
                text::EntryKind::PersonalInfoPhrase | text::EntryKind::Allow => continue,
            };
            let mut evidence = Evidence::new(verdict::Engine::Text)
                .with_source(
                    format!("lexicon-{}", entry.language.code()),
                    self.texts.version(),
                )
                .with_rule(format!("{}:{}", entry.kind, entry.term))
                .with_span(found.span.start, found.span.end);
            if let Some(index) = message {
                evidence = evidence.with_message(index);
            }
            findings.push(Finding {
                category,
                confidence: f32::from(entry.severity) / 3.0,
                evidence,
            });
        }
        if outgoing {
            for found in self.pii.find(text) {
                let mut evidence = Evidence::new(verdict::Engine::Text)
                    .with_source("personal-data", env!("CARGO_PKG_VERSION"))
                    .with_rule(format!("personal_info:{}", found.kind.id()))
                    .with_span(found.start, found.end);
                if let Some(index) = message {
                    evidence = evidence.with_message(index);
                }
                findings.push(Finding {
                    category: Category::PersonalInfo,
                    confidence: 1.0,
                    evidence,
                });
            }
        }
        match notes.toxicity {
            Toxicity::NotConfigured | Toxicity::Unavailable => {}
            Toxicity::Loaded(classifier) => match classifier.check(text, given, profile.tier()) {
                Ok(found) => findings.extend(found.into_iter().map(|mut finding| {
                    if let Some(index) = message {
                        finding.evidence = finding.evidence.with_message(index);
                    }
                    finding
                })),
                // Inference failing is not the child's problem: the lexicons' verdict stands, and says so.
                Err(_) => notes.failed = true,
            },
        }
        (findings, signals)
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
        let canonical = url::CanonicalUrl::parse_for(url, &self.urls)?;
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

/// `text` with every character but spaces inside one of the byte `spans` replaced by `*`. One pass: the spans
/// that start at or before a character, and the furthest end among them, say whether it is inside one (linear
/// however many spans a long text has).
fn mask_spans(text: &str, mut spans: Vec<(usize, usize)>) -> String {
    spans.sort_unstable();
    let mut masked = String::with_capacity(text.len());
    let mut next = spans.iter().peekable();
    let mut covered_until = 0;
    for (i, c) in text.char_indices() {
        while let Some(&(_, end)) = next.next_if(|&&(start, _)| start <= i) {
            covered_until = covered_until.max(end);
        }
        let inside = i < covered_until;
        masked.push(if inside && !c.is_whitespace() { '*' } else { c });
    }
    masked
}

#[cfg(test)]
mod mask_tests {
    use proptest::prelude::*;

    use super::mask_spans;

    proptest! {
        /// The one-pass masking masks exactly the characters some span covers.
        #[test]
        fn one_pass_masking_equals_checking_every_span(
            text in "[a-c é\u{4e00}]{0,30}",
            spans in proptest::collection::vec((0..40usize, 0..12usize), 0..8),
        ) {
            let spans: Vec<(usize, usize)> = spans.into_iter().map(|(s, n)| (s, s + n)).collect();
            let expected: String = text
                .char_indices()
                .map(|(i, c)| {
                    let inside = spans.iter().any(|&(s, e)| s <= i && i < e);
                    if inside && !c.is_whitespace() { '*' } else { c }
                })
                .collect();
            prop_assert_eq!(mask_spans(&text, spans), expected);
        }
    }
}

/// What a text verdict says about the classifier besides findings.
#[derive(Debug)]
struct Notes<'a> {
    /// The classifier state the check uses.
    toxicity: &'a Toxicity,
    unavailable: bool,
    failed: bool,
}

impl<'a> Notes<'a> {
    /// An engine configured with a classifier it could not load says so on every text verdict.
    fn new(toxicity: &'a Toxicity) -> Notes<'a> {
        Notes {
            toxicity,
            unavailable: matches!(toxicity, Toxicity::Unavailable),
            failed: false,
        }
    }

    fn add_to(&self, verdict: &mut Verdict) {
        if self.unavailable {
            verdict
                .evidence
                .push(classify::text::note(classify::text::NOTE_UNAVAILABLE));
        }
        if self.failed {
            verdict
                .evidence
                .push(classify::text::note(classify::text::NOTE_FAILED));
        }
    }
}

/// The findings of a grooming assessment: one per signal when the risk reaches the threshold, none below it.
fn grooming_findings(assessment: text::GroomingAssessment) -> Vec<Finding> {
    if !assessment.is_flagged() {
        return Vec::new();
    }
    let risk = assessment.risk;
    assessment
        .signals
        .into_iter()
        .map(|signal| {
            let evidence = Evidence::new(verdict::Engine::Text)
                .with_source(
                    format!("lexicon-{}", signal.language.code()),
                    text::engine::BUILTIN_VERSION,
                )
                .with_rule(signal.rule)
                .with_span(signal.span.start, signal.span.end)
                .with_message(signal.message)
                .with_score(risk);
            Finding {
                category: Category::Grooming,
                confidence: risk,
                evidence,
            }
        })
        .collect()
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
        assert_all::<Evidence>();
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
        assert_all::<url::ListMatch<'static>>();
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
