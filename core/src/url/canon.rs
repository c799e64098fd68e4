//! Safe Browsing canonicalisation: one canonical string for every way of writing the same URL.
//!
//! Follows the Google Safe Browsing v4 rules ("Canonicalization" in the Safe Browsing API documentation):
//! tabs, CR and LF are removed; leading and trailing whitespace is trimmed; the fragment is dropped; the URL is
//! percent-unescaped until it no longer changes; the host is lower-cased, stripped of leading and trailing dots
//! with runs of dots collapsed, and read as an IPv4 address when it is one in any notation (decimal, octal, hex,
//! fewer than four parts); `.` and `..` path segments are resolved and runs of slashes collapsed; finally bytes
//! at or below 0x20, at or above 0x7f, `#` and `%` are escaped as `%XX`.
//!
//! Where the Safe Browsing text is silent, Haven reads the URL the way a browser does (WHATWG URL Standard),
//! because the browser decides which site opens: internationalised host names become punycode (through the
//! `url` crate's IDNA processing), `\` counts as `/`, any number of slashes may follow the scheme, and
//! `http:example.com` means `http://example.com`.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use super::engine::HostPrints;
use super::{MAX_URL_BYTES, UrlError};

/// What kind of host a canonical URL has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostKind {
    /// A domain name (possibly one that no DNS would resolve, such as `%01%80.com`).
    Domain,
    /// An IPv4 address in dotted decimal.
    Ipv4,
    /// An IPv6 address, written in brackets.
    Ipv6,
}

/// A URL in Safe Browsing canonical form: `scheme://host/path?query`, ASCII only.
///
/// # Examples
///
/// ```
/// use haven_core::url::CanonicalUrl;
///
/// let url = CanonicalUrl::parse("HTTP://www.Example.COM.:8080/a/./b/../c#top")?;
/// assert_eq!(url.as_str(), "http://www.example.com/a/c");
/// assert_eq!(url.host(), "www.example.com");
///
/// // Every encoding of an address reaches the same host.
/// assert_eq!(CanonicalUrl::parse("http://3279880203/blah")?.as_str(), "http://195.127.0.11/blah");
/// assert_eq!(CanonicalUrl::parse("http://%31%36%38%2e%31%38%38%2e%39%39%2e%32%36/")?.host(), "168.188.99.26");
/// # Ok::<(), haven_core::url::UrlError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CanonicalUrl {
    text: String,
    scheme_len: usize,
    host: Range<usize>,
    /// Where the path ends: the `?` if there is a query, otherwise the end.
    path_end: usize,
    kind: HostKind,
    /// The host suffixes' fingerprints, when [`CanonicalUrl::parse_for`] computed them for the engine's check.
    prints: HostPrints,
}

impl CanonicalUrl {
    /// Canonicalises a URL given as text. A URL without a scheme (`example.com/page`) is read as `http://`.
    pub fn parse(input: &str) -> Result<CanonicalUrl, UrlError> {
        if input.len() > MAX_URL_BYTES {
            return Err(UrlError::TooLong { max: MAX_URL_BYTES });
        }
        match CanonicalUrl::already_plain(input) {
            Some(url) => Ok(url),
            None => CanonicalUrl::parse_general(input.as_bytes()),
        }
    }

