//! The message catalogue: every [`MessagePart`] × [`AgeTier`] × [`Language`], in standard and easy-read wording.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use super::{Language, TextDirection};
use crate::policy::{AgeTier, Category};

/// The built-in catalogue files, one per language, compiled into the library.
const BUILTIN: [&str; 6] = [
    include_str!("../../data/messages/ar.toml"),
    include_str!("../../data/messages/zh.toml"),
    include_str!("../../data/messages/en.toml"),
    include_str!("../../data/messages/fr.toml"),
    include_str!("../../data/messages/ru.toml"),
    include_str!("../../data/messages/es.toml"),
];

/// Largest catalogue source accepted, per language.
const MAX_SOURCE_BYTES: usize = 1024 * 1024;
/// Longest accepted string, in characters.
const MAX_STRING_CHARS: usize = 1000;

/// One piece of a child-facing message. A message is a title and a next step chosen by the action, and a body
/// chosen by the reason; [`MessagePart::TrustedAdult`] is the help text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessagePart {
    /// Heading when something is blocked.
    BlockTitle,
    /// Heading when the child is warned.
    WarnTitle,
    /// What the child can do after a block.
    BlockNext,
    /// How the child can continue after a warning.
    WarnNext,
    /// "Talk to an adult you trust", shown whenever help is offered.
    TrustedAdult,
    /// Body: the family blocked this domain.
    ParentDenied,
    /// Body: allowlist-only mode, and this domain is not on the list.
    NotInAllowlist,
    /// Body: why content of this category is not shown (or calls for care).
    Category(Category),
}

impl MessagePart {
    /// Every part a complete catalogue holds.
    pub fn all() -> impl Iterator<Item = MessagePart> {
        [
            MessagePart::BlockTitle,
            MessagePart::WarnTitle,
            MessagePart::BlockNext,
            MessagePart::WarnNext,
            MessagePart::TrustedAdult,
            MessagePart::ParentDenied,
            MessagePart::NotInAllowlist,
        ]
        .into_iter()
        .chain(Category::ALL.into_iter().map(MessagePart::Category))
    }

    /// The table and key naming this part in a catalogue file (`("category", "self_harm")`).
    pub fn key(self) -> (&'static str, &'static str) {
        match self {
            MessagePart::BlockTitle => ("title", "block"),
            MessagePart::WarnTitle => ("title", "warn"),
            MessagePart::BlockNext => ("next", "block"),
            MessagePart::WarnNext => ("next", "warn"),
            MessagePart::TrustedAdult => ("help", "trusted_adult"),
            MessagePart::ParentDenied => ("profile", "denied"),
            MessagePart::NotInAllowlist => ("profile", "not_allowed"),
            MessagePart::Category(c) => ("category", c.id()),
        }
    }
}

/// A string in both of its wordings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wording {
    /// The standard wording for the tier.
    pub standard: String,
    /// The easy-read wording: short sentences, common words.
    pub easy_read: String,
}

/// All child-facing strings, complete for every language, part and tier.
///
/// # Examples
///
/// ```
/// use haven_core::i18n::{Catalogue, Language, MessagePart};
/// use haven_core::policy::{AgeTier, Category};
///
/// let catalogue = Catalogue::builtin();
/// let body = catalogue.get(Language::Fr, MessagePart::Category(Category::Gambling), AgeTier::Age9To12);
/// assert!(!body.standard.is_empty() && !body.easy_read.is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Complete by construction: every (language, part, tier) is present.
    entries: HashMap<(Language, MessagePart, AgeTier), Wording>,
}

impl Catalogue {
    /// The catalogue compiled into Haven.
    pub fn builtin() -> Arc<Catalogue> {
        static BUILTIN_CATALOGUE: OnceLock<Arc<Catalogue>> = OnceLock::new();
        Arc::clone(BUILTIN_CATALOGUE.get_or_init(|| {
            // The test suite loads exactly these sources and checks they are complete, so this cannot fail in a
            // released build.
            #[allow(clippy::expect_used)]
            Catalogue::from_sources(BUILTIN)
                .expect("built-in message catalogue is valid")
                .into()
        }))
    }

    /// Builds a catalogue from one TOML source per language (the format of `core/data/messages/*.toml`).
    ///
    /// All six languages must be present exactly once and complete; an app can replace Haven's wording, but
    /// cannot leave a child without a message.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = &'a str>,
    ) -> Result<Catalogue, CatalogueError> {
        let mut entries = HashMap::new();
        let mut seen = Vec::new();
        for source in sources {
            let language = parse_language(source, &mut entries)?;
            if seen.contains(&language) {
                return Err(CatalogueError::DuplicateLanguage { language });
            }
            seen.push(language);
        }
        for language in Language::ALL {
            if !seen.contains(&language) {
                return Err(CatalogueError::MissingLanguage { language });
            }
        }
        Ok(Catalogue { entries })
    }

    /// The wording of one part for a language and tier.
    pub fn get(&self, language: Language, part: MessagePart, tier: AgeTier) -> &Wording {
        static EMPTY: Wording = Wording {
            standard: String::new(),
            easy_read: String::new(),
        };
        // Construction checked that every key is present; EMPTY is never returned.
        self.entries.get(&(language, part, tier)).unwrap_or(&EMPTY)
    }
}

