//! Matching canonical URLs against many compiled category lists at once.

use std::borrow::Cow;
use std::sync::Arc;

use smallvec::SmallVec;

use super::canon::path_prefixes;
use super::compiled::{CompiledList, SectionKind};
use super::list::{fingerprint, fingerprint_bytes};
use super::{CanonicalUrl, HostKind};
use crate::policy::Category;
use crate::verdict::{Engine, Evidence, Finding};

/// A list that matched a URL: which list (id, version, category) and which expression. It borrows the engine
/// and the URL it came from.
#[derive(Debug, Clone)]
pub struct ListMatch<'a> {
    list: &'a CompiledList,
    expression: Cow<'a, str>,
}

impl ListMatch<'_> {
    /// The list's id.
    pub fn list_id(&self) -> &str {
        &self.list.meta().list.id
    }

    /// The list's version.
    pub fn version(&self) -> &str {
        &self.list.meta().list.version
    }

    /// The list's category.
    pub fn category(&self) -> Category {
        self.list.meta().list.category
    }

    /// The most specific expression of the URL found in the list (`example.com` for a domain entry,
    /// `example.com/videos/` for a URL-prefix entry).
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The list itself.
    pub fn list(&self) -> &CompiledList {
        self.list
    }

    /// The match as a verdict finding, with the list, version and expression as evidence.
    pub fn to_finding(&self) -> Finding {
        Finding {
            category: self.category(),
            confidence: 1.0,
            evidence: Evidence::new(Engine::Url)
                .with_source(self.list_id(), self.version())
                .with_rule(self.expression()),
        }
    }
}

/// The lists that matched a URL, in the order the lists were added. Dereferences to a slice; holds up to two
/// matches without allocating.
#[derive(Debug, Clone, Default)]
pub struct ListMatches<'a>(SmallVec<[ListMatch<'a>; 2]>);

impl<'a> std::ops::Deref for ListMatches<'a> {
    type Target = [ListMatch<'a>];

    fn deref(&self) -> &[ListMatch<'a>] {
        &self.0
    }
}

impl<'a> IntoIterator for ListMatches<'a> {
    type Item = ListMatch<'a>;
    type IntoIter = std::vec::IntoIter<ListMatch<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_vec().into_iter()
    }
}

impl<'m, 'a> IntoIterator for &'m ListMatches<'a> {
    type Item = &'m ListMatch<'a>;
    type IntoIter = std::slice::Iter<'m, ListMatch<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// The URL stage of Haven: any number of compiled category lists, immutable once built.
///
/// Cheap to clone (lists are shared), safe to use from many threads. To change lists, build a new engine and
/// swap it in; a check in progress keeps the engine it started with.
///
/// Domain entries match the host and every subdomain at any depth (a superset of Safe Browsing's five
/// host components: deep subdomains are a known way around filters). URL-prefix entries match the Safe
/// Browsing path prefixes. An exception in a list (`@@||example.com^`) cancels that list's matches for the
/// domain and its subdomains; it does not affect other lists.
///
/// ```
/// use haven_core::url::{compiled, list::{ListOptions, ParsedList}, CanonicalUrl, CompiledList, UrlEngine};
///
/// let list = ParsedList::parse("# id: games\n# category: gambling\n# version: 1\ncasino.example\n", &ListOptions::default())?;
/// let engine = UrlEngine::new().with_list(CompiledList::from_bytes(compiled::compile(&list))?);
/// let url = CanonicalUrl::parse("https://www.casino.example/slots")?;
/// let hits = engine.check(&url);
/// assert_eq!(hits[0].expression(), "casino.example");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct UrlEngine {
    lists: Vec<Arc<CompiledList>>,
}

impl UrlEngine {
    /// An engine with no lists (it matches nothing).
    pub fn new() -> UrlEngine {
        UrlEngine::default()
    }

    /// This engine with one more list.
    pub fn with_list(mut self, list: impl Into<Arc<CompiledList>>) -> UrlEngine {
        self.lists.push(list.into());
        self
    }

    /// The lists, in the order they were added.
    pub fn lists(&self) -> &[Arc<CompiledList>] {
        &self.lists
    }

