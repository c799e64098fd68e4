//! Reading block lists: plain domain lists, hosts files, the Adblock domain subset and URL-prefix lists.
//!
//! Parsing turns each entry into a 64-bit fingerprint of its canonical form, ready for [`super::compiled`].
//! Every line is accounted for in the [`ParseReport`]: an entry, a duplicate, a line ignored by design
//! (`127.0.0.1 localhost` in a hosts file), a comment, or a bad line, which [`ParseMode::Strict`] refuses
//! and [`ParseMode::Lenient`] skips and counts. Nothing is dropped silently. Errors name line numbers, never
//! the text of a line.
//!
//! A list may describe itself in `# key: value` (or `! key: value`) lines before its first entry; the keys
//! are `id`, `category`, `version`, `provenance` and `format`. Values given in code take precedence.
//!
//! ```
//! use haven_core::url::list::{ListFormat, ListOptions, ParseMode, ParsedList};
//! use haven_core::Category;
//!
//! let text = "# id: games\n# category: gambling\n# version: 3\n||casino.example^\n@@||help.casino.example^\n";
//! let list = ParsedList::parse(text, &ListOptions::default())?;
//! assert_eq!(list.meta().id, "games");
//! assert_eq!(list.meta().category, Category::Gambling);
//! assert_eq!(list.format(), ListFormat::Adblock);
//! assert_eq!(list.report().entries, 2);
//! # Ok::<(), haven_core::url::list::ListError>(())
//! ```

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{CanonicalUrl, HostKind};
use crate::policy::Category;

/// Largest list text accepted, in bytes (the biggest public lists are around 60 MB).
pub const MAX_LIST_BYTES: usize = 512 * 1024 * 1024;

/// How many bad lines a lenient parse remembers (all are counted).
const MAX_REMEMBERED_PROBLEMS: usize = 20;

/// The fingerprint of a domain or expression: XXH3-64 of its canonical bytes with a fixed seed. The seed and
/// the algorithm are part of the compiled format: changing either needs a new format version.
#[inline]
pub(crate) fn fingerprint(expression: &str) -> u64 {
    fingerprint_bytes(expression.as_bytes())
}

/// [`fingerprint`] of an expression given as bytes.
#[inline]
pub(crate) fn fingerprint_bytes(expression: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(expression, 0x4841_5645_4e55_524c)
}

/// The syntax of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ListFormat {
    /// One domain per line (`example.com`, also `*.example.com` or `.example.com`), `#` comments.
    Domains,
    /// Hosts-file lines: an address and one or more names (`0.0.0.0 example.com`), `#` comments.
    Hosts,
    /// The domain subset of Adblock Plus / uBlock Origin syntax: `||example.com^` blocks a domain,
    /// `@@||example.com^` excepts one; `!` comments; `$important` is accepted, other options are not.
    Adblock,
    /// URL prefixes (`example.com/videos/`, `http://example.com/page.html`), matched as Safe Browsing
    /// lookup expressions; a bare domain or a URL whose path is `/` blocks the whole domain.
    UrlPrefix,
}

impl ListFormat {
    /// Every format, for help texts.
    pub const ALL: [ListFormat; 4] = [
        ListFormat::Domains,
        ListFormat::Hosts,
        ListFormat::Adblock,
        ListFormat::UrlPrefix,
    ];

    /// The id used in headers and on the command line: `domains`, `hosts`, `adblock`, `url-prefix`.
    pub fn id(self) -> &'static str {
        match self {
            ListFormat::Domains => "domains",
            ListFormat::Hosts => "hosts",
            ListFormat::Adblock => "adblock",
            ListFormat::UrlPrefix => "url-prefix",
        }
    }

    /// Guesses the format from the first entry line.
    pub fn detect(text: &str) -> ListFormat {
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with("# ") || line == "#" {
                continue;
            }
            if line.starts_with('!')
                || line.starts_with("||")
                || line.starts_with("@@")
                || line.starts_with('[')
            {
                return ListFormat::Adblock;
            }
            if line.starts_with('#') {
                continue;
            }
            let first = line.split_whitespace().next().unwrap_or_default();
            if first.parse::<IpAddr>().is_ok() && line.split_whitespace().nth(1).is_some() {
                return ListFormat::Hosts;
            }
            if line.contains('/') {
                return ListFormat::UrlPrefix;
            }
            return ListFormat::Domains;
        }
        ListFormat::Domains
    }
}

