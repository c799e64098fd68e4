//! Scores labelled messages with Haven's text models and with the Rust peers, for `models/toxicity/evaluate.py`.
//!
//! Reads JSON lines `{"text": ..., "lang": ...}` on standard input and writes one JSON line per message:
//!
//! - `fast`, `minilm`: each model's calibrated `abusive` probability (`minilm` only for `"lang": "en"`);
//! - `haven`: the routed score [`TextClassifier::assess`] gives with the language detected (what an app that does
//!   not know the language gets), `haven_lang` with the row's language given;
//! - `haven_full`: what Haven's whole `check_text` weighs, language given: the higher of `haven_lang` and the
//!   lexicons' highest confidence among bullying, hate, profanity, sexual content and violence (a lexicon finding
//!   counts as its severity / 3), as `Verdict::decide` keeps each category's highest confidence;
//! - `lexicon_confidence`: that highest lexicon confidence alone (0 when the lexicons find none of them);
//! - `lexicon`: 1 if the lexicon engine alone (`check_text` without the classifier, language given) finds any
//!   of those categories, else 0;
//! - `rustrict`: 1 if `rustrict`'s `is_inappropriate` is true, else 0; `rustrict_graded`: 0 none, 1 mild,
//!   2 moderate (what `is_inappropriate` flags), 3 severe, over profane, offensive, sexual and mean.
//!
//! `cargo run --release -p haven-benches --bin toxicity_scores < rows.jsonl > scores.jsonl`
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::indexing_slicing)]

use std::io::{BufRead, Write};
use std::sync::Arc;

use haven_core::classify::text::{TextClassifier, TextClassifierConfig, detect_language};
use haven_core::i18n::Language;
use haven_core::policy::{AgeTier, Category, Profile};
use haven_core::text::TextContext;
use haven_core::{Haven, Verdict};
use rustrict::{Censor, Type};

const ABUSE: [Category; 5] = [
    Category::Bullying,
    Category::Hate,
    Category::Profanity,
    Category::SexualContent,
    Category::Violence,
];

fn abuse_confidence(verdict: &Verdict) -> f32 {
    verdict
        .categories
        .iter()
        .filter(|c| ABUSE.contains(&c.category))
        .map(|c| c.confidence)
        .fold(0.0, f32::max)
}

fn rustrict_graded(text: &str) -> u8 {
    let found = Censor::from_str(text).analyze();
    let kinds = Type::PROFANE | Type::OFFENSIVE | Type::SEXUAL | Type::MEAN;
    if found.is(kinds & Type::SEVERE) {
        3
    } else if found.is(kinds & Type::MODERATE_OR_HIGHER) {
        2
    } else if found.is(kinds & Type::MILD_OR_HIGHER) {
        1
    } else {
        0
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let classifier = Arc::new(TextClassifier::load(&TextClassifierConfig::default())?);
    let lexicons = Haven::new();
    let profile = Profile::new("eval", AgeTier::Age9To12)?;
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (n, line) in stdin.lock().lines().enumerate() {
        let row: serde_json::Value = serde_json::from_str(&line?)?;
        let text = row["text"].as_str().ok_or("a row without text")?;
        let language: Option<Language> = row["lang"].as_str().and_then(|l| l.parse().ok());
        let context = match language {
            Some(l) => TextContext::incoming().with_language(l),
            None => TextContext::incoming(),
        };
        let fast = classifier.fast_scores(text)?.scores[0];
        let detected = detect_language(text);
        let minilm = if language == Some(Language::En) || detected == Some(Language::En) {
            Some(classifier.transformer_scores(text)?.scores[0])
        } else {
            None
        };
        // What `assess` computes (core/tests/text_model.rs checks that routing), without running MiniLM twice.
        let routed = |l: Option<Language>| match (l, minilm) {
            (Some(Language::En), Some(m)) => (fast + m) / 2.0,
            _ => fast,
        };
        let (haven, haven_lang) = (routed(detected), routed(language));
        let lexicon_confidence = abuse_confidence(&lexicons.check_text(&profile, text, &context)?);
        // `check_text` with both: each category keeps its highest confidence (lexicon: severity / 3).
        let haven_full = haven_lang.max(lexicon_confidence);
        let lexicon = u8::from(lexicon_confidence > 0.0);
        let rustrict = u8::from(Censor::from_str(text).analyze().is(Type::INAPPROPRIATE));
        let minilm_en = minilm.filter(|_| language == Some(Language::En));
        let scores = serde_json::json!({
            "fast": fast, "minilm": minilm_en, "haven": haven, "haven_lang": haven_lang,
            "haven_full": haven_full, "lexicon_confidence": lexicon_confidence, "lexicon": lexicon, "rustrict": rustrict,
            "rustrict_graded": rustrict_graded(text),
        });
        writeln!(out, "{scores}")?;
        if n % 5000 == 4999 {
            eprintln!("toxicity_scores: {} messages", n + 1);
        }
    }
    out.flush()?;
    Ok(())
}
