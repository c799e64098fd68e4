//! Decoding untrusted image bytes (PNG, JPEG, WebP, GIF) under explicit limits.
//!
//! The format is recognised from the content, never from a file name. Every limit is checked before the pixel
//! buffer is allocated, so a decompression bomb (a small file declaring a huge image) is a typed
//! [`ImageError::TooLarge`], not an out-of-memory kill. A truncated file is [`ImageError::Malformed`] (for JPEG
//! this takes an explicit check: the decoder would otherwise fill the missing part with grey). Errors carry
//! neither image bytes nor paths.
//!
//! [`decode`] does not apply orientation metadata (EXIF): PDQ reference hashes are computed on the stored pixels.
//! [`decode_oriented`] does, for classifiers.

use std::io::{Cursor, Read};
use std::path::Path;

use ::image::{DynamicImage, ImageFormat, ImageReader, Limits};

/// Limits on what [`decode`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The widest image accepted, in pixels.
    pub max_width: u32,
    /// The tallest image accepted, in pixels.
    pub max_height: u32,
    /// The most memory the decoder may allocate, in bytes (the decoded pixels count in full).
    pub max_alloc: u64,
    /// The largest encoded input accepted, in bytes.
    pub max_bytes: usize,
}

impl Default for DecodeLimits {
    /// 16384 × 16384 pixels, 512 MiB of decoder memory, 64 MiB of input.
    fn default() -> Self {
        DecodeLimits {
            max_width: 16_384,
            max_height: 16_384,
            max_alloc: 512 * 1024 * 1024,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Why an image could not be decoded. No variant carries image bytes or a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// No bytes at all.
    #[error("empty image")]
    Empty,
    /// The input, the declared dimensions or the memory needed exceed the [`DecodeLimits`].
    #[error("image exceeds the decoding limits")]
    TooLarge,
    /// Not a PNG, JPEG, WebP or GIF image, or a feature of one that the decoder does not support.
    #[error("unsupported image format")]
    Unsupported,
    /// Truncated or corrupt data.
    #[error("malformed image data")]
    Malformed,
    /// The file could not be read.
    #[error("could not read the image file ({0:?})")]
    Io(std::io::ErrorKind),
}

impl From<::image::ImageError> for ImageError {
    fn from(error: ::image::ImageError) -> Self {
        use ::image::ImageError as E;
        match error {
            E::Limits(_) => ImageError::TooLarge,
            E::Unsupported(_) => ImageError::Unsupported,
            E::Decoding(_) | E::Parameter(_) | E::Encoding(_) | E::IoError(_) => {
                ImageError::Malformed
            }
        }
    }
}

/// Decodes an image whose format is recognised from its first bytes (PNG, JPEG, WebP or GIF; the first frame of an
/// animation). The stored pixels, without orientation metadata applied.
pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<DynamicImage, ImageError> {
    Ok(reader(bytes, limits)?.decode()?)
}

/// Decodes an image as [`decode`] does, then turns it upright as its EXIF orientation says (what a browser or
/// photo viewer shows: what a classifier should see).
pub fn decode_oriented(bytes: &[u8], limits: &DecodeLimits) -> Result<DynamicImage, ImageError> {
    use ::image::ImageDecoder;

    let reader = reader(bytes, limits)?;
    let mut budget = image_limits(limits);
    let mut decoder = reader.into_decoder()?;
    // As `ImageReader::decode` does: the pixel buffer counts against the memory limit before it is allocated.
    budget.reserve(decoder.total_bytes())?;
    // A broken orientation tag is no reason to refuse the image: show it as stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(::image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn image_limits(limits: &DecodeLimits) -> Limits {
    let mut image_limits = Limits::default();
    image_limits.max_image_width = Some(limits.max_width);
    image_limits.max_image_height = Some(limits.max_height);
    image_limits.max_alloc = Some(limits.max_alloc);
    image_limits
}

/// A reader for a recognised, complete image within the input-size limit, with the decoding limits set.
fn reader<'a>(
    bytes: &'a [u8],
    limits: &DecodeLimits,
) -> Result<ImageReader<Cursor<&'a [u8]>>, ImageError> {
    if bytes.is_empty() {
        return Err(ImageError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(ImageError::TooLarge);
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| ImageError::Malformed)?;
    match reader.format() {
        Some(ImageFormat::Jpeg) if !jpeg_has_end(bytes) => return Err(ImageError::Malformed),
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif) => {}
        _ => return Err(ImageError::Unsupported),
    }
    reader.limits(image_limits(limits));
    Ok(reader)
}

/// Whether a JPEG's image data is followed by its end-of-image marker. The JPEG decoder fills the missing part of
/// a truncated file with grey and reports success; a truncated file is refused instead (as Pillow, which the
/// reference hashes come from, does). Data after the end marker (trailers, appended videos) is fine.
fn jpeg_has_end(bytes: &[u8]) -> bool {
    let be16 = |at: usize| -> Option<usize> {
        let hi = bytes.get(at)?;
        let lo = bytes.get(at + 1)?;
        Some(usize::from(*hi) << 8 | usize::from(*lo))
    };
    // Walk the marker segments after the start-of-image marker up to the first scan; segment contents (such as
    // an EXIF thumbnail, which has its own end marker) are skipped whole.
    let mut at = 2;
    loop {
        if bytes.get(at) != Some(&0xFF) {
            return false;
        }
        while bytes.get(at + 1) == Some(&0xFF) {
            at += 1;
        }
        match bytes.get(at + 1) {
            None => return false,
            // Start of scan: the entropy-coded data follows its header.
            Some(0xDA) => {
                let Some(length) = be16(at + 2) else {
                    return false;
                };
                at += 2 + length;
                break;
            }
            // Markers without a length.
            Some(0x01 | 0xD0..=0xD9) => at += 2,
            Some(_) => {
                let Some(length) = be16(at + 2) else {
                    return false;
                };
                at += 2 + length;
            }
        }
    }
    // Entropy-coded data never contains 0xFF 0xD9 (a 0xFF data byte is stuffed as 0xFF 0x00), so the first one is
    // the end of the image.
    bytes
        .get(at..)
        .is_some_and(|rest| rest.windows(2).any(|w| w == [0xFF, 0xD9]))
}

/// Reads and decodes an image file (see [`decode`]); a file larger than `limits.max_bytes` is not read.
pub fn decode_file(
    path: impl AsRef<Path>,
    limits: &DecodeLimits,
) -> Result<DynamicImage, ImageError> {
    let io = |e: std::io::Error| ImageError::Io(e.kind());
    let file = std::fs::File::open(path.as_ref()).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let max = u64::try_from(limits.max_bytes).unwrap_or(u64::MAX);
    if len > max {
        return Err(ImageError::TooLarge);
    }
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).map_err(|_| ImageError::TooLarge)?)
        .map_err(|_| ImageError::TooLarge)?;
    // The file may grow while it is read: never read more than the limit allows.
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    decode(&bytes, limits)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn errors_are_typed() {
        let limits = DecodeLimits::default();
        assert_eq!(decode(&[], &limits).unwrap_err(), ImageError::Empty);
        assert_eq!(
            decode(b"definitely not an image", &limits).unwrap_err(),
            ImageError::Unsupported
        );
        let small = DecodeLimits {
            max_bytes: 4,
            ..limits
        };
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n", &small).unwrap_err(),
            ImageError::TooLarge
        );
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n", &limits).unwrap_err(),
            ImageError::Malformed
        );
    }
}