    /// [`CanonicalUrl::parse`] for a check by `engine` that follows: as soon as the host of a plain URL is known,
    /// the engine starts loading the parts of its lists that the check will read, and they arrive while the
    /// rest of the URL is canonicalised. Same result as [`CanonicalUrl::parse`]; the check is faster when the
    /// lists are not in the processor's caches.
    ///
    /// ```
    /// use haven_core::url::{compiled, list::{ListOptions, ParsedList}, CanonicalUrl, CompiledList, UrlEngine};
    ///
    /// let list = ParsedList::parse("# id: games\n# category: gambling\n# version: 1\ncasino.example\n", &ListOptions::default())?;
    /// let engine = UrlEngine::new().with_list(CompiledList::from_bytes(compiled::compile(&list))?);
    /// let url = CanonicalUrl::parse_for("https://www.casino.example/slots", &engine)?;
    /// assert_eq!(url, CanonicalUrl::parse("https://www.casino.example/slots")?);
    /// assert_eq!(engine.check(&url)[0].expression(), "casino.example");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_for(input: &str, engine: &super::UrlEngine) -> Result<CanonicalUrl, UrlError> {
        if input.len() > MAX_URL_BYTES {
            return Err(UrlError::TooLong { max: MAX_URL_BYTES });
        }
        match CanonicalUrl::already_plain_with(input, |host, parents| {
            engine.prefetch_domain(host, parents)
        }) {
            Some(url) => Ok(url),
            None => CanonicalUrl::parse_general(input.as_bytes()),
        }
    }

    /// Canonicalises a URL given as raw bytes (which need not be UTF-8, as in network traffic).
    pub fn parse_bytes(input: &[u8]) -> Result<CanonicalUrl, UrlError> {
        if input.len() > MAX_URL_BYTES {
            return Err(UrlError::TooLong { max: MAX_URL_BYTES });
        }
        let plain = std::str::from_utf8(input)
            .ok()
            .and_then(CanonicalUrl::already_plain);
        match plain {
            Some(url) => Ok(url),
            None => CanonicalUrl::parse_general(input),
        }
    }

    /// The common case in one pass: `http(s)://` or `ws(s)://`, a plain domain name (see [`simple_domain`]),
    /// perhaps a port, then a path and query of printable ASCII without `%`, `#` or `\\`, whose path has no
    /// empty, `.` or `..` segment. For such a URL every canonicalisation step is the identity but for case and
    /// the port, which is what this builds; anything else goes the general way (a property test checks that
    /// both ways agree).
    pub(crate) fn already_plain(input: &str) -> Option<CanonicalUrl> {
        CanonicalUrl::already_plain_with(input, |_, _| HostPrints::default())
    }

    /// [`CanonicalUrl::already_plain`], calling `on_host` with the canonical host as soon as it is known (for a
    /// plain URL whose host is in lower case already), and with the dots that start its parent domains (bit `i`
    /// for byte `i`; `None` for a host over 64 bytes). The URL keeps the fingerprints `on_host` returns.
    pub(crate) fn already_plain_with(
        input: &str,
        on_host: impl FnOnce(&[u8], Option<u64>) -> HostPrints,
    ) -> Option<CanonicalUrl> {
        let mut prints = HostPrints::default();
        let parts = plain_parts(input.as_bytes(), |host, parents| {
            prints = on_host(host, parents);
        })?;
        // `parts.host.start` is where the input's host starts, after `scheme://`: the canonical URL's too.
        let scheme_end = parts.host.start;
        // Usually the canonical URL is the input itself (lower-case scheme, no port, a path): one copy.
        let same = parts.scheme_lower
            && parts.path_start == parts.host.end
            && input.as_bytes().get(parts.path_start) == Some(&b'/');
        let mut text = if same {
            input.to_owned()
        } else {
            let mut text = String::with_capacity(input.len() + 1);
            text.push_str(parts.scheme);
            text.push_str("://");
            text.push_str(input.get(parts.host.clone())?);
            if input.as_bytes().get(parts.path_start) != Some(&b'/') {
                text.push('/');
            }
            text.push_str(input.get(parts.path_start..)?);
            text
        };
        let (host_start, host_end) = (scheme_end, scheme_end + parts.host.len());
        if parts.upper {
            text.get_mut(host_start..host_end)?.make_ascii_lowercase();
        }
        let path_end = host_end + (parts.query_start - parts.path_start).max(1);
        Some(CanonicalUrl {
            scheme_len: parts.scheme.len(),
            host: host_start..host_end,
            path_end,
            text,
            kind: HostKind::Domain,
            prints,
        })
    }

    /// Every Safe Browsing step, for any input.
    pub(crate) fn parse_general(input: &[u8]) -> Result<CanonicalUrl, UrlError> {
        // Most URLs need no cleaning, unescaping or path resolution: those steps borrow instead of copying.
        let cleaned: Cow<'_, [u8]> = if input.iter().any(|b| matches!(b, b'\t' | b'\r' | b'\n')) {
            Cow::Owned(
                input
                    .iter()
                    .copied()
                    .filter(|b| !matches!(b, b'\t' | b'\r' | b'\n'))
                    .collect(),
            )
        } else {
            Cow::Borrowed(input)
        };
        let trimmed = trim_controls(&cleaned);
        if trimmed.is_empty() {
            return Err(UrlError::Empty);
        }
        let without_fragment = match trimmed.iter().position(|&b| b == b'#') {
            Some(at) => trimmed.get(..at).unwrap_or_default(),
            None => trimmed,
        };
        let unescaped: Cow<'_, [u8]> = if without_fragment.contains(&b'%') {
            Cow::Owned(unescape_fully(without_fragment))
        } else {
            Cow::Borrowed(without_fragment)
        };
        let (scheme, rest) = split_scheme(&unescaped)?;
        // After the scheme, any run of slashes (or backslashes) introduces the authority.
        let rest = trim_start_matches(rest, |b| b == b'/' || b == b'\\');
        let authority_end = rest
            .iter()
            .position(|&b| matches!(b, b'/' | b'\\' | b'?'))
            .unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        let (host, kind) = canonical_host(authority)?;

        let (path, query) = match path_and_query.iter().position(|&b| b == b'?') {
            Some(at) => (
                path_and_query.get(..at).unwrap_or_default(),
                path_and_query.get(at + 1..),
            ),
            None => (path_and_query, None),
        };
        let path = canonical_path(path);

        let mut text = String::with_capacity(scheme.len() + 3 + host.len() + path.len() + 8);
        text.push_str(scheme);
        text.push_str("://");
        let host_start = text.len();
        escape_into(&mut text, &host);
        let host_end = text.len();
        escape_into(&mut text, &path);
        let path_end = text.len();
        if let Some(query) = query {
            text.push('?');
            escape_into(&mut text, query);
        }
        Ok(CanonicalUrl {
            scheme_len: scheme.len(),
            host: host_start..host_end,
            path_end,
            text,
            kind,
            prints: HostPrints::default(),
        })
    }

    /// The whole canonical URL.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `http`, `https`, `ws` or `wss`.
    pub fn scheme(&self) -> &str {
        self.text.get(..self.scheme_len).unwrap_or_default()
    }

    /// The canonical host: lower case, punycode, dotted-decimal IPv4, bracketed IPv6; never empty.
    pub fn host(&self) -> &str {
        self.text.get(self.host.clone()).unwrap_or_default()
    }

    /// The host suffixes' fingerprints, if [`CanonicalUrl::parse_for`] computed them.
    pub(crate) fn prints(&self) -> &HostPrints {
        &self.prints
    }

    /// What kind of host this is.
    pub fn host_kind(&self) -> HostKind {
        self.kind
    }

    /// The path, starting with `/`.
    pub fn path(&self) -> &str {
        self.text.get(self.host.end..self.path_end).unwrap_or("/")
    }

    /// The query without its `?`, if the URL has one (possibly empty: `http://a/q?` has `Some("")`).
    pub fn query(&self) -> Option<&str> {
        self.text.get(self.path_end..)?.strip_prefix('?')
    }

    /// Host, path and query: the part of the URL that list expressions are matched against.
    pub fn host_path_query(&self) -> &str {
        self.text.get(self.host.start..).unwrap_or_default()
    }
}

