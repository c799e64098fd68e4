//! Canonicalisation never panics, and what it produces is ASCII and canonical (a second pass changes nothing).
//! Canonicalising for an engine (`parse_for`, which starts the table reads and hands the check its fingerprints)
//! gives the same URL and the same matches.
#![no_main]

use std::sync::OnceLock;

use haven_core::url::{CanonicalUrl, UrlEngine};
use libfuzzer_sys::fuzz_target;

static ENGINE: OnceLock<UrlEngine> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Ok(url) = CanonicalUrl::parse_bytes(data) {
        assert!(url.as_str().is_ascii());
        assert!(!url.host().is_empty());
        assert!(url.path().starts_with('/'));
        assert_eq!(CanonicalUrl::parse(url.as_str()).as_ref(), Ok(&url));
        let _ = haven_core::url::lookup_expressions(&url);
        let _ = haven_core::url::registrable_domain(url.host());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let engine = ENGINE.get_or_init(UrlEngine::builtin);
        let url = CanonicalUrl::parse_for(text, engine);
        assert_eq!(url, CanonicalUrl::parse(text));
        if let Ok(url) = url {
            let fresh = CanonicalUrl::parse(url.as_str()).expect("canonical URLs parse");
            let expressions = |url: &CanonicalUrl| {
                engine
                    .check(url)
                    .iter()
                    .map(|m| m.expression().to_owned())
                    .collect::<Vec<_>>()
            };
            assert_eq!(expressions(&url), expressions(&fresh));
        }
    }
});
