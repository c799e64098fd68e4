//! PDQ: agreement with Meta's references on the shared test images, robustness of matches on generated images,
//! dihedral variants, and hostile inputs (decompression bombs, truncated and random data).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use haven_core::hash::PdqHash;
use haven_core::hash::image::{DecodeLimits, ImageError, decode, decode_file};
use haven_core::hash::pdq::{
    Dihedral, MIN_QUALITY, MatchPolicy, PdqError, PdqResult, Resize, hash_dihedral, hash_image,
    hash_luma, hash_luma_dihedral, hash_rgb,
};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

// ---------------------------------------------------------------------------------------------------------------
// The largest single allocation made by this test binary, to show that a bomb is refused before any big buffer
// exists (on Linux a huge zeroed allocation can "succeed" lazily, so not crashing proves nothing).

struct Counting;

static LARGEST_ALLOCATION: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
// SAFETY: forwards every call unchanged to the system allocator; only records the largest size requested.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

// ---------------------------------------------------------------------------------------------------------------
// Reference agreement

/// `../shared/reference/pdq` next to the repository (public test images and reference hashes; not ours to commit).
fn reference_dir() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/reference/pdq"
    ));
    if dir.join("expected_pdqhash_binding.csv").exists() {
        Some(dir.to_path_buf())
    } else {
        eprintln!(
            "NOTE: {} is absent; reference agreement not checked",
            dir.display()
        );
        None
    }
}

/// `hash,quality,path` rows.
fn read_reference(path: &Path) -> Vec<(PdqHash, u8, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                PdqHash::from_hex(f[0]).unwrap(),
                f[1].parse().unwrap(),
                f[2].to_string(),
            )
        })
        .collect()
}

/// One reference's comparison: (distance, reference quality, our quality, path) per image.
struct Agreement {
    name: &'static str,
    rows: Vec<(u32, u8, u8, String)>,
}

impl Agreement {
    /// Prints the distribution of bit differences and every image that is not identical.
    fn report(&self) {
        let mut all = BTreeMap::new();
        let mut usable = BTreeMap::new();
        for (d, q_ref, _, _) in &self.rows {
            *all.entry(*d).or_insert(0) += 1;
            if *q_ref >= MIN_QUALITY {
                *usable.entry(*d).or_insert(0) += 1;
            }
        }
        eprintln!(
            "{}: bits differing -> images, all {} images: {all:?}; reference quality >= {MIN_QUALITY} ({} images): {usable:?}",
            self.name,
            self.rows.len(),
            usable.values().sum::<usize>()
        );
        for (d, q_ref, q, path) in &self.rows {
            if *d != 0 || q_ref != q {
                eprintln!("  {path}: {d} bits, quality {q} (reference {q_ref})");
            }
        }
    }

    /// Asserts the targets on the images of reference quality >= 50, leaving out `exceptions` (each reported):
    /// every image within 4 bits, and (when `complete`, i.e. every image was checked) at least 95 % identical.
    fn assert_targets(&self, exceptions: &[(&str, &str)], complete: bool) {
        let considered: Vec<_> = self
            .rows
            .iter()
            .filter(|(_, q_ref, _, path)| {
                *q_ref >= MIN_QUALITY && !exceptions.iter().any(|(p, _)| p == path)
            })
            .collect();
        for (path, why) in exceptions {
            let row = self.rows.iter().find(|r| r.3 == *path);
            eprintln!(
                "  {}: {path} left out of the targets ({} bits): {why}",
                self.name,
                row.map_or(0, |r| r.0)
            );
        }
        let identical = considered.iter().filter(|r| r.0 == 0).count();
        let share = identical as f64 / considered.len() as f64;
        let worst = considered.iter().map(|r| r.0).max().unwrap_or(0);
        eprintln!(
            "  {}: {identical}/{} identical ({:.1} %), worst {worst} bits",
            self.name,
            considered.len(),
            share * 100.0
        );
        assert!(
            !complete || share >= 0.95,
            "{}: only {:.1} % identical",
            self.name,
            share * 100.0
        );
        assert!(worst <= 4, "{}: an image is {worst} bits away", self.name);
    }
}

/// `f` over `items` on all cores (the images are independent; decoding dominates, and is slow in debug builds).
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