impl fmt::Display for ListFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for ListFormat {
    type Err = crate::policy::UnknownId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ListFormat::ALL
            .into_iter()
            .find(|f| f.id() == s)
            .ok_or(crate::policy::UnknownId {
                what: "list format",
            })
    }
}

/// Strict or lenient handling of bad lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ParseMode {
    /// The first bad line rejects the whole list (for lists a family or operator edits by hand).
    #[default]
    Strict,
    /// Bad lines are skipped and counted (for large third-party lists).
    Lenient,
}

/// What a list is: who made it, which version, which category it blocks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMeta {
    /// Short identifier (`adult`, `gambling`): lower-case letters, digits, `-`, `_` and `.`, at most 64.
    pub id: String,
    /// The category every entry of this list belongs to.
    pub category: Category,
    /// The list's own version (a date, a release number).
    pub version: String,
    /// Where it comes from: package, author, licence, review.
    pub provenance: String,
}

/// Values that override (or stand in for) a list's own header.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    /// List id.
    pub id: Option<String>,
    /// Category.
    pub category: Option<Category>,
    /// Version.
    pub version: Option<String>,
    /// Provenance.
    pub provenance: Option<String>,
    /// Format; detected from the text when neither this nor a header names one.
    pub format: Option<ListFormat>,
    /// Strict or lenient.
    pub mode: ParseMode,
}

/// Why a line was not an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineProblem {
    /// Not a valid domain name.
    #[error("not a valid domain name")]
    NotADomain,
    /// A hosts-file line without an address and a name.
    #[error("not a hosts-file line (address, then names)")]
    NotAHostsLine,
    /// An Adblock rule outside the supported domain subset (cosmetic filters, regular expressions, options).
    #[error("an Adblock rule outside the supported domain subset")]
    UnsupportedRule,
    /// Not a URL or URL prefix.
    #[error("not a URL prefix")]
    NotAUrl,
    /// Longer than 4096 bytes.
    #[error("line is too long")]
    TooLong,
}

/// A bad line: where and why, never what it said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub problem: LineProblem,
}

/// Why a list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// A bad line in a strict parse.
    #[error("line {line}: {problem}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        problem: LineProblem,
    },
    /// A required header value is missing or invalid (`id`, `category`, `version`, `format`).
    #[error("list {field} is missing or invalid")]
    Meta {
        /// Which value.
        field: &'static str,
    },
    /// The text is larger than [`MAX_LIST_BYTES`].
    #[error("list is larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// The file is not UTF-8.
    #[error("list is not UTF-8 text")]
    NotUtf8,
    /// The file could not be read.
    #[error("could not read the list: {0}")]
    Io(std::io::ErrorKind),
}

/// How every line of a list was accounted for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParseReport {
    /// Lines read.
    pub lines: usize,
    /// Entries kept (blocks and exceptions, after removing duplicates).
    pub entries: usize,
    /// Entries that repeated an earlier one.
    pub duplicates: usize,
    /// Blank and comment lines.
    pub comments: usize,
    /// Names ignored by design (`localhost` and the like in hosts files).
    pub ignored: usize,
    /// Entries removed by an exclusion list at compile time.
    #[serde(default)]
    pub excluded: usize,
    /// Bad lines skipped in a lenient parse.
    pub skipped: usize,
    /// The first bad lines (up to 20), by number and problem.
    #[serde(skip)]
    pub problems: Vec<LineError>,
}

/// The four sets of fingerprints a list consists of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Sections {
    /// Blocked domains (each with its subdomains).
    pub(crate) domains: Vec<u64>,
    /// Blocked expressions (`host/path`).
    pub(crate) expressions: Vec<u64>,
    /// Excepted domains.
    pub(crate) exception_domains: Vec<u64>,
    /// Excepted expressions.
    pub(crate) exception_expressions: Vec<u64>,
}

