//! The two text models, their sessions, routing and findings.

use std::path::{Path, PathBuf};

use ort::value::TensorRef;
use tokenizers::Tokenizer;

use super::detect_language;
use super::features;
use crate::classify::classifier::locate_models_dir;
use crate::classify::manifest::{ModelManifest, Preprocessing};
use crate::classify::runtime::Runtime;
use crate::classify::session::{SessionPool, read_verified, verify};
use crate::classify::{ClassScores, ClassifyError, Unavailable};
use crate::i18n::Language;
use crate::policy::AgeTier;
use crate::verdict::{Engine, Evidence, Finding};

/// The fast multilingual model's identifier.
pub const FAST_MODEL_ID: &str = "haven-toxic-fast";
/// The English transformer model's identifier (its directory under the installed models directory).
pub const MINILM_MODEL_ID: &str = "haven-toxic-minilm";

const FAST_MANIFEST: &str = include_str!("../../../../models/haven-toxic-fast/manifest.toml");
const FAST_ONNX: &[u8] = include_bytes!("../../../../models/haven-toxic-fast/model.onnx");
const MINILM_MANIFEST: &str = include_str!("../../../../models/haven-toxic-minilm/manifest.toml");

/// How to load the text classifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextClassifierConfig {
    /// The ONNX Runtime library (see [`Runtime::locate`]).
    pub runtime: Option<PathBuf>,
    /// The installed models directory (holding `haven-toxic-minilm/`); `None`: `$HAVEN_MODELS_DIR`, else
    /// [`DEFAULT_MODELS_DIR`](crate::classify::DEFAULT_MODELS_DIR).
    pub models_dir: Option<PathBuf>,
    /// Whether to load the English transformer too (it must then be installed).
    pub transformer: bool,
    /// Threads each inference may use.
    pub intra_threads: usize,
    /// Sessions per model: how many messages can be scored at the same moment.
    pub sessions: usize,
}

impl Default for TextClassifierConfig {
    /// Both models, located the default way; one session each, one thread (a message is small).
    fn default() -> Self {
        TextClassifierConfig {
            runtime: None,
            models_dir: None,
            transformer: true,
            intra_threads: 1,
            sessions: 1,
        }
    }
}

/// Which model produced a score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TextModel {
    /// `haven-toxic-fast` alone.
    Fast,
    /// `haven-toxic-minilm` alone.
    Transformer,
    /// The mean of both (English, with the transformer loaded).
    Combined,
}

/// One message's scores and how they were reached.
#[derive(Debug, Clone, PartialEq)]
pub struct TextAssessment {
    /// The language the message was routed by (given or detected).
    pub language: Option<Language>,
    /// The model (or mean of models) behind the scores.
    pub model: TextModel,
    /// Calibrated probabilities in the manifest's label order (`abusive`, `hate`).
    pub scores: ClassScores,
}

#[derive(Debug)]
struct Transformer {
    manifest: ModelManifest,
    tokenizer: Tokenizer,
    sessions: SessionPool,
}

/// The toxic-message classifier: the fast model, and the English transformer when loaded. Safe to share across
/// threads.
#[derive(Debug)]
pub struct TextClassifier {
    fast_manifest: ModelManifest,
    fast: SessionPool,
    transformer: Option<Transformer>,
}

impl TextClassifier {
    /// Loads the fast model (compiled in) and, if configured, the transformer from the models directory, whose
    /// files must match the SHA-256 in its manifest.
    pub fn load(config: &TextClassifierConfig) -> Result<TextClassifier, ClassifyError> {
        let runtime = Runtime::load_default(config.runtime.as_deref())?;
        let fast_manifest = ModelManifest::parse(FAST_MANIFEST)?;
        verify(FAST_ONNX, &fast_manifest.sha256)?;
        let fast = SessionPool::new(&runtime, FAST_ONNX, config.intra_threads, config.sessions)?;
        let transformer = if config.transformer {
            let dir = locate_models_dir(config.models_dir.as_deref()).join(MINILM_MODEL_ID);
            Some(load_transformer(&runtime, &dir, config)?)
        } else {
            None
        };
        Ok(TextClassifier {
            fast_manifest,
            fast,
            transformer,
        })
    }

