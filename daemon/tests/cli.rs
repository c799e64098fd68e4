//! Runs the real `haven` binary: exit codes, JSON output, errors, profile files, and the README's policy table.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure

mod common;

use std::process::Output;

use common::{code, haven, json, repo, stdout};

/// `haven check url ARGS...`
fn check_url(args: &[&str]) -> Output {
    haven(&[&["check", "url"], args].concat())
}

#[test]
fn exit_codes_follow_the_verdict() {
    let mia = "fixtures/profiles/mia-under9.toml";
    // Allowlist-only profile: listed sites open, others are blocked.
    assert_eq!(
        code(&check_url(&[
            "--profile",
            mia,
            "https://www.bbc.co.uk/cbeebies"
        ])),
        0
    );
    assert_eq!(
        code(&check_url(&["--profile", mia, "https://www.example.com/"])),
        2
    );
    // Warn: profanity at 9-12 (default rule).
    assert_eq!(code(&haven(&["preview", "--age", "10", "profanity"])), 1);
    assert_eq!(code(&haven(&["preview", "--age", "14", "profanity"])), 0);
    assert_eq!(code(&haven(&["preview", "--age", "30", "known_abuse"])), 2);
}

#[test]
fn json_verdicts_carry_reason_message_and_evidence() {
    let out = check_url(&[
        "--json",
        "--profile",
        "fixtures/profiles/leo-11.toml",
        "videos.example.net/clip",
    ]);
    assert_eq!(code(&out), 2);
    let v = json(&out);
    assert_eq!(v["action"], "block");
    assert_eq!(v["reason"]["kind"], "parent_denied");
    assert_eq!(v["evidence"][0]["rule"], "deny_domains:videos.example.net");
    assert_eq!(v["message"]["language"], "fr");
    assert!(
        !v["message"]["standard"]["body"]
            .as_str()
            .unwrap()
            .is_empty()
    );

    // Subdomains of a denied domain are denied; other sites are not.
    let out = check_url(&[
        "--json",
        "--profile",
        "fixtures/profiles/leo-11.toml",
        "https://eu.videos.example.net/",
    ]);
    assert_eq!(json(&out)["action"], "block");
    let out = check_url(&[
        "--json",
        "--profile",
        "fixtures/profiles/leo-11.toml",
        "https://example.net/",
    ]);
    assert_eq!(
        (code(&out), json(&out)["action"].clone()),
        (0, "allow".into())
    );
}

#[test]
fn overrides_language_and_country_from_flags() {
    let out = haven(&[
        "preview",
        "--json",
        "--age",
        "14",
        "--lang",
        "ar",
        "--country",
        "gb",
        "self_harm",
    ]);
    let v = json(&out);
    assert_eq!(v["message"]["language"], "ar");
    assert_eq!(v["message"]["direction"], "rtl");
    assert_eq!(v["help"]["contacts"][0]["id"], "childline-gb");
    assert_eq!(v["notify_parent"], false);

    let out = haven(&[
        "preview",
        "--json",
        "--profile",
        "fixtures/profiles/leo-11.toml",
        "social_media",
    ]);
    let v = json(&out);
    assert_eq!(
        (v["action"].as_str(), v["notify_parent"].as_bool()),
        (Some("block"), Some(true))
    );
}

#[test]
fn human_output_shows_the_message_in_the_chosen_wording() {
    let standard = stdout(&haven(&["preview", "--age", "7", "gambling"]));
    let easy = stdout(&haven(&[
        "preview",
        "--age",
        "7",
        "--easy-read",
        "gambling",
    ]));
    assert!(
        standard.starts_with("BLOCK (tier under-9)\nreason: gambling\n"),
        "{standard}"
    );
    assert_ne!(standard, easy);
}

