//! `haven hash pdq|file|match` and `haven lists compile` for hash lists, on images the test generates (and the
//! public PDQ test images in ../shared when they are there).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{code, stdout};

fn haven(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_haven"))
        .args(args)
        .output()
        .unwrap()
}

/// A benign generated PNG (a gradient with a seed-dependent stripe) at `path`.
fn write_png(path: &Path, seed: u8) {
    let image = image::RgbImage::from_fn(160, 120, |x, y| {
        let stripe = if (x / 10 + u32::from(seed)) % 3 == 0 {
            90
        } else {
            0
        };
        image::Rgb([
            (x + y) as u8,
            ((y * 2) as u8).wrapping_add(stripe),
            seed.wrapping_mul(41),
        ])
    });
    image.save(path).unwrap();
}

#[test]
fn hash_file_prints_md5_sha1_blake3() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.bin");
    std::fs::write(&path, b"").unwrap();
    let out = haven(&["hash", "file", path.to_str().unwrap()]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        format!(
            "d41d8cd98f00b204e9800998ecf8427e da39a3ee5e6b4b0d3255bfef95601890afd80709 \
             af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262 {}\n",
            path.display()
        )
    );
}

#[test]
fn compile_a_hash_list_then_match_images() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a.png"),
        dir.path().join("b.png"),
        dir.path().join("c.png"),
    );
    write_png(&a, 1);
    write_png(&b, 2);
    write_png(&c, 3);
    // PDQ of a, exact MD5 of b.
    let pdq = haven(&["hash", "pdq", a.to_str().unwrap()]);
    assert_eq!(code(&pdq), 0, "{}", String::from_utf8_lossy(&pdq.stderr));
    let line = stdout(&pdq);
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.len(), 3, "{line}");
    assert_eq!(fields[0].len(), 64);
    let quality: u8 = fields[1].parse().unwrap();
    assert!(quality >= 50, "{line}");
    assert_eq!(fields[2], a.to_str().unwrap());
    let md5 = stdout(&haven(&["hash", "file", b.to_str().unwrap()]));
    let md5 = md5.split_whitespace().next().unwrap().to_owned();

    let source = dir.path().join("list.txt");
    std::fs::write(
        &source,
        format!("# version: 1\npdq {}\nmd5 {md5}\n", fields[0]),
    )
    .unwrap();
    let list = dir.path().join("test.hvh");
    let compiled = haven(&[
        "lists",
        "compile",
        "--id",
        "test-abuse",
        source.to_str().unwrap(),
        "-o",
        list.to_str().unwrap(),
    ]);
    assert_eq!(
        code(&compiled),
        0,
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    assert!(
        stdout(&compiled).contains("entries:    md5 1, sha1 0, blake3 0, pdq 1"),
        "{}",
        stdout(&compiled)
    );
    let info = haven(&["lists", "info", list.to_str().unwrap()]);
    assert!(stdout(&info).contains("category:   known_abuse"));

    let out = haven(&[
        "hash",
        "match",
        "--list",
        list.to_str().unwrap(),
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 2);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "match test-abuse@1 pdq entry 0 distance 0 {}",
            a.display()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "match test-abuse@1 md5 entry 1 distance 0 {}",
            b.display()
        )),
        "{text}"
    );
    let none = haven(&[
        "hash",
        "match",
        "--list",
        list.to_str().unwrap(),
        c.to_str().unwrap(),
    ]);
    assert_eq!(code(&none), 0);
    assert_eq!(stdout(&none), format!("no match {}\n", c.display()));

    // Bad input is a typed error without content: a list line, a non-image.
    std::fs::write(&source, "# version: 1\npdq 1234\n").unwrap();
    let bad = haven(&[
        "lists",
        "compile",
        "--id",
        "t",
        source.to_str().unwrap(),
        "-o",
        list.to_str().unwrap(),
    ]);
    assert_eq!(code(&bad), 4);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line 2"));
    let not_image = dir.path().join("x.png");
    std::fs::write(&not_image, b"\x89PNG\r\n\x1a\n truncated").unwrap();
    assert_eq!(
        code(&haven(&["hash", "pdq", not_image.to_str().unwrap()])),
        4
    );
}

/// Against the reference hashes of Meta's test images, when ../shared is present.
#[test]
fn hash_pdq_matches_the_reference_binding_on_a_test_image() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/pdq");
    let csv = root.join("expected_pdqhash_binding.csv");
    let Ok(text) = std::fs::read_to_string(&csv) else {
        eprintln!("skipped: {} is not here", csv.display());
        return;
    };
    let mut checked = 0;
    for row in text.lines().skip(1).filter(|l| l.contains(".png")).take(3) {
        let cells: Vec<&str> = row.split(',').collect();
        let (hash, path) = (cells[0], root.join(cells[2]));
        let out = haven(&["hash", "pdq", path.to_str().unwrap()]);
        let ours = stdout(&out);
        let ours = ours.split_whitespace().next().unwrap();
        let a = haven_core::hash::PdqHash::from_hex(ours).unwrap();
        let b = haven_core::hash::PdqHash::from_hex(hash).unwrap();
        assert!(a.distance(&b) <= 4, "{row}: ours {ours}");
        checked += 1;
    }
    assert!(checked > 0);
}
