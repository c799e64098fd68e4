//! The matching form of a text, with a map back to the original.
//!
//! Lexicon entries and checked text go through the same [`Normalized::new`], so an entry written plainly
//! (`shit`) meets its evasions (`SH1T`, `s h i t`, `ѕhit` with a Cyrillic `ѕ`, `ｓｈｉｔ`, `sh\u{200B}it`,
//! `shiiiit`). The steps, in order:
//!
//! 1. **Per character**: invisible characters are dropped (zero-width spaces and joiners, soft hyphens, bidi
//!    controls such as RLO/LRO, variation selectors, tag characters); Unicode compatibility decomposition (NFKD)
//!    turns full-width and mathematical letters, ligatures and circled letters into plain ones; Latin diacritics
//!    are dropped (`é` → `e`, `ø` → `o`) except Spanish `ñ`, a letter of its own, and other scripts keep
//!    theirs (`й` stays `й`); lower case; `ß` → `ss`.
//!    Arabic: tashkeel and tatweel are dropped, `أ إ آ ٱ` → `ا`, `ى ی` → `ي`, `ة` → `ه`, Arabic-Indic digits →
//!    ASCII. Russian: `ё` → `е`. Chinese: traditional characters → simplified (the `fast2s` tables).
//! 2. **Per word** (a run of letters, digits and the leet symbols `@ $ ! *`): look-alike letters of another
//!    script are folded into the word's main script (Cyrillic `с` in a Latin word → `c`, Latin `p` in a Russian
//!    word → `р`); leetspeak digits and symbols become letters when the word is mostly letters (`sh1t`, `@ss`,
//!    `$lut`; Russian `3` → `з`), so `2024` and `mp3`-like tokens with few letters stay as they are; a `*` inside
//!    a word stays as a wildcard (`f*ck`); runs of one letter collapse to one, remembering the run's length
//!    (`fuuuck` → `fuck`, run 3 at `u`), so that an entry with a real double letter (`boob`) still needs two in
//!    the text and `Bob` is not `boob`.
//! 3. **Between words**: every other character (spaces, punctuation, apostrophes, emoji) becomes one space.
//!    Three or more single letters separated by short gaps (`f u c k`, `f.u.c.k`, `f-u-c-k`, `f_u_c_k`) are
//!    joined and marked, so a match may start and end inside them. Chinese characters
//!    separated by short gaps are joined too (Chinese puts no spaces between words).
//!
//! Every byte of the matching form records the byte range of the original text it came from, so a match maps
//! back to the original for masking and evidence (see [`Normalized::original_range`]). For an ASCII text that
//! map is built the first time it is asked for (most texts have no match); the matching form, its runs and its
//! joins are the same either way.

use std::ops::Range;
use std::sync::OnceLock;

use smallvec::SmallVec;
use unicode_normalization::char::{compose, decompose_compatible, is_combining_mark};

/// Flag in [`Normalized`]'s per-byte metadata: the byte is part of a run of joined single letters.
const JOINED: u8 = 0x80;
/// Mask of the run length in the per-byte metadata.
const RUN_MASK: u8 = 0x7f;

/// A text in matching form, with the map back to the original.
///
/// Equality compares the matching form, the offset map, the runs and the joins.
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    /// The matching form (`..form_len`), followed by the original text while `slots` may still have to be built
    /// from it (ASCII only; one allocation for both).
    text: String,
    /// The length of the matching form in `text`.
    form_len: usize,
    /// Whether any byte is part of a run of joined single letters.
    joined: bool,
    /// Per byte of the matching form: where it came from, and its run. Built with the form for a non-ASCII text;
    /// for an ASCII text (most of them), from the original the first time it is needed: most texts have no match
    /// to map back and no run to check, and writing a slot per byte took longer than finding the matching form.
    slots: OnceLock<Vec<Slot>>,
    /// Without `slots` yet: the bytes of `text` whose letter ran longer than one in the original, with the run's
    /// length, in order (the lexicon checks runs on every candidate match, so they are kept apart from the map).
    runs: Vec<(u32, u8)>,
}

impl PartialEq for Normalized {
    fn eq(&self, other: &Normalized) -> bool {
        self.as_str() == other.as_str()
            && self.joined == other.joined
            && self.slots() == other.slots()
    }
}

impl Eq for Normalized {}

/// Where one byte of the matching form came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Slot {
    /// The first byte of the original characters it came from.
    start: u32,
    /// One past the last byte of the original characters it came from.
    end: u32,
    /// The run length of its letter in the original (1..=127) and the `JOINED` flag.
    meta: u8,
}

/// One character after the per-character step, with where it came from.
#[derive(Debug, Clone, Copy)]
struct Unit {
    c: char,
    start: u32,
    end: u32,
}

/// What a unit is, for finding words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Letter,
    Digit,
    /// `@ $ ! *`: part of a word, and leetspeak or a wildcard when the word is mostly letters.
    Symbol,
    Separator,
}

fn class(c: char) -> Class {
    if c.is_ascii_lowercase() {
        Class::Letter
    } else if c.is_ascii_digit() {
        Class::Digit
    } else if matches!(c, '@' | '$' | '!' | '*') {
        Class::Symbol
    } else if c.is_ascii() {
        Class::Separator
    } else if matches!(c, 'а'..='я' | 'ё' | 'ء'..='ي' | '\u{4E00}'..='\u{9FFF}') {
        // The letters of the six languages' scripts that texts use most, before the general (slower) lookup.
        Class::Letter
    } else if c.is_alphabetic() || is_emoji(c) {
        // Emoji count as letters, so a lexicon can list the rude ones.
        Class::Letter
    } else {
        Class::Separator
    }
}

/// Pictographs and dingbats (emoji, with their skin-tone modifiers).
fn is_emoji(c: char) -> bool {
    matches!(c, '\u{1F000}'..='\u{1FAFF}' | '\u{2600}'..='\u{27BF}')
}

/// The script a word is folded into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Other,
}

