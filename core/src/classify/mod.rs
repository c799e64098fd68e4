//! The classifiers: ONNX models run on the device with ONNX Runtime. This module holds the image classifier
//! (sexual content and nudity); [`text`] holds the toxic-message classifier (bullying and hate), which shares the
//! runtime, the manifests and the errors.
//!
//! - [`Runtime`]: the ONNX Runtime library, loaded at run time from the configured path, `$HAVEN_ORT_DYLIB` or
//!   [`runtime::DEFAULT_ORT_DYLIB`]; one environment per process.
//! - [`ModelManifest`]: what a model is, where it came from, how to feed it, and its per-tier thresholds.
//! - [`ImageClassifier`]: a model in a pool of sessions, shared across threads; images in, [`Finding`]s out.
//!
//! Without a runtime or a model, loading fails with [`ClassifyError::ModelUnavailable`] and the rest of Haven
//! works as before ([`crate::Haven`] classifies images only when it has been given a classifier). A model file
//! whose SHA-256 differs from its manifest is [`ClassifyError::ModelCorrupt`] and is never loaded.
//!
//! Images are decoded under limits, used and dropped: never written anywhere, never part of an error.
//!
//! [`Finding`]: crate::verdict::Finding

mod classifier;
pub mod manifest;
pub mod preprocess;
pub mod runtime;
mod session;
pub mod text;

pub use classifier::{
    ClassScores, ClassifierConfig, DEFAULT_MODELS_DIR, ImageClassifier, MODELS_DIR_ENV,
};
pub use manifest::{BuiltinModel, ModelManifest};
pub use runtime::Runtime;

use crate::hash::image::ImageError;

/// Why no model can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unavailable {
    /// No ONNX Runtime library at the configured path (run `scripts/fetch-models.sh`).
    #[error("the ONNX Runtime library is not installed")]
    RuntimeMissing,
    /// The file is not an ONNX Runtime library this build supports.
    #[error("the ONNX Runtime library could not be loaded (wrong file or version)")]
    RuntimeInvalid,
    /// No model file at the configured path (run `scripts/fetch-models.sh`).
    #[error("the model file is not installed")]
    ModelMissing,
    /// The model file exists but cannot be read.
    #[error("the model file cannot be read")]
    ModelUnreadable,
    /// ONNX Runtime refused the model.
    #[error("ONNX Runtime could not load the model")]
    ModelInvalid,
}

/// What can go wrong classifying an image. No variant carries image data or the name of the checked file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifyError {
    /// The runtime or the model is not there or not usable; the image was not classified.
    #[error("model unavailable: {0}")]
    ModelUnavailable(Unavailable),
    /// The model file does not match the SHA-256 in its manifest: it was not loaded.
    #[error("the model file does not match the SHA-256 in its manifest")]
    ModelCorrupt,
    /// A manifest is malformed.
    #[error("invalid model manifest: {0}")]
    Manifest(String),
    /// No built-in model has that identifier.
    #[error("unknown model (see `haven check image --help`)")]
    UnknownModel,
    /// The image could not be decoded.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// ONNX Runtime failed while running the model (its message, which concerns tensors, not content).
    #[error("inference failed: {0}")]
    Inference(String),
}

#[cfg(test)]
mod tests;
