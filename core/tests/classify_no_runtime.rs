//! Haven without ONNX Runtime: a missing or wrong library is a typed error, never a panic, and everything else
//! keeps working. Its own test binary (its own process), so that no other test has loaded the runtime first.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use haven_core::Haven;
use haven_core::classify::{
    ClassifierConfig, ClassifyError, ImageClassifier, Runtime, Unavailable,
};
use haven_core::policy::{Action, AgeTier, Profile};

#[test]
fn missing_or_wrong_runtime_is_model_unavailable_and_haven_still_works() {
    assert_eq!(
        Runtime::load(Path::new("/nonexistent/libonnxruntime.so.1.32.0")).unwrap_err(),
        ClassifyError::ModelUnavailable(Unavailable::RuntimeMissing)
    );
    // A file that is not a shared library at all.
    let not_a_library =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/images/checker-224.png");
    assert_eq!(
        Runtime::load(&not_a_library).unwrap_err(),
        ClassifyError::ModelUnavailable(Unavailable::RuntimeInvalid)
    );
    let config = ClassifierConfig {
        runtime: Some(not_a_library),
        ..ClassifierConfig::default()
    };
    assert_eq!(
        ImageClassifier::load(&config).unwrap_err(),
        ClassifyError::ModelUnavailable(Unavailable::RuntimeInvalid)
    );

    // The rest of Haven does not need it: URLs, previews and image hash checks answer as before.
    let haven = Haven::new();
    let profile = Profile::new("Mia", AgeTier::Under9).unwrap();
    assert_eq!(
        haven
            .check_url(&profile, "https://www.bet365.com/")
            .unwrap()
            .action,
        Action::Block
    );
    let png = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/images/gradient-300x200.png"),
    )
    .unwrap();
    assert_eq!(
        haven.check_image(&profile, &png).unwrap().action,
        Action::Allow
    );

    // A good path afterwards still works: a failed attempt leaves nothing behind.
    let good =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../.haven/runtime/libonnxruntime.so.1.32.0");
    assert!(Runtime::load(&good).is_ok());
}
