//! The compiled list: an immutable file of sorted 64-bit fingerprints that opens by memory-mapping.
//!
//! Layout (all integers little-endian), format version 1:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `HAVENURL` |
//! | 8 | 4 | format version (1) |
//! | 12 | 4 | header size (64) |
//! | 16 | 8 | checksum: XXH3-64 of every byte from offset 24 to the end |
//! | 24 | 4 | metadata size in bytes |
//! | 28 | 16 | entry count of the four sections: domains, expressions, exception domains, exception expressions |
//! | 44 | 4 | bucket-index bits of the four sections, one byte each |
//! | 48 | 16 | reserved, zero |
//! | 64 | … | metadata (JSON: id, category, version, provenance, format, report, source SHA-256), zero-padded to 8 |
//! | … | … | for each section: bucket index (2^bits + 1 u32 offsets), then the sorted u64 fingerprints |
//!
//! A fingerprint's top `bits` bits choose its bucket, and the index gives the bucket's start. The index has
//! one slot per 32 entries or so (1/8 byte per entry), small enough to stay in the CPU caches; within the
//! bucket the fingerprint's remaining bits, uniform like all of it, say where to look first, which is usually
//! the right cache line. So a lookup on a multi-million-entry list costs about one memory access.
//! Size: 8 bytes per entry plus the index and the header.
//!
//! Opening checks the magic, version, sizes, index and checksum; a corrupted or truncated file is a typed
//! [`CompiledListError`], never a panic or a wrong answer. Fingerprints are 64 bits, so a list of n entries
//! has a false-match probability of about n / 2^64 per lookup (10^-13 for 2 million entries).

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::list::{ListFormat, ListMeta, ParseReport, ParsedList, Sections};

const MAGIC: &[u8; 8] = b"HAVENURL";
/// The compiled format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_SIZE: usize = 64;
const SECTIONS: usize = 4;
/// Largest compiled file accepted (256 M entries would be 2 GiB; no list comes close).
const MAX_FILE_BYTES: u64 = 4 << 30;

/// Why a compiled list could not be opened. Corruption is always detected here, not at lookup time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompiledListError {
    /// The file does not start with the compiled-list magic: not a compiled list.
    #[error("not a compiled Haven list")]
    NotACompiledList,
    /// Written by a newer or older format this build cannot read.
    #[error("compiled list format {found} is not supported (this build reads {supported})")]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// Shorter than its header says: cut off while copying or downloading.
    #[error("compiled list is truncated")]
    Truncated,
    /// Sizes or offsets in the header or index contradict each other.
    #[error("compiled list is malformed")]
    Malformed,
    /// The checksum does not match the contents.
    #[error("compiled list checksum does not match its contents")]
    ChecksumMismatch,
    /// The file is larger than any list Haven would write.
    #[error("compiled list is too large")]
    TooLarge,
    /// The file could not be read.
    #[error("could not read the compiled list: {0}")]
    Io(std::io::ErrorKind),
}

/// Metadata stored in a compiled list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompiledMeta {
    /// The list's id, category, version and provenance.
    #[serde(flatten)]
    pub list: ListMeta,
    /// The syntax it was parsed from.
    pub format: ListFormat,
    /// How its lines were accounted for.
    pub report: ParseReport,
    /// SHA-256 of the source text, when the compiler recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_sha256: Option<String>,
}

/// How many entries of each kind a compiled list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct EntryCounts {
    /// Blocked domains (each with its subdomains).
    pub domains: usize,
    /// Blocked URL expressions (`host/path`).
    pub expressions: usize,
    /// Excepted domains.
    pub exception_domains: usize,
    /// Excepted URL expressions.
    pub exception_expressions: usize,
}

