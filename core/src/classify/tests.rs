#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use image::RgbImage;

use super::manifest::{BuiltinModel, ModelManifest, Preprocessing};
use super::preprocess::{nsfwjs, pillow_bilinear};
use super::{ClassScores, ClassifyError};
use crate::policy::{AgeTier, Category};

#[test]
fn builtin_manifests_parse_and_are_consistent() {
    for model in BuiltinModel::ALL {
        let manifest = ModelManifest::builtin(model).unwrap();
        assert_eq!(manifest.id, model.id());
        assert_eq!(model.id().parse::<BuiltinModel>().unwrap(), model);
        assert!(!manifest.categories.is_empty());
        assert_eq!(manifest.input.shape, vec![-1, 224, 224, 3]);
        for mapping in &manifest.categories {
            // Stricter (lower or equal) thresholds for younger children.
            let thresholds: Vec<f32> = AgeTier::ALL.iter().map(|t| mapping.threshold[t]).collect();
            assert!(
                thresholds.windows(2).all(|w| w[0] <= w[1]),
                "{thresholds:?}"
            );
        }
    }
    assert_eq!(
        "no-such-model".parse::<BuiltinModel>().unwrap_err(),
        ClassifyError::UnknownModel
    );
}

#[test]
fn invalid_manifests_are_refused() {
    let good = include_str!("../../../models/nsfwjs-mobilenet-v2/manifest.toml");
    let cases = [
        good.replace(
            "labels = [\"porn\", \"hentai\"]",
            "labels = [\"porn\", \"nope\"]",
        ),
        good.replace("\"adult\" = 0.95 }", "}"),
        good.replace("\"9-12\" = 0.9,", "\"9-12\" = 1.5,"),
        good.replace("sha256 = \"e3186a25", "sha256 = \"zz"),
        good.replace("kind = \"nsfwjs\"", "kind = \"mystery\""),
        format!("surprise = 1\n{good}"),
    ];
    for (i, text) in cases.iter().enumerate() {
        assert!(
            matches!(ModelManifest::parse(text), Err(ClassifyError::Manifest(_))),
            "case {i}"
        );
    }
    assert!(ModelManifest::parse(good).is_ok());
}

#[test]
fn category_scores_sum_their_labels() {
    let manifest = ModelManifest::builtin(BuiltinModel::NsfwjsMobileNetV2).unwrap();
    // drawing, hentai, neutral, porn, sexy
    let scores = ClassScores {
        scores: vec![0.01, 0.45, 0.02, 0.47, 0.05],
    };
    let by_category = manifest.category_scores(&scores);
    assert_eq!(by_category[0].0, Category::SexualContent);
    assert!((by_category[0].1 - 0.92).abs() < 1e-6);
    assert_eq!(by_category[1].0, Category::Nudity);
    let under_9 = manifest.findings(&scores, AgeTier::Under9);
    assert_eq!(under_9.len(), 1);
    assert_eq!(under_9[0].evidence.rule.as_deref(), Some("porn+hentai"));
    assert!(manifest.findings(&scores, AgeTier::Adult).is_empty());
}

#[test]
fn nsfwjs_resize_has_aligned_corners() {
    // 2 x 2 -> 3 x 3: the corners are the input pixels, the centre is their mean.
    let rgb =
        RgbImage::from_raw(2, 2, vec![0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255]).unwrap();
    let out = nsfwjs(&rgb, 3);
    let at = |y: usize, x: usize| out[(y * 3 + x) * 3];
    assert_eq!(at(0, 0), 0.0);
    assert_eq!(at(0, 2), 1.0);
    assert!((at(1, 1) - 0.5).abs() < 1e-7);
    // Already the right size: only scaled.
    let same = nsfwjs(&rgb, 2);
    assert_eq!(
        same,
        vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    );
    assert_eq!(
        Preprocessing::Nsfwjs { size: 224 },
        Preprocessing::Nsfwjs { size: 224 }
    );
}

/// Pillow 13.0.0's `Image.resize(..., Image.BILINEAR)` of a 5 x 3 gradient (values recorded from Pillow).
#[test]
fn pillow_bilinear_matches_pillow() {
    let input: Vec<u8> = (0..45u8).map(|v| v * 5).collect();
    let rgb = RgbImage::from_raw(5, 3, input).unwrap();
    let down = pillow_bilinear(&rgb, 3, 2);
    assert_eq!(
        down.as_raw(),
        &[
            34, 39, 44, 58, 63, 68, 82, 87, 92, 128, 133, 138, 152, 157, 162, 176, 181, 186
        ]
    );
    let up = pillow_bilinear(&rgb, 7, 4);
    assert_eq!(
        up.as_raw(),
        &[
            0, 5, 10, 9, 14, 19, 19, 24, 29, 30, 35, 40, 41, 46, 51, 51, 56, 61, 60, 65, 70, 47,
            52, 57, 56, 61, 66, 66, 71, 76, 77, 82, 87, 88, 93, 98, 98, 103, 108, 107, 112, 117,
            103, 108, 113, 112, 117, 122, 122, 127, 132, 133, 138, 143, 144, 149, 154, 154, 159,
            164, 163, 168, 173, 150, 155, 160, 159, 164, 169, 169, 174, 179, 180, 185, 190, 191,
            196, 201, 201, 206, 211, 210, 215, 220
        ]
    );
    assert_eq!(pillow_bilinear(&rgb, 5, 3), rgb);
}
