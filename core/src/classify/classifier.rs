//! An image model loaded into ONNX Runtime sessions, shared by every thread that checks images.

use std::path::{Path, PathBuf};

use image::DynamicImage;
use ort::value::TensorRef;

use super::ClassifyError;
use super::manifest::{BuiltinModel, ModelManifest};
use super::preprocess;
use super::runtime::Runtime;
use super::session::{SessionPool, read_verified};
use crate::hash::image::{DecodeLimits, decode_oriented};
use crate::policy::{AgeTier, Category};
use crate::verdict::Finding;

/// The environment variable that names the installed models directory when the configuration does not.
pub const MODELS_DIR_ENV: &str = "HAVEN_MODELS_DIR";

/// Where `scripts/fetch-models.sh` installs the models, relative to the project directory.
pub const DEFAULT_MODELS_DIR: &str = ".haven/models";

/// How to load an image model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassifierConfig {
    /// Which model.
    pub model: BuiltinModel,
    /// The ONNX Runtime library (see [`Runtime::locate`]).
    pub runtime: Option<PathBuf>,
    /// The installed models directory, holding `<model id>/<file>`; `None`: `$HAVEN_MODELS_DIR`, else
    /// [`DEFAULT_MODELS_DIR`].
    pub models_dir: Option<PathBuf>,
    /// Threads each inference may use (ONNX Runtime's intra-op threads).
    pub intra_threads: usize,
    /// Sessions in the pool: how many images can be classified at the same moment (each costs the model's
    /// memory again). Further callers wait for a free session.
    pub sessions: usize,
    /// Limits on the images accepted.
    pub limits: DecodeLimits,
}

impl Default for ClassifierConfig {
    /// The default model, located the default way; one session with two threads.
    fn default() -> Self {
        ClassifierConfig {
            model: BuiltinModel::NsfwjsMobileNetV2,
            runtime: None,
            models_dir: None,
            intra_threads: 2,
            sessions: 1,
            limits: DecodeLimits::default(),
        }
    }
}

impl ClassifierConfig {
    /// The models directory in use (see [`ClassifierConfig::models_dir`]).
    pub fn models_dir(&self) -> PathBuf {
        locate_models_dir(self.models_dir.as_deref())
    }
}

/// The installed models directory: `configured` if given, else `$HAVEN_MODELS_DIR`, else [`DEFAULT_MODELS_DIR`].
pub(crate) fn locate_models_dir(configured: Option<&Path>) -> PathBuf {
    match configured {
        Some(dir) => dir.to_path_buf(),
        None => std::env::var_os(MODELS_DIR_ENV)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_MODELS_DIR), PathBuf::from),
    }
}

/// One image's class probabilities, in the order of the manifest's output labels.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScores {
    /// The probabilities.
    pub scores: Vec<f32>,
}

/// An image model ready to classify: its manifest and a pool of sessions. Safe to share across threads.
#[derive(Debug)]
pub struct ImageClassifier {
    manifest: ModelManifest,
    sessions: SessionPool,
    limits: DecodeLimits,
}

impl ImageClassifier {
    /// Loads a model as configured: the runtime, then the model file, whose SHA-256 must match the manifest.
    pub fn load(config: &ClassifierConfig) -> Result<ImageClassifier, ClassifyError> {
        let manifest = ModelManifest::builtin(config.model)?;
        let runtime = Runtime::load_default(config.runtime.as_deref())?;
        let file = config.models_dir().join(&manifest.id).join(&manifest.file);
        ImageClassifier::load_file(&runtime, manifest, &file, config)
    }

    /// Loads the model in `file` described by `manifest` (for models other than the built-in ones).
    pub fn load_file(
        runtime: &Runtime,
        manifest: ModelManifest,
        file: &Path,
        config: &ClassifierConfig,
    ) -> Result<ImageClassifier, ClassifyError> {
        let bytes = read_verified(file, &manifest.sha256)?;
        let sessions = SessionPool::new(runtime, &bytes, config.intra_threads, config.sessions)?;
        Ok(ImageClassifier {
            manifest,
            sessions,
            limits: config.limits,
        })
    }

    /// The model's manifest.
    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    /// Decodes an image's bytes (under the configured limits, turned upright by its EXIF orientation) and
    /// returns its class probabilities. The image is not kept.
    pub fn classify_bytes(&self, bytes: &[u8]) -> Result<ClassScores, ClassifyError> {
        let image = decode_oriented(bytes, &self.limits)?;
        self.classify(&image)
    }

    /// The class probabilities of a decoded image.
    pub fn classify(&self, image: &DynamicImage) -> Result<ClassScores, ClassifyError> {
        let input = preprocess::tensor(image, &self.manifest.preprocessing)?;
        self.classify_tensor(&input)
    }

    /// The class probabilities for a preprocessed input (`side × side × 3` NHWC values).
    pub fn classify_tensor(&self, input: &[f32]) -> Result<ClassScores, ClassifyError> {
        let side = preprocess::side(&self.manifest.preprocessing) as usize;
        let view = ndarray::ArrayView4::from_shape((1, side, side, 3), input)
            .map_err(|_| ClassifyError::Inference("input tensor has the wrong size".into()))?;
        let tensor = TensorRef::from_array_view(view)
            .map_err(|e| ClassifyError::Inference(e.to_string()))?;
        let mut session = self.sessions.get()?;
        let outputs = session
            .run(ort::inputs![self.manifest.input.name.as_str() => tensor])
            .map_err(|e| ClassifyError::Inference(e.to_string()))?;
        let output = outputs
            .get(self.manifest.output.name.as_str())
            .ok_or_else(|| ClassifyError::Inference("the model has no such output".into()))?;
        let (_, scores) = output
            .try_extract_tensor::<f32>()
            .map_err(|e| ClassifyError::Inference(e.to_string()))?;
        if scores.len() != self.manifest.output.labels.len() {
            return Err(ClassifyError::Inference(
                "the output does not match the manifest's labels".into(),
            ));
        }
        Ok(ClassScores {
            scores: scores.to_vec(),
        })
    }

    /// Each category's score (see [`ModelManifest::category_scores`]).
    pub fn category_scores(&self, scores: &ClassScores) -> Vec<(Category, f32)> {
        self.manifest.category_scores(scores)
    }

    /// The findings for a child of `tier` (see [`ModelManifest::findings`]).
    pub fn findings(&self, scores: &ClassScores, tier: AgeTier) -> Vec<Finding> {
        self.manifest.findings(scores, tier)
    }

    /// Decodes, classifies and returns the findings for a child of `tier`.
    pub fn check_bytes(&self, bytes: &[u8], tier: AgeTier) -> Result<Vec<Finding>, ClassifyError> {
        Ok(self.findings(&self.classify_bytes(bytes)?, tier))
    }
}
