//! `haven lists` and `haven url`: compiling and inspecting block lists, canonicalising URLs.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use haven_core::Category;
use haven_core::url::compiled::{self, CompiledMeta};
use haven_core::url::list::{ListFormat, ListOptions, ParseMode, ParsedList};
use haven_core::url::{
    CanonicalUrl, CompiledList, UrlEngine, lookup_expressions, registrable_domain,
};
use sha2::{Digest, Sha256};

use crate::{Failure, write_failure};

#[derive(Subcommand)]
pub(crate) enum ListsCommand {
    /// Compile a list into the fast form: a URL list (plain domains, hosts file, Adblock domain rules or URL
    /// prefixes) to `.hvl`, or a hash list (plain hex, CSV, ThreatExchange signals) when OUT ends in `.hvh`.
    Compile(CompileArgs),
    /// Check compiled lists and show their id, category, version, entry counts and checksum.
    Info {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Compiled list files (.hvl).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Args)]
pub(crate) struct CompileArgs {
    /// The list to compile.
    input: PathBuf,
    /// Where to write the compiled list (conventionally ending in .hvl).
    #[arg(short, long)]
    output: PathBuf,
    /// The list's syntax: domains, hosts, adblock or url-prefix (default: the list's header, else detected).
    #[arg(long)]
    format: Option<String>,
    /// List id (default: the list's `# id:` header).
    #[arg(long)]
    id: Option<String>,
    /// Category of every entry, e.g. gambling (default: the list's `# category:` header).
    #[arg(long)]
    category: Option<String>,
    /// The list's version (default: the list's `# version:` header).
    #[arg(long = "list-version")]
    list_version: Option<String>,
    /// Where the list comes from (default: the list's `# provenance:` header).
    #[arg(long)]
    provenance: Option<String>,
    /// Skip and count bad lines instead of rejecting the list at the first one.
    #[arg(long)]
    lenient: bool,
    /// Hash lists: the type of every hash of a plain list (md5, sha1, blake3, pdq).
    #[arg(long = "type")]
    kind: Option<String>,
    /// A domain list whose exact entries are removed from this list (general platforms a list blocks whole).
    #[arg(long)]
    exclude: Option<PathBuf>,
}

/// `haven url …`.
#[derive(Subcommand)]
pub(crate) enum UrlCommand {
    /// Print a URL in Safe Browsing canonical form.
    Canon {
        /// Also print the registrable domain and the Safe Browsing lookup expressions.
        #[arg(long)]
        expressions: bool,
        /// The URL.
        url: String,
    },
}

pub(crate) fn run_lists(command: ListsCommand, out: &mut impl Write) -> Result<u8, Failure> {
    match command {
        ListsCommand::Compile(args) => compile(args, out),
        ListsCommand::Info { json, files } => {
            for file in files {
                if crate::hashes::is_hash_list(&file) && !json {
                    let list = haven_core::hash::CompiledHashList::open(&file)
                        .map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
                    crate::hashes::write_hash_info(out, &file, &list).map_err(write_failure)?;
                    continue;
                }
                let list = CompiledList::open(&file)
                    .map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
                if json {
                    writeln!(out, "{}", info_json(&file, &list)).map_err(write_failure)?;
                } else {
                    write_info(out, &file, &list).map_err(write_failure)?;
                }
            }
            Ok(0)
        }
    }
}

pub(crate) fn run_url(command: UrlCommand, out: &mut impl Write) -> Result<u8, Failure> {
    match command {
        UrlCommand::Canon { expressions, url } => {
            let canonical = CanonicalUrl::parse(&url).map_err(Failure::input)?;
            writeln!(out, "{canonical}").map_err(write_failure)?;
            if expressions {
                let domain = registrable_domain(canonical.host());
                writeln!(
                    out,
                    "registrable domain: {}",
                    domain.as_deref().unwrap_or("(none)")
                )
                .map_err(write_failure)?;
                for expression in lookup_expressions(&canonical) {
                    writeln!(out, "  {expression}").map_err(write_failure)?;
                }
            }
            Ok(0)
        }
    }
}

