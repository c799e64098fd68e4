//! A Hamming-radius index over PDQ hashes: multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in
//! Hamming space with multi-index hashing", CVPR 2012).
//!
//! The 256 bits of a hash are cut into [`TABLES`] = 16 substrings of 16 bits (substring `t` is bits
//! `16 (t % 4) .. 16 (t % 4) + 16` of word `t / 4` of [`PdqHash::0`]). If two hashes are within distance `r`,
//! then by pigeonhole at least one of their 16 substrings differs in at most `⌊r / 16⌋` bits. So the index keeps,
//! per substring, a table from each of the 65,536 substring values to the entries that have it, and a query
//! probes, in every table, each value within `⌊r / 16⌋` bits of its own substring (1 value for `r` ≤ 15, 17 for
//! `r` ≤ 31, 137 for `r` ≤ [`MAX_INDEXED_RADIUS`] = 47), then checks the full distance of every entry found.
//! Larger radii are answered by a linear scan.
//!
//! Each entry is reported once: only from the first table in which it is within the probe radius, which the
//! full check sees without any visited set. When the probed buckets hold more entries than a fraction of the
//! whole index (many duplicates, or a query that sits in a dense cluster), the query scans linearly instead, which
//! is then cheaper; the results are the same either way.
//!
//! Memory: the hashes (32 bytes each), 16 tables of entry ids (4 bytes per entry and table) and 16 × 65,537
//! bucket offsets (4 MiB in all): 96 bytes per hash plus 4 MiB. See [`PdqIndex::memory_bytes`].
//!
//! Dihedral variants (a flipped or rotated copy of an image) have hashes that cannot be derived from the
//! original's hash alone; compute the eight hashes of the query image and pass them to [`PdqIndex::query_any`].

use std::fmt;

use super::PdqHash;

/// The default match radius: PDQ's recommended threshold (hashes within 31 of 256 bits are the same image).
pub const DEFAULT_RADIUS: u32 = 31;

/// The largest radius the index answers by probing its tables; a larger radius is answered by a linear scan
/// (with the same results).
pub const MAX_INDEXED_RADIUS: u32 = 47;

/// The number of 16-bit substring tables.
pub const TABLES: usize = 16;

/// The number of entries an index holds at most (entry ids are `u32`).
pub const MAX_ENTRIES: usize = u32::MAX as usize;

/// Substring values per table.
const BUCKETS: usize = 1 << 16;

/// Offsets per table: one per bucket plus the end.
const OFFSETS_PER_TABLE: usize = BUCKETS + 1;

/// When the probed buckets hold more than `len / FALLBACK_DIVISOR` entries, a linear scan is cheaper: it reads
/// the hashes in order, while the index reads each candidate at a random place (measured on the benchmark
/// machine: about 4–6 times as long per hash, see `benches/README.md`).
const FALLBACK_DIVISOR: usize = 4;

/// The bytes before the hashes in [`PdqIndex::to_bytes`]: the entry count (u64), the table count (u32) and the
/// substring width in bits (u32).
const PREFIX_BYTES: usize = 16;

/// Probe masks in order of popcount: 0, then the 16 one-bit masks, then the 120 two-bit masks.
const PROBE_MASKS: [u16; 137] = probe_masks();

// Bounds are proven: `k` counts the masks written, and there are exactly 1 + 16 + 120 = 137 of them.
#[allow(clippy::indexing_slicing)]
const fn probe_masks() -> [u16; 137] {
    let mut masks = [0u16; 137];
    let mut k = 1;
    let mut a = 0;
    while a < 16 {
        masks[k] = 1 << a;
        k += 1;
        a += 1;
    }
    let mut a = 0;
    while a < 16 {
        let mut b = a + 1;
        while b < 16 {
            masks[k] = (1 << a) | (1 << b);
            k += 1;
            b += 1;
        }
        a += 1;
    }
    masks
}

/// One entry within the radius of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IndexMatch {
    /// The entry id: the entry's position in the hashes the index was built from.
    pub id: u32,
    /// The Hamming distance between the query and the entry (0–256).
    pub distance: u32,
}

