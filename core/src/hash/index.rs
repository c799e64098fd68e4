//! A Hamming-radius index over PDQ hashes: multi-index hashing (Norouzi, Punjani and Fleet, "Fast search in
//! Hamming space with multi-index hashing", CVPR 2012).
//!
//! The 256 bits of a hash are cut into [`TABLES`] = 16 substrings of 16 bits (substring `t` is bits
//! `16 (t % 4) .. 16 (t % 4) + 16` of word `t / 4` of [`PdqHash::0`]). If two hashes are within distance `r`,
//! then by pigeonhole at least one of their 16 substrings differs in at most `⌊r / 16⌋` bits. So the index keeps,
//! per substring, a table from each of the 65,536 substring values to the entries that have it (bucket offsets
//! and entry ids, sorted by value), and a query probes, in every table, each value within `⌊r / 16⌋` bits of its
//! own substring (1 value for `r` ≤ 15, 17 for `r` ≤ 31, 137 for `r` ≤ [`MAX_INDEXED_RADIUS`] = 47), then checks
//! the full distance of every entry found. Larger radii are answered by a linear scan.
//!
//! Each entry is reported once: only from the first table in which it is within the probe radius, which the
//! full check sees without any visited set. When the probed buckets hold more entries than a fraction of the
//! whole index (many duplicates, or a query in a dense cluster), the query scans linearly instead, which is then
//! cheaper; the results are the same either way.
//!
//! Speed comes from memory, not arithmetic: at 1M random hashes a radius-31 query checks about 4,150 candidates,
//! each a hash at a random place. So the index lives in one buffer in its [byte layout](PdqIndex::to_bytes), in
//! an anonymous memory map that Linux is asked to back with huge pages (fewer TLB misses); the first and second
//! halves of the hashes are stored apart (16-byte aligned, so a half is one cache line, and the first halves take
//! half the cache); and a query first collects the ids of a batch of candidates and touches their first halves
//! in a tight loop (so that many cache misses are in flight at once), then checks them: the first half alone
//! puts a random candidate far beyond any radius, so the second half is read only for near ones.
//!
//! Memory: the hashes (32 bytes each), 16 tables of entry ids (4 bytes per entry and table) and 16 × 65,537
//! bucket offsets (4 MiB in all): 96 bytes per hash plus 4 MiB. See [`PdqIndex::memory_bytes`].
//!
//! Dihedral variants (a flipped or rotated copy of an image) mostly have hashes that cannot be derived exactly from
//! the original's hash (a flip negates half the DCT coefficients, which moves their median); have the PDQ hasher
//! compute the eight hashes of the query image and pass them all to [`PdqIndex::query_any`].

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

/// When the probed buckets hold more than `len / FALLBACK_DIVISOR` entries, a linear scan is about as fast: it
/// reads the hashes in order, while the index reads each candidate at a random place, which cost 4–5 times as
/// much per hash on the benchmark machine (1M hashes: ~70 µs for ~4,150 candidates against ~4 ms for the scan;
/// see `benches/README.md`).
const FALLBACK_DIVISOR: usize = 4;

/// The bytes before the hashes in the layout: the entry count (u64), the table count (u32), the substring width
/// in bits (u32) and 16 zero bytes, so that the hash halves start aligned.
const PREFIX_BYTES: usize = 32;

/// Candidates collected and touched at once before they are checked: few enough that the cache lines touched
/// (256 × 64 bytes) are still in a 32 KiB L1 cache when they are checked. Measured on the benchmark machine
/// (1M / 10M hashes, radius 31): batches of 128–512 ~66 / ~550 µs per query, 4,096 ~80 / ~830 µs.
const BATCH: usize = 256;

/// The most buckets a query probes: 137 per table.
const MAX_PROBES: usize = TABLES * PROBE_MASKS.len();

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
    /// The table count, substring width or reserved bytes are not the ones this version writes (16, 16, zeros).
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

