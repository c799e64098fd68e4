//! Haven's image decoding and PDQ hashing side by side with the PyPI `pdqhash` reference (Meta's C++ PDQ code on
//! Pillow-decoded pixels), on the same files in one run: one markdown table of times per image and one of the
//! agreement between the hashes.
//!
//! ```text
//! cargo run --release -p haven-benches --bin pdq_report -- \
//!     --python /tmp/pdqvenv/bin/python --make /tmp/haven-pdq-images [FILE...]
//! ```
//!
//! `--make DIR` has `benches/pdq_reference.py` write the generated test images (a 1024×768 and a 4000×3000 JPEG,
//! a 1024×768 PNG) to DIR first; further files are measured as they are. Each file is read into memory once.
//! Both sides first decode and hash every file once, untimed (so that the allocator is warm, as in a process that
//! has been hashing images for a while: cold, the reference's first file paid ~1,800 page faults per PDQ call),
//! then time decode, PDQ and decode + PDQ separately: one warm-up call, then at least `--min-iters` and at most
//! `--iters` calls, stopping once `--budget` seconds have passed; medians and p90s are nearest-rank. The
//! reference runs first (a child process), then Haven, never both at once. Both are single-threaded: the `image`
//! crate is built without its `rayon` feature and Haven's PDQ spawns no threads; the report prints each side's
//! CPU time over wall time as a check.
//!
//! Agreement: the bit distance between Haven's hash ([`Resize::Full`]) and the binding's, on each side's own
//! decoding of the file and on exactly Pillow's pixels (the reference writes them as a lossless PNG), which
//! separates JPEG decoder differences from hashing differences.

// This binary's whole purpose is to print a report to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use haven_core::hash::PdqHash;
use haven_core::hash::image::{DecodeLimits, decode};
use haven_core::hash::pdq::{Resize, hash_image};
use serde_json::Value;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const USAGE: &str = "usage: pdq_report [--python PATH] [--iters N] [--min-iters N] [--budget SECONDS] \
                     [--make DIR] [FILE...]";

/// How many calls are timed per measurement.
#[derive(Debug, Clone, Copy)]
struct Plan {
    min_iters: usize,
    max_iters: usize,
    budget: Duration,
}

/// Median and p90 of one measurement, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Timing {
    median_ms: f64,
    p90_ms: f64,
}

impl Timing {
    fn cell(&self) -> String {
        format!("{:.2} ({:.2})", self.median_ms, self.p90_ms)
    }
}

/// What the reference script reported for one file.
#[derive(Debug)]
struct Reference {
    width: u64,
    height: u64,
    hash: PdqHash,
    quality: u64,
    decode: Timing,
    pdq: Timing,
    decode_pdq: Timing,
    pixels_png: PathBuf,
}

/// Haven's measurements for one file.
#[derive(Debug)]
struct Haven {
    hash: PdqHash,
    quality: u8,
    hash_max512: PdqHash,
    hash_on_pillow_pixels: PdqHash,
    quality_on_pillow_pixels: u8,
    decode: Timing,
    pdq: Timing,
    decode_pdq: Timing,
    decode_pdq_max512: Timing,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("pdq_report: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<()> {
    let mut python = PathBuf::from("python3");
    let mut plan = Plan {
        min_iters: 5,
        max_iters: 30,
        budget: Duration::from_secs(3),
    };
    let mut make = None;
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{arg} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--python" => python = PathBuf::from(value()?),
            "--iters" => plan.max_iters = value()?.parse()?,
            "--min-iters" => plan.min_iters = value()?.parse()?,
            "--budget" => plan.budget = Duration::from_secs_f64(value()?.parse()?),
            "--make" => make = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            flag if flag.starts_with("--") => {
                return Err(format!("unknown flag {flag}\n{USAGE}").into());
            }
            _ => files.push(PathBuf::from(arg)),
        }
    }
    plan.min_iters = plan.min_iters.max(1);
    plan.max_iters = plan.max_iters.max(plan.min_iters);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("pdq_reference.py");

    if let Some(dir) = &make {
        let output = Command::new(&python)
            .arg(&script)
            .arg("--make")
            .arg(dir)
            .stderr(Stdio::inherit())
            .output()?;
        if !output.status.success() {
            return Err(format!("{} --make failed: {}", script.display(), output.status).into());
        }
        let made: Vec<PathBuf> = String::from_utf8(output.stdout)?
            .lines()
            .map(PathBuf::from)
            .collect();
        files.splice(0..0, made);
    }
    if files.is_empty() {
        return Err(USAGE.into());
    }

    let dump = std::env::temp_dir().join(format!("haven-pdq-report-{}", std::process::id()));
    let outcome = report(&python, &script, &files, plan, &dump);
    // Best effort: the pixel dumps are scratch files.
    let _ = std::fs::remove_dir_all(&dump);
    outcome
}

