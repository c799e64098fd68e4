//! The compiled list: an immutable file of 64-bit fingerprints in ordered hash tables, opened by
//! memory-mapping.
//!
//! Layout (all integers little-endian), format version 2:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `HAVENURL` |
//! | 8 | 4 | format version (2) |
//! | 12 | 4 | header size (80) |
//! | 16 | 8 | checksum: XXH3-64 of every byte from offset 24 to the end |
//! | 24 | 4 | metadata size in bytes |
//! | 28 | 16 | entry count of the four sections: domains, expressions, exception domains, exception expressions |
//! | 44 | 4 | reserved, zero |
//! | 48 | 16 | home range of the four sections (u32 each) |
//! | 64 | 16 | slot count of the four sections (u32 each) |
//! | 80 | … | metadata (JSON: id, category, version, provenance, format, report, source SHA-256), zero-padded to 8 |
//! | … | … | for each section: its slots, u64 each (0 = empty) |
//!
//! Each section is an ordered hash table with linear probing. A fingerprint's home slot is
//! `fp × range / 2^64`, so homes rise with the fingerprints; the compiler places the sorted fingerprints one by
//! one, each in its home slot or, if that is taken, in the slot after the previous one. The slots therefore
//! hold the fingerprints in ascending order, each at or after its home, with no empty slot between its home
//! and itself. A lookup reads from the home slot onward and stops at the fingerprint, at a larger one or at an
//! empty slot: one memory access (the same cache line, or the next one) with no index to read first, which
//! matters when other work has pushed the list out of the CPU caches. The range is the entry count / 0.85, so
//! a section takes about 9.4 bytes per entry; a few slots after the range hold the last fingerprints pushed
//! past it. A fingerprint of 0 is stored and looked up as 1 (0 marks an empty slot).
//!
//! Opening checks the magic, version, sizes and checksum; a corrupted or truncated file is a typed
//! [`CompiledListError`], never a panic or a wrong answer (and no file, however made, makes a lookup panic). Fingerprints are 64 bits, so a list of n entries
//! has a false-match probability of about n / 2^64 per lookup (10^-13 for 2 million entries).

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::list::{ListFormat, ListMeta, ParseReport, ParsedList, Sections};

const MAGIC: &[u8; 8] = b"HAVENURL";
/// The compiled format version this build reads and writes.
pub const FORMAT_VERSION: u32 = 2;
const HEADER_SIZE: usize = 80;
/// Entries per home slot: the tables' load factor, in hundredths.
const LOAD_PERCENT: usize = 85;
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
    /// Sizes in the header contradict each other or the file's length.
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
    compile_sections(&meta, list.sections())
}