/// In debug builds only images up to this many pixels are checked: decoding and hashing the 12-megapixel photos
/// unoptimised takes minutes. `cargo test --release` checks every image and asserts both targets.
const DEBUG_MAX_PIXELS: u64 = 1_300_000;

/// Both references in one pass over the images (each image is decoded once).
#[test]
fn agrees_with_the_reference_implementations() {
    let Some(dir) = reference_dir() else {
        return;
    };
    let binding = read_reference(&dir.join("expected_pdqhash_binding.csv"));
    let cli: BTreeMap<String, (PdqHash, u8)> =
        read_reference(&dir.join("expected_cpp_reference.csv"))
            .into_iter()
            .map(|(h, q, p)| (p, (h, q)))
            .collect();
    assert!(binding.len() >= 50, "expected the full reference set");
    let complete = !cfg!(debug_assertions);
    let rows = parallel_map(&binding, |(expected, quality, path)| {
        if !complete {
            let (w, h) = image::ImageReader::open(dir.join(path))
                .unwrap()
                .with_guessed_format()
                .unwrap()
                .into_dimensions()
                .unwrap();
            if u64::from(w) * u64::from(h) > DEBUG_MAX_PIXELS {
                return None;
            }
        }
        let image = decode_file(dir.join(path), &DecodeLimits::default()).unwrap();
        let full = hash_image(&image, Resize::Full).unwrap();
        let (cli_hash, cli_quality) = cli[path];
        let fast = hash_image(&image, Resize::Max512).unwrap();
        Some((
            (
                full.hash.distance(expected),
                *quality,
                full.quality,
                path.clone(),
            ),
            (
                fast.hash.distance(&cli_hash),
                cli_quality,
                fast.quality,
                path.clone(),
            ),
        ))
    });
    let (full, max512): (Vec<_>, Vec<_>) = rows.into_iter().flatten().unzip();
    let full = Agreement {
        name: "Full vs pdqhash binding (expected_pdqhash_binding.csv)",
        rows: full,
    };
    let max512 = Agreement {
        name: "Max512 vs C++ CLI (expected_cpp_reference.csv)",
        rows: max512,
    };
    if !complete {
        eprintln!(
            "NOTE: debug build: {} of {} images checked (those up to {DEBUG_MAX_PIXELS} pixels), each within 4 bits; \
             the share of identical hashes is asserted by `cargo test --release`",
            full.rows.len(),
            binding.len()
        );
    }
    full.report();
    max512.report();
    let i16 = (
        "threatexchange-tests/I16.png",
        "16-bit grey PNG: CImg keeps the low byte of each sample (hashing the low bytes gives exactly the \
         reference hash), we keep the high byte as Pillow does for 16-bit images; the image is noise, so the two \
         are unrelated",
    );
    full.assert_targets(&[], complete);
    max512.assert_targets(&[i16], complete);
}

/// The reference's own dihedral regression images: each transformed file hashes close to the matching variant
/// of the original's dihedral set (not identical: the decimation samples pixel centres, which a flip does not
/// map onto each other, and the files are re-encoded JPEGs).
#[test]
fn reference_dihedral_files_match_the_variants() {
    let Some(dir) = reference_dir() else {
        return;
    };
    let dih = dir.join("reg-test-input/dih");
    let names = [
        "bridge-1-original",
        "bridge-2-rotate-90",
        "bridge-3-rotate-180",
        "bridge-4-rotate-270",
        "bridge-5-flipx",
        "bridge-6-flipy",
        "bridge-7-flip-plus-1",
        "bridge-8-flip-minus-1",
    ];
    let hashes = parallel_map(&names, |name| {
        let file = decode_file(dih.join(format!("{name}.jpg")), &DecodeLimits::default()).unwrap();
        (
            hash_dihedral(&file, Resize::Full).unwrap(),
            hash_dihedral(&file, Resize::Max512).unwrap(),
        )
    });
    let (original, fast_original) = &hashes[0];
    let mut full = Vec::new();
    let mut fast = Vec::new();
    for (i, (variants, fast_variants)) in hashes.iter().enumerate() {
        full.push(variants[0].hash.distance(&original[i].hash));
        fast.push(fast_variants[0].hash.distance(&fast_original[i].hash));
    }
    eprintln!(
        "reference dihedral files vs the original's variants, bits: Full {full:?}, Max512 {fast:?}"
    );
    assert!(full.iter().all(|&d| d <= 12), "{full:?}");
    assert!(fast.iter().all(|&d| d <= 24), "{fast:?}");
}