    /// Whether the English transformer is loaded.
    pub fn has_transformer(&self) -> bool {
        self.transformer.is_some()
    }

    /// The fast model's manifest.
    pub fn fast_manifest(&self) -> &ModelManifest {
        &self.fast_manifest
    }

    /// The transformer's manifest, when it is loaded.
    pub fn transformer_manifest(&self) -> Option<&ModelManifest> {
        self.transformer.as_ref().map(|t| &t.manifest)
    }

    /// The fast model's calibrated scores for a text.
    pub fn fast_scores(&self, text: &str) -> Result<ClassScores, ClassifyError> {
        let features = features::features(text);
        let ids = ndarray::ArrayView1::from(features.ids.as_slice());
        let values = ndarray::ArrayView1::from(features.values.as_slice());
        let ids =
            TensorRef::from_array_view(ids).map_err(|e| ClassifyError::Inference(e.to_string()))?;
        let values = TensorRef::from_array_view(values)
            .map_err(|e| ClassifyError::Inference(e.to_string()))?;
        let mut session = self.fast.get()?;
        let outputs = session
            .run(ort::inputs!["ids" => ids, "values" => values])
            .map_err(|e| ClassifyError::Inference(e.to_string()))?;
        scores(&outputs, &self.fast_manifest)
    }

    /// The transformer's token ids for a text (`[CLS] … [SEP]`, at most the manifest's `max_tokens`).
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, ClassifyError> {
        let transformer = self.transformer()?;
        Ok(encode(&transformer.tokenizer, text)?.get_ids().to_vec())
    }

    /// The transformer's calibrated scores for a text.
    pub fn transformer_scores(&self, text: &str) -> Result<ClassScores, ClassifyError> {
        let transformer = self.transformer()?;
        let encoding = encode(&transformer.tokenizer, text)?;
        let ids: Vec<i64> = encoding.get_ids().iter().map(|&i| i64::from(i)).collect();
        let mask: Vec<i64> = encoding
            .get_attention_mask()
            .iter()
            .map(|&i| i64::from(i))
            .collect();
        let types = vec![0i64; ids.len()];
        let shape = (1, ids.len());
        let mut session = transformer.sessions.get()?;
        let outputs = session
            .run(ort::inputs![
                "input_ids" => token_tensor(shape, &ids)?,
                "attention_mask" => token_tensor(shape, &mask)?,
                "token_type_ids" => token_tensor(shape, &types)?,
            ])
            .map_err(|e| ClassifyError::Inference(e.to_string()))?;
        scores(&outputs, &transformer.manifest)
    }

    /// Routes and scores a message: `language` if the app knows it, else [`detect_language`]; English with the
    /// transformer loaded gets the mean of both models, everything else the fast model.
    pub fn assess(
        &self,
        text: &str,
        language: Option<Language>,
    ) -> Result<TextAssessment, ClassifyError> {
        let language = language.or_else(|| detect_language(text));
        let fast = self.fast_scores(text)?;
        if language == Some(Language::En) && self.transformer.is_some() {
            // Should the transformer fail on a message, the fast model's scores still stand.
            let Ok(transformer) = self.transformer_scores(text) else {
                return Ok(TextAssessment {
                    language,
                    model: TextModel::Fast,
                    scores: fast,
                });
            };
            let mean = fast
                .scores
                .iter()
                .zip(&transformer.scores)
                .map(|(a, b)| (a + b) / 2.0)
                .collect();
            return Ok(TextAssessment {
                language,
                model: TextModel::Combined,
                scores: ClassScores { scores: mean },
            });
        }
        Ok(TextAssessment {
            language,
            model: TextModel::Fast,
            scores: fast,
        })
    }

    /// The findings for a child of `tier`: each category whose score reaches the tier's threshold in the manifest
    /// of the model that scored it (the transformer's for the combined English score).
    pub fn findings(&self, assessment: &TextAssessment, tier: AgeTier) -> Vec<Finding> {
        let manifest = match (assessment.model, &self.transformer) {
            (TextModel::Combined | TextModel::Transformer, Some(t)) => &t.manifest,
            _ => &self.fast_manifest,
        };
        let mut findings = manifest.findings(&assessment.scores, tier);
        if assessment.model == TextModel::Combined {
            for finding in &mut findings {
                finding.evidence.source = Some(crate::verdict::Source {
                    id: format!("{FAST_MODEL_ID}+{MINILM_MODEL_ID}"),
                    version: format!("{}+{}", self.fast_manifest.version, manifest.version),
                });
            }
        }
        findings
    }

