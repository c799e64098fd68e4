//! PDQ, Meta's 256-bit perceptual image hash, written from the published algorithm (ThreatExchange `pdq/`:
//! the hashing document and the reference C++ `pdqhashing.cpp`, `downscaling.cpp`, `torben.cpp`).
//!
//! The steps, each done in the same order and the same floating-point precision as the reference so that the
//! hashes are bit-identical on the same pixels:
//!
//! 1. luminance `0.299 R + 0.587 G + 0.114 B` (see [`Resize`] for the two flavours the references use);
//! 2. two passes of Jarosz box filters (rows, then columns) with a window of `ceil(dimension / 128)`, and
//!    decimation to 64×64 by sampling pixel centres;
//! 3. a quality metric (0–100) from the gradients of the 64×64 image;
//! 4. the 16×16 low-frequency block of the 2-D DCT (without the DC row and column);
//! 5. one bit per coefficient: set when it is above the median (Torben's algorithm).
//!
//! The eight dihedral variants (rotations and flips) are derived from the DCT block without hashing the image
//! again ([`hash_dihedral`]).
//!
//! The filters run as a stream over the rows: apart from the decoded image, hashing needs only a few rows of
//! floats plus a 64-wide column strip, never a second full-size buffer. Nothing here panics on any input, and no
//! error carries pixel data.

use std::sync::OnceLock;

use image::{DynamicImage, RgbImage};

use super::PdqHash;

/// The lowest quality at which a hash is used for matching. Meta's guidance: hashes below 50 come from images
/// with too little structure (flat, nearly uniform, tiny) and match unrelated images.
pub const MIN_QUALITY: u8 = 50;

/// The largest Hamming distance Meta recommends for a PDQ match (about 12 % of the bits).
pub const MATCH_DISTANCE: u32 = 31;

/// The smallest width and height the reference hashes (it returns an all-zero hash below this).
pub const MIN_DIMENSION: usize = 5;

/// The side the reference CLI's faster mode downsamples large images to ([`Resize::Max512`]).
pub const CLI_DOWNSAMPLE_SIDE: usize = 512;

/// Luma values whose magnitude exceeds this are rejected by [`hash_luma`]: far beyond any pixel value, and small
/// enough that no intermediate sum can overflow.
pub const MAX_LUMA_MAGNITUDE: f32 = 1.0e15;

/// The side of the downsampled image.
const SIDE: usize = 64;

/// A PDQ hash and its quality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PdqResult {
    /// The 256-bit hash.
    pub hash: PdqHash,
    /// 0–100; below [`MIN_QUALITY`] the hash is not reliable enough to match.
    pub quality: u8,
}

impl PdqResult {
    /// Whether the quality is high enough for the hash to be matched at all (at least [`MIN_QUALITY`]).
    pub fn is_matchable(&self) -> bool {
        self.quality >= MIN_QUALITY
    }
}

/// When a computed hash counts as a match for a listed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchPolicy {
    /// The largest Hamming distance that still matches (default [`MATCH_DISTANCE`]).
    pub max_distance: u32,
    /// Hashes of lower quality never match (default [`MIN_QUALITY`]).
    pub min_quality: u8,
}

impl Default for MatchPolicy {
    fn default() -> Self {
        MatchPolicy {
            max_distance: MATCH_DISTANCE,
            min_quality: MIN_QUALITY,
        }
    }
}

impl MatchPolicy {
    /// Whether `candidate` (computed from an image) matches `listed` under this policy.
    pub fn matches(&self, candidate: &PdqResult, listed: &PdqHash) -> bool {
        candidate.quality >= self.min_quality
            && candidate.hash.distance(listed) <= self.max_distance
    }
}

/// Which pixels are hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Resize {
    /// Every pixel at full resolution, with the luminance computed as the PyPI `pdqhash` binding does (in double
    /// precision, then rounded to `f32`). This is what Python systems built on `pdqhash` and Pillow (e.g. Meta's
    /// HMA) produce, and the default.
    #[default]
    Full,
    /// The reference C++ CLI (`pdq-photo-hasher`): an image wider or taller than 512 pixels is first resized to
    /// exactly 512×512 (nearest neighbour, as CImg's default `resize`), and the luminance is computed in `f32`
    /// (grey images use the grey value itself). Faster on large images; a few bits away from [`Resize::Full`].
    Max512,
}

/// The eight dihedral transformations of an image, in the order [`hash_dihedral`] returns them (the reference
/// order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dihedral {
    /// The image as it is.
    Original,
    /// Rotated 90° anticlockwise (`image::imageops::rotate270`; the reference's `bridge-2-rotate-90.jpg`).
    Rotate90,
    /// Rotated 180°.
    Rotate180,
    /// Rotated 270° anticlockwise, i.e. 90° clockwise (`image::imageops::rotate90`).
    Rotate270,
    /// Mirrored top to bottom (`image::imageops::flip_vertical`).
    FlipX,
    /// Mirrored left to right (`image::imageops::flip_horizontal`).
    FlipY,
    /// Transposed: mirrored about the main diagonal (`rotate90` then `flip_horizontal`).
    FlipPlus1,
    /// Mirrored about the anti-diagonal (`rotate90` then `flip_vertical`).
    FlipMinus1,
}

impl Dihedral {
    /// All eight, in the reference order.
    pub const ALL: [Dihedral; 8] = [
        Dihedral::Original,
        Dihedral::Rotate90,
        Dihedral::Rotate180,
        Dihedral::Rotate270,
        Dihedral::FlipX,
        Dihedral::FlipY,
        Dihedral::FlipPlus1,
        Dihedral::FlipMinus1,
    ];
}

