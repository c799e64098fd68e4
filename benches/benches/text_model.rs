//! Criterion benchmarks of the toxic-message models side by side with the Rust peers, per message: the
//! texts of `fixtures/text/toxicity_parity.jsonl` (42 short messages in six languages), one at a time.
//!
//! - `toxicity/fast`: `TextClassifier::fast_scores` (features + ONNX Runtime);
//! - `toxicity/minilm`: `TextClassifier::transformer_scores` (tokenizer + ONNX Runtime; needs
//!   `scripts/fetch-models.sh`);
//! - `toxicity/check_text_with_models`: `Haven::check_text` with both models routed by language;
//! - `toxicity/check_text_lexicons`: `Haven::check_text` without them;
//! - `toxicity/rustrict`: `rustrict`'s `is_inappropriate`.
//!
//! The Python peer (alt-profanity-check) is measured for quality only (`models/toxicity/evaluate.py`). Latency
//! percentiles and memory: the `text_model_report` binary. `cargo bench -p haven-benches --bench text_model`.
#![allow(clippy::print_stderr)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_main};
use haven_benches::text::{repo_root, rustrict_check};
use haven_core::Haven;
use haven_core::classify::text::{TextClassifier, TextClassifierConfig};
use haven_core::policy::{AgeTier, Profile};
use haven_core::text::TextContext;

fn fail(e: impl std::fmt::Display) -> ! {
    eprintln!("text_model: {e} (run scripts/fetch-models.sh)");
    std::process::exit(2);
}

fn benches(c: &mut Criterion) {
    let root = repo_root();
    let fixtures = std::fs::read_to_string(root.join("fixtures/text/toxicity_parity.jsonl"))
        .unwrap_or_else(|e| fail(e));
    let texts: Vec<String> = fixtures
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("text").and_then(|t| t.as_str()).map(str::to_owned))
        .collect();
    let config = TextClassifierConfig {
        runtime: Some(root.join(haven_core::classify::runtime::DEFAULT_ORT_DYLIB)),
        models_dir: Some(root.join(haven_core::classify::DEFAULT_MODELS_DIR)),
        ..TextClassifierConfig::default()
    };
    let classifier = Arc::new(TextClassifier::load(&config).unwrap_or_else(|e| fail(e)));
    let with_models = Haven::new().with_text_classifier(classifier.clone());
    let lexicons = Haven::new();
    let profile = Profile::new("bench", AgeTier::Age9To12).unwrap_or_else(|e| fail(e));
    let context = TextContext::incoming();

    let mut group = c.benchmark_group("toxicity");
    group.bench_function("fast", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(classifier.fast_scores(black_box(t)).ok());
            }
        });
    });
    group.bench_function("minilm", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(classifier.transformer_scores(black_box(t)).ok());
            }
        });
    });
    group.bench_function("check_text_with_models", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(
                    with_models
                        .check_text(&profile, black_box(t), &context)
                        .ok(),
                );
            }
        });
    });
    group.bench_function("check_text_lexicons", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(lexicons.check_text(&profile, black_box(t), &context).ok());
            }
        });
    });
    group.bench_function("rustrict", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(rustrict_check(black_box(t)));
            }
        });
    });
    group.finish();
}

mod group {
    use super::{Criterion, benches as model_benches};

    criterion::criterion_group! {
        name = benches;
        config = Criterion::default()
            .sample_size(10)
            .warm_up_time(std::time::Duration::from_secs(1))
            .measurement_time(std::time::Duration::from_secs(5));
        targets = model_benches
    }
}
criterion_main!(group::benches);
