//! Compiled hash lists (`.hvh`): an immutable file that opens by memory-mapping.
//!
//! Layout (little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0..8 | magic `HAVENHSH` |
//! | 8..12 | format version (1) |
//! | 12..16 | length of the metadata JSON |
//! | 16..24 | XXH3-64 of every byte after the header |
//! | 24..40 | entry counts: MD5, SHA-1, BLAKE3, PDQ (u32 each) |
//! | 40..64 | zero |
//! | 64.. | metadata JSON (id, version, provenance, format, report), zero-padded to 8 bytes |
//! | | MD5 records: 16-byte digest + u32 entry id, sorted by digest |
//! | | SHA-1 records: 20-byte digest + u32 entry id, sorted |
//! | | BLAKE3 records: 32-byte digest + u32 entry id, sorted |
//! | | PDQ records: 32-byte hash (hex order) + u32 entry id, in list order |
//!
//! Exact lookups binary-search the mapped records; the PDQ records are loaded into a [`PdqIndex`] when the file
//! opens. Every count, length and the checksum are checked before any lookup, so a truncated or altered file is a
//! typed error.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::PdqHash;
use super::index::PdqIndex;
use super::list::{
    HashKind, HashListFormat, HashListMeta, HashListReport, HashValue, ParsedHashList,
};
use crate::url::compiled::{Backing, map_readonly};

/// The magic bytes a compiled hash list starts with.
pub const MAGIC: &[u8; 8] = b"HAVENHSH";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_SIZE: usize = 64;
/// Largest compiled file accepted.
pub const MAX_FILE_BYTES: u64 = 1 << 31;

/// Why a compiled hash list could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompiledHashListError {
    /// Not a compiled hash list.
    #[error("not a compiled hash list (bad magic)")]
    BadMagic,
    /// Written by another format version.
    #[error(
        "compiled hash list format {found} is not supported (this build reads {FORMAT_VERSION})"
    )]
    UnsupportedVersion {
        /// The file's version.
        found: u32,
    },
    /// Shorter than its header says.
    #[error("compiled hash list is truncated")]
    Truncated,
    /// The checksum does not match: the file was altered or damaged.
    #[error("compiled hash list checksum mismatch")]
    Checksum,
    /// The metadata or a section is inconsistent.
    #[error("compiled hash list is corrupt ({0})")]
    Corrupt(&'static str),
    /// Larger than [`MAX_FILE_BYTES`].
    #[error("compiled hash list is too large")]
    TooLarge,
    /// The file could not be read.
    #[error("could not read the compiled hash list: {0}")]
    Io(std::io::ErrorKind),
}

/// What a compiled hash list says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompiledHashMeta {
    /// Id, version, provenance.
    #[serde(flatten)]
    pub list: HashListMeta,
    /// The syntax it was parsed from.
    pub format: HashListFormat,
    /// How its lines were accounted for.
    pub report: HashListReport,
}

/// Exact-hash record sizes: (digest bytes, record bytes).
const EXACT: [(HashKind, usize); 3] = [
    (HashKind::Md5, 16),
    (HashKind::Sha1, 20),
    (HashKind::Blake3, 32),
];