/// Why an image could not be hashed. No variant carries pixel data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PdqError {
    /// Narrower or shorter than [`MIN_DIMENSION`] pixels.
    #[error("image is smaller than {MIN_DIMENSION}x{MIN_DIMENSION} pixels")]
    TooSmall,
    /// The luma buffer's length is not width × height.
    #[error("luma buffer length does not match the dimensions")]
    SizeMismatch,
    /// A luma value is NaN, infinite or larger in magnitude than [`MAX_LUMA_MAGNITUDE`].
    #[error("luma values must be finite and of moderate magnitude")]
    InvalidLuma,
    /// The working buffers could not be allocated.
    #[error("image too large to hash")]
    TooLarge,
}

/// Hashes a row-major luminance buffer of `width` × `height` values (normally 0–255) at full resolution.
///
/// This is the core of the algorithm, exactly as the reference `pdqHash256FromFloatLuma` (including its shortcut
/// for input that is already 64×64).
pub fn hash_luma(luma: &[f32], width: usize, height: usize) -> Result<PdqResult, PdqError> {
    let rows = check_luma(luma, width, height)?;
    let (dct, quality) = dct_from_rows(width, height, true, rows)?;
    Ok(result(&dct, quality))
}

/// [`hash_luma`] with all eight dihedral variants, in the order of [`Dihedral::ALL`] (reference
/// `pdqDihedralHash256esFromFloatLuma`, which has no 64×64 shortcut).
pub fn hash_luma_dihedral(
    luma: &[f32],
    width: usize,
    height: usize,
) -> Result<[PdqResult; 8], PdqError> {
    let rows = check_luma(luma, width, height)?;
    let (dct, quality) = dct_from_rows(width, height, false, rows)?;
    Ok(dihedral_results(&dct, quality))
}

/// Hashes an RGB image.
pub fn hash_rgb(image: &RgbImage, resize: Resize) -> Result<PdqResult, PdqError> {
    let pixels = Pixels::rgb8(image);
    let (dct, quality) = dct_from_pixels(&pixels, resize, true)?;
    Ok(result(&dct, quality))
}

/// Hashes a decoded image. Alpha is ignored (as Pillow's `convert("RGB")` drops it); 16-bit channels use their
/// high byte; grey images count as R = G = B.
pub fn hash_image(image: &DynamicImage, resize: Resize) -> Result<PdqResult, PdqError> {
    let owned;
    let pixels = match Pixels::borrowed(image) {
        Some(pixels) => pixels,
        None => {
            owned = to_eight_bit(image);
            Pixels::borrowed(&owned).ok_or(PdqError::TooLarge)?
        }
    };
    let (dct, quality) = dct_from_pixels(&pixels, resize, true)?;
    Ok(result(&dct, quality))
}

/// The hashes of the image's eight dihedral variants (see [`Dihedral`] for the order), computed from one pass
/// over the image. All eight share the quality. As in the reference, an image of exactly 64×64 pixels is filtered
/// here but taken as it is by [`hash_image`], so their originals may differ slightly for that size only.
pub fn hash_dihedral(image: &DynamicImage, resize: Resize) -> Result<[PdqResult; 8], PdqError> {
    let owned;
    let pixels = match Pixels::borrowed(image) {
        Some(pixels) => pixels,
        None => {
            owned = to_eight_bit(image);
            Pixels::borrowed(&owned).ok_or(PdqError::TooLarge)?
        }
    };
    let (dct, quality) = dct_from_pixels(&pixels, resize, false)?;
    Ok(dihedral_results(&dct, quality))
}

// ---------------------------------------------------------------------------------------------------------------
// Pixels and luminance

/// An 8-bit interleaved image: 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels.
struct Pixels<'a> {
    data: &'a [u8],
    width: usize,
    height: usize,
    channels: usize,
}

