//! Haven's URL engine side by side with adblock-rust on 100k and 1M domains: one markdown table of build time,
//! compiled size, load time, per-URL latency (p50, p99) and peak memory.
//!
//! Run with `cargo run --release -p haven-benches --bin url_report` after `scripts/fetch-lists.sh`.
//!
//! Peak memory is measured in child processes: the binary re-invokes itself with `--child ENGINE SIZE DIR`,
//! the child loads the engine from disk, runs the URL stream and prints its `VmHWM`; the table shows that minus
//! the `VmHWM` of a baseline child that reads the same URL stream and loads no engine.

// This binary's whole purpose is to print a report to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use haven_benches::{
    ADBLOCK_REQUEST_TYPE, BenchError, SIZES, STREAM_LEN, STREAM_SEED, adblock_blocked,
    adblock_build, adblock_load, adblock_request, compare, haven_blocked, haven_compile,
    haven_load, load_domains, proc_status_bytes, sample, url_stream, work_dir, write_file,
};

/// Timed passes over the stream per engine (after one warm-up pass).
const PASSES: usize = 10;
/// Loads timed per engine and size (the median is reported).
const LOADS: usize = 11;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("--child") => child(args.get(1..).unwrap_or_default()),
        None => report(),
        Some(_) => Err("usage: url_report (the --child arguments are internal)".into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("url_report: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One row of the table.
struct Row {
    engine: &'static str,
    size: &'static str,
    domains: usize,
    build: Duration,
    compiled_bytes: usize,
    load: Duration,
    p50_ns: u64,
    p99_ns: u64,
    mean_ns: f64,
    peak_rss: Option<u64>,
}

fn report() -> Result<()> {
    let started = Instant::now();
    let dir = work_dir()?;
    eprintln!("reading {}", haven_benches::source_path().display());
    let all = load_domains()?;
    eprintln!("{} domains (lines with a dot)", all.len());
    let loadavg_start = loadavg();
    let timer_ns = timer_overhead_ns();
    let mut inputs = Vec::new();
    for (label, n) in SIZES {
        let domains = sample(&all, n)?;
        let urls = url_stream(&domains, STREAM_LEN, STREAM_SEED);
        write_file(
            &dir.join(format!("urls-{label}.txt")),
            urls.join("\n").as_bytes(),
        )?;
        inputs.push((label, n, domains, urls));
    }
    drop(all);
    let baseline_rss = rss_of_child("baseline", "none", &dir)?;

    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut breakdown = Vec::new();
    for (label, n, domains, urls) in inputs {
        // Haven: parse + compile, write, load.
        eprintln!("[{label}] haven: compiling {n} domains");
        let t = Instant::now();
        let compiled = haven_compile(&domains)?;
        let haven_build = t.elapsed();
        let haven_path = dir.join(format!("haven-{label}.hvl"));
        write_file(&haven_path, &compiled)?;
        let haven_load_time = median_duration(LOADS, || haven_load(&haven_path).map(drop))?;
        let haven = haven_load(&haven_path)?;

        // adblock-rust: parse + build, serialize, write, load.
        eprintln!("[{label}] adblock: building an engine of {n} rules");
        let t = Instant::now();
        let built = adblock_build(&domains);
        let adblock_build_time = t.elapsed();
        eprintln!("[{label}] adblock: built in {adblock_build_time:.2?}");
        let serialized = built.serialize();
        drop(built);
        let adblock_path = dir.join(format!("adblock-{label}.dat"));
        write_file(&adblock_path, &serialized)?;
        let adblock_load_time = median_duration(LOADS, || adblock_load(&adblock_path).map(drop))?;
        let adblock = adblock_load(&adblock_path)?;

        // Correctness before timing.
        let (agreement, examples) = compare(
            &urls,
            |u| haven_blocked(&haven, u),
            |u| adblock_blocked(&adblock, u),
        );
        eprintln!(
            "[{label}] agreement: {} URLs, haven blocks {}, adblock blocks {}, disagreements {}",
            agreement.urls,
            agreement.first_blocked,
            agreement.second_blocked,
            agreement.disagreements
        );
        for example in &examples {
            eprintln!("  disagreement: {example}");
        }
        notes.push(format!(
            "{label}: {} URLs, Haven blocks {}, adblock-rust blocks {}, **{} disagreements**",
            agreement.urls,
            agreement.first_blocked,
            agreement.second_blocked,
            agreement.disagreements
        ));

        eprintln!(
            "[{label}] timing {PASSES} passes of {} URLs per engine",
            urls.len()
        );
        let [(haven_p50, haven_p99), (adblock_p50, adblock_p99)] = paired_latencies(
            &urls,
            |u| haven_blocked(&haven, u),
            |u| adblock_blocked(&adblock, u),
        );
        let [haven_mean, adblock_mean] = paired_bulk_mean_ns(
            &urls,
            |u| haven_blocked(&haven, u),
            |u| adblock_blocked(&adblock, u),
        );
        breakdown.push(stage_breakdown(label, &urls, &haven, &adblock));
        drop(haven);
        drop(adblock);

        eprintln!("[{label}] peak RSS children");
        let haven_rss = rss_of_child("haven", label, &dir)?;
        let adblock_rss = rss_of_child("adblock", label, &dir)?;

        rows.push(Row {
            engine: "Haven",
            size: label,
            domains: n,
            build: haven_build,
            compiled_bytes: compiled.len(),
            load: haven_load_time,
            p50_ns: haven_p50,
            p99_ns: haven_p99,
            mean_ns: haven_mean,
            peak_rss: haven_rss.checked_sub(baseline_rss),
        });
        rows.push(Row {
            engine: "adblock-rust 0.13",
            size: label,
            domains: n,
            build: adblock_build_time,
            compiled_bytes: serialized.len(),
            load: adblock_load_time,
            p50_ns: adblock_p50,
            p99_ns: adblock_p99,
            mean_ns: adblock_mean,
            peak_rss: adblock_rss.checked_sub(baseline_rss),
        });
    }

    print_table(&rows);
    println!();
    println!(
        "adblock-rust requests are `{ADBLOCK_REQUEST_TYPE}` GETs whose source URL is the URL itself. \
         Per-URL latency: each URL timed alone with `Instant` ({PASSES} passes of {STREAM_LEN} URLs per engine after a \
         warm-up pass, the engines taking turns every {CHUNK} URLs); timer overhead (an empty timed block, p50) is {timer_ns} ns and is included. Mean: a \
         whole pass timed at once, divided by the number of URLs. Load: median of {LOADS} loads from a file in \
         the page cache. Peak RSS: child's VmHWM minus a baseline child's ({}). Load average (1, 5, 15 min) at \
         start: {loadavg_start}; at end: {}.",
        mib(baseline_rss),
        loadavg()
    );
    for note in notes {
        println!("- {note}");
    }
    println!();
    println!(
        "Where the per-URL time goes (each stage timed alone per URL, same method, timer overhead included):"
    );
    println!();
    println!(
        "| size | Haven: canonicalise (p50 / p99) | Haven: match a parsed URL | adblock-rust: build `Request` | adblock-rust: match a built `Request` |"
    );
    println!("|---|---:|---:|---:|---:|");
    for line in breakdown {
        println!("{line}");
    }
    println!();
    for pair in rows.chunks(2) {
        if let [haven, adblock] = pair {
            println!(
                "- {}: Haven is {:.1}× faster at p50, {:.1}× at p99, {:.1}× on the mean; {:.1}× smaller compiled; \
                 loads {:.1}× faster",
                haven.size,
                adblock.p50_ns as f64 / haven.p50_ns.max(1) as f64,
                adblock.p99_ns as f64 / haven.p99_ns.max(1) as f64,
                adblock.mean_ns / haven.mean_ns.max(1e-9),
                adblock.compiled_bytes as f64 / haven.compiled_bytes.max(1) as f64,
                adblock.load.as_secs_f64() / haven.load.as_secs_f64().max(1e-12),
            );
        }
    }
    eprintln!("done in {:.1?}", started.elapsed());
    Ok(())
}

fn print_table(rows: &[Row]) {
    println!(
        "| engine | domains | build | compiled size (bytes) | bytes/domain | load | p50 / URL | p99 / URL | mean / URL | peak RSS |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {:.1} | {} | {} ns | {} ns | {:.0} ns | {} |",
            row.engine,
            row.size,
            duration(row.build),
            row.compiled_bytes,
            row.compiled_bytes as f64 / row.domains as f64,
            duration(row.load),
            row.p50_ns,
            row.p99_ns,
            row.mean_ns,
            row.peak_rss.map_or_else(|| "n/a".to_owned(), mib),
        );
    }
}

/// The first three fields of `/proc/loadavg`: other work on the machine disturbs the timings.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The median of `n` timed runs of `f`.
fn median_duration<E: Error + 'static>(
    n: usize,
    mut f: impl FnMut() -> std::result::Result<(), E>,
) -> Result<Duration> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed());
    }
    times.sort_unstable();
    Ok(times.get(n / 2).copied().unwrap_or_default())
}

