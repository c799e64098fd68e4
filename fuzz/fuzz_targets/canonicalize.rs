//! Canonicalisation never panics, and what it produces is ASCII and canonical (a second pass changes nothing).
#![no_main]

use haven_core::url::CanonicalUrl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(url) = CanonicalUrl::parse_bytes(data) {
        assert!(url.as_str().is_ascii());
        assert!(!url.host().is_empty());
        assert!(url.path().starts_with('/'));
        assert_eq!(CanonicalUrl::parse(url.as_str()).as_ref(), Ok(&url));
        let _ = haven_core::url::lookup_expressions(&url);
        let _ = haven_core::url::registrable_domain(url.host());
    }
});