impl<'a> Pixels<'a> {
    fn rgb8(image: &'a RgbImage) -> Pixels<'a> {
        Pixels {
            data: image.as_raw(),
            width: image.width() as usize,
            height: image.height() as usize,
            channels: 3,
        }
    }

    /// The image's own 8-bit buffer, or `None` when it has to be converted first.
    fn borrowed(image: &'a DynamicImage) -> Option<Pixels<'a>> {
        let (data, channels): (&[u8], usize) = match image {
            DynamicImage::ImageLuma8(i) => (i.as_raw(), 1),
            DynamicImage::ImageLumaA8(i) => (i.as_raw(), 2),
            DynamicImage::ImageRgb8(i) => (i.as_raw(), 3),
            DynamicImage::ImageRgba8(i) => (i.as_raw(), 4),
            _ => return None,
        };
        Some(Pixels {
            data,
            width: image.width() as usize,
            height: image.height() as usize,
            channels,
        })
    }

    /// Row `y` (all channels), empty when out of range (which the callers never ask for).
    fn row(&self, y: usize) -> &'a [u8] {
        let stride = self.width * self.channels;
        self.data
            .get(y * stride..(y + 1) * stride)
            .unwrap_or_default()
    }
}

/// Converts 16-bit and float images to 8 bits the way Pillow does for 16-bit PNGs (the high byte); float images go
/// through the `image` crate's conversion.
fn to_eight_bit(image: &DynamicImage) -> DynamicImage {
    fn high(v: &u16) -> u8 {
        (v >> 8) as u8
    }
    match image {
        DynamicImage::ImageLuma16(i) => {
            let data = i.as_raw().iter().map(high).collect();
            image::GrayImage::from_raw(i.width(), i.height(), data)
                .map_or_else(|| DynamicImage::new_luma8(0, 0), DynamicImage::ImageLuma8)
        }
        DynamicImage::ImageLumaA16(i) => {
            let data = i.as_raw().iter().map(high).collect();
            image::GrayAlphaImage::from_raw(i.width(), i.height(), data)
                .map_or_else(|| DynamicImage::new_luma8(0, 0), DynamicImage::ImageLumaA8)
        }
        DynamicImage::ImageRgb16(i) => {
            let data = i.as_raw().iter().map(high).collect();
            RgbImage::from_raw(i.width(), i.height(), data)
                .map_or_else(|| DynamicImage::new_luma8(0, 0), DynamicImage::ImageRgb8)
        }
        DynamicImage::ImageRgba16(i) => {
            let data = i.as_raw().iter().map(high).collect();
            image::RgbaImage::from_raw(i.width(), i.height(), data)
                .map_or_else(|| DynamicImage::new_luma8(0, 0), DynamicImage::ImageRgba8)
        }
        other => DynamicImage::ImageRgb8(other.to_rgb8()),
    }
}

/// The three channel weights times every 8-bit value, precomputed: the same products the reference computes per
/// pixel, so the sums are bit-identical to computing them in place (and faster).
struct LumaTables<T> {
    r: [T; 256],
    g: [T; 256],
    b: [T; 256],
}

impl<T: Copy + Default + std::ops::Add<Output = T>> LumaTables<T> {
    /// `r·R + g·G + b·B`, added left to right.
    fn luma(&self, r: u8, g: u8, b: u8) -> T {
        let at = |table: &[T; 256], v: u8| table.get(usize::from(v)).copied().unwrap_or_default();
        at(&self.r, r) + at(&self.g, g) + at(&self.b, b)
    }
}

/// The `pdqhash` binding's luminance: numpy multiplies the `uint8` channels by Python floats (double precision),
/// adds left to right, and only then casts to `float32`.
fn binding_tables() -> &'static LumaTables<f64> {
    static TABLES: OnceLock<LumaTables<f64>> = OnceLock::new();
    TABLES.get_or_init(|| LumaTables {
        r: core::array::from_fn(|v| v as f64 * 0.299),
        g: core::array::from_fn(|v| v as f64 * 0.587),
        b: core::array::from_fn(|v| v as f64 * 0.114),
    })
}

/// The C++ reference's luminance (`fillFloatLumaFromRGB`), in single precision:
/// `0.299f * R + 0.587f * G + 0.114f * B`.
fn cpp_tables() -> &'static LumaTables<f32> {
    static TABLES: OnceLock<LumaTables<f32>> = OnceLock::new();
    TABLES.get_or_init(|| LumaTables {
        r: core::array::from_fn(|v| 0.299_f32 * v as f32),
        g: core::array::from_fn(|v| 0.587_f32 * v as f32),
        b: core::array::from_fn(|v| 0.114_f32 * v as f32),
    })
}

/// [`binding_tables`] applied to every grey value (R = G = B), as `f32`.
fn grey_binding_table() -> &'static [f32; 256] {
    static TABLE: OnceLock<[f32; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let t = binding_tables();
        core::array::from_fn(|v| {
            let v = u8::try_from(v).unwrap_or(u8::MAX);
            t.luma(v, v, v) as f32
        })
    })
}

/// Fills `out` with the luminance of one row of pixels, at the columns `columns` picks (all when `None`).
fn fill_luma(
    pixels: &Pixels<'_>,
    y: usize,
    resize: Resize,
    columns: Option<&[usize]>,
    out: &mut [f32],
) {
    let row = pixels.row(y);
    let grey = grey_binding_table();
    let grey = |v: &u8| grey.get(usize::from(*v)).copied().unwrap_or(0.0);
    let binding = binding_tables();
    let cpp = cpp_tables();
    match (pixels.channels, resize) {
        (1, Resize::Full) => luma_row(row, columns, out, |[v]: &[u8; 1]| grey(v)),
        (2, Resize::Full) => luma_row(row, columns, out, |[v, _]: &[u8; 2]| grey(v)),
        (3, Resize::Full) => luma_row(row, columns, out, |[r, g, b]: &[u8; 3]| {
            binding.luma(*r, *g, *b) as f32
        }),
        (4, Resize::Full) => luma_row(row, columns, out, |[r, g, b, _]: &[u8; 4]| {
            binding.luma(*r, *g, *b) as f32
        }),
        // The CLI reads grey images as one channel and uses the value itself.
        (1, Resize::Max512) => luma_row(row, columns, out, |[v]: &[u8; 1]| f32::from(*v)),
        (2, Resize::Max512) => luma_row(row, columns, out, |[v, _]: &[u8; 2]| f32::from(*v)),
        (3, Resize::Max512) => luma_row(row, columns, out, |[r, g, b]: &[u8; 3]| {
            cpp.luma(*r, *g, *b)
        }),
        (4, Resize::Max512) => luma_row(row, columns, out, |[r, g, b, _]: &[u8; 4]| {
            cpp.luma(*r, *g, *b)
        }),
        _ => out.fill(0.0),
    }
}

/// One row of `C`-channel pixels to luminance (monomorphised per layout).
fn luma_row<const C: usize>(
    row: &[u8],
    columns: Option<&[usize]>,
    out: &mut [f32],
    luma: impl Fn(&[u8; C]) -> f32,
) {
    let (pixels, _) = row.as_chunks::<C>();
    match columns {
        None => {
            for (o, p) in out.iter_mut().zip(pixels) {
                *o = luma(p);
            }
        }
        Some(columns) => {
            for (o, &x) in out.iter_mut().zip(columns) {
                *o = pixels.get(x).map_or(0.0, &luma);
            }
        }
    }
}

