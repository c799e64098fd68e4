//! The fast model's features: hashed word and character n-grams, the Rust twin of
//! `models/toxicity/features.py` (which is the specification, and which the model was trained with).
//!
//! 1. Normalise: Unicode NFKC; drop invisible characters; lower-case character by character; whitespace runs
//!    become one space, none at the start; a character repeated more than three times is kept three times; stop
//!    after [`INPUT_CHARS`] characters so kept, and drop a trailing space; then `@name` (ASCII) becomes `@user`
//!    and a word starting `http://`, `https://` or `www.` becomes `url`; the result is cut after [`MAX_CHARS`]
//!    characters.
//! 2. Words: maximal runs of characters that are neither a space nor punctuation.
//! 3. Features: CRC-32 of a one-byte kind and the UTF-8 bytes, modulo [`BUCKETS`]: `w` + word, `b` + word,
//!    space, next word, `c` + every 2-, 3- and 4-character substring of the text with a space at each end.
//! 4. Values: a bucket hit `k` times weighs `1 + ln k`; the vector is divided by its L2 norm (computed in `f64`,
//!    handed to the model as `f32`), buckets in increasing order.
//!
//! The test `text_model_parity` checks that both sides give the same buckets and values on
//! `fixtures/text/toxicity_parity.jsonl`. (Python 3.11 normalises with Unicode 14 tables, Rust with newer ones:
//! only characters added since then could differ.)

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// The number of hash buckets (the model's input dimension).
pub const BUCKETS: u32 = 1 << 18;

/// Characters of the normalised text that are used; the rest is ignored.
pub const MAX_CHARS: usize = 1000;

/// Characters kept by the first normalisation pass (after invisible characters, whitespace runs and long
/// repeats are dropped); the rest of the input is not read.
pub const INPUT_CHARS: usize = 4000;

const CHAR_NGRAMS: [usize; 3] = [2, 3, 4];

/// The invisible characters of `features.py`'s `INVISIBLE`. Deliberately not the text engine's
/// `normalize::is_invisible`: this set is part of the trained model's specification and must only change together
/// with `features.py` and a retrained model, whatever the lexicon normaliser learns to drop.
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
            | '\u{180B}'..='\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
}

fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t'
            | '\n'
            | '\r'
            | '\u{0B}'
            | '\u{0C}'
            | '\u{85}'
            | '\u{A0}'
            | '\u{1680}'
            | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

fn is_punctuation(c: char) -> bool {
    matches!(
        c,
        '!' | '"'
            | '$'
            | '%'
            | '&'
            | '('
            | ')'
            | '*'
            | '+'
            | ','
            | '-'
            | '.'
            | '/'
            | ':'
            | ';'
            | '<'
            | '='
            | '>'
            | '?'
            | '['
            | '\\'
            | ']'
            | '^'
            | '`'
            | '{'
            | '|'
            | '}'
            | '~'
            | '\u{A1}'
            | '\u{AB}'
            | '\u{BB}'
            | '\u{BF}'
            | '\u{060C}'
            | '\u{061B}'
            | '\u{061F}'
            | '\u{06D4}'
            | '\u{2013}'
            | '\u{2014}'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{201C}'
            | '\u{201D}'
            | '\u{2026}'
            | '\u{3001}'
            | '\u{3002}'
            | '\u{300A}'
            ..='\u{300F}'
                | '\u{3010}'
                | '\u{3011}'
                | '\u{FF01}'
                | '\u{FF08}'
                | '\u{FF09}'
                | '\u{FF0C}'
                | '\u{FF1A}'
                | '\u{FF1B}'
                | '\u{FF1F}'
    )
}