#[test]
fn errors_have_their_own_exit_codes_and_never_echo_the_input() {
    let out = check_url(&["--age", "10", "mailto:secret-person@example.com"]);
    assert_eq!(code(&out), 4);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scheme") && !err.contains("secret"), "{err}");

    let out = check_url(&["--age", "10", "http://[secret"]);
    assert_eq!(code(&out), 4);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("secret"));

    // Usage errors are 3, not clap's default 2 (which means "block").
    assert_eq!(code(&haven(&["check", "url"])), 3);
    assert_eq!(
        code(&check_url(&["--age", "10", "--profile", "x.toml", "a.com"])),
        3
    );
    assert_eq!(code(&haven(&["frobnicate"])), 3);
    assert_eq!(code(&haven(&["--help"])), 0);
    assert_eq!(code(&haven(&["preview", "--age", "9", "homework"])), 4);
    assert_eq!(
        code(&haven(&["preview", "--age", "9", "--lang", "de", "drugs"])),
        4
    );

    // A bad profile is 5 and names the field, not the value.
    let dir = std::env::temp_dir().join(format!("haven-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "name = \"Secret Name\"\ntier = \"teen\"\n").unwrap();
    let out = check_url(&["--profile", bad.to_str().unwrap(), "example.com"]);
    assert_eq!(code(&out), 5);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`tier`") && !err.contains("Secret") && !err.contains("teen"),
        "{err}"
    );
    assert_eq!(
        code(&haven(&[
            "profile",
            "check",
            dir.join("missing.toml").to_str().unwrap()
        ])),
        5
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn profile_new_writes_a_file_that_checks_back() {
    let dir = std::env::temp_dir().join(format!("haven-cli-new-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["nina.toml", "nina.json"] {
        let path = dir.join(file);
        let path = path.to_str().unwrap();
        let args = [
            "profile",
            "new",
            "--name",
            "Nina",
            "--age",
            "8",
            "--lang",
            "es",
            "--country",
            "es",
            "--allowlist-only",
            path,
        ];
        assert_eq!(code(&haven(&args)), 0);
        let shown = stdout(&haven(&["profile", "check", path]));
        assert!(
            shown.contains("tier: under-9\nlanguage: es\ncountry: ES\nallowlist only: yes\n"),
            "{shown}"
        );
        // Allowlist-only with an empty allowlist: everything is blocked, in Spanish.
        let out = check_url(&["--json", "--profile", path, "https://example.org/"]);
        assert_eq!(json(&out)["message"]["language"], "es");
        assert_eq!(json(&out)["reason"]["kind"], "not_in_allowlist");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn readme_policy_table_is_the_one_in_force() {
    let table = stdout(&haven(&["policy"]));
    assert_eq!(table.lines().count(), 2 + 18);
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme.contains(&table),
        "README.md's policy table differs from `haven policy`; paste its output:\n{table}"
    );
}

#[test]
fn sample_profiles_are_valid() {
    for entry in std::fs::read_dir(repo().join("fixtures/profiles")).unwrap() {
        let path = entry.unwrap().path();
        let out = haven(&["profile", "check", path.to_str().unwrap()]);
        assert_eq!(
            code(&out),
            0,
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The README shows real output: every sample the main job runs, and the other examples, must appear verbatim.
#[test]
fn readme_examples_are_real_output() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let run_sh = std::fs::read_to_string(repo().join("scripts/run.sh")).unwrap();
    let samples: Vec<Vec<&str>> = run_sh
        .lines()
        .filter_map(|l| l.strip_prefix("sample "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(samples.len(), 6);
    for args in &samples {
        let out = haven(args);
        let shown = format!(
            "$ haven {}\n{}(exit code {})",
            args.join(" "),
            stdout(&out),
            code(&out)
        );
        assert!(
            readme.contains(&shown),
            "README.md lacks the real output of `haven {}`:\n{shown}",
            args.join(" ")
        );
    }
    let easy = stdout(&haven(&[
        "preview",
        "--age",
        "6",
        "--easy-read",
        "grooming",
    ]));
    assert!(
        readme.contains(&easy),
        "README.md lacks the easy-read example:\n{easy}"
    );

    let out = haven(&[
        "preview",
        "--json",
        "--age",
        "14",
        "--country",
        "GB",
        "self_harm",
    ]);
    let start = readme.find("```json\n").unwrap() + "```json\n".len();
    let end = start + readme[start..].find("\n```").unwrap();
    let shown: serde_json::Value = serde_json::from_str(&readme[start..end]).unwrap();
    assert_eq!(
        shown,
        json(&out),
        "README.md's JSON example is not the real output"
    );
}
