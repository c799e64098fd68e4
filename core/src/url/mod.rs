//! The URL engine: may this child open this URL?
//!
//! Three stages, as in Brave's adblock-rust, so that the expensive work happens once, ahead of time:
//!
//! 1. **Parse**: [`CanonicalUrl`] canonicalises a URL exactly as Google Safe Browsing does (percent-unescaping,
//!    dot and IPv4 normalisation, path resolution, escaping), so that `http://3279880203/%2E%2E/x` and
//!    `HTTP://195.127.0.11/x` are the same URL. [`list`] reads block lists in the formats families and operators
//!    already use (plain domains, hosts files, the Adblock domain subset, URL-prefix lists).
//! 2. **Compile**: [`compiled`] turns a parsed list into an immutable file of 64-bit fingerprints in ordered
//!    hash tables with a versioned, checksummed header; it opens by memory-mapping, without parsing.
//! 3. **Match**: [`UrlEngine`] holds any number of compiled category lists and answers with the list, version
//!    and expression that matched; [`crate::Haven::check_url`] weighs that against the profile.
//!
//! [`safesearch`] rewrites search URLs to their safe modes and tells a DNS filter which names to redirect.
//!
//! Errors never contain the URL: what a child browses is private.

mod builtin;
mod canon;
pub mod compiled;
mod engine;
pub mod list;
#[cfg(test)]
mod list_tests;
pub mod safesearch;
#[cfg(test)]
mod tests;

pub use builtin::{ADULT_EXCLUSIONS, SEED_LISTS, seed_lists};
pub use canon::{CanonicalUrl, HostKind, lookup_expressions};
pub use compiled::{CompiledList, CompiledListError};
pub use engine::{ListMatch, ListMatches, UrlEngine};
pub use list::{ListError, ListFormat, ListMeta, ParseMode, ParsedList};

/// Longest URL accepted, in bytes (browsers cap URLs around this size too).
pub const MAX_URL_BYTES: usize = 16 * 1024;

/// Why a URL could not be checked. Carries no part of the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The input was empty or only whitespace.
    #[error("URL is empty")]
    Empty,
    /// The input is longer than [`MAX_URL_BYTES`].
    #[error("URL is longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The input is not a URL.
    #[error("URL is malformed")]
    Malformed,
    /// The scheme is not one Haven checks (only http, https, ws and wss are).
    #[error("URL scheme is not supported (http, https, ws and wss are)")]
    UnsupportedScheme,
    /// The URL has no host.
    #[error("URL has no host")]
    NoHost,
}

/// The canonical host of a web URL ([`CanonicalUrl::host`]): lower case, internationalised names as punycode, no
/// leading or trailing dots, IPv6 addresses in brackets, IPv4 in dotted decimal (whatever form it was written in).
///
/// A bare host or a URL without a scheme (`example.com/path`) is read as `http://`.
///
/// # Examples
///
/// ```
/// use haven_core::url::{host_of, UrlError};
///
/// assert_eq!(host_of("https://WWW.Example.COM./a?b#c")?, "www.example.com");
/// assert_eq!(host_of("bücher.de/katalog")?, "xn--bcher-kva.de");
/// assert_eq!(host_of("http://0x7f.1/")?, "127.0.0.1");
/// assert_eq!(host_of("mailto:someone@example.com"), Err(UrlError::UnsupportedScheme));
/// # Ok::<(), UrlError>(())
/// ```
pub fn host_of(input: &str) -> Result<String, UrlError> {
    let url = CanonicalUrl::parse(input)?;
    Ok(url.host().to_owned())
}

/// The registrable domain of a host according to the Public Suffix List (`www.example.co.uk` →
/// `example.co.uk`), or `None` when the host is itself a public suffix, an IP address, or not a valid name.
///
/// Unicode and punycode hosts both work and the answer keeps the form it was given in.
///
/// ```
/// use haven_core::url::registrable_domain;
///
/// assert_eq!(registrable_domain("a.b.example.co.uk").as_deref(), Some("example.co.uk"));
/// assert_eq!(registrable_domain("www.食狮.公司.cn").as_deref(), Some("食狮.公司.cn"));
/// assert_eq!(registrable_domain("co.uk"), None);
/// ```
pub fn registrable_domain(host: &str) -> Option<String> {
    let host = host.to_lowercase();
    if host.is_empty() || host.split('.').any(str::is_empty) {
        return None;
    }
    let ascii = match ::url::Host::parse(&host).ok()? {
        ::url::Host::Domain(domain) => domain,
        _ => return None,
    };
    let domain = psl::domain(ascii.as_bytes())?;
    let labels = domain.as_bytes().split(|&b| b == b'.').count();
    // Same number of labels, taken from the host as given (Unicode stays Unicode).
    let skip = host.split('.').count().checked_sub(labels)?;
    Some(host.split('.').skip(skip).collect::<Vec<_>>().join("."))
}
