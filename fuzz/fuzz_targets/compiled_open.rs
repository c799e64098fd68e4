//! Opening arbitrary bytes as a compiled list never panics, and a list that opens answers lookups safely.
#![no_main]

use haven_core::url::{CanonicalUrl, CompiledList, UrlEngine};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = CompiledList::from_bytes(data.to_vec()) {
        let engine = UrlEngine::new().with_list(list);
        if let Ok(url) = CanonicalUrl::parse("http://a.b.example/x/y?z") {
            let _ = engine.check(&url);
        }
    }
});