/// A parsed list, ready to compile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedList {
    meta: ListMeta,
    format: ListFormat,
    sections: Sections,
    report: ParseReport,
    source_sha256: Option<String>,
}

impl ParsedList {
    /// Parses list text.
    pub fn parse(text: &str, options: &ListOptions) -> Result<ParsedList, ListError> {
        ParsedList::parse_with_progress(text, options, |_| {})
    }

    /// Parses list text, reporting how many bytes are done every 65,536 lines (for progress bars).
    pub fn parse_with_progress(
        text: &str,
        options: &ListOptions,
        mut progress: impl FnMut(usize),
    ) -> Result<ParsedList, ListError> {
        if text.len() > MAX_LIST_BYTES {
            return Err(ListError::TooLarge {
                max: MAX_LIST_BYTES,
            });
        }
        let header = Header::read(text);
        let format = match (options.format, header.format) {
            (Some(format), _) => format,
            (None, Some(name)) => name
                .parse()
                .map_err(|_| ListError::Meta { field: "format" })?,
            (None, None) => ListFormat::detect(text),
        };
        let meta = ListMeta {
            id: pick(&options.id, header.id).ok_or(ListError::Meta { field: "id" })?,
            category: match (options.category, header.category) {
                (Some(category), _) => category,
                (None, Some(name)) => name
                    .parse()
                    .map_err(|_| ListError::Meta { field: "category" })?,
                (None, None) => return Err(ListError::Meta { field: "category" }),
            },
            version: pick(&options.version, header.version)
                .ok_or(ListError::Meta { field: "version" })?,
            provenance: pick(&options.provenance, header.provenance).unwrap_or_default(),
        };
        check_meta(&meta)?;

        let mut sections = Sections::default();
        let mut report = ParseReport::default();
        let mut done = 0;
        for (number, line) in text.lines().enumerate() {
            report.lines += 1;
            done += line.len() + 1;
            if number % 65_536 == 65_535 {
                progress(done.min(text.len()));
            }
            let outcome = if line.len() > 4096 {
                Err(LineProblem::TooLong)
            } else {
                read_line(format, line, &mut sections, &mut report)
            };
            if let Err(problem) = outcome {
                let error = LineError {
                    line: number + 1,
                    problem,
                };
                match options.mode {
                    ParseMode::Strict => {
                        return Err(ListError::Line {
                            line: error.line,
                            problem,
                        });
                    }
                    ParseMode::Lenient => {
                        report.skipped += 1;
                        if report.problems.len() < MAX_REMEMBERED_PROBLEMS {
                            report.problems.push(error);
                        }
                    }
                }
            }
        }
        progress(text.len());
        let read = sections.domains.len()
            + sections.expressions.len()
            + sections.exception_domains.len()
            + sections.exception_expressions.len();
        for set in [
            &mut sections.domains,
            &mut sections.expressions,
            &mut sections.exception_domains,
            &mut sections.exception_expressions,
        ] {
            set.sort_unstable();
            set.dedup();
        }
        report.entries = sections.domains.len()
            + sections.expressions.len()
            + sections.exception_domains.len()
            + sections.exception_expressions.len();
        report.duplicates = read - report.entries;
        Ok(ParsedList {
            meta,
            format,
            sections,
            report,
            source_sha256: None,
        })
    }

