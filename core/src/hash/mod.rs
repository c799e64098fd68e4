//! The hash engine: exact (MD5, SHA-1, BLAKE3) and perceptual (PDQ) matching of images against lists of known
//! abuse material.
//!
//! A match is [`Category::KnownAbuse`](crate::Category::KnownAbuse): blocked for every age and never overridable.
//! The lists themselves are access-controlled; Haven loads whatever list the integrator is licensed to hold. The
//! image is never stored or logged, and no error carries any of its bytes.

use std::fmt;

pub mod index;
pub mod pdq;

/// A 256-bit PDQ hash. The hex form is the one Meta's reference implementations print (64 lower-case hex digits);
/// word 0 holds the first 16 hex digits, most significant first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct PdqHash(pub [u64; 4]);

/// A hex string that is not a hash of the expected kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a {expected_digits}-digit hex hash")]
pub struct BadHex {
    /// How many hex digits were expected.
    pub expected_digits: usize,
}

impl PdqHash {
    /// Parses 64 hex digits (either case).
    pub fn from_hex(hex: &str) -> Result<PdqHash, BadHex> {
        let bad = BadHex {
            expected_digits: 64,
        };
        if hex.len() != 64 || !hex.is_ascii() {
            return Err(bad);
        }
        let mut words = [0u64; 4];
        for (word, chunk) in words.iter_mut().zip(hex.as_bytes().chunks(16)) {
            let text = std::str::from_utf8(chunk).map_err(|_| bad)?;
            *word = u64::from_str_radix(text, 16).map_err(|_| bad)?;
        }
        Ok(PdqHash(words))
    }

    /// The 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|w| format!("{w:016x}")).collect()
    }

    /// The hash as 32 bytes, in hex order.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut bytes = [0u8; 32];
        for (chunk, word) in bytes.chunks_mut(8).zip(self.0) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        bytes
    }

    /// The hash from 32 bytes in hex order.
    pub fn from_bytes(bytes: [u8; 32]) -> PdqHash {
        let mut words = [0u64; 4];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks(8)) {
            let mut be = [0u8; 8];
            be.copy_from_slice(chunk);
            *word = u64::from_be_bytes(be);
        }
        PdqHash(words)
    }

    /// The number of differing bits (0–256).
    pub fn distance(&self, other: &PdqHash) -> u32 {
        self.0
            .iter()
            .zip(other.0)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }

    /// Bit `i` (0–255) in the reference implementation's numbering: bit `i` is bit `i % 16` of the 16-bit word
    /// `i / 16`, where word 15 is printed first.
    pub fn bit(&self, i: usize) -> bool {
        let (word, shift) = Self::position(i);
        self.0.get(word).is_some_and(|w| (w >> shift) & 1 == 1)
    }

    /// Sets bit `i` (0–255) in the reference numbering (see [`PdqHash::bit`]); other values of `i` are ignored.
    pub fn set_bit(&mut self, i: usize) {
        let (word, shift) = Self::position(i);
        if let Some(w) = self.0.get_mut(word) {
            *w |= 1 << shift;
        }
    }

    /// Reference bit `i` → (index into `self.0`, shift within that u64).
    fn position(i: usize) -> (usize, u32) {
        // Reference word k (16 bits) is printed at hex position (15 - k) * 4, i.e. in u64 word (15 - k) / 4 at
        // 16-bit slot (15 - k) % 4 counted from the most significant end.
        let k = i / 16;
        if k > 15 {
            return (usize::MAX, 0);
        }
        let printed = 15 - k;
        let word = printed / 4;
        let slot = printed % 4;
        let shift = (3 - slot) * 16 + (i % 16);
        (word, u32::try_from(shift).unwrap_or(0))
    }
}

impl fmt::Debug for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PdqHash({})", self.to_hex())
    }
}

impl fmt::Display for PdqHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hex_round_trips_and_distance_counts_bits() {
        let hex = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
        let h = PdqHash::from_hex(hex).unwrap();
        assert_eq!(h.to_hex(), hex);
        assert_eq!(PdqHash::from_bytes(h.to_bytes()), h);
        assert_eq!(PdqHash::from_hex(&hex.to_uppercase()).unwrap(), h);
        let g =
            PdqHash::from_hex("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22")
                .unwrap();
        assert_eq!(h.distance(&h), 0);
        assert_eq!(h.distance(&g), g.distance(&h));
        assert!(h.distance(&g) > 0 && h.distance(&g) < 16);
        assert!(PdqHash::from_hex(&hex[1..]).is_err());
        assert!(PdqHash::from_hex(&format!("{}g", &hex[1..])).is_err());
    }

    #[test]
    fn reference_bit_numbering() {
        // Bit 0 is the lowest bit of reference word 0, which is printed last.
        let mut h = PdqHash::default();
        h.set_bit(0);
        assert_eq!(&h.to_hex()[60..], "0001");
        let mut h = PdqHash::default();
        h.set_bit(255);
        assert_eq!(&h.to_hex()[..4], "8000");
        let mut h = PdqHash::default();
        h.set_bit(17);
        assert_eq!(&h.to_hex()[56..60], "0002");
        for i in 0..256 {
            let mut h = PdqHash::default();
            h.set_bit(i);
            assert!(h.bit(i));
            assert_eq!(h.distance(&PdqHash::default()), 1);
        }
    }
}
