//! Criterion benchmarks of Haven's text engine side by side with `rustrict` 0.7 on the same messages, one at a
//! time (run `scripts/fetch-corpus.sh` first for the Bible corpus):
//!
//! - `text_check/{chat6,kjv}`: Haven `check_text` (full verdict) against rustrict `is_inappropriate`;
//! - `text_mask/{chat6,kjv}`: Haven `mask_text` against rustrict `censor`.
//!
//! Throughput is in bytes. `kjv` is the first 256 KB of the Bible's lines, `chat6` the shared fixtures' texts in
//! six languages, repeated to 256 KB. `cargo bench -p haven-benches --bench text`; for MB/s over the whole
//! corpora and the recall / false-positive table, see the `text_report` binary.

// A benchmark that cannot set up says why on stderr and exits.
#![allow(clippy::print_stderr)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use haven_benches::text::{Corpus, HavenText, chat, kjv, rustrict_check, rustrict_mask};
use haven_core::i18n::Language;

const BYTES: usize = 256 * 1024;

fn truncated(mut corpus: Corpus) -> Corpus {
    let mut bytes = 0;
    corpus.messages.retain(|m| {
        bytes += m.len();
        bytes <= BYTES
    });
    corpus
}

fn benches(c: &mut Criterion) {
    let corpora = match (kjv(), chat(BYTES)) {
        (Ok(k), Ok(ch)) => [truncated(ch), truncated(k)],
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("text: {e}");
            std::process::exit(2);
        }
    };
    let haven = match HavenText::new(Language::En) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("text: {e}");
            std::process::exit(2);
        }
    };
    for corpus in &corpora {
        let mut group = c.benchmark_group("text_check");
        group.throughput(Throughput::Bytes(corpus.bytes() as u64));
        group.bench_with_input(BenchmarkId::new("haven", corpus.name), corpus, |b, c| {
            b.iter(|| {
                for m in &c.messages {
                    black_box(haven.check(black_box(m)));
                }
            });
        });
        group.bench_with_input(BenchmarkId::new("rustrict", corpus.name), corpus, |b, c| {
            b.iter(|| {
                for m in &c.messages {
                    black_box(rustrict_check(black_box(m)));
                }
            });
        });
        group.finish();
        let mut group = c.benchmark_group("text_mask");
        group.throughput(Throughput::Bytes(corpus.bytes() as u64));
        group.bench_with_input(BenchmarkId::new("haven", corpus.name), corpus, |b, c| {
            b.iter(|| {
                for m in &c.messages {
                    black_box(haven.mask(black_box(m)));
                }
            });
        });
        group.bench_with_input(BenchmarkId::new("rustrict", corpus.name), corpus, |b, c| {
            b.iter(|| {
                for m in &c.messages {
                    black_box(rustrict_mask(black_box(m)));
                }
            });
        });
        group.finish();
    }
}

/// In a private module, so that the function `criterion_group!` generates is not public API (which would need
/// documentation).
mod group {
    use super::{Criterion, Duration, benches as text_benches};

    criterion::criterion_group! {
        name = benches;
        config = Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5));
        targets = text_benches
    }
}
criterion_main!(group::benches);