impl fmt::Display for CanonicalUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for CanonicalUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CanonicalUrl::parse(s)
    }
}

fn trim_controls(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b > b' ').unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b > b' ')
        .map_or(start, |at| at + 1);
    bytes.get(start..end).unwrap_or_default()
}

fn trim_start_matches(bytes: &[u8], mut drop: impl FnMut(u8) -> bool) -> &[u8] {
    let start = bytes.iter().position(|&b| !drop(b)).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-unescapes until nothing changes, in one linear pass.
///
/// Escapes never overlap (a `%` is not a hex digit), so decoding is confluent: reducing each `%XX` as soon as it
/// appears at the end of the output reaches the same result as repeated whole-string passes, without their
/// quadratic cost on inputs such as `%25252525…`.
pub(crate) fn unescape_fully(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    for &b in input {
        out.push(b);
        while let [.., b'%', high, low] = out.as_slice() {
            let (Some(high), Some(low)) = (hex_value(*high), hex_value(*low)) else {
                break;
            };
            out.truncate(out.len() - 3);
            out.push(high << 4 | low);
        }
    }
    out
}

/// Splits off and checks the scheme; a URL without one is read as `http`.
fn split_scheme(url: &[u8]) -> Result<(&'static str, &[u8]), UrlError> {
    let scheme_len = url
        .iter()
        .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
        .unwrap_or(url.len());
    let starts_with_letter = url.first().is_some_and(u8::is_ascii_alphabetic);
    let (Some(b':'), true) = (url.get(scheme_len), starts_with_letter) else {
        return Ok(("http", url));
    };
    let name = url.get(..scheme_len).unwrap_or_default();
    let rest = url.get(scheme_len + 1..).unwrap_or_default();
    let known = [
        ("http", "http"),
        ("https", "https"),
        ("ws", "ws"),
        ("wss", "wss"),
    ]
    .into_iter()
    .find(|(id, _)| name.eq_ignore_ascii_case(id.as_bytes()));
    match known {
        Some((_, scheme)) => Ok((scheme, rest)),
        // `example.com:8080/x` and `localhost:3000`: a host and port, not a scheme.
        None if name.contains(&b'.')
            || name.eq_ignore_ascii_case(b"localhost")
            || rest.first().is_some_and(u8::is_ascii_digit) =>
        {
            Ok(("http", url))
        }
        None => Err(UrlError::UnsupportedScheme),
    }
}

/// The canonical host of an authority (`user:pass@host:port`), unescaped but not yet re-escaped.
fn canonical_host(authority: &[u8]) -> Result<(Cow<'_, [u8]>, HostKind), UrlError> {
    let host_port = match authority.iter().rposition(|&b| b == b'@') {
        Some(at) => authority.get(at + 1..).unwrap_or_default(),
        None => authority,
    };
    if host_port.first() == Some(&b'[') {
        let close = host_port
            .iter()
            .position(|&b| b == b']')
            .ok_or(UrlError::Malformed)?;
        check_port(host_port.get(close + 1..).unwrap_or_default())?;
        let literal = host_port.get(..=close).unwrap_or_default();
        let literal = std::str::from_utf8(literal).map_err(|_| UrlError::Malformed)?;
        return match ::url::Host::parse(literal) {
            Ok(::url::Host::Ipv6(ip)) => {
                Ok((Cow::Owned(format!("[{ip}]").into_bytes()), HostKind::Ipv6))
            }
            _ => Err(UrlError::Malformed),
        };
    }
    let host = match host_port.iter().position(|&b| b == b':') {
        Some(at) => {
            check_port(host_port.get(at..).unwrap_or_default())?;
            host_port.get(..at).unwrap_or_default()
        }
        None => host_port,
    };
    if let Some(simple) = simple_domain(host) {
        return Ok((simple, HostKind::Domain));
    }
    let host = collapse_dots(host);
    if host.is_empty() {
        return Err(UrlError::NoHost);
    }
    // Brackets belong only around IPv6 addresses.
    if host.contains(&b'[') || host.contains(&b']') {
        return Err(UrlError::Malformed);
    }
    // Hosts a browser can open go through the URL Standard's host parser: IDNA to punycode, IPv4 in every
    // notation. Hosts it rejects (spaces, `#`, bytes that are not UTF-8) keep their bytes, lower-cased, so that
    // Safe Browsing's canonical form still exists for them.
    if let Ok(text) = std::str::from_utf8(&host) {
        match ::url::Host::parse(text) {
            Ok(::url::Host::Ipv4(ip)) => {
                return Ok((Cow::Owned(ip.to_string().into_bytes()), HostKind::Ipv4));
            }
            Ok(::url::Host::Domain(domain)) => {
                let domain = collapse_dots(domain.as_bytes());
                if !domain.is_empty() {
                    return Ok((Cow::Owned(domain), HostKind::Domain));
                }
            }
            _ => {}
        }
    }
    Ok((Cow::Owned(host.to_ascii_lowercase()), HostKind::Domain))
}

/// Where the pieces of a plain URL (see [`CanonicalUrl::already_plain`]) are in its input.
struct PlainParts {
    scheme: &'static str,
    /// Whether the input's scheme is in lower case already.
    scheme_lower: bool,
    host: Range<usize>,
    /// Whether the host has upper-case letters.
    upper: bool,
    /// The path starts after the host and port (it may be empty) and ends at the `?` or the end.
    path_start: usize,
    query_start: usize,
}

/// Decides whether a URL is plain (see [`CanonicalUrl::already_plain`]) and where its pieces are; `None` as
/// soon as it is not. The checks are those of [`simple_domain`] and [`canonical_path`]'s plain case, made in
/// one scan of the host (sixteen bytes at a time where the processor allows) and one of the path and query.
fn plain_parts(input: &[u8], on_host: impl FnOnce(&[u8], Option<u64>)) -> Option<PlainParts> {
    let (scheme, host_start, scheme_lower) = if input.starts_with(b"https://") {
        ("https", 8, true)
    } else if input.starts_with(b"http://") {
        ("http", 7, true)
    } else if starts_with_ignore_case(input, b"https://") {
        ("https", 8, false)
    } else if starts_with_ignore_case(input, b"http://") {
        ("http", 7, false)
    } else if starts_with_ignore_case(input, b"wss://") {
        ("wss", 6, input.starts_with(b"wss://"))
    } else if starts_with_ignore_case(input, b"ws://") {
        ("ws", 5, input.starts_with(b"ws://"))
    } else {
        return None;
    };
    let rest = input.get(host_start..)?;
    // The host: letters, digits, `-`, `_` and `.`; no empty label; `--` only checked further below.
    let HostScan {
        len,
        last_dot,
        dots,
        upper,
        double_hyphen,
    } = scan_host(rest)?;
    let mut at = len;
    let host = rest.get(..at)?;
    let last = host.get(last_dot.map_or(0, |dot| dot + 1)..)?;
    if needs_host_parser(host, last, double_hyphen) {
        return None;
    }
    if !upper {
        // The dots that start parent domains: all but the last (known for hosts of up to 64 bytes).
        let parents = (len <= 64).then(|| last_dot.map_or(0, |last| dots & !(1u64 << last)));
        on_host(host, parents);
    }
    // A port: digits only.
    if rest.get(at) == Some(&b':') {
        at += 1;
        while rest.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
    }
    let authority_end = at;
    if !matches!(rest.get(authority_end), None | Some(b'/' | b'?')) {
        return None;
    }
    // The path: printable, no `%`, `#` or `\\`, no `//` or `/.`; then the query, printable likewise.
    let query_at = at + scan_path(rest.get(at..)?)?;
    Some(PlainParts {
        scheme,
        scheme_lower,
        host: host_start..host_start + host.len(),
        upper,
        path_start: host_start + authority_end,
        query_start: host_start + query_at,
    })
}

/// What [`scan_host`] found.
#[derive(Debug, PartialEq, Eq)]
struct HostScan {
    /// Length of the host: the bytes before the first that is not a letter, digit, `-`, `_` or `.`.
    len: usize,
    /// Where its last dot is.
    last_dot: Option<usize>,
    /// Bit `i` set where byte `i` is a dot, for the first 64 bytes.
    dots: u64,
    /// Whether it has upper-case letters.
    upper: bool,
    /// Whether it has `--` somewhere.
    double_hyphen: bool,
}

/// The plain host at the start of `rest`: where it ends, where its dots are, and whether it has upper case or
/// `--`. `None` when it is empty or has an empty label (a leading, trailing or double dot).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
fn scan_host(rest: &[u8]) -> Option<HostScan> {
    // SAFETY: the function only needs SSE2, which is part of the x86_64 baseline: every x86_64 processor has it.
    unsafe { scan_host_sse2(rest) }
}

/// [`scan_host`] where SSE2 is not known to exist: one byte at a time.
#[cfg(not(target_arch = "x86_64"))]
fn scan_host(rest: &[u8]) -> Option<HostScan> {
    scan_host_bytewise(rest)
}

/// [`scan_host`] sixteen bytes at a time: compares classify the bytes, bit masks do the rest.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn scan_host_sse2(rest: &[u8]) -> Option<HostScan> {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cmpeq_epi8, _mm_cmpgt_epi8, _mm_cmplt_epi8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8, _mm_slli_epi16,
    };
    let splat = |b: u8| _mm_set1_epi8(b.cast_signed());
    let bits = |v: __m128i| _mm_movemask_epi8(v).cast_unsigned();
    let mut at = 0;
    let mut last_dot = None;
    let mut dots = 0u64;
    let mut upper = 0;
    let mut double_hyphen = false;
    // A dot before the host, so that a leading dot counts as an empty label.
    let mut dot_before = true;
    let mut hyphen_before = false;
    loop {
        let v = load16(rest, at);
        // Signed compares: bytes from 0x80 up are negative, so never in a range.
        let in_range = |v: __m128i, lo: u8, hi: u8| {
            _mm_and_si128(
                _mm_cmpgt_epi8(v, splat(lo - 1)),
                _mm_cmplt_epi8(v, splat(hi + 1)),
            )
        };
        // A letter of either case, folded to lower case (only letters land in `a`..=`z` this way).
        let letter = in_range(_mm_or_si128(v, splat(0x20)), b'a', b'z');
        let dot = _mm_cmpeq_epi8(v, splat(b'.'));
        let hyphen = _mm_cmpeq_epi8(v, splat(b'-'));
        let ok = _mm_or_si128(
            _mm_or_si128(letter, in_range(v, b'0', b'9')),
            _mm_or_si128(_mm_or_si128(dot, hyphen), _mm_cmpeq_epi8(v, splat(b'_'))),
        );
        // The bytes of the host in this block: those before the first that is not a host byte.
        let len = (!bits(ok) & 0xffff).trailing_zeros().min(16);
        let inside = (1u32 << len) - 1;
        let dot = bits(dot) & inside;
        let hyphen = bits(hyphen) & inside;
        // Upper case: a letter whose bit 5 (moved to bit 7 of its byte) is clear.
        upper |= bits(letter) & !bits(_mm_slli_epi16(v, 2)) & inside;
        // A dot right after a dot (or at the start) is an empty label; `--` likewise across blocks.
        if dot & ((dot << 1) | u32::from(dot_before)) != 0 {
            return None;
        }
        double_hyphen |= hyphen & ((hyphen << 1) | u32::from(hyphen_before)) != 0;
        if dot != 0 {
            last_dot = Some(at + (31 - dot.leading_zeros()) as usize);
            dots |= u64::from(dot).checked_shl(at as u32).unwrap_or(0);
        }
        if len < 16 {
            let end = at + len as usize;
            let ends_with_dot = match len.checked_sub(1) {
                None => dot_before,
                Some(last) => dot >> last & 1 != 0,
            };
            if end == 0 || ends_with_dot {
                return None;
            }
            return Some(HostScan {
                len: end,
                last_dot,
                dots,
                upper: upper != 0,
                double_hyphen,
            });
        }
        dot_before = dot >> 15 != 0;
        hyphen_before = hyphen >> 15 != 0;
        at += 16;
    }
}

