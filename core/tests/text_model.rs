//! The toxic-message classifier with real ONNX Runtime sessions: Rust features, tokenizer ids and scores against
//! the Python pipeline's (`models/toxicity/golden.json`, written and re-checked by `models/toxicity/parity.py`),
//! routing by language, thresholds per tier, and the fallback to the lexicons. Needs `scripts/fetch-models.sh`
//! (scripts/test.sh runs it); without it these tests fail and say so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use haven_core::Haven;
use haven_core::classify::text::{
    self, NOTE_UNAVAILABLE, TextClassifier, TextClassifierConfig, TextModel, features,
};
use haven_core::classify::{ClassifyError, Unavailable};
use haven_core::i18n::Language;
use haven_core::policy::{Action, AgeTier, Category, Profile};
use haven_core::text::{ChatMessage, Direction, TextContext};
use haven_core::verdict::Engine;
use serde::Deserialize;

/// An insult in no lexicon: only the model can flag it.
const MODEL_ONLY_INSULT: &str = "your face is disgusting and everyone laughs at you";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn config() -> TextClassifierConfig {
    TextClassifierConfig {
        runtime: Some(root().join(haven_core::classify::runtime::DEFAULT_ORT_DYLIB)),
        models_dir: Some(root().join(haven_core::classify::DEFAULT_MODELS_DIR)),
        transformer: true,
        intra_threads: 1,
        sessions: 2,
    }
}

/// One classifier with both models for the whole test binary.
fn classifier() -> Arc<TextClassifier> {
    static LOADED: OnceLock<Arc<TextClassifier>> = OnceLock::new();
    LOADED
        .get_or_init(|| {
            Arc::new(
                TextClassifier::load(&config())
                    .unwrap_or_else(|e| panic!("{e} (run scripts/fetch-models.sh)")),
            )
        })
        .clone()
}

#[derive(Deserialize)]
struct Golden {
    normalized: String,
    ids: Vec<i64>,
    values: Vec<f32>,
    tokens: Vec<u32>,
    fast: Vec<f32>,
    minilm: Vec<f32>,
}

#[derive(Deserialize)]
struct Fixture {
    text: String,
}