/// One markdown row: p50 / p99 of each engine's two stages, parsing and matching, timed separately.
fn stage_breakdown(
    label: &str,
    urls: &[String],
    haven: &haven_core::url::UrlEngine,
    adblock: &adblock::Engine,
) -> String {
    use haven_core::url::CanonicalUrl;
    let parsed: Vec<CanonicalUrl> = urls
        .iter()
        .filter_map(|u| CanonicalUrl::parse(u).ok())
        .collect();
    let requests: Vec<adblock::request::Request> =
        urls.iter().filter_map(|u| adblock_request(u)).collect();
    let haven_parse = latencies(urls, |u| CanonicalUrl::parse(u).is_ok());
    let haven_match = latencies(&parsed, |u| !haven.check(u).is_empty());
    let adblock_parse = latencies(urls, |u| adblock_request(u).is_some());
    let adblock_match = latencies(&requests, |r| {
        adblock.check_network_request(r).should_block()
    });
    let cell = |(p50, p99): (u64, u64)| format!("{p50} / {p99} ns");
    format!(
        "| {label} | {} | {} | {} | {} |",
        cell(haven_parse),
        cell(haven_match),
        cell(adblock_parse),
        cell(adblock_match)
    )
}

/// p50 and p99 of the per-item time in nanoseconds, each item timed on its own.
fn latencies<T: ?Sized, U: std::borrow::Borrow<T>>(
    urls: &[U],
    mut blocked: impl FnMut(&T) -> bool,
) -> (u64, u64) {
    for url in urls {
        black_box(blocked(black_box(url.borrow())));
    }
    let mut times: Vec<u64> = Vec::with_capacity(urls.len() * PASSES);
    for _ in 0..PASSES {
        for url in urls {
            let t = Instant::now();
            black_box(blocked(black_box(url.borrow())));
            times.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
        }
    }
    times.sort_unstable();
    (percentile(&times, 50.0), percentile(&times, 99.0))
}

