//! `haven check image` on the real binary, with the real ONNX Runtime and models that scripts/fetch-models.sh
//! installs in the repository's .haven directory (the command's defaults), on benign images only.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::process::{Command, Output};

use common::{code, repo, stdout};

/// Runs `haven check image ARGS...` in the repository root with no model locations from the environment.
fn check_image(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(["check", "image"])
        .args(args)
        .current_dir(repo())
        .env_remove("HAVEN_ORT_DYLIB")
        .env_remove("HAVEN_MODELS_DIR")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn golden(name: &str) -> Vec<f64> {
    let text =
        std::fs::read_to_string(repo().join("models/nsfwjs-mobilenet-v2/golden.json")).unwrap();
    let golden: serde_json::Value = serde_json::from_str(&text).unwrap();
    golden["scores"][name]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[test]
fn benign_images_are_allowed_with_their_scores() {
    let out = check_image(
        &[
            "--age",
            "8",
            "fixtures/images/gradient-300x200.png",
            ".haven/testdata/skimage/astronaut.png",
            ".haven/testdata/skimage/rocket.jpg",
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.matches("ALLOW (tier under-9)").count(), 3, "{text}");
    assert!(
        text.contains("nsfwjs-mobilenet-v2 scores: drawing 0.881, hentai 0.019, neutral 0.095")
    );
}

#[test]
fn json_lines_carry_the_scores_and_the_verdict() {
    let out = check_image(
        &[
            "--json",
            "--age",
            "13",
            "fixtures/images/noise-97x131.png",
            "fixtures/images/halves-orientation6.jpg",
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["file"], "fixtures/images/noise-97x131.png");
    assert_eq!(lines[0]["model"], "nsfwjs-mobilenet-v2");
    assert_eq!(lines[0]["verdict"]["action"], "allow");
    // Scores in label order, equal to nsfwjs's own pipeline in tfjs (a lossless image: same pixels).
    let scores = lines[0]["scores"].as_object().unwrap();
    let labels: Vec<&str> = scores.keys().map(String::as_str).collect();
    assert_eq!(labels, ["drawing", "hentai", "neutral", "porn", "sexy"]);
    for (got, expected) in scores.values().zip(golden("noise-97x131.png")) {
        assert!((got.as_f64().unwrap() - expected).abs() < 1e-4);
    }
}

#[test]
fn models_and_locations_are_selectable() {
    // The Yahoo model, located through the environment instead of the defaults.
    let root = repo();
    let dylib = root.join(".haven/runtime/libonnxruntime.so.1.32.0");
    let models = root.join(".haven/models");
    let out = check_image(
        &[
            "--json",
            "--model",
            "open-nsfw",
            "fixtures/images/flat-beige-64x48.png",
        ],
        &[
            ("HAVEN_ORT_DYLIB", dylib.to_str().unwrap()),
            ("HAVEN_MODELS_DIR", models.to_str().unwrap()),
        ],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let line: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(line["model"], "open-nsfw");
    assert!(line["scores"]["nsfw"].as_f64().unwrap() < 0.3);
    let out = check_image(
        &[
            "--model",
            "nsfwjs-mobilenet-v2-int8",
            "fixtures/images/checker-224.png",
        ],
        &[],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("nsfwjs-mobilenet-v2-int8 scores:"));
    let out = check_image(
        &[
            "--model",
            "no-such-model",
            "fixtures/images/checker-224.png",
        ],
        &[],
    );
    assert_eq!(code(&out), 4);
}

#[test]
fn missing_runtime_or_model_exits_6_and_names_no_image() {
    let dir = tempfile::tempdir().unwrap();
    let image = "fixtures/images/checker-224.png";
    let out = check_image(
        &["--ort-dylib", "/nonexistent/libonnxruntime.so", image],
        &[],
    );
    assert_eq!(code(&out), 6);
    assert!(
        stderr(&out).contains("the ONNX Runtime library is not installed"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("checker"));
    let not_a_library = repo().join("fixtures/images/noise-97x131.png");
    let out = check_image(
        &["--ort-dylib", not_a_library.to_str().unwrap(), image],
        &[],
    );
    assert_eq!(code(&out), 6);
    assert!(
        stderr(&out).contains("could not be loaded"),
        "{}",
        stderr(&out)
    );

    let out = check_image(&["--models-dir", dir.path().to_str().unwrap(), image], &[]);
    assert_eq!(code(&out), 6);
    assert!(
        stderr(&out).contains("the model file is not installed"),
        "{}",
        stderr(&out)
    );

    // A corrupted copy of the model: refused by its checksum.
    let model_dir = dir.path().join("nsfwjs-mobilenet-v2");
    std::fs::create_dir_all(&model_dir).unwrap();
    let mut bytes =
        std::fs::read(repo().join(".haven/models/nsfwjs-mobilenet-v2/model.onnx")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x80;
    std::fs::write(model_dir.join("model.onnx"), bytes).unwrap();
    let out = check_image(&["--models-dir", dir.path().to_str().unwrap(), image], &[]);
    assert_eq!(code(&out), 6);
    assert!(
        stderr(&out).contains("does not match the SHA-256"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn undecodable_images_exit_4_after_the_others_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let truncated = dir.path().join("truncated.jpg");
    let jpeg = std::fs::read(repo().join(".haven/testdata/skimage/retina.jpg")).unwrap();
    std::fs::write(&truncated, &jpeg[..jpeg.len() / 2]).unwrap();
    let out = check_image(
        &[
            truncated.to_str().unwrap(),
            "fixtures/images/checker-224.png",
            "/nonexistent.png",
        ],
        &[],
    );
    assert_eq!(code(&out), 4);
    assert!(
        stderr(&out).contains("truncated.jpg: malformed image data"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("/nonexistent.png: cannot read (entity not found)"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("fixtures/images/checker-224.png\n"));
}
