//! The PDQ index against the linear scan it replaces: random data with planted near neighbours at every distance
//! 0–40, the radii where the probe radius changes, edge cases, and the byte form (round trip, truncation,
//! corruption).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use haven_core::hash::PdqHash;
use haven_core::hash::index::{
    DEFAULT_RADIUS, IndexError, IndexMatch, MAX_INDEXED_RADIUS, PdqIndex, linear_scan,
};
use proptest::prelude::*;
use std::sync::OnceLock;

/// The radii where the index changes how it probes (exact value, one-bit, two-bit neighbours), and two beyond
/// the index (linear scan).
const RADII: [u32; 9] = [0, 1, 15, 16, 31, 32, 47, 48, 100];

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

fn flip(hash: &mut PdqHash, bit: usize) {
    hash.0[bit / 64] ^= 1 << (bit % 64);
}

/// `base` with `d` distinct random bits flipped.
fn at_distance(base: &PdqHash, d: usize, state: &mut u64) -> PdqHash {
    let mut bits: Vec<usize> = (0..256).collect();
    for i in 0..d {
        let j = i + (xorshift(state) as usize) % (256 - i);
        bits.swap(i, j);
    }
    let mut h = *base;
    for &bit in &bits[..d] {
        flip(&mut h, bit);
    }
    h
}

/// `base` with `d` bits flipped spread evenly over the 16 substrings (each gets ⌊d/16⌋ or ⌈d/16⌉): the case the
/// pigeonhole bound is tight for.
fn spread(base: &PdqHash, d: usize, rotate: usize) -> PdqHash {
    let mut h = *base;
    for i in 0..d {
        let substring = (i + rotate) % 16;
        let within = (i / 16 * 5 + rotate) % 16;
        flip(&mut h, substring * 16 + within);
    }
    h
}

/// Random hashes with, around `query`, one planted hash at every distance 0..=40 in both ways.
fn data(seed: u64, n: usize, query: &PdqHash) -> Vec<PdqHash> {
    let mut state = seed | 1;
    let mut hashes: Vec<PdqHash> = (0..n).map(|_| random_hash(&mut state)).collect();
    for d in 0..=40 {
        let at = (xorshift(&mut state) as usize) % (hashes.len() + 1);
        hashes.insert(at, at_distance(query, d, &mut state));
        let at = (xorshift(&mut state) as usize) % (hashes.len() + 1);
        hashes.insert(at, spread(query, d, d));
    }
    hashes
}

fn check_all(index: &PdqIndex, hashes: &[PdqHash], query: &PdqHash) {
    for radius in RADII {
        let expected = linear_scan(hashes, query, radius);
        let got = index.query(query, radius);
        assert_eq!(got, expected, "radius {radius}");
        assert_eq!(index.nearest(query, radius), expected.first().copied());
        let mut each = Vec::new();
        index.query_each(query, radius, |m| each.push(m));
        each.sort_by_key(|m| (m.distance, m.id));
        assert_eq!(each, expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn query_equals_linear_scan(seed in any::<u64>(), n in 2000usize..6000) {
        let mut state = seed ^ 0x5851_f42d_4c95_7f2d;
        let query = random_hash(&mut state);
        let hashes = data(seed, n, &query);
        let index = PdqIndex::build(hashes.clone());
        prop_assert_eq!(index.len(), hashes.len());
        check_all(&index, &hashes, &query);
        // A random query (few or no neighbours) and one that is an entry.
        check_all(&index, &hashes, &random_hash(&mut state));
        check_all(&index, &hashes, &hashes[n / 2]);
    }

    #[test]
    fn query_any_is_the_union_with_smallest_distances(seed in any::<u64>()) {
        let mut state = seed | 1;
        let queries: Vec<PdqHash> = (0..8).map(|_| random_hash(&mut state)).collect();
        let mut hashes: Vec<PdqHash> = (0..2000).map(|_| random_hash(&mut state)).collect();
        for (i, q) in queries.iter().enumerate() {
            hashes.push(at_distance(q, i * 5, &mut state));
        }
        // One hash near two queries.
        hashes.push(spread(&queries[0], 20, 3));
        let index = PdqIndex::build(hashes.clone());
        for radius in [0, DEFAULT_RADIUS, MAX_INDEXED_RADIUS, 60] {
            let mut expected: Vec<IndexMatch> = Vec::new();
            for q in &queries {
                for m in linear_scan(&hashes, q, radius) {
                    match expected.iter_mut().find(|e| e.id == m.id) {
                        Some(e) => e.distance = e.distance.min(m.distance),
                        None => expected.push(m),
                    }
                }
            }
            expected.sort_by_key(|m| (m.distance, m.id));
            prop_assert_eq!(index.query_any(&queries, radius), expected);
        }
    }

    /// Random damage anywhere: an error, or an index exactly as `build` makes it from the hashes read.
    #[test]
    fn corrupted_bytes_never_panic(seed in any::<u64>(), writes in 1usize..4) {
        let mut state = seed | 1;
        let mut bytes = small_index_bytes().to_vec();
        for _ in 0..writes {
            // Half the writes land in the hashes and ids, which are a small part of the bytes.
            let at = if xorshift(&mut state).is_multiple_of(2) {
                (xorshift(&mut state) as usize) % bytes.len()
            } else {
                let ids_at = bytes.len() - 16 * 40 * 4;
                let k = (xorshift(&mut state) as usize) % (32 + 32 * 40 + 16 * 40 * 4);
                if k < 32 + 32 * 40 { k } else { ids_at + k - 32 - 32 * 40 }
            };
            bytes[at] ^= (xorshift(&mut state) as u8) | 1;
        }
        if let Ok(index) = PdqIndex::from_bytes(&bytes) {
            prop_assert_eq!(&index, &PdqIndex::build(index.hashes().collect()));
        }
    }
}

/// The bytes of an index of 40 random hashes, built once.
fn small_index_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let mut state = 5;
        let hashes: Vec<PdqHash> = (0..40).map(|_| random_hash(&mut state)).collect();
        PdqIndex::build(hashes).to_bytes()
    })
}