impl Normalized {
    /// The matching form of `text`. Linear in the length of `text`; never panics.
    ///
    /// Offsets are kept as `u32`: callers check texts against a length limit (far below 4 GiB) first. Longer
    /// input is cut at the last character boundary below 4 GiB rather than mis-mapped.
    pub fn new(text: &str) -> Normalized {
        let text = cut_to_u32(text);
        if text.is_ascii() {
            let mut built = new_ascii::<false>(text.as_bytes());
            let runs = std::mem::take(&mut built.runs);
            let form_len = built.text.len();
            // The builder left room for it.
            built.text.extend_from_slice(text.as_bytes());
            let (text, _, joined) = built.finish();
            Normalized {
                text,
                form_len,
                joined,
                slots: OnceLock::new(),
                runs,
            }
        } else {
            new_general(text)
        }
    }

    /// The offset map, built on first use for an ASCII text.
    fn slots(&self) -> &[Slot] {
        self.slots
            .get_or_init(|| new_ascii::<true>(self.original().as_bytes()).finish().1)
    }

    /// The original text, kept while the offset map may still have to be built from it (else empty).
    fn original(&self) -> &str {
        self.text.get(self.form_len..).unwrap_or_default()
    }

    /// The matching form.
    pub fn as_str(&self) -> &str {
        self.text.get(..self.form_len).unwrap_or_default()
    }

    /// The byte range of the original text that the matching-form bytes `start..end` came from. Out-of-range or
    /// empty input gives an empty range at the nearest known position.
    pub fn original_range(&self, start: usize, end: usize) -> Range<usize> {
        let first = self.slots().get(start).map(|s| s.start);
        let last = end
            .checked_sub(1)
            .and_then(|i| self.slots().get(i))
            .map(|s| s.end);
        match (first, last) {
            (Some(s), Some(e)) if e >= s && end > start => s as usize..e as usize,
            (Some(s), _) => s as usize..s as usize,
            _ => {
                let at = self.slots().last().map_or(0, |s| s.end) as usize;
                at..at
            }
        }
    }

    /// The length of the original run of letters behind the matching-form byte `i` (1 when the letter was not
    /// repeated; 0 out of range).
    pub fn run_len(&self, i: usize) -> u8 {
        if let Some(slots) = self.slots.get() {
            return slots.get(i).map_or(0, |s| s.meta & RUN_MASK);
        }
        if i >= self.form_len {
            return 0;
        }
        match self.runs.binary_search_by_key(&i, |&(at, _)| at as usize) {
            Ok(k) => self.runs.get(k).map_or(1, |&(_, run)| run),
            Err(_) => 1,
        }
    }

    /// Whether the matching-form byte `i` is one of a run of joined single letters (`f u c k`).
    pub fn is_joined(&self, i: usize) -> bool {
        self.joined && self.slots().get(i).is_some_and(|s| s.meta & JOINED != 0)
    }

    /// Whether any byte is one of a run of joined single letters (else words start only after spaces).
    pub fn has_joined(&self) -> bool {
        self.joined
    }

    /// Whether a match may start at byte `start` as a whole word: at the start, after a space, or between two
    /// joined letters.
    pub fn is_word_start(&self, start: usize) -> bool {
        let bytes = self.as_str().as_bytes();
        start == 0
            || bytes.get(start - 1) == Some(&b' ')
            || (self.is_joined(start - 1) && self.is_joined(start))
    }

    /// Whether a match may end at byte `end` as a whole word: at the end, before a space, or between two joined
    /// letters.
    pub fn is_word_end(&self, end: usize) -> bool {
        let bytes = self.as_str().as_bytes();
        end >= bytes.len()
            || bytes.get(end) == Some(&b' ')
            || (end > 0 && self.is_joined(end - 1) && self.is_joined(end))
    }
}

/// The matching form being built, with its offset map when `SLOTS` (else the map is left empty).
struct Builder<const SLOTS: bool> {
    /// UTF-8: only whole characters are pushed (bytes, so that a word can be written eight bytes at a time).
    text: Vec<u8>,
    slots: Vec<Slot>,
    /// Unless `SLOTS`: [`Normalized::runs`].
    runs: Vec<(u32, u8)>,
    joined: bool,
}

impl<const SLOTS: bool> Builder<SLOTS> {
    fn with_capacity(len: usize) -> Builder<SLOTS> {
        Builder {
            // Room for the eight bytes written at once by `emit_plain_word` past the end of the form.
            text: Vec::with_capacity(len + 8),
            slots: Vec::with_capacity(if SLOTS { len } else { 0 }),
            runs: Vec::new(),
            joined: false,
        }
    }

    fn push(&mut self, c: char, start: u32, end: u32, meta: u8) {
        self.joined |= meta & JOINED != 0;
        let at = self.text.len();
        // Byte by byte: one to four bytes, where a copy of a slice would call `memcpy`.
        for &b in c.encode_utf8(&mut [0; 4]).as_bytes() {
            self.text.push(b);
        }
        if SLOTS {
            for _ in 0..c.len_utf8() {
                self.slots.push(Slot { start, end, meta });
            }
        } else if meta & RUN_MASK > 1 {
            for k in at..self.text.len() {
                self.runs.push((k as u32, meta & RUN_MASK));
            }
        }
    }

    fn push_ascii(&mut self, c: u8, start: u32, end: u32, meta: u8) {
        self.text.push(c);
        if SLOTS {
            self.slots.push(Slot { start, end, meta });
        } else if meta & RUN_MASK > 1 {
            self.runs
                .push(((self.text.len() - 1) as u32, meta & RUN_MASK));
        }
    }

    /// One more letter (ending at `end`) in the run of the last byte pushed.
    fn extend_run(&mut self, end: u32) {
        if SLOTS {
            if let Some(slot) = self.slots.last_mut() {
                slot.end = end;
                slot.meta = (slot.meta + 1).min(RUN_MASK);
            }
            return;
        }
        let Some(at) = self.text.len().checked_sub(1) else {
            return;
        };
        match self.runs.last_mut() {
            Some((last, run)) if *last as usize == at => *run = (*run + 1).min(RUN_MASK),
            _ => self.runs.push((at as u32, 2)),
        }
    }