/// Compiles a parsed list into the on-disk form.
pub fn compile(list: &ParsedList) -> Vec<u8> {
    let meta = CompiledMeta {
        list: list.meta().clone(),
        format: list.format(),
        report: list.report().clone(),
        source_sha256: list.source_sha256().map(str::to_owned),
    };
    let meta_json = serde_json::to_vec(&meta).unwrap_or_default();
    let sections = section_slices(list.sections());
    let bits: [u8; SECTIONS] = sections.map(|s| index_bits(s.len()));

    let mut out = Vec::with_capacity(
        HEADER_SIZE
            + meta_json.len()
            + 8
            + sections.iter().map(|s| s.len() * 10 + 8).sum::<usize>(),
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(HEADER_SIZE as u32).to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // checksum, filled in below
    out.extend_from_slice(&len_u32(meta_json.len()).to_le_bytes());
    for section in &sections {
        out.extend_from_slice(&len_u32(section.len()).to_le_bytes());
    }
    out.extend_from_slice(&bits);
    out.resize(HEADER_SIZE, 0);
    out.extend_from_slice(&meta_json);
    out.resize(out.len().next_multiple_of(8), 0);
    for (section, bits) in sections.iter().zip(bits) {
        let buckets = 1usize << bits;
        let mut counts = vec![0u32; buckets + 1];
        for &fp in *section {
            if let Some(slot) = counts.get_mut(bucket(fp, bits) + 1) {
                *slot += 1;
            }
        }
        let mut running = 0u32;
        for slot in &mut counts {
            running += *slot;
            *slot = running;
        }
        for offset in counts {
            out.extend_from_slice(&offset.to_le_bytes());
        }
        out.resize(out.len().next_multiple_of(8), 0);
        for fp in *section {
            out.extend_from_slice(&fp.to_le_bytes());
        }
    }
    let checksum = xxhash_rust::xxh3::xxh3_64(out.get(24..).unwrap_or_default());
    if let Some(field) = out.get_mut(16..24) {
        field.copy_from_slice(&checksum.to_le_bytes());
    }
    out
}

/// Writes a compiled list atomically: to a temporary file beside `path`, then renamed over it, so that a
/// process that has the old file mapped keeps reading the old contents.
pub fn write_atomically(path: impl AsRef<Path>, bytes: &[u8]) -> std::io::Result<()> {
    let path = path.as_ref();
    let mut temp = path.as_os_str().to_owned();
    temp.push(format!(".tmp{}", std::process::id()));
    std::fs::write(&temp, bytes)?;
    std::fs::rename(&temp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

fn section_slices(sections: &Sections) -> [&[u64]; SECTIONS] {
    [
        &sections.domains,
        &sections.expressions,
        &sections.exception_domains,
        &sections.exception_expressions,
    ]
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// About one bucket per 32 entries, at most 2^24 buckets: an index small enough (1/8 byte per entry) to stay
/// in the CPU caches, with buckets short enough that interpolation lands on the right cache line.
fn index_bits(entries: usize) -> u8 {
    let buckets = (entries / 32).max(1);
    (usize::BITS - 1 - buckets.leading_zeros()).min(24) as u8
}

fn bucket(fp: u64, bits: u8) -> usize {
    if bits == 0 {
        0
    } else {
        usize::try_from(fp >> (64 - u32::from(bits))).unwrap_or(0)
    }
}

/// Where the bytes of an open list live.
pub(crate) enum Backing {
    Mapped(memmap2::Mmap),
    Owned(Box<[u8]>),
    Static(&'static [u8]),
}

impl Backing {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            Backing::Mapped(map) => map,
            Backing::Owned(bytes) => bytes,
            Backing::Static(bytes) => bytes,
        }
    }
}

/// One section's place in the file.
#[derive(Debug, Clone, Copy)]
struct Section {
    index_start: usize,
    bits: u8,
    start: usize,
    len: usize,
}

/// Which of a list's four sets to look in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SectionKind {
    Domains = 0,
    Expressions = 1,
    ExceptionDomains = 2,
    ExceptionExpressions = 3,
}

/// An open compiled list: immutable, cheap to share, safe to use from many threads.
pub struct CompiledList {
    backing: Backing,
    meta: CompiledMeta,
    checksum: u64,
    sections: [Section; SECTIONS],
}

impl fmt::Debug for CompiledList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompiledList")
            .field("meta", &self.meta)
            .field("checksum", &format_args!("{:016x}", self.checksum))
            .finish_non_exhaustive()
    }
}

