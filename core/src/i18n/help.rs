//! The help directory: concrete helplines by country and category, replaceable by the integrating app.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::policy::{Category, Country};

const BUILTIN: &str = include_str!("../../data/help.toml");
/// Largest directory source accepted.
const MAX_SOURCE_BYTES: usize = 4 * 1024 * 1024;

/// A place a child can turn to: a helpline, a text line or a reporting site.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HelpContact {
    /// Stable identifier, e.g. `childline-gb`.
    pub id: String,
    /// The service's own name.
    pub name: String,
    /// Phone number as the service writes it.
    pub phone: Option<String>,
    /// Number for text messages.
    pub sms: Option<String>,
    /// Web address.
    pub url: Option<String>,
    /// Languages the service answers in (ISO 639-1 codes).
    #[serde(default)]
    pub languages: Vec<String>,
}

/// One entry of the directory file: a contact plus where it applies and where it was checked.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    name: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    sms: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    languages: Vec<String>,
    countries: Vec<String>,
    #[serde(default)]
    categories: Vec<Category>,
    source: String,
}

impl Entry {
    fn contact(&self) -> HelpContact {
        HelpContact {
            id: self.id.clone(),
            name: self.name.clone(),
            phone: self.phone.clone(),
            sms: self.sms.clone(),
            url: self.url.clone(),
            languages: self.languages.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDirectory {
    #[serde(default)]
    contact: Vec<Entry>,
}

/// Helplines keyed by country and category.
///
/// # Examples
///
/// ```
/// use haven_core::i18n::HelpDirectory;
/// use haven_core::policy::Category;
///
/// let directory = HelpDirectory::builtin();
/// let gb = directory.lookup(Some("GB".parse()?), &[Category::SelfHarm]);
/// assert!(gb.iter().any(|c| c.id == "childline-gb"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct HelpDirectory {
    entries: Vec<Entry>,
}

impl HelpDirectory {
    /// The directory compiled into Haven (`core/data/help.toml`).
    pub fn builtin() -> Arc<HelpDirectory> {
        static BUILTIN_DIRECTORY: OnceLock<Arc<HelpDirectory>> = OnceLock::new();
        Arc::clone(BUILTIN_DIRECTORY.get_or_init(|| {
            // The test suite parses this exact source, so it cannot fail in a released build.
            #[allow(clippy::expect_used)]
            HelpDirectory::from_toml(BUILTIN)
                .expect("built-in help directory is valid")
                .into()
        }))
    }

    /// An empty directory: help pointers then say only "talk to an adult you trust".
    pub fn empty() -> HelpDirectory {
        HelpDirectory::default()
    }

    /// Reads a directory in the format of `core/data/help.toml`.
    pub fn from_toml(source: &str) -> Result<HelpDirectory, HelpError> {
        if source.len() > MAX_SOURCE_BYTES {
            return Err(HelpError::TooLarge {
                max_bytes: MAX_SOURCE_BYTES,
            });
        }
        let table: toml::Table = toml::from_str(source).map_err(|e| HelpError::Syntax {
            offset: e.span().map_or(0, |s| s.start),
        })?;
        let raw: RawDirectory =
            serde_path_to_error::deserialize(table).map_err(|e| HelpError::Invalid {
                field: e.path().to_string(),
                problem: "invalid",
            })?;
        let mut ids = std::collections::HashSet::new();
        for (i, entry) in raw.contact.iter().enumerate() {
            let invalid = |field: &str, problem| HelpError::Invalid {
                field: format!("contact[{i}].{field}"),
                problem,
            };
            if entry.id.trim().is_empty() || !ids.insert(entry.id.as_str()) {
                return Err(invalid("id", "empty or used twice"));
            }
            if entry.name.trim().is_empty() {
                return Err(invalid("name", "empty"));
            }
            if entry.phone.is_none() && entry.sms.is_none() && entry.url.is_none() {
                return Err(invalid("phone", "a contact needs a phone, sms or url"));
            }
            if entry.countries.is_empty()
                || entry
                    .countries
                    .iter()
                    .any(|c| c != "*" && c.parse::<Country>().is_err())
            {
                return Err(invalid(
                    "countries",
                    "expected ISO 3166-1 alpha-2 codes or \"*\"",
                ));
            }
            if entry.source.trim().is_empty() {
                return Err(invalid(
                    "source",
                    "every contact must say where it was checked",
                ));
            }
        }
        Ok(HelpDirectory {
            entries: raw.contact,
        })
    }

    /// Contacts for a country that cover any of `categories`: the country's own first, then international ones.
    /// A contact with no categories is a general helpline and always matches.
    pub fn lookup(&self, country: Option<Country>, categories: &[Category]) -> Vec<HelpContact> {
        let topical = |e: &&Entry| {
            e.categories.is_empty() || e.categories.iter().any(|c| categories.contains(c))
        };
        let national = self.entries.iter().filter(|e| {
            country.is_some_and(|c| {
                e.countries
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(c.as_str()))
            })
        });
        let international = self
            .entries
            .iter()
            .filter(|e| e.countries.iter().any(|x| x == "*"));
        national
            .chain(international)
            .filter(topical)
            .map(Entry::contact)
            .collect()
    }

    /// Number of contacts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the directory has no contacts.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Why a help directory could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HelpError {
    /// Not valid TOML.
    #[error("help directory is not valid TOML (at byte {offset})")]
    Syntax {
        /// Byte offset of the error.
        offset: usize,
    },
    /// An entry is incomplete or malformed.
    #[error("help directory field `{field}`: {problem}")]
    Invalid {
        /// Path of the field, e.g. `contact[3].countries`.
        field: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// The source is larger than accepted.
    #[error("help directory is larger than {max_bytes} bytes")]
    TooLarge {
        /// The limit.
        max_bytes: usize,
    },
}
