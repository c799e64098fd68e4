//! List parsing in every format and mode never panics; whatever parses compiles, reopens and answers lookups.
#![no_main]

use haven_core::Category;
use haven_core::url::list::{ListFormat, ListOptions, ParseMode, ParsedList};
use haven_core::url::{CanonicalUrl, CompiledList, UrlEngine, compiled};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = ListFormat::ALL[usize::from(selector & 3)];
    let options = ListOptions {
        id: Some("fuzz".into()),
        category: Some(Category::Gambling),
        version: Some("1".into()),
        provenance: None,
        format: if selector & 8 == 0 { Some(format) } else { None },
        mode: if selector & 4 == 0 { ParseMode::Strict } else { ParseMode::Lenient },
    };
    if let Ok(list) = ParsedList::parse(text, &options) {
        let bytes = compiled::compile(&list);
        let compiled = CompiledList::from_bytes(bytes).expect("a compiled list reopens");
        assert_eq!(compiled.entry_count(), list.report().entries);
        let engine = UrlEngine::new().with_list(compiled);
        for line in text.lines().take(8) {
            if let Ok(url) = CanonicalUrl::parse(line) {
                let _ = engine.check(&url);
            }
        }
    }
});
