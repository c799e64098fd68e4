//! Personal-information detection: phone numbers, e-mail addresses, street addresses, payment card numbers and
//! precise coordinates in what a child is about to send, in the six languages (ar, en, es, fr, ru, zh).
//!
//! [`PiiDetector::find`] returns byte spans and kinds, never the text itself, so that a caller can mask or report
//! a span without copying the child's personal data anywhere. It must never panic, whatever the input.
//!
//! How it works, and why:
//!
//! - **Prefilter.** One pass over the bytes looks for digits (ASCII, Arabic-Indic `٠-٩`, Persian `۰-۹`,
//!   full-width `０-９`) and `@`/`＠`. Every kind but e-mail needs a digit; e-mail needs `@` or, for the
//!   obfuscated forms (`name at gmail dot com`, `name (at) mail [dot] ru`, `name собака mail.ru`), one of a few
//!   literal cues found by one literal search. Text with none of them (most chat) costs that pass and no more.
//! - **Candidates, then checks in Rust.** The `regex` crate has no look-around, so the regexes only find
//!   candidates (runs of digits and separators, `local@domain`, `51.5007, -0.1246`, number + street word); the
//!   rules that separate a phone number from a date, a price, a score, an IP address or a list of years, the Luhn
//!   check for cards and the range checks for coordinates run on the candidate afterwards.
//! - **Precision as much as recall.** Children's chat is full of numbers. Years, times, dates, prices, scores,
//!   percentages, version numbers, IPv4 addresses, counts, "level 55", "route 66", "Room 101" and 16-digit
//!   numbers that fail the Luhn check are not reported (see the tests for the full tables).
//!
//! Known limits: a phone number needs 7-12 digits in at least two groups that do not read as a date, a range, a
//! thousands-separated number or a list (or 8-15 digits after `+`), or 9-12 ungrouped digits with a national
//! shape (a leading `0`, `1[3-9]` for Chinese mobiles, `8` for Russian ones, 10 digits starting `2`-`9`, or 9
//! digits starting `6`/`7` for Spanish mobiles), so short local numbers such as `555-1234` are missed; addresses need a house number next to a
//! street word (`Baker Street 221B`, `Ленинский проспект, 12` and addresses written without a street word are
//! missed); coordinates need a pair, with at least 3 decimals or in degrees-minutes-seconds.

use std::sync::{Arc, LazyLock};

use regex::{Captures, Regex};

/// A kind of personal information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PiiKind {
    /// A phone number, international (`+44 20 7946 0958`) or national (`020 7946 0958`, `13800138000`).
    Phone,
    /// An e-mail address, including obfuscated forms such as `name at gmail dot com`.
    Email,
    /// A street address: a house number and a street (`221B Baker Street`, `calle Mayor 5`, `建国路88号`).
    StreetAddress,
    /// A payment card number: 13 to 19 digits, optionally grouped, that pass the Luhn check.
    PaymentCard,
    /// Precise coordinates: a decimal pair with at least 3 decimals, or degrees, minutes and seconds.
    Coordinates,
}

impl PiiKind {
    /// Every kind, in a fixed order.
    pub const ALL: [PiiKind; 5] = [
        PiiKind::Phone,
        PiiKind::Email,
        PiiKind::StreetAddress,
        PiiKind::PaymentCard,
        PiiKind::Coordinates,
    ];

    /// The stable identifier (as in serialised form): `phone`, `email`, `street_address`, `payment_card`,
    /// `coordinates`.
    pub fn id(self) -> &'static str {
        match self {
            PiiKind::Phone => "phone",
            PiiKind::Email => "email",
            PiiKind::StreetAddress => "street_address",
            PiiKind::PaymentCard => "payment_card",
            PiiKind::Coordinates => "coordinates",
        }
    }

    /// When two candidates overlap, the one whose kind comes first here wins (an e-mail address that contains
    /// digits is an e-mail address, not a phone number; a Luhn-valid 16-digit number is a card, not a phone).
    fn priority(self) -> u8 {
        match self {
            PiiKind::Email => 0,
            PiiKind::PaymentCard => 1,
            PiiKind::Coordinates => 2,
            PiiKind::StreetAddress => 3,
            PiiKind::Phone => 4,
        }
    }
}

/// One piece of personal information found in a text: its kind and where it is. Holds no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PiiMatch {
    /// What was found.
    pub kind: PiiKind,
    /// Byte offset of the first byte of the match in the input (on a `char` boundary).
    pub start: usize,
    /// Byte offset just past the match (on a `char` boundary); `text[start..end]` is the match.
    pub end: usize,
}

/// Finds personal information in text.
///
/// The regexes are compiled once per process and shared; the detector is cheap to clone (an [`Arc`] inside) and
/// can be used from any number of threads at once.
///
/// ```
/// use haven_core::text::pii::{PiiDetector, PiiKind};
///
/// let detector = PiiDetector::new();
/// let text = "call me on +44 20 7946 0958 or write to mia.k@example.com";
/// let found = detector.find(text);
/// assert_eq!(found.len(), 2);
/// assert_eq!(found[0].kind, PiiKind::Phone);
/// assert_eq!(&text[found[0].start..found[0].end], "+44 20 7946 0958");
/// assert_eq!(found[1].kind, PiiKind::Email);
/// assert_eq!(&text[found[1].start..found[1].end], "mia.k@example.com");
///
/// // Numbers that are not personal information are left alone.
/// assert!(detector.find("it's 10:30 on 12/05/2024, I scored 3-2 and paid £12.50 at level 55").is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct PiiDetector {
    patterns: Arc<Patterns>,
}

impl Default for PiiDetector {
    fn default() -> Self {
        PiiDetector::new()
    }
}