/// CImg's nearest-neighbour source index for each of `new` output positions from `old` inputs (`resize` with
/// interpolation type 1 and no centring: output `i` reads input `floor(i * old / new)`).
fn nearest_indices(old: usize, new: usize) -> Vec<usize> {
    (0..new).map(|i| i * old / new).collect()
}

fn dct_from_pixels(
    pixels: &Pixels<'_>,
    resize: Resize,
    shortcut_64: bool,
) -> Result<([[f32; 16]; 16], u8), PdqError> {
    let (width, height) = (pixels.width, pixels.height);
    let downsample =
        resize == Resize::Max512 && (width > CLI_DOWNSAMPLE_SIDE || height > CLI_DOWNSAMPLE_SIDE);
    if downsample {
        let columns = nearest_indices(width, CLI_DOWNSAMPLE_SIDE);
        let rows = nearest_indices(height, CLI_DOWNSAMPLE_SIDE);
        dct_from_rows(
            CLI_DOWNSAMPLE_SIDE,
            CLI_DOWNSAMPLE_SIDE,
            shortcut_64,
            |y, out| {
                let source = rows.get(y).copied().unwrap_or(0);
                fill_luma(pixels, source, resize, Some(&columns), out);
            },
        )
    } else {
        dct_from_rows(width, height, shortcut_64, |y, out| {
            fill_luma(pixels, y, resize, None, out);
        })
    }
}

fn check_luma(
    luma: &[f32],
    width: usize,
    height: usize,
) -> Result<impl FnMut(usize, &mut [f32]) + '_, PdqError> {
    if width < MIN_DIMENSION || height < MIN_DIMENSION {
        return Err(PdqError::TooSmall);
    }
    if width.checked_mul(height) != Some(luma.len()) {
        return Err(PdqError::SizeMismatch);
    }
    if !luma
        .iter()
        .all(|v| v.is_finite() && v.abs() <= MAX_LUMA_MAGNITUDE)
    {
        return Err(PdqError::InvalidLuma);
    }
    Ok(move |y: usize, out: &mut [f32]| {
        if let Some(row) = luma.get(y * width..(y + 1) * width) {
            out.copy_from_slice(row);
        }
    })
}

// ---------------------------------------------------------------------------------------------------------------
// Downsampling: Jarosz filters and decimation (reference `downscaling.cpp`)

/// The box-filter window along a dimension of `old` pixels (`computeJaroszFilterWindowSize(old, 64)`).
fn window_size(old: usize) -> usize {
    old.div_ceil(2 * SIDE)
}

/// The input index each of the 64 outputs samples (`decimateFloat`: pixel centres, computed in double).
fn decimation_indices(old: usize) -> [usize; SIDE] {
    let mut indices = [0; SIDE];
    for (i, index) in indices.iter_mut().enumerate() {
        *index = ((i as f64 + 0.5) * old as f64 / SIDE as f64) as usize;
    }
    indices
}

/// The reference's phase lengths of a box filter of `window` over `length` values (`box1DFloat`).
struct Phases {
    /// Values only added up (no output yet).
    lead: usize,
    /// Outputs while the window grows.
    grow: usize,
    /// Outputs with the full window (add one, subtract one).
    full: usize,
    /// Outputs while the window shrinks at the end.
    shrink: usize,
}

impl Phases {
    fn new(window: usize, length: usize) -> Phases {
        let half = (window + 2) / 2;
        Phases {
            lead: half - 1,
            grow: window + 1 - half,
            full: length.saturating_sub(window),
            shrink: half - 1,
        }
    }
}

/// How many rows the row passes filter at once. The box filter is a running sum, a chain of dependent additions
/// along each row; running [`LANES`] rows side by side (interleaved) lets them proceed in parallel.
const LANES: usize = 8;

/// One box filter along [`LANES`] vectors at once, stored interleaved (`input[k][lane]`): for every lane exactly
/// the reference's `box1DFloat` (same running sum, same order of additions and subtractions, same divisions), so
/// the output is bit-identical.
fn box_lanes(input: &[[f32; LANES]], output: &mut [[f32; LANES]], window: usize) {
    fn add(sum: &mut [f32; LANES], x: &[f32; LANES]) {
        for (s, v) in sum.iter_mut().zip(x) {
            *s += v;
        }
    }
    fn subtract(sum: &mut [f32; LANES], x: &[f32; LANES]) {
        for (s, v) in sum.iter_mut().zip(x) {
            *s -= v;
        }
    }
    fn divide(sum: &[f32; LANES], out: &mut [f32; LANES], size: f32) {
        for (o, s) in out.iter_mut().zip(sum) {
            *o = s / size;
        }
    }
    let phases = Phases::new(window, input.len());
    let mut adds = input.iter();
    let mut subtracts = input.iter();
    let mut outputs = output.iter_mut();
    let mut sum = [0.0_f32; LANES];
    let mut count = 0_usize;
    for x in adds.by_ref().take(phases.lead) {
        add(&mut sum, x);
        count += 1;
    }
    for (x, out) in adds.by_ref().zip(outputs.by_ref()).take(phases.grow) {
        add(&mut sum, x);
        count += 1;
        divide(&sum, out, count as f32);
    }
    let size = count as f32;
    for ((x, y), out) in adds
        .by_ref()
        .zip(subtracts.by_ref())
        .zip(outputs.by_ref())
        .take(phases.full)
    {
        add(&mut sum, x);
        subtract(&mut sum, y);
        divide(&sum, out, size);
    }
    for (y, out) in subtracts.zip(outputs).take(phases.shrink) {
        subtract(&mut sum, y);
        count = count.saturating_sub(1);
        divide(&sum, out, count as f32);
    }
}