/// The sixteen bytes of `bytes` from `at`, zeros past the end (which are not host bytes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn load16(bytes: &[u8], at: usize) -> std::arch::x86_64::__m128i {
    let mut block = [0u8; 16];
    match bytes.get(at..at + 16) {
        Some(sixteen) => block.copy_from_slice(sixteen),
        None => {
            for (to, &byte) in block.iter_mut().zip(bytes.get(at..).unwrap_or_default()) {
                *to = byte;
            }
        }
    }
    let (halves, _) = block.as_chunks::<8>();
    let (lo, hi) = match halves {
        [lo, hi] => (i64::from_le_bytes(*lo), i64::from_le_bytes(*hi)),
        _ => (0, 0),
    };
    std::arch::x86_64::_mm_set_epi64x(hi, lo)
}

/// Whether the path and query at the start of `rest` (to its end) are plain: printable ASCII without `%`, `#`
/// or `\\`, and in the path (before the first `?`) no `/` followed by `/` or `.`. Where the query starts (the
/// `?`, or the end). One byte at a time: paths are short, and a sixteen-byte scan was no faster.
fn scan_path(rest: &[u8]) -> Option<usize> {
    let mut at = 0;
    let mut previous = 0u8;
    while let Some(&b) = rest.get(at) {
        let class = byte_class(&PATH_CLASS, b);
        if class == 0 || (previous == b'/' && class == 2) {
            return None;
        }
        if b == b'?' {
            break;
        }
        previous = b;
        at += 1;
    }
    let all_printable = rest
        .get(at..)?
        .iter()
        .fold(true, |ok, &b| ok & (byte_class(&PATH_CLASS, b) != 0));
    all_printable.then_some(at)
}