/// Compiles a parsed list into the bytes of a `.hvh` file.
pub fn compile(list: &ParsedHashList) -> Vec<u8> {
    let meta = CompiledHashMeta {
        list: list.meta.clone(),
        format: list.format,
        report: list.report.clone(),
    };
    let meta_json = serde_json::to_vec(&meta).unwrap_or_default();
    let mut body = meta_json.clone();
    while !body.len().is_multiple_of(8) {
        body.push(0);
    }
    let mut counts = [0u32; 4];
    for (slot, (kind, _)) in EXACT.iter().enumerate() {
        let mut records: Vec<(Vec<u8>, u32)> = list
            .entries
            .iter()
            .zip(0u32..)
            .filter_map(|(value, id)| exact_bytes(value, *kind).map(|b| (b, id)))
            .collect();
        records.sort();
        if let Some(count) = counts.get_mut(slot) {
            *count = u32::try_from(records.len()).unwrap_or(u32::MAX);
        }
        for (digest, id) in records {
            body.extend_from_slice(&digest);
            body.extend_from_slice(&id.to_le_bytes());
        }
    }
    for (value, id) in list.entries.iter().zip(0u32..) {
        if let HashValue::Pdq(hash) = value {
            counts[3] += 1;
            body.extend_from_slice(&hash.to_bytes());
            body.extend_from_slice(&id.to_le_bytes());
        }
    }
    let mut out = Vec::with_capacity(HEADER_SIZE + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(
        &u32::try_from(meta_json.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(&body).to_le_bytes());
    for count in counts {
        out.extend_from_slice(&count.to_le_bytes());
    }
    out.resize(HEADER_SIZE, 0);
    out.extend_from_slice(&body);
    out
}

fn exact_bytes(value: &HashValue, kind: HashKind) -> Option<Vec<u8>> {
    match (value, kind) {
        (HashValue::Md5(b), HashKind::Md5) => Some(b.to_vec()),
        (HashValue::Sha1(b), HashKind::Sha1) => Some(b.to_vec()),
        (HashValue::Blake3(b), HashKind::Blake3) => Some(b.to_vec()),
        _ => None,
    }
}

/// An open compiled hash list. Immutable; share it with `Arc`.
pub struct CompiledHashList {
    backing: Backing,
    meta: CompiledHashMeta,
    checksum: u64,
    /// (offset, count) of the MD5, SHA-1 and BLAKE3 record sections.
    exact: [(usize, usize); 3],
    pdq: PdqIndex,
    /// Entry id of each PDQ hash, by its position in the index.
    pdq_ids: Vec<u32>,
}

impl std::fmt::Debug for CompiledHashList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledHashList")
            .field("id", &self.meta.list.id)
            .field("version", &self.meta.list.version)
            .field("pdq", &self.pdq.len())
            .finish_non_exhaustive()
    }
}

impl CompiledHashList {
    /// Opens a compiled hash list by memory-mapping it. The file must not be modified in place while open (replace
    /// it by rename, as [`crate::url::compiled::write_atomically`] does).
    pub fn open(path: impl AsRef<Path>) -> Result<CompiledHashList, CompiledHashListError> {
        let io = |e: std::io::Error| CompiledHashListError::Io(e.kind());
        let file = std::fs::File::open(path).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if size > MAX_FILE_BYTES {
            return Err(CompiledHashListError::TooLarge);
        }
        if size < HEADER_SIZE as u64 {
            return Err(CompiledHashListError::Truncated);
        }
        CompiledHashList::from_backing(Backing::Mapped(map_readonly(&file).map_err(io)?))
    }

    /// Opens a compiled hash list held in memory.
    pub fn from_bytes(
        bytes: impl Into<Box<[u8]>>,
    ) -> Result<CompiledHashList, CompiledHashListError> {
        CompiledHashList::from_backing(Backing::Owned(bytes.into()))
    }

