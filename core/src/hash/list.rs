//! Hash lists as industry bodies and integrators ship them, parsed into one [`ParsedHashList`]:
//!
//! - **plain**: one hex hash per line; the kind follows from the length (32 digits MD5, 40 SHA-1) or from a
//!   `# type: pdq|md5|sha1|blake3` header (64 digits are PDQ or BLAKE3, so they need one);
//! - **csv**: a header row naming a `type` (or `kind`, `signal_type`) column and a `hash` (or `signal`,
//!   `signal_value`) column, then one hash per row;
//! - **signals**: the ThreatExchange / Hasher-Matcher-Actioner line form `pdq <hex>`, `md5 <hex>`, `sha1 <hex>`,
//!   `blake3 <hex>` (also `pdq,<hex>`).
//!
//! Header comments give the list's `# id:`, `# version:` and `# provenance:`; a blank line or one starting with `#`
//! is a comment. Entry ids are the entries' order in the list (0-based, duplicates removed), so a match can name
//! the entry without the list holding anything but hashes. Errors name line numbers, never line contents.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::PdqHash;
use crate::url::ParseMode;

/// Largest list text accepted (10M PDQ hashes in hex are ~650 MB).
pub const MAX_HASH_LIST_BYTES: usize = 1 << 30;

/// What a hash is of, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashKind {
    /// MD5 of the file's bytes.
    Md5,
    /// SHA-1 of the file's bytes.
    Sha1,
    /// BLAKE3 of the file's bytes.
    Blake3,
    /// Meta's PDQ perceptual hash of the decoded image.
    Pdq,
}

impl HashKind {
    /// All kinds.
    pub const ALL: [HashKind; 4] = [
        HashKind::Md5,
        HashKind::Sha1,
        HashKind::Blake3,
        HashKind::Pdq,
    ];

    /// The stable identifier (`md5`, `sha1`, `blake3`, `pdq`).
    pub fn id(self) -> &'static str {
        match self {
            HashKind::Md5 => "md5",
            HashKind::Sha1 => "sha1",
            HashKind::Blake3 => "blake3",
            HashKind::Pdq => "pdq",
        }
    }

    /// Hex digits in a hash of this kind.
    pub fn hex_digits(self) -> usize {
        match self {
            HashKind::Md5 => 32,
            HashKind::Sha1 => 40,
            HashKind::Blake3 | HashKind::Pdq => 64,
        }
    }

    /// The kind a name stands for (also the ThreatExchange names `pdq`, `photo_pdq`, `md5`, `photo_md5`,
    /// `sha1`, `blake3`), any case.
    pub fn from_name(name: &str) -> Option<HashKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "md5" | "photo_md5" | "video_md5" => Some(HashKind::Md5),
            "sha1" | "sha-1" => Some(HashKind::Sha1),
            "blake3" => Some(HashKind::Blake3),
            "pdq" | "photo_pdq" => Some(HashKind::Pdq),
            _ => None,
        }
    }
}

impl fmt::Display for HashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The syntax of a hash list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashListFormat {
    /// One hex hash per line.
    Plain,
    /// Comma-separated with a header row.
    Csv,
    /// `kind hex` per line.
    Signals,
}

impl HashListFormat {
    /// The format a name stands for.
    pub fn from_name(name: &str) -> Option<HashListFormat> {
        match name.trim().to_ascii_lowercase().as_str() {
            "plain" | "hex" => Some(HashListFormat::Plain),
            "csv" => Some(HashListFormat::Csv),
            "signals" | "threatexchange" | "hma" => Some(HashListFormat::Signals),
            _ => None,
        }
    }
}

/// Who made a hash list and which version it is. Every entry is known abuse material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashListMeta {
    /// Short identifier: lower-case letters, digits, `-`, `_` and `.`, at most 64.
    pub id: String,
    /// The list's own version.
    pub version: String,
    /// Where it comes from.
    pub provenance: String,
}

/// Values that override (or stand in for) a list's own header.
#[derive(Debug, Clone, Default)]
pub struct HashListOptions {
    /// List id.
    pub id: Option<String>,
    /// Version.
    pub version: Option<String>,
    /// Provenance.
    pub provenance: Option<String>,
    /// Syntax; detected from the first entry line when neither this nor a `# format:` header names one.
    pub format: Option<HashListFormat>,
    /// The kind of every hash of a plain list (needed for 64-digit hashes without a `# type:` header).
    pub kind: Option<HashKind>,
    /// Strict or lenient.
    pub mode: ParseMode,
}