/// Mean per-URL time in nanoseconds of two engines over whole passes timed at once (no per-URL timer), the
/// engines' passes alternating so that both see the same machine conditions.
fn paired_bulk_mean_ns(
    urls: &[String],
    mut first: impl FnMut(&str) -> bool,
    mut second: impl FnMut(&str) -> bool,
) -> [f64; 2] {
    let mut total = [Duration::ZERO; 2];
    for _ in 0..PASSES {
        let t = Instant::now();
        for url in urls {
            black_box(first(black_box(url)));
        }
        total[0] += t.elapsed();
        let t = Instant::now();
        for url in urls {
            black_box(second(black_box(url)));
        }
        total[1] += t.elapsed();
    }
    total.map(|t| t.as_nanos() as f64 / (PASSES * urls.len()).max(1) as f64)
}

/// URLs one engine runs before the other takes its turn, in the paired latency measurement.
const CHUNK: usize = 500;

/// p50 and p99 of two engines' per-URL times in nanoseconds, each URL timed on its own. The engines take turns
/// every [`CHUNK`] URLs (the order swapped every pass), so that both see the same machine conditions (this VM's
/// speed drifts by tens of percent from second to second) while each keeps its data in the caches for a while,
/// as in use.
fn paired_latencies(
    urls: &[String],
    mut first: impl FnMut(&str) -> bool,
    mut second: impl FnMut(&str) -> bool,
) -> [(u64, u64); 2] {
    let mut times: [Vec<u64>; 2] = [
        Vec::with_capacity(urls.len() * PASSES),
        Vec::with_capacity(urls.len() * PASSES),
    ];
    let mut run = |which: usize, chunk: &[String], record: bool, times: &mut [Vec<u64>; 2]| {
        for url in chunk {
            let t = Instant::now();
            let blocked = if which == 0 {
                first(black_box(url))
            } else {
                second(black_box(url))
            };
            let elapsed = t.elapsed();
            black_box(blocked);
            if let Some(times) = times.get_mut(which).filter(|_| record) {
                times.push(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX));
            }
        }
    };
    // A warm-up pass, then the timed passes.
    for pass in 0..=PASSES {
        let order = if pass % 2 == 0 { [0, 1] } else { [1, 0] };
        for chunk in urls.chunks(CHUNK) {
            for which in order {
                run(which, chunk, pass > 0, &mut times);
            }
        }
    }
    times.map(|mut times| {
        times.sort_unstable();
        (percentile(&times, 50.0), percentile(&times, 99.0))
    })
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted.get(rank).copied().unwrap_or_default()
}

