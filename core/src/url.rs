//! URL handling for checks: turning what a child's app asks about into the host that policies and lists match.
//!
//! This is the entry stage of the URL engine; Safe Browsing canonicalisation and compiled category lists build on
//! it. Errors never contain the URL: what a child browses is private.

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

/// The normalised host of a web URL: lower case, internationalised names as punycode, no trailing dot, IPv6
/// addresses without brackets, IPv4 in dotted decimal (whatever form it was written in).
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
    let input = input.trim();
    if input.is_empty() {
        return Err(UrlError::Empty);
    }
    if input.len() > MAX_URL_BYTES {
        return Err(UrlError::TooLong { max: MAX_URL_BYTES });
    }
    let parsed = match ::url::Url::parse(input) {
        Ok(url) if url.has_host() => url,
        // No host: either another kind of URL (`mailto:`), or a bare `host:port` read as a scheme.
        Ok(url) => reparse_as_http(input, url.scheme())?,
        Err(::url::ParseError::RelativeUrlWithoutBase) => {
            ::url::Url::parse(&format!("http://{input}")).map_err(|_| UrlError::Malformed)?
        }
        Err(_) => return Err(UrlError::Malformed),
    };
    if !matches!(parsed.scheme(), "http" | "https" | "ws" | "wss") {
        return Err(UrlError::UnsupportedScheme);
    }
    let host = match parsed.host() {
        Some(::url::Host::Domain(domain)) => domain.trim_end_matches('.').to_owned(),
        Some(::url::Host::Ipv4(ip)) => ip.to_string(),
        Some(::url::Host::Ipv6(ip)) => ip.to_string(),
        None => return Err(UrlError::NoHost),
    };
    if host.is_empty() {
        return Err(UrlError::NoHost);
    }
    Ok(host)
}

/// `localhost:8080` and `example.com:80/x` parse with the host as the scheme; read them as http URLs instead.
fn reparse_as_http(input: &str, scheme: &str) -> Result<::url::Url, UrlError> {
    if scheme.contains('.') || scheme == "localhost" {
        ::url::Url::parse(&format!("http://{input}")).map_err(|_| UrlError::Malformed)
    } else {
        Err(UrlError::UnsupportedScheme)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalised() {
        let cases = [
            ("https://WWW.Example.COM./a?b#c", "www.example.com"),
            ("example.com", "example.com"),
            ("example.com/path?q=1", "example.com"),
            ("example.com:8080/x", "example.com"),
            ("localhost:3000", "localhost"),
            ("http://user:pass@Example.org:81/", "example.org"),
            ("https://bücher.de/", "xn--bcher-kva.de"),
            ("http://3279880203/", "195.127.0.11"),
            ("http://0x7f.1/", "127.0.0.1"),
            ("http://[::1]:80/", "::1"),
            ("ws://chat.example.net/socket", "chat.example.net"),
            ("  https://example.com  ", "example.com"),
        ];
        for (input, host) in cases {
            assert_eq!(host_of(input).as_deref(), Ok(host), "{input}");
        }
    }

    #[test]
    fn bad_urls_are_typed_errors() {
        let cases = [
            ("", UrlError::Empty),
            ("   ", UrlError::Empty),
            ("mailto:someone@example.com", UrlError::UnsupportedScheme),
            ("ftp://example.com/file", UrlError::UnsupportedScheme),
            ("javascript:alert(1)", UrlError::UnsupportedScheme),
            ("http://", UrlError::Malformed),
            ("http://exa mple.com/", UrlError::Malformed),
            ("http://[::1/", UrlError::Malformed),
        ];
        for (input, error) in cases {
            assert_eq!(host_of(input), Err(error), "{input:?}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_BYTES));
        assert_eq!(
            host_of(&long),
            Err(UrlError::TooLong { max: MAX_URL_BYTES })
        );
    }

    #[test]
    fn errors_never_repeat_the_url() {
        for input in [
            "http://secret-site.example/",
            "mailto:secret@example.com",
            "http://[secret",
        ] {
            if let Err(e) = host_of(input) {
                assert!(!e.to_string().contains("secret"), "{e}");
                assert!(!format!("{e:?}").contains("secret"), "{e:?}");
            }
        }
    }
}
