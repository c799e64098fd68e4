//! Child-facing words in the six UN languages: the message [`Catalogue`] and the [`HelpDirectory`].
//!
//! Messages are written per category and age tier, each in a standard and an easy-read wording, and reviewed for
//! tone (see `core/data/messages/README.md`). Nothing here ever inserts the child's own text into a message.

mod catalogue;
mod help;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

pub use catalogue::{Catalogue, CatalogueError, MessagePart};
pub use help::{HelpContact, HelpDirectory, HelpError};

use crate::policy::UnknownId;

/// One of the six UN languages Haven speaks.
///
/// Parses both bare codes and locale tags (`"fr"`, `"fr-CA"`, `"zh_Hans_CN"` → [`Language::Zh`]).
///
/// # Examples
///
/// ```
/// use haven_core::i18n::{Language, TextDirection};
///
/// assert_eq!("es-MX".parse::<Language>(), Ok(Language::Es));
/// assert_eq!(Language::Ar.direction(), TextDirection::Rtl);
/// assert!("de".parse::<Language>().is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Arabic (written right to left).
    Ar,
    /// Chinese (Simplified).
    Zh,
    /// English.
    #[default]
    En,
    /// French.
    Fr,
    /// Russian.
    Ru,
    /// Spanish.
    Es,
}

impl Language {
    /// All six languages.
    pub const ALL: [Language; 6] = [
        Language::Ar,
        Language::Zh,
        Language::En,
        Language::Fr,
        Language::Ru,
        Language::Es,
    ];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::Ar => "ar",
            Language::Zh => "zh",
            Language::En => "en",
            Language::Fr => "fr",
            Language::Ru => "ru",
            Language::Es => "es",
        }
    }

    /// The direction the language is written in.
    pub fn direction(self) -> TextDirection {
        match self {
            Language::Ar => TextDirection::Rtl,
            _ => TextDirection::Ltr,
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Language {
    type Err = UnknownId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let primary = s.split(['-', '_']).next().unwrap_or_default();
        Language::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
            .ok_or(UnknownId { what: "language" })
    }
}

impl<'de> Deserialize<'de> for Language {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse()
            .map_err(|_| serde::de::Error::custom("unsupported language"))
    }
}

/// The direction a message must be laid out in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextDirection {
    /// Left to right.
    Ltr,
    /// Right to left (Arabic).
    Rtl,
}

#[cfg(test)]
mod tests;
