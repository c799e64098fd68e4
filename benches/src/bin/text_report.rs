//! Haven's text engine side by side with `rustrict` 0.7 on the same corpora, in one run: throughput in MB/s for
//! check and for mask, and recall and false positives on the shared evasion / false-positive table in
//! `fixtures/text/`. Prints markdown tables.
//!
//! Run with `cargo run --release -p haven-benches --bin text_report` after `scripts/fetch-corpus.sh`
//! (`--rounds N` sets the timed rounds per engine and operation; the median round is reported).

// This binary's whole purpose is to print a report to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use haven_benches::text::{
    Corpus, HavenText, Row, chat, kjv, rustrict_check, rustrict_mask, table,
};
use haven_core::i18n::Language;
use haven_core::text::Normalized;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> ExitCode {
    let mut rounds = 5usize;
    let mut haven_only = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next().and_then(|v| v.parse().ok())) {
            ("--rounds", Some(n)) if n > 0 => rounds = n,
            // For profiling Haven alone: `--haven-only N` times N rounds of Haven's stages (normalise, scan, check,
            // mask) and prints their throughput, no report.
            ("--haven-only", Some(n)) if n > 0 => {
                rounds = n;
                haven_only = true;
            }
            _ => {
                eprintln!("usage: text_report [--rounds N | --haven-only N]");
                return ExitCode::FAILURE;
            }
        }
    }
    let outcome = if haven_only {
        profile_haven(rounds)
    } else {
        report(rounds)
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("text_report: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One timed pass of `f` over every message of the corpus.
fn pass<F: FnMut(&str)>(corpus: &Corpus, f: &mut F) -> Duration {
    let start = Instant::now();
    for m in &corpus.messages {
        f(m);
    }
    start.elapsed()
}

/// The median of `rounds` timed passes of `f` over the corpus (after one warm-up pass).
fn time<F: FnMut(&str)>(corpus: &Corpus, rounds: usize, mut f: F) -> Duration {
    pass(corpus, &mut f);
    let mut times: Vec<Duration> = (0..rounds).map(|_| pass(corpus, &mut f)).collect();
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}

/// Haven and rustrict timed in alternating passes (one warm-up pass each, then `rounds` of each, interleaved, so
/// that drift in the machine's speed hits both alike); the median pass of each.
fn time_pair<F: FnMut(&str), G: FnMut(&str)>(
    corpus: &Corpus,
    rounds: usize,
    mut haven: F,
    mut peer: G,
) -> (Duration, Duration) {
    pass(corpus, &mut haven);
    pass(corpus, &mut peer);
    let (mut h, mut p) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        h.push(pass(corpus, &mut haven));
        p.push(pass(corpus, &mut peer));
    }
    h.sort();
    p.sort();
    let median = |v: &[Duration]| v.get(v.len() / 2).copied().unwrap_or_default();
    (median(&h), median(&p))
}

fn mb_per_s(corpus: &Corpus, t: Duration) -> f64 {
    corpus.bytes() as f64 / 1e6 / t.as_secs_f64().max(1e-12)
}

fn profile_haven(rounds: usize) -> Result<()> {
    let start = Instant::now();
    let haven = HavenText::new(Language::En)?;
    eprintln!(
        "built-in lexicons parsed and compiled in {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    for corpus in [kjv()?, chat(1 << 20)?] {
        let check = time(&corpus, rounds, |m| {
            black_box(haven.check(black_box(m)));
        });
        let mask = time(&corpus, rounds, |m| {
            black_box(haven.mask(black_box(m)));
        });
        // The stages, each alone: normalising (the matching form and its offset map), normalising and scanning
        // the lexicons; `check` adds the verdict to the scan.
        let normalize = time(&corpus, rounds, |m| {
            black_box(Normalized::new(black_box(m)));
        });
        let scan = time(&corpus, rounds, |m| {
            black_box(haven.scan(black_box(m)));
        });
        eprintln!(
            "{}: normalise {:.1} MB/s, normalise + lexicon scan {:.1} MB/s, check {:.1} MB/s, mask {:.1} MB/s",
            corpus.name,
            mb_per_s(&corpus, normalize),
            mb_per_s(&corpus, scan),
            mb_per_s(&corpus, check),
            mb_per_s(&corpus, mask)
        );
    }
    Ok(())
}

fn report(rounds: usize) -> Result<()> {
    let corpora = [kjv()?, chat(1 << 20)?];
    let haven = HavenText::new(Language::En)?;

    println!(
        "### Throughput (median of {rounds} passes each, Haven and rustrict alternating, one message at a time, one thread)\n"
    );
    println!(
        "| corpus | messages | MB | operation | Haven MB/s | rustrict MB/s | Haven / rustrict |"
    );
    println!("|---|---:|---:|---|---:|---:|---:|");
    for corpus in &corpora {
        let mb = corpus.bytes() as f64 / 1e6;
        let check = time_pair(
            corpus,
            rounds,
            |m| {
                black_box(haven.check(black_box(m)));
            },
            |m| {
                black_box(rustrict_check(black_box(m)));
            },
        );
        let mask = time_pair(
            corpus,
            rounds,
            |m| {
                black_box(haven.mask(black_box(m)));
            },
            |m| {
                black_box(rustrict_mask(black_box(m)));
            },
        );
        let scan = time_pair(
            corpus,
            rounds,
            |m| {
                black_box(haven.scan(black_box(m)));
            },
            |m| {
                black_box(rustrict_check(black_box(m)));
            },
        );
        let ops = [
            (
                "check (Haven `check_text`, rustrict `is_inappropriate`)",
                check.0,
                check.1,
            ),
            (
                "mask (Haven `mask_text`, rustrict `censor`)",
                mask.0,
                mask.1,
            ),
            (
                "lexicon stage alone (Haven `scan`) vs rustrict `is_inappropriate`",
                scan.0,
                scan.1,
            ),
        ];
        for (name, h, r) in ops {
            let (hm, rm) = (mb_per_s(corpus, h), mb_per_s(corpus, r));
            println!(
                "| {} | {} | {mb:.2} | {name} | {hm:.1} | {rm:.2} | {:.1}× |",
                corpus.name,
                corpus.messages.len(),
                hm / rm
            );
        }
    }

    let rows = table()?;
    let havens: BTreeMap<Language, HavenText> = Language::ALL
        .iter()
        .map(|&l| HavenText::new(l).map(|h| (l, h)))
        .collect::<std::result::Result<_, _>>()?;
    let mut per_language: BTreeMap<Language, Counts> = BTreeMap::new();
    let mut per_class: BTreeMap<String, Counts> = BTreeMap::new();
    for row in &rows {
        let Some(haven) = havens.get(&row.language) else {
            continue;
        };
        let h = haven.scan(&row.text);
        let r = rustrict_check(&row.text);
        per_language.entry(row.language).or_default().add(row, h, r);
        if row.language == Language::En {
            per_class
                .entry(row.class.clone())
                .or_default()
                .add(row, h, r);
        }
    }
    println!(
        "\n### Shared table: `fixtures/text/evasion.tsv` + `fixtures/text/innocent.tsv` ({} rows)\n",
        rows.len()
    );
    println!(
        "Flagged = Haven: any lexicon match for the row's language; rustrict: `is_inappropriate`.\n"
    );
    println!(
        "| language | should flag | Haven recall | rustrict recall | innocent | Haven false positives | rustrict false positives |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut total = Counts::default();
    for (language, c) in &per_language {
        println!("{}", c.line(language.code()));
        total.merge(c);
    }
    println!("{}", total.line("**all**"));
    println!("\nEnglish rows by evasion class:\n");
    println!(
        "| class | should flag | Haven recall | rustrict recall | innocent | Haven false positives | rustrict false positives |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (class, c) in &per_class {
        println!("{}", c.line(class));
    }
    Ok(())
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    bad: usize,
    haven_hits: usize,
    rustrict_hits: usize,
    innocent: usize,
    haven_fp: usize,
    rustrict_fp: usize,
}

impl Counts {
    fn add(&mut self, row: &Row, haven: bool, rustrict: bool) {
        if row.bad {
            self.bad += 1;
            self.haven_hits += usize::from(haven);
            self.rustrict_hits += usize::from(rustrict);
        } else {
            self.innocent += 1;
            self.haven_fp += usize::from(haven);
            self.rustrict_fp += usize::from(rustrict);
        }
    }

    fn merge(&mut self, o: &Counts) {
        self.bad += o.bad;
        self.haven_hits += o.haven_hits;
        self.rustrict_hits += o.rustrict_hits;
        self.innocent += o.innocent;
        self.haven_fp += o.haven_fp;
        self.rustrict_fp += o.rustrict_fp;
    }

    fn line(&self, name: &str) -> String {
        let pct = |n: usize, d: usize| {
            if d == 0 {
                "–".to_owned()
            } else {
                format!("{n} ({:.1} %)", 100.0 * n as f64 / d as f64)
            }
        };
        format!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            self.bad,
            pct(self.haven_hits, self.bad),
            pct(self.rustrict_hits, self.bad),
            self.innocent,
            pct(self.haven_fp, self.innocent),
            pct(self.rustrict_fp, self.innocent)
        )
    }
}