/// Interleaves the [`LANES`] rows of a row-major batch (`LANES` × `width`) into `lanes` (`width` long).
#[allow(clippy::indexing_slicing)] // Every row is exactly `lanes.len()` long, so `row[k]` is in bounds.
fn interleave(batch: &[f32], lanes: &mut [[f32; LANES]]) {
    let width = lanes.len();
    let Some(batch) = batch.get(..width * LANES) else {
        return;
    };
    let rows: [&[f32]; LANES] = core::array::from_fn(|l| &batch[l * width..(l + 1) * width]);
    for (k, slot) in lanes.iter_mut().enumerate() {
        for (s, row) in slot.iter_mut().zip(&rows) {
            *s = row[k];
        }
    }
}

/// The inverse of [`interleave`].
#[allow(clippy::indexing_slicing)] // Every row is exactly `lanes.len()` long, so `row[k]` is in bounds.
fn deinterleave(lanes: &[[f32; LANES]], batch: &mut [f32]) {
    let width = lanes.len();
    let Some(batch) = batch.get_mut(..width * LANES) else {
        return;
    };
    let mut chunks = batch.chunks_exact_mut(width.max(1));
    let mut rows: [&mut [f32]; LANES] = core::array::from_fn(|_| chunks.next().unwrap_or_default());
    for (k, slot) in lanes.iter().enumerate() {
        for (row, &v) in rows.iter_mut().zip(slot) {
            row[k] = v;
        }
    }
}

/// Row `index` of a row-major buffer of rows `width` long.
fn row_mut(buffer: &mut [f32], width: usize, index: usize) -> &mut [f32] {
    buffer
        .get_mut(index * width..(index + 1) * width)
        .unwrap_or_default()
}

/// A vector of zeros, or [`PdqError::TooLarge`] when it cannot be allocated.
fn zeros(len: usize) -> Result<Vec<f32>, PdqError> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| PdqError::TooLarge)?;
    v.resize(len, 0.0);
    Ok(v)
}

/// A box filter of `window` down the columns of a `width` × `height` image whose rows arrive in order from
/// `source`; each output row goes to `sink` in order. Every column gets exactly the reference's running sum
/// (`box1DFloat` along a column), computed for all columns at once; only the last `window + 1` input rows are
/// kept.
fn box_columns(
    width: usize,
    height: usize,
    window: usize,
    mut source: impl FnMut(usize, &mut [f32]),
    mut sink: impl FnMut(usize, &[f32]),
) -> Result<(), PdqError> {
    let slots = window + 1;
    let mut ring = zeros(slots.checked_mul(width).ok_or(PdqError::TooLarge)?)?;
    let mut sums = zeros(width)?;
    let mut out = zeros(width)?;
    let phases = Phases::new(window, height);
    let (mut next_in, mut next_out, mut oldest) = (0_usize, 0_usize, 0_usize);
    let mut count = 0_usize;

    // Reads input row `next_in` into its ring slot and adds it to the sums.
    let mut add = |ring: &mut [f32], sums: &mut [f32], next_in: usize| {
        let slot = next_in % slots;
        if let Some(row) = ring.get_mut(slot * width..(slot + 1) * width) {
            source(next_in, row);
            for (s, x) in sums.iter_mut().zip(row.iter()) {
                *s += x;
            }
        }
    };
    let subtract = |ring: &[f32], sums: &mut [f32], oldest: usize| {
        let slot = oldest % slots;
        if let Some(row) = ring.get(slot * width..(slot + 1) * width) {
            for (s, x) in sums.iter_mut().zip(row.iter()) {
                *s -= x;
            }
        }
    };
    let divide = |sums: &[f32], out: &mut [f32], count: usize| {
        // C++ `sum / current_window_size`: the int converted to float.
        let size = count as f32;
        for (o, s) in out.iter_mut().zip(sums.iter()) {
            *o = s / size;
        }
    };

    for _ in 0..phases.lead {
        add(&mut ring, &mut sums, next_in);
        next_in += 1;
        count += 1;
    }
    for _ in 0..phases.grow {
        add(&mut ring, &mut sums, next_in);
        next_in += 1;
        count += 1;
        divide(&sums, &mut out, count);
        sink(next_out, &out);
        next_out += 1;
    }
    for _ in 0..phases.full {
        add(&mut ring, &mut sums, next_in);
        subtract(&ring, &mut sums, oldest);
        next_in += 1;
        oldest += 1;
        divide(&sums, &mut out, count);
        sink(next_out, &out);
        next_out += 1;
    }
    for _ in 0..phases.shrink {
        subtract(&ring, &mut sums, oldest);
        oldest += 1;
        count = count.saturating_sub(1);
        divide(&sums, &mut out, count);
        sink(next_out, &out);
        next_out += 1;
    }
    Ok(())
}