#[test]
fn larger_random_set_at_the_default_radius() {
    let mut state = 0x2545_f491_4f6c_dd1d;
    let query = random_hash(&mut state);
    let hashes = data(42, 60_000, &query);
    let index = PdqIndex::build(hashes.clone());
    for q in [query, random_hash(&mut state), hashes[1234]] {
        for radius in [DEFAULT_RADIUS, MAX_INDEXED_RADIUS] {
            assert_eq!(index.query(&q, radius), linear_scan(&hashes, &q, radius));
        }
    }
}

#[test]
fn empty_index() {
    let index = PdqIndex::build(Vec::new());
    assert!(index.is_empty());
    assert_eq!(index.len(), 0);
    assert_eq!(index.hash(0), None);
    let q = PdqHash::default();
    for radius in RADII {
        assert!(index.query(&q, radius).is_empty());
        assert_eq!(index.nearest(&q, radius), None);
    }
    assert!(index.query_any(&[q, q], 256).is_empty());
    let bytes = index.to_bytes();
    assert_eq!(Some(bytes.len()), PdqIndex::serialized_len(0));
    assert_eq!(PdqIndex::from_bytes(&bytes).unwrap(), index);
    assert!(linear_scan(&[], &q, 256).is_empty());
}

#[test]
fn duplicates_and_radius_zero() {
    let mut state = 99;
    let mut hashes: Vec<PdqHash> = (0..3000).map(|_| random_hash(&mut state)).collect();
    let dup = hashes[17];
    for at in [5, 500, 2999, 1000] {
        hashes.insert(at, dup);
    }
    let index = PdqIndex::build(hashes.clone());
    let exact = index.query(&dup, 0);
    assert_eq!(exact.len(), 5);
    assert!(
        exact
            .iter()
            .all(|m| m.distance == 0 && hashes[m.id as usize] == dup)
    );
    assert!(exact.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(index.nearest(&dup, 0).map(|m| m.id), Some(5));
    check_all(&index, &hashes, &dup);
    for (id, h) in hashes.iter().enumerate() {
        assert_eq!(index.hash(id as u32), Some(*h));
    }
    assert_eq!(index.hash(hashes.len() as u32), None);
}

#[test]
fn all_equal_hashes() {
    let h = PdqHash([1, 2, 3, 4]);
    let hashes = vec![h; 1000];
    let index = PdqIndex::build(hashes.clone());
    assert_eq!(index.query(&h, 0).len(), 1000);
    let far = spread(&h, 32, 0);
    assert!(index.query(&far, 31).is_empty());
    assert_eq!(index.query(&far, 32).len(), 1000);
    check_all(&index, &hashes, &h);
    check_all(&index, &hashes, &far);
    check_all(&index, &hashes, &spread(&h, 31, 5));
}

#[test]
fn round_trip() {
    let mut state = 7;
    let query = random_hash(&mut state);
    let hashes = data(7, 3000, &query);
    let index = PdqIndex::build(hashes.clone());
    let bytes = index.to_bytes();
    assert_eq!(Some(bytes.len()), PdqIndex::serialized_len(hashes.len()));
    let read = PdqIndex::from_bytes(&bytes).unwrap();
    assert_eq!(read, index);
    assert_eq!(read.to_bytes(), bytes);
    check_all(&read, &hashes, &query);
    assert!(index.memory_bytes() >= 96 * hashes.len() + 16 * 65_537 * 4);
}

#[test]
fn index_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PdqIndex>();
}

