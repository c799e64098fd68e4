//! Properties of the text engine on arbitrary input: the normaliser never panics and its offset map always
//! points at whole characters inside the original text, in order; scanning and masking never panic, matches
//! lie inside the text on character boundaries, and masking only ever turns characters into `*` in place.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use haven_core::i18n::Language;
use haven_core::text::{LanguageSet, Normalized, TextContext, TextEngine};
use haven_core::{AgeTier, Haven, Profile};
use proptest::prelude::*;

/// The offset map of `form` is valid for `text`: every matching-form byte maps to a non-empty range of whole
/// characters of `text`, and the ranges never go backwards.
fn assert_offset_map(text: &str, form: &Normalized) {
    let mut last_start = 0;
    for i in 0..form.as_str().len() {
        let r = form.original_range(i, i + 1);
        assert!(r.start < r.end, "byte {i}: empty range {r:?}");
        assert!(r.end <= text.len(), "byte {i}: {r:?} past {}", text.len());
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        assert!(r.start >= last_start, "byte {i}: {r:?} goes back");
        last_start = r.start;
    }
    // Any range, even out of bounds or reversed, is answered without panicking and inside the text.
    let n = form.as_str().len();
    for (s, e) in [(0, n), (n, n + 5), (3, 1), (n + 1, 0), (0, usize::MAX)] {
        let r = form.original_range(s, e);
        assert!(r.start <= r.end && r.end <= text.len());
    }
}

/// Text built from the pieces evasion is made of: letters of several scripts, leet digits and symbols, spaces
/// and separators, invisible characters, combining marks, full-width and mathematical letters.
fn evasive_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z]{1,8}",
        "[а-яА-ЯёЁ]{1,6}",
        "[ا-ي]{1,5}",
        "[一-龥]{1,4}",
        "[013457@$!*]{1,3}",
        "[ ._\\-]{1,2}",
        Just("\u{200B}".to_owned()),
        Just("\u{202E}".to_owned()),
        Just("\u{00AD}".to_owned()),
        Just("\u{0301}".to_owned()),
        Just("\u{064E}\u{0640}".to_owned()),
        "[ａ-ｚＡ-Ｚ]{1,4}",
        Just("𝐟𝐮𝐜𝐤".to_owned()),
        Just("ß".to_owned()),
        Just("😀".to_owned()),
        any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

fn all_languages() -> LanguageSet {
    Language::ALL
        .iter()
        .fold(LanguageSet::empty(), |set, &l| set.with(l))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn offset_map_is_valid_on_any_string(text in any::<String>()) {
        assert_offset_map(&text, &Normalized::new(&text));
    }

    #[test]
    fn offset_map_is_valid_on_evasive_text(text in evasive_text()) {
        let form = Normalized::new(&text);
        assert_offset_map(&text, &form);
        for m in TextEngine::builtin().scan_normalized(&form, all_languages()) {
            prop_assert!(m.span.start < m.span.end && m.span.end <= text.len());
            prop_assert!(text.is_char_boundary(m.span.start) && text.is_char_boundary(m.span.end));
        }
    }

    #[test]
    fn masking_only_replaces_characters_in_place(text in evasive_text(), lang in 0usize..6) {
        let language = Language::ALL[lang];
        let mut profile = Profile::new("p", AgeTier::Under9).unwrap();
        profile.set_language(language);
        let masked = Haven::new()
            .mask_text(&profile, &text, &TextContext::outgoing().with_language(language))
            .unwrap();
        prop_assert_eq!(masked.chars().count(), text.chars().count());
        for (a, b) in text.chars().zip(masked.chars()) {
            prop_assert!(a == b || (b == '*' && !a.is_whitespace()), "{:?} -> {:?}", a, b);
        }
    }

    /// A word the lexicons list, dressed in any mix of the evasions, is still found where it was put.
    #[test]
    fn a_listed_word_survives_evasion(
        upper in proptest::collection::vec(any::<bool>(), 4),
        zero_width in proptest::collection::vec(any::<bool>(), 4),
        repeat in proptest::collection::vec(1usize..4, 4),
        prefix in "[a-z]{0,6}",
    ) {
        let mut text = if prefix.is_empty() { String::new() } else { format!("{prefix} ") };
        let start = text.len();
        for (i, c) in "shit".chars().enumerate() {
            let c = if upper[i] { c.to_ascii_uppercase() } else { c };
            for _ in 0..repeat[i] {
                text.push(c);
            }
            if zero_width[i] && i < 3 {
                text.push('\u{200B}');
            }
        }
        let end = text.len();
        text.push_str(" now");
        let hits = TextEngine::builtin().scan(&text, LanguageSet::empty().with(Language::En));
        prop_assert!(
            hits.iter().any(|m| m.span.start == start && m.span.end <= end && m.span.end + 3 >= end),
            "{:?}: {:?}", text, hits
        );
    }
}