// ---------------------------------------------------------------------------------------------------------------
// Generated images

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n)) as u32
    }
    fn colour(&mut self) -> Rgb<u8> {
        Rgb([
            self.below(256) as u8,
            self.below(256) as u8,
            self.below(256) as u8,
        ])
    }
}

const W: u32 = 640;
const H: u32 = 480;

/// A gradient with rectangles and discs.
fn shapes(seed: u64) -> RgbImage {
    let mut rng = Rng(seed);
    let (a, b) = (rng.colour(), rng.colour());
    let horizontal = rng.below(2) == 0;
    let mut img = RgbImage::from_fn(W, H, |x, y| {
        let t = if horizontal { x * 255 / W } else { y * 255 / H };
        Rgb(core::array::from_fn(|c| {
            ((u32::from(a[c]) * (255 - t) + u32::from(b[c]) * t) / 255) as u8
        }))
    });
    for _ in 0..12 {
        let colour = rng.colour();
        let (x0, y0) = (rng.below(W), rng.below(H));
        let (w, h) = (40 + rng.below(200), 40 + rng.below(160));
        let disc = rng.below(2) == 0;
        for y in y0..(y0 + h).min(H) {
            for x in x0..(x0 + w).min(W) {
                let (dx, dy) = (
                    f64::from(x - x0) / f64::from(w) - 0.5,
                    f64::from(y - y0) / f64::from(h) - 0.5,
                );
                if !disc || dx * dx + dy * dy <= 0.25 {
                    img.put_pixel(x, y, colour);
                }
            }
        }
    }
    img
}

/// Smooth value noise (a coarse random grid, interpolated) with fine grain on top.
fn noise(seed: u64) -> RgbImage {
    let mut rng = Rng(seed);
    let coarse = RgbImage::from_fn(12, 9, |_, _| rng.colour());
    let mut img = image::imageops::resize(&coarse, W, H, image::imageops::FilterType::CatmullRom);
    for p in img.pixels_mut() {
        let grain = rng.below(25) as i32 - 12;
        for c in p.0.iter_mut() {
            *c = (i32::from(*c) + grain).clamp(0, 255) as u8;
        }
    }
    img
}

/// Lines of dark "words" (rectangles) on a light page, with a heading and a picture block.
fn text_like(seed: u64) -> RgbImage {
    let mut rng = Rng(seed);
    let mut img = RgbImage::from_pixel(W, H, Rgb([245, 242, 235]));
    let fill = |img: &mut RgbImage, x0: u32, y0: u32, w: u32, h: u32, c: Rgb<u8>| {
        for y in y0..(y0 + h).min(H) {
            for x in x0..(x0 + w).min(W) {
                img.put_pixel(x, y, c);
            }
        }
    };
    let heading = 60 + rng.below(300);
    fill(&mut img, 40, 30, heading, 28, Rgb([20, 20, 60]));
    let picture_right = rng.below(2) == 0;
    let (px, pw) = if picture_right { (400, 200) } else { (40, 200) };
    let colour = rng.colour();
    fill(&mut img, px, 90, pw, 150, colour);
    let mut y = 90;
    while y < H - 30 {
        let (start, end) = if y < 250 {
            if picture_right { (40, 380) } else { (260, 600) }
        } else {
            (40, 600)
        };
        let mut x = start;
        while x < end {
            let w = 10 + rng.below(60);
            fill(&mut img, x, y, w.min(end - x), 10, Rgb([40, 40, 40]));
            x += w + 8;
        }
        y += 22;
    }
    img
}

fn generated() -> Vec<(String, DynamicImage)> {
    let mut images = Vec::new();
    for seed in 1..=2 {
        images.push((
            format!("shapes-{seed}"),
            DynamicImage::ImageRgb8(shapes(seed)),
        ));
        images.push((
            format!("noise-{seed}"),
            DynamicImage::ImageRgb8(noise(seed + 100)),
        ));
        images.push((
            format!("text-{seed}"),
            DynamicImage::ImageRgb8(text_like(seed + 200)),
        ));
    }
    images
}

fn jpeg(image: &DynamicImage, quality: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(&image.to_rgb8())
        .unwrap();
    bytes
}

