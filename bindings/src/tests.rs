//! The error mapping and the record conversions, in Rust; the Python and Kotlin tests check the same across the
//! FFI boundary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

const SECRET: &str = "secret-7f3a";

fn child() -> Profile {
    Profile {
        name: "Mia".to_owned(),
        tier: AgeTier::Age9To12,
        language: "en".to_owned(),
        country: None,
        allow_domains: Vec::new(),
        deny_domains: Vec::new(),
        allowlist_only: false,
    }
}

fn engine() -> Arc<Haven> {
    Haven::new(HavenConfig::default(), child()).unwrap()
}

#[test]
fn core_errors_map_to_the_public_variants_without_the_input() {
    let haven = engine();
    let cases: Vec<(Result<(), HavenError>, &str)> = vec![
        (
            haven.check_url(format!("http://[{SECRET}]/")).map(drop),
            "InvalidInput",
        ),
        (
            haven
                .check_text(SECRET.repeat(200_000), Direction::Incoming, None)
                .map(drop),
            "InvalidInput",
        ),
        (
            haven.pdq_hash(SECRET.as_bytes().to_vec()).map(drop),
            "InvalidInput",
        ),
        (
            Haven::new(
                HavenConfig {
                    image_model: Some(SECRET.to_owned()),
                    ..HavenConfig::default()
                },
                child(),
            )
            .map(drop),
            "ModelUnavailable",
        ),
    ];
    for (result, variant) in cases {
        let err = result.unwrap_err();
        assert!(format!("{err:?}").starts_with(variant), "{err:?}");
        assert!(!err.to_string().contains(SECRET), "{err}");
    }
}

#[test]
fn list_and_directory_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.hvh"), b"not a list").unwrap();
    let config = HavenConfig {
        lists_dir: Some(dir.path().display().to_string()),
        ..HavenConfig::default()
    };
    let err = Haven::new(config, child()).unwrap_err();
    assert!(matches!(&err, HavenError::ListError { reason } if reason.starts_with("bad.hvh")));
    let file = dir.path().join("bad.hvh").display().to_string();
    let err = Haven::new(
        HavenConfig {
            lists_dir: Some(file),
            ..HavenConfig::default()
        },
        child(),
    )
    .unwrap_err();
    assert!(matches!(err, HavenError::Internal { .. }));
}

#[test]
fn profiles_round_trip_normalised() {
    let haven = engine();
    haven
        .set_profile(Profile {
            language: "fr-CA".to_owned(),
            country: Some("ca".to_owned()),
            allow_domains: vec!["WWW.Example.org".to_owned()],
            allowlist_only: true,
            ..child()
        })
        .unwrap();
    let got = haven.profile();
    assert_eq!(got.language, "fr");
    assert_eq!(got.country.as_deref(), Some("CA"));
    assert_eq!(got.allow_domains, vec!["www.example.org".to_owned()]);
    let verdict = haven
        .check_url("https://other.example.net/".to_owned())
        .unwrap();
    assert_eq!(verdict.action, Action::Block);
    assert_eq!(verdict.reason.as_deref(), Some("not_in_allowlist"));
    assert_eq!(verdict.message.unwrap().language, "fr");
}

#[test]
fn async_calls_return_what_the_blocking_ones_do() {
    let haven = engine();
    let image_copy = || {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/images/noise-97x131.png"
        ))
        .unwrap()
    };
    let image = image_copy();
    let verdict = block_on(haven.clone().check_image_async(image)).unwrap();
    assert_eq!(verdict.action, Action::Allow);
    assert_eq!(verdict, haven.check_image(image_copy()).unwrap());
    assert_eq!(
        block_on(haven.clone().match_image_async(b"garbage".to_vec())),
        haven.match_image(b"garbage".to_vec())
    );
}

/// A minimal executor: polls the future, parking the thread until its waker is called.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(out) = future.as_mut().poll(&mut context) {
            return out;
        }
        std::thread::park();
    }
}