    /// [`TextClassifier::assess`] then [`TextClassifier::findings`].
    pub fn check(
        &self,
        text: &str,
        language: Option<Language>,
        tier: AgeTier,
    ) -> Result<Vec<Finding>, ClassifyError> {
        Ok(self.findings(&self.assess(text, language)?, tier))
    }

    fn transformer(&self) -> Result<&Transformer, ClassifyError> {
        self.transformer
            .as_ref()
            .ok_or(ClassifyError::ModelUnavailable(Unavailable::ModelMissing))
    }
}

/// The rule of the evidence note a text verdict carries when the classifier was configured but could not be
/// loaded: the lexicons alone decided.
pub const NOTE_UNAVAILABLE: &str = "classifier-unavailable";

/// The rule of the evidence note a text verdict carries when the classifier failed on a message: the lexicons
/// alone decided for it.
pub const NOTE_FAILED: &str = "classifier-failed";

/// An evidence note (engine `classifier`, no category) with `rule`.
pub fn note(rule: &str) -> Evidence {
    Evidence::new(Engine::Classifier)
        .with_source(FAST_MODEL_ID, env!("CARGO_PKG_VERSION"))
        .with_rule(rule)
}

fn load_transformer(
    runtime: &Runtime,
    dir: &Path,
    config: &TextClassifierConfig,
) -> Result<Transformer, ClassifyError> {
    let manifest = ModelManifest::parse(MINILM_MANIFEST)?;
    let Preprocessing::Wordpiece {
        tokenizer,
        tokenizer_sha256,
        max_tokens,
    } = &manifest.preprocessing
    else {
        return Err(ClassifyError::Manifest(
            "the transformer's manifest does not name a tokenizer".into(),
        ));
    };
    let tokenizer_bytes = read_verified(&dir.join(tokenizer), tokenizer_sha256)?;
    let mut tokenizer = Tokenizer::from_bytes(&tokenizer_bytes)
        .map_err(|_| ClassifyError::ModelUnavailable(Unavailable::ModelInvalid))?;
    tokenizer.with_padding(None);
    tokenizer
        .with_truncation(Some(tokenizers::TruncationParams {
            max_length: *max_tokens as usize,
            ..Default::default()
        }))
        .map_err(|_| ClassifyError::ModelUnavailable(Unavailable::ModelInvalid))?;
    let bytes = read_verified(&dir.join(&manifest.file), &manifest.sha256)?;
    let sessions = SessionPool::new(runtime, &bytes, config.intra_threads, config.sessions)?;
    Ok(Transformer {
        manifest,
        tokenizer,
        sessions,
    })
}

fn encode(tokenizer: &Tokenizer, text: &str) -> Result<tokenizers::Encoding, ClassifyError> {
    tokenizer
        .encode(features::transformer_input(text), true)
        .map_err(|_| ClassifyError::Inference("the tokenizer failed".into()))
}

fn token_tensor(
    shape: (usize, usize),
    values: &[i64],
) -> Result<TensorRef<'_, i64>, ClassifyError> {
    let array = ndarray::ArrayView2::from_shape(shape, values)
        .map_err(|_| ClassifyError::Inference("token tensor has the wrong size".into()))?;
    TensorRef::from_array_view(array).map_err(|e| ClassifyError::Inference(e.to_string()))
}

fn scores(
    outputs: &ort::session::SessionOutputs<'_>,
    manifest: &ModelManifest,
) -> Result<ClassScores, ClassifyError> {
    let output = outputs
        .get(manifest.output.name.as_str())
        .ok_or_else(|| ClassifyError::Inference("the model has no such output".into()))?;
    let (_, scores) = output
        .try_extract_tensor::<f32>()
        .map_err(|e| ClassifyError::Inference(e.to_string()))?;
    if scores.len() != manifest.output.labels.len() {
        return Err(ClassifyError::Inference(
            "the output does not match the manifest's labels".into(),
        ));
    }
    Ok(ClassScores {
        scores: scores.to_vec(),
    })
}
