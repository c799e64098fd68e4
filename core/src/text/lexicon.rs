//! Lexicons: the reviewable text format of keyword and phrase entries, and its parser.
//!
//! One file per language; one entry per line, fields separated by spaces, the term is the rest of the line:
//!
//! ```text
//! # comment
//! <category> <severity> <mode> <term>
//! profanity 2 word shit
//! sexual 3 prefix porn
//! grooming.secrecy 2 word don't tell your parents
//! pii.phrase 2 word my school is
//! allow 0 word scunthorpe
//! ```
//!
//! - **category**: `sexual`, `profanity`, `bullying`, `hate`, `violence`, `self_harm`, `drugs` (or any other
//!   category id of [`Category`]), a grooming family `grooming.secrecy`, `grooming.isolation`, `grooming.age`,
//!   `grooming.photos`, `grooming.platform`, `grooming.meet`, `grooming.gifts`, the personal-data cue
//!   `pii.phrase`, or `allow` (the false-positive allowlist: a match lying inside an `allow` match is dropped).
//! - **severity**: `1` mild, `2` moderate, `3` severe; `0` for `allow`.
//! - **mode**: `word` (whole words only), `prefix` (starts at a word start, may run on), `any` (anywhere, also
//!   inside words; the only sensible mode for Chinese, which has no spaces).
//!
//! Terms are written plainly; [`Normalized`](super::Normalized) folds case, leetspeak, spacing, look-alikes and
//! the rest on both sides.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::i18n::Language;
use crate::policy::Category;

/// A family of grooming signals. Each is weak alone; several together raise the risk (see
/// [`grooming::assess`](super::grooming::assess)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroomingFamily {
    /// Keeping the contact secret ("don't tell your parents", "delete this chat").
    Secrecy,
    /// Checking the child is alone or unsupervised ("are you alone?").
    Isolation,
    /// Probing the child's age ("how old are you?").
    Age,
    /// Asking for photos or the camera.
    Photos,
    /// Moving the conversation to another, more private platform.
    Platform,
    /// Arranging to meet in person.
    Meet,
    /// Offering gifts, money, game currency.
    Gifts,
}

impl GroomingFamily {
    /// Every family.
    pub const ALL: [GroomingFamily; 7] = [
        GroomingFamily::Secrecy,
        GroomingFamily::Isolation,
        GroomingFamily::Age,
        GroomingFamily::Photos,
        GroomingFamily::Platform,
        GroomingFamily::Meet,
        GroomingFamily::Gifts,
    ];

    /// The stable identifier (`"secrecy"`, `"isolation"`, ...).
    pub fn id(self) -> &'static str {
        match self {
            GroomingFamily::Secrecy => "secrecy",
            GroomingFamily::Isolation => "isolation",
            GroomingFamily::Age => "age",
            GroomingFamily::Photos => "photos",
            GroomingFamily::Platform => "platform",
            GroomingFamily::Meet => "meet",
            GroomingFamily::Gifts => "gifts",
        }
    }
}

/// What a lexicon entry signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// Content of a category (profanity, sexual content, bullying, ...).
    Category(Category),
    /// A grooming signal of one family.
    Grooming(GroomingFamily),
    /// The child announcing personal data ("my address is", "my school is").
    PersonalInfoPhrase,
    /// Innocent text containing a listed term (Scunthorpe): suppresses matches inside it.
    Allow,
}

impl EntryKind {
    /// The category the entry supports (`None` for the allowlist).
    pub fn category(self) -> Option<Category> {
        match self {
            EntryKind::Category(c) => Some(c),
            EntryKind::Grooming(_) => Some(Category::Grooming),
            EntryKind::PersonalInfoPhrase => Some(Category::PersonalInfo),
            EntryKind::Allow => None,
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryKind::Category(c) => f.write_str(c.id()),
            EntryKind::Grooming(family) => write!(f, "grooming.{}", family.id()),
            EntryKind::PersonalInfoPhrase => f.write_str("pii.phrase"),
            EntryKind::Allow => f.write_str("allow"),
        }
    }
}

impl FromStr for EntryKind {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "allow" => EntryKind::Allow,
            "pii.phrase" => EntryKind::PersonalInfoPhrase,
            "sexual" => EntryKind::Category(Category::SexualContent),
            _ => {
                if let Some(family) = s.strip_prefix("grooming.") {
                    let family = GroomingFamily::ALL
                        .into_iter()
                        .find(|f| f.id() == family)
                        .ok_or(())?;
                    EntryKind::Grooming(family)
                } else {
                    let category = Category::from_str(s).map_err(|_| ())?;
                    if category == Category::KnownAbuse {
                        // Known abuse comes from hash and URL lists, never from words.
                        return Err(());
                    }
                    EntryKind::Category(category)
                }
            }
        })
    }
}

/// Where a match may lie relative to word boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    /// Whole words (or phrases) only.
    Word,
    /// Starts at a word start; may run on (`porn` in `pornography`).
    Prefix,
    /// Anywhere, also inside a word.
    Any,
}

impl FromStr for MatchMode {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "word" => Ok(MatchMode::Word),
            "prefix" => Ok(MatchMode::Prefix),
            "any" => Ok(MatchMode::Any),
            _ => Err(()),
        }
    }
}

/// One lexicon entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LexiconEntry {
    /// The lexicon's language.
    pub language: Language,
    /// What it signals.
    pub kind: EntryKind,
    /// 1 mild, 2 moderate, 3 severe (0 for the allowlist).
    pub severity: u8,
    /// Where it may match.
    pub mode: MatchMode,
    /// The term as written in the lexicon.
    pub term: String,
    /// Its line in the lexicon file (1-based).
    pub line: usize,
}