    fn from_backing(backing: Backing) -> Result<CompiledHashList, CompiledHashListError> {
        let bytes = backing.bytes();
        let header = bytes
            .get(..HEADER_SIZE)
            .ok_or(CompiledHashListError::Truncated)?;
        if header.get(..8) != Some(MAGIC.as_slice()) {
            return Err(CompiledHashListError::BadMagic);
        }
        let version = read_u32(header, 8).ok_or(CompiledHashListError::Truncated)?;
        if version != FORMAT_VERSION {
            return Err(CompiledHashListError::UnsupportedVersion { found: version });
        }
        let meta_len = read_u32(header, 12).ok_or(CompiledHashListError::Truncated)? as usize;
        let checksum = read_u64(header, 16).ok_or(CompiledHashListError::Truncated)?;
        let mut counts = [0usize; 4];
        for (i, count) in counts.iter_mut().enumerate() {
            *count = read_u32(header, 24 + 4 * i).ok_or(CompiledHashListError::Truncated)? as usize;
        }
        let body = bytes
            .get(HEADER_SIZE..)
            .ok_or(CompiledHashListError::Truncated)?;
        // Sizes first (a truncated file is "truncated", not "checksum mismatch").
        let meta_padded = meta_len.div_ceil(8) * 8;
        let mut expected = meta_padded;
        for (i, (_, digest)) in EXACT.iter().enumerate() {
            expected = expected
                .checked_add(
                    counts
                        .get(i)
                        .copied()
                        .unwrap_or(0)
                        .saturating_mul(digest + 4),
                )
                .ok_or(CompiledHashListError::Corrupt("sizes"))?;
        }
        expected = expected
            .checked_add(counts[3].saturating_mul(36))
            .ok_or(CompiledHashListError::Corrupt("sizes"))?;
        if body.len() < expected {
            return Err(CompiledHashListError::Truncated);
        }
        if body.len() > expected {
            return Err(CompiledHashListError::Corrupt("trailing bytes"));
        }
        if xxhash_rust::xxh3::xxh3_64(body) != checksum {
            return Err(CompiledHashListError::Checksum);
        }
        let meta: CompiledHashMeta = body
            .get(..meta_len)
            .and_then(|json| serde_json::from_slice(json).ok())
            .ok_or(CompiledHashListError::Corrupt("metadata"))?;
        let total = counts.iter().sum::<usize>();
        let mut exact = [(0usize, 0usize); 3];
        let mut at = HEADER_SIZE + meta_padded;
        for (i, (_, digest)) in EXACT.iter().enumerate() {
            let count = counts.get(i).copied().unwrap_or(0);
            if let Some(slot) = exact.get_mut(i) {
                *slot = (at, count);
            }
            let records = bytes
                .get(at..at + count * (digest + 4))
                .ok_or(CompiledHashListError::Truncated)?;
            // Sorted, and entry ids in range: lookups rely on both.
            let mut previous: Option<&[u8]> = None;
            for record in records.chunks_exact(digest + 4) {
                let (key, id) = record.split_at(*digest);
                if previous.is_some_and(|p| p >= key) {
                    return Err(CompiledHashListError::Corrupt("exact records not sorted"));
                }
                if read_u32(id, 0).is_none_or(|id| id as usize >= total) {
                    return Err(CompiledHashListError::Corrupt("entry id out of range"));
                }
                previous = Some(key);
            }
            at += count * (digest + 4);
        }
        let mut hashes = Vec::with_capacity(counts[3]);
        let mut pdq_ids = Vec::with_capacity(counts[3]);
        let records = bytes
            .get(at..at + counts[3] * 36)
            .ok_or(CompiledHashListError::Truncated)?;
        for record in records.chunks_exact(36) {
            let (hash, id) = record.split_at(32);
            let hash: [u8; 32] = hash
                .try_into()
                .map_err(|_| CompiledHashListError::Truncated)?;
            let id = read_u32(id, 0).ok_or(CompiledHashListError::Truncated)?;
            if id as usize >= total {
                return Err(CompiledHashListError::Corrupt("entry id out of range"));
            }
            hashes.push(PdqHash::from_bytes(hash));
            pdq_ids.push(id);
        }
        let pdq = PdqIndex::build(hashes);
        Ok(CompiledHashList {
            backing,
            meta,
            checksum,
            exact,
            pdq,
            pdq_ids,
        })
    }

    /// Id, version, provenance, format and parse report.
    pub fn meta(&self) -> &CompiledHashMeta {
        &self.meta
    }

    /// The checksum over the file's body.
    pub fn checksum(&self) -> u64 {
        self.checksum
    }

    /// Entries of one kind.
    pub fn count(&self, kind: HashKind) -> usize {
        match kind {
            HashKind::Md5 => self.exact[0].1,
            HashKind::Sha1 => self.exact[1].1,
            HashKind::Blake3 => self.exact[2].1,
            HashKind::Pdq => self.pdq.len(),
        }
    }

    /// The file's size in bytes.
    pub fn size_bytes(&self) -> usize {
        self.backing.bytes().len()
    }

    /// The PDQ index (built when the list opened).
    pub fn pdq_index(&self) -> &PdqIndex {
        &self.pdq
    }

    /// The entry id of an exact digest, if the list holds it.
    pub fn find_exact(&self, value: &HashValue) -> Option<u32> {
        let (slot, key): (usize, &[u8]) = match value {
            HashValue::Md5(b) => (0, b),
            HashValue::Sha1(b) => (1, b),
            HashValue::Blake3(b) => (2, b),
            HashValue::Pdq(_) => return None,
        };
        let (offset, count) = *self.exact.get(slot)?;
        let width = key.len() + 4;
        let records = self.backing.bytes().get(offset..offset + count * width)?;
        let (mut low, mut high) = (0usize, count);
        while low < high {
            let mid = low + (high - low) / 2;
            let record = records.get(mid * width..(mid + 1) * width)?;
            let (candidate, id) = record.split_at(key.len());
            match candidate.cmp(key) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => return read_u32(id, 0),
            }
        }
        None
    }

    /// PDQ entries within `radius` bits of `hash`: (entry id, distance), nearest first.
    pub fn find_pdq(&self, hash: &PdqHash, radius: u32) -> Vec<(u32, u32)> {
        self.pdq
            .query(hash, radius)
            .into_iter()
            .filter_map(|m| Some((*self.pdq_ids.get(m.id as usize)?, m.distance)))
            .collect()
    }
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let chunk: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(chunk))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let chunk: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(chunk))
}