    /// Forgets the runs of bytes from `len` on.
    fn drop_runs_from(&mut self, len: usize) {
        while self.runs.last().is_some_and(|&(at, _)| at as usize >= len) {
            self.runs.pop();
        }
    }

    fn push_space(&mut self, start: u32, end: u32) {
        if self.text.last().is_some_and(|&b| b != b' ') {
            self.push(' ', start, end, 1);
        }
    }

    /// Drops every byte from `len` on (`len` on a character boundary: callers pass an earlier length).
    fn truncate(&mut self, len: usize) {
        self.text.truncate(len);
        if SLOTS {
            self.slots.truncate(len);
        } else {
            self.drop_runs_from(len);
        }
    }

    /// The last character of the form.
    fn last_char(&self) -> Option<char> {
        let last = *self.text.last()?;
        if last.is_ascii() {
            return Some(char::from(last));
        }
        // A character takes at most four bytes; its first byte is not a continuation byte (`0b10xx_xxxx`), and
        // only whole characters were pushed: decode it as `str::chars` would.
        let tail = self.text.get(self.text.len().saturating_sub(4)..)?;
        let first = tail.iter().rposition(|&b| b & 0xC0 != 0x80)?;
        let (&lead, rest) = tail.get(first..)?.split_first()?;
        let lead_bits = u32::from(lead) & (0x7F >> (rest.len() + 1));
        let code = rest
            .iter()
            .fold(lead_bits, |code, &b| (code << 6) | u32::from(b & 0x3F));
        char::from_u32(code)
    }

    /// The matching form, with its offset map (empty unless `SLOTS`) and whether any letters were joined.
    fn finish(self) -> (String, Vec<Slot>, bool) {
        // Only whole characters were pushed, so the text is UTF-8; were it not, it would be repaired rather
        // than lost.
        let text = String::from_utf8(self.text)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        (text, self.slots, self.joined)
    }

    fn trim_end(&mut self) {
        if self.text.last() == Some(&b' ') {
            self.text.pop();
            if SLOTS {
                self.slots.pop();
            } else {
                self.drop_runs_from(self.text.len());
            }
        }
    }
}

/// [`Normalized::new`] for any text.
fn new_general(text: &str) -> Normalized {
    let mut units = Vec::with_capacity(text.len());
    if needs_t2s(text) {
        let simplified = fast2s::convert(text);
        // fast2s maps one character to one character; anything else and the text is used as it is.
        if simplified.chars().count() == text.chars().count() {
            for ((i, original), c) in text.char_indices().zip(simplified.chars()) {
                push_char(&mut units, c, i as u32, (i + original.len_utf8()) as u32);
            }
        } else {
            push_all(&mut units, text);
        }
    } else {
        push_all(&mut units, text);
    }
    let mut out = Builder::<true>::with_capacity(text.len());
    Words::new(&units).emit_all(&mut out);
    let (text, slots, joined) = out.finish();
    Normalized {
        form_len: text.len(),
        text,
        joined,
        slots: OnceLock::from(slots),
        runs: Vec::new(),
    }
}

/// [`Normalized::new`] for ASCII text: the same steps as [`new_general`] (one unit per byte, lower case), with
/// words of two or more plain letters (most words) emitted straight from the bytes.
fn new_ascii<const SLOTS: bool>(bytes: &[u8]) -> Builder<SLOTS> {
    // Without the map, [`Normalized::new`] appends the original text to the form: room for both.
    let mut out =
        Builder::<SLOTS>::with_capacity(if SLOTS { bytes.len() } else { 2 * bytes.len() });
    let mut words = Words::new(&[]);
    let mut units: SmallVec<[Unit; 16]> = SmallVec::new();
    let mut gap: Option<(u32, u32, usize, bool)> = None;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let class = ascii_class(b);
        if class == Class::Separator {
            let newline = b == b'\n';
            gap = Some(match gap {
                Some((s, e, n, nl)) => (s, e, n + 1, nl || newline),
                None => (i as u32, i as u32 + 1, 1, newline),
            });
            i += 1;
            continue;
        }
        if words.singles.is_empty() {
            // Most words are two or more plain letters: emit them while finding their end, and take the emitted
            // bytes back for any other word.
            let mark = out.text.len();
            if let Some((s, e, _, _)) = gap {
                out.push_space(s, e);
            }
            let (j, plain) = emit_plain_word(&mut out, bytes, i);
            if plain && j - i >= 2 {
                gap = None;
                i = j;
                continue;
            }
            out.truncate(mark);
        }
        let mut j = i + 1;
        let mut plain = class == Class::Letter;
        while let Some(&b) = bytes.get(j) {
            let class = ascii_class(b);
            if class == Class::Separator {
                break;
            }
            plain &= class == Class::Letter;
            j += 1;
        }
        let word = bytes.get(i..j).unwrap_or_default();
        if plain && word.len() >= 2 {
            if !words.singles.is_empty() {
                words.flush(&mut out);
            }
            if let Some((s, e, _, _)) = gap {
                out.push_space(s, e);
            }
            emit_plain_word(&mut out, bytes, i);
        } else {
            units.clear();
            units.extend(word.iter().zip(i as u32..).map(|(&b, at)| Unit {
                c: char::from(b.to_ascii_lowercase()),
                start: at,
                end: at + 1,
            }));
            words.map_word(&units);
            words.place_mapped(&mut out, gap);
        }
        gap = None;
        i = j;
    }
    words.flush(&mut out);
    out.trim_end();
    out
}