fn compile(args: CompileArgs, out: &mut impl Write) -> Result<u8, Failure> {
    if crate::hashes::is_hash_list(&args.output) {
        return crate::hashes::compile_hash_list(
            crate::hashes::HashCompile {
                input: &args.input,
                output: &args.output,
                format: args.format.as_deref(),
                kind: args.kind.as_deref(),
                id: args.id,
                version: args.list_version,
                provenance: args.provenance,
                lenient: args.lenient,
            },
            out,
        );
    }
    let bytes = std::fs::read(&args.input).map_err(|e| {
        Failure::input(format!(
            "{}: cannot read ({})",
            args.input.display(),
            e.kind()
        ))
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::input(format!("{}: not UTF-8 text", args.input.display())))?;
    let options = ListOptions {
        id: args.id,
        category: args
            .category
            .as_deref()
            .map(str::parse::<Category>)
            .transpose()
            .map_err(|_| Failure::input("unknown category (see `haven policy`)"))?,
        version: args.list_version,
        provenance: args.provenance,
        format: args
            .format
            .as_deref()
            .map(str::parse::<ListFormat>)
            .transpose()
            .map_err(|_| {
                Failure::input("unknown format (use domains, hosts, adblock or url-prefix)")
            })?,
        mode: if args.lenient {
            ParseMode::Lenient
        } else {
            ParseMode::Strict
        },
    };
    let bar = progress_bar(text.len());
    let parsed = ParsedList::parse_with_progress(text, &options, |done| {
        if let Some(bar) = &bar {
            bar.set_position(done as u64);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut parsed =
        parsed.map_err(|e| Failure::input(format!("{}: {e}", args.input.display())))?;
    parsed.set_source_sha256(hex(&Sha256::digest(&bytes)));
    if let Some(path) = &args.exclude {
        let exclusions = ParsedList::from_path(
            path,
            &ListOptions {
                id: Some("exclusions".into()),
                category: Some(parsed.meta().category),
                version: Some("-".into()),
                format: Some(ListFormat::Domains),
                ..ListOptions::default()
            },
        )
        .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
        parsed.exclude(&exclusions);
    }
    let compiled = compiled::compile(&parsed);
    compiled::write_atomically(&args.output, &compiled).map_err(|e| {
        Failure::other(format!(
            "{}: cannot write ({})",
            args.output.display(),
            e.kind()
        ))
    })?;
    let list = CompiledList::from_bytes(compiled)
        .map_err(|e| Failure::other(format!("compiled list does not read back: {e}")))?;
    write_info(out, &args.output, &list).map_err(write_failure)?;
    let report = parsed.report();
    for problem in &report.problems {
        writeln!(out, "  skipped line {}: {}", problem.line, problem.problem)
            .map_err(write_failure)?;
    }
    if report.skipped > report.problems.len() {
        writeln!(
            out,
            "  … and {} more skipped lines",
            report.skipped - report.problems.len()
        )
        .map_err(write_failure)?;
    }
    Ok(0)
}

/// A progress bar on stderr for lists over 4 MB, hidden when stderr is not a terminal.
fn progress_bar(total: usize) -> Option<indicatif::ProgressBar> {
    if total < 4 << 20 {
        return None;
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("parsing");
    Some(bar)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_info(out: &mut impl Write, path: &Path, list: &CompiledList) -> std::io::Result<()> {
    let CompiledMeta {
        list: meta,
        format,
        report,
        source_sha256,
    } = list.meta();
    let counts = list.counts();
    let entries = list.entry_count();
    writeln!(out, "{}", path.display())?;
    writeln!(out, "  id:         {}", meta.id)?;
    writeln!(out, "  category:   {}", meta.category)?;
    writeln!(out, "  version:    {}", meta.version)?;
    writeln!(out, "  format:     {format}")?;
    writeln!(
        out,
        "  entries:    {entries} (domains {}, url prefixes {}, exceptions {})",
        counts.domains,
        counts.expressions,
        counts.exception_domains + counts.exception_expressions
    )?;
    writeln!(
        out,
        "  lines:      {} read, {} comments, {} duplicates, {} ignored, {} skipped, {} excluded",
        report.lines,
        report.comments,
        report.duplicates,
        report.ignored,
        report.skipped,
        report.excluded
    )?;
    let per_entry = list.size_bytes() as f64 / entries.max(1) as f64;
    writeln!(
        out,
        "  size:       {} bytes ({per_entry:.2} bytes/entry)",
        list.size_bytes()
    )?;
    writeln!(out, "  checksum:   xxh3-64:{:016x}", list.checksum())?;
    if let Some(sha) = source_sha256 {
        writeln!(out, "  source:     sha256:{sha}")?;
    }
    if !meta.provenance.is_empty() {
        writeln!(out, "  provenance: {}", meta.provenance)?;
    }
    Ok(())
}

fn info_json(path: &Path, list: &CompiledList) -> String {
    let meta = list.meta();
    serde_json::json!({
        "path": path.display().to_string(),
        "id": meta.list.id,
        "category": meta.list.category,
        "version": meta.list.version,
        "provenance": meta.list.provenance,
        "format": meta.format,
        "entries": list.entry_count(),
        "counts": list.counts(),
        "report": meta.report,
        "size_bytes": list.size_bytes(),
        "checksum": format!("xxh3-64:{:016x}", list.checksum()),
        "source_sha256": meta.source_sha256,
    })
    .to_string()
}

/// The built-in seed lists plus every compiled list (`*.hvl`) in `dir`, in file-name order (as havend loads them).
pub(crate) fn engine_with(dir: Option<&Path>) -> Result<UrlEngine, Failure> {
    if let Some(dir) = dir
        && !dir.is_dir()
    {
        return Err(Failure::input(format!(
            "{}: cannot read lists (not a directory)",
            dir.display()
        )));
    }
    haven_daemon::state::load_lists(dir).map_err(Failure::input)
}
