//! `haven check image`: an image classified on the device (nudity, sexual content), weighed against a profile.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use haven_core::Haven;
use haven_core::classify::{BuiltinModel, ClassifierConfig, ClassifyError, ImageClassifier};
use haven_core::policy::{Action, Profile};

use crate::{Failure, Format, Who, render, write_failure};

/// The arguments of `haven check image`.
#[derive(Args)]
pub(crate) struct ImageCheck {
    #[command(flatten)]
    who: Who,
    #[command(flatten)]
    format: Format,
    /// The model: nsfwjs-mobilenet-v2 (default, 10 MB), nsfwjs-mobilenet-v2-int8 (3 MB, faster, less exact) or
    /// open-nsfw (Yahoo's ResNet-50, 24 MB, fewer false positives on benign photos).
    #[arg(long, default_value = "nsfwjs-mobilenet-v2")]
    model: String,
    /// The ONNX Runtime library (default: $HAVEN_ORT_DYLIB, else .haven/runtime/libonnxruntime.so.1.32.0).
    #[arg(long)]
    ort_dylib: Option<PathBuf>,
    /// The installed models directory (default: $HAVEN_MODELS_DIR, else .haven/models).
    #[arg(long)]
    models_dir: Option<PathBuf>,
    /// Threads per image.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Image files (PNG, JPEG, WebP, GIF: the first frame).
    #[arg(required = true)]
    images: Vec<PathBuf>,
}

/// Classifies each image and prints its verdict (JSON: one object per line, with the file, the model's class
/// probabilities and the verdict). Exit code: the strictest action (0 allow, 1 warn, 2 block), or 4 when an
/// image could not be read or decoded (the others are still checked), 6 when no model is available.
pub(crate) fn run(check: ImageCheck, out: &mut impl Write) -> Result<u8, Failure> {
    let profile = check.who.profile()?;
    let model: BuiltinModel = check
        .model
        .parse()
        .map_err(|_| Failure::input("unknown model (see `haven check image --help`)"))?;
    let config = ClassifierConfig {
        model,
        runtime: check.ort_dylib,
        models_dir: check.models_dir,
        intra_threads: check.threads.max(1),
        ..ClassifierConfig::default()
    };
    let classifier = ImageClassifier::load(&config).map_err(|e| match e {
        ClassifyError::ModelUnavailable(_) | ClassifyError::ModelCorrupt => {
            Failure::other(format!("{e} (scripts/fetch-models.sh installs it)"))
        }
        other => Failure::other(other),
    })?;
    let haven = Haven::new();
    let mut strictest = Action::Allow;
    let mut failed = false;
    for path in &check.images {
        let result = std::fs::read(path)
            .map_err(|e| format!("cannot read ({})", e.kind()))
            .and_then(|bytes| classifier.classify_bytes(&bytes).map_err(|e| e.to_string()));
        let scores = match result {
            Ok(scores) => scores,
            Err(reason) => {
                // To stderr, and on to the next image.
                let _ = writeln!(std::io::stderr(), "haven: {}: {reason}", path.display());
                failed = true;
                continue;
            }
        };
        let verdict = haven.decide(&profile, classifier.findings(&scores, profile.tier()));
        strictest = strictest.max(verdict.action);
        print(
            out,
            &check.format,
            &classifier,
            path,
            &scores.scores,
            &verdict,
            &profile,
        )
        .map_err(write_failure)?;
    }
    Ok(if failed {
        4
    } else {
        match strictest {
            Action::Allow => 0,
            Action::Warn => 1,
            Action::Block => 2,
        }
    })
}

fn print(
    out: &mut impl Write,
    format: &Format,
    classifier: &ImageClassifier,
    path: &std::path::Path,
    scores: &[f32],
    verdict: &haven_core::Verdict,
    profile: &Profile,
) -> std::io::Result<()> {
    let labels = &classifier.manifest().output.labels;
    if format.json {
        let line = JsonLine {
            file: path.display().to_string(),
            model: &classifier.manifest().id,
            scores: Scores(labels, scores),
            verdict,
        };
        // Strings, numbers and the verdict (which always serialises): cannot fail.
        writeln!(out, "{}", serde_json::to_string(&line).unwrap_or_default())
    } else {
        writeln!(out, "{}", path.display())?;
        let shown: Vec<String> = labels
            .iter()
            .zip(scores)
            .map(|(l, s)| format!("{l} {s:.3}"))
            .collect();
        writeln!(
            out,
            "  {} scores: {}",
            classifier.manifest().id,
            shown.join(", ")
        )?;
        render::verdict(out, verdict, profile, format.easy_read)
    }
}

/// One image's JSON line; fields in this order, the verdict in its own stable form.
#[derive(serde::Serialize)]
struct JsonLine<'a> {
    file: String,
    model: &'a str,
    scores: Scores<'a>,
    verdict: &'a haven_core::Verdict,
}

/// The class probabilities as an object, in the model's label order.
struct Scores<'a>(&'a [String], &'a [f32]);

impl serde::Serialize for Scores<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (label, score) in self.0.iter().zip(self.1) {
            map.serialize_entry(label, score)?;
        }
        map.end()
    }
}
