//! Arbitrary bytes as an image → decode under limits → PDQ (both modes, dihedral): never panics, never allocates
//! beyond the limits (a decompression bomb is an error).
#![no_main]

use haven_core::hash::image::{DecodeLimits, decode};
use haven_core::hash::pdq::{Resize, hash_dihedral, hash_image};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits {
        max_width: 2048,
        max_height: 2048,
        max_alloc: 64 << 20,
        max_bytes: 1 << 20,
    };
    let Ok(image) = decode(data, &limits) else {
        return;
    };
    for resize in [Resize::Full, Resize::Max512] {
        if let Ok(result) = hash_image(&image, resize) {
            assert!(result.quality <= 100);
        }
    }
    let _ = hash_dihedral(&image, Resize::Max512);
});
