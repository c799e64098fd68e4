//! Which of the six languages a message is in.

use crate::i18n::Language;

/// The message's language, when it is one of the six and can be told: the script with the most letters decides
/// (Arabic, Cyrillic → Russian, Han or kana → Chinese). Latin-script text goes to `whatlang`, restricted to
/// English, French and Spanish, when it calls its guess reliable; chat messages are often too short for that, so
/// otherwise the most frequent words of the three languages decide, and English (the lingua franca of online
/// chat) when none of them occurs. The app's own language setting, when it has one, is better than any of this.
/// `None` for text without letters.
///
/// ```
/// use haven_core::classify::text::detect_language;
/// use haven_core::i18n::Language;
///
/// assert_eq!(detect_language("Personne à l'école ne veut de toi ici, tu devrais partir"), Some(Language::Fr));
/// assert_eq!(detect_language("никто тебя здесь не ждёт"), Some(Language::Ru));
/// assert_eq!(detect_language("你今天在学校怎么样"), Some(Language::Zh));
/// assert_eq!(detect_language("12345 !!!"), None);
/// ```
pub fn detect_language(text: &str) -> Option<Language> {
    let (mut latin, mut cyrillic, mut arabic, mut han) = (0usize, 0usize, 0usize, 0usize);
    // The first characters are enough to tell, and bound the work on long texts.
    for c in text.chars().take(super::features::INPUT_CHARS) {
        match c {
            'a'..='z' | 'A'..='Z' | '\u{00C0}'..='\u{024F}' => latin += 1,
            '\u{0400}'..='\u{052F}' => cyrillic += 1,
            '\u{0600}'..='\u{06FF}'
            | '\u{0750}'..='\u{077F}'
            | '\u{FB50}'..='\u{FDFF}'
            | '\u{FE70}'..='\u{FEFC}' => arabic += 1,
            '\u{3040}'..='\u{30FF}' | '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' => han += 1,
            _ => {}
        }
    }
    let most = latin.max(cyrillic).max(arabic).max(han);
    if most == 0 {
        return None;
    }
    if han == most {
        return Some(Language::Zh);
    }
    if arabic == most {
        return Some(Language::Ar);
    }
    if cyrillic == most {
        return Some(Language::Ru);
    }
    let detector = whatlang::Detector::with_allowlist(vec![
        whatlang::Lang::Eng,
        whatlang::Lang::Fra,
        whatlang::Lang::Spa,
    ]);
    let prefix = match text.char_indices().nth(super::features::INPUT_CHARS) {
        Some((at, _)) => text.get(..at).unwrap_or(text),
        None => text,
    };
    if let Some(info) = detector.detect(prefix).filter(whatlang::Info::is_reliable) {
        match info.lang() {
            whatlang::Lang::Fra => return Some(Language::Fr),
            whatlang::Lang::Spa => return Some(Language::Es),
            _ => return Some(Language::En),
        }
    }
    Some(by_common_words(prefix))
}

const ENGLISH: &[&str] = &[
    "the", "you", "are", "is", "i", "a", "to", "and", "it", "of", "that", "this", "what", "my",
    "your", "not", "so", "do", "be", "me", "he", "she", "we", "they", "just", "like", "have",
    "was", "at", "in", "on", "for", "with", "all", "can", "will", "don't", "i'm", "you're", "lol",
    "u", "ur",
];
const FRENCH: &[&str] = &[
    "le", "la", "les", "tu", "t'es", "es", "est", "je", "j'ai", "un", "une", "des", "et", "pas",
    "ne", "de", "du", "que", "qui", "toi", "moi", "vous", "nous", "ce", "c'est", "mais", "avec",
    "pour", "sur", "dans", "il", "elle", "ton", "ta", "tes", "trop", "très",
];
const SPANISH: &[&str] = &[
    "el", "la", "los", "las", "tú", "tu", "eres", "es", "yo", "un", "una", "y", "no", "de", "que",
    "te", "me", "mi", "por", "para", "con", "en", "lo", "pero", "muy", "como", "qué", "estás",
    "está", "se", "eso", "esto",
];

/// The language of the three whose common words occur most often; English on a tie or none.
fn by_common_words(text: &str) -> Language {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphabetic() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let count = |list: &[&str]| words.iter().filter(|w| list.contains(w)).count();
    let (en, fr, es) = (count(ENGLISH), count(FRENCH), count(SPANISH));
    if fr > en && fr > es {
        Language::Fr
    } else if es > en && es > fr {
        Language::Es
    } else {
        Language::En
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_latin_languages() {
        let cases: &[(&str, Option<Language>)] = &[
            (
                "nobody at school wants you here, just leave",
                Some(Language::En),
            ),
            (
                "everyone saw what you did, you should be ashamed of yourself",
                Some(Language::En),
            ),
            (
                "nadie en la escuela te quiere aquí, deberías irte",
                Some(Language::Es),
            ),
            (
                "tout le monde a vu ce que tu as fait, tu devrais avoir honte",
                Some(Language::Fr),
            ),
            ("لا أحد في المدرسة يريدك هنا", Some(Language::Ar)),
            ("в школе тебя никто не любит", Some(Language::Ru)),
            ("学校里没有人喜欢你", Some(Language::Zh)),
            // Emoji variation selectors are not Arabic.
            ("lol ❤️❤️❤️", Some(Language::En)),
            // Mostly Cyrillic with a Latin word: the script with more letters wins.
            ("ты такой noob, никто с тобой не играет", Some(Language::Ru)),
            // Too short for whatlang: the common words decide, English when there are none.
            ("you are a loser", Some(Language::En)),
            ("eres tonto", Some(Language::Es)),
            ("t'es nul", Some(Language::Fr)),
            ("ok", Some(Language::En)),
            ("", None),
            ("😀😀 123", None),
        ];
        for (text, expected) in cases {
            assert_eq!(detect_language(text), *expected, "{text}");
        }
    }
}
