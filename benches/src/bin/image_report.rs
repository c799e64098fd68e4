//! Per-image latency of Haven's image check, decode → verdict, for each image model, and the process's resident
//! memory: one markdown table.
//!
//! ```text
//! cargo run --release -p haven-benches --bin image_report -- [--threads N] [--iters N] [--budget SECONDS] [FILE...]
//! ```
//!
//! Run from the repository root after `scripts/fetch-models.sh` (the runtime and models are found at their
//! default paths, or through `HAVEN_ORT_DYLIB` / `HAVEN_MODELS_DIR`). Without files it measures a fixed set of
//! benign images: scikit-image photos (PNG and JPEG, 303×384 to 872×1000) and a generated 300×200 PNG. Each model
//! is measured in its own child process, so that each memory figure is that model's alone. Per image: one
//! untimed warm-up call, then up to `--iters` calls or `--budget` seconds (at least 10 calls), each timed in
//! parts (decode with EXIF orientation, preprocessing, inference) and end to end (`check_bytes` + the policy
//! decision, what `Haven::check_image` does without hash lists); p50 and p99 are nearest-rank.

// This binary's whole purpose is to print a report to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use haven_core::Haven;
use haven_core::classify::manifest::Preprocessing;
use haven_core::classify::{BuiltinModel, ClassifierConfig, ImageClassifier, preprocess};
use haven_core::hash::image::{DecodeLimits, decode_oriented};
use haven_core::policy::{AgeTier, Profile};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const USAGE: &str =
    "usage: image_report [--threads N] [--iters N] [--budget SECONDS] [--model ID] [FILE...]";

const DEFAULT_IMAGES: [&str; 5] = [
    "fixtures/images/gradient-300x200.png",
    ".haven/testdata/skimage/astronaut.png",
    ".haven/testdata/skimage/coffee.png",
    ".haven/testdata/skimage/rocket.jpg",
    ".haven/testdata/skimage/hubble_deep_field.jpg",
];

struct Options {
    threads: usize,
    iters: usize,
    budget: Duration,
    model: Option<BuiltinModel>,
    files: Vec<PathBuf>,
}

fn options() -> Result<Options> {
    let mut options = Options {
        threads: 2,
        iters: 200,
        budget: Duration::from_secs(10),
        model: None,
        files: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(USAGE);
        match arg.as_str() {
            "--threads" => options.threads = value()?.parse()?,
            "--iters" => options.iters = value()?.parse()?,
            "--budget" => options.budget = Duration::from_secs_f64(value()?.parse()?),
            "--model" => options.model = Some(value()?.parse()?),
            "-h" | "--help" => return Err(USAGE.into()),
            _ => options.files.push(PathBuf::from(arg)),
        }
    }
    if options.files.is_empty() {
        options.files = DEFAULT_IMAGES.iter().map(PathBuf::from).collect();
    }
    Ok(options)
}

/// p50 and p99 (nearest rank) in milliseconds.
fn percentiles(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort_unstable();
    let rank = |p: f64| {
        let n = samples.len();
        let i = ((p * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
        samples.get(i).map_or(f64::NAN, |d| d.as_secs_f64() * 1e3)
    };
    (rank(0.50), rank(0.99))
}

/// VmRSS and VmHWM of this process, in MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn measure(model: BuiltinModel, options: &Options) -> Result<()> {
    let (rss_start, _) = memory();
    let config = ClassifierConfig {
        model,
        intra_threads: options.threads,
        sessions: 1,
        ..ClassifierConfig::default()
    };
    let loading = Instant::now();
    let classifier = ImageClassifier::load(&config)?;
    let load_ms = loading.elapsed().as_secs_f64() * 1e3;
    let (rss_loaded, _) = memory();
    let haven = Haven::new();
    let profile = Profile::new("bench", AgeTier::Age9To12)?;
    let how = classifier.manifest().preprocessing.clone();
    let limits = DecodeLimits::default();
    for file in &options.files {
        let bytes = std::fs::read(file)?;
        let image = decode_oriented(&bytes, &limits)?;
        let (w, h) = (image.width(), image.height());
        // Warm-up.
        black_box(classifier.check_bytes(&bytes, profile.tier())?);
        let (mut decode, mut pre, mut infer, mut total) = (vec![], vec![], vec![], vec![]);
        let started = Instant::now();
        while total.len() < options.iters
            && (total.len() < 10 || started.elapsed() < options.budget)
        {
            let t0 = Instant::now();
            let image = decode_oriented(black_box(&bytes), &limits)?;
            let t1 = Instant::now();
            let input = match &how {
                Preprocessing::OpenNsfw => preprocess::open_nsfw(&image.to_rgb8())?,
                Preprocessing::Nsfwjs { size } => preprocess::nsfwjs(&image.to_rgb8(), *size),
                _ => return Err("unknown preprocessing".into()),
            };
            let t2 = Instant::now();
            black_box(classifier.classify_tensor(&input)?);
            let t3 = Instant::now();
            let findings = classifier.check_bytes(black_box(&bytes), profile.tier())?;
            black_box(haven.decide(&profile, findings));
            let t4 = Instant::now();
            decode.push(t1 - t0);
            pre.push(t2 - t1);
            infer.push(t3 - t2);
            total.push(t4 - t3);
        }
        let cell = |samples: &mut Vec<Duration>| {
            let (p50, p99) = percentiles(samples);
            format!("{p50:.2} / {p99:.2}")
        };
        let name = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        println!(
            "| {} | {name} | {w}×{h} | {} | {} | {} | {} | **{}** |",
            model.id(),
            total.len(),
            cell(&mut decode),
            cell(&mut pre),
            cell(&mut infer),
            cell(&mut total),
        );
    }
    let (rss_end, hwm) = memory();
    eprintln!(
        "{}: load {load_ms:.0} ms; RSS {rss_start:.1} MiB before loading, {rss_loaded:.1} after, {rss_end:.1} \
         after the run, peak {hwm:.1}",
        model.id()
    );
    println!(
        "| {} | memory | | | RSS {rss_start:.0} → {rss_loaded:.0} MiB loaded → {rss_end:.0} MiB after the run, \
         peak {hwm:.0} MiB | load {load_ms:.0} ms | | |",
        model.id()
    );
    Ok(())
}

fn run() -> Result<()> {
    let options = options()?;
    if let Some(model) = options.model {
        return measure(model, &options);
    }
    println!(
        "| model | image | size | calls | decode p50 / p99 ms | preprocess | inference | decode → verdict |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let exe = std::env::current_exe()?;
    for model in BuiltinModel::ALL {
        // Each model in its own process: its memory figures are its own.
        let status = Command::new(&exe)
            .args(std::env::args().skip(1))
            .args(["--model", model.id()])
            .status()?;
        if !status.success() {
            return Err(format!("{} failed", model.id()).into());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("image_report: {e}");
            ExitCode::FAILURE
        }
    }
}
