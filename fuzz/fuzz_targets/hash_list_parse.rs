//! Hash list text (plain, CSV, signals) → parse (strict and lenient) → compile → open → look up: never panics,
//! every compiled list reads back with the parsed entries.
#![no_main]

use haven_core::hash::compiled::compile;
use haven_core::hash::list::{HashListOptions, HashValue, ParsedHashList};
use haven_core::hash::CompiledHashList;
use haven_core::url::ParseMode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for mode in [ParseMode::Strict, ParseMode::Lenient] {
        let options = HashListOptions {
            id: Some("fuzz".into()),
            version: Some("1".into()),
            mode,
            ..HashListOptions::default()
        };
        let Ok(list) = ParsedHashList::parse(text, &options) else {
            continue;
        };
        let bytes = compile(&list);
        let compiled = CompiledHashList::from_bytes(bytes).expect("a compiled list reads back");
        for (id, value) in list.entries.iter().enumerate() {
            match value {
                HashValue::Pdq(hash) => {
                    assert!(compiled.find_pdq(hash, 0).iter().any(|&(e, d)| e as usize == id && d == 0));
                }
                exact => assert_eq!(compiled.find_exact(exact), Some(id as u32)),
            }
        }
    }
    // Arbitrary bytes as a compiled file: an error or a list, never a panic.
    let _ = CompiledHashList::from_bytes(data.to_vec());
});
