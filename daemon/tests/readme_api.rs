//! The README's API examples, run as printed (with `curl`) against the real `havend` binary started with its
//! defaults in a fresh data directory; their output must be the README's, verbatim.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

mod common;

#[test]
fn readme_curl_examples_work_as_printed() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let start = readme
        .find("<!-- api-examples -->")
        .expect("the examples' marker");
    let end = readme
        .find("<!-- /api-examples -->")
        .expect("the examples' end marker");
    let block = &readme[start..end];
    let body = block
        .split_once("```text\n")
        .and_then(|(_, rest)| rest.rsplit_once("```"))
        .map(|(body, _)| body)
        .expect("a text block");

    // (command, expected output) pairs.
    let mut examples: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        if let Some(command) = line.strip_prefix("$ ") {
            examples.push((command.to_owned(), String::new()));
        } else if let Some((_, output)) = examples.last_mut() {
            output.push_str(line);
            output.push('\n');
        }
    }
    assert!(examples.len() >= 8, "{} examples", examples.len());
    assert!(
        examples
            .iter()
            .all(|(c, _)| c.starts_with("curl ") || c.contains("scripts/run.sh haven"))
    );

    let data = tempfile::tempdir().unwrap();
    let mut havend = common::start_havend(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--no-dns",
    ]);
    let addr = havend.addr.clone();

    let mut actual = String::new();
    let mut mismatches = Vec::new();
    for (command, expected) in &examples {
        let runnable = command.replace("127.0.0.1:8707", &addr).replace(
            "scripts/run.sh haven",
            &format!(
                "HAVEN_DATA_DIR={} {}",
                data.path().display(),
                env!("CARGO_BIN_EXE_haven")
            ),
        );
        let out = Command::new("sh")
            .arg("-c")
            .arg(&runnable)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{command}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        actual.push_str(&format!("$ {command}\n{stdout}"));
        if &stdout != expected {
            mismatches.push(command.clone());
        }
    }
    common::signal(&havend.child, "-TERM");
    let status = havend.child.wait().unwrap();
    assert!(status.success(), "havend exited with {status}");
    assert!(
        mismatches.is_empty(),
        "the README's output differs for {mismatches:?}; the real block is:\n{actual}"
    );
}