/// Why a line was not an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashLineProblem {
    /// Not hex, or not as long as its kind needs.
    #[error("not a hex hash of the expected length")]
    BadHash,
    /// The kind is not one of md5, sha1, blake3, pdq.
    #[error("unknown hash type")]
    UnknownKind,
    /// A 64-digit hash in a plain list without a `# type:` header (PDQ or BLAKE3?).
    #[error("64-digit hash without a type: add a `# type: pdq` or `# type: blake3` header")]
    AmbiguousLength,
    /// A CSV row without the needed columns.
    #[error("CSV row without type and hash columns")]
    BadRow,
    /// Longer than 4096 bytes.
    #[error("line is too long")]
    TooLong,
}

/// Why a hash list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashListError {
    /// A bad line in a strict parse.
    #[error("line {line}: {problem}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        problem: HashLineProblem,
    },
    /// The CSV header row lacks a type or hash column.
    #[error("the CSV header names no type and hash columns")]
    CsvHeader,
    /// A required header value is missing or invalid (`id`, `version`, `format`, `type`).
    #[error("list {field} is missing or invalid")]
    Meta {
        /// Which value.
        field: &'static str,
    },
    /// More than `u32::MAX` entries, or larger than [`MAX_HASH_LIST_BYTES`].
    #[error("the list is too large")]
    TooLarge,
    /// The file is not UTF-8.
    #[error("list is not UTF-8 text")]
    NotUtf8,
    /// The file could not be read.
    #[error("could not read the list: {0}")]
    Io(std::io::ErrorKind),
}

/// How every line was accounted for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashListReport {
    /// Lines read.
    pub lines: usize,
    /// Entries kept, by kind.
    pub md5: usize,
    /// SHA-1 entries.
    pub sha1: usize,
    /// BLAKE3 entries.
    pub blake3: usize,
    /// PDQ entries.
    pub pdq: usize,
    /// Entries that repeated an earlier one.
    pub duplicates: usize,
    /// Blank and comment lines (and a CSV header row).
    pub comments: usize,
    /// Bad lines skipped in a lenient parse.
    pub skipped: usize,
}

/// One hash of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashValue {
    /// An MD5 digest.
    Md5([u8; 16]),
    /// A SHA-1 digest.
    Sha1([u8; 20]),
    /// A BLAKE3 digest.
    Blake3([u8; 32]),
    /// A PDQ hash.
    Pdq(PdqHash),
}

impl HashValue {
    /// Its kind.
    pub fn kind(&self) -> HashKind {
        match self {
            HashValue::Md5(_) => HashKind::Md5,
            HashValue::Sha1(_) => HashKind::Sha1,
            HashValue::Blake3(_) => HashKind::Blake3,
            HashValue::Pdq(_) => HashKind::Pdq,
        }
    }

    /// Parses a hash of `kind` from hex (either case).
    pub fn parse(kind: HashKind, hex: &str) -> Option<HashValue> {
        let hex = hex.trim();
        if hex.len() != kind.hex_digits() {
            return None;
        }
        Some(match kind {
            HashKind::Md5 => HashValue::Md5(hex_bytes(hex)?),
            HashKind::Sha1 => HashValue::Sha1(hex_bytes(hex)?),
            HashKind::Blake3 => HashValue::Blake3(hex_bytes(hex)?),
            HashKind::Pdq => HashValue::Pdq(PdqHash::from_hex(hex).ok()?),
        })
    }

    /// The lower-case hex form.
    pub fn to_hex(&self) -> String {
        match self {
            HashValue::Md5(b) => to_hex(b),
            HashValue::Sha1(b) => to_hex(b),
            HashValue::Blake3(b) => to_hex(b),
            HashValue::Pdq(h) => h.to_hex(),
        }
    }
}

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes from exactly `2 * N` hex digits.
pub fn hex_bytes<const N: usize>(hex: &str) -> Option<[u8; N]> {
    if hex.len() != 2 * N || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(hex.as_bytes().chunks(2)) {
        let text = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(text, 16).ok()?;
    }
    Some(out)
}