/// The index's bytes: an anonymous memory map where one can be made (page-aligned, huge pages asked for on
/// Linux), else the heap.
enum Storage {
    Map(memmap2::MmapMut),
    Heap(Vec<u8>),
}

impl Storage {
    /// `len` zero bytes.
    fn zeroed(len: usize) -> Storage {
        match memmap2::MmapMut::map_anon(len) {
            Ok(map) => {
                // Advice only: without huge pages the index is slower, not wrong.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                Storage::Map(map)
            }
            Err(_) => Storage::Heap(vec![0; len]),
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Map(map) => map,
            Storage::Heap(vec) => vec,
        }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            Storage::Map(map) => map,
            Storage::Heap(vec) => vec,
        }
    }
}

/// An immutable Hamming-radius index over PDQ hashes (see the [module docs](self)). `Send + Sync`: share one
/// behind an `Arc`.
pub struct PdqIndex {
    /// The layout of [`PdqIndex::to_bytes`], exactly [`PdqIndex::serialized_len`] bytes.
    storage: Storage,
    /// The number of entries.
    len: usize,
}

/// The regions of the layout.
struct Parts<'a> {
    /// Words 0 and 1 of every hash.
    lo: &'a [[u8; 16]],
    /// Words 2 and 3 of every hash.
    hi: &'a [[u8; 16]],
    offsets: &'a [[u8; 4]],
    ids: &'a [[u8; 4]],
}

impl Parts<'_> {
    /// The words of entry `id`.
    #[inline]
    fn words(&self, id: usize) -> Option<[u64; 4]> {
        let ([a, b], [c, d]) = (half(self.lo.get(id)?), half(self.hi.get(id)?));
        Some([a, b, c, d])
    }
}

impl fmt::Debug for PdqIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PdqIndex")
            .field("len", &self.len)
            .field("memory_bytes", &self.memory_bytes())
            .finish_non_exhaustive()
    }
}

impl PartialEq for PdqIndex {
    fn eq(&self, other: &PdqIndex) -> bool {
        self.storage.bytes() == other.storage.bytes()
    }
}

impl Eq for PdqIndex {}

impl Clone for PdqIndex {
    fn clone(&self) -> PdqIndex {
        let mut storage = Storage::zeroed(self.storage.bytes().len());
        storage.bytes_mut().copy_from_slice(self.storage.bytes());
        PdqIndex {
            storage,
            len: self.len,
        }
    }
}

/// Two words of a hash in the layout.
#[inline]
fn half(bytes: &[u8; 16]) -> [u64; 2] {
    let (a, b) = bytes.split_at(8);
    let word = |w: &[u8]| <[u8; 8]>::try_from(w).map_or(0, u64::from_le_bytes);
    [word(a), word(b)]
}