/// [`scan_host`] one byte at a time (and the reference the tests hold the fast scan to).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn scan_host_bytewise(rest: &[u8]) -> Option<HostScan> {
    let mut at = 0;
    let mut previous = b'.';
    let mut upper = false;
    let mut last_dot = None;
    let mut dots = 0u64;
    let mut double_hyphen = false;
    while let Some(&b) = rest.get(at) {
        let class = byte_class(&HOST_CLASS, b);
        if class == 0 {
            break;
        }
        if b == b'.' {
            if previous == b'.' {
                return None;
            }
            last_dot = Some(at);
            dots |= 1u64.checked_shl(at as u32).unwrap_or(0);
        }
        upper |= class == 2;
        double_hyphen |= (b == b'-') & (previous == b'-');
        previous = b;
        at += 1;
    }
    if at == 0 || previous == b'.' {
        return None;
    }
    Some(HostScan {
        len: at,
        last_dot,
        dots,
        upper,
        double_hyphen,
    })
}

/// Path and query bytes that canonicalisation leaves alone: 0 for those it changes (controls, space, non-ASCII,
/// `%`, `#`, `\\`), 2 for `/` and `.` (which may not follow a `/` in a plain path), 1 for the rest.
#[allow(clippy::indexing_slicing)] // b < 256 indexes a 256-entry table
static PATH_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b'/' | b'.' => 2,
            b'%' | b'#' | b'\\' => 0,
            0x21..=0x7e => 1,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// The common case, decided without the URL Standard's host parser: an ASCII name of letters, digits, `-` and