    /// Starts loading the table slots that a check of a URL on the domain `host` (canonical, a domain name)
    /// will read, and returns the fingerprints it computed for that check; see [`CanonicalUrl::parse_for`].
    /// `parents`, when given, marks the dots of `host` that start its parent domains (bit `i` for byte `i`).
    pub(crate) fn prefetch_domain(&self, host: &[u8], parents: Option<u64>) -> HostPrints {
        if self.lists.is_empty() {
            return HostPrints::default();
        }
        let prints = match parents {
            Some(dots) => HostPrints::of_parent_dots(host, dots),
            None => HostPrints::default(),
        };
        let suffixes;
        let fps = match prints.get() {
            Some(fps) => fps,
            None => {
                suffixes = Suffixes::of_domain(host);
                &suffixes.fps
            }
        };
        for list in &self.lists {
            list.prefetch(SectionKind::ExceptionDomains, fps);
            list.prefetch(SectionKind::Domains, fps);
        }
        prints
    }

    /// Every list that matches the URL, with the most specific matching expression of each.
    pub fn check<'a>(&'a self, url: &'a CanonicalUrl) -> ListMatches<'a> {
        let mut matches = ListMatches::default();
        if self.lists.is_empty() {
            return matches;
        }
        // The host suffixes' fingerprints: those `parse_for` computed, or computed now.
        let computed;
        let fps = match url.prints().get() {
            Some(fps) => fps,
            None => {
                computed = Suffixes::of(url);
                computed.fps.as_slice()
            }
        };
        let mut expressions: Option<Vec<(String, u64)>> = None;
        for list in &self.lists {
            let mut hit: Option<Cow<'a, str>> = None;
            if list.has(SectionKind::Expressions) || list.has(SectionKind::ExceptionExpressions) {
                let expressions =
                    expressions.get_or_insert_with(|| expression_fingerprints(url, fps.len()));
                if list.has(SectionKind::ExceptionExpressions)
                    && expressions
                        .iter()
                        .any(|(_, fp)| list.contains(SectionKind::ExceptionExpressions, *fp))
                {
                    continue;
                }
                hit = expressions
                    .iter()
                    .find(|(_, fp)| list.contains(SectionKind::Expressions, *fp))
                    .map(|(e, _)| Cow::Owned(e.clone()));
            }
            if list.first_of(SectionKind::ExceptionDomains, fps).is_some() {
                continue;
            }
            if hit.is_none() {
                hit = list
                    .first_of(SectionKind::Domains, fps)
                    .and_then(|at| suffix_name(url, at))
                    .map(Cow::Borrowed);
            }
            if let Some(expression) = hit {
                matches.0.push(ListMatch { list, expression });
            }
        }
        matches
    }
}

/// The fingerprints of a domain's host suffixes (most specific first, as [`Suffixes`] has them), computed by
/// [`CanonicalUrl::parse_for`] for the check that follows. A cache, not part of a URL's value: any two are equal
/// and hash alike.
#[derive(Clone, Copy, Default)]
pub(crate) struct HostPrints {
    fps: [u64; HostPrints::MAX],
    /// How many of `fps` hold fingerprints; 0 when there are none (every host has at least one suffix).
    len: u8,
}

impl HostPrints {
    /// Hosts with more suffixes than this (`a.b.c.d.e.example`) are fingerprinted again by the check.
    const MAX: usize = 4;

    /// The fingerprints of the domain `host` and of the parents that start after the dots marked in `dots`
    /// (bit `i` for byte `i`), if all of them fit; none otherwise.
    fn of_parent_dots(host: &[u8], mut dots: u64) -> HostPrints {
        let mut prints = HostPrints::default();
        let mut push = |name: &[u8]| match prints.fps.get_mut(usize::from(prints.len)) {
            Some(slot) => {
                *slot = fingerprint_bytes(name);
                prints.len += 1;
                true
            }
            None => false,
        };
        let mut fit = push(host);
        while dots != 0 && fit {
            let at = dots.trailing_zeros() as usize;
            dots &= dots - 1;
            fit = push(host.get(at + 1..).unwrap_or_default());
        }
        if fit { prints } else { HostPrints::default() }
    }

    /// Every suffix's fingerprint, if computed.
    fn get(&self) -> Option<&[u64]> {
        self.fps
            .get(..usize::from(self.len))
            .filter(|fps| !fps.is_empty())
    }
}