/// Why an index could not be built or read. Corrupted bytes always give one of these, never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// More entries than [`MAX_ENTRIES`], or more than this platform can address.
    #[error("too many entries for an index: {len}")]
    TooManyEntries {
        /// The number of entries asked for.
        len: u64,
    },
    /// The bytes are not as long as the entry count in their first 8 bytes says.
    #[error("index bytes have the wrong length: {actual}, expected {expected}")]
    WrongLength {
        /// The length the layout needs (0 when even the prefix is missing).
        expected: u64,
        /// The length given.
        actual: u64,
    },
    /// The table count or substring width is not the one this version uses (16 and 16).
    #[error("unsupported index shape: {tables} tables of {bits}-bit substrings")]
    UnsupportedShape {
        /// The table count read.
        tables: u32,
        /// The substring width read.
        bits: u32,
    },
    /// A table's bucket offsets do not start at 0, decrease, or do not end at the entry count.
    #[error("bad bucket offsets in table {table} at bucket {bucket}")]
    BadOffsets {
        /// The table (0–15).
        table: usize,
        /// The bucket (0–65,536).
        bucket: usize,
    },
    /// A table holds an entry id that is out of range, repeated, out of order, or in the wrong bucket.
    #[error("bad entry id in table {table} at bucket {bucket}")]
    BadId {
        /// The table (0–15).
        table: usize,
        /// The bucket (0–65,535).
        bucket: usize,
    },
}

/// An immutable Hamming-radius index over PDQ hashes (see the [module docs](self)). `Send + Sync`: share one
/// behind an `Arc`.
#[derive(Clone, PartialEq, Eq)]
pub struct PdqIndex {
    /// The hashes; entry id = position.
    hashes: Box<[PdqHash]>,
    /// `TABLES` runs of `OFFSETS_PER_TABLE` offsets into that table's run of `ids`.
    offsets: Box<[u32]>,
    /// `TABLES` runs of `hashes.len()` entry ids, each run sorted by (substring value, id).
    ids: Box<[u32]>,
}

impl fmt::Debug for PdqIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PdqIndex")
            .field("len", &self.hashes.len())
            .field("memory_bytes", &self.memory_bytes())
            .finish_non_exhaustive()
    }
}

/// Substring `t` (0–15) of a hash.
fn substring(hash: &PdqHash, t: usize) -> u16 {
    let word = hash.0.get(t / 4).copied().unwrap_or(0);
    (word >> ((t % 4) * 16)) as u16
}

/// All 16 substrings of a hash, in table order.
fn substrings(hash: &PdqHash) -> [u16; TABLES] {
    let mut subs = [0u16; TABLES];
    for (chunk, word) in subs.chunks_exact_mut(4).zip(hash.0) {
        for (k, sub) in chunk.iter_mut().enumerate() {
            *sub = (word >> (k * 16)) as u16;
        }
    }
    subs
}

/// The first table in which `hash` is within `probe` bits of `query`, or `TABLES` if none.
fn first_table(hash: &PdqHash, query: &PdqHash, probe: u32) -> usize {
    let mut t = 0;
    for (a, b) in hash.0.iter().zip(query.0) {
        let x = a ^ b;
        for k in 0..4 {
            if ((x >> (k * 16)) as u16).count_ones() <= probe {
                return t;
            }
            t += 1;
        }
    }
    TABLES
}

/// The substring probe radius for a query radius, or `None` above [`MAX_INDEXED_RADIUS`].
fn probe_radius(radius: u32) -> Option<u32> {
    (radius <= MAX_INDEXED_RADIUS).then_some(radius / 16)
}

/// The masks to probe for a substring probe radius of 0, 1 or 2.
fn masks(probe: u32) -> &'static [u16] {
    let count = match probe {
        0 => 1,
        1 => 17,
        _ => 137,
    };
    PROBE_MASKS.get(..count).unwrap_or(&PROBE_MASKS)
}