fn golden() -> Vec<(String, Golden)> {
    let fixtures =
        std::fs::read_to_string(root().join("fixtures/text/toxicity_parity.jsonl")).unwrap();
    let golden: Vec<Golden> = serde_json::from_str(
        &std::fs::read_to_string(root().join("models/toxicity/golden.json")).unwrap(),
    )
    .unwrap();
    let texts: Vec<String> = fixtures
        .lines()
        .map(|l| serde_json::from_str::<Fixture>(l).unwrap().text)
        .collect();
    assert_eq!(
        texts.len(),
        golden.len(),
        "golden.json is stale: run parity.py write"
    );
    assert!(texts.len() >= 40);
    texts.into_iter().zip(golden).collect()
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn rust_features_equal_the_python_training_features() {
    let mut compared = 0;
    for (text, g) in golden() {
        assert_eq!(features::normalize(&text), g.normalized, "{text:?}");
        let f = features::features(&text);
        assert_eq!(f.ids, g.ids, "buckets of {text:?}");
        assert!(max_diff(&f.values, &g.values) <= 1e-6, "values of {text:?}");
        compared += f.ids.len();
    }
    assert!(compared > 3_000, "{compared} buckets compared");
}

#[test]
fn tokenizer_ids_equal_the_python_tokenizer() {
    let classifier = classifier();
    for (text, g) in golden() {
        assert_eq!(classifier.token_ids(&text).unwrap(), g.tokens, "{text:?}");
    }
}

#[test]
fn rust_onnx_scores_equal_the_python_scores() {
    let classifier = classifier();
    let (mut fast, mut minilm) = (0.0f32, 0.0f32);
    for (text, g) in golden() {
        fast = fast.max(max_diff(
            &classifier.fast_scores(&text).unwrap().scores,
            &g.fast,
        ));
        minilm = minilm.max(max_diff(
            &classifier.transformer_scores(&text).unwrap().scores,
            &g.minilm,
        ));
    }
    assert!(fast <= 1e-6, "fast model differs by {fast}");
    assert!(minilm <= 1e-5, "transformer differs by {minilm}");
}

#[test]
fn messages_are_routed_by_language() {
    let classifier = classifier();
    let english = "everyone saw what you did, you are such a loser";
    let a = classifier.assess(english, None).unwrap();
    assert_eq!(
        (a.language, a.model),
        (Some(Language::En), TextModel::Combined)
    );
    let fast = classifier.fast_scores(english).unwrap().scores;
    let transformer = classifier.transformer_scores(english).unwrap().scores;
    assert!((a.scores.scores[0] - (fast[0] + transformer[0]) / 2.0).abs() < 1e-6);

    for (text, language) in [
        (
            "tout le monde a vu ce que tu as fait, tu devrais avoir honte",
            Language::Fr,
        ),
        ("в школе тебя никто не любит", Language::Ru),
        ("学校里没有人喜欢你", Language::Zh),
    ] {
        let a = classifier.assess(text, None).unwrap();
        assert_eq!(
            (a.language, a.model),
            (Some(language), TextModel::Fast),
            "{text}"
        );
        assert_eq!(a.scores, classifier.fast_scores(text).unwrap());
    }
    // The app's language wins over detection; text with no language gets the fast model.
    let given = classifier.assess(english, Some(Language::Es)).unwrap();
    assert_eq!(
        (given.language, given.model),
        (Some(Language::Es), TextModel::Fast)
    );
    let unknown = classifier.assess("", None).unwrap();
    assert_eq!((unknown.language, unknown.model), (None, TextModel::Fast));

    // Without the transformer, English gets the fast model too.
    let fast_only = TextClassifier::load(&TextClassifierConfig {
        transformer: false,
        ..config()
    })
    .unwrap();
    assert!(!fast_only.has_transformer());
    let a = fast_only.assess(english, None).unwrap();
    assert_eq!((a.language, a.model), (Some(Language::En), TextModel::Fast));
    assert_eq!(
        fast_only.token_ids(english).unwrap_err(),
        ClassifyError::ModelUnavailable(Unavailable::ModelMissing)
    );
}

#[test]
fn findings_follow_each_tiers_threshold() {
    let classifier = classifier();
    let manifest = classifier.transformer_manifest().unwrap();
    let mut strict_only = 0;
    for (text, _) in golden() {
        let assessment = classifier.assess(&text, None).unwrap();
        let manifest = match assessment.model {
            TextModel::Fast => classifier.fast_manifest(),
            _ => manifest,
        };
        let youngest = classifier.findings(&assessment, AgeTier::Under9);
        let adult = classifier.findings(&assessment, AgeTier::Adult);
        if !youngest.is_empty() && adult.is_empty() {
            strict_only += 1;
        }
        for tier in AgeTier::ALL {
            let findings = classifier.findings(&assessment, tier);
            for (mapping, score) in manifest.categories.iter().zip(&assessment.scores.scores) {
                let expected = *score >= mapping.threshold[&tier];
                let found = findings.iter().any(|f| f.category == mapping.category);
                assert_eq!(found, expected, "{text:?} {tier:?} {:?}", mapping.category);
            }
            for finding in &findings {
                assert_eq!(finding.evidence.engine, Engine::Classifier);
                assert!(finding.evidence.score.is_some());
            }
        }
        // Thresholds only fall with age: whatever an older child is shown, a younger one is too.
        assert!(adult.len() <= youngest.len());
    }
    assert!(strict_only > 0, "no fixture shows the tiers apart");
}

#[test]
fn check_text_carries_lexicon_and_model_evidence_together() {
    let haven = Haven::new().with_text_classifier(classifier());
    let child = Profile::new("Leo", AgeTier::Age9To12).unwrap();
    // No word of any lexicon: only the model sees it.
    let v = haven
        .check_text(&child, MODEL_ONLY_INSULT, &TextContext::incoming())
        .unwrap();
    assert_eq!(v.action, Action::Block);
    assert!(
        v.categories
            .iter()
            .any(|c| c.category == Category::Bullying)
    );
    assert!(v.offer_help);
    assert!(v.evidence.iter().all(|e| e.engine == Engine::Classifier));
    // Masking works on spans, which only lexicon matches have: the model is not run, the text stays.
    assert_eq!(
        haven
            .mask_text(&child, MODEL_ONLY_INSULT, &TextContext::incoming())
            .unwrap(),
        MODEL_ONLY_INSULT
    );
    // A swear word and a model finding in one verdict.
    let v = haven
        .check_text(
            &child,
            "shut up you idiot, fuck off",
            &TextContext::incoming(),
        )
        .unwrap();
    let engines: Vec<Engine> = v.evidence.iter().map(|e| e.engine).collect();
    assert!(
        engines.contains(&Engine::Text) && engines.contains(&Engine::Classifier),
        "{engines:?}"
    );
    // Friendly messages stay allowed in every language.
    for text in [
        "Thanks for helping me with my homework yesterday!",
        "Merci pour ton aide, on se voit demain au parc !",
        "¿Quieres jugar al fútbol mañana? ¡Genial!",
        "Спасибо за помощь с домашним заданием!",
        "شكرا لك على المساعدة، أراك غدا",
        "谢谢你帮我做作业！明天见。",
    ] {
        let v = haven
            .check_text(&child, text, &TextContext::incoming())
            .unwrap();
        assert_eq!(v.action, Action::Allow, "{text}");
        assert!(v.evidence.is_empty(), "{text}");
    }
    // Adults are not protected from rudeness.
    let adult = Profile::new("Sam", AgeTier::Adult).unwrap();
    let v = haven
        .check_text(&adult, MODEL_ONLY_INSULT, &TextContext::incoming())
        .unwrap();
    assert_eq!(v.action, Action::Allow);
}

#[test]
fn conversations_name_the_message_the_model_flagged() {
    let haven = Haven::new().with_text_classifier(classifier());
    let child = Profile::new("Ana", AgeTier::Under9).unwrap();
    let messages = [
        ("are you coming to the party on saturday?", 0),
        (MODEL_ONLY_INSULT, 60),
    ]
    .map(|(text, sent_at)| ChatMessage {
        direction: Direction::Incoming,
        text: text.to_owned(),
        sent_at,
    });
    let v = haven
        .check_conversation(&child, &messages, &TextContext::incoming())
        .unwrap();
    assert_eq!(v.action, Action::Block);
    let flagged: Vec<Option<usize>> = v.evidence.iter().map(|e| e.message).collect();
    assert!(
        !flagged.is_empty() && flagged.iter().all(|m| *m == Some(1)),
        "{flagged:?}"
    );
}

#[test]
fn a_missing_or_corrupt_transformer_is_a_typed_error_and_haven_falls_back_to_the_lexicons() {
    let empty = tempfile::tempdir().unwrap();
    let cfg = TextClassifierConfig {
        models_dir: Some(empty.path().to_path_buf()),
        ..config()
    };
    assert_eq!(
        TextClassifier::load(&cfg).unwrap_err(),
        ClassifyError::ModelUnavailable(Unavailable::ModelMissing)
    );
    // The tokenizer is there, the model is truncated.
    let dir = empty.path().join(text::MINILM_MODEL_ID);
    std::fs::create_dir_all(&dir).unwrap();
    let installed = root().join(".haven/models").join(text::MINILM_MODEL_ID);
    std::fs::copy(installed.join("tokenizer.json"), dir.join("tokenizer.json")).unwrap();
    let model = std::fs::read(installed.join("model.onnx")).unwrap();
    std::fs::write(dir.join("model.onnx"), &model[..model.len() / 2]).unwrap();
    assert_eq!(
        TextClassifier::load(&cfg).unwrap_err(),
        ClassifyError::ModelCorrupt
    );

    // Haven told that the classifier is unavailable: the lexicons decide, and the verdict says so.
    let haven = Haven::new().without_text_classifier();
    let child = Profile::new("Leo", AgeTier::Age9To12).unwrap();
    let v = haven
        .check_text(&child, "you are such a l 0 s e r", &TextContext::incoming())
        .unwrap();
    assert_eq!(v.categories[0].category, Category::Bullying);
    assert!(v.evidence.iter().any(|e| e.engine == Engine::Text));
    let note = v
        .evidence
        .iter()
        .find(|e| e.engine == Engine::Classifier)
        .unwrap();
    assert_eq!(note.rule.as_deref(), Some(NOTE_UNAVAILABLE));
    let v = haven
        .check_text(&child, MODEL_ONLY_INSULT, &TextContext::incoming())
        .unwrap();
    assert_eq!(v.action, Action::Allow);
    assert_eq!(v.evidence.len(), 1);
    // A plain engine that was never given a classifier says nothing about one.
    let v = Haven::new()
        .check_text(&child, MODEL_ONLY_INSULT, &TextContext::incoming())
        .unwrap();
    assert!(v.evidence.is_empty());
}

#[test]
fn one_classifier_serves_many_threads() {
    let classifier = classifier();
    let texts: Vec<(String, Golden)> = golden();
    let texts = Arc::new(texts);
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let classifier = classifier.clone();
            let texts = texts.clone();
            std::thread::spawn(move || {
                for (i, (text, g)) in texts.iter().enumerate().skip(t % 3) {
                    let fast = classifier.fast_scores(text).unwrap();
                    assert!(max_diff(&fast.scores, &g.fast) <= 1e-6, "{i}");
                    if i % 4 == 0 {
                        let minilm = classifier.transformer_scores(text).unwrap();
                        assert!(max_diff(&minilm.scores, &g.minilm) <= 1e-5, "{i}");
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn padding_does_not_push_words_out_of_the_fast_models_sight() {
    let classifier = classifier();
    let insult = "shut up you idiot, go away";
    let plain = features::features(insult);
    for padded in [
        format!("{}{insult}", "\u{200B}".repeat(100_000)),
        format!("{}{insult}", " \n\t".repeat(50_000)),
        format!("{}{insult}", "\u{FEFF}\u{2060}".repeat(50_000)),
    ] {
        assert_eq!(features::features(&padded), plain);
    }
    // Long repeats are squeezed before the limit counts, so the words after them are still read.
    let repeated = format!("{} {insult}", "a".repeat(100_000));
    let scores = classifier.fast_scores(&repeated).unwrap().scores;
    assert!(scores[0] > 0.9, "{scores:?}");
    // The transformer's input drops invisible characters before its length limit, too.
    assert_eq!(
        classifier
            .token_ids(&format!("{}{insult}", "\u{200B}".repeat(100_000)))
            .unwrap(),
        classifier.token_ids(insult).unwrap()
    );
}