/// `_`, with dots only between labels, and no label that could make it an IPv4 address (the last label
/// numeric or hex) or need IDNA validation (`xn--`). The host parser would return such a name unchanged
/// but for case, so lower-casing it is the whole canonicalisation.
fn simple_domain(host: &[u8]) -> Option<Cow<'_, [u8]>> {
    // Branch-free class scan, then the rare cases by search.
    let (valid, upper) = host.iter().fold((true, false), |(valid, upper), &b| {
        let class = byte_class(&HOST_CLASS, b);
        (valid & (class != 0), upper | (class == 2))
    });
    let empty_label = host.first() == Some(&b'.')
        || host.last() == Some(&b'.')
        || host.windows(2).any(|pair| pair == b"..");
    if !valid || host.is_empty() || empty_label {
        return None;
    }
    let last = host.rsplit(|&b| b == b'.').next()?;
    if needs_host_parser(host, last, true) {
        return None;
    }
    Some(if upper {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    })
}

/// Whether a name of plain host bytes still needs the URL Standard's host parser: its last label is numeric or
/// hex (it may be an IPv4 address) or it has an `xn--` label (IDNA validation). `may_be_punycode` false skips the
/// `xn--` search (a name without `--` has none).
fn needs_host_parser(host: &[u8], last_label: &[u8], may_be_punycode: bool) -> bool {
    last_label.iter().all(u8::is_ascii_digit)
        || last_label
            .get(..2)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"0x"))
        || (may_be_punycode && host.windows(4).any(|w| w.eq_ignore_ascii_case(b"xn--")))
}