/// A parsed hash list, ready to compile: its entries in list order (entry id = position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedHashList {
    /// Id, version, provenance.
    pub meta: HashListMeta,
    /// The syntax it was read as.
    pub format: HashListFormat,
    /// The entries, duplicates removed; an entry's id is its position.
    pub entries: Vec<HashValue>,
    /// How the lines were accounted for.
    pub report: HashListReport,
}

/// Header values found in comments.
#[derive(Default)]
struct Header {
    id: Option<String>,
    version: Option<String>,
    provenance: Option<String>,
    format: Option<String>,
    kind: Option<String>,
}

impl Header {
    fn read(line: &str) -> Option<(&'static str, String)> {
        let rest = line.strip_prefix('#')?.trim();
        let (key, value) = rest.split_once(':')?;
        let key = match key.trim().to_ascii_lowercase().as_str() {
            "id" => "id",
            "version" => "version",
            "provenance" => "provenance",
            "format" => "format",
            "type" | "kind" => "type",
            _ => return None,
        };
        Some((key, value.trim().to_owned()))
    }
}

/// Whether `id` may name a list.
pub fn is_list_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_' || b == b'.'
        })
}

impl ParsedHashList {
    /// Parses list text.
    pub fn parse(text: &str, options: &HashListOptions) -> Result<ParsedHashList, HashListError> {
        if text.len() > MAX_HASH_LIST_BYTES {
            return Err(HashListError::TooLarge);
        }
        let mut header = Header::default();
        for line in text
            .lines()
            .take_while(|l| l.trim().is_empty() || l.starts_with('#'))
        {
            if let Some((key, value)) = Header::read(line) {
                let slot = match key {
                    "id" => &mut header.id,
                    "version" => &mut header.version,
                    "provenance" => &mut header.provenance,
                    "format" => &mut header.format,
                    _ => &mut header.kind,
                };
                slot.get_or_insert(value);
            }
        }
        let id = options
            .id
            .clone()
            .or(header.id)
            .filter(|id| is_list_id(id))
            .ok_or(HashListError::Meta { field: "id" })?;
        let version = options
            .version
            .clone()
            .or(header.version)
            .filter(|v| !v.is_empty() && v.len() <= 64)
            .ok_or(HashListError::Meta { field: "version" })?;
        let provenance = options
            .provenance
            .clone()
            .or(header.provenance)
            .unwrap_or_default();
        let header_kind = match header.kind.as_deref() {
            Some(name) => {
                Some(HashKind::from_name(name).ok_or(HashListError::Meta { field: "type" })?)
            }
            None => None,
        };
        let kind = options.kind.or(header_kind);
        let format = match (options.format, header.format.as_deref()) {
            (Some(format), _) => format,
            (None, Some(name)) => {
                HashListFormat::from_name(name).ok_or(HashListError::Meta { field: "format" })?
            }
            (None, None) => detect_format(text),
        };

        let mut report = HashListReport::default();
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        let mut csv_columns: Option<(usize, usize)> = None;
        for (number, line) in text.lines().enumerate() {
            report.lines += 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                report.comments += 1;
                continue;
            }
            let parsed = if line.len() > 4096 {
                Err(HashLineProblem::TooLong)
            } else {
                match format {
                    HashListFormat::Plain => plain_entry(line, kind),
                    HashListFormat::Signals => signal_entry(line),
                    HashListFormat::Csv => match csv_columns {
                        None => {
                            csv_columns = Some(csv_header(line).ok_or(HashListError::CsvHeader)?);
                            report.comments += 1;
                            continue;
                        }
                        Some(columns) => csv_entry(line, columns),
                    },
                }
            };
            match parsed {
                Ok(value) => {
                    if seen.insert(value) {
                        match value.kind() {
                            HashKind::Md5 => report.md5 += 1,
                            HashKind::Sha1 => report.sha1 += 1,
                            HashKind::Blake3 => report.blake3 += 1,
                            HashKind::Pdq => report.pdq += 1,
                        }
                        entries.push(value);
                    } else {
                        report.duplicates += 1;
                    }
                }
                Err(problem) => match options.mode {
                    ParseMode::Strict => {
                        return Err(HashListError::Line {
                            line: number + 1,
                            problem,
                        });
                    }
                    ParseMode::Lenient => report.skipped += 1,
                },
            }
        }
        if u32::try_from(entries.len()).is_err() {
            return Err(HashListError::TooLarge);
        }
        Ok(ParsedHashList {
            meta: HashListMeta {
                id,
                version,
                provenance,
            },
            format,
            entries,
            report,
        })
    }

    /// Reads and parses a list file.
    pub fn from_path(
        path: impl AsRef<std::path::Path>,
        options: &HashListOptions,
    ) -> Result<ParsedHashList, HashListError> {
        let bytes = std::fs::read(path).map_err(|e| HashListError::Io(e.kind()))?;
        let text = String::from_utf8(bytes).map_err(|_| HashListError::NotUtf8)?;
        ParsedHashList::parse(&text, options)
    }
}