    /// Reads and parses a list file.
    pub fn from_path(
        path: impl AsRef<std::path::Path>,
        options: &ListOptions,
    ) -> Result<ParsedList, ListError> {
        let path = path.as_ref();
        let size = std::fs::metadata(path)
            .map_err(|e| ListError::Io(e.kind()))?
            .len();
        if size > MAX_LIST_BYTES as u64 {
            return Err(ListError::TooLarge {
                max: MAX_LIST_BYTES,
            });
        }
        let bytes = std::fs::read(path).map_err(|e| ListError::Io(e.kind()))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| ListError::NotUtf8)?;
        ParsedList::parse(text, options)
    }

    /// Removes the exact domains of `exclusions` from this list's blocked domains (not their subdomains), for
    /// general platforms a third-party list blocks whole. The count goes to [`ParseReport::excluded`].
    pub fn exclude(&mut self, exclusions: &ParsedList) {
        let before = self.sections.domains.len();
        self.sections
            .domains
            .retain(|fp| exclusions.sections.domains.binary_search(fp).is_err());
        let removed = before - self.sections.domains.len();
        self.report.excluded += removed;
        self.report.entries -= removed;
    }

    /// Records the SHA-256 of the source text, for provenance in the compiled file.
    pub fn set_source_sha256(&mut self, hex: impl Into<String>) {
        self.source_sha256 = Some(hex.into());
    }

    /// The SHA-256 of the source, if recorded.
    pub fn source_sha256(&self) -> Option<&str> {
        self.source_sha256.as_deref()
    }

    /// What the list is.
    pub fn meta(&self) -> &ListMeta {
        &self.meta
    }

    /// Its syntax.
    pub fn format(&self) -> ListFormat {
        self.format
    }

    /// How its lines were accounted for.
    pub fn report(&self) -> &ParseReport {
        &self.report
    }

    /// Number of blocked domains.
    pub fn domain_count(&self) -> usize {
        self.sections.domains.len()
    }

    pub(crate) fn sections(&self) -> &Sections {
        &self.sections
    }
}

fn pick(given: &Option<String>, header: Option<&str>) -> Option<String> {
    given
        .clone()
        .or_else(|| header.map(str::to_owned))
        .filter(|v| !v.trim().is_empty())
}

fn check_meta(meta: &ListMeta) -> Result<(), ListError> {
    let id_ok = !meta.id.is_empty()
        && meta.id.len() <= 64
        && meta.id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        });
    if !id_ok {
        return Err(ListError::Meta { field: "id" });
    }
    if meta.version.len() > 64 || meta.version.chars().any(char::is_control) {
        return Err(ListError::Meta { field: "version" });
    }
    if meta.provenance.len() > 1024 || meta.provenance.chars().any(char::is_control) {
        return Err(ListError::Meta {
            field: "provenance",
        });
    }
    Ok(())
}

/// `key: value` lines in the leading comment block.
#[derive(Default)]
struct Header<'a> {
    id: Option<&'a str>,
    category: Option<&'a str>,
    version: Option<&'a str>,
    provenance: Option<&'a str>,
    format: Option<&'a str>,
}

impl<'a> Header<'a> {
    fn read(text: &'a str) -> Header<'a> {
        let mut header = Header::default();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('[') {
                continue;
            }
            let Some(comment) = line.strip_prefix('#').or_else(|| line.strip_prefix('!')) else {
                break;
            };
            let Some((key, value)) = comment.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim().to_ascii_lowercase().as_str() {
                "id" => header.id = Some(value),
                "category" => header.category = Some(value),
                "version" => header.version = Some(value),
                "provenance" => header.provenance = Some(value),
                "format" => header.format = Some(value),
                _ => {}
            }
        }
        header
    }
}

/// Names hosts files map to loopback for the machine itself; they are not blocking entries.
const HOSTS_FILE_LOCAL_NAMES: [&str; 12] = [
    "localhost",
    "localhost.localdomain",
    "local",
    "broadcasthost",
    "ip6-localhost",
    "ip6-loopback",
    "ip6-localnet",
    "ip6-mcastprefix",
    "ip6-allnodes",
    "ip6-allrouters",
    "ip6-allhosts",
    "0.0.0.0",
];