fn png(image: &DynamicImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
        .unwrap();
    bytes
}

/// An edit of an image.
type Edit = fn(&DynamicImage) -> DynamicImage;

fn crop(image: &DynamicImage, percent: u32) -> DynamicImage {
    let (dx, dy) = (
        image.width() * percent / 100,
        image.height() * percent / 100,
    );
    image.crop_imm(dx, dy, image.width() - 2 * dx, image.height() - 2 * dy)
}

#[test]
fn matches_survive_common_edits_and_unrelated_images_do_not_match() {
    use image::imageops::FilterType;
    let policy = MatchPolicy::default();
    let images = generated();
    // Edits a match must survive (distance <= 31 and quality >= 50).
    let edits: [(&str, Edit); 4] = [
        ("half", |i| {
            i.resize_exact(i.width() / 2, i.height() / 2, FilterType::Triangle)
        }),
        ("double", |i| {
            i.resize_exact(i.width() * 2, i.height() * 2, FilterType::CatmullRom)
        }),
        ("jpeg-70", |i| {
            decode(&jpeg(i, 70), &DecodeLimits::default()).unwrap()
        }),
        ("brighter+20", |i| i.brighten(20)),
    ];
    let rows = parallel_map(&images, |(name, image)| {
        let original = hash_image(image, Resize::Full).unwrap();
        let edited: Vec<(&str, PdqResult)> = edits
            .iter()
            .map(|(edit, apply)| (*edit, hash_image(&apply(image), Resize::Full).unwrap()))
            .collect();
        // PDQ is not built for crops: every pixel moves in the 64x64 grid and the DCT sees a different scale.
        let crops: Vec<u32> = [1, 3, 5]
            .iter()
            .map(|&p| {
                hash_image(&crop(image, p), Resize::Full)
                    .unwrap()
                    .hash
                    .distance(&original.hash)
            })
            .collect();
        let fast = hash_image(image, Resize::Max512).unwrap();
        (name.clone(), original, edited, crops, fast)
    });
    for (name, original, edited, crops, fast) in &rows {
        assert!(
            original.is_matchable(),
            "{name}: quality {}",
            original.quality
        );
        let mut line = format!("{name} (quality {}):", original.quality);
        for (edit, result) in edited {
            let d = result.hash.distance(&original.hash);
            line.push_str(&format!(" {edit} {d}"));
            assert!(
                policy.matches(result, &original.hash),
                "{name} after {edit}: {d} bits, quality {}",
                result.quality
            );
        }
        line.push_str(&format!(
            " | crop 1/3/5 % per side {crops:?} | Max512 vs Full {}",
            fast.hash.distance(&original.hash)
        ));
        eprintln!("{line}");
        // The faster mode also matches the full-resolution hash.
        assert!(policy.matches(fast, &original.hash), "{name}");
        // A 1 % crop stays far closer than unrelated images (~128 bits); 3-5 % crops generally do not match, with
        // Meta's own binding too (bridge photo: 1 % 18 bits, 3 % 60, 5 % 96).
        assert!(crops[0] < 64, "{name}: {crops:?}");
    }
    let mut closest = u32::MAX;
    for (i, (a, ha, ..)) in rows.iter().enumerate() {
        for (b, hb, ..) in rows.iter().skip(i + 1) {
            let d = ha.hash.distance(&hb.hash);
            closest = closest.min(d);
            assert!(
                !policy.matches(ha, &hb.hash),
                "{a} and {b} are {d} bits apart"
            );
        }
    }
    eprintln!("unrelated generated images: the closest pair is {closest} bits apart");
}

#[test]
fn full_and_fast_modes_agree_on_small_images() {
    // At most 512 pixels the CLI does not resize, so both modes hash the same pixels (luma computed in double vs
    // single precision may still move a coefficient across the median in rare cases).
    for (name, image) in generated() {
        let small = image.resize_exact(320, 240, image::imageops::FilterType::Triangle);
        let full = hash_image(&small, Resize::Full).unwrap();
        let fast = hash_image(&small, Resize::Max512).unwrap();
        assert!(full.hash.distance(&fast.hash) <= 2, "{name}");
        assert_eq!(full.quality, fast.quality, "{name}");
    }
}