/// Sorts matches by (distance, id).
fn sort_matches(matches: &mut [IndexMatch]) {
    matches.sort_unstable_by_key(|m| (m.distance, m.id));
}

/// Calls `f` for every hash within `radius` of `query`, in id order.
fn scan_each(hashes: &[PdqHash], query: &PdqHash, radius: u32, f: &mut impl FnMut(IndexMatch)) {
    for (hash, id) in hashes.iter().zip(0..=u32::MAX) {
        let distance = hash.distance(query);
        if distance <= radius {
            f(IndexMatch { id, distance });
        }
    }
}

/// The reference search: every hash within `radius` of `query`, sorted by (distance, id). Entry ids are
/// positions in `hashes`; hashes beyond position `u32::MAX` are not searched.
pub fn linear_scan(hashes: &[PdqHash], query: &PdqHash, radius: u32) -> Vec<IndexMatch> {
    let mut matches = Vec::new();
    scan_each(hashes, query, radius, &mut |m| matches.push(m));
    sort_matches(&mut matches);
    matches
}

/// A little-endian reader over a byte slice that never reads past the end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
}

impl PdqIndex {
    /// Builds the index; entry id = position in `hashes`. Entries beyond [`MAX_ENTRIES`] (4,294,967,295, i.e.
    /// 128 GiB of hashes) are dropped; use [`PdqIndex::try_build`] to get an error instead.
    pub fn build(mut hashes: Vec<PdqHash>) -> PdqIndex {
        hashes.truncate(MAX_ENTRIES);
        // The error is unreachable after the truncation; an empty index is the safe answer.
        PdqIndex::try_build(hashes).unwrap_or_else(|_| PdqIndex::empty())
    }

    /// An index with no entries.
    fn empty() -> PdqIndex {
        PdqIndex {
            hashes: Box::new([]),
            offsets: vec![0; TABLES * OFFSETS_PER_TABLE].into_boxed_slice(),
            ids: Box::new([]),
        }
    }