impl PiiDetector {
    /// A detector. The first call in a process compiles the patterns (a few milliseconds); later calls share them.
    pub fn new() -> PiiDetector {
        PiiDetector {
            patterns: Arc::clone(&SHARED),
        }
    }

    /// Every piece of personal information in `text`, sorted by start and non-overlapping. Never panics.
    pub fn find(&self, text: &str) -> Vec<PiiMatch> {
        let cues = Cues::scan(text.as_bytes());
        let p = &*self.patterns;
        let mut found = Vec::new();
        if cues.at || cues.bracket || p.email_cue.is_match(text) {
            emails(p, text, &mut found);
        }
        if cues.digit {
            digit_runs(p, text, &mut found);
            coordinates(p, text, &mut found);
            addresses(p, text, &mut found);
        }
        resolve(found)
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Patterns.

/// A decimal digit in any of the scripts children type them in: ASCII, Arabic-Indic, Persian (Extended
/// Arabic-Indic) and full-width.
macro_rules! d {
    () => {
        r"[0-9\x{0660}-\x{0669}\x{06F0}-\x{06F9}\x{FF10}-\x{FF19}]"
    };
}

/// A word of a street name in a Latin or Cyrillic script (any case).
macro_rules! word {
    () => {
        r"\p{L}[\p{L}\p{M}'’\-]*"
    };
}

/// A capitalised word of a street name.
macro_rules! cap_word {
    () => {
        r"\p{Lu}[\p{L}\p{M}'’\-]*"
    };
}

/// Articles and prepositions inside French and Spanish street names.
macro_rules! particle {
    () => {
        r"(?i:de\s+la|de\s+los|de\s+las|de\s+l['’]|del|des|de|du|d['’]|la|le|les)"
    };
}

/// Runs of digits and the separators phone and card numbers are written with (spaces, dots, hyphens,
/// brackets), optionally after `+` or `(`.
const DIGIT_RUN: &str = concat!(
    r"[+＋(（]?",
    d!(),
    r"(?:[ \x{00A0}.\-‐‑–－()（）]{0,3}",
    d!(),
    r")*"
);

/// `local@domain.tld`, with Unicode letters in both parts (IDN).
const EMAIL: &str = r"[\p{L}\p{N}_%+\-][\p{L}\p{N}._%+\-]*[@＠](?:[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}\-]*[\p{L}\p{M}\p{N}])?\.)+(?:\p{L}[\p{L}\p{M}]+|xn--[a-z0-9\-]+)";

/// Obfuscated e-mail addresses: `name at gmail dot com`, `name (at) mail [dot] ru`, `name собака mail.ru`,
/// `name @ gmail . com`. The captures are checked in Rust (known TLD; a known provider for the bare-word forms).
const EMAIL_OBFUSCATED: &str = concat!(
    r"[\p{L}\p{N}_%+\-][\p{L}\p{N}._%+\-]*",
    r"(?P<at>\s*[(\[{<]\s*(?i:at|собака|arroba|arobase)\s*[)\]}>]\s*|\s+(?i:at|собака|arroba|arobase)\s+|\s*[@＠]\s*)",
    r"(?P<domain>[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?",
    r"(?:(?:\s*[(\[{<]\s*(?i:dot|точка|punto|point)\s*[)\]}>]\s*|\s+(?i:dot|точка|punto|point)\s+|\s*\.\s*)",
    r"[\p{L}\p{N}](?:[\p{L}\p{N}\-]*[\p{L}\p{N}])?)+)",
);

/// Without `@` or a bracket (found by the byte scan), [`EMAIL_OBFUSCATED`] cannot produce a match that passes the
/// checks unless the text names one of the [`PROVIDERS`] the bare-word forms need (`mail` covers `gmail`,
/// `hotmail`, `googlemail`, `protonmail`). Plain literals, so the search is a fast literal scan.
const EMAIL_CUE: &str =
    r"(?i)mail|yahoo|outlook|icloud|yandex|rambler|qq|aol|gmx|laposte|wanadoo|inbox";

/// A decimal coordinate pair: `51.5007, -0.1246`, `51.5007° N, 0.1246° W`.
const COORD_DECIMAL: &str = concat!(
    r"(?P<lat>[-−]?",
    d!(),
    r"{1,3}\.",
    d!(),
    r"{3,12})(?:\s?°)?(?:\s?(?P<ns>[NSns]))?(?P<sep>\s*[,，]\s*|\s+)(?P<lon>[-−]?",
    d!(),
    r"{1,3}\.",
    d!(),
    r"{3,12})(?:\s?°)?(?:\s?(?P<ew>[EWOewo]))?"
);

/// One coordinate in degrees, minutes and (optionally) seconds: `51°30'02.5"N`.
macro_rules! dms {
    ($deg:literal, $min:literal, $sec:literal, $hem:literal) => {
        concat!(
            "(?P<",
            $deg,
            ">",
            d!(),
            "{1,3})\\s?°\\s?(?P<",
            $min,
            ">",
            d!(),
            "{1,2})\\s?['′’]\\s?(?:(?P<",
            $sec,
            ">",
            d!(),
            "{1,2}(?:[.,]",
            d!(),
            "{1,4})?)\\s?(?:[\"″”]|''|′′|’’))?\\s?(?P<",
            $hem,
            ">[NSEWOnsewo])"
        )
    };
}

/// A degrees-minutes-seconds pair: `51°30'02.5"N 0°07'28.6"W`.
const COORD_DMS: &str = concat!(
    dms!("d1", "m1", "s1", "h1"),
    r"[\s,，]*",
    dms!("d2", "m2", "s2", "h2")
);

/// English: house number, one to three name words, street word (`221B Baker Street`, `12 Oak Ave`).
const ADDR_EN: &str = concat!(
    r"(?P<num>",
    d!(),
    r"{1,5}[A-Za-z]?)\s+(?P<name>(?:",
    word!(),
    r"\s+){1,3})(?P<type>(?i:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|court|ct|place|pl|way|close|crescent|terrace|gardens|square|sq|highway|hwy|parkway|pkwy|row|mews|grove))"
);

/// Spanish and French, street word first: `calle Mayor 5`, `Calle de Alcalá, 23`, `avenue des Champs-Élysées 8`.
const ADDR_TYPE_FIRST: &str = concat!(
    r"(?P<type>(?i:calle|c/|avenida|avda\.?|paseo|plaza|camino|carretera|ronda|travesía|pasaje|rue|avenue|boulevard|bd|allée|chemin|impasse|quai))\s+(?:",
    particle!(),
    r"\s*)?(?P<name>",
    word!(),
    r"(?:\s+",
    cap_word!(),
    r"){0,3})\s*,?\s*(?:(?i:n[º°o]\.?|núm\.?|número)\s*)?(?P<num>",
    d!(),
    r"{1,4}[A-Za-z]?)"
);

/// French, number first: `15 rue de la Paix`, `8 avenue des Champs-Élysées`, `3 bis place d'Italie`.
const ADDR_FR: &str = concat!(
    r"(?P<num>",
    d!(),
    r"{1,4}(?:\s?(?i:bis|ter))?)\s*,?\s+(?P<type>(?i:rue|avenue|av\.|boulevard|bd|place|allée|allee|chemin|impasse|quai|route|cours|square))\s+(?P<part>",
    particle!(),
    r"\s*)?(?P<name>",
    word!(),
    r"(?:[ \-]",
    cap_word!(),
    r"){0,3})"
);

/// Russian: `ул. Ленина, д. 5`, `улица Пушкина 10`, `пр-т Мира 12/3`.
const ADDR_RU: &str = concat!(
    r"(?P<type>(?i:улиц[аеуы]|ул\.|ул\s|проспект[аеу]?|просп\.|пр-т|пр\.|переулок|пер\.|шоссе|ш\.|бульвар|б-р|набережная|наб\.|площадь|пл\.))\s*(?P<name>",
    word!(),
    r"(?:\s+",
    cap_word!(),
    r"){0,2})\s*,?\s*(?:(?i:д\.|дом)\s*)?(?P<num>",
    d!(),
    r"{1,4}[а-яА-Я]?(?:/",
    d!(),
    r"{1,4})?)"
);

/// Arabic, street word first: `شارع الملك فهد 12`, `شارع الملك فهد، رقم ١٢`.
const ADDR_AR: &str = concat!(
    r"(?P<type>شارع|طريق|جادة)(?:\s+[\p{Arabic}&&[\p{L}\p{M}]]+){1,3}\s*[،,]?\s*(?:رقم\s*)?(?P<num>",
    d!(),
    r"{1,4})"
);

/// Arabic, number first: `12 شارع الملك فهد`.
const ADDR_AR_NUMBER_FIRST: &str = concat!(
    r"(?P<num>",
    d!(),
    r"{1,4})\s*[،,]?\s*(?:شارع|طريق)(?:\s+[\p{Arabic}&&[\p{L}\p{M}]]+){1,2}"
);

/// Chinese: the road word, the number and 号 (`路88号`); the name before it is found in Rust.
const ADDR_ZH: &str = concat!(r"(?:大道|大街|路|街|巷|弄|胡同)\s?", d!(), r"{1,5}\s?号");

/// Every pattern, for the test that proves they all compile.
#[cfg(test)]
pub(crate) const ALL_PATTERNS: [&str; 13] = [
    DIGIT_RUN,
    EMAIL,
    EMAIL_OBFUSCATED,
    EMAIL_CUE,
    COORD_DECIMAL,
    COORD_DMS,
    ADDR_EN,
    ADDR_TYPE_FIRST,
    ADDR_FR,
    ADDR_RU,
    ADDR_AR,
    ADDR_AR_NUMBER_FIRST,
    ADDR_ZH,
];

#[derive(Debug)]
struct Patterns {
    digit_run: Regex,
    email: Regex,
    email_obfuscated: Regex,
    email_cue: Regex,
    coord_decimal: Regex,
    coord_dms: Regex,
    addr_en: Regex,
    addr_type_first: Regex,
    addr_fr: Regex,
    addr_ru: Regex,
    addr_ar: Regex,
    addr_ar_number_first: Regex,
    addr_zh: Regex,
}

static SHARED: LazyLock<Arc<Patterns>> = LazyLock::new(|| Arc::new(Patterns::compile()));

impl Patterns {
    /// Compiles the constant patterns.
    ///
    /// `expect` cannot fire: the patterns are compile-time constants, and the test `every_pattern_compiles`
    /// compiles each of them with the same `Regex::new`, so a pattern that does not compile fails the test suite
    /// rather than a child's device. No input reaches this function.
    #[allow(clippy::expect_used)]
    fn compile() -> Patterns {
        let re = |pattern: &str| Regex::new(pattern).expect("constant pattern, compiled by a test");
        Patterns {
            digit_run: re(DIGIT_RUN),
            email: re(EMAIL),
            email_obfuscated: re(EMAIL_OBFUSCATED),
            email_cue: re(EMAIL_CUE),
            coord_decimal: re(COORD_DECIMAL),
            coord_dms: re(COORD_DMS),
            addr_en: re(ADDR_EN),
            addr_type_first: re(ADDR_TYPE_FIRST),
            addr_fr: re(ADDR_FR),
            addr_ru: re(ADDR_RU),
            addr_ar: re(ADDR_AR),
            addr_ar_number_first: re(ADDR_AR_NUMBER_FIRST),
            addr_zh: re(ADDR_ZH),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Prefilter.

/// What one pass over the bytes found.
struct Cues {
    digit: bool,
    at: bool,
    /// `(`, `[`, `{` or `<`: the bracketed obfuscations (`name (at) mail [dot] ru`).
    bracket: bool,
}

impl Cues {
    fn scan(bytes: &[u8]) -> Cues {
        let mut cues = Cues {
            digit: false,
            at: false,
            bracket: false,
        };
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b < 0x80 {
                cues.digit |= b.is_ascii_digit();
                cues.at |= b == b'@';
                cues.bracket |= matches!(b, b'(' | b'[' | b'{' | b'<');
            } else {
                match (b, bytes.get(i + 1), bytes.get(i + 2)) {
                    // U+0660..U+0669 and U+06F0..U+06F9.
                    (0xD9, Some(0xA0..=0xA9), _) | (0xDB, Some(0xB0..=0xB9), _) => {
                        cues.digit = true
                    }
                    // U+FF10..U+FF19.
                    (0xEF, Some(0xBC), Some(0x90..=0x99)) => cues.digit = true,
                    // U+FF20 (＠).
                    (0xEF, Some(0xBC), Some(0xA0)) => cues.at = true,
                    _ => {}
                }
            }
            if cues.digit && cues.at && cues.bracket {
                break;
            }
            i += 1;
        }
        cues
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers.

/// The value of a decimal digit in any of the scripts of [`d!`].
fn digit_value(c: char) -> Option<u8> {
    let base = match c {
        '0'..='9' => '0',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        _ => return None,
    };
    u8::try_from(u32::from(c) - u32::from(base)).ok()
}

fn is_digit(c: char) -> bool {
    digit_value(c).is_some()
}

/// Chinese, Japanese and Korean characters: they are written without spaces, so a number right after one is
/// still a separate token (`电话13800138000`).
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{9FFF}' | '\u{AC00}'..='\u{D7AF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF01}'..='\u{FF0F}'
        | '\u{FF1A}'..='\u{FF20}' | '\u{20000}'..='\u{2FFFF}')
}

/// A letter or digit that glues onto a number (`abc123`, `123abc`), so the number is part of a larger token.
fn is_word_char(c: char) -> bool {
    (c.is_alphanumeric() || c == '_') && !is_cjk(c)
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text.get(..at).and_then(|s| s.chars().next_back())
}

fn char_after(text: &str, at: usize) -> Option<char> {
    text.get(at..).and_then(|s| s.chars().next())
}

/// Whether the number-like span `start..end` stands on its own: not glued to a word, a currency sign, a decimal
/// point or a unit.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before_ok = match char_before(text, start) {
        None => true,
        Some(c) if is_word_char(c) => false,
        Some(
            '-' | '‐' | '‑' | '–' | '/' | '\\' | '$' | '£' | '€' | '¥' | '₽' | '#' | '№' | '@'
            | '&' | '=',
        ) => false,
        Some('.' | ',') => !char_before(text, start - 1).is_some_and(is_digit),
        Some(_) => true,
    };
    let after_ok = match char_after(text, end) {
        None => true,
        Some(c) if is_word_char(c) => false,
        Some('%' | '‰' | '°' | '/' | '\\' | '@' | '$' | '£' | '€' | '¥' | '₽') => false,
        Some(c @ ('.' | ',' | ':' | '-')) => {
            !char_after(text, end + c.len_utf8()).is_some_and(is_digit)
        }
        Some(_) => true,
    };
    before_ok && after_ok
}

/// The decimal number in `s` (digits of any script, `.`, and `-`/`−` as sign).
fn parse_decimal(s: &str) -> Option<f64> {
    let ascii: String = s
        .chars()
        .filter_map(|c| match c {
            '−' | '-' => Some('-'),
            '.' => Some('.'),
            ',' => Some('.'),
            c => digit_value(c).map(|v| char::from(b'0' + v)),
        })
        .collect();
    ascii.parse().ok()
}

fn push(found: &mut Vec<PiiMatch>, kind: PiiKind, start: usize, end: usize) {
    if start < end {
        found.push(PiiMatch { kind, start, end });
    }
}

/// Keeps the best of overlapping candidates (by kind priority, then earliest, then longest) and sorts by start.
fn resolve(mut found: Vec<PiiMatch>) -> Vec<PiiMatch> {
    found.sort_by_key(|m| (m.kind.priority(), m.start, std::cmp::Reverse(m.end)));
    let mut kept: Vec<PiiMatch> = Vec::with_capacity(found.len());
    for m in found {
        if kept.iter().all(|k| m.end <= k.start || k.end <= m.start) {
            kept.push(m);
        }
    }
    kept.sort_by_key(|m| m.start);
    kept
}

// ---------------------------------------------------------------------------------------------------------------
// E-mail.

/// Top-level domains accepted in obfuscated addresses (a plain `@` address accepts any).
const KNOWN_TLDS: &[&str] = &[
    "com", "net", "org", "edu", "gov", "info", "io", "me", "co", "uk", "fr", "es", "ru", "cn",
    "ae", "sa", "eg", "ma", "dz", "tn", "qa", "kw", "jo", "lb", "om", "bh", "de", "it", "be", "ch",
    "ca", "us", "au", "mx", "ar", "cl", "pe", "su", "by", "kz", "ua", "tw", "hk", "рф",
];

/// Mail providers that make a bare-word obfuscation (`name at gmail dot com`) credible.
const PROVIDERS: &[&str] = &[
    "gmail",
    "googlemail",
    "yahoo",
    "hotmail",
    "outlook",
    "icloud",
    "mail",
    "yandex",
    "rambler",
    "qq",
    "aol",
    "gmx",
    "laposte",
    "wanadoo",
    "inbox",
    "protonmail",
];

fn emails(p: &Patterns, text: &str, found: &mut Vec<PiiMatch>) {
    for m in p.email.find_iter(text) {
        let at = m
            .as_str()
            .find(['@', '＠'])
            .map_or(m.start(), |i| m.start() + i);
        push(
            found,
            PiiKind::Email,
            local_start(text, m.start(), at),
            m.end(),
        );
    }
    for caps in p.email_obfuscated.captures_iter(text) {
        if let Some((start, end)) = obfuscated_email(text, &caps) {
            push(found, PiiKind::Email, start, end);
        }
    }
}

/// Chinese and Japanese are written without spaces, so `我的邮箱是abc@qq.com` reaches the regex as one local part:
/// the address starts after the last CJK character (unless the whole local part is CJK).
fn local_start(text: &str, start: usize, at: usize) -> usize {
    let Some(local) = text.get(start..at) else {
        return start;
    };
    match local.char_indices().rev().find(|&(_, c)| is_cjk(c)) {
        Some((i, c)) if start + i + c.len_utf8() < at => start + i + c.len_utf8(),
        _ => start,
    }
}

fn obfuscated_email(text: &str, caps: &Captures<'_>) -> Option<(usize, usize)> {
    let whole = caps.get(0)?;
    let at = caps.name("at")?;
    let domain = caps.name("domain")?;
    // Labels with their end offsets; the separator words themselves are not labels.
    let mut labels: Vec<(String, usize)> = Vec::new();
    let mut label_start: Option<usize> = None;
    let flush = |labels: &mut Vec<(String, usize)>, from: Option<usize>, to: usize| {
        if let Some(from) = from {
            let label = domain
                .as_str()
                .get(from..to)
                .unwrap_or_default()
                .to_lowercase();
            if !matches!(label.as_str(), "dot" | "точка" | "punto" | "point") {
                labels.push((label, domain.start() + to));
            }
        }
    };
    for (i, c) in domain.as_str().char_indices() {
        if c.is_alphanumeric() || c == '-' {
            label_start.get_or_insert(i);
        } else {
            flush(&mut labels, label_start.take(), i);
        }
    }
    flush(&mut labels, label_start.take(), domain.as_str().len());
    // The longest run of labels that ends in a known TLD (`gmail dot com. Thanks` ends at `com`).
    let last = labels
        .iter()
        .enumerate()
        .skip(1)
        .rev()
        .find(|(_, (label, _))| KNOWN_TLDS.contains(&label.as_str()))
        .map(|(i, _)| i)?;
    let end = labels.get(last)?.1;
    let bare_word = !at.as_str().contains(['@', '＠', '(', '[', '{', '<']);
    if bare_word
        && !labels
            .first()
            .is_some_and(|(l, _)| PROVIDERS.contains(&l.as_str()))
    {
        return None;
    }
    Some((local_start(text, whole.start(), at.start()), end))
}

// ---------------------------------------------------------------------------------------------------------------
// Phone numbers and payment cards.

/// A run of digits inside a candidate.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
    digits: usize,
    first: u8,
}

/// A candidate split at strong breaks: groups of digits and the (normalised) separators between them.
#[derive(Debug, Default)]
struct Segment {
    /// Byte offset where the segment starts (the `+` or `(` if it has one).
    start: usize,
    plus: bool,
    open_paren: bool,
    groups: Vec<Group>,
    /// `seps[i]` sits between `groups[i]` and `groups[i + 1]`.
    seps: Vec<String>,
    /// All the digits' values, in order.
    values: Vec<u8>,
}

impl Segment {
    fn end(&self) -> usize {
        self.groups.last().map_or(self.start, |g| g.end)
    }