/// Signals if the first entry line starts with a kind name, CSV if it has a comma and names columns, else plain.
fn detect_format(text: &str) -> HashListFormat {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or_default();
    if csv_header(first).is_some() {
        HashListFormat::Csv
    } else if signal_entry(first).is_ok() {
        HashListFormat::Signals
    } else {
        HashListFormat::Plain
    }
}

fn plain_entry(line: &str, kind: Option<HashKind>) -> Result<HashValue, HashLineProblem> {
    let hex = line.split_whitespace().next().unwrap_or_default();
    let kind = match (kind, hex.len()) {
        (Some(kind), _) => kind,
        (None, 32) => HashKind::Md5,
        (None, 40) => HashKind::Sha1,
        (None, 64) => return Err(HashLineProblem::AmbiguousLength),
        (None, _) => return Err(HashLineProblem::BadHash),
    };
    HashValue::parse(kind, hex).ok_or(HashLineProblem::BadHash)
}

fn signal_entry(line: &str) -> Result<HashValue, HashLineProblem> {
    let (name, hex) = line
        .split_once(|c: char| c.is_whitespace() || c == ',')
        .ok_or(HashLineProblem::BadHash)?;
    let kind = HashKind::from_name(name).ok_or(HashLineProblem::UnknownKind)?;
    let hex = hex
        .trim()
        .split([' ', '\t', ','])
        .next()
        .unwrap_or_default();
    HashValue::parse(kind, hex).ok_or(HashLineProblem::BadHash)
}

/// The (type, hash) column positions a CSV header row names.
fn csv_header(line: &str) -> Option<(usize, usize)> {
    let names: Vec<String> = line
        .split(',')
        .map(|c| c.trim().trim_matches('"').to_ascii_lowercase())
        .collect();
    let kind = names
        .iter()
        .position(|n| matches!(n.as_str(), "type" | "kind" | "signal_type" | "hash_type"))?;
    let hash = names
        .iter()
        .position(|n| matches!(n.as_str(), "hash" | "signal" | "signal_value" | "value"))?;
    Some((kind, hash))
}

