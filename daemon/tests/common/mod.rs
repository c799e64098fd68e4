//! Helpers shared by the integration tests: run the real `haven` binary from the repository root.
#![allow(dead_code, clippy::unwrap_used)] // each test file uses some of these; a panic is a test failure

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs `haven ARGS...` in the repository root, without a lists directory from the environment.
pub(crate) fn haven(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .current_dir(repo())
        .env_remove("HAVEN_LISTS_DIR")
        .output()
        .unwrap()
}

/// The exit code.
pub(crate) fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

/// Standard output as text.
pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Standard error as text.
pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Standard output as JSON.
pub(crate) fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap()
}

/// A `havend` child process and the address its API listens on.
pub(crate) struct Havend {
    pub(crate) child: std::process::Child,
    pub(crate) addr: String,
    pub(crate) stderr: std::io::BufReader<std::process::ChildStderr>,
}

/// Starts the real `havend` with `args` (add `--listen 127.0.0.1:0`) and without settings from the environment,
/// and waits until it says where its API listens.
pub(crate) fn start_havend(args: &[&str]) -> Havend {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_havend"))
        .args(args)
        .env_remove("HAVEN_LISTS_DIR")
        .env_remove("HAVEN_CONFIG")
        .env_remove("HAVEN_DATA_DIR")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "havend stopped before listening"
        );
        if let Some(rest) = line.strip_prefix("havend: API on http://") {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    Havend {
        child,
        addr,
        stderr,
    }
}

/// Sends a signal (`-HUP`, `-TERM`, …) to a child process.
pub(crate) fn signal(child: &std::process::Child, name: &str) {
    let status = Command::new("kill")
        .args([name, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}