fn is_mention_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Step 1: the text the features are taken from.
pub fn normalize(text: &str) -> String {
    // Invisible characters, whitespace runs and long repeats are removed before the length limit counts, so
    // padding cannot push words out of sight. The input is read only until the limit is reached.
    let mut spaced = String::with_capacity(text.len().min(INPUT_CHARS * 4));
    let mut kept = 0usize;
    let mut last = None;
    let mut run = 0usize;
    'input: for c in text.nfkc() {
        if is_invisible(c) {
            continue;
        }
        if is_space(c) {
            if kept > 0 && last != Some(' ') {
                spaced.push(' ');
                kept += 1;
                last = Some(' ');
                run = 1;
            }
        } else {
            for lower in c.to_lowercase() {
                run = if last == Some(lower) { run + 1 } else { 1 };
                last = Some(lower);
                if run <= 3 {
                    spaced.push(lower);
                    kept += 1;
                }
                if kept == INPUT_CHARS {
                    break 'input;
                }
            }
        }
        if kept == INPUT_CHARS {
            break;
        }
    }
    while spaced.ends_with(' ') {
        spaced.pop();
    }
    let mut joined = String::with_capacity(spaced.len());
    if !spaced.is_empty() {
        for (i, word) in spaced.split(' ').enumerate() {
            if i > 0 {
                joined.push(' ');
            }
            if word.starts_with("http://")
                || word.starts_with("https://")
                || word.starts_with("www.")
            {
                joined.push_str("url");
            } else {
                push_mentions(&mut joined, word);
            }
        }
    }
    match joined.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => joined.get(..at).map(str::to_owned).unwrap_or(joined),
        None => joined,
    }
}

fn push_mentions(out: &mut String, word: &str) {
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '@' && chars.peek().is_some_and(|&n| is_mention_char(n)) {
            while chars.peek().is_some_and(|&n| is_mention_char(n)) {
                chars.next();
            }
            out.push_str("@user");
        } else {
            out.push(c);
        }
    }
}

/// Step 2: the words of a normalised text.
pub fn words(normalized: &str) -> Vec<&str> {
    normalized
        .split(|c: char| c == ' ' || is_punctuation(c))
        .filter(|w| !w.is_empty())
        .collect()
}

fn bucket(kind: u8, parts: &[&str]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&[kind]);
    for part in parts {
        hasher.update(part.as_bytes());
    }
    hasher.finalize() & (BUCKETS - 1)
}

/// A text's features: buckets in increasing order and their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// The buckets hit, in increasing order.
    pub ids: Vec<i64>,
    /// Each bucket's value; the vector has L2 norm 1.
    pub values: Vec<f32>,
}

/// Steps 1–4 for one text.
pub fn features(text: &str) -> Features {
    let normalized = normalize(text);
    let mut counts: HashMap<u32, u32> = HashMap::new();
    let ws = words(&normalized);
    for w in &ws {
        *counts.entry(bucket(b'w', &[w])).or_default() += 1;
    }
    for pair in ws.windows(2) {
        if let [a, b] = pair {
            *counts.entry(bucket(b'b', &[a, " ", b])).or_default() += 1;
        }
    }
    let mut padded = String::with_capacity(normalized.len() + 2);
    padded.push(' ');
    padded.push_str(&normalized);
    padded.push(' ');
    let bounds: Vec<usize> = padded
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(padded.len()))
        .collect();
    let chars = bounds.len() - 1;
    for n in CHAR_NGRAMS {
        for start in 0..(chars + 1).saturating_sub(n) {
            if let (Some(&from), Some(&to)) = (bounds.get(start), bounds.get(start + n))
                && let Some(gram) = padded.get(from..to)
            {
                *counts.entry(bucket(b'c', &[gram])).or_default() += 1;
            }
        }
    }
    let mut ids: Vec<u32> = counts.keys().copied().collect();
    ids.sort_unstable();
    let raw: Vec<f64> = ids
        .iter()
        .map(|id| 1.0 + f64::from(counts.get(id).copied().unwrap_or(1)).ln())
        .collect();
    let norm = raw.iter().map(|v| v * v).sum::<f64>().sqrt();
    let values = raw
        .iter()
        .map(|v| if norm > 0.0 { (v / norm) as f32 } else { 0.0 })
        .collect();
    Features {
        ids: ids.into_iter().map(i64::from).collect(),
        values,
    }
}

/// Characters of a message the transformer's tokenizer is given (it then keeps the manifest's `max_tokens`).
pub const TRANSFORMER_CHARS: usize = 4000;

/// What the transformer's tokenizer is given, as `features.py`'s `transformer_input`: invisible characters
/// dropped and whitespace runs as one space before the first [`TRANSFORMER_CHARS`] characters are taken, so
/// padding cannot push words out of sight.
pub fn transformer_input(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(TRANSFORMER_CHARS * 4));
    let mut kept = 0usize;
    for c in text.chars() {
        if kept == TRANSFORMER_CHARS {
            break;
        }
        if is_invisible(c) {
            continue;
        }
        if is_space(c) {
            if kept > 0 && !out.ends_with(' ') {
                out.push(' ');
                kept += 1;
            }
            continue;
        }
        out.push(c);
        kept += 1;
    }
    out
}
