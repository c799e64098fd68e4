//! The image classifier with real ONNX Runtime sessions on benign images only (the generated fixtures and
//! scikit-image's public-domain photos), against the references' own pipelines. Needs `scripts/fetch-models.sh`
//! (scripts/test.sh runs it); without it these tests fail and say so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use haven_core::classify::{
    BuiltinModel, ClassifierConfig, ClassifyError, ImageClassifier, Runtime, Unavailable,
};
use haven_core::hash::image::{DecodeLimits, ImageError, decode_oriented};
use haven_core::policy::{Action, AgeTier, Category, Profile};
use haven_core::{Error, Haven};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn config(model: BuiltinModel) -> ClassifierConfig {
    ClassifierConfig {
        model,
        runtime: Some(root().join(haven_core::classify::runtime::DEFAULT_ORT_DYLIB)),
        models_dir: Some(root().join(haven_core::classify::DEFAULT_MODELS_DIR)),
        intra_threads: 1,
        sessions: 2,
        ..ClassifierConfig::default()
    }
}

/// One classifier per model for the whole test binary (sessions are meant to be shared).
fn classifier(model: BuiltinModel) -> Arc<ImageClassifier> {
    static LOADED: OnceLock<Vec<(BuiltinModel, Arc<ImageClassifier>)>> = OnceLock::new();
    let all = LOADED.get_or_init(|| {
        BuiltinModel::ALL
            .into_iter()
            .map(|m| {
                let c = ImageClassifier::load(&config(m))
                    .unwrap_or_else(|e| panic!("{}: {e} (run scripts/fetch-models.sh)", m.id()));
                (m, Arc::new(c))
            })
            .collect()
    });
    all.iter().find(|(m, _)| *m == model).unwrap().1.clone()
}

/// Every benign test image: (name, bytes).
fn benign_images() -> Vec<(String, Vec<u8>)> {
    let mut images = Vec::new();
    for dir in [
        root().join("fixtures/images"),
        root().join(".haven/testdata/skimage"),
    ] {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| {
                panic!("{} is missing (run scripts/fetch-models.sh)", dir.display())
            })
            .map(|e| e.unwrap().path())
            .filter(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("png" | "jpg" | "gif" | "webp")
                )
            })
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            images.push((name, std::fs::read(&path).unwrap()));
        }
    }
    assert!(images.len() >= 35, "only {} benign images", images.len());
    images
}

fn golden(path: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
}

/// Rust decoding + nsfwjs preprocessing + the ONNX model against nsfwjs's own pipeline in tfjs, image by image.
/// Lossless images decode to the same pixels in both, so the scores agree to the conversion's precision; JPEGs go
/// through different decoders (zune-jpeg here, the browser's or libjpeg-turbo there) and agree less closely.
#[test]
fn nsfwjs_golden_scores_match_tfjs() {
    let golden = golden("models/nsfwjs-mobilenet-v2/golden.json");
    let scores = golden["scores"].as_object().unwrap();
    let model = classifier(BuiltinModel::NsfwjsMobileNetV2);
    let (mut worst_lossless, mut worst_jpeg) = (0f32, 0f32);
    for (name, bytes) in benign_images() {
        let Some(expected) = scores.get(&name) else {
            panic!("{name} has no golden score");
        };
        let got = model.classify_bytes(&bytes).unwrap().scores;
        let delta = expected
            .as_array()
            .unwrap()
            .iter()
            .zip(&got)
            .map(|(e, g)| (e.as_f64().unwrap() as f32 - g).abs())
            .fold(0f32, f32::max);
        if name.ends_with(".jpg") {
            worst_jpeg = worst_jpeg.max(delta);
        } else {
            worst_lossless = worst_lossless.max(delta);
        }
    }
    eprintln!("nsfwjs vs tfjs: max |d| lossless {worst_lossless:.2e}, jpeg {worst_jpeg:.2e}");
    assert!(worst_lossless <= 1e-4, "lossless: {worst_lossless}");
    assert!(worst_jpeg <= 2e-2, "jpeg: {worst_jpeg}");
}

/// Rust's reproduction of the package's pipeline (Pillow resize, JPEG round trip, crop, BGR, means) against the
/// package's Python code: |d score| <= 0.01 on every benign image.
#[test]
fn open_nsfw_matches_the_python_pipeline() {
    let golden = golden("models/open-nsfw/golden.json");
    let scores = golden["scores"].as_object().unwrap();
    let model = classifier(BuiltinModel::OpenNsfw);
    let mut worst = (0f32, String::new());
    for (name, bytes) in benign_images() {
        let expected = scores[&name].as_f64().unwrap() as f32;
        let got = model.classify_bytes(&bytes).unwrap().scores[1];
        let delta = (expected - got).abs();
        if delta > worst.0 {
            worst = (delta, name);
        }
    }
    eprintln!(
        "open_nsfw vs Python: max |d score| {:.2e} ({})",
        worst.0, worst.1
    );
    assert!(worst.0 <= 0.01, "{worst:?}");
}

