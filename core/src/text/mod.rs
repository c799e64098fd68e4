//! The text engine: keyword and phrase filtering that survives evasion, in six languages, plus detection of a
//! child sharing personal data and of grooming patterns over a conversation.
//!
//! Three stages, as in the URL engine:
//! 1. [`Normalized`] turns a text into its matching form (case, Unicode compatibility forms, diacritics,
//!    invisible characters, look-alike letters, leetspeak, spacing, repeats, stars; Arabic, Russian and Chinese
//!    folding), keeping a map back to the original bytes.
//! 2. [`TextEngine`] holds the [`lexicon`]s, compiled into automata over the same matching form (a word
//!    automaton for the ASCII forms, Aho-Corasick for the rest), with word-boundary modes and a false-positive
//!    allowlist, so "Scunthorpe", "assassin" and "cocktail"
//!    pass while `f u c k`, `sh1t` and `fuсk` (Cyrillic `с`) do not.
//!    Most ordinary texts never need the matching form: [`TextEngine::is_plainly_clean`] runs the word automaton
//!    over the original ASCII text, folding case, repeats and punctuation as the form would, and proves them clean
//!    in one pass; the others are normalised and scanned.
//! 3. [`Haven::check_text`](crate::Haven::check_text) and
//!    [`Haven::check_conversation`](crate::Haven::check_conversation) turn matches into findings and a verdict:
//!    lexicon categories, [`pii`] for what the child sends, and [`grooming`] risk, which needs several signals
//!    together before it flags.
//!
//! What this cannot see: context (quoting, reclaimed words, a joke between friends), sarcasm, new slang and
//! misspellings it has no entry for, insults without offensive words ("nobody at school wants you here" is only
//! caught if the phrase is in the lexicon), and languages other than the six. The bullying classifier (the
//! `classify` issue) adds a model for those.
//!
//! Which lexicons apply to a text: the context's language (else the profile's), English (the lingua franca of
//! online slang), and the languages whose script the text uses (Cyrillic → Russian, Arabic → Arabic, Han →
//! Chinese). French and Spanish lexicons need the language to be given, because some of their words are innocent
//! in the other Latin-script languages (French "con", "bite").

pub mod engine;
pub mod grooming;
pub mod lexicon;
pub mod normalize;
pub mod pii;
mod raw;
mod trie;

use serde::{Deserialize, Serialize};

pub use engine::{LanguageSet, LexiconMatch, TextEngine};
pub use grooming::{GroomingAssessment, GroomingSignal};
pub use lexicon::{EntryKind, GroomingFamily, LexiconEntry, LexiconError, MatchMode};
pub use normalize::Normalized;
pub use pii::{PiiDetector, PiiKind, PiiMatch};

use crate::i18n::Language;

/// Longest text one check accepts (1 MiB). Longer input is refused with [`TextError::TooLong`]; split it.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Most messages one conversation check accepts.
pub const MAX_MESSAGES: usize = 1000;

/// Who wrote a text, seen from the child.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// To the child: a message received, a page shown.
    #[default]
    Incoming,
    /// From the child: a message, search or post the child is about to send. Personal data is looked for only
    /// here.
    Outgoing,
}

/// How a text is checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TextContext {
    /// Who wrote it.
    #[serde(default)]
    pub direction: Direction,
    /// The text's language, when the app knows it (otherwise the profile's language).
    #[serde(default)]
    pub language: Option<Language>,
}

impl TextContext {
    /// A context for text the child receives.
    pub fn incoming() -> TextContext {
        TextContext {
            direction: Direction::Incoming,
            language: None,
        }
    }

    /// A context for text the child sends.
    pub fn outgoing() -> TextContext {
        TextContext {
            direction: Direction::Outgoing,
            language: None,
        }
    }

    /// This context with the text's language.
    pub fn with_language(mut self, language: Language) -> TextContext {
        self.language = Some(language);
        self
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who wrote it.
    pub direction: Direction,
    /// The message.
    pub text: String,
    /// When it was sent, in seconds since the Unix epoch (only differences matter).
    #[serde(default)]
    pub sent_at: u64,
}

/// Why a text could not be checked. Never contains the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextError {
    /// The text is longer than [`MAX_TEXT_BYTES`].
    #[error("text of {len} bytes is longer than the limit of {max} bytes")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The conversation has more than [`MAX_MESSAGES`] messages.
    #[error("conversation of {len} messages is longer than the limit of {max} messages")]
    TooManyMessages {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Refuses a text over the limit.
pub fn check_length(text: &str) -> Result<(), TextError> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(TextError::TooLong {
            len: text.len(),
            max: MAX_TEXT_BYTES,
        });
    }
    Ok(())
}

/// The lexicons that apply to a text in matching form (see the module documentation).
pub fn languages_for(form: &Normalized, language: Language) -> LanguageSet {
    let mut set = LanguageSet::empty().with(language).with(Language::En);
    let text = form.as_str();
    if text.is_ascii() {
        return set;
    }
    for c in text.chars() {
        match c {
            '\u{0400}'..='\u{052F}' => set = set.with(Language::Ru),
            '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' => set = set.with(Language::Ar),
            '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' => set = set.with(Language::Zh),
            _ => {}
        }
    }
    set
}

#[cfg(test)]
mod tests;