/// Why a lexicon line was refused. Lexicons are data the project ships, not user text, yet the error carries
/// only the line number and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LexiconError {
    /// A line lacks one of its four fields.
    #[error("{language} lexicon line {line}: expected `<category> <severity> <mode> <term>`")]
    MissingField {
        /// The lexicon.
        language: Language,
        /// The line (1-based).
        line: usize,
    },
    /// Unknown category or grooming family.
    #[error("{language} lexicon line {line}: unknown category")]
    UnknownCategory {
        /// The lexicon.
        language: Language,
        /// The line (1-based).
        line: usize,
    },
    /// Severity is not 1, 2 or 3 (0 for `allow`).
    #[error("{language} lexicon line {line}: severity must be 1, 2 or 3 (0 for allow)")]
    BadSeverity {
        /// The lexicon.
        language: Language,
        /// The line (1-based).
        line: usize,
    },
    /// Mode is not `word`, `prefix` or `any`.
    #[error("{language} lexicon line {line}: mode must be word, prefix or any")]
    BadMode {
        /// The lexicon.
        language: Language,
        /// The line (1-based).
        line: usize,
    },
    /// The term has no letter left after normalisation (it could never match, or would match everything).
    #[error("{language} lexicon line {line}: the term has no letters")]
    EmptyTerm {
        /// The lexicon.
        language: Language,
        /// The line (1-based).
        line: usize,
    },
}

/// Parses one language's lexicon file. Stops at the first bad line, with its number.
pub fn parse(language: Language, source: &str) -> Result<Vec<LexiconEntry>, LexiconError> {
    let mut entries = Vec::new();
    for (index, raw) in source.lines().enumerate() {
        let line = index + 1;
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let mut fields = text.splitn(4, char::is_whitespace);
        let missing = || LexiconError::MissingField { language, line };
        let kind = fields.next().ok_or_else(missing)?;
        let severity = fields.next().ok_or_else(missing)?;
        let mode = fields.next().ok_or_else(missing)?;
        let term = fields.next().map(str::trim).filter(|t| !t.is_empty());
        let term = term.ok_or_else(missing)?;
        let kind: EntryKind = kind
            .parse()
            .map_err(|()| LexiconError::UnknownCategory { language, line })?;
        let severity: u8 = severity
            .parse()
            .map_err(|_| LexiconError::BadSeverity { language, line })?;
        let severity_ok = match kind {
            EntryKind::Allow => severity == 0,
            _ => (1..=3).contains(&severity),
        };
        if !severity_ok {
            return Err(LexiconError::BadSeverity { language, line });
        }
        let mode: MatchMode = mode
            .parse()
            .map_err(|()| LexiconError::BadMode { language, line })?;
        if super::Normalized::new(term).as_str().is_empty() {
            return Err(LexiconError::EmptyTerm { language, line });
        }
        entries.push(LexiconEntry {
            language,
            kind,
            severity,
            mode,
            term: term.to_owned(),
            line,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field() {
        let source = "# header\n\nprofanity 2 word shit\ngrooming.secrecy 2 word don't tell your parents\n\
                      pii.phrase 1 word my school is\nallow 0 any scunthorpe\nsexual 3 prefix porn\n\
                      drugs 2 word cocaine\n";
        let entries = parse(Language::En, source).unwrap();
        let kinds: Vec<String> = entries.iter().map(|e| e.kind.to_string()).collect();
        assert_eq!(
            kinds,
            [
                "profanity",
                "grooming.secrecy",
                "pii.phrase",
                "allow",
                "sexual_content",
                "drugs"
            ]
        );
        assert_eq!(entries[1].term, "don't tell your parents");
        assert_eq!(entries[1].line, 4);
        assert_eq!(entries[3].mode, MatchMode::Any);
        assert_eq!(entries[4].mode, MatchMode::Prefix);
    }

    #[test]
    fn bad_lines_are_typed_errors_with_their_line() {
        let cases = [
            (
                "profanity 2 word",
                LexiconError::MissingField {
                    language: Language::En,
                    line: 1,
                },
            ),
            (
                "swearing 2 word x",
                LexiconError::UnknownCategory {
                    language: Language::En,
                    line: 1,
                },
            ),
            (
                "grooming.hugs 2 word x",
                LexiconError::UnknownCategory {
                    language: Language::En,
                    line: 1,
                },
            ),
            (
                "known_abuse 3 word x",
                LexiconError::UnknownCategory {
                    language: Language::En,
                    line: 1,
                },
            ),
            (
                "profanity 4 word x",
                LexiconError::BadSeverity {
                    language: Language::En,
                    line: 1,
                },
            ),
            (
                "allow 1 word x",
                LexiconError::BadSeverity {
                    language: Language::En,
                    line: 1,
                },
            ),
            (
                "profanity x word x",
                LexiconError::BadSeverity {
                    language: Language::En,
                    line: 1,
                },
            ),
            (
                "profanity 2 exact x",
                LexiconError::BadMode {
                    language: Language::En,
                    line: 1,
                },
            ),
            (
                "profanity 2 word !?!",
                LexiconError::EmptyTerm {
                    language: Language::En,
                    line: 1,
                },
            ),
            (
                "profanity 2 word \u{200B}",
                LexiconError::EmptyTerm {
                    language: Language::En,
                    line: 1,
                },
            ),
        ];
        for (line, expected) in cases {
            assert_eq!(parse(Language::En, line), Err(expected.clone()), "{line}");
            let later = format!("profanity 1 word ok\n# c\n{line}");
            let err = parse(Language::En, &later).unwrap_err();
            assert!(err.to_string().contains("line 3"), "{err}");
        }
    }
}