/// The 64×64 downsample of a `width` × `height` luma image whose rows `fill_row` produces: the reference's
/// `jaroszFilterFloat` (rows, columns, rows, columns) and `decimateFloat`, streamed. The row passes filter
/// [`LANES`] rows at a time; only the 64 sampled columns of the second row pass are kept, and only the 64 sampled
/// rows of the second column pass.
fn downsample(
    width: usize,
    height: usize,
    mut fill_row: impl FnMut(usize, &mut [f32]),
) -> Result<[[f32; SIDE]; SIDE], PdqError> {
    let along_rows = window_size(width);
    let along_columns = window_size(height);
    let sample_columns = decimation_indices(width);
    let sample_rows = decimation_indices(height);

    let lanes = || -> Result<Vec<[f32; LANES]>, PdqError> {
        let mut v = Vec::new();
        v.try_reserve_exact(width).map_err(|_| PdqError::TooLarge)?;
        v.resize(width, [0.0; LANES]);
        Ok(v)
    };
    let (mut lanes_in, mut lanes_out) = (lanes()?, lanes()?);
    let (mut pending_in, mut pending_out) = (lanes()?, lanes()?);
    let batch_len = width.checked_mul(LANES).ok_or(PdqError::TooLarge)?;
    // First pass: a batch of rows filtered along the rows, which the column pass then reads one by one.
    let mut batch = zeros(batch_len)?;
    let mut batch_start = usize::MAX;
    // Second pass: rows out of the column pass waiting to be filtered along the rows, and how many.
    let mut pending = zeros(batch_len)?;
    let mut pending_rows = 0_usize;
    // The second row pass at the 64 sampled columns, for every row.
    let mut strip = zeros(height.checked_mul(SIDE).ok_or(PdqError::TooLarge)?)?;

    box_columns(
        width,
        height,
        along_columns,
        |y, row| {
            if !(batch_start..batch_start.saturating_add(LANES)).contains(&y) {
                batch_start = y;
                for lane in 0..LANES.min(height - y) {
                    fill_row(y + lane, row_mut(&mut batch, width, lane));
                }
                interleave(&batch, &mut lanes_in);
                box_lanes(&lanes_in, &mut lanes_out, along_rows);
                deinterleave(&lanes_out, &mut batch);
            }
            row.copy_from_slice(row_mut(&mut batch, width, y - batch_start));
        },
        |y, row| {
            row_mut(&mut pending, width, pending_rows).copy_from_slice(row);
            pending_rows += 1;
            if pending_rows < LANES && y + 1 < height {
                return;
            }
            interleave(&pending, &mut pending_in);
            box_lanes(&pending_in, &mut pending_out, along_rows);
            let first = y + 1 - pending_rows;
            for lane in 0..pending_rows {
                let out = row_mut(&mut strip, SIDE, first + lane);
                for (o, &x) in out.iter_mut().zip(sample_columns.iter()) {
                    *o = pending_out
                        .get(x)
                        .and_then(|slot| slot.get(lane))
                        .copied()
                        .unwrap_or(0.0);
                }
            }
            pending_rows = 0;
        },
    )?;

    let mut grid = [[0.0_f32; SIDE]; SIDE];
    let mut targets = grid.iter_mut().zip(sample_rows.iter()).peekable();
    box_columns(
        SIDE,
        height,
        along_columns,
        |y, row| {
            if let Some(values) = strip.get(y * SIDE..(y + 1) * SIDE) {
                row.copy_from_slice(values);
            }
        },
        |y, row| {
            // Sample rows are non-decreasing and may repeat (images under 64 pixels).
            while let Some((target, _)) = targets.next_if(|(_, r)| **r == y) {
                target.copy_from_slice(row);
            }
        },
    )?;
    Ok(grid)
}

// ---------------------------------------------------------------------------------------------------------------
// Quality, DCT, bits (reference `pdqhashing.cpp`)

/// The 64×64 block after the shortcut or the downsampling, then quality and DCT.
fn dct_from_rows(
    width: usize,
    height: usize,
    shortcut_64: bool,
    mut fill_row: impl FnMut(usize, &mut [f32]),
) -> Result<([[f32; 16]; 16], u8), PdqError> {
    if width < MIN_DIMENSION || height < MIN_DIMENSION {
        return Err(PdqError::TooSmall);
    }
    let grid = if shortcut_64 && width == SIDE && height == SIDE {
        // `pdqFloat256FromFloatLuma` takes 64×64 input as it is (e.g. video frames already downsampled).
        let mut grid = [[0.0_f32; SIDE]; SIDE];
        for (y, row) in grid.iter_mut().enumerate() {
            fill_row(y, row);
        }
        grid
    } else {
        downsample(width, height, fill_row)?
    };
    let quality = quality(&grid);
    let dct = dct_64_to_16(&grid);
    if dct.iter().flatten().all(|v| v.is_finite()) {
        Ok((dct, quality))
    } else {
        Err(PdqError::InvalidLuma)
    }
}

/// `pdqImageDomainQualityMetric`: the sum of quantised absolute differences between neighbours, scaled.
fn quality(grid: &[[f32; SIDE]; SIDE]) -> u8 {
    fn step(u: f32, v: f32) -> i64 {
        // C++: `int d = ((u - v) * 100) / 255;` (float arithmetic, truncated towards zero), then `abs`.
        let d = ((u - v) * 100.0) / 255.0;
        i64::from(d as i32).abs()
    }
    let mut gradient_sum = 0_i64;
    for (upper, lower) in grid.iter().zip(grid.iter().skip(1)) {
        for (u, v) in upper.iter().zip(lower.iter()) {
            gradient_sum += step(*u, *v);
        }
    }
    for row in grid {
        for (u, v) in row.iter().zip(row.iter().skip(1)) {
            gradient_sum += step(*u, *v);
        }
    }
    u8::try_from((gradient_sum / 90).clamp(0, 100)).unwrap_or(100)
}

/// Rows 1–16 of the 64-point DCT-II matrix (`dct_matrix_64`): `sqrt(2/64) * cos(pi/128 * (i+1) * (2j+1))`, the
/// cosine in double precision and the scale factor in single precision, as in the reference.
fn dct_matrix() -> &'static [[f32; SIDE]; 16] {
    static MATRIX: OnceLock<[[f32; SIDE]; 16]> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let scale = (2.0_f64 / SIDE as f64).sqrt() as f32;
        let mut matrix = [[0.0_f32; SIDE]; 16];
        for (i, row) in matrix.iter_mut().enumerate() {
            for (j, value) in row.iter_mut().enumerate() {
                let angle = (std::f64::consts::PI / 2.0 / SIDE as f64)
                    * (i + 1) as f64
                    * (2 * j + 1) as f64;
                *value = (f64::from(scale) * angle.cos()) as f32;
            }
        }
        matrix
    })
}