/// Substring `t` of a hash's words (0–15 of all four words, or 0–7 of two).
#[inline]
fn substring(words: &[u64], t: usize) -> u16 {
    let word = words.get(t / 4).copied().unwrap_or(0);
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
fn first_table(hash: &[u64; 4], query: &[u64; 4], probe: u32) -> usize {
    let mut t = 0;
    for (a, b) in hash.iter().zip(query) {
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

/// The Hamming distance of two hashes' words.
#[inline]
fn distance(a: &[u64; 4], b: &[u64; 4]) -> u32 {
    a.iter().zip(b).map(|(a, b)| (a ^ b).count_ones()).sum()
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

/// The reference search: every hash within `radius` of `query`, sorted by (distance, id). Entry ids are
/// positions in `hashes`; hashes beyond position `u32::MAX` are not searched.
pub fn linear_scan(hashes: &[PdqHash], query: &PdqHash, radius: u32) -> Vec<IndexMatch> {
    let mut matches = Vec::new();
    for (hash, id) in hashes.iter().zip(0..=u32::MAX) {
        let distance = hash.distance(query);
        if distance <= radius {
            matches.push(IndexMatch { id, distance });
        }
    }
    sort_matches(&mut matches);
    matches
}

/// Where each region starts, and the whole length, for `len` entries (`None` on overflow).
struct Layout {
    hi_at: usize,
    offsets_at: usize,
    ids_at: usize,
    total: usize,
}

impl Layout {
    fn new(len: usize) -> Option<Layout> {
        let hi_at = len.checked_mul(16)?.checked_add(PREFIX_BYTES)?;
        let offsets_at = len.checked_mul(16)?.checked_add(hi_at)?;
        let ids_at = offsets_at.checked_add(4 * TABLES * OFFSETS_PER_TABLE)?;
        let total = len.checked_mul(4 * TABLES)?.checked_add(ids_at)?;
        Some(Layout {
            hi_at,
            offsets_at,
            ids_at,
            total,
        })
    }
}

/// Puts `value` at `at` in `bytes` (nothing if out of range, which the layout rules out).
fn put_u32(bytes: &mut [u8], at: usize, value: u32) {
    if let Some(slot) = bytes.get_mut(at..at + 4) {
        slot.copy_from_slice(&value.to_le_bytes());
    }
}

impl PdqIndex {
    /// Builds the index; entry id = position in `hashes`. Entries beyond [`MAX_ENTRIES`] (4,294,967,295, i.e.
    /// 128 GiB of hashes) are dropped; use [`PdqIndex::try_build`] to get an error instead.
    pub fn build(mut hashes: Vec<PdqHash>) -> PdqIndex {
        hashes.truncate(MAX_ENTRIES);
        // The error is unreachable after the truncation; an empty index is the safe answer.
        PdqIndex::try_build(hashes)
            .or_else(|_| PdqIndex::try_build(Vec::new()))
            .unwrap_or_else(|_| PdqIndex {
                storage: Storage::Heap(Vec::new()),
                len: 0,
            })
    }

    /// Builds the index; entry id = position in `hashes`. Errors with more than [`MAX_ENTRIES`] hashes.
    pub fn try_build(hashes: Vec<PdqHash>) -> Result<PdqIndex, IndexError> {
        let n = hashes.len();
        let too_many = IndexError::TooManyEntries { len: n as u64 };
        if n > MAX_ENTRIES {
            return Err(too_many);
        }
        let layout = Layout::new(n).ok_or(too_many)?;
        let mut storage = Storage::zeroed(layout.total);
        let bytes = storage.bytes_mut();
        let (prefix, rest) = bytes.split_at_mut(layout.offsets_at.min(bytes.len()));
        let (head, hash_bytes) = prefix.split_at_mut(PREFIX_BYTES.min(prefix.len()));
        for (slot, value) in
            head.chunks_exact_mut(4)
                .zip([n as u32, (n as u64 >> 32) as u32, 16, 16])
        {
            slot.copy_from_slice(&value.to_le_bytes());
        }
        let (lo, hi) = hash_bytes.split_at_mut((n * 16).min(hash_bytes.len()));
        for ((lo, hi), hash) in lo
            .chunks_exact_mut(16)
            .zip(hi.chunks_exact_mut(16))
            .zip(&hashes)
        {
            for (slot, word) in lo
                .chunks_exact_mut(8)
                .chain(hi.chunks_exact_mut(8))
                .zip(hash.0)
            {
                slot.copy_from_slice(&word.to_le_bytes());
            }
        }
        let (offsets, ids) = rest.split_at_mut((layout.ids_at - layout.offsets_at).min(rest.len()));
        if n > 0 {
            // A counting sort by substring value per table (ids stay ascending within a bucket), the four tables
            // of a word at once: 8 passes over the hashes instead of 32.
            let mut counts = vec![0u32; 4 * OFFSETS_PER_TABLE];
            for ((word_offsets, word_ids), w) in offsets
                .chunks_exact_mut(4 * 4 * OFFSETS_PER_TABLE)
                .zip(ids.chunks_exact_mut(4 * 4 * n))
                .zip(0..4)
            {
                let word = |hash: &PdqHash| hash.0.get(w).copied().unwrap_or(0);
                counts.fill(0);
                for hash in &hashes {
                    let x = word(hash);
                    for (k, table_counts) in counts.chunks_exact_mut(OFFSETS_PER_TABLE).enumerate()
                    {
                        if let Some(count) =
                            table_counts.get_mut(usize::from((x >> (16 * k)) as u16) + 1)
                        {
                            *count += 1;
                        }
                    }
                }
                for (table_counts, table_offsets) in counts
                    .chunks_exact_mut(OFFSETS_PER_TABLE)
                    .zip(word_offsets.chunks_exact_mut(4 * OFFSETS_PER_TABLE))
                {
                    let mut sum = 0u32;
                    for (count, slot) in table_counts
                        .iter_mut()
                        .zip(table_offsets.chunks_exact_mut(4))
                    {
                        sum += *count;
                        *count = sum;
                        slot.copy_from_slice(&sum.to_le_bytes());
                    }
                }
                // `counts` now holds each bucket's start: the cursor where its next id goes.
                let mut tables: Vec<(&mut [u32], &mut [u8])> = counts
                    .chunks_exact_mut(OFFSETS_PER_TABLE)
                    .zip(word_ids.chunks_exact_mut(4 * n))
                    .collect();
                for (hash, id) in hashes.iter().zip(0u32..) {
                    let x = word(hash);
                    for (k, (cursors, table_ids)) in tables.iter_mut().enumerate() {
                        if let Some(at) = cursors.get_mut(usize::from((x >> (16 * k)) as u16)) {
                            put_u32(table_ids, *at as usize * 4, id);
                            *at += 1;
                        }
                    }
                }
            }
        }
        Ok(PdqIndex { storage, len: n })
    }

    /// The regions of the layout.
    fn parts(&self) -> Parts<'_> {
        let bytes = self.storage.bytes();
        let layout = Layout::new(self.len);
        let region = |from: Option<usize>, to: Option<usize>| match (from, to) {
            (Some(from), Some(to)) => bytes.get(from..to).unwrap_or_default(),
            _ => &[],
        };
        let hi_at = layout.as_ref().map(|l| l.hi_at);
        let offsets_at = layout.as_ref().map(|l| l.offsets_at);
        let ids_at = layout.as_ref().map(|l| l.ids_at);
        Parts {
            lo: region(Some(PREFIX_BYTES), hi_at).as_chunks().0,
            hi: region(hi_at, offsets_at).as_chunks().0,
            offsets: region(offsets_at, ids_at).as_chunks().0,
            ids: region(ids_at, layout.as_ref().map(|l| l.total))
                .as_chunks()
                .0,
        }
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the index has no entries.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The hash of entry `id`.
    pub fn hash(&self, id: u32) -> Option<PdqHash> {
        self.parts().words(id as usize).map(PdqHash)
    }

    /// All hashes, in entry id order.
    pub fn hashes(&self) -> impl ExactSizeIterator<Item = PdqHash> + '_ {
        let parts = self.parts();
        parts.lo.iter().zip(parts.hi).map(|(lo, hi)| {
            let ([a, b], [c, d]) = (half(lo), half(hi));
            PdqHash([a, b, c, d])
        })
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
        if self.len == 0 {
            return;
        }
        let parts = self.parts();
        let Some(probe) = probe_radius(radius) else {
            return Self::scan(&parts, query, radius, &mut f);
        };
        let mut ranges = [(0usize, 0usize); MAX_PROBES];
        let (used, total) = self.probe_ranges(&parts, query, probe, &mut ranges);
        if total > self.len / FALLBACK_DIVISOR {
            return Self::scan(&parts, query, radius, &mut f);
        }
        let used = ranges.get(..used).unwrap_or_default();
        Self::probe_each(
            &parts,
            used,
            masks(probe).len(),
            query,
            radius,
            probe,
            &mut f,
        );
    }

    /// Fills `ranges` with the probed buckets, as ranges of positions in the ids region, table by table
    /// (`masks(probe).len()` per table); returns how many it filled and how many entries they hold in all.
    fn probe_ranges(
        &self,
        parts: &Parts<'_>,
        query: &PdqHash,
        probe: u32,
        ranges: &mut [(usize, usize); MAX_PROBES],
    ) -> (usize, usize) {
        let mut slots = ranges.iter_mut();
        let (mut used, mut total) = (0, 0);
        for (t, (&q, offsets)) in substrings(query)
            .iter()
            .zip(parts.offsets.chunks_exact(OFFSETS_PER_TABLE))
            .enumerate()
        {
            let base = t * self.len;
            for &mask in masks(probe) {
                let v = usize::from(q ^ mask);
                let (Some(start), Some(end), Some(slot)) =
                    (offsets.get(v), offsets.get(v + 1), slots.next())
                else {
                    continue;
                };
                let (start, end) = (
                    u32::from_le_bytes(*start) as usize,
                    u32::from_le_bytes(*end) as usize,
                );
                total += end.saturating_sub(start);
                *slot = (base + start, base + end);
                used += 1;
            }
        }
        (used, total)
    }

    /// The index search proper over the probed buckets (`per_table` ranges per table), a batch of candidates at a
    /// time: collect their ids, touch their first halves (many misses in flight), then check them (now in cache).
    fn probe_each(
        parts: &Parts<'_>,
        ranges: &[(usize, usize)],
        per_table: usize,
        query: &PdqHash,
        radius: u32,
        probe: u32,
        f: &mut impl FnMut(IndexMatch),
    ) {
        // Touch the start and end of every bucket first (at 1M hashes a bucket is ~15 ids, often across two cache
        // lines), so that their misses overlap too.
        let mut touched = 0u8;
        for &(start, end) in ranges {
            touched ^= parts.ids.get(start).map_or(0, |id| id[0]);
            touched ^= parts.ids.get(end.wrapping_sub(1)).map_or(0, |id| id[0]);
        }
        std::hint::black_box(touched);
        // Each candidate with its table in the high half.
        let mut batch = [0u64; BATCH];
        let mut filled = 0;
        for (table_ranges, t) in ranges.chunks(per_table.max(1)).zip(0u64..) {
            for &(start, end) in table_ranges {
                let mut ids = parts.ids.get(start..end).unwrap_or_default();
                while !ids.is_empty() {
                    let (now, later) = ids.split_at(ids.len().min(BATCH - filled));
                    if let Some(slots) = batch.get_mut(filled..filled + now.len()) {
                        for (slot, id) in slots.iter_mut().zip(now) {
                            *slot = (t << 32) | u64::from(u32::from_le_bytes(*id));
                        }
                    }
                    filled += now.len();
                    ids = later;
                    if filled == BATCH {
                        Self::touch_and_check(parts, &batch, query, radius, probe, f);
                        filled = 0;
                    }
                }
            }
        }
        let rest = batch.get(..filled).unwrap_or_default();
        Self::touch_and_check(parts, rest, query, radius, probe, f);
    }

    /// Touches the first half of every candidate in a batch (`table << 32 | id`), then checks them, reporting each
    /// match from its first table only.
    #[inline]
    fn touch_and_check(
        parts: &Parts<'_>,
        batch: &[u64],
        query: &PdqHash,
        radius: u32,
        probe: u32,
        f: &mut impl FnMut(IndexMatch),
    ) {
        let mut touched = 0u8;
        for &candidate in batch {
            touched ^= parts.lo.get(candidate as u32 as usize).map_or(0, |h| h[0]);
        }
        std::hint::black_box(touched);
        let q = &query.0;
        for &candidate in batch {
            let id = candidate as u32;
            let Some(lo) = parts.lo.get(id as usize) else {
                continue;
            };
            let [a, b] = half(lo);
            // The first half alone: a random candidate is already far beyond any radius there.
            let near = (a ^ q[0]).count_ones() + (b ^ q[1]).count_ones();
            if near > radius {
                continue;
            }
            let Some(h) = parts.words(id as usize) else {
                continue;
            };
            let distance = distance(&h, q);
            if distance <= radius && first_table(&h, q, probe) as u64 == candidate >> 32 {
                f(IndexMatch { id, distance });
            }
        }
    }

    /// The linear scan over the index's own hashes.
    fn scan(parts: &Parts<'_>, query: &PdqHash, radius: u32, f: &mut impl FnMut(IndexMatch)) {
        for ((lo, hi), id) in parts.lo.iter().zip(parts.hi).zip(0..=u32::MAX) {
            let ([a, b], [c, d]) = (half(lo), half(hi));
            let distance = distance(&[a, b, c, d], &query.0);
            if distance <= radius {
                f(IndexMatch { id, distance });
            }
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

    /// Bytes held: the index's buffer plus the struct itself.
    pub fn memory_bytes(&self) -> usize {
        size_of::<PdqIndex>() + self.storage.bytes().len()
    }

    /// The length of [`PdqIndex::to_bytes`] for `len` entries: 32 + 96 × `len` + 4,194,368 (`None` if that
    /// overflows `usize`).
    pub fn serialized_len(len: usize) -> Option<usize> {
        Layout::new(len).map(|l| l.total)
    }

    /// The index as flat little-endian bytes, which is also its layout in memory (`n` = [`PdqIndex::len`]):
    ///
    /// 1. 32 bytes: `n` as u64, the table count (16) and the substring width in bits (16) as u32, 16 zero bytes;
    /// 2. the first halves of the hashes, `n` × 2 u64 (words 0 and 1 of [`PdqHash::0`]), starting at byte 32;
    /// 3. the second halves, `n` × 2 u64 (words 2 and 3);
    /// 4. the bucket offsets, 16 tables × 65,537 u32: for table `t`, the entries whose substring `t` has value
    ///    `v` are positions `offsets[t][v] .. offsets[t][v + 1]` of that table's ids;
    /// 5. the entry ids, 16 tables × `n` u32, each table's sorted by (substring value, id).
    ///
    /// Length: see [`PdqIndex::serialized_len`].
    pub fn to_bytes(&self) -> Vec<u8> {
        self.storage.bytes().to_vec()
    }

    /// Reads [`PdqIndex::to_bytes`] into an owned index, checking everything a query relies on: the length,
    /// the shape, that every table's offsets start at 0, never decrease and end at `n`, and that every id is
    /// below `n`, ascending within its bucket and in the bucket of its hash's substring (so each table holds
    /// every entry exactly once, and the index is exactly the one [`PdqIndex::build`] makes from its hashes).
    /// Anything else is an [`IndexError`].
    pub fn from_bytes(bytes: &[u8]) -> Result<PdqIndex, IndexError> {
        let actual = bytes.len() as u64;
        let Some((head, _)) = bytes.split_first_chunk::<PREFIX_BYTES>() else {
            return Err(IndexError::WrongLength {
                expected: 0,
                actual,
            });
        };
        let (fields, _) = head.as_chunks::<4>();
        let field = |k: usize| fields.get(k).map_or(0, |b| u32::from_le_bytes(*b));
        let n = u64::from(field(0)) | (u64::from(field(1)) << 32);
        let (tables, bits) = (field(2), field(3));
        if tables as usize != TABLES || bits != 16 || head.iter().skip(16).any(|&b| b != 0) {
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
        let mut storage = Storage::zeroed(bytes.len());
        storage.bytes_mut().copy_from_slice(bytes);
        let index = PdqIndex { storage, len };
        index.validate()?;
        Ok(index)
    }

    /// The table checks of [`PdqIndex::from_bytes`].
    fn validate(&self) -> Result<(), IndexError> {
        let n = self.len;
        let parts = self.parts();
        // Per table, each id's bucket as the table says, stamped with the table (`(t + 1) << 16 | bucket`), so
        // that an id the table lacks keeps an older stamp. Writing at random places is cheaper than reading
        // there; the comparison with the hashes' own substrings is then in order.
        let mut bucket_of = vec![0u32; n];
        for ((t, offsets), stamp) in parts
            .offsets
            .chunks_exact(OFFSETS_PER_TABLE)
            .enumerate()
            .zip((1u32..).map(|k| k << 16))
        {
            let ids = parts.ids.get(t * n..(t + 1) * n).unwrap_or_default();
            let bad_offsets = |bucket| IndexError::BadOffsets { table: t, bucket };
            let bad_id = |bucket| IndexError::BadId { table: t, bucket };
            let offset = |v: usize| offsets.get(v).map(|b| u32::from_le_bytes(*b) as usize);
            if offset(0) != Some(0) {
                return Err(bad_offsets(0));
            }
            if offset(BUCKETS) != Some(n) {
                return Err(bad_offsets(BUCKETS));
            }
            let mut start = 0;
            for (v, stamped) in (0..BUCKETS).zip(stamp..) {
                let end = offset(v + 1).unwrap_or(0);
                if end < start || end > n {
                    return Err(bad_offsets(v + 1));
                }
                let mut previous: Option<u32> = None;
                for id in ids.get(start..end).unwrap_or_default() {
                    let id = u32::from_le_bytes(*id);
                    if previous.is_some_and(|p| p >= id) {
                        return Err(bad_id(v));
                    }
                    let slot = bucket_of.get_mut(id as usize).ok_or(bad_id(v))?;
                    *slot = stamped;
                    previous = Some(id);
                }
                start = end;
            }
            let halves = if t < 8 { parts.lo } else { parts.hi };
            for (&stamped, bytes) in bucket_of.iter().zip(halves) {
                if stamped != stamp | u32::from(substring(&half(bytes), t % 8)) {
                    return Err(bad_id((stamped & 0xffff) as usize));
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
            assert_eq!(substring(&h.0, t), s);
        }
    }

    #[test]
    fn layout_is_as_documented() {
        let index = PdqIndex::build(vec![PdqHash([1, 2, 3, 4]); 3]);
        let bytes = index.to_bytes();
        assert_eq!(bytes.len(), 32 + 96 * 3 + 4 * 16 * 65_537);
        assert_eq!(
            &bytes[..16],
            &[3, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 16, 0, 0, 0]
        );
        assert_eq!(&bytes[32..40], &1u64.to_le_bytes());
        assert_eq!(&bytes[40..48], &2u64.to_le_bytes());
        assert_eq!(&bytes[32 + 16 * 3..32 + 16 * 3 + 8], &3u64.to_le_bytes());
        assert_eq!(index.hash(2), Some(PdqHash([1, 2, 3, 4])));
        assert_eq!(index.memory_bytes(), bytes.len() + size_of::<PdqIndex>());
    }

    /// The probing path alone (without the linear-scan fallback) equals the linear scan, for clustered data
    /// where the fallback would otherwise take over. Small batches so that a table's candidates span several.
    #[test]
    fn probing_alone_equals_linear_scan() {
        let mut state = 0x9e37_79b9_7f4a_7c15;
        let base = random_hash(&mut state);
        let mut hashes = Vec::new();
        for i in 0..3000 {
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
        let parts = index.parts();
        for radius in [0, 1, 15, 16, 31, 32, 47] {
            let probe = radius / 16;
            let mut ranges = [(0, 0); MAX_PROBES];
            let (used, total) = index.probe_ranges(&parts, &base, probe, &mut ranges);
            assert_eq!(used, TABLES * masks(probe).len());
            assert!(total > BATCH || radius < 16, "radius {radius}: {total}");
            let mut got = Vec::new();
            PdqIndex::probe_each(
                &parts,
                &ranges[..used],
                masks(probe).len(),
                &base,
                radius,
                probe,
                &mut |m| got.push(m),
            );
            sort_matches(&mut got);
            assert_eq!(got, linear_scan(&hashes, &base, radius), "radius {radius}");
        }
    }
}