impl CompiledList {
    /// Opens a compiled list by memory-mapping it, after checking its header, index and checksum.
    ///
    /// The file must not be modified in place while it is open; Haven itself replaces compiled lists with
    /// [`write_atomically`], which leaves open mappings on the old contents.
    pub fn open(path: impl AsRef<Path>) -> Result<CompiledList, CompiledListError> {
        let file = std::fs::File::open(path).map_err(|e| CompiledListError::Io(e.kind()))?;
        let size = file
            .metadata()
            .map_err(|e| CompiledListError::Io(e.kind()))?
            .len();
        if size > MAX_FILE_BYTES {
            return Err(CompiledListError::TooLarge);
        }
        if size < HEADER_SIZE as u64 {
            return Err(CompiledListError::Truncated);
        }
        let map = map_file(&file)?;
        CompiledList::from_backing(Backing::Mapped(map))
    }

    /// Opens a compiled list held in memory (read from elsewhere, or just compiled).
    pub fn from_bytes(bytes: impl Into<Box<[u8]>>) -> Result<CompiledList, CompiledListError> {
        CompiledList::from_backing(Backing::Owned(bytes.into()))
    }

    /// Opens a compiled list built into the program (`include_bytes!`), without copying it.
    pub fn from_static(bytes: &'static [u8]) -> Result<CompiledList, CompiledListError> {
        CompiledList::from_backing(Backing::Static(bytes))
    }