fn report(python: &Path, script: &Path, files: &[PathBuf], plan: Plan, dump: &Path) -> Result<()> {
    eprintln!("pdqhash reference on {} files ...", files.len());
    let output = Command::new(python)
        .arg(script)
        .args(["--iters", &plan.max_iters.to_string()])
        .args(["--min-iters", &plan.min_iters.to_string()])
        .args(["--budget", &plan.budget.as_secs_f64().to_string()])
        .arg("--dump-png")
        .arg(dump)
        .args(files)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("{} failed: {}", script.display(), output.status).into());
    }
    let mut references = Vec::new();
    let mut summary = Value::Null;
    for line in String::from_utf8(output.stdout)?.lines() {
        let value: Value = serde_json::from_str(line)?;
        match value.get("summary") {
            Some(found) => summary = found.clone(),
            None => references.push(parse_reference(&value)?),
        }
    }
    if references.len() != files.len() {
        return Err(format!(
            "the reference reported {} of {} files",
            references.len(),
            files.len()
        )
        .into());
    }

    eprintln!("Haven on {} files ...", files.len());
    // One decode + PDQ of every file before anything is timed, as the reference script does: the allocator is then
    // in the state of a process that has been hashing images for a while, not paying the first file's page faults.
    for file in files {
        let image = decode(&std::fs::read(file)?, &DecodeLimits::default())?;
        black_box(hash_image(&image, Resize::Full)?);
    }
    let cpu_start = cpu_seconds();
    let wall_start = Instant::now();
    let mut havens = Vec::new();
    for (file, reference) in files.iter().zip(&references) {
        havens.push(measure(file, reference, plan)?);
    }
    let haven_cpu_per_wall = match (cpu_start, cpu_seconds()) {
        (Some(start), Some(end)) => Some((end - start) / wall_start.elapsed().as_secs_f64()),
        _ => None,
    };

    println!(
        "Median (p90) ms per image, single-threaded; speed-up = reference median / Haven median. PDQ = RGB pixels \
         to hash (Resize::Full; the binding's numpy luma conversion included).\n"
    );
    println!(
        "| image | pixels | bytes | Haven decode | Haven PDQ | Haven decode + PDQ | pdqhash decode | pdqhash PDQ \
         | pdqhash decode + PDQ | speed-up PDQ | speed-up decode + PDQ | Haven decode + PDQ, Max512 |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for ((file, reference), haven) in files.iter().zip(&references).zip(&havens) {
        println!(
            "| {} | {}×{} | {} | {} | {} | {} | {} | {} | {} | {:.1}× | {:.1}× | {} |",
            name(file),
            reference.width,
            reference.height,
            std::fs::metadata(file).map(|m| m.len()).unwrap_or_default(),
            haven.decode.cell(),
            haven.pdq.cell(),
            haven.decode_pdq.cell(),
            reference.decode.cell(),
            reference.pdq.cell(),
            reference.decode_pdq.cell(),
            reference.pdq.median_ms / haven.pdq.median_ms,
            reference.decode_pdq.median_ms / haven.decode_pdq.median_ms,
            haven.decode_pdq_max512.cell(),
        );
    }

    println!(
        "\nAgreement with the binding (bits of 256 that differ; quality Haven / binding). \"Pillow's pixels\": \
         Haven hashing exactly the RGB pixels Pillow decoded.\n"
    );
    println!(
        "| image | binding hash | distance, own decoders | distance, Pillow's pixels | distance, Max512 | quality |"
    );
    println!("|---|---|---:|---:|---:|---|");
    for ((file, reference), haven) in files.iter().zip(&references).zip(&havens) {
        println!(
            "| {} | `{}` | {} | {} | {} | {} / {} ({} on Pillow's pixels) |",
            name(file),
            reference.hash.to_hex(),
            haven.hash.distance(&reference.hash),
            haven.hash_on_pillow_pixels.distance(&reference.hash),
            haven.hash_max512.distance(&reference.hash),
            haven.quality,
            reference.quality,
            haven.quality_on_pillow_pixels,
        );
    }

    let field = |key: &str| summary.get(key).map(Value::to_string).unwrap_or_default();
    println!(
        "\nCPU time / wall time while timing: Haven {}, reference {}. Reference: Python {}, pdqhash {}, Pillow {} \
         (libjpeg-turbo {}, zlib {}), numpy {}; Haven: `image` 0.25 (zune-jpeg, png).",
        haven_cpu_per_wall.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}")),
        summary
            .get("cpu_per_wall")
            .and_then(Value::as_f64)
            .map_or_else(|| "n/a".to_owned(), |r| format!("{r:.2}")),
        field("python"),
        field("pdqhash"),
        field("pillow"),
        field("libjpeg_turbo"),
        field("zlib"),
        field("numpy"),
    );
    if let Some(threads) = thread_count() {
        println!("Haven's process ran {threads} thread(s) at the end.");
    }
    Ok(())
}