impl std::fmt::Debug for HostPrints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HostPrints({})", self.len)
    }
}

impl PartialEq for HostPrints {
    fn eq(&self, _: &HostPrints) -> bool {
        true
    }
}

impl Eq for HostPrints {}

impl std::hash::Hash for HostPrints {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// The fingerprints of a host's suffixes (see [`Suffixes::of`]), on the stack for any ordinary host; the suffix
/// at a position is found again by [`suffix_name`].
#[derive(Default)]
struct Suffixes {
    fps: SmallVec<[u64; 12]>,
}

impl Suffixes {
    fn push(&mut self, name: &[u8]) {
        self.fps.push(fingerprint_bytes(name));
    }

    /// The host and every parent domain, most specific first, down to (not including) the top-level domain,
    /// which lists cannot hold. An IP address, or a host ending in a number (`9.10.1.2.3`, which is no IPv4
    /// address but whose suffixes would look like one), only as itself.
    fn of(url: &CanonicalUrl) -> Suffixes {
        if url.host_kind() != HostKind::Domain {
            let mut out = Suffixes::default();
            out.push(url.host().as_bytes());
            return out;
        }
        Suffixes::of_domain(url.host().as_bytes())
    }

    /// [`Suffixes::of`] a domain name.
    fn of_domain(host: &[u8]) -> Suffixes {
        let mut out = Suffixes::default();
        out.push(host);
        let Some(last_dot) = host.iter().rposition(|&b| b == b'.') else {
            return out;
        };
        let numeric_end = host
            .get(last_dot + 1..)
            .is_none_or(|last| last.iter().all(u8::is_ascii_digit));
        if numeric_end {
            return out;
        }
        // Every dot but the last starts a parent domain; the dots are found 64 bytes at a time.
        let before_last = host.get(..last_dot).unwrap_or_default();
        for (chunk_at, chunk) in before_last.chunks(64).enumerate() {
            let mut dots = dot_mask(chunk);
            while dots != 0 {
                let at = chunk_at * 64 + dots.trailing_zeros() as usize;
                dots &= dots - 1;
                if let Some(parent) = host.get(at + 1..) {
                    out.push(parent);
                }
            }
        }
        out
    }
}

/// The suffix of the URL's host at position `at` of [`Suffixes::of`]: the host itself, then the name after each
/// dot in turn.
fn suffix_name(url: &CanonicalUrl, at: usize) -> Option<&str> {
    let host = url.host();
    if at == 0 {
        return Some(host);
    }
    let dot = host
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b == b'.')
        .nth(at - 1)?
        .0;
    host.get(dot + 1..)
}

/// Every suffix name of the URL's host, in the order of [`Suffixes::of`].
fn suffix_names(url: &CanonicalUrl, count: usize) -> Vec<&str> {
    (0..count).filter_map(|at| suffix_name(url, at)).collect()
}

/// Bit `i` set where `bytes[i]` is a dot, for up to 64 bytes, eight at a time (SWAR: the exact zero-byte
/// test on the bytes XOR `.`).
fn dot_mask(bytes: &[u8]) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const DOTS: u64 = 0x2e2e_2e2e_2e2e_2e2e;
    let bytes = bytes.get(..64).unwrap_or(bytes);
    let (words, tail) = bytes.as_chunks::<8>();
    let mut mask = 0u64;
    for (i, word) in words.iter().enumerate() {
        let x = u64::from_le_bytes(*word) ^ DOTS;
        // High bit of each byte set where the byte of `x` is zero, i.e. where the byte was a dot.
        let zero = !(((x & LOW7) + LOW7) | x | LOW7);
        // Gather the eight high bits into one byte.
        let bits = ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
        mask |= bits << (8 * i);
    }
    let base = 8 * words.len();
    for (j, &b) in tail.iter().enumerate() {
        mask |= u64::from(b == b'.') << (base + j);
    }
    mask
}

