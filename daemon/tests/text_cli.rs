//! `haven check text`, `haven text mask` and `haven text normalize` on the real binary.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure

mod common;

use common::{code, haven, json, stderr, stdout};

#[test]
fn check_text_exit_codes_follow_the_verdict() {
    let blocked = haven(&[
        "check",
        "text",
        "--age",
        "8",
        "--json",
        "you are a f*cking l0ser",
    ]);
    assert_eq!(code(&blocked), 2, "{}", stdout(&blocked));
    let verdict = json(&blocked);
    assert_eq!(verdict["evidence"][0]["engine"], "text");
    let warned = haven(&["check", "text", "--age", "10", "oh sh1t"]);
    assert_eq!(code(&warned), 1);
    assert_eq!(
        code(&haven(&[
            "check",
            "text",
            "--age",
            "10",
            "Scunthorpe United won 3-1"
        ])),
        0
    );
    // Personal data matters in what the child sends only.
    let email = "mail me at mia.jones@example.com";
    assert_eq!(
        code(&haven(&[
            "check",
            "text",
            "--age",
            "8",
            "--outgoing",
            email
        ])),
        2
    );
    assert_eq!(code(&haven(&["check", "text", "--age", "8", email])), 0);
    // Other languages: Russian by its script, French when asked for.
    assert_eq!(code(&haven(&["check", "text", "--age", "8", "ты сука"])), 2);
    assert_eq!(
        code(&haven(&[
            "check",
            "text",
            "--age",
            "8",
            "--lang",
            "fr",
            "ta gueule connard"
        ])),
        2
    );
}

#[test]
fn mask_and_normalize_show_what_the_engine_sees() {
    let masked = haven(&["text", "mask", "--age", "8", "what the f u c k, Bob"]);
    assert_eq!(stdout(&masked), "what the * * * *, Bob\n");
    let adult = haven(&["text", "mask", "--age", "30", "what the fuck"]);
    assert_eq!(stdout(&adult), "what the fuck\n");
    let form = haven(&["text", "normalize", "ＳＨ1Ｔ s\u{200B}hit s h i t"]);
    assert_eq!(stdout(&form), "shit shit shit\n");
    let unknown = haven(&["check", "text", "--lang", "de", "secret words"]);
    assert_eq!(code(&unknown), 4);
    assert!(!stderr(&unknown).contains("secret"));
}

#[test]
fn the_classifier_reads_what_no_lexicon_lists() {
    let text = "your face is disgusting and everyone laughs at you";
    let lexicons = haven(&["check", "text", "--age", "10", "--json", text]);
    assert_eq!(code(&lexicons), 0, "{}", stdout(&lexicons));
    let both = haven(&[
        "check",
        "text",
        "--age",
        "10",
        "--classifier",
        "--json",
        text,
    ]);
    assert_eq!(code(&both), 2, "{}{}", stdout(&both), stderr(&both));
    let verdict = json(&both);
    assert_eq!(verdict["categories"][0]["category"], "bullying");
    assert_eq!(verdict["evidence"][0]["engine"], "classifier");
    // A runtime that is not there is a clear error, not a silent lexicon-only answer.
    let missing = haven(&[
        "check",
        "text",
        "--classifier",
        "--ort-dylib",
        "/nonexistent/libonnxruntime.so",
        text,
    ]);
    assert_ne!(code(&missing), 0);
    assert!(
        stderr(&missing).contains("ONNX Runtime"),
        "{}",
        stderr(&missing)
    );
}
