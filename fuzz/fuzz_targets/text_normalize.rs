//! The normaliser never panics and its offset map always points at whole characters of the input, in order;
//! scanning and masking any text never panic, and masking only turns characters into `*` in place. A text the pass
//! over the original proves clean (`TextEngine::is_plainly_clean`) has no match in its matching form.
#![no_main]

use haven_core::i18n::Language;
use haven_core::text::{LanguageSet, Normalized, TextContext, TextEngine};
use haven_core::{AgeTier, Haven, Profile};
use libfuzzer_sys::fuzz_target;

static HAVEN: std::sync::OnceLock<Haven> = std::sync::OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let form = Normalized::new(&text);
    let mut last_start = 0;
    for i in 0..form.as_str().len() {
        let r = form.original_range(i, i + 1);
        assert!(r.start < r.end && r.end <= text.len());
        assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        assert!(r.start >= last_start);
        last_start = r.start;
    }
    let all = Language::ALL
        .iter()
        .fold(LanguageSet::empty(), |set, &l| set.with(l));
    for m in TextEngine::builtin().scan_normalized(&form, all) {
        assert!(m.span.start < m.span.end && m.span.end <= text.len());
        assert!(text.is_char_boundary(m.span.start) && text.is_char_boundary(m.span.end));
    }
    let language = Language::ALL[data.first().map_or(0, |b| usize::from(*b) % 6)];
    let engine = TextEngine::builtin();
    for set in [all, LanguageSet::empty().with(language).with(Language::En)] {
        if engine.is_plainly_clean(&text, set) {
            assert!(engine.scan_normalized(&form, set).is_empty());
        }
    }
    let mut profile = Profile::new("fuzz", AgeTier::Under9).unwrap();
    profile.set_language(language);
    let masked = HAVEN
        .get_or_init(Haven::new)
        .mask_text(
            &profile,
            &text,
            &TextContext::outgoing().with_language(language),
        )
        .unwrap();
    assert_eq!(masked.chars().count(), text.chars().count());
    for (a, b) in text.chars().zip(masked.chars()) {
        assert!(a == b || (b == '*' && !a.is_whitespace()));
    }
});