    /// Builds the index; entry id = position in `hashes`. Errors with more than [`MAX_ENTRIES`] hashes.
    pub fn try_build(hashes: Vec<PdqHash>) -> Result<PdqIndex, IndexError> {
        let n = hashes.len();
        let too_many = IndexError::TooManyEntries { len: n as u64 };
        if n > MAX_ENTRIES {
            return Err(too_many);
        }
        let mut offsets = vec![0u32; TABLES * OFFSETS_PER_TABLE];
        let mut ids = vec![0u32; n.checked_mul(TABLES).ok_or(too_many)?];
        if n > 0 {
            let mut cursor = vec![0u32; BUCKETS];
            for (t, (table_offsets, table_ids)) in offsets
                .chunks_exact_mut(OFFSETS_PER_TABLE)
                .zip(ids.chunks_exact_mut(n))
                .enumerate()
            {
                // Counting sort by substring value; ids stay ascending within a bucket.
                for hash in &hashes {
                    let v = usize::from(substring(hash, t));
                    if let Some(count) = table_offsets.get_mut(v + 1) {
                        *count += 1;
                    }
                }
                let mut sum = 0u32;
                for offset in table_offsets.iter_mut() {
                    sum += *offset;
                    *offset = sum;
                }
                cursor.copy_from_slice(table_offsets.get(..BUCKETS).unwrap_or_default());
                for (hash, id) in hashes.iter().zip(0u32..) {
                    let v = usize::from(substring(hash, t));
                    if let Some(at) = cursor.get_mut(v) {
                        if let Some(slot) = table_ids.get_mut(*at as usize) {
                            *slot = id;
                        }
                        *at += 1;
                    }
                }
            }
        }
        Ok(PdqIndex {
            hashes: hashes.into_boxed_slice(),
            offsets: offsets.into_boxed_slice(),
            ids: ids.into_boxed_slice(),
        })
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether the index has no entries.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The hash of entry `id`.
    pub fn hash(&self, id: u32) -> Option<PdqHash> {
        self.hashes.get(id as usize).copied()
    }

    /// All hashes, in entry id order.
    pub fn hashes(&self) -> &[PdqHash] {
        &self.hashes
    }

    /// Every entry within `radius` of `query` (distance ≤ `radius`), sorted by (distance, id). Radii up to
    /// [`MAX_INDEXED_RADIUS`] (47) use the index; larger ones a linear scan, with the same results.
    pub fn query(&self, query: &PdqHash, radius: u32) -> Vec<IndexMatch> {
        let mut matches = Vec::new();
        self.query_each(query, radius, |m| matches.push(m));
        sort_matches(&mut matches);
        matches
    }

    /// Calls `f` once for every entry within `radius` of `query`, in no particular order, without allocating.
    /// Same radius rules as [`PdqIndex::query`].
    pub fn query_each(&self, query: &PdqHash, radius: u32, mut f: impl FnMut(IndexMatch)) {
        if self.hashes.is_empty() {
            return;
        }
        match probe_radius(radius) {
            Some(probe)
                if self.candidates(query, probe) <= self.hashes.len() / FALLBACK_DIVISOR =>
            {
                self.probe_each(query, radius, probe, &mut f);
            }
            _ => scan_each(&self.hashes, query, radius, &mut f),
        }
    }

    /// The closest entry within `radius` of `query` (the lowest id among equally close ones), if any.
    pub fn nearest(&self, query: &PdqHash, radius: u32) -> Option<IndexMatch> {
        let mut best: Option<IndexMatch> = None;
        self.query_each(query, radius, |m| {
            if best.is_none_or(|b| (m.distance, m.id) < (b.distance, b.id)) {
                best = Some(m);
            }
        });
        best
    }

    /// Every entry within `radius` of any of `queries` (for example the eight dihedral variants of an image's
    /// hash), each once with its smallest distance, sorted by (distance, id).
    pub fn query_any(&self, queries: &[PdqHash], radius: u32) -> Vec<IndexMatch> {
        let mut matches = Vec::new();
        for query in queries {
            self.query_each(query, radius, |m| matches.push(m));
        }
        matches.sort_unstable_by_key(|m| (m.id, m.distance));
        matches.dedup_by_key(|m| m.id);
        sort_matches(&mut matches);
        matches
    }

    /// The bucket of substring value `v` in table `t`'s offsets and ids.
    fn bucket<'a>(offsets: &[u32], ids: &'a [u32], v: usize) -> &'a [u32] {
        match (offsets.get(v), offsets.get(v + 1)) {
            (Some(&start), Some(&end)) => ids.get(start as usize..end as usize).unwrap_or_default(),
            _ => &[],
        }
    }

    /// The per-table (offsets, ids) runs.
    fn tables(&self) -> impl Iterator<Item = (&[u32], &[u32])> {
        self.offsets
            .chunks_exact(OFFSETS_PER_TABLE)
            .zip(self.ids.chunks_exact(self.hashes.len().max(1)))
    }

    /// How many entries the probed buckets hold in all.
    fn candidates(&self, query: &PdqHash, probe: u32) -> usize {
        let masks = masks(probe);
        let mut total = 0;
        for (&q, (offsets, ids)) in substrings(query).iter().zip(self.tables()) {
            for &mask in masks {
                total += Self::bucket(offsets, ids, usize::from(q ^ mask)).len();
            }
        }
        total
    }

    /// The index search proper (`probe` = `radius / 16`, at most 2).
    fn probe_each(&self, query: &PdqHash, radius: u32, probe: u32, f: &mut impl FnMut(IndexMatch)) {
        let masks = masks(probe);
        for (t, (&q, (offsets, ids))) in substrings(query).iter().zip(self.tables()).enumerate() {
            for &mask in masks {
                for &id in Self::bucket(offsets, ids, usize::from(q ^ mask)) {
                    let Some(hash) = self.hashes.get(id as usize) else {
                        continue;
                    };
                    let distance = hash.distance(query);
                    if distance <= radius && first_table(hash, query, probe) == t {
                        f(IndexMatch { id, distance });
                    }
                }
            }
        }
    }

    /// Heap bytes held (hashes, offsets and ids) plus the struct itself.
    pub fn memory_bytes(&self) -> usize {
        size_of::<PdqIndex>()
            + size_of_val::<[PdqHash]>(&self.hashes)
            + size_of_val::<[u32]>(&self.offsets)
            + size_of_val::<[u32]>(&self.ids)
    }

    /// The length of [`PdqIndex::to_bytes`] for `len` entries: 16 + 96 × `len` + 4,194,368.
    pub fn serialized_len(len: usize) -> Option<usize> {
        len.checked_mul(32 + 4 * TABLES)?
            .checked_add(PREFIX_BYTES + 4 * TABLES * OFFSETS_PER_TABLE)
    }

    /// The index as flat little-endian bytes, in this order (`n` = [`PdqIndex::len`]):
    ///
    /// 1. `n` as u64, then the table count (16) and the substring width in bits (16) as u32;
    /// 2. the hashes, `n` × 4 u64 (the words of [`PdqHash::0`] in order);
    /// 3. the bucket offsets, 16 tables × 65,537 u32: for table `t`, the entries whose substring `t` has
    ///    value `v` are positions `offsets[t][v] .. offsets[t][v + 1]` of that table's ids;
    /// 4. the entry ids, 16 tables × `n` u32, each table's sorted by (substring value, id).
    ///
    /// The hashes start at byte 16, so they are 8-byte aligned in an aligned buffer. Length: see
    /// [`PdqIndex::serialized_len`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::serialized_len(self.hashes.len()).unwrap_or(0));
        out.extend_from_slice(&(self.hashes.len() as u64).to_le_bytes());
        out.extend_from_slice(&(TABLES as u32).to_le_bytes());
        out.extend_from_slice(&16u32.to_le_bytes());
        for hash in &self.hashes {
            for word in hash.0 {
                out.extend_from_slice(&word.to_le_bytes());
            }
        }
        for value in self.offsets.iter().chain(self.ids.iter()) {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out
    }

    /// Reads [`PdqIndex::to_bytes`] into an owned index, checking everything a query relies on: the length,
    /// the shape, that every table's offsets start at 0, never decrease and end at `n`, and that every id is
    /// below `n`, ascending within its bucket and in the bucket of its hash's substring (so each table holds
    /// every entry exactly once). Anything else is an [`IndexError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<PdqIndex, IndexError> {
        let actual = bytes.len() as u64;
        let mut reader = Reader { bytes };
        let (Some(n), Some(tables), Some(bits)) = (reader.u64(), reader.u32(), reader.u32()) else {
            return Err(IndexError::WrongLength {
                expected: 0,
                actual,
            });
        };
        if tables as usize != TABLES || bits != 16 {
            return Err(IndexError::UnsupportedShape { tables, bits });
        }
        let len = usize::try_from(n)
            .ok()
            .filter(|&len| len <= MAX_ENTRIES)
            .ok_or(IndexError::TooManyEntries { len: n })?;
        let expected = Self::serialized_len(len).ok_or(IndexError::TooManyEntries { len: n })?;
        if bytes.len() != expected {
            return Err(IndexError::WrongLength {
                expected: expected as u64,
                actual,
            });
        }
        let hashes: Vec<PdqHash> = reader
            .bytes
            .chunks_exact(32)
            .take(len)
            .map(|chunk| {
                let mut words = [0u64; 4];
                for (word, bytes) in words.iter_mut().zip(chunk.chunks_exact(8)) {
                    let mut le = [0u8; 8];
                    le.copy_from_slice(bytes);
                    *word = u64::from_le_bytes(le);
                }
                PdqHash(words)
            })
            .collect();
        let rest = reader.bytes.get(len * 32..).unwrap_or_default();
        let mut words = rest
            .chunks_exact(4)
            .map(|b| <[u8; 4]>::try_from(b).map_or(0, u32::from_le_bytes));
        let offsets: Vec<u32> = words.by_ref().take(TABLES * OFFSETS_PER_TABLE).collect();
        let ids: Vec<u32> = words.collect();
        let index = PdqIndex {
            hashes: hashes.into_boxed_slice(),
            offsets: offsets.into_boxed_slice(),
            ids: ids.into_boxed_slice(),
        };
        index.validate()?;
        Ok(index)
    }

    /// The checks of [`PdqIndex::from_bytes`] on the parsed parts.
    fn validate(&self) -> Result<(), IndexError> {
        let n = self.hashes.len();
        if self.offsets.len() != TABLES * OFFSETS_PER_TABLE || self.ids.len() != TABLES * n {
            return Err(IndexError::WrongLength {
                expected: Self::serialized_len(n).unwrap_or(0) as u64,
                actual: 0,
            });
        }
        for t in 0..TABLES {
            let offsets = self
                .offsets
                .get(t * OFFSETS_PER_TABLE..(t + 1) * OFFSETS_PER_TABLE)
                .unwrap_or_default();
            let ids = self.ids.get(t * n..(t + 1) * n).unwrap_or_default();
            let bad_offsets = |bucket| IndexError::BadOffsets { table: t, bucket };
            if offsets.first() != Some(&0) {
                return Err(bad_offsets(0));
            }
            if offsets.last().map(|&end| end as usize) != Some(n) {
                return Err(bad_offsets(BUCKETS));
            }
            for (v, pair) in offsets.windows(2).enumerate() {
                let (start, end) = match pair {
                    [start, end] if start <= end => (*start as usize, *end as usize),
                    _ => return Err(bad_offsets(v + 1)),
                };
                let bad_id = IndexError::BadId {
                    table: t,
                    bucket: v,
                };
                let bucket = ids.get(start..end).ok_or(bad_id.clone())?;
                let mut previous: Option<u32> = None;
                for &id in bucket {
                    let hash = self.hashes.get(id as usize).ok_or(bad_id.clone())?;
                    if previous.is_some_and(|p| p >= id) || usize::from(substring(hash, t)) != v {
                        return Err(bad_id);
                    }
                    previous = Some(id);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn xorshift(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    fn random_hash(state: &mut u64) -> PdqHash {
        PdqHash([
            xorshift(state),
            xorshift(state),
            xorshift(state),
            xorshift(state),
        ])
    }

    #[test]
    fn probe_masks_are_every_mask_of_up_to_two_bits_once() {
        let mut seen = std::collections::HashSet::new();
        for &m in &PROBE_MASKS {
            assert!(m.count_ones() <= 2);
            assert!(seen.insert(m));
        }
        assert_eq!(masks(0), &[0]);
        assert!(masks(1).iter().all(|m| m.count_ones() <= 1));
        assert_eq!(masks(1).len(), 17);
    }

    #[test]
    fn substrings_agree() {
        let mut state = 7;
        let h = random_hash(&mut state);
        let subs = substrings(&h);
        for (t, &s) in subs.iter().enumerate() {
            assert_eq!(substring(&h, t), s);
        }
    }

    /// The probing path alone (without the linear-scan fallback) equals the linear scan, for clustered data
    /// where the fallback would otherwise take over.
    #[test]
    fn probing_alone_equals_linear_scan() {
        let mut state = 0x9e37_79b9_7f4a_7c15;
        let base = random_hash(&mut state);
        let mut hashes = Vec::new();
        for i in 0..600 {
            let mut h = if i % 3 == 0 {
                random_hash(&mut state)
            } else {
                base
            };
            for _ in 0..(xorshift(&mut state) % 50) {
                let bit = (xorshift(&mut state) % 256) as usize;
                h.0[bit / 64] ^= 1 << (bit % 64);
            }
            hashes.push(h);
        }
        hashes.push(base);
        hashes.push(base);
        let index = PdqIndex::build(hashes.clone());
        for radius in [0, 1, 15, 16, 31, 32, 47] {
            let mut got = Vec::new();
            index.probe_each(&base, radius, radius / 16, &mut |m| got.push(m));
            sort_matches(&mut got);
            assert_eq!(got, linear_scan(&hashes, &base, radius), "radius {radius}");
        }
    }
}