fn expression_fingerprints(url: &CanonicalUrl, suffixes: usize) -> Vec<(String, u64)> {
    let paths = path_prefixes(url);
    let mut out = Vec::new();
    for host in suffix_names(url, suffixes) {
        for path in &paths {
            let expression = format!("{host}{path}");
            let fp = fingerprint(&expression);
            out.push((expression, fp));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Suffixes, dot_mask, fingerprint, suffix_names};
    use crate::url::list::{ListOptions, ParsedList};
    use crate::url::{CanonicalUrl, CompiledList, UrlEngine, compiled};

    /// `parse_for` hands the check the fingerprints it computed for its prefetch: exactly the host suffixes'
    /// ones, or none where they do not fit (more than four suffixes, a host over 64 bytes) or were not computed
    /// (a host that is not plain, or not in lower case).
    #[test]
    fn parse_for_carries_the_suffix_prints() {
        let list = ParsedList::parse(
            "# id: t\n# category: gambling\n# version: 1\nexample.com\nc.example.com\n",
            &ListOptions::default(),
        )
        .unwrap();
        let engine =
            UrlEngine::new().with_list(CompiledList::from_bytes(compiled::compile(&list)).unwrap());
        let long = format!("https://{}.example.com/", "a".repeat(60));
        for (url, carried) in [
            ("https://www.example.com/a", true),
            ("http://example.com", true),
            ("http://localhost/", true),
            ("https://a.b.c.example.com/", true),
            ("https://a.b.c.d.example.com/", false),
            (long.as_str(), false),
            ("https://WWW.Example.com/", false),
            ("http://1.2.3.4/", false),
            ("http://a.example/%41", false),
        ] {
            let parsed = CanonicalUrl::parse_for(url, &engine).unwrap();
            assert_eq!(parsed.prints().get().is_some(), carried, "{url}");
            if let Some(fps) = parsed.prints().get() {
                assert_eq!(fps, Suffixes::of(&parsed).fps.as_slice(), "{url}");
            }
            // Either way the check finds the most specific listed suffix, as after `parse`.
            let host = parsed.host();
            let under = |domain: &str| {
                host == domain || host.strip_suffix(domain).is_some_and(|h| h.ends_with('.'))
            };
            let expected = if under("c.example.com") {
                "c.example.com"
            } else if under("example.com") {
                "example.com"
            } else {
                ""
            };
            for url in [&parsed, &CanonicalUrl::parse(url).unwrap()] {
                let hits = engine.check(url);
                assert_eq!(hits.first().map_or("", |m| m.expression()), expected);
            }
        }
    }

    proptest! {
        /// Every parent domain of a host of any length (past the 64 bytes of one dot search too), most specific
        /// first, down to the registrable-or-shorter name above the top-level domain.
        #[test]
        fn suffixes_are_every_parent(labels in proptest::collection::vec("[a-z0-9]{1,40}", 2..8)) {
            let host = labels.join(".");
            let url = CanonicalUrl::parse(&format!("http://{host}.example/")).unwrap();
            let suffixes = Suffixes::of(&url);
            let full = format!("{host}.example");
            let mut expected = vec![full.as_str()];
            let mut rest = full.as_str();
            while let Some((_, parent)) = rest.split_once('.') {
                if !parent.contains('.') {
                    break;
                }
                expected.push(parent);
                rest = parent;
            }
            let names = suffix_names(&url, suffixes.fps.len());
            prop_assert_eq!(&names, &expected);
            let prints: Vec<u64> = expected.iter().map(|name| fingerprint(name)).collect();
            prop_assert_eq!(suffixes.fps.as_slice(), prints.as_slice());
            // The fingerprints `parse_for` computes for its prefetch, when it hands them on, are the same.
            let parsed = CanonicalUrl::parse_for(url.as_str(), &UrlEngine::builtin()).unwrap();
            if let Some(carried) = parsed.prints().get() {
                prop_assert_eq!(carried, prints.as_slice());
            }
        }

        /// The word-at-a-time dot search finds exactly the dots, in hosts of every length up to 64 bytes.
        #[test]
        fn dot_mask_finds_every_dot(host in "[a-z0-9.\\-_\\x00-\\xff]{0,64}") {
            let bytes = host.as_bytes().get(..64).unwrap_or(host.as_bytes());
            let expected = bytes
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'.')
                .fold(0u64, |mask, (at, _)| mask | 1 << at);
            prop_assert_eq!(dot_mask(bytes), expected);
        }
    }
}