/// The quantised model stays within its manifest's tolerance of the float model.
#[test]
fn int8_stays_within_its_tolerance() {
    let float = classifier(BuiltinModel::NsfwjsMobileNetV2);
    let int8 = classifier(BuiltinModel::NsfwjsMobileNetV2Int8);
    let tolerance = int8.manifest().tolerance.unwrap();
    let mut worst = 0f32;
    for (_, bytes) in benign_images() {
        let a = float.classify_bytes(&bytes).unwrap();
        let b = int8.classify_bytes(&bytes).unwrap();
        for (x, y) in a.scores.iter().zip(&b.scores) {
            worst = worst.max((x - y).abs());
        }
    }
    eprintln!("int8 vs float: max |d| {worst:.3}");
    assert!(worst <= tolerance, "{worst} > {tolerance}");
}

/// No benign image is reported for any tier by any model: zero false positives at the block threshold (for a
/// minor every finding of these categories blocks). Prints the highest benign score per model and category.
#[test]
fn benign_images_are_not_flagged() {
    let images = benign_images();
    for model in BuiltinModel::ALL {
        let classifier = classifier(model);
        let mut highest: BTreeMap<Category, (f32, String)> = BTreeMap::new();
        for (name, bytes) in &images {
            let scores = classifier.classify_bytes(bytes).unwrap();
            for (category, score) in classifier.category_scores(&scores) {
                let entry = highest.entry(category).or_insert((0.0, String::new()));
                if score > entry.0 {
                    *entry = (score, name.clone());
                }
            }
            for tier in AgeTier::ALL {
                let findings = classifier.findings(&scores, tier);
                assert!(
                    findings.is_empty(),
                    "{}: {name} flagged for {tier:?}: {findings:?}",
                    model.id()
                );
            }
        }
        eprintln!("{}: highest benign scores {highest:?}", model.id());
    }
}

/// Scores that reach a tier's threshold become findings, and Haven turns them into the profile's action.
#[test]
fn findings_follow_the_thresholds_and_the_policy() {
    let model = classifier(BuiltinModel::NsfwjsMobileNetV2);
    let labels = &model.manifest().output.labels;
    let at = |label: &str, p: f32| {
        let mut scores = vec![(1.0 - p) / 4.0; 5];
        scores[labels.iter().position(|l| l == label).unwrap()] = p;
        haven_core::classify::ClassScores { scores }
    };
    let haven = Haven::new();
    let porn = at("porn", 0.97);
    for tier in AgeTier::ALL {
        let findings = model.findings(&porn, tier);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].category, Category::SexualContent);
        let profile = Profile::new("Kim", tier).unwrap();
        let verdict = haven.decide(&profile, findings);
        let expected = if tier.is_minor() {
            Action::Block
        } else {
            Action::Allow
        };
        assert_eq!(verdict.action, expected, "{tier:?}");
        assert_eq!(
            verdict.evidence[0].source.as_ref().unwrap().id,
            "nsfwjs-mobilenet-v2"
        );
    }
    // 0.92 is a finding for the under-16 tiers (threshold 0.9) but not for 16-17 (0.95).
    let borderline = at("porn", 0.92);
    assert_eq!(model.findings(&borderline, AgeTier::Age13To15).len(), 1);
    assert!(model.findings(&borderline, AgeTier::Age16To17).is_empty());
    // "sexy" is nudity: blocked for 13-15, a warning for 16-17.
    let sexy = at("sexy", 0.97);
    let teen = |tier| {
        let profile = Profile::new("Kim", tier).unwrap();
        haven.decide(&profile, model.findings(&sexy, tier)).action
    };
    assert_eq!(teen(AgeTier::Age13To15), Action::Block);
    assert_eq!(teen(AgeTier::Age16To17), Action::Warn);
}

#[test]
fn haven_checks_images_with_the_classifier() {
    let haven = Haven::new().with_image_classifier(classifier(BuiltinModel::NsfwjsMobileNetV2));
    let profile = Profile::new("Mia", AgeTier::Under9).unwrap();
    let bytes = std::fs::read(root().join("fixtures/images/gradient-300x200.png")).unwrap();
    let verdict = haven.check_image(&profile, &bytes).unwrap();
    assert_eq!(verdict.action, Action::Allow);
    assert!(verdict.categories.is_empty());
    // Undecodable input is a typed error, without the bytes.
    let error = haven
        .check_image(&profile, &bytes[..bytes.len() / 2])
        .unwrap_err();
    assert_eq!(
        error,
        Error::Classify(ClassifyError::Image(ImageError::Malformed))
    );
}