fn read_line(
    format: ListFormat,
    line: &str,
    sections: &mut Sections,
    report: &mut ParseReport,
) -> Result<(), LineProblem> {
    let line = line.trim();
    if line.is_empty() {
        report.comments += 1;
        return Ok(());
    }
    match format {
        ListFormat::Domains => {
            let entry = strip_comment(line);
            if entry.is_empty() {
                report.comments += 1;
                return Ok(());
            }
            let entry = entry
                .strip_prefix("*.")
                .or_else(|| entry.strip_prefix('.'))
                .unwrap_or(entry);
            sections
                .domains
                .push(fingerprint(&normalize_domain(entry)?));
        }
        ListFormat::Hosts => {
            let entry = strip_comment(line);
            if entry.is_empty() {
                report.comments += 1;
                return Ok(());
            }
            let mut words = entry.split_whitespace();
            let address = words.next().unwrap_or_default();
            if address.parse::<IpAddr>().is_err() {
                return Err(LineProblem::NotAHostsLine);
            }
            let mut names = 0;
            for name in words {
                names += 1;
                if HOSTS_FILE_LOCAL_NAMES.contains(&name.to_ascii_lowercase().as_str()) {
                    report.ignored += 1;
                } else {
                    sections.domains.push(fingerprint(&normalize_domain(name)?));
                }
            }
            if names == 0 {
                return Err(LineProblem::NotAHostsLine);
            }
        }
        ListFormat::Adblock => {
            if line.starts_with('!') || line.starts_with('[') || is_hash_comment(line) {
                report.comments += 1;
                return Ok(());
            }
            let (exception, rule) = match line.strip_prefix("@@") {
                Some(rule) => (true, rule),
                None => (false, line),
            };
            let rule = match rule.split_once('$') {
                Some((rule, "important" | "all" | "document")) => rule,
                Some(_) => return Err(LineProblem::UnsupportedRule),
                None => rule,
            };
            let domain = rule
                .strip_prefix("||")
                .and_then(|r| r.strip_suffix('^').or_else(|| r.strip_suffix("^|")))
                .ok_or(LineProblem::UnsupportedRule)?;
            let fp = fingerprint(&normalize_domain(domain)?);
            if exception {
                sections.exception_domains.push(fp);
            } else {
                sections.domains.push(fp);
            }
        }
        ListFormat::UrlPrefix => {
            let entry = strip_comment(line);
            if entry.is_empty() {
                report.comments += 1;
                return Ok(());
            }
            let url = CanonicalUrl::parse(entry).map_err(|_| LineProblem::NotAUrl)?;
            if url.host_kind() == HostKind::Domain {
                normalize_domain(url.host())?;
            }
            if url.path() == "/" && url.query().is_none() {
                sections.domains.push(fingerprint(url.host()));
            } else {
                sections
                    .expressions
                    .push(fingerprint(url.host_path_query()));
            }
        }
    }
    Ok(())
}

/// `#` starts a comment in domain, hosts and URL-prefix lists when it begins the line or follows a space.
fn strip_comment(line: &str) -> &str {
    if line.starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(at) => line.get(..at).unwrap_or_default().trim(),
        None => line,
    }
}

/// In Adblock lists `#` comments exist too, but `##`, `#@#`, `#?#`, `#$#` begin cosmetic filters.
fn is_hash_comment(line: &str) -> bool {
    line.starts_with('#')
        && !["##", "#@#", "#?#", "#$#", "#%#"]
            .iter()
            .any(|p| line.starts_with(p))
}

/// Normalises a list entry to the canonical host form used in lookups, rejecting anything else, including
/// single labels such as `com`: a list entry blocks a domain and its subdomains, never a top-level domain.
pub(crate) fn normalize_domain(raw: &str) -> Result<String, LineProblem> {
    let raw = raw.trim().trim_end_matches('.');
    if raw.is_empty() || raw.len() > 253 {
        return Err(LineProblem::NotADomain);
    }
    let host = match ::url::Host::parse(raw).map_err(|_| LineProblem::NotADomain)? {
        ::url::Host::Domain(domain) => domain,
        ::url::Host::Ipv4(ip) => return Ok(ip.to_string()),
        ::url::Host::Ipv6(_) => return Err(LineProblem::NotADomain),
    };
    // A single label is a top-level domain (or `localhost`): an entry for it would block a whole TLD.
    let valid = host.contains('.')
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        });
    if valid {
        Ok(host)
    } else {
        Err(LineProblem::NotADomain)
    }
}