/// Emits the letters of the word at `bytes[start..]` (runs of one letter collapsed, as [`emit_collapsed`] does)
/// up to its first byte that is not a letter. Returns where it stopped and whether that is the word's end (a
/// separator or the end of the text) rather than a digit or symbol.
#[inline(always)]
fn emit_plain_word<const SLOTS: bool>(
    out: &mut Builder<SLOTS>,
    bytes: &[u8],
    start: usize,
) -> (usize, bool) {
    let mut prev = 0u8;
    let mut j = start;
    if !SLOTS {
        // Without the offset map, eight bytes at a time while they last: the letters before the first other
        // byte, lower-cased and written at once up to the first repeat of a letter (skipped: its run collapses).
        while let Some(block) = bytes.get(j..j + 8) {
            let Ok(block) = <[u8; 8]>::try_from(block) else {
                break;
            };
            let x = u64::from_le_bytes(block);
            let letters = ascii_letters(x);
            let lower = x | (letters >> 2);
            let mut count = ((!letters & HIGH_BITS).trailing_zeros() / 8) as usize;
            // Zero where a byte equals the one before it (the first against the last letter written).
            let same = lower ^ ((lower << 8) | u64::from(prev));
            let repeat =
                (same.wrapping_sub(LOW_BITS) & !same & HIGH_BITS).trailing_zeros() as usize / 8;
            let written = count.min(repeat);
            out.text.extend_from_slice(&lower.to_le_bytes());
            out.text.truncate(out.text.len() - 8 + written);
            if repeat < count {
                // The repeated letter is skipped: its run is the last letter written.
                out.extend_run((j + repeat + 1) as u32);
                count = repeat + 1;
            }
            if count > 0 {
                // The last letter read (`count` ≤ 8); truncation keeps its byte.
                prev = (lower >> (8 * (count - 1))) as u8;
            }
            j += count;
            if count < 8 && repeat >= count {
                // The word's letters end inside this block.
                return match bytes.get(j).map(|&b| ascii_class(b)) {
                    Some(Class::Digit | Class::Symbol) => (j, false),
                    _ => (j, true),
                };
            }
        }
    }
    while let Some(&b) = bytes.get(j) {
        match ascii_class(b) {
            Class::Letter => {
                let c = b.to_ascii_lowercase();
                let at = j as u32;
                if c != prev {
                    out.push_ascii(c, at, at + 1, 1);
                    prev = c;
                } else {
                    out.extend_run(at + 1);
                }
                j += 1;
            }
            Class::Separator => return (j, true),
            Class::Digit | Class::Symbol => return (j, false),
        }
    }
    (j, true)
}

/// The lowest bit of each byte of a `u64`.
const LOW_BITS: u64 = 0x0101_0101_0101_0101;
/// The highest bit of each byte of a `u64`.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// `0x80` in each byte of `x` (eight ASCII bytes, all below `0x80`) that is an ASCII letter of either case, else 0.
fn ascii_letters(x: u64) -> u64 {
    // Setting bit 5 maps exactly the letters (`A-Z`, `a-z`) into `a..=z`; no byte below 0x80 carries into the
    // next one when 0x1f or 0x05 is added.
    let lower = x | (0x20 * LOW_BITS);
    let at_least_a = lower.wrapping_add((0x80 - u64::from(b'a')) * LOW_BITS);
    let past_z = lower.wrapping_add((0x80 - u64::from(b'z') - 1) * LOW_BITS);
    at_least_a & !past_z & HIGH_BITS
}

/// [`class`] of each ASCII byte (either case).
const ASCII_CLASS: [Class; 128] = {
    let mut table = [Class::Separator; 128];
    let mut b = 0;
    while b < 128 {
        // `b < 128`, the table's length (constant evaluation would fail to compile otherwise).
        #[allow(clippy::indexing_slicing)]
        let slot = &mut table[b];
        *slot = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' => Class::Letter,
            b'0'..=b'9' => Class::Digit,
            b'@' | b'$' | b'!' | b'*' => Class::Symbol,
            _ => Class::Separator,
        };
        b += 1;
    }
    table
};

/// How the pass over an original text ([`super::raw`]) classes its bytes: an ASCII byte as [`ascii_class`] does;
/// a non-ASCII byte as a [`Class::Symbol`], a byte the pass's fold does not cover (nor does a leetspeak symbol).
pub(super) fn raw_class(b: u8) -> Class {
    if b.is_ascii() {
        ascii_class(b)
    } else {
        Class::Symbol
    }
}

/// [`class`] of an ASCII byte of either case (a non-ASCII byte is a separator: callers pass ASCII only).
fn ascii_class(b: u8) -> Class {
    ASCII_CLASS
        .get(usize::from(b))
        .copied()
        .unwrap_or(Class::Separator)
}

/// The longest prefix of `text` on a character boundary whose length fits in a `u32`.
fn cut_to_u32(text: &str) -> &str {
    let max = u32::MAX as usize;
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// Whether the text has CJK ideographs (worth the traditional → simplified pass).
fn needs_t2s(text: &str) -> bool {
    // Every CJK ideograph is encoded in UTF-8 with a lead byte of 0xE3..=0xE9 (U+3400..U+9FFF) or 0xEF (the
    // compatibility ideographs); a quick byte scan rules out most texts.
    text.bytes()
        .any(|b| (0xE3..=0xE9).contains(&b) || b == 0xEF)
        && text
            .chars()
            .any(|c| matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'))
}

fn push_all(units: &mut Vec<Unit>, text: &str) {
    for (i, c) in text.char_indices() {
        push_char(units, c, i as u32, (i + c.len_utf8()) as u32);
    }
}

/// Invisible characters that only hide what a word is: zero-width spaces and joiners, soft hyphen, bidi
/// controls, invisible operators, variation selectors, fillers, the BOM and tag characters.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Arabic folding: `Some(None)` drops the character, `Some(Some(c))` replaces it, `None` leaves it alone.
fn fold_arabic(c: char) -> Option<Option<char>> {
    Some(match c {
        // Tashkeel (harakat, tanwin, shadda, sukun, superscript alef, Quranic marks) and tatweel.
        '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0670}'
        | '\u{06D6}'..='\u{06ED}'
        | '\u{0640}' => None,
        'أ' | 'إ' | 'آ' | 'ٱ' | 'ٲ' | 'ٳ' => Some('ا'),
        'ى' | 'ی' | 'ې' => Some('ي'),
        'ة' => Some('ه'),
        'ک' => Some('ك'),
        '\u{0660}'..='\u{0669}' => char::from_digit(c as u32 - 0x0660, 10),
        '\u{06F0}'..='\u{06F9}' => char::from_digit(c as u32 - 0x06F0, 10),
        _ => return None,
    })
}

/// Latin letters without a decomposition that still carry a diacritic or are a ligature.
fn fold_latin_extra(c: char) -> Option<&'static str> {
    Some(match c {
        'ø' => "o",
        'æ' => "ae",
        'œ' => "oe",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'þ' => "th",
        'ı' => "i",
        'ħ' => "h",
        'ŧ' => "t",
        'ß' | 'ẞ' => "ss",
        _ => return None,
    })
}

fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}')
}