fn csv_entry(line: &str, (kind_at, hash_at): (usize, usize)) -> Result<HashValue, HashLineProblem> {
    let cells: Vec<&str> = line
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    let (Some(kind), Some(hash)) = (cells.get(kind_at), cells.get(hash_at)) else {
        return Err(HashLineProblem::BadRow);
    };
    let kind = HashKind::from_name(kind).ok_or(HashLineProblem::UnknownKind)?;
    HashValue::parse(kind, hash).ok_or(HashLineProblem::BadHash)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";
    const SHA1: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    const PDQ: &str = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
    const B3: &str = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

    fn strict() -> HashListOptions {
        HashListOptions::default()
    }

    #[test]
    fn plain_lists_take_the_kind_from_length_or_header() {
        let text = format!(
            "# id: test\n# version: 1\n{MD5}\n\n{SHA1}\n{}\n",
            MD5.to_uppercase()
        );
        let list = ParsedHashList::parse(&text, &strict()).unwrap();
        assert_eq!(list.format, HashListFormat::Plain);
        assert_eq!(list.entries.len(), 2);
        assert_eq!(list.entries[0].to_hex(), MD5);
        assert_eq!(list.entries[1].kind(), HashKind::Sha1);
        assert_eq!(list.report.duplicates, 1);
        assert_eq!(list.report.comments, 3);
        assert_eq!(list.report.lines, 6);

        let ambiguous = format!("# id: t\n# version: 1\n{PDQ}\n");
        assert_eq!(
            ParsedHashList::parse(&ambiguous, &strict()),
            Err(HashListError::Line {
                line: 3,
                problem: HashLineProblem::AmbiguousLength
            })
        );
        let typed = format!("# id: t\n# version: 1\n# type: pdq\n{PDQ}\n");
        let list = ParsedHashList::parse(&typed, &strict()).unwrap();
        assert_eq!(
            list.entries,
            [HashValue::Pdq(PdqHash::from_hex(PDQ).unwrap())]
        );
        let options = HashListOptions {
            kind: Some(HashKind::Blake3),
            ..strict()
        };
        let list =
            ParsedHashList::parse(&format!("# id: t\n# version: 1\n{B3}\n"), &options).unwrap();
        assert_eq!(list.entries[0].kind(), HashKind::Blake3);
    }

    #[test]
    fn csv_and_signal_lists() {
        let csv =
            format!("# id: csv\n# version: 2\nid,type,hash\n1,pdq,{PDQ}\n2,\"md5\",\"{MD5}\"\n");
        let list = ParsedHashList::parse(&csv, &strict()).unwrap();
        assert_eq!(list.format, HashListFormat::Csv);
        assert_eq!(list.report.pdq, 1);
        assert_eq!(list.report.md5, 1);

        let signals = format!(
            "# id: te\n# version: 3\npdq {PDQ}\nphoto_md5,{MD5}\nsha1 {SHA1}\nblake3 {B3}\n"
        );
        let list = ParsedHashList::parse(&signals, &strict()).unwrap();
        assert_eq!(list.format, HashListFormat::Signals);
        let kinds: Vec<HashKind> = list.entries.iter().map(HashValue::kind).collect();
        assert_eq!(
            kinds,
            [
                HashKind::Pdq,
                HashKind::Md5,
                HashKind::Sha1,
                HashKind::Blake3
            ]
        );
    }

    #[test]
    fn bad_lines_strict_and_lenient() {
        let text = format!("# id: t\n# version: 1\npdq {PDQ}\npdq 12345\nsha256 {B3}\nmd5 {MD5}\n");
        assert_eq!(
            ParsedHashList::parse(&text, &strict()),
            Err(HashListError::Line {
                line: 4,
                problem: HashLineProblem::BadHash
            })
        );
        let lenient = HashListOptions {
            mode: ParseMode::Lenient,
            ..strict()
        };
        let list = ParsedHashList::parse(&text, &lenient).unwrap();
        assert_eq!(list.entries.len(), 2);
        assert_eq!(list.report.skipped, 2);
        let bad_csv = "# id: t\n# version: 1\nname,value2\n";
        assert_eq!(
            ParsedHashList::parse(
                bad_csv,
                &HashListOptions {
                    format: Some(HashListFormat::Csv),
                    ..strict()
                }
            ),
            Err(HashListError::CsvHeader)
        );
        let long = format!("# id: t\n# version: 1\n{}\n", "a".repeat(5000));
        assert!(matches!(
            ParsedHashList::parse(&long, &strict()),
            Err(HashListError::Line {
                problem: HashLineProblem::TooLong,
                ..
            })
        ));
    }

    #[test]
    fn metadata_is_required_and_validated() {
        assert_eq!(
            ParsedHashList::parse(&format!("{MD5}\n"), &strict()),
            Err(HashListError::Meta { field: "id" })
        );
        assert_eq!(
            ParsedHashList::parse(&format!("# id: Bad Id\n# version: 1\n{MD5}\n"), &strict()),
            Err(HashListError::Meta { field: "id" })
        );
        assert_eq!(
            ParsedHashList::parse(&format!("# id: ok\n{MD5}\n"), &strict()),
            Err(HashListError::Meta { field: "version" })
        );
        assert_eq!(
            ParsedHashList::parse(
                &format!("# id: ok\n# version: 1\n# type: sha256\n{MD5}\n"),
                &strict()
            ),
            Err(HashListError::Meta { field: "type" })
        );
        let options = HashListOptions {
            id: Some("flag".into()),
            version: Some("7".into()),
            provenance: Some("tests".into()),
            ..strict()
        };
        let list = ParsedHashList::parse(&format!("{MD5}\n"), &options).unwrap();
        assert_eq!(list.meta.id, "flag");
        assert_eq!(list.meta.provenance, "tests");
    }

    #[test]
    fn errors_never_carry_line_contents() {
        let secret = "pdq 0123456789abcdefSECRET";
        let err = ParsedHashList::parse(&format!("# id: t\n# version: 1\n{secret}\n"), &strict())
            .unwrap_err();
        assert!(!err.to_string().contains("SECRET"));
    }
}
