//! Tests of the text engine on the built-in lexicons and the shared fixtures.

use super::*;
use crate::i18n::Language;

const SOURCES: [(Language, &str); 6] = [
    (Language::Ar, include_str!("../../data/text/lexicon/ar.txt")),
    (Language::En, include_str!("../../data/text/lexicon/en.txt")),
    (Language::Es, include_str!("../../data/text/lexicon/es.txt")),
    (Language::Fr, include_str!("../../data/text/lexicon/fr.txt")),
    (Language::Ru, include_str!("../../data/text/lexicon/ru.txt")),
    (Language::Zh, include_str!("../../data/text/lexicon/zh.txt")),
];

#[test]
fn builtin_lexicons_parse_and_cover_every_language() {
    for (language, source) in SOURCES {
        let entries = lexicon::parse(language, source).unwrap_or_else(|e| panic!("{e}"));
        eprintln!("{language}: {}", entries.len());
    }
    let engine = TextEngine::from_sources(&SOURCES, "test").unwrap();
    assert_eq!(
        engine.entries().count(),
        TextEngine::builtin().entries().count()
    );
}

#[test]
fn oversized_input_is_a_typed_error_without_the_text() {
    let haven = crate::Haven::new();
    let profile = crate::Profile::new("t", crate::AgeTier::Under9).unwrap();
    let long = "secret ".repeat(MAX_TEXT_BYTES / 7 + 1);
    let err = haven
        .check_text(&profile, &long, &TextContext::incoming())
        .unwrap_err();
    assert!(matches!(err, crate::Error::Text(TextError::TooLong { .. })));
    assert!(!err.to_string().contains("secret"));
    let messages = vec![
        ChatMessage {
            direction: Direction::Incoming,
            text: "hi".into(),
            sent_at: 0
        };
        MAX_MESSAGES + 1
    ];
    let err = haven
        .check_conversation(&profile, &messages, &TextContext::incoming())
        .unwrap_err();
    assert!(matches!(
        err,
        crate::Error::Text(TextError::TooManyMessages { .. })
    ));
    assert!(
        haven
            .mask_text(&profile, &long, &TextContext::incoming())
            .is_err()
    );
}

#[test]
fn the_builtin_automata_stay_small() {
    // One DFA over every pattern took 37 MB; the split keeps the lexicons within a mobile memory budget.
    let bytes = TextEngine::builtin().automata_memory();
    eprintln!("automata: {bytes} bytes");
    assert!(bytes < 8 << 20, "{bytes} bytes");
}