/// A byte's entry in a 256-entry table.
#[allow(clippy::indexing_slicing)] // a u8 always indexes a 256-entry table
fn byte_class<T: Copy>(table: &[T; 256], b: u8) -> T {
    table[usize::from(b)]
}

/// Host bytes: 0 not allowed in a plain name, 1 lower-case letter, digit, `-`, `_` or `.`, 2 upper-case letter.
#[allow(clippy::indexing_slicing)] // b < 256 indexes a 256-entry table
static HOST_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => 1,
            b'A'..=b'Z' => 2,
            _ => 0,
        };
        b += 1;
    }
    table
};

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// `:` followed by digits (or nothing) is a port, which canonical URLs drop.
fn check_port(port: &[u8]) -> Result<(), UrlError> {
    match port.split_first() {
        None => Ok(()),
        Some((b':', digits)) if digits.iter().all(u8::is_ascii_digit) => Ok(()),
        _ => Err(UrlError::Malformed),
    }
}

/// Drops leading and trailing dots and collapses runs of dots into one.
fn collapse_dots(host: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(host.len());
    for label in host.split(|&b| b == b'.').filter(|label| !label.is_empty()) {
        if !out.is_empty() {
            out.push(b'.');
        }
        out.extend_from_slice(label);
    }
    out
}

/// Resolves `.` and `..`, collapses runs of slashes, and keeps a trailing slash where the path ends in a
/// directory.
fn canonical_path(path: &[u8]) -> Cow<'_, [u8]> {
    let plain = path.first() == Some(&b'/')
        && !path.contains(&b'\\')
        && !path.windows(2).any(|pair| pair == b"//" || pair == b"/.");
    if plain {
        return Cow::Borrowed(path);
    }
    let mut segments: Vec<&[u8]> = Vec::new();
    let mut directory = true;
    for segment in path.split(|&b| b == b'/' || b == b'\\') {
        match segment {
            b"" => {}
            b"." => directory = true,
            b".." => {
                segments.pop();
                directory = true;
            }
            _ => {
                segments.push(segment);
                directory = false;
            }
        }
    }
    if path.last().is_some_and(|&b| b == b'/' || b == b'\\') {
        directory = true;
    }
    let mut out = Vec::with_capacity(path.len() + 1);
    for segment in &segments {
        out.push(b'/');
        out.extend_from_slice(segment);
    }
    if directory || segments.is_empty() {
        out.push(b'/');
    }
    Cow::Owned(out)
}

/// Appends `bytes`, escaping those Safe Browsing escapes: ≤ 0x20, ≥ 0x7f, `#` and `%`.
fn escape_into(out: &mut String, bytes: &[u8]) {
    fn hex_digit(n: u8) -> char {
        char::from(if n < 10 { b'0' + n } else { b'A' + n - 10 })
    }
    let escaped = |b: u8| b <= 0x20 || b >= 0x7f || b == b'#' || b == b'%';
    if !bytes.iter().any(|&b| escaped(b)) {
        // Nothing to escape means printable ASCII only.
        out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
        return;
    }
    for &b in bytes {
        if escaped(b) {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0xf));
        } else {
            out.push(char::from(b));
        }
    }
}