#[test]
fn dihedral_variants_match_transformed_images() {
    let transforms: [(Dihedral, Edit); 8] = [
        (Dihedral::Original, |i| i.clone()),
        (Dihedral::Rotate90, |i| i.rotate270()),
        (Dihedral::Rotate180, |i| i.rotate180()),
        (Dihedral::Rotate270, |i| i.rotate90()),
        (Dihedral::FlipX, |i| i.flipv()),
        (Dihedral::FlipY, |i| i.fliph()),
        (Dihedral::FlipPlus1, |i| i.rotate90().fliph()),
        (Dihedral::FlipMinus1, |i| i.rotate90().flipv()),
    ];
    let images = generated();
    let lines = parallel_map(&images, |(name, image)| {
        let variants = hash_dihedral(image, Resize::Full).unwrap();
        assert_eq!(variants[0], hash_image(image, Resize::Full).unwrap());
        let distances: Vec<(Dihedral, u32)> = transforms
            .iter()
            .zip(&variants)
            .map(|((which, transform), variant)| {
                assert_eq!(variant.quality, variants[0].quality);
                let transformed = hash_image(&transform(image), Resize::Full).unwrap();
                (*which, transformed.hash.distance(&variant.hash))
            })
            .collect();
        (name.clone(), distances)
    });
    let mut worst = 0;
    for (name, distances) in &lines {
        eprintln!("{name}: {distances:?}");
        worst = distances.iter().map(|d| d.1).max().unwrap_or(0).max(worst);
    }
    assert_eq!(
        transforms.map(|t| t.0),
        Dihedral::ALL,
        "the reference order"
    );
    // Not bit-identical: the 64×64 decimation samples pixel centres, which a flip does not map onto each other,
    // and the box filters' windows differ along the two axes of a non-square image. Still a match.
    assert!(
        worst <= MatchPolicy::default().max_distance,
        "worst {worst}"
    );
}

#[test]
fn luma_entry_points_agree_with_images() {
    let image = DynamicImage::ImageRgb8(shapes(7));
    let rgb = image.to_rgb8();
    let luma: Vec<f32> = rgb
        .pixels()
        .map(|p| {
            (f64::from(p[0]) * 0.299 + f64::from(p[1]) * 0.587 + f64::from(p[2]) * 0.114) as f32
        })
        .collect();
    let from_luma = hash_luma(&luma, W as usize, H as usize).unwrap();
    assert_eq!(from_luma, hash_rgb(&rgb, Resize::Full).unwrap());
    assert_eq!(from_luma, hash_image(&image, Resize::Full).unwrap());
    let variants = hash_luma_dihedral(&luma, W as usize, H as usize).unwrap();
    assert_eq!(variants, hash_dihedral(&image, Resize::Full).unwrap());
    // Grey and grey + alpha images hash as R = G = B.
    let grey = DynamicImage::ImageLuma8(image.to_luma8());
    let grey_rgb = DynamicImage::ImageRgb8(grey.to_rgb8());
    assert_eq!(
        hash_image(&grey, Resize::Full),
        hash_image(&grey_rgb, Resize::Full)
    );
    let grey_alpha = DynamicImage::ImageLumaA8(grey.to_luma_alpha8());
    assert_eq!(
        hash_image(&grey_alpha, Resize::Full),
        hash_image(&grey, Resize::Full)
    );
    // 16-bit images use the high byte.
    let wide = DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(W, H, |x, y| {
        let p = rgb.get_pixel(x, y);
        Rgb(p.0.map(|v| u16::from(v) << 8 | 0x7f))
    }));
    assert_eq!(
        hash_image(&wide, Resize::Full),
        hash_image(&image, Resize::Full)
    );
}

#[test]
fn low_quality_hashes_never_match() {
    let flat = DynamicImage::ImageRgb8(RgbImage::from_pixel(300, 200, Rgb([90, 120, 200])));
    let result = hash_image(&flat, Resize::Full).unwrap();
    assert!(result.quality < MIN_QUALITY, "quality {}", result.quality);
    assert!(!result.is_matchable());
    // Even against its own hash.
    assert!(!MatchPolicy::default().matches(&result, &result.hash));
    let lenient = MatchPolicy {
        min_quality: 0,
        ..MatchPolicy::default()
    };
    assert!(lenient.matches(&result, &result.hash));
    // A smooth gradient has little structure too.
    let gradient =
        DynamicImage::ImageRgb8(RgbImage::from_fn(300, 200, |x, _| Rgb([(x / 2) as u8; 3])));
    assert!(hash_image(&gradient, Resize::Full).unwrap().quality < MIN_QUALITY);
}