    fn digits(&self) -> usize {
        self.values.len()
    }

    fn has_parens(&self) -> bool {
        self.open_paren || self.seps.iter().any(|s| s.contains(['(', ')']))
    }

    /// The segment without its first or last group.
    fn without(&self, first: bool) -> Option<Segment> {
        if self.groups.len() < 2 {
            return None;
        }
        let mut groups = self.groups.clone();
        let mut seps = self.seps.clone();
        let (dropped, start) = if first {
            let dropped = groups.remove(0);
            seps.remove(0);
            (dropped, groups.first()?.start)
        } else {
            let dropped = groups.pop()?;
            seps.pop();
            (dropped, self.start)
        };
        let values = if first {
            self.values.get(dropped.digits..)?.to_vec()
        } else {
            self.values
                .get(..self.values.len().checked_sub(dropped.digits)?)?
                .to_vec()
        };
        Some(Segment {
            start,
            plus: self.plus && !first,
            open_paren: self.open_paren && !first,
            groups,
            seps,
            values,
        })
    }
}

/// Separators that keep digits in one number; anything else (`. `, two spaces, `--`) ends it.
fn is_joining_separator(sep: &str) -> bool {
    matches!(
        sep,
        "" | " " | "." | "-" | " - " | "(" | ")" | " (" | ") " | ")-" | "-(" | ") -"
    )
}

/// Splits a digit-run match into segments.
fn segments(text: &str, start: usize, end: usize) -> Vec<Segment> {
    let Some(run) = text.get(start..end) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut seg = Segment {
        start,
        ..Segment::default()
    };
    let mut sep = String::new();
    let mut group: Option<Group> = None;
    for (offset, c) in run.char_indices() {
        let at = start + offset;
        if let Some(v) = digit_value(c) {
            match group.as_mut() {
                Some(g) if sep.is_empty() => {
                    g.end = at + c.len_utf8();
                    g.digits += 1;
                }
                _ => {
                    if let Some(g) = group.take() {
                        if is_joining_separator(&sep) {
                            seg.groups.push(g);
                            seg.seps.push(std::mem::take(&mut sep));
                        } else {
                            seg.groups.push(g);
                            out.push(std::mem::take(&mut seg));
                            seg.start = at;
                            sep.clear();
                        }
                    }
                    group = Some(Group {
                        start: at,
                        end: at + c.len_utf8(),
                        digits: 1,
                        first: v,
                    });
                }
            }
            seg.values.push(v);
        } else if group.is_none() {
            // Before the first digit: `+` or `(`.
            match c {
                '+' | '＋' => seg.plus = true,
                '(' | '（' => seg.open_paren = true,
                _ => {}
            }
        } else {
            sep.push(match c {
                '\u{00A0}' => ' ',
                '‐' | '‑' | '–' | '－' => '-',
                '（' => '(',
                '）' => ')',
                c => c,
            });
        }
    }
    if let Some(g) = group {
        seg.groups.push(g);
        out.push(seg);
    }
    out
}

fn luhn(values: &[u8]) -> bool {
    let sum: u32 = values
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &v)| {
            let v = u32::from(v);
            if i % 2 == 1 {
                let d = v * 2;
                if d > 9 { d - 9 } else { d }
            } else {
                v
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn is_card(seg: &Segment) -> bool {
    let n = seg.digits();
    if !(13..=19).contains(&n) || seg.plus || seg.has_parens() {
        return false;
    }
    if seg.groups.len() > 1 {
        let Some(first_sep) = seg.seps.first() else {
            return false;
        };
        if !matches!(first_sep.as_str(), " " | "-") || seg.seps.iter().any(|s| s != first_sep) {
            return false;
        }
        let mut lens = seg.groups.iter().map(|g| g.digits);
        if lens.next() != Some(4) || lens.any(|l| !(2..=7).contains(&l)) {
            return false;
        }
    }
    seg.values.iter().any(|&v| v != 0) && luhn(&seg.values)
}

fn is_phone(seg: &Segment) -> bool {
    let n = seg.digits();
    let groups = &seg.groups;
    let Some(first) = groups.first() else {
        return false;
    };
    let lens: Vec<usize> = groups.iter().map(|g| g.digits).collect();
    if seg.plus {
        if !(8..=15).contains(&n) {
            return false;
        }
    } else if !(7..=12).contains(&n) {
        return false;
    }
    if !parens_ok(seg) {
        return false;
    }
    let mut distinct: Vec<&str> = seg.seps.iter().map(String::as_str).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let one_sep = match distinct.as_slice() {
        [only] => Some(*only),
        _ => None,
    };
    let plain = !seg.plus && !seg.has_parens();

    if groups.len() == 1 {
        // Ungrouped: with `+`, any length E.164 allows; without, a national shape.
        if seg.plus || seg.open_paren {
            return seg.plus;
        }
        let lead = first.first;
        let second = seg.values.get(1).copied().unwrap_or(0);
        return match n {
            // Spanish mobiles: 612345678.
            9 => lead == 6 || lead == 7,
            10 => lead == 0 || lead >= 2,
            11 => lead == 0 || (lead == 1 && second >= 3) || lead == 8,
            12 => lead == 0,
            _ => false,
        };
    }
    // A decimal number (`3.14159265`).
    if plain && groups.len() == 2 && one_sep == Some(".") {
        return false;
    }
    // Two groups without `+` or brackets: a range or two numbers unless long (`07700 900123`).
    if plain && groups.len() == 2 && n < 9 {
        return false;
    }
    // Dates: 12.05.2024, 12-05-2024, 2024-05-12, 12 05 2024.
    if plain
        && groups.len() == 3
        && one_sep.is_some_and(|s| matches!(s, "." | "-" | " " | "/"))
        && matches!(lens.as_slice(), [1 | 2, 1 | 2, 4] | [4, 1 | 2, 1 | 2])
    {
        return false;
    }
    // IPv4-like: 192.168.1.1.
    if plain && groups.len() == 4 && one_sep == Some(".") && lens.iter().all(|&l| l <= 3) {
        return false;
    }
    // Thousands separators: 1 000 000, 12 345 678, 1.000.000.
    if plain
        && one_sep.is_some_and(|s| matches!(s, "." | " "))
        && lens.iter().skip(1).all(|&l| l == 3)
    {
        let first_len = lens.first().copied().unwrap_or(0);
        // 612 345 678 is a Spanish number (mobiles start 6/7, landlines 8/9); 100 200 300 is not.
        let spanish = one_sep == Some(" ") && lens.len() == 3 && first_len == 3 && first.first >= 6;
        if !spanish {
            return false;
        }
    }
    // Spanish 612 34 56 78 starts 6-9; 100 95 88 76 is a list of scores.
    if plain
        && one_sep == Some(" ")
        && lens.len() >= 3
        && lens.first() == Some(&3)
        && lens.iter().skip(1).all(|&l| l == 2)
        && first.first < 6
    {
        return false;
    }
    // Years: 1990-2024, 2023 2024 2025.
    if lens.iter().all(|&l| l == 4) && groups.iter().all(|g| year_like(&seg.values, groups, g)) {
        return false;
    }
    // Single digits after the first group: counting (1 2 3 4 5 6 7 8), except `+33 6 12 34 56 78`.
    for (i, &l) in lens.iter().enumerate().skip(1) {
        if l == 1 && !(i == 1 && seg.plus) {
            return false;
        }
    }
    // Pairs of digits without `+`: a French national number starts with 0 (06 12 34 56 78); `12 15 18 21 25`
    // is a list.
    if !seg.plus && lens.iter().all(|&l| l <= 2) && first.first != 0 {
        return false;
    }
    true
}

/// Whether group `g` reads as a year (19xx or 20xx).
fn year_like(values: &[u8], groups: &[Group], g: &Group) -> bool {
    let offset: usize = groups
        .iter()
        .take_while(|o| o.start < g.start)
        .map(|o| o.digits)
        .sum();
    matches!(
        (values.get(offset), values.get(offset + 1)),
        (Some(1), Some(9)) | (Some(2), Some(0))
    )
}

/// At most one pair of brackets, around 1-5 digits of one group: `(555) 123-4567`, `+7 (495) 123-45-67`.
fn parens_ok(seg: &Segment) -> bool {
    let mut open = seg.open_paren;
    let mut pairs = 0;
    for (i, sep) in seg.seps.iter().enumerate() {
        for c in sep.chars() {
            match c {
                '(' => {
                    if open || pairs > 0 {
                        return false;
                    }
                    open = true;
                }
                ')' => {
                    if !open {
                        return false;
                    }
                    // The group just closed.
                    if seg.groups.get(i).is_none_or(|g| g.digits > 5) {
                        return false;
                    }
                    open = false;
                    pairs += 1;
                }
                _ => {}
            }
        }
    }
    !open
}

fn digit_runs(p: &Patterns, text: &str, found: &mut Vec<PiiMatch>) {
    for m in p.digit_run.find_iter(text) {
        for seg in segments(text, m.start(), m.end()) {
            let (start, end) = (seg.start, seg.end());
            if !stands_alone(text, start, end) {
                continue;
            }
            if is_card(&seg) {
                push(found, PiiKind::PaymentCard, start, end);
                continue;
            }
            if is_phone(&seg) {
                push(found, PiiKind::Phone, start, end);
                continue;
            }
            // A stray short group at either end: `call 020 7946 0958 2 times`.
            for first in [false, true] {
                let Some(edge) = (if first {
                    seg.groups.first()
                } else {
                    seg.groups.last()
                }) else {
                    continue;
                };
                if edge.digits > 2 {
                    continue;
                }
                if let Some(trimmed) = seg.without(first)
                    && trimmed.digits() < 13
                    && is_phone(&trimmed)
                    && !is_card(&trimmed)
                {
                    push(found, PiiKind::Phone, trimmed.start, trimmed.end());
                    break;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Coordinates.

fn coordinates(p: &Patterns, text: &str, found: &mut Vec<PiiMatch>) {
    // Every decimal pair has a `.`, every DMS pair a `°`.
    if text.contains('.') {
        for caps in p.coord_decimal.captures_iter(text) {
            if let Some(span) = decimal_pair(text, &caps) {
                push(found, PiiKind::Coordinates, span.0, span.1);
            }
        }
    }
    if text.contains('°') {
        for caps in p.coord_dms.captures_iter(text) {
            if let Some(span) = dms_pair(text, &caps) {
                push(found, PiiKind::Coordinates, span.0, span.1);
            }
        }
    }
}

fn decimal_pair(text: &str, caps: &Captures<'_>) -> Option<(usize, usize)> {
    let whole = caps.get(0)?;
    let lat = parse_decimal(caps.name("lat")?.as_str())?;
    let lon = parse_decimal(caps.name("lon")?.as_str())?;
    let comma = caps.name("sep")?.as_str().contains([',', '，']);
    let hemispheres = caps.name("ns").is_some() && caps.name("ew").is_some();
    if !(comma || hemispheres) || lat.abs() > 90.0 || lon.abs() > 180.0 {
        return None;
    }
    let lat_start = caps.name("lat")?.start();
    let before_ok = match char_before(text, lat_start) {
        None => true,
        Some(c) if is_word_char(c) => false,
        Some('.' | ',' | '-' | '/') => false,
        Some(_) => true,
    };
    let after_ok = match char_after(text, whole.end()) {
        None => true,
        Some(c) if is_word_char(c) => false,
        Some('.' | ',') => !char_after(text, whole.end() + 1).is_some_and(is_digit),
        Some('%' | '/' | '°') => false,
        Some(_) => true,
    };
    (before_ok && after_ok).then_some((whole.start(), whole.end()))
}

fn dms_pair(text: &str, caps: &Captures<'_>) -> Option<(usize, usize)> {
    let whole = caps.get(0)?;
    let mut lat_seen = false;
    let mut lon_seen = false;
    for (d, m, s, h) in [("d1", "m1", "s1", "h1"), ("d2", "m2", "s2", "h2")] {
        let deg = parse_decimal(caps.name(d)?.as_str())?;
        let min = parse_decimal(caps.name(m)?.as_str())?;
        let sec = match caps.name(s) {
            Some(s) => parse_decimal(s.as_str())?,
            None => 0.0,
        };
        if min >= 60.0 || sec >= 60.0 {
            return None;
        }
        match caps.name(h)?.as_str() {
            "N" | "S" | "n" | "s" => {
                lat_seen = true;
                if deg > 90.0 {
                    return None;
                }
            }
            _ => {
                lon_seen = true;
                if deg > 180.0 {
                    return None;
                }
            }
        }
    }
    let before_ok = !char_before(text, whole.start()).is_some_and(|c| is_word_char(c) || c == '.');
    let after_ok = !char_after(text, whole.end()).is_some_and(is_word_char);
    (lat_seen && lon_seen && before_ok && after_ok).then_some((whole.start(), whole.end()))
}

// ---------------------------------------------------------------------------------------------------------------
// Street addresses.

/// English words that never belong to a street name (`I walked 2 blocks down the road`).
const EN_STOP: &[&str] = &[
    "the", "a", "an", "of", "to", "in", "on", "at", "by", "for", "from", "with", "down", "up",
    "along", "across", "near", "my", "your", "his", "her", "our", "their", "its", "this", "that",
    "these", "those", "and", "or", "is", "are", "was", "were", "be", "i", "you", "we", "they",
    "he", "she", "it", "more", "other", "minutes", "mins", "hours", "times", "people", "kids",
    "days", "weeks", "years", "blocks", "miles", "km", "metres", "meters",
];

/// English street words that are also ordinary words or abbreviations (`5 minutes drive`, `3 big St Bernards`):
/// the street name before them must be capitalised.
const EN_WEAK: &[&str] = &[
    "st", "dr", "ct", "pl", "sq", "ln", "drive", "place", "way", "close", "court", "square",
    "gardens", "terrace", "row", "grove", "crescent", "mews",
];

fn starts_upper(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

fn addresses(p: &Patterns, text: &str, found: &mut Vec<PiiMatch>) {
    for caps in p.addr_en.captures_iter(text) {
        if let Some(span) = address_en(text, &caps) {
            push(found, PiiKind::StreetAddress, span.0, span.1);
        }
    }
    for re in [&p.addr_type_first, &p.addr_ru, &p.addr_ar] {
        for caps in re.captures_iter(text) {
            if let Some(span) = address_type_first(text, &caps) {
                push(found, PiiKind::StreetAddress, span.0, span.1);
            }
        }
    }
    for caps in p.addr_fr.captures_iter(text) {
        if let Some(span) = address_fr(text, &caps) {
            push(found, PiiKind::StreetAddress, span.0, span.1);
        }
    }
    for caps in p.addr_ar_number_first.captures_iter(text) {
        let Some(whole) = caps.get(0) else { continue };
        if !char_before(text, whole.start()).is_some_and(|c| is_word_char(c) || c == '.') {
            push(found, PiiKind::StreetAddress, whole.start(), whole.end());
        }
    }
    for m in p.addr_zh.find_iter(text) {
        if let Some(start) = zh_name_start(text, m.start()) {
            push(found, PiiKind::StreetAddress, start, m.end());
        }
    }
}

/// The house number at the start of a match does not continue a longer token (`a12`, `1.12`, `5/12`).
fn number_starts_alone(text: &str, at: usize) -> bool {
    match char_before(text, at) {
        None => true,
        Some(c)
            if is_word_char(c) || matches!(c, '.' | ',' | '/' | '-' | '$' | '£' | '€' | '#') =>
        {
            false
        }
        // The end of a longer number (`+44 20 7946 0958 Oak Road`).
        Some(c @ (' ' | '\u{00A0}')) => !char_before(text, at - c.len_utf8()).is_some_and(is_digit),
        Some(_) => true,
    }
}

/// The house number at the end of a match does not continue (`calle Mayor 5` but not `calle Mayor 5.5`).
fn number_ends_alone(text: &str, at: usize) -> bool {
    match char_after(text, at) {
        None => true,
        Some(c) if is_word_char(c) => false,
        Some('.' | ',' | '/' | ':') => !char_after(text, at + 1).is_some_and(is_digit),
        Some('%' | '°') => false,
        Some(_) => true,
    }
}

fn address_en(text: &str, caps: &Captures<'_>) -> Option<(usize, usize)> {
    let whole = caps.get(0)?;
    if !number_starts_alone(text, whole.start())
        || char_after(text, whole.end()).is_some_and(is_word_char)
    {
        return None;
    }
    let street_type = caps.name("type")?.as_str().to_lowercase();
    let words: Vec<&str> = caps.name("name")?.as_str().split_whitespace().collect();
    if words
        .iter()
        .any(|w| EN_STOP.contains(&w.to_lowercase().as_str()))
    {
        return None;
    }
    if EN_WEAK.contains(&street_type.as_str()) && !words.iter().all(|w| starts_upper(w)) {
        return None;
    }
    Some((whole.start(), whole.end()))
}

fn address_type_first(text: &str, caps: &Captures<'_>) -> Option<(usize, usize)> {
    let whole = caps.get(0)?;
    let num = caps.name("num")?;
    if char_before(text, whole.start()).is_some_and(is_word_char)
        || !number_ends_alone(text, num.end())
    {
        return None;
    }
    Some((whole.start(), whole.end()))
}

/// French street words that are also ordinary words (`3 place de parking`, `2 cours de maths`).
const FR_WEAK: &[&str] = &["place", "route", "chemin", "cours", "square", "av."];

fn address_fr(text: &str, caps: &Captures<'_>) -> Option<(usize, usize)> {
    let whole = caps.get(0)?;
    if !number_starts_alone(text, whole.start()) {
        return None;
    }
    let street_type = caps.name("type")?.as_str().to_lowercase();
    let name = caps.name("name")?.as_str();
    if FR_WEAK.contains(&street_type.as_str()) && !starts_upper(name) {
        return None;
    }
    Some((whole.start(), whole.end()))
}

/// Characters that end a Chinese street name when reading backwards from the road word: pronouns, verbs and
/// particles of the sentence around it (`我住在北京市朝阳区建国路88号`).
const ZH_STOP: &str = "我你他她它们住在是的了到去来从家和与及说就也都要请给地址";

/// Where the Chinese address that ends in the road word at `road` starts, reading back over Han characters.
fn zh_name_start(text: &str, road: usize) -> Option<usize> {
    let before = text.get(..road)?;
    let mut start = road;
    for (i, c) in before.char_indices().rev().take(20) {
        let han = matches!(c, '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}');
        if !han || ZH_STOP.contains(c) {
            break;
        }
        start = i;
    }
    (start < road).then_some(start)
}

#[cfg(test)]
#[path = "pii_tests.rs"]
mod tests;