/// Parses one language's source into `entries`, returning its language.
fn parse_language(
    source: &str,
    entries: &mut HashMap<(Language, MessagePart, AgeTier), Wording>,
) -> Result<Language, CatalogueError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(CatalogueError::TooLarge {
            max_bytes: MAX_SOURCE_BYTES,
        });
    }
    let mut table: toml::Table = toml::from_str(source).map_err(|e| CatalogueError::Syntax {
        offset: e.span().map_or(0, |s| s.start),
    })?;
    let invalid = |key: String, problem: &'static str| CatalogueError::Invalid { key, problem };

    let language: Language = match table.remove("language") {
        Some(toml::Value::String(code)) => code
            .parse()
            .map_err(|_| invalid("language".into(), "not one of ar, en, es, fr, ru, zh"))?,
        _ => return Err(invalid("language".into(), "missing or not a string")),
    };
    let direction = match table
        .remove("direction")
        .as_ref()
        .and_then(toml::Value::as_str)
    {
        Some("ltr") => TextDirection::Ltr,
        Some("rtl") => TextDirection::Rtl,
        _ => {
            return Err(invalid(
                "direction".into(),
                "missing, or not \"ltr\" or \"rtl\"",
            ));
        }
    };
    if direction != language.direction() {
        return Err(invalid("direction".into(), "does not match the language"));
    }

    for part in MessagePart::all() {
        let (group, name) = part.key();
        let tiers = table
            .get_mut(group)
            .and_then(toml::Value::as_table_mut)
            .and_then(|g| g.remove(name));
        let Some(toml::Value::Table(mut tiers)) = tiers else {
            return Err(CatalogueError::Missing {
                language,
                key: format!("{group}.{name}"),
            });
        };
        for tier in AgeTier::ALL {
            let key = format!("{group}.{name}.{}", tier.id());
            let Some(toml::Value::Table(mut entry)) = tiers.remove(tier.id()) else {
                return Err(CatalogueError::Missing { language, key });
            };
            let mut text = |variant: &str| match entry.remove(variant) {
                Some(toml::Value::String(s)) if !s.trim().is_empty() => {
                    if s.chars().count() > MAX_STRING_CHARS {
                        Err(invalid(format!("{key}.{variant}"), "too long"))
                    } else {
                        Ok(s)
                    }
                }
                _ => Err(CatalogueError::Missing {
                    language,
                    key: format!("{key}.{variant}"),
                }),
            };
            let wording = Wording {
                standard: text("text")?,
                easy_read: text("easy")?,
            };
            if let Some(extra) = entry.keys().next() {
                return Err(invalid(format!("{key}.{extra}"), "unknown key"));
            }
            entries.insert((language, part, tier), wording);
        }
        if let Some(extra) = tiers.keys().next() {
            return Err(invalid(format!("{group}.{name}.{extra}"), "unknown tier"));
        }
    }
    // Anything left over is a typo or a part this version does not know: refuse rather than ignore it.
    for (group, value) in &table {
        match value.as_table() {
            Some(rest) if rest.is_empty() => {}
            Some(rest) => {
                let name = rest.keys().next().map_or("", String::as_str);
                return Err(invalid(format!("{group}.{name}"), "unknown key"));
            }
            None => return Err(invalid(group.clone(), "unknown key")),
        }
    }
    Ok(language)
}

/// Why a catalogue could not be built. Names catalogue keys only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogueError {
    /// A source is not valid TOML.
    #[error("message catalogue is not valid TOML (at byte {offset})")]
    Syntax {
        /// Byte offset of the error.
        offset: usize,
    },
    /// A required string is missing or empty.
    #[error("message catalogue for `{language}` lacks `{key}`")]
    Missing {
        /// The language of the source.
        language: Language,
        /// The missing key, e.g. `category.nudity.9-12.easy`.
        key: String,
    },
    /// A key is malformed or unknown.
    #[error("message catalogue key `{key}` {problem}")]
    Invalid {
        /// The key at fault.
        key: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A language was given twice.
    #[error("message catalogue has `{language}` twice")]
    DuplicateLanguage {
        /// The language.
        language: Language,
    },
    /// A language was not given.
    #[error("message catalogue lacks `{language}`")]
    MissingLanguage {
        /// The language.
        language: Language,
    },
    /// A source is larger than accepted.
    #[error("message catalogue source is larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit.
        max_bytes: usize,
    },
}

#[cfg(test)]
pub(super) const BUILTIN_SOURCES: [&str; 6] = BUILTIN;