#[test]
fn every_truncation_is_an_error() {
    let mut state = 3;
    let hashes: Vec<PdqHash> = (0..10).map(|_| random_hash(&mut state)).collect();
    let bytes = PdqIndex::build(hashes).to_bytes();
    for len in 0..bytes.len() {
        assert!(PdqIndex::from_bytes(&bytes[..len]).is_err(), "length {len}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        PdqIndex::from_bytes(&longer),
        Err(IndexError::WrongLength { .. })
    ));
}

#[test]
fn targeted_corruption_is_an_error() {
    let mut state = 11;
    let hashes: Vec<PdqHash> = (0..12).map(|_| random_hash(&mut state)).collect();
    let index = PdqIndex::build(hashes.clone());
    let bytes = index.to_bytes();
    let n = hashes.len();
    let offsets_at = 32 + 32 * n;
    let ids_at = offsets_at + 16 * 65_537 * 4;
    // The prefix: the entry count (wrong length), the shape and the reserved bytes.
    for at in 0..32 {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut damaged = bytes.clone();
            damaged[at] ^= mask;
            assert!(
                PdqIndex::from_bytes(&damaged).is_err(),
                "byte {at} ^ {mask:#x}"
            );
        }
    }
    // A full check costs ~0.1 s in a debug build, so the rest is a sample: a byte of every word of a hash (first
    // halves, then second halves; a changed hash belongs in other buckets), offsets where a bucket holds an
    // entry, and id bytes.
    let hi_at = 32 + 16 * n;
    let mut positions: Vec<usize> = vec![
        32 + 16 * 2 + 1,
        32 + 16 * 2 + 8,
        hi_at + 16 * 5,
        hi_at + 16 * 5 + 15,
    ];
    positions.extend([offsets_at, offsets_at + 65_536 * 4]);
    for t in [0, 15] {
        let table = offsets_at + t * 65_537 * 4;
        let word = |b: usize| {
            let at = table + b * 4;
            u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
        };
        let changes: Vec<usize> = (0..65_536).filter(|&b| word(b) != word(b + 1)).collect();
        for &bucket in changes.iter().step_by(5) {
            positions.extend([table + bucket * 4, table + (bucket + 1) * 4 + 1]);
        }
    }
    for (t, id) in [(0, 0), (5, 3), (15, 11)] {
        positions.push(ids_at + (t * n + id) * 4);
    }
    positions.push(ids_at + 16 * n * 4 - 1);
    for at in positions {
        let mut damaged = bytes.clone();
        damaged[at] ^= if at % 2 == 0 { 0x01 } else { 0xff };
        assert!(
            PdqIndex::from_bytes(&damaged).is_err(),
            "byte {at} was accepted"
        );
    }
    // Swapping two ids of one table.
    let mut damaged = bytes.clone();
    let (a, b) = (ids_at + 4 * 2, ids_at + 4 * 9);
    for k in 0..4 {
        damaged.swap(a + k, b + k);
    }
    assert!(PdqIndex::from_bytes(&damaged).is_err());
    // A shape this version does not read.
    let mut damaged = bytes.clone();
    damaged[8] = 8;
    assert!(matches!(
        PdqIndex::from_bytes(&damaged),
        Err(IndexError::UnsupportedShape {
            tables: 8,
            bits: 16
        })
    ));
    // An entry count that overflows the length.
    let mut damaged = bytes;
    damaged[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(PdqIndex::from_bytes(&damaged).is_err());
}