/// The Safe Browsing lookup expressions of a canonical URL: host suffixes × path prefixes, most specific first.
///
/// Hosts: the exact host, then (for domain names) up to four more formed from the last five labels by removing
/// the leading label one at a time, never the top-level domain alone. Paths: the exact path with its query, the
/// exact path without it, then up to four directory prefixes from `/`. At most 30 expressions.
///
/// ```
/// use haven_core::url::{lookup_expressions, CanonicalUrl};
///
/// let url = CanonicalUrl::parse("http://a.b.c/1/2.html?param=1")?;
/// assert_eq!(
///     lookup_expressions(&url),
///     ["a.b.c/1/2.html?param=1", "a.b.c/1/2.html", "a.b.c/", "a.b.c/1/",
///      "b.c/1/2.html?param=1", "b.c/1/2.html", "b.c/", "b.c/1/"],
/// );
/// # Ok::<(), haven_core::url::UrlError>(())
/// ```
pub fn lookup_expressions(url: &CanonicalUrl) -> Vec<String> {
    let paths = path_prefixes(url);
    let mut out = Vec::new();
    for host in safe_browsing_hosts(url) {
        for path in &paths {
            out.push(format!("{host}{path}"));
        }
    }
    out
}

/// Safe Browsing's host suffixes: the exact host and up to four from the last five labels.
fn safe_browsing_hosts(url: &CanonicalUrl) -> Vec<&str> {
    let host = url.host();
    let mut hosts = vec![host];
    if url.host_kind() != HostKind::Domain {
        return hosts;
    }
    let labels = host.split('.').count();
    let mut suffix = host;
    for remaining in (2..labels).rev() {
        if let Some((_, rest)) = suffix.split_once('.') {
            suffix = rest;
        }
        // Only the last five labels count, and the top-level domain alone never does.
        if remaining <= 5 {
            hosts.push(suffix);
        }
    }
    hosts
}

/// Safe Browsing's path prefixes: exact path with and without the query, then up to four directories.
pub(crate) fn path_prefixes(url: &CanonicalUrl) -> Vec<&str> {
    let path = url.path();
    let with_query = url.text.get(url.host.end..).unwrap_or(path);
    let mut paths = vec![with_query];
    if with_query != path {
        paths.push(path);
    }
    let mut directories = 0;
    for (at, b) in path.bytes().enumerate() {
        if b != b'/' {
            continue;
        }
        if directories == 4 {
            break;
        }
        directories += 1;
        let prefix = path.get(..=at).unwrap_or("/");
        if !paths.contains(&prefix) {
            paths.push(prefix);
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{HostScan, scan_host, scan_host_bytewise};

    #[test]
    fn host_scan_examples() {
        let scan = |s: &str| scan_host(s.as_bytes());
        assert_eq!(
            scan("www.Example-1_x.com/a"),
            Some(HostScan {
                len: 19,
                last_dot: Some(15),
                dots: 1 << 3 | 1 << 15,
                upper: true,
                double_hyphen: false
            })
        );
        assert_eq!(
            scan("abcdefgh"),
            Some(HostScan {
                len: 8,
                last_dot: None,
                dots: 0,
                upper: false,
                double_hyphen: false
            })
        );
        assert_eq!(scan("abcdefg-.-xyz:80").map(|s| s.len), Some(13));
        assert!(scan("abcdefg--xyz").is_some_and(|s| s.double_hyphen));
        assert!(scan("abcdefg-").is_some_and(|s| !s.double_hyphen));
        for bad in [
            "",
            "/",
            ".a",
            "a.",
            "a..b",
            "abcdefg..b",
            "abcdefgh.",
            "abcdefg.",
            "abcdefgh./",
        ] {
            assert_eq!(scan(bad), None, "{bad:?}");
        }
    }

    proptest! {
        /// The fast host scan finds what the byte loop finds, whatever the bytes (non-ASCII, every length across
        /// block boundaries, separators, dots and hyphens in runs).
        #[test]
        fn host_scan_is_the_byte_loop(
            rest in proptest::collection::vec(
                prop_oneof![
                    4 => proptest::sample::select(b"aZz0-9._-.AqQ".to_vec()),
                    1 => any::<u8>(),
                ],
                0..80,
            )
        ) {
            prop_assert_eq!(scan_host(&rest), scan_host_bytewise(&rest));
        }

    }
}
