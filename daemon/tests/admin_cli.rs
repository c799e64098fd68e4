//! `haven parent set-passphrase` and `haven audit verify`, run as the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;

use haven_core::policy::{Action, AgeTier, Category};
use haven_core::verdict::Engine;
use haven_daemon::audit::{AuditEvent, AuditLog, AuditOptions};
use haven_daemon::auth::ParentAuth;
use haven_daemon::config::AuthConfig;

fn haven(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .env_remove("HAVEN_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn verifies(dir: &Path, passphrase: &str) -> bool {
    ParentAuth::new(dir.join("parent.passphrase"), AuthConfig::default())
        .verify(passphrase)
        .is_ok()
}

#[test]
fn set_passphrase_then_change_it_only_with_the_current_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let args = ["parent", "set-passphrase", "--data-dir", data];

    let short = haven(&args, "short\n");
    assert_eq!(short.status.code(), Some(4), "{}", text(&short.stderr));
    assert!(!dir.path().join("parent.passphrase").exists());

    let first = haven(&args, "first passphrase\n");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(verifies(dir.path(), "first passphrase"));
    let stored = std::fs::read_to_string(dir.path().join("parent.passphrase")).unwrap();
    assert!(stored.starts_with("$argon2id$") && !stored.contains("first"));

    // A child who does not know the current passphrase cannot replace it.
    let hijack = haven(&args, "a guess here\nchild's passphrase\n");
    assert_eq!(hijack.status.code(), Some(4));
    assert!(!text(&hijack.stderr).contains("guess"));
    assert!(verifies(dir.path(), "first passphrase"));

    let change = haven(&args, "first passphrase\nsecond passphrase\n");
    assert_eq!(change.status.code(), Some(0), "{}", text(&change.stderr));
    assert!(verifies(dir.path(), "second passphrase"));
    assert!(!verifies(dir.path(), "first passphrase"));
}

#[test]
fn audit_verify_reports_intact_and_tampered_logs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    {
        let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
        for domain in ["bet365.com", "instagram.com", "pokerstars.com"] {
            let event = AuditEvent {
                profile: "mia",
                tier: AgeTier::Age9To12,
                engine: Engine::Url,
                category: Some(Category::Gambling),
                action: Action::Block,
                domain: Some(domain),
            };
            log.record(&event).unwrap();
        }
    }
    let data = dir.path().to_str().unwrap();
    let ok = haven(&["audit", "verify", "--data-dir", data], "");
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(
        text(&ok.stdout).starts_with("intact: 4 records in 1 file(s)"),
        "{}",
        text(&ok.stdout)
    );

    let log = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, log.replace("instagram.com", "example.com")).unwrap();
    let tampered = haven(&["audit", "verify", path.to_str().unwrap()], "");
    assert_eq!(tampered.status.code(), Some(4));
    let out = text(&tampered.stdout);
    assert!(
        out.contains("problem: ") && out.contains("NOT INTACT"),
        "{out}"
    );
    assert!(!out.contains("example.com"), "{out}");

    let missing = haven(&["audit", "verify", "--data-dir", "/nonexistent/haven"], "");
    assert_eq!(missing.status.code(), Some(4));
}

/// The systemd unit starts havend with flags it really has, on loopback only.
#[test]
fn systemd_unit_uses_real_flags() {
    let unit = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/dist/havend.service"))
        .unwrap();
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    let help = Command::new(env!("CARGO_BIN_EXE_havend"))
        .arg("--help")
        .output()
        .unwrap();
    let help = text(&help.stdout);
    let flags: Vec<&str> = exec
        .split_whitespace()
        .filter(|w| w.starts_with("--"))
        .collect();
    assert!(flags.len() >= 4, "{exec}");
    for flag in flags {
        assert!(help.contains(flag), "havend has no {flag}:\n{help}");
    }
    for word in exec.split_whitespace().filter(|w| w.contains(':')) {
        assert!(word.starts_with("127.0.0.1:"), "{word} is not loopback");
    }
    for setting in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "User=haven",
        "StateDirectoryMode=0700",
    ] {
        assert!(unit.lines().any(|l| l == setting), "missing {setting}");
    }
}

/// `GET path` over a plain TCP connection; the response body.
fn http_get(addr: &str, path: &str) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// SIGHUP reloads profiles and lists (with file watching off), SIGTERM stops havend cleanly.
#[test]
fn havend_reloads_on_sighup_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("havend.toml");
    std::fs::write(
        &config,
        "[reload]\nwatch_interval_ms = 0\n[dns]\nenabled = false\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let mut havend = common::start_havend(&[
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    let addr = havend.addr.clone();
    let health = |addr: &str| -> serde_json::Value {
        serde_json::from_str(&http_get(addr, "/healthz")).unwrap()
    };
    assert_eq!(health(&addr)["generation"], 1);
    assert_eq!(health(&addr)["profiles"], 1);

    let profiles = dir.path().join("data/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        profiles.join("ana.toml"),
        "name = \"Ana\"\ntier = \"13-15\"\n",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        health(&addr)["generation"],
        1,
        "watching is off: nothing reloads by itself"
    );

    common::signal(&havend.child, "-HUP");
    let mut reloaded = false;
    for _ in 0..100 {
        if health(&addr)["generation"] == 2 {
            reloaded = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(reloaded, "SIGHUP did not reload");
    assert_eq!(health(&addr)["profiles"], 2);

    common::signal(&havend.child, "-TERM");
    let status = havend.child.wait().unwrap();
    assert!(status.success(), "havend exited with {status}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut havend.stderr, &mut rest).unwrap();
    assert!(
        rest.contains("reloaded (generation 2)") && rest.contains("stopping"),
        "{rest}"
    );
}