/// `dct64To16`: B = D A Dᵀ with the intermediate T = D A, every sum taken in the reference's order.
fn dct_64_to_16(a: &[[f32; SIDE]; SIDE]) -> [[f32; 16]; 16] {
    let d = dct_matrix();
    let mut t = [[0.0_f32; SIDE]; 16];
    for (t_row, d_row) in t.iter_mut().zip(d.iter()) {
        for (&dk, a_row) in d_row.iter().zip(a.iter()) {
            for (t, &x) in t_row.iter_mut().zip(a_row.iter()) {
                *t += dk * x;
            }
        }
    }
    let mut b = [[0.0_f32; 16]; 16];
    for (b_row, t_row) in b.iter_mut().zip(t.iter()) {
        for (b, d_row) in b_row.iter_mut().zip(d.iter()) {
            *b = t_row
                .iter()
                .zip(d_row.iter())
                .fold(0.0_f32, |sum, (&x, &y)| sum + x * y);
        }
    }
    b
}

/// Torben Mogensen's median (N. Devillard's implementation, `torben.cpp`): for an even count it returns the lower
/// of the two middle values, exactly as the reference.
fn torben(values: &[f32]) -> f32 {
    let Some(&first) = values.first() else {
        return 0.0;
    };
    let n = values.len();
    let half = n.div_ceil(2);
    let (mut min, mut max) = (first, first);
    for &v in values.iter().skip(1) {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    // Each round removes at least one distinct value from [min, max]; the bound only guards against inputs the
    // callers already reject (non-finite values).
    for _ in 0..=n {
        let guess = (min + max) / 2.0;
        let (mut less, mut greater, mut equal) = (0_usize, 0_usize, 0_usize);
        let (mut max_lt_guess, mut min_gt_guess) = (min, max);
        for &v in values {
            if v < guess {
                less += 1;
                if v > max_lt_guess {
                    max_lt_guess = v;
                }
            } else if v > guess {
                greater += 1;
                if v < min_gt_guess {
                    min_gt_guess = v;
                }
            } else {
                equal += 1;
            }
        }
        if less <= half && greater <= half {
            return if less >= half {
                max_lt_guess
            } else if less + equal >= half {
                guess
            } else {
                min_gt_guess
            };
        } else if less > greater {
            max = max_lt_guess;
        } else {
            min = min_gt_guess;
        }
    }
    (min + max) / 2.0
}

/// `pdqBuffer16x16ToBits`: bit `16 i + j` is set when coefficient (i, j) is above the median.
fn bits(dct: &[[f32; 16]; 16]) -> PdqHash {
    let flat: Vec<f32> = dct.iter().flatten().copied().collect();
    let median = torben(&flat);
    let mut hash = PdqHash::default();
    for (i, &v) in flat.iter().enumerate() {
        if v > median {
            hash.set_bit(i);
        }
    }
    hash
}

fn result(dct: &[[f32; 16]; 16], quality: u8) -> PdqResult {
    PdqResult {
        hash: bits(dct),
        quality,
    }
}

/// The DCT block of a transformed image from the original's (`dct16OriginalTo*`): a transformation of the image
/// only transposes the block and flips the signs of odd rows and/or columns.
fn transform(a: &[[f32; 16]; 16], which: Dihedral) -> [[f32; 16]; 16] {
    // (transpose, negate) where negate(i, j) is in the original's coordinates.
    let (transpose, negate): (bool, fn(usize, usize) -> bool) = match which {
        Dihedral::Original => (false, |_, _| false),
        Dihedral::Rotate90 => (true, |_, j| j & 1 == 0),
        Dihedral::Rotate180 => (false, |i, j| (i + j) & 1 == 1),
        Dihedral::Rotate270 => (true, |i, _| i & 1 == 0),
        Dihedral::FlipX => (false, |i, _| i & 1 == 0),
        Dihedral::FlipY => (false, |_, j| j & 1 == 0),
        Dihedral::FlipPlus1 => (true, |_, _| false),
        Dihedral::FlipMinus1 => (true, |i, j| (i + j) & 1 == 1),
    };
    let mut b = [[0.0_f32; 16]; 16];
    for (i, row) in a.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let (r, c) = if transpose { (j, i) } else { (i, j) };
            if let Some(slot) = b.get_mut(r).and_then(|row| row.get_mut(c)) {
                *slot = if negate(i, j) { -v } else { v };
            }
        }
    }
    b
}