    fn from_backing(backing: Backing) -> Result<CompiledList, CompiledListError> {
        let bytes = backing.bytes();
        if bytes.len() < 8 || bytes.get(..8) != Some(MAGIC.as_slice()) {
            return Err(if bytes.len() < 8 && MAGIC.starts_with(bytes) {
                CompiledListError::Truncated
            } else {
                CompiledListError::NotACompiledList
            });
        }
        if bytes.len() < HEADER_SIZE {
            return Err(CompiledListError::Truncated);
        }
        let version = read_u32(bytes, 8).ok_or(CompiledListError::Truncated)?;
        if version != FORMAT_VERSION {
            return Err(CompiledListError::UnsupportedVersion {
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        if read_u32(bytes, 12) != Some(HEADER_SIZE as u32) {
            return Err(CompiledListError::Malformed);
        }
        let checksum = read_u64(bytes, 16).ok_or(CompiledListError::Truncated)?;
        let meta_len = read_u32(bytes, 24).ok_or(CompiledListError::Truncated)? as usize;

        // Lay the sections out from the header and check that they end exactly at the end of the file.
        let overflow = || CompiledListError::Malformed;
        let mut at = (HEADER_SIZE + meta_len).next_multiple_of(8);
        let mut sections = [Section {
            index_start: 0,
            bits: 0,
            start: 0,
            len: 0,
        }; SECTIONS];
        for (i, section) in sections.iter_mut().enumerate() {
            let len = read_u32(bytes, 28 + 4 * i).ok_or(CompiledListError::Truncated)? as usize;
            let bits = *bytes.get(44 + i).ok_or(CompiledListError::Truncated)?;
            if bits > 24 {
                return Err(CompiledListError::Malformed);
            }
            let index_start = at;
            at = index_start
                .checked_add(((1usize << bits) + 1) * 4)
                .ok_or_else(overflow)?
                .next_multiple_of(8);
            *section = Section {
                index_start,
                bits,
                start: at,
                len,
            };
            at = len
                .checked_mul(8)
                .and_then(|n| n.checked_add(at))
                .ok_or_else(overflow)?;
        }
        if bytes.len() < at {
            return Err(CompiledListError::Truncated);
        }
        if bytes.len() > at {
            return Err(CompiledListError::Malformed);
        }
        if xxhash_rust::xxh3::xxh3_64(bytes.get(24..).unwrap_or_default()) != checksum {
            return Err(CompiledListError::ChecksumMismatch);
        }
        let meta_bytes = bytes
            .get(HEADER_SIZE..HEADER_SIZE + meta_len)
            .ok_or(CompiledListError::Truncated)?;
        let meta: CompiledMeta =
            serde_json::from_slice(meta_bytes).map_err(|_| CompiledListError::Malformed)?;
        // The index must rise from 0 to the section's length, so every bucket lies inside its section.
        for section in &sections {
            let slots = (1usize << section.bits) + 1;
            let mut previous = 0u32;
            for slot in 0..slots {
                let offset = read_u32(bytes, section.index_start + slot * 4)
                    .ok_or(CompiledListError::Truncated)?;
                if offset < previous || (slot == 0 && offset != 0) {
                    return Err(CompiledListError::Malformed);
                }
                previous = offset;
            }
            if previous as usize != section.len {
                return Err(CompiledListError::Malformed);
            }
        }
        Ok(CompiledList {
            backing,
            meta,
            checksum,
            sections,
        })
    }

    /// The list's id, category, version, provenance, format and parse report.
    pub fn meta(&self) -> &CompiledMeta {
        &self.meta
    }

    /// The checksum stored in (and verified against) the file.
    pub fn checksum(&self) -> u64 {
        self.checksum
    }

    /// Entries per section.
    pub fn counts(&self) -> EntryCounts {
        let len = |kind: SectionKind| self.sections.get(kind as usize).map_or(0, |s| s.len);
        EntryCounts {
            domains: len(SectionKind::Domains),
            expressions: len(SectionKind::Expressions),
            exception_domains: len(SectionKind::ExceptionDomains),
            exception_expressions: len(SectionKind::ExceptionExpressions),
        }
    }

    /// Number of blocked domains.
    pub fn domain_count(&self) -> usize {
        self.sections
            .get(SectionKind::Domains as usize)
            .map_or(0, |s| s.len)
    }

    /// Number of entries of all kinds (blocked domains and expressions, exceptions).
    pub fn entry_count(&self) -> usize {
        self.sections.iter().map(|s| s.len).sum()
    }

    /// Size of the compiled form in bytes.
    pub fn size_bytes(&self) -> usize {
        self.backing.bytes().len()
    }

    /// Whether the section holds any entry.
    pub(crate) fn has(&self, kind: SectionKind) -> bool {
        self.sections.get(kind as usize).is_some_and(|s| s.len > 0)
    }

    /// Whether the section holds the fingerprint.
    pub(crate) fn contains(&self, kind: SectionKind, fp: u64) -> bool {
        let Some(section) = self.sections.get(kind as usize) else {
            return false;
        };
        if section.len == 0 {
            return false;
        }
        let bytes = self.backing.bytes();
        let slot = section.index_start + bucket(fp, section.bits) * 4;
        let (Some(lo), Some(hi)) = (read_u32(bytes, slot), read_u32(bytes, slot + 4)) else {
            return false;
        };
        let Some(run) = bytes.get(section.start + lo as usize * 8..section.start + hi as usize * 8)
        else {
            return false;
        };
        let (fingerprints, _) = run.as_chunks::<8>();
        let read = |i: usize| fingerprints.get(i).map(|chunk| u64::from_le_bytes(*chunk));
        // Fingerprints are uniform, so the bits below the bucket's say where in the bucket to look first:
        // usually the right cache line, a few entries either side at most.
        let below = if section.bits == 0 {
            fp
        } else {
            fp << section.bits
        };
        let guess = ((u128::from(below) * fingerprints.len() as u128) >> 64) as usize;
        let mut i = guess;
        let Some(first) = read(i) else {
            return false;
        };
        if first < fp {
            while let Some(candidate) = read(i + 1) {
                if candidate >= fp {
                    return candidate == fp;
                }
                i += 1;
            }
            false
        } else {
            let mut candidate = first;
            while candidate > fp && i > 0 {
                i -= 1;
                candidate = read(i).unwrap_or(0);
            }
            candidate == fp
        }
    }
}

/// Memory-maps a list file read-only.
fn map_file(file: &std::fs::File) -> Result<memmap2::Mmap, CompiledListError> {
    map_readonly(file).map_err(|e| CompiledListError::Io(e.kind()))
}

/// Memory-maps a compiled file (URL or hash list) read-only.
#[allow(unsafe_code)]
pub(crate) fn map_readonly(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the mapping is read-only and private to this process. Mapped memory changes underneath a
    // reader only if another process modifies the file in place; Haven never does (compiled lists are
    // replaced by rename, see `write_atomically`), and the documented contract of `CompiledList::open`
    // forbids it. Every read goes through bounds-checked slices, and the contents are checked (size,
    // index, checksum) before any lookup.
    unsafe { memmap2::MmapOptions::new().populate().map(file) }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let chunk: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(chunk))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}
