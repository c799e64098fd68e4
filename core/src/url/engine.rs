//! Matching canonical URLs against many compiled category lists at once.

use std::sync::Arc;

use super::canon::path_prefixes;
use super::compiled::{CompiledList, SectionKind};
use super::list::fingerprint;
use super::{CanonicalUrl, HostKind};
use crate::policy::Category;
use crate::verdict::{Engine, Evidence, Finding};

/// A list that matched a URL: which list (id, version, category) and which expression.
#[derive(Debug, Clone)]
pub struct ListMatch {
    list: Arc<CompiledList>,
    expression: String,
}

impl ListMatch {
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
        &self.list
    }

    /// The match as a verdict finding, with the list, version and expression as evidence.
    pub fn to_finding(&self) -> Finding {
        Finding {
            category: self.category(),
            confidence: 1.0,
            evidence: Evidence::new(Engine::Url)
                .with_source(self.list_id(), self.version())
                .with_rule(&self.expression),
        }
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
/// let hits = engine.check(&CanonicalUrl::parse("https://www.casino.example/slots")?);
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

    /// Every list that matches the URL, with the most specific matching expression of each.
    pub fn check(&self, url: &CanonicalUrl) -> Vec<ListMatch> {
        let mut matches = Vec::new();
        if self.lists.is_empty() {
            return matches;
        }
        let hosts = host_suffixes(url);
        let mut expressions: Option<Vec<(String, u64)>> = None;
        for list in &self.lists {
            let mut hit: Option<String> = None;
            if list.has(SectionKind::Expressions) || list.has(SectionKind::ExceptionExpressions) {
                let expressions =
                    expressions.get_or_insert_with(|| expression_fingerprints(url, &hosts));
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
                    .map(|(e, _)| e.clone());
            }
            if list.has(SectionKind::ExceptionDomains)
                && hosts
                    .iter()
                    .any(|(_, fp)| list.contains(SectionKind::ExceptionDomains, *fp))
            {
                continue;
            }
            if hit.is_none() {
                hit = hosts
                    .iter()
                    .find(|(_, fp)| list.contains(SectionKind::Domains, *fp))
                    .map(|(h, _)| (*h).to_owned());
            }
            if let Some(expression) = hit {
                matches.push(ListMatch {
                    list: Arc::clone(list),
                    expression,
                });
            }
        }
        matches
    }
}

/// Host suffixes with their fingerprints: up to 16 on the stack (no allocation for any ordinary host), the
/// rest of a deeper host on the heap.
struct Suffixes<'a> {
    inline: [(&'a str, u64); 16],
    len: usize,
    spill: Vec<(&'a str, u64)>,
}

impl<'a> Suffixes<'a> {
    fn push(&mut self, suffix: &'a str) {
        let entry = (suffix, fingerprint(suffix));
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                *slot = entry;
                self.len += 1;
            }
            None => self.spill.push(entry),
        }
    }

    fn iter(&self) -> impl Iterator<Item = &(&'a str, u64)> {
        self.inline
            .get(..self.len)
            .unwrap_or_default()
            .iter()
            .chain(&self.spill)
    }
}

/// The host and every parent domain with their fingerprints, most specific first, down to (not including)
/// the top-level domain, which lists cannot hold. An IP address, or a host ending in a number
/// (`9.10.1.2.3`, which is no IPv4 address but whose suffixes would look like one), only as itself.
fn host_suffixes(url: &CanonicalUrl) -> Suffixes<'_> {
    let host = url.host();
    let mut out = Suffixes {
        inline: [("", 0); 16],
        len: 0,
        spill: Vec::new(),
    };
    out.push(host);
    let numeric_end = host
        .rsplit('.')
        .next()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()));
    if url.host_kind() == HostKind::Domain && !numeric_end {
        let mut rest = host;
        while let Some((_, parent)) = rest.split_once('.') {
            if !parent.contains('.') {
                break;
            }
            out.push(parent);
            rest = parent;
        }
    }
    out
}

fn expression_fingerprints(url: &CanonicalUrl, hosts: &Suffixes<'_>) -> Vec<(String, u64)> {
    let paths = path_prefixes(url);
    let mut out = Vec::new();
    for (host, _) in hosts.iter() {
        for path in &paths {
            let expression = format!("{host}{path}");
            let fp = fingerprint(&expression);
            out.push((expression, fp));
        }
    }
    out
}
