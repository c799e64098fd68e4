//! The curated seed lists built into Haven: gambling, social media, dating and bypass tools.
//!
//! They live in `core/data/lists/` (see its README for what gets in) and are compiled into the program, so a
//! bare `Haven::new()` already knows them. The large adult list is installed separately by the set-up script
//! (it is 57 MB of text) and opened from its compiled file.

use std::sync::OnceLock;

use super::compiled::compile;
use super::list::{ListError, ListOptions, ParsedList};
use super::{CompiledList, UrlEngine};

/// The seed lists' text, by file name.
pub const SEED_LISTS: [(&str, &str); 4] = [
    (
        "gambling.txt",
        include_str!("../../data/lists/gambling.txt"),
    ),
    (
        "social-media.txt",
        include_str!("../../data/lists/social-media.txt"),
    ),
    ("dating.txt", include_str!("../../data/lists/dating.txt")),
    (
        "bypass-tools.txt",
        include_str!("../../data/lists/bypass-tools.txt"),
    ),
];

/// Exact entries removed from the adult list when it is compiled: general platforms, health services and
/// public bodies that it lists whole (see the comments in the file for each one).
pub const ADULT_EXCLUSIONS: &str = include_str!("../../data/lists/adult-exclusions.txt");

/// The seed lists, parsed strictly.
pub fn seed_lists() -> Result<Vec<ParsedList>, ListError> {
    SEED_LISTS
        .iter()
        .map(|(_, text)| ParsedList::parse(text, &ListOptions::default()))
        .collect()
}

impl UrlEngine {
    /// An engine with the built-in seed lists (gambling, social media, dating, bypass tools), compiled once
    /// per process and shared.
    pub fn builtin() -> UrlEngine {
        static BUILTIN: OnceLock<UrlEngine> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let mut engine = UrlEngine::new();
                // The seed lists are checked by the test suite; a list that failed to parse would be left
                // out rather than take every other check down.
                for list in seed_lists().unwrap_or_default() {
                    if let Ok(compiled) = CompiledList::from_bytes(compile(&list)) {
                        engine = engine.with_list(compiled);
                    }
                }
                engine
            })
            .clone()
    }
}