/// p50 of an empty timed block: what `Instant` itself costs per measurement.
fn timer_overhead_ns() -> u64 {
    let mut times: Vec<u64> = (0..100_000)
        .map(|i| {
            let t = Instant::now();
            black_box(i);
            u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX)
        })
        .collect();
    times.sort_unstable();
    percentile(&times, 50.0)
}

/// Runs a child process that loads `engine` at `size` and runs the stream; its peak RSS in bytes.
fn rss_of_child(engine: &str, size: &str, dir: &Path) -> Result<u64> {
    let output = Command::new(std::env::current_exe()?)
        .arg("--child")
        .arg(engine)
        .arg(size)
        .arg(dir)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "child {engine} {size} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    let text = String::from_utf8(output.stdout)?;
    Ok(text
        .split_whitespace()
        .next()
        .ok_or("child printed nothing")?
        .parse()?)
}

/// Child mode: `ENGINE SIZE DIR`. Reads the URL stream of SIZE (the 100k stream for the baseline), loads the
/// engine (none for `baseline`), runs the stream twice, and prints its VmHWM in bytes and its block count.
fn child(args: &[String]) -> Result<()> {
    let [engine, size, dir] = args else {
        return Err("--child needs ENGINE SIZE DIR".into());
    };
    let dir = PathBuf::from(dir);
    let stream_size = if engine == "baseline" {
        SIZES.first().map_or("100k", |(label, _)| label)
    } else {
        size
    };
    let urls_path = dir.join(format!("urls-{stream_size}.txt"));
    let text = std::fs::read_to_string(&urls_path).map_err(|e| BenchError::Io(urls_path, e))?;
    let urls: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut blocked = 0usize;
    match engine.as_str() {
        "baseline" => {}
        "haven" => {
            let haven = haven_load(&dir.join(format!("haven-{size}.hvl")))?;
            for _ in 0..2 {
                blocked = urls.iter().filter(|u| haven_blocked(&haven, u)).count();
            }
        }
        "adblock" => {
            let adblock = adblock_load(&dir.join(format!("adblock-{size}.dat")))?;
            for _ in 0..2 {
                blocked = urls.iter().filter(|u| adblock_blocked(&adblock, u)).count();
            }
        }
        other => return Err(format!("unknown engine {other}").into()),
    }
    let hwm = proc_status_bytes("VmHWM").ok_or("no VmHWM in /proc/self/status")?;
    println!("{hwm} {blocked}");
    Ok(())
}
