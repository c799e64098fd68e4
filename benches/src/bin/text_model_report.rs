//! Per-message latency and memory of the toxic-message models and of `check_text` with and without them.
//!
//! `cargo run --release -p haven-benches --bin text_model_report [-- DATA_DIR [MESSAGES_PER_FILE [THREADS]]]`
//!
//! `THREADS`: ONNX Runtime intra-op threads per inference (default 1, the library's default for text).
//!
//! Messages: the first `MESSAGES_PER_FILE` (default 1000) of each dev/benign file of the labelled sets in
//! `DATA_DIR` (default `../shared/datasets/text`; read, never copied): English tweets (OLID test), English chat
//! (Wizard of Wikipedia), Chinese (COLD test), Arabic (OSACT dev), Spanish (HatEval test). Each message is timed
//! alone, one thread, after a warm-up pass; p50 / p99 / mean per stage. Memory: resident set size before and after
//! loading the models.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use haven_core::Haven;
use haven_core::classify::text::{TextClassifier, TextClassifierConfig};
use haven_core::policy::{AgeTier, Profile};
use haven_core::text::TextContext;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

const FILES: [&str; 5] = [
    "en_olid_test.jsonl",
    "en_wizard_of_wikipedia_benign.jsonl",
    "zh_cold_test.jsonl",
    "ar_osact2022_dev.jsonl",
    "es_hateval2019_test.jsonl",
];

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

fn report(name: &str, mut micros: Vec<f64>) {
    micros.sort_by(f64::total_cmp);
    let mean = micros.iter().sum::<f64>() / micros.len().max(1) as f64;
    println!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} |",
        micros.len(),
        percentile(&micros, 0.5),
        percentile(&micros, 0.99),
        mean
    );
}

fn time_each(texts: &[String], mut f: impl FnMut(&str) -> Result<()>) -> Result<Vec<f64>> {
    for t in texts.iter().take(200) {
        f(t)?;
    }
    let mut out = Vec::with_capacity(texts.len());
    for t in texts {
        let start = Instant::now();
        f(black_box(t))?;
        out.push(start.elapsed().as_secs_f64() * 1e6);
    }
    Ok(out)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map_or_else(|| PathBuf::from("../shared/datasets/text"), PathBuf::from);
    let per_file: usize = args.next().map_or(Ok(1000), |n| n.parse())?;
    let threads: usize = args.next().map_or(Ok(1), |n| n.parse())?;
    let mut texts = Vec::new();
    let mut english = Vec::new();
    for file in FILES {
        let content = std::fs::read_to_string(dir.join(file))?;
        for line in content.lines().take(per_file) {
            let row: serde_json::Value = serde_json::from_str(line)?;
            let text = row
                .get("text")
                .and_then(|t| t.as_str())
                .unwrap_or_default()
                .to_owned();
            if file.starts_with("en_") {
                english.push(text.clone());
            }
            texts.push(text);
        }
    }
    let before = rss_mib();
    let started = Instant::now();
    let fast_only = TextClassifier::load(&TextClassifierConfig {
        transformer: false,
        intra_threads: threads,
        ..TextClassifierConfig::default()
    })?;
    let fast_loaded = rss_mib();
    let fast_load_ms = started.elapsed().as_secs_f64() * 1e3;
    let started = Instant::now();
    let both = std::sync::Arc::new(TextClassifier::load(&TextClassifierConfig {
        intra_threads: threads,
        ..TextClassifierConfig::default()
    })?);
    let both_load_ms = started.elapsed().as_secs_f64() * 1e3;
    let both_loaded = rss_mib();
    let profile = Profile::new("bench", AgeTier::Age9To12)?;
    let lexicons = Haven::new();
    let haven = Haven::new().with_text_classifier(both.clone());
    let context = TextContext::incoming();

    println!(
        "{} messages ({} English), {:.0} bytes on average; {threads} thread(s) per inference",
        texts.len(),
        english.len(),
        texts.iter().map(String::len).sum::<usize>() as f64 / texts.len().max(1) as f64
    );
    println!("| stage | messages | p50 µs | p99 µs | mean µs |");
    println!("|---|---|---|---|---|");
    report(
        "features alone (Rust)",
        time_each(&texts, |t| {
            black_box(haven_core::classify::text::features::features(t));
            Ok(())
        })?,
    );
    report(
        "fast model (features + ONNX), all",
        time_each(&texts, |t| {
            black_box(fast_only.fast_scores(t)?);
            Ok(())
        })?,
    );
    report(
        "MiniLM model (tokenizer + ONNX), English",
        time_each(&english, |t| {
            black_box(both.transformer_scores(t)?);
            Ok(())
        })?,
    );
    report(
        "check_text, lexicons only, all",
        time_each(&texts, |t| {
            black_box(lexicons.check_text(&profile, t, &context)?);
            Ok(())
        })?,
    );
    report(
        "check_text with both models (routed), all",
        time_each(&texts, |t| {
            black_box(haven.check_text(&profile, t, &context)?);
            Ok(())
        })?,
    );
    report(
        "check_text with both models (routed), English",
        time_each(&english, |t| {
            black_box(haven.check_text(&profile, t, &context)?);
            Ok(())
        })?,
    );
    println!();
    println!(
        "RSS: {before:.1} MiB before loading; {fast_loaded:.1} MiB with the fast model ({fast_load_ms:.0} ms to \
         load, runtime included); {both_loaded:.1} MiB with both ({both_load_ms:.0} ms to load the pair)"
    );
    Ok(())
}