#[test]
fn tiny_images_are_refused() {
    let tiny = DynamicImage::ImageRgb8(RgbImage::new(4, 100));
    assert_eq!(hash_image(&tiny, Resize::Full), Err(PdqError::TooSmall));
    assert_eq!(
        hash_dihedral(&tiny, Resize::Max512).map(|_| ()),
        Err(PdqError::TooSmall)
    );
    let five = DynamicImage::ImageRgb8(shapes(3)).resize_exact(
        5,
        5,
        image::imageops::FilterType::Triangle,
    );
    assert!(hash_image(&five, Resize::Full).is_ok());
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile input

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid PNG whose header is rewritten to declare `width` × `height` (with a correct CRC).
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(&DynamicImage::ImageRgb8(RgbImage::from_pixel(
        2,
        2,
        Rgb([1, 2, 3]),
    )));
    // Signature (8), IHDR length (4), "IHDR" (4), width, height, ...; CRC over type + 13 data bytes.
    assert_eq!(&bytes[12..16], b"IHDR");
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

/// A valid JPEG whose frame header is rewritten to declare `width` × `height`.
fn jpeg_declaring(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(
        &DynamicImage::ImageRgb8(shapes(1).view(0, 0, 64, 64).to_image()),
        90,
    );
    let sof = bytes
        .windows(2)
        .position(|w| w[0] == 0xFF && (w[1] == 0xC0 || w[1] == 0xC2))
        .unwrap();
    // Marker (2), length (2), precision (1), height (2), width (2).
    bytes[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// A GIF whose logical screen and only frame declare `width` × `height`, with a few bytes of LZW data.
fn gif_declaring(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = b"GIF89a".to_vec();
    bytes.extend(width.to_le_bytes());
    bytes.extend(height.to_le_bytes());
    bytes.extend([0x80, 0, 0]); // global colour table of 2 entries
    bytes.extend([0, 0, 0, 255, 255, 255]);
    bytes.push(0x2C); // image descriptor
    bytes.extend([0, 0, 0, 0]);
    bytes.extend(width.to_le_bytes());
    bytes.extend(height.to_le_bytes());
    bytes.push(0);
    bytes.extend([2, 2, 0x4C, 0x01, 0]); // minimal LZW data
    bytes.push(0x3B);
    bytes
}

use image::GenericImageView;

#[test]
fn decompression_bombs_are_refused_before_allocating() {
    let limits = DecodeLimits::default();
    let before = LARGEST_ALLOCATION.load(Ordering::Relaxed);
    let bombs: [(&str, Vec<u8>); 5] = [
        ("png 100000x100000", png_declaring(100_000, 100_000)),
        // Within the dimension limits, but 15000 × 15000 × 3 bytes is more than the 512 MiB allocation limit.
        ("png 15000x15000", png_declaring(15_000, 15_000)),
        ("jpeg 65000x65000", jpeg_declaring(65_000, 65_000)),
        ("jpeg 16000x16000", jpeg_declaring(16_000, 16_000)),
        ("gif 65535x65535", gif_declaring(65_535, 65_535)),
    ];
    for (name, bytes) in &bombs {
        assert!(bytes.len() < 2048, "{name} is {} bytes", bytes.len());
        assert_eq!(
            decode(bytes, &limits).err(),
            Some(ImageError::TooLarge),
            "{name}"
        );
    }
    // Stricter limits apply as given.
    let small = DecodeLimits {
        max_width: 100,
        max_height: 100,
        ..limits
    };
    let ok = png(&DynamicImage::ImageRgb8(shapes(2)));
    assert_eq!(decode(&ok, &small).err(), Some(ImageError::TooLarge));
    assert!(decode(&ok, &limits).is_ok());
    let tight_memory = DecodeLimits {
        max_alloc: 100_000,
        ..limits
    };
    assert_eq!(decode(&ok, &tight_memory).err(), Some(ImageError::TooLarge));
    let largest = LARGEST_ALLOCATION.load(Ordering::Relaxed);
    eprintln!(
        "largest allocation in this test binary so far: {largest} bytes (before the bombs: {before})"
    );
    // Other tests run concurrently (the biggest legitimate buffer is a 12-megapixel reference photo, ~37 MB);
    // any of the bombs would have needed 675 MB to 30 GB.
    assert!(
        largest < 200 * 1024 * 1024,
        "an allocation of {largest} bytes"
    );
}

#[test]
fn truncated_corrupt_and_foreign_input_gives_typed_errors() {
    let limits = DecodeLimits::default();
    let image = DynamicImage::ImageRgb8(shapes(5));
    let png_bytes = png(&image);
    let jpeg_bytes = jpeg(&image, 85);
    assert!(decode(&png_bytes, &limits).is_ok());
    assert!(decode(&jpeg_bytes, &limits).is_ok());

    assert_eq!(decode(&[], &limits).err(), Some(ImageError::Empty));
    // Truncated: the headers survive, the pixel data does not.
    for cut in [png_bytes.len() / 2, 100, 40] {
        assert_eq!(
            decode(&png_bytes[..cut], &limits).err(),
            Some(ImageError::Malformed),
            "png cut at {cut}"
        );
    }
    for cut in [jpeg_bytes.len() / 2, 400] {
        let result = decode(&jpeg_bytes[..cut], &limits);
        assert_eq!(
            result.err(),
            Some(ImageError::Malformed),
            "jpeg cut at {cut}"
        );
    }
    // Random bytes: no known format.
    let mut rng = Rng(42);
    let random: Vec<u8> = (0..4096).map(|_| rng.below(256) as u8).collect();
    assert_eq!(
        decode(&random, &limits).err(),
        Some(ImageError::Unsupported)
    );
    // Random bytes behind a real signature.
    for signature in [
        &b"\x89PNG\r\n\x1a\n"[..],
        &[0xFF, 0xD8, 0xFF],
        b"GIF89a",
        b"RIFF\0\0\0\0WEBPVP8 ",
    ] {
        let mut bytes = signature.to_vec();
        bytes.extend(&random);
        let err = decode(&bytes, &limits).err();
        // (A GIF's random "logical screen" may also declare more pixels than allowed.)
        assert!(
            matches!(
                err,
                Some(ImageError::Malformed | ImageError::Unsupported | ImageError::TooLarge)
            ),
            "{signature:?}: {err:?}"
        );
    }
    // Flipped bits in the middle of a PNG (its CRCs catch them).
    let mut corrupt = png_bytes.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0xFF;
    assert_eq!(decode(&corrupt, &limits).err(), Some(ImageError::Malformed));
    // Formats we do not decode.
    assert_eq!(
        decode(b"BM\x36\0\0\0\0\0\0\0\x36\0\0\0", &limits).err(),
        Some(ImageError::Unsupported)
    );
    // Input over the byte limit is refused without looking at it.
    let small = DecodeLimits {
        max_bytes: 1000,
        ..limits
    };
    assert_eq!(decode(&png_bytes, &small).err(), Some(ImageError::TooLarge));
    // Errors say nothing about the content.
    for e in [
        ImageError::Malformed,
        ImageError::TooLarge,
        ImageError::Unsupported,
    ] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn decode_file_reads_within_limits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("picture.bin");
    let image = DynamicImage::ImageRgb8(shapes(4));
    std::fs::write(&path, png(&image)).unwrap();
    let decoded = decode_file(&path, &DecodeLimits::default()).unwrap();
    assert_eq!(decoded.to_rgb8(), image.to_rgb8());
    let small = DecodeLimits {
        max_bytes: 100,
        ..DecodeLimits::default()
    };
    assert_eq!(decode_file(&path, &small).err(), Some(ImageError::TooLarge));
    let missing = decode_file(dir.path().join("missing.png"), &DecodeLimits::default()).err();
    assert_eq!(missing, Some(ImageError::Io(std::io::ErrorKind::NotFound)));
    // The message names neither the file nor its content.
    assert!(!missing.unwrap().to_string().contains("missing"));
}

#[test]
fn public_types_are_thread_safe() {
    fn assert_all<T: Send + Sync + std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
    assert_all::<PdqResult>();
    assert_all::<PdqError>();
    assert_all::<ImageError>();
    assert_all::<DecodeLimits>();
    assert_all::<MatchPolicy>();
}