/// Compiles metadata and fingerprint sets into the on-disk form.
pub(crate) fn compile_sections(meta: &CompiledMeta, sections: &Sections) -> Vec<u8> {
    let meta_json = serde_json::to_vec(meta).unwrap_or_default();
    let tables = section_slices(sections).map(table);

    let mut out = Vec::with_capacity(
        HEADER_SIZE + meta_json.len() + 8 + tables.iter().map(|t| t.slots.len() * 8).sum::<usize>(),
    );
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(HEADER_SIZE as u32).to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes()); // checksum, filled in below
    out.extend_from_slice(&len_u32(meta_json.len()).to_le_bytes());
    for table in &tables {
        out.extend_from_slice(&len_u32(table.entries).to_le_bytes());
    }
    out.extend_from_slice(&[0; 4]);
    for table in &tables {
        out.extend_from_slice(&len_u32(table.range).to_le_bytes());
    }
    for table in &tables {
        out.extend_from_slice(&len_u32(table.slots.len()).to_le_bytes());
    }
    out.resize(HEADER_SIZE, 0);
    out.extend_from_slice(&meta_json);
    out.resize(out.len().next_multiple_of(8), 0);
    for table in &tables {
        for slot in &table.slots {
            out.extend_from_slice(&slot.to_le_bytes());
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

/// One section's ordered hash table, as written.
struct Table {
    entries: usize,
    range: usize,
    slots: Vec<u64>,
}

/// Places sorted, distinct fingerprints in an ordered hash table (see the module documentation).
fn table(fps: &[u64]) -> Table {
    let mut keys: Vec<u64> = fps.iter().map(|&fp| key(fp)).collect();
    keys.sort_unstable();
    keys.dedup();
    let range = (keys.len() * 100).div_ceil(LOAD_PERCENT);
    let mut slots = vec![0u64; range];
    let mut next = 0;
    for key in &keys {
        let at = home(*key, range).max(next);
        if at >= slots.len() {
            slots.resize(at + 1, 0);
        }
        if let Some(slot) = slots.get_mut(at) {
            *slot = *key;
        }
        next = at + 1;
    }
    Table {
        entries: keys.len(),
        range,
        slots,
    }
}

/// A fingerprint as stored: 0 marks an empty slot, so it becomes 1.
fn key(fp: u64) -> u64 {
    fp.max(1)
}

/// A key's home slot in a table whose home range is `range` slots.
fn home(key: u64, range: usize) -> usize {
    ((u128::from(key) * range as u128) >> 64) as usize
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
    /// Byte offset of the first slot.
    start: usize,
    /// Entries (non-empty slots).
    len: usize,
    /// Home range: every key's home slot is below it.
    range: usize,
    /// Slots, the range plus the overflow after it.
    slots: usize,
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
    /// Opens a compiled list by memory-mapping it, after checking its header, sizes and checksum.
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
            start: 0,
            len: 0,
            range: 0,
            slots: 0,
        }; SECTIONS];
        for (i, section) in sections.iter_mut().enumerate() {
            let field = |offset: usize| {
                read_u32(bytes, offset + 4 * i)
                    .map(|n| n as usize)
                    .ok_or(CompiledListError::Truncated)
            };
            let (len, range, slots) = (field(28)?, field(48)?, field(64)?);
            // Every entry has a slot, the range holds the homes, and at most every entry overflows it.
            if slots < len || slots < range || slots - range > len || (len > 0) != (range > 0) {
                return Err(CompiledListError::Malformed);
            }
            *section = Section {
                start: at,
                len,
                range,
                slots,
            };
            at = slots
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
        self.first_of(kind, &[fp]).is_some()
    }

    /// The position in `fps` of the first fingerprint the section holds.
    ///
    /// The lookups are made in two rounds: first every fingerprint's home slot is read, then each scan goes on
    /// from there. The first reads do not depend on one another, so the processor overlaps their cache misses
    /// instead of waiting for each in turn.
    pub(crate) fn first_of(&self, kind: SectionKind, fps: &[u64]) -> Option<usize> {
        const BATCH: usize = 8;
        let section = self.sections.get(kind as usize).filter(|s| s.len > 0)?;
        let bytes = self.backing.bytes();
        for (chunk_at, chunk) in fps.chunks(BATCH).enumerate() {
            let mut probes = [(0usize, None); BATCH];
            for (probe, &fp) in probes.iter_mut().zip(chunk) {
                let at = home(key(fp), section.range);
                *probe = (at, section.slot(bytes, at));
            }
            for (at, (&(slot, first), &fp)) in probes.iter().zip(chunk).enumerate() {
                if section.scan(bytes, slot, first, key(fp)) {
                    return Some(chunk_at * BATCH + at);
                }
            }
        }
        None
    }

    /// Asks the processor to start loading the home slots of `fps` in the section, without waiting for them:
    /// a [`CompiledList::first_of`] made soon after finds them in the cache. Does nothing where the target has no
    /// prefetch instruction Haven uses.
    pub(crate) fn prefetch(&self, kind: SectionKind, fps: &[u64]) {
        let Some(section) = self.sections.get(kind as usize).filter(|s| s.len > 0) else {
            return;
        };
        let bytes = self.backing.bytes();
        for &fp in fps {
            let at = home(key(fp), section.range);
            if let Some(slot) = bytes.get(section.start + at * 8..) {
                prefetch_line(slot);
            }
        }
    }
}

/// Starts loading the cache line that holds `bytes[0]`.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline]
fn prefetch_line(bytes: &[u8]) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: a prefetch is a hint: it never faults and reads nothing into the program, whatever the address
    // (here one inside a live slice). SSE, which the instruction needs, is part of every x86_64 target.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(bytes.as_ptr().cast()) }
}

/// Without a prefetch instruction, nothing.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn prefetch_line(_bytes: &[u8]) {}

impl Section {
    /// The key in slot `at`, if the section has that slot.
    fn slot(&self, bytes: &[u8], at: usize) -> Option<u64> {
        if at >= self.slots {
            return None;
        }
        read_u64(bytes, self.start + at * 8)
    }

    /// Whether `key` is in the table, scanning from slot `at` (its home), whose content is `first`. Keys
    /// ascend through the slots and none sits before its home or after an empty slot that follows its home,
    /// so the scan ends at the key, a larger key, or an empty slot.
    fn scan(&self, bytes: &[u8], mut at: usize, first: Option<u64>, key: u64) -> bool {
        let mut current = first;
        while let Some(found) = current {
            if found == key {
                return true;
            }
            if found == 0 || found > key {
                return false;
            }
            at += 1;
            current = self.slot(bytes, at);
        }
        false
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
    // checksum) before any lookup.
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