/// The per-character step: pushes zero or more units for `c` (which came from `start..end`).
fn push_char(units: &mut Vec<Unit>, c: char, start: u32, end: u32) {
    if c.is_ascii() {
        units.push(Unit {
            c: c.to_ascii_lowercase(),
            start,
            end,
        });
        return;
    }
    if is_invisible(c) {
        return;
    }
    if let Some(folded) = fold_arabic(c) {
        if let Some(c) = folded {
            units.push(Unit { c, start, end });
        }
        return;
    }
    match c {
        'ё' | 'Ё' => {
            return units.push(Unit {
                c: 'е', start, end
            });
        }
        // Spanish `ñ` is a letter of its own (`coño` is not `cono`, a cone).
        'ñ' | 'Ñ' => {
            return units.push(Unit {
                c: 'ñ', start, end
            });
        }
        'ς' => {
            return units.push(Unit {
                c: 'σ', start, end
            });
        }
        // Hangul syllables decompose into jamo; keep them whole.
        '\u{AC00}'..='\u{D7A3}' => return units.push(Unit { c, start, end }),
        _ => {}
    }
    if let Some(c) = plain_letter(c) {
        return units.push(Unit { c, start, end });
    }
    push_decomposed(units, c, start, end);
}

/// The common Cyrillic, Arabic and Chinese letters, which the general step below leaves as they are but for
/// Cyrillic case: the same unit without the Unicode tables (`plain_letters_take_the_general_step`).
fn plain_letter(c: char) -> Option<char> {
    match c {
        'а'..='я' | '\u{0621}'..='\u{063A}' | '\u{0641}'..='\u{064A}' | '\u{4E00}'..='\u{9FFF}' => {
            Some(c)
        }
        'А'..='Я' => char::from_u32(u32::from(c) + 0x20),
        _ => None,
    }
}

/// The rest of [`push_char`]: combining marks, compatibility decomposition, lower case.
fn push_decomposed(units: &mut Vec<Unit>, c: char, start: u32, end: u32) {
    if is_combining_mark(c) {
        // A mark on its own (decomposed input): recompose it with a non-Latin letter before it (`и` + breve →
        // `й`), drop it after a Latin one (diacritics folding).
        if let Some(last) = units.last_mut()
            && last.end == start
            && !is_latin(last.c)
            && let Some(composed) = compose(last.c, c)
        {
            last.c = composed;
            last.end = end;
        }
        return;
    }
    let mut parts = ['\0'; 18];
    let mut n = 0;
    decompose_compatible(c, |d| {
        if let Some(slot) = parts.get_mut(n) {
            *slot = d;
            n += 1;
        }
    });
    let parts = parts.get(..n).unwrap_or_default();
    let base = parts.first().copied().unwrap_or(c);
    let keep_whole = !is_latin(base) && parts.iter().any(|&d| is_combining_mark(d));
    if parts == [c] || keep_whole {
        push_lower(units, c, start, end);
    } else {
        for &d in parts {
            if !is_combining_mark(d) {
                push_lower(units, d, start, end);
            }
        }
    }
}

fn push_lower(units: &mut Vec<Unit>, c: char, start: u32, end: u32) {
    if c.is_ascii() {
        units.push(Unit {
            c: c.to_ascii_lowercase(),
            start,
            end,
        });
        return;
    }
    for lower in c.to_lowercase() {
        if let Some(folded) = fold_latin_extra(lower) {
            units.extend(folded.chars().map(|c| Unit { c, start, end }));
        } else if is_latin(c) && is_combining_mark(lower) {
            // `İ` lower-cases to `i` + a combining dot.
        } else if lower == 'ё' {
            units.push(Unit {
                c: 'е', start, end
            });
        } else {
            units.push(Unit {
                c: lower,
                start,
                end,
            });
        }
    }
}

/// Look-alike letters of Cyrillic and Greek, in lower case, and the Latin letter they imitate.
fn to_latin(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'в' | 'ь' | 'β' => 'b',
        'с' => 'c',
        'ԁ' => 'd',
        'е' | 'ε' => 'e',
        'г' => 'r',
        'һ' | 'н' => 'h',
        'і' | 'ї' | 'ι' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'ӏ' => 'l',
        'м' => 'm',
        'п' | 'η' => 'n',
        'о' | 'ο' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' => 'u',
        'ν' => 'v',
        'ԝ' | 'ω' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        _ => return None,
    })
}

/// Latin look-alikes of Cyrillic letters (and leetspeak digits Russian writers use), in lower case.
fn to_cyrillic(c: char) -> Option<char> {
    Some(match c {
        'a' | '@' => 'а',
        'b' | '6' => 'б',
        'c' => 'с',
        'e' => 'е',
        'h' => 'н',
        'k' => 'к',
        'm' => 'м',
        'n' => 'п',
        'o' | '0' => 'о',
        'p' => 'р',
        'r' => 'г',
        't' => 'т',
        'u' => 'и',
        'x' => 'х',
        'y' => 'у',
        '3' => 'з',
        '4' => 'ч',
        _ => return None,
    })
}

/// Leetspeak digits and symbols in Latin words.
fn leet_latin(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        '8' => 'b',
        '9' => 'g',
        _ => return None,
    })
}

/// Cyrillic letters that Russian does not use but that imitate Latin ones: votes for Latin.
fn is_latin_decoy(c: char) -> bool {
    matches!(c, 'ѕ' | 'і' | 'ј' | 'һ' | 'ԁ' | 'ӏ' | 'ԛ' | 'ԝ')
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{052F}')
}