fn dihedral_results(dct: &[[f32; 16]; 16], quality: u8) -> [PdqResult; 8] {
    Dihedral::ALL.map(|which| result(&transform(dct, which), quality))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    /// The reference `box1DFloat`, transcribed with indices, for comparison.
    fn box_reference(input: &[f32], window: usize) -> Vec<f32> {
        let n = input.len();
        let half = (window + 2) / 2;
        let mut out = vec![0.0; n];
        let (mut li, mut ri, mut oi) = (0, 0, 0);
        let mut sum = 0.0_f32;
        let mut size = 0;
        for _ in 0..half - 1 {
            sum += input[ri];
            size += 1;
            ri += 1;
        }
        for _ in 0..window - half + 1 {
            sum += input[ri];
            size += 1;
            out[oi] = sum / size as f32;
            ri += 1;
            oi += 1;
        }
        for _ in 0..n - window {
            sum += input[ri];
            sum -= input[li];
            out[oi] = sum / size as f32;
            li += 1;
            ri += 1;
            oi += 1;
        }
        for _ in 0..half - 1 {
            sum -= input[li];
            size -= 1;
            out[oi] = sum / size as f32;
            li += 1;
            oi += 1;
        }
        out
    }

    #[test]
    fn box_filter_matches_reference_transcription() {
        let input: Vec<f32> = (0..300 * LANES)
            .map(|i| ((i * 37) % 101) as f32 * 1.37)
            .collect();
        for n in [5, 6, 17, 64, 129, 300] {
            for window in 1..=8.min(n) {
                let rows: Vec<&[f32]> = (0..LANES).map(|l| &input[l * 300..l * 300 + n]).collect();
                let batch: Vec<f32> = rows.concat();
                let mut interleaved = vec![[0.0; LANES]; n];
                interleave(&batch, &mut interleaved);
                let mut out = vec![[0.0; LANES]; n];
                box_lanes(&interleaved, &mut out, window);
                let mut got = vec![0.0; n * LANES];
                deinterleave(&out, &mut got);
                for (l, row) in rows.iter().enumerate() {
                    assert_eq!(
                        &got[l * n..(l + 1) * n],
                        box_reference(row, window),
                        "n {n} window {window}"
                    );
                }
            }
        }
    }

    #[test]
    fn streamed_columns_match_reference_per_column() {
        let (w, h) = (7, 300);
        let image: Vec<f32> = (0..w * h).map(|i| ((i * 53) % 97) as f32 * 2.1).collect();
        for window in [1, 2, 3, 4, 8] {
            let mut got = vec![0.0; w * h];
            box_columns(
                w,
                h,
                window,
                |y, row| row.copy_from_slice(&image[y * w..(y + 1) * w]),
                |y, row| got[y * w..(y + 1) * w].copy_from_slice(row),
            )
            .unwrap();
            for x in 0..w {
                let column: Vec<f32> = (0..h).map(|y| image[y * w + x]).collect();
                let expected = box_reference(&column, window);
                let actual: Vec<f32> = (0..h).map(|y| got[y * w + x]).collect();
                assert_eq!(actual, expected, "window {window} column {x}");
            }
        }
    }

    #[test]
    fn torben_is_the_lower_median() {
        let mut values: Vec<f32> = (0..256).map(|i| ((i * 97) % 256) as f32).collect();
        assert_eq!(torben(&values), 127.0);
        values[0] = -1000.0;
        let mut sorted = values.clone();
        sorted.sort_by(f32::total_cmp);
        assert_eq!(torben(&values), sorted[127]);
        assert_eq!(torben(&[3.0; 256]), 3.0);
    }

    #[test]
    fn window_and_decimation_follow_the_reference() {
        assert_eq!(window_size(1024), 8);
        assert_eq!(window_size(1600), 13);
        assert_eq!(window_size(100), 1);
        assert_eq!(window_size(129), 2);
        let idx = decimation_indices(1004);
        assert_eq!(idx[0], 7);
        assert_eq!(idx[63], 996);
        assert_eq!(decimation_indices(64), core::array::from_fn(|i| i));
        assert_eq!(nearest_indices(1600, 512)[1], 3);
        assert_eq!(nearest_indices(1600, 512)[511], 1596);
    }

    #[test]
    fn dihedral_of_dihedral_is_consistent() {
        let mut a = [[0.0_f32; 16]; 16];
        for (i, row) in a.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = (i * 16 + j) as f32 - 100.0;
            }
        }
        // Rotating by 90° four times, or flipping twice, gives the original back.
        let mut r = a;
        for _ in 0..4 {
            r = transform(&r, Dihedral::Rotate90);
        }
        assert_eq!(r, a);
        for flip in [
            Dihedral::FlipX,
            Dihedral::FlipY,
            Dihedral::FlipPlus1,
            Dihedral::FlipMinus1,
        ] {
            assert_eq!(transform(&transform(&a, flip), flip), a);
        }
        let twice = transform(&transform(&a, Dihedral::Rotate90), Dihedral::Rotate90);
        assert_eq!(twice, transform(&a, Dihedral::Rotate180));
    }

    #[test]
    fn rejects_bad_luma() {
        assert_eq!(hash_luma(&[0.0; 16], 4, 4), Err(PdqError::TooSmall));
        assert_eq!(hash_luma(&[0.0; 30], 6, 6), Err(PdqError::SizeMismatch));
        let mut luma = vec![1.0; 36];
        luma[7] = f32::NAN;
        assert_eq!(hash_luma(&luma, 6, 6), Err(PdqError::InvalidLuma));
        luma[7] = f32::MAX;
        assert_eq!(hash_luma(&luma, 6, 6), Err(PdqError::InvalidLuma));
        luma[7] = MAX_LUMA_MAGNITUDE;
        assert!(hash_luma(&luma, 6, 6).is_ok());
    }

    #[test]
    fn extreme_shapes_hash_without_trouble() {
        for (w, h) in [
            (5, 20_000),
            (20_000, 5),
            (5, 5),
            (64, 64),
            (65, 63),
            (129, 7),
        ] {
            let luma: Vec<f32> = (0..w * h).map(|i| ((i * 7919) % 251) as f32).collect();
            let plain = hash_luma(&luma, w, h).unwrap();
            let variants = hash_luma_dihedral(&luma, w, h).unwrap();
            assert_eq!(variants[0].quality, plain.quality, "{w}x{h}");
            if (w, h) != (64, 64) {
                assert_eq!(variants[0], plain, "{w}x{h}");
            }
        }
    }

    #[test]
    fn flat_image_has_zero_quality() {
        let luma = vec![128.0; 100 * 80];
        let r = hash_luma(&luma, 100, 80).unwrap();
        assert_eq!(r.quality, 0);
        assert!(!r.is_matchable());
    }
}