#[test]
fn missing_and_corrupt_models_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(BuiltinModel::NsfwjsMobileNetV2);
    cfg.models_dir = Some(dir.path().to_path_buf());
    assert_eq!(
        ImageClassifier::load(&cfg).unwrap_err(),
        ClassifyError::ModelUnavailable(Unavailable::ModelMissing)
    );
    let model_dir = dir.path().join("nsfwjs-mobilenet-v2");
    std::fs::create_dir_all(&model_dir).unwrap();
    let mut bytes =
        std::fs::read(root().join(".haven/models/nsfwjs-mobilenet-v2/model.onnx")).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(model_dir.join("model.onnx"), &bytes).unwrap();
    assert_eq!(
        ImageClassifier::load(&cfg).unwrap_err(),
        ClassifyError::ModelCorrupt
    );
    // A truncated model is corrupt too (its checksum is checked before ONNX Runtime sees it).
    std::fs::write(model_dir.join("model.onnx"), &bytes[..1000]).unwrap();
    assert_eq!(
        ImageClassifier::load(&cfg).unwrap_err(),
        ClassifyError::ModelCorrupt
    );
}

#[test]
fn truncated_images_and_bombs_are_typed_errors() {
    let model = classifier(BuiltinModel::NsfwjsMobileNetV2);
    let jpeg = std::fs::read(root().join(".haven/testdata/skimage/rocket.jpg")).unwrap();
    assert_eq!(
        model.classify_bytes(&jpeg[..jpeg.len() - 100]).unwrap_err(),
        ClassifyError::Image(ImageError::Malformed)
    );
    let png = std::fs::read(root().join("fixtures/images/noise-97x131.png")).unwrap();
    assert_eq!(
        model.classify_bytes(&png[..png.len() / 3]).unwrap_err(),
        ClassifyError::Image(ImageError::Malformed)
    );
    assert_eq!(
        model.classify_bytes(&[]).unwrap_err(),
        ClassifyError::Image(ImageError::Empty)
    );
    // Bombs: a valid PNG whose header declares 100000 x 100000 pixels (beyond the dimension limits), and one of
    // 15000 x 15000 (within them, but 675 MB of pixels is beyond the memory limit).
    for side in [100_000, 15_000] {
        assert_eq!(
            model
                .classify_bytes(&png_declaring(side, side))
                .unwrap_err(),
            ClassifyError::Image(ImageError::TooLarge),
            "{side}"
        );
    }
}

/// A valid 1 x 1 PNG whose header is rewritten to declare `width` x `height` (with a correct CRC).
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(&[7u8; 3], 1, 1, image::ExtendedColorType::Rgb8)
        .unwrap();
    assert_eq!(&bytes[12..16], b"IHDR");
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = 0xFFFF_FFFF_u32;
    for &b in &bytes[12..29] {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    bytes[29..33].copy_from_slice(&(!crc).to_be_bytes());
    bytes
}

use image::ImageEncoder;

#[test]
fn exif_orientation_is_honoured() {
    // Stored 120 x 80, red on the left; orientation 6 turns it a quarter clockwise: 80 x 120, red on top.
    let bytes = std::fs::read(root().join("fixtures/images/halves-orientation6.jpg")).unwrap();
    let image = decode_oriented(&bytes, &DecodeLimits::default())
        .unwrap()
        .to_rgb8();
    assert_eq!(image.dimensions(), (80, 120));
    let top = image.get_pixel(40, 20).0;
    let bottom = image.get_pixel(40, 100).0;
    assert!(top[0] > 150 && top[2] < 80, "{top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 80, "{bottom:?}");
    let stored = haven_core::hash::image::decode(&bytes, &DecodeLimits::default()).unwrap();
    assert_eq!((stored.width(), stored.height()), (120, 80));
}

/// Many threads share one classifier (two sessions) and get the same scores as one thread does.
#[test]
fn concurrent_use_from_many_threads() {
    let model = classifier(BuiltinModel::NsfwjsMobileNetV2);
    let images: Vec<Vec<u8>> = benign_images()
        .into_iter()
        .take(6)
        .map(|(_, b)| b)
        .collect();
    let expected: Vec<Vec<f32>> = images
        .iter()
        .map(|b| model.classify_bytes(b).unwrap().scores)
        .collect();
    let images = Arc::new(images);
    let expected = Arc::new(expected);
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let (model, images, expected) = (model.clone(), images.clone(), expected.clone());
            std::thread::spawn(move || {
                for round in 0..3 {
                    let i = (t + round) % images.len();
                    let got = model.classify_bytes(&images[i]).unwrap().scores;
                    for (a, b) in got.iter().zip(&expected[i]) {
                        assert!((a - b).abs() < 1e-5, "thread {t}: {a} vs {b}");
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn the_runtime_is_shared() {
    classifier(BuiltinModel::NsfwjsMobileNetV2);
    // Once loaded, the process's environment is reused whatever path is named.
    assert!(Runtime::load(Path::new("/nonexistent/libonnxruntime.so")).is_ok());
}
