//! `haven hash …` and compiling hash lists: PDQ and exact hashes of images, and matching them against lists.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use haven_core::hash::compiled::{self, CompiledHashList};
use haven_core::hash::image::{DecodeLimits, decode};
use haven_core::hash::list::{HashKind, HashListFormat, HashListOptions, ParsedHashList, to_hex};
use haven_core::hash::pdq::{self, Resize};
use haven_core::hash::{FileDigests, HashEngine, HashOptions};
use haven_core::url::ParseMode;

use crate::{Failure, write_failure};

/// `haven hash …`.
#[derive(Subcommand)]
pub(crate) enum HashCommand {
    /// Print each image's PDQ hash and quality: `<hex> <quality> <path>`.
    Pdq {
        /// Downsample large images to 512 px first, like Meta's reference command-line tool.
        #[arg(long)]
        fast: bool,
        /// Image files (PNG, JPEG, WebP, GIF).
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Print each file's exact hashes: `<md5> <sha1> <blake3> <path>`.
    File {
        /// Files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Match images against a compiled hash list. Exit code 2 if any image matches, 0 if none.
    Match {
        /// A compiled hash list (.hvh).
        #[arg(long)]
        list: PathBuf,
        /// Largest PDQ distance that matches.
        #[arg(long, default_value_t = 31)]
        radius: u32,
        /// Also match the images' rotations and mirror images.
        #[arg(long)]
        dihedral: bool,
        /// Downsample large images to 512 px before PDQ hashing.
        #[arg(long)]
        fast: bool,
        /// Image files.
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
}

fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(path)
        .map_err(|e| Failure::input(format!("{}: cannot read ({})", path.display(), e.kind())))
}

pub(crate) fn run_hash(command: HashCommand, out: &mut impl Write) -> Result<u8, Failure> {
    match command {
        HashCommand::Pdq { fast, images } => {
            let resize = if fast { Resize::Max512 } else { Resize::Full };
            for path in images {
                let image = decode(&read(&path)?, &DecodeLimits::default())
                    .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
                let result = pdq::hash_image(&image, resize)
                    .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
                writeln!(out, "{} {} {}", result.hash, result.quality, path.display())
                    .map_err(write_failure)?;
            }
            Ok(0)
        }
        HashCommand::File { files } => {
            for path in files {
                let d = FileDigests::of(&read(&path)?);
                writeln!(
                    out,
                    "{} {} {} {}",
                    to_hex(&d.md5),
                    to_hex(&d.sha1),
                    to_hex(&d.blake3),
                    path.display()
                )
                .map_err(write_failure)?;
            }
            Ok(0)
        }
        HashCommand::Match {
            list,
            radius,
            dihedral,
            fast,
            images,
        } => {
            let compiled = CompiledHashList::open(&list)
                .map_err(|e| Failure::input(format!("{}: {e}", list.display())))?;
            let engine = HashEngine::new()
                .with_list(compiled)
                .with_options(HashOptions {
                    radius,
                    dihedral,
                    fast,
                    ..HashOptions::default()
                });
            let mut any = false;
            for path in images {
                let matches = engine
                    .match_image(&read(&path)?)
                    .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
                if matches.is_empty() {
                    writeln!(out, "no match {}", path.display()).map_err(write_failure)?;
                }
                for m in &matches {
                    any = true;
                    let meta = &m.list.meta().list;
                    writeln!(
                        out,
                        "match {}@{} {} entry {} distance {} {}",
                        meta.id,
                        meta.version,
                        m.kind,
                        m.entry,
                        m.distance,
                        path.display()
                    )
                    .map_err(write_failure)?;
                }
            }
            Ok(if any { 2 } else { 0 })
        }
    }
}

/// `haven lists compile … -o OUT.hvh`: a hash list.
pub(crate) struct HashCompile<'a> {
    pub(crate) input: &'a Path,
    pub(crate) output: &'a Path,
    pub(crate) format: Option<&'a str>,
    pub(crate) kind: Option<&'a str>,
    pub(crate) id: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) provenance: Option<String>,
    pub(crate) lenient: bool,
}

pub(crate) fn compile_hash_list(
    args: HashCompile<'_>,
    out: &mut impl Write,
) -> Result<u8, Failure> {
    let options = HashListOptions {
        id: args.id,
        version: args.version,
        provenance: args.provenance,
        format: args
            .format
            .map(|f| {
                HashListFormat::from_name(f).ok_or_else(|| {
                    Failure::input("unknown hash list format (use plain, csv or signals)")
                })
            })
            .transpose()?,
        kind: args
            .kind
            .map(|k| {
                HashKind::from_name(k).ok_or_else(|| {
                    Failure::input("unknown hash type (use md5, sha1, blake3 or pdq)")
                })
            })
            .transpose()?,
        mode: if args.lenient {
            ParseMode::Lenient
        } else {
            ParseMode::Strict
        },
    };
    let parsed = ParsedHashList::from_path(args.input, &options)
        .map_err(|e| Failure::input(format!("{}: {e}", args.input.display())))?;
    let bytes = compiled::compile(&parsed);
    haven_core::url::compiled::write_atomically(args.output, &bytes).map_err(|e| {
        Failure::other(format!(
            "{}: cannot write ({})",
            args.output.display(),
            e.kind()
        ))
    })?;
    let list = CompiledHashList::from_bytes(bytes)
        .map_err(|e| Failure::other(format!("compiled list does not read back: {e}")))?;
    write_hash_info(out, args.output, &list).map_err(write_failure)?;
    Ok(0)
}

pub(crate) fn write_hash_info(
    out: &mut impl Write,
    path: &Path,
    list: &CompiledHashList,
) -> std::io::Result<()> {
    let meta = list.meta();
    let r = &meta.report;
    writeln!(out, "{}", path.display())?;
    writeln!(out, "  id:         {}", meta.list.id)?;
    writeln!(out, "  category:   known_abuse")?;
    writeln!(out, "  version:    {}", meta.list.version)?;
    writeln!(
        out,
        "  entries:    md5 {}, sha1 {}, blake3 {}, pdq {}",
        list.count(HashKind::Md5),
        list.count(HashKind::Sha1),
        list.count(HashKind::Blake3),
        list.count(HashKind::Pdq)
    )?;
    writeln!(
        out,
        "  lines:      {} read, {} comments, {} duplicates, {} skipped",
        r.lines, r.comments, r.duplicates, r.skipped
    )?;
    writeln!(out, "  size:       {} bytes", list.size_bytes())?;
    writeln!(out, "  checksum:   xxh3-64:{:016x}", list.checksum())?;
    writeln!(out, "  provenance: {}", meta.list.provenance)
}

/// Whether a path names a compiled hash list.
pub(crate) fn is_hash_list(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "hvh")
}
