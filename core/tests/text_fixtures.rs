//! The text engine on the shared fixtures in `fixtures/text/`: the evasion table (recall per class, zero flags
//! on innocent rows), the innocent-substring suite, personal-data cue phrases and the conversations.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::print_stderr
)]

use std::path::PathBuf;

use haven_core::i18n::Language;
use haven_core::text::{ChatMessage, Direction, Normalized, TextContext, languages_for};
use haven_core::{Action, AgeTier, Category, Haven, Profile};

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/text")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rows of a TSV fixture, without comments and the header.
fn rows(name: &str) -> Vec<Vec<String>> {
    fixture(name)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn profile(language: Language) -> Profile {
    let mut p = Profile::new("test", AgeTier::Under9).unwrap();
    p.set_language(language);
    p
}

fn categories(
    haven: &Haven,
    language: Language,
    text: &str,
    context: TextContext,
) -> Vec<Category> {
    haven
        .check_text(&profile(language), text, &context.with_language(language))
        .unwrap()
        .categories
        .iter()
        .map(|c| c.category)
        .collect()
}

fn category_of(expected: &str) -> Option<Category> {
    match expected {
        "-" => None,
        "sexual" => Some(Category::SexualContent),
        "pii" => Some(Category::PersonalInfo),
        "grooming" => Some(Category::Grooming),
        other => other.parse().ok(),
    }
}

#[test]
fn evasion_table_recall_and_no_flags_on_innocent_rows() {
    let haven = Haven::new();
    let mut per_class: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    let mut false_positives = Vec::new();
    let mut missed = Vec::new();
    for row in rows("evasion.tsv") {
        let [lang, class, text, expected, _] = row.as_slice() else {
            panic!("bad row {row:?}");
        };
        let language: Language = lang.parse().unwrap();
        // Lexicon signals, not verdicts: one grooming phrase alone is a signal but no verdict by design.
        let form = Normalized::new(text);
        let found: Vec<Category> = haven
            .text_engine()
            .scan_normalized(&form, languages_for(&form, language))
            .iter()
            .filter_map(|m| m.entry.kind.category())
            .collect();
        let entry = per_class.entry(class.clone()).or_default();
        match category_of(expected) {
            None => {
                if !found.is_empty() {
                    false_positives.push(format!("{lang} {class} {text:?} -> {found:?}"));
                }
            }
            Some(category) => {
                entry.1 += 1;
                if found.contains(&category) {
                    entry.0 += 1;
                } else {
                    missed.push(format!("{lang} {class} {text:?} -> {found:?}"));
                }
            }
        }
    }
    let (hit, total) = per_class
        .values()
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    eprintln!("recall {hit}/{total}; per class: {per_class:?}");
    eprintln!("missed: {missed:#?}");
    assert!(
        false_positives.is_empty(),
        "false positives: {false_positives:#?}"
    );
    assert!(hit * 100 >= total * 90, "recall {hit}/{total} below 90 %");
}

#[test]
fn innocent_words_containing_bad_substrings_are_never_flagged() {
    let haven = Haven::new();
    let rows = rows("innocent.tsv");
    assert!(rows.len() >= 200);
    let flagged: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let language: Language = row.first()?.parse().ok()?;
            let text = row.get(1)?;
            let found = categories(&haven, language, text, TextContext::incoming());
            (!found.is_empty()).then(|| format!("{text:?} -> {found:?}"))
        })
        .collect();
    assert!(flagged.is_empty(), "{flagged:#?}");
}

#[test]
fn personal_data_cue_phrases_count_when_the_child_sends_them() {
    let haven = Haven::new();
    let mut wrong = Vec::new();
    for row in rows("pii.tsv") {
        let [lang, text, expected, _] = row.as_slice() else {
            panic!("bad row {row:?}");
        };
        let language: Language = lang.parse().unwrap();
        let sent = categories(&haven, language, text, TextContext::outgoing());
        let flagged = sent.contains(&Category::PersonalInfo);
        if flagged != (expected != "-") {
            wrong.push(format!("{lang} {text:?} expected {expected} -> {sent:?}"));
        }
        let received = categories(&haven, language, text, TextContext::incoming());
        assert!(!received.contains(&Category::PersonalInfo), "{text:?}");
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn conversations_are_flagged_only_when_several_signals_add_up() {
    let haven = Haven::new();
    let conversations: serde_json::Value =
        serde_json::from_str(&fixture("conversations.json")).unwrap();
    let mut wrong = Vec::new();
    for c in conversations.as_array().unwrap() {
        let language: Language = c["lang"].as_str().unwrap().parse().unwrap();
        let messages: Vec<ChatMessage> = c["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| ChatMessage {
                direction: if m["dir"] == "in" {
                    Direction::Incoming
                } else {
                    Direction::Outgoing
                },
                text: m["text"].as_str().unwrap().to_owned(),
                sent_at: m["t"].as_u64().unwrap(),
            })
            .collect();
        let verdict = haven
            .check_conversation(
                &profile(language),
                &messages,
                &TextContext::incoming().with_language(language),
            )
            .unwrap();
        let grooming = verdict
            .categories
            .iter()
            .any(|s| s.category == Category::Grooming);
        if grooming != (c["expect"] == "grooming") {
            wrong.push(format!(
                "{}: {} -> {:?}",
                c["lang"], c["note"], verdict.categories
            ));
        }
        if grooming {
            assert_eq!(verdict.action, Action::Block);
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