fn is_greek(c: char) -> bool {
    matches!(c, '\u{0370}'..='\u{03FF}')
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2FFFF}')
}

/// One letter of a word after folding, before runs collapse.
#[derive(Debug, Clone, Copy)]
struct Mapped {
    c: char,
    start: u32,
    end: u32,
}

/// A single-letter word waiting to be joined with its neighbours (`f u c k`).
#[derive(Debug, Clone, Copy)]
struct Single {
    letter: Mapped,
    /// The gap before it (its first unit's range), if any was emitted before it.
    gap: Option<(u32, u32)>,
}

/// The per-word and between-word steps, over the units of the per-character step.
struct Words<'a> {
    units: &'a [Unit],
    mapped: SmallVec<[Mapped; 16]>,
    singles: SmallVec<[Single; 8]>,
}

impl<'a> Words<'a> {
    fn new(units: &'a [Unit]) -> Words<'a> {
        Words {
            units,
            mapped: SmallVec::new(),
            singles: SmallVec::new(),
        }
    }

    fn emit_all<const SLOTS: bool>(mut self, out: &mut Builder<SLOTS>) {
        let units = self.units;
        let mut i = 0;
        // The separator run before the current word: its first unit's range and its length in units.
        let mut gap: Option<(u32, u32, usize, bool)> = None;
        while let Some(unit) = units.get(i) {
            if class(unit.c) == Class::Separator {
                let newline = unit.c == '\n';
                gap = Some(match gap {
                    Some((s, e, n, nl)) => (s, e, n + 1, nl || newline),
                    None => (unit.start, unit.end, 1, newline),
                });
                i += 1;
                continue;
            }
            let mut j = i;
            while units.get(j).is_some_and(|u| class(u.c) != Class::Separator) {
                j += 1;
            }
            let word = units.get(i..j).unwrap_or_default();
            self.map_word(word);
            self.place_mapped(out, gap);
            gap = None;
            i = j;
        }
        self.flush(out);
        out.trim_end();
    }

    /// Places the word in `self.mapped` (after the separator run `gap`): held back as a single letter of a
    /// possible run (`f u c k`), or emitted.
    fn place_mapped<const SLOTS: bool>(
        &mut self,
        out: &mut Builder<SLOTS>,
        gap: Option<(u32, u32, usize, bool)>,
    ) {
        // A short gap (at most two characters, no line break) keeps a run of single letters going.
        let short_gap = gap.is_none_or(|(_, _, n, nl)| n <= 2 && !nl);
        let gap_range = gap.map(|(s, e, _, _)| (s, e));
        let first_han = self.mapped.first().is_some_and(|m| is_han(m.c));
        // A lone leet digit (`l 0 s e r`) may stand for a letter in a run of single letters; `flush` decides.
        let single_letter = |m: &Mapped| class(m.c) == Class::Letter;
        let inner_digit = |m: &Mapped| {
            class(m.c) == Class::Digit
                && leet_latin(m.c).is_some()
                && short_gap
                && !self.singles.is_empty()
        };
        if let [letter] = self.mapped.as_slice()
            && (single_letter(letter) || inner_digit(letter))
            && !first_han
        {
            let letter = *letter;
            if !short_gap {
                self.flush(out);
            }
            self.singles.push(Single {
                letter,
                gap: gap_range,
            });
        } else {
            self.flush(out);
            // Chinese puts no spaces between words: a short gap between two ideographs is an evasion
            // (`傻 逼`), so it goes.
            let after_han = out.last_char().is_some_and(is_han);
            if let Some((s, e)) = gap_range
                && !(short_gap && first_han && after_han)
            {
                out.push_space(s, e);
            }
            emit_collapsed(out, &self.mapped, 0);
        }
    }

    /// Emits the pending single letters: joined when there are enough of them (at least three letters, and lone
    /// digits inside the run, read as leetspeak, at most half as many as the letters), else as separate words.
    fn flush<const SLOTS: bool>(&mut self, out: &mut Builder<SLOTS>) {
        let is_letter = |s: &Single| class(s.letter.c) == Class::Letter;
        // Lone digits after the last letter are numbers, not part of the run.
        let end = self
            .singles
            .iter()
            .rposition(is_letter)
            .map_or(0, |p| p + 1);
        let (run, tail) = self.singles.split_at(end);
        let letters = run.iter().filter(|s| is_letter(s)).count();
        let digits = run.len() - letters;
        if letters >= 3 && 2 * digits <= letters {
            if let Some((s, e)) = run.first().and_then(|s| s.gap) {
                out.push_space(s, e);
            }
            let letters: SmallVec<[Mapped; 16]> = run
                .iter()
                .map(|s| Mapped {
                    c: leet_latin(s.letter.c)
                        .filter(|_| s.letter.c.is_ascii_digit())
                        .unwrap_or(s.letter.c),
                    ..s.letter
                })
                .collect();
            emit_collapsed(out, &letters, JOINED);
        } else {
            emit_separately(out, run);
        }
        emit_separately(out, tail);
        self.singles.clear();
    }

    /// Folds one word's units into `self.mapped`: script look-alikes, leetspeak, wildcards.
    fn map_word(&mut self, word: &[Unit]) {
        self.mapped.clear();
        let (mut latin, mut cyrillic, mut greek, mut letters, mut others) =
            (0, 0, 0, 0usize, 0usize);
        for u in word {
            match class(u.c) {
                Class::Letter => {
                    letters += 1;
                    if is_latin(u.c) || is_latin_decoy(u.c) {
                        latin += 1;
                    } else if is_cyrillic(u.c) {
                        cyrillic += 1;
                    } else if is_greek(u.c) {
                        greek += 1;
                    }
                }
                _ => others += 1,
            }
        }
        let script = if latin > 0 && latin >= cyrillic + greek {
            Script::Latin
        } else if cyrillic > 0 && cyrillic >= greek {
            Script::Cyrillic
        } else if greek > 0 {
            Script::Latin
        } else {
            Script::Other
        };
        let mixed = (latin > 0) as u8 + (cyrillic > 0) as u8 + (greek > 0) as u8 > 1
            || word.iter().any(|u| is_latin_decoy(u.c));
        if others == 0 && !mixed {
            // Letters of one script only (most words): nothing to fold, as the loop below would find.
            self.mapped.extend(word.iter().map(|u| Mapped {
                c: u.c,
                start: u.start,
                end: u.end,
            }));
            return;
        }
        // Leetspeak only in words that are mostly letters (`sh1t`, `a$$`, not `2024` or `a1234`), and of digits
        // only inside the word or as one leading digit (`5lut`): a trailing number (`covid19`, `abc123`) or a
        // longer leading one (`24h`) stays a number.
        let leet = letters > 0 && 2 * letters >= others;
        // `!` and `*` at the edges of a word are punctuation, not letters.
        let is_edge_mark = |u: &Unit| matches!(u.c, '!' | '*');
        let first = word
            .iter()
            .position(|u| !is_edge_mark(u))
            .unwrap_or(word.len());
        let last = word
            .iter()
            .rposition(|u| !is_edge_mark(u))
            .map_or(0, |p| p + 1);
        let word = word.get(first..last).unwrap_or_default();
        let first_letter = word.iter().position(|u| class(u.c) == Class::Letter);
        let last_letter = word.iter().rposition(|u| class(u.c) == Class::Letter);
        for (k, u) in word.iter().enumerate() {
            let inside = first_letter.is_some_and(|f| f < k) && last_letter.is_some_and(|l| k < l);
            let leading_single = k == 0 && word.get(1).is_some_and(|n| class(n.c) == Class::Letter);
            let c = match class(u.c) {
                Class::Letter if mixed => match script {
                    Script::Latin => to_latin(u.c).unwrap_or(u.c),
                    Script::Cyrillic if u.c.is_ascii() => to_cyrillic(u.c).unwrap_or(u.c),
                    _ => u.c,
                },
                Class::Letter => u.c,
                // A star inside a word hides letters: it stays, as a wildcard.
                Class::Symbol if u.c == '*' => {
                    if !leet {
                        continue;
                    }
                    '*'
                }
                Class::Digit if !(leet && (inside || leading_single)) => u.c,
                Class::Symbol | Class::Digit if leet => {
                    let folded = match script {
                        Script::Cyrillic => to_cyrillic(u.c),
                        _ => leet_latin(u.c),
                    };
                    match folded {
                        Some(c) => c,
                        None if u.c.is_ascii_digit() => u.c,
                        None => continue,
                    }
                }
                Class::Digit => u.c,
                Class::Symbol | Class::Separator => continue,
            };
            self.mapped.push(Mapped {
                c,
                start: u.start,
                end: u.end,
            });
        }
    }
}

/// Emits single letters (and lone digits) as the separate words they are.
fn emit_separately<const SLOTS: bool>(out: &mut Builder<SLOTS>, singles: &[Single]) {
    for single in singles {
        if let Some((s, e)) = single.gap {
            out.push_space(s, e);
        }
        emit_collapsed(out, std::slice::from_ref(&single.letter), 0);
    }
}

/// Emits letters with runs of one letter collapsed (digits are never collapsed).
fn emit_collapsed<const SLOTS: bool>(out: &mut Builder<SLOTS>, letters: &[Mapped], flags: u8) {
    let mut k = 0;
    while let Some(first) = letters.get(k) {
        let mut j = k + 1;
        if !first.c.is_ascii_digit() {
            while letters.get(j).is_some_and(|m| m.c == first.c) {
                j += 1;
            }
        }
        let run = (j - k).min(RUN_MASK as usize) as u8;
        let end = letters.get(j - 1).map_or(first.end, |m| m.end);
        out.push(first.c, first.start, end, run | flags);
        k = j;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn form(text: &str) -> String {
        Normalized::new(text).as_str().to_owned()
    }

    #[test]
    fn evasion_classes_fold_to_the_plain_word() {
        let cases = [
            ("Shit", "shit"),
            ("SH1T", "shit"),
            ("$h!t", "shit"),
            ("@ss", "as"),
            ("s h i t", "shit"),
            ("s.h.i.t", "shit"),
            ("s-h-i-t", "shit"),
            ("s_h_i_t", "shit"),
            ("l 0 s e r", "loser"),
            ("5 h 1 t", "5 h 1 t"),
            ("shiiiiit", "shit"),
            ("\u{0455}hit", "shit"),
            ("ѕһit", "shit"),
            ("sh\u{200B}it", "shit"),
            ("sh\u{00AD}it", "shit"),
            ("sh\u{200D}i\u{202E}t", "shit"),
            ("ｓｈｉｔ", "shit"),
            ("𝐬𝐡𝐢𝐭", "shit"),
            ("shït", "shit"),
            ("sh*t", "sh*t"),
            ("f**k", "f*k"),
            ("Straße", "strase"),
            ("ёлка", "елка"),
            ("сyка", "сука"),
            ("бл9дь", "бл9дь"),
            ("3аебал", "заебал"),
            ("مُحَمَّد", "محمد"),
            ("كـــلـــب", "كلب"),
            ("أحمق", "احمق"),
            ("مدرسة", "مدرسه"),
            ("傻逼", "傻逼"),
            ("國語", "国语"),
            ("我 是", "我是"),
            ("ＡＢＣ１２３", "abc123"),
            ("hello,   world!!", "helo world"),
            ("don't tell", "don t tel"),
            ("call me at 2024", "cal me at 2024"),
        ];
        for (input, expected) in cases {
            assert_eq!(form(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn plain_letters_take_the_general_step() {
        let ranges = [
            'а'..='я',
            'А'..='Я',
            '\u{0600}'..='\u{06FF}',
            '\u{4E00}'..='\u{9FFF}',
        ];
        let mut checked = 0;
        for c in ranges.into_iter().flatten() {
            // The Arabic letters that fold (`أ` → `ا`) never reach the fast path.
            let Some(fast) = plain_letter(c).filter(|_| fold_arabic(c).is_none()) else {
                continue;
            };
            let mut units = Vec::new();
            push_decomposed(&mut units, c, 0, 2);
            let general: Vec<char> = units.iter().map(|u| u.c).collect();
            assert_eq!(general, [fast], "{c:?}");
            assert!(!is_invisible(c), "{c:?}");
            let mut units = Vec::new();
            push_char(&mut units, c, 0, 2);
            assert_eq!(units.iter().map(|u| u.c).collect::<Vec<_>>(), [fast]);
            checked += 1;
        }
        // Cyrillic а-я and А-Я, 31 Arabic letters, the CJK Unified Ideographs block.
        assert_eq!(checked, 64 + 31 + 20992);
    }

    #[test]
    fn the_builder_reads_back_its_last_character() {
        let mut out = Builder::<true>::with_capacity(0);
        assert_eq!(out.last_char(), None);
        for c in ['a', ' ', 'é', 'я', 'ي', '傻', '\u{20000}', '😀', 'z'] {
            out.push(c, 0, 1, 1);
            assert_eq!(out.last_char(), Some(c));
        }
    }

    #[test]
    fn runs_and_joins_are_recorded() {
        let n = Normalized::new("fuuuck boob bob");
        assert_eq!(n.as_str(), "fuck bob bob");
        assert_eq!(n.run_len(1), 3);
        assert_eq!(n.run_len(0), 1);
        assert_eq!(n.run_len(6), 2);
        assert_eq!(n.run_len(10), 1);
        let j = Normalized::new("you f u c k er");
        assert_eq!(j.as_str(), "you fuck er");
        assert!(j.is_joined(4) && j.is_joined(7) && !j.is_joined(0));
        assert!(j.is_word_start(5) && j.is_word_end(7));
        assert!(!j.is_word_start(1));
    }

    #[test]
    fn offsets_map_back_to_the_original() {
        let text = "Hey ｓ\u{200B}ｈ1ｔ!";
        let n = Normalized::new(text);
        assert_eq!(n.as_str(), "hey shit");
        let range = n.original_range(4, 8);
        assert_eq!(&text[range], "ｓ\u{200B}ｈ1ｔ");
        let spaced = "a b s h i t c";
        let n = Normalized::new(spaced);
        let at = n.as_str().find("shit").unwrap();
        assert_eq!(&spaced[n.original_range(at, at + 4)], "s h i t");
        assert_eq!(n.original_range(100, 200), spaced.len()..spaced.len());
    }

    /// Texts of the bytes the ASCII path treats differently: letters of both cases, repeats, leet digits and
    /// symbols, separators of each kind, line breaks.
    fn tricky_ascii() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                proptest::sample::select(vec![
                    "a", "A", "b", "s", "S", "h", "i", "t", "f", "u", "c", "k", "o", "z",
                ]),
                proptest::sample::select(vec![
                    "0", "1", "2", "3", "4", "5", "7", "9", "@", "$", "!", "*", " ", "  ", ".",
                    "-", "_", "'", "\n", ",", "\t", "\u{1}", "~",
                ]),
                proptest::sample::select(vec!["ss", "ooo", "Shit", "fUcK", "a b c", "l 0 s e r"]),
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    /// The ASCII path gives exactly what the general path gives: the matching form and joins without the offset
    /// map (as [`Normalized::new`] runs it), and with it, as it is built when first needed (offsets and runs).
    fn assert_ascii_path_equals_the_general_path(text: &str) -> Result<(), TestCaseError> {
        let general = new_general(text);
        let fast = Normalized::new(text);
        prop_assert!(
            fast.slots.get().is_none(),
            "the map is built only when needed"
        );
        prop_assert_eq!(fast.as_str(), general.as_str());
        prop_assert_eq!(fast.joined, general.joined);
        for i in 0..fast.as_str().len() + 2 {
            prop_assert_eq!(fast.run_len(i), general.run_len(i), "run at {}", i);
        }
        prop_assert!(fast.slots.get().is_none(), "runs are known without the map");
        let (text, slots, joined) = new_ascii::<true>(text.as_bytes()).finish();
        prop_assert_eq!(text.as_str(), general.as_str());
        prop_assert_eq!(joined, general.joined);
        prop_assert_eq!(slots.as_slice(), general.slots());
        prop_assert_eq!(fast, general);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// The ASCII path gives exactly what the general path gives: matching form, offsets, runs and joins.
        #[test]
        fn ascii_path_equals_the_general_path(text in tricky_ascii()) {
            assert_ascii_path_equals_the_general_path(&text)?;
        }

        /// The same on long words with repeated letters (the eight-bytes-at-a-time path and its ends).
        #[test]
        fn ascii_path_equals_the_general_path_on_long_words(
            text in "([aAbBoOsStT]{1,19}[ .,1@*]{1,2}){0,6}[aAbBoOsStTxyz]{0,19}"
        ) {
            assert_ascii_path_equals_the_general_path(&text)?;
        }

        /// The same on any printable ASCII.
        #[test]
        fn ascii_path_equals_the_general_path_on_any_ascii(text in "[ -~\n\t]{0,40}") {
            assert_ascii_path_equals_the_general_path(&text)?;
        }
    }

    #[test]
    fn ordinary_text_is_left_readable() {
        assert_eq!(
            form("I have 3 cats and 2 dogs."),
            "i have 3 cats and 2 dogs"
        );
        assert_eq!(form("Le café est très bon"), "le cafe est tres bon");
        assert_eq!(form("Привет, как дела?"), "привет как дела");
        assert_eq!(form("  \u{200B} "), "");
        assert_eq!(form("i am a boy"), "i am a boy");
        assert_eq!(form("a b\nc"), "a b c");
        assert_eq!(form("room 1 a b"), "rom 1 a b");
        assert_eq!(form("i got 4 a b c"), "i got 4 abc");
        assert_eq!(form("a b c 1"), "abc 1");
        assert_eq!(form("x y 2 z"), "x y 2 z");
    }
}