fn measure(file: &Path, reference: &Reference, plan: Plan) -> Result<Haven> {
    let limits = DecodeLimits::default();
    let bytes = std::fs::read(file)?;
    let image = decode(&bytes, &limits)?;
    let full = hash_image(&image, Resize::Full)?;
    let max512 = hash_image(&image, Resize::Max512)?;
    let pillow = decode(&std::fs::read(&reference.pixels_png)?, &limits)?;
    let on_pillow = hash_image(&pillow, Resize::Full)?;
    drop(pillow);

    // Errors cannot happen in the timed calls: the same calls succeeded just above.
    let decode_time = time_calls(plan, || decode(&bytes, &limits).is_ok());
    let pdq_time = time_calls(plan, || hash_image(&image, Resize::Full).is_ok());
    drop(image);
    let decode_pdq_time = time_calls(plan, || {
        decode(&bytes, &limits).map(|image| hash_image(&image, Resize::Full).is_ok())
    });
    let max512_time = time_calls(plan, || {
        decode(&bytes, &limits).map(|image| hash_image(&image, Resize::Max512).is_ok())
    });
    Ok(Haven {
        hash: full.hash,
        quality: full.quality,
        hash_max512: max512.hash,
        hash_on_pillow_pixels: on_pillow.hash,
        quality_on_pillow_pixels: on_pillow.quality,
        decode: decode_time,
        pdq: pdq_time,
        decode_pdq: decode_pdq_time,
        decode_pdq_max512: max512_time,
    })
}

/// Times `call` as the reference script does: one warm-up call, then `plan.min_iters` to `plan.max_iters` calls,
/// stopping once `plan.budget` has passed.
fn time_calls<T>(plan: Plan, mut call: impl FnMut() -> T) -> Timing {
    black_box(call());
    let mut samples = Vec::with_capacity(plan.max_iters);
    let start = Instant::now();
    loop {
        let t = Instant::now();
        black_box(call());
        samples.push(t.elapsed().as_secs_f64() * 1e3);
        if samples.len() >= plan.max_iters
            || (samples.len() >= plan.min_iters && start.elapsed() >= plan.budget)
        {
            break;
        }
    }
    samples.sort_by(f64::total_cmp);
    Timing {
        median_ms: nearest_rank(&samples, 50),
        p90_ms: nearest_rank(&samples, 90),
    }
}

/// The nearest-rank percentile of sorted samples (0 for none).
fn nearest_rank(sorted: &[f64], percent: usize) -> f64 {
    let rank = (sorted.len() * percent).div_ceil(100).max(1);
    sorted.get(rank - 1).copied().unwrap_or_default()
}

fn parse_reference(value: &Value) -> Result<Reference> {
    let text = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("reference output lacks {key}"))
    };
    let number = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("reference output lacks {key}"))
    };
    let timing = |key: &str| -> Result<Timing> {
        let ms = |field: &str| {
            value
                .get(key)
                .and_then(|t| t.get(field))
                .and_then(Value::as_f64)
                .ok_or_else(|| format!("reference output lacks {key}.{field}"))
        };
        Ok(Timing {
            median_ms: ms("median_ms")?,
            p90_ms: ms("p90_ms")?,
        })
    };
    Ok(Reference {
        width: number("width")?,
        height: number("height")?,
        hash: PdqHash::from_hex(text("hash")?)?,
        quality: number("quality")?,
        decode: timing("decode")?,
        pdq: timing("pdq")?,
        decode_pdq: timing("decode_pdq")?,
        pixels_png: PathBuf::from(text("pixels_png")?),
    })
}

fn name(file: &Path) -> String {
    file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// User + system CPU time of this process, from `/proc/self/stat` (Linux; clock ticks of 1/100 s).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces): state is field 3, utime 14,
    // stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: f64 = fields.next()?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// The number of threads of this process, from `/proc/self/status` (Linux).
fn thread_count() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}
