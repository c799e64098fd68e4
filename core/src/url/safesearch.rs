//! SafeSearch and restricted mode: search results without explicit content, and keeping browsers on the
//! family's DNS.
//!
//! Two ways to enforce it, for two kinds of integrator:
//!
//! - **In the app or proxy** ([`rewrite`]): a search URL for Google, Bing or DuckDuckGo gets the engine's own
//!   safe-mode parameter (`safe=active`, `adlt=strict`, `kp=1`); YouTube has no such parameter and takes the
//!   [`restrict_header`] instead (`YouTube-Restrict: Strict`).
//! - **In a DNS filter** ([`dns_override`]): the engines' search host names are answered with their
//!   safe-mode names as a CNAME (`forcesafesearch.google.com`, `strict.bing.com`, `safe.duckduckgo.com`,
//!   `restrict.youtube.com` or `restrictmoderate.youtube.com`), and the canary names that tell browsers and
//!   devices whether to bypass local DNS (`use-application-dns.net` for Firefox's DNS over HTTPS,
//!   `mask.icloud.com` and `mask-h2.icloud.com` for iCloud Private Relay) get NXDOMAIN, which switches
//!   the bypass off.
//!
//! ```
//! use haven_core::url::safesearch::{dns_override, rewrite, DnsOverride, SafeSearchMode};
//!
//! let safe = rewrite("https://www.google.co.uk/search?q=cats&safe=off", SafeSearchMode::Strict);
//! assert_eq!(safe.as_deref(), Some("https://www.google.co.uk/search?q=cats&safe=active"));
//! assert_eq!(dns_override("www.bing.com", SafeSearchMode::Strict), Some(DnsOverride::Cname("strict.bing.com")));
//! assert_eq!(dns_override("use-application-dns.net", SafeSearchMode::Off), Some(DnsOverride::NxDomain));
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::policy::{AgeTier, UnknownId};

/// How strictly search engines filter results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SafeSearchMode {
    /// No enforcement.
    Off,
    /// The engines' moderate setting where they have one (YouTube, Bing, DuckDuckGo); strict elsewhere.
    Moderate,
    /// The engines' strictest setting.
    Strict,
}

impl SafeSearchMode {
    /// Every mode.
    pub const ALL: [SafeSearchMode; 3] = [
        SafeSearchMode::Off,
        SafeSearchMode::Moderate,
        SafeSearchMode::Strict,
    ];

    /// The default for an age tier: strict up to 15, moderate at 16–17, off for adults.
    pub fn default_for(tier: AgeTier) -> SafeSearchMode {
        match tier {
            AgeTier::Under9 | AgeTier::Age9To12 | AgeTier::Age13To15 => SafeSearchMode::Strict,
            AgeTier::Age16To17 => SafeSearchMode::Moderate,
            AgeTier::Adult => SafeSearchMode::Off,
        }
    }

    /// `off`, `moderate` or `strict`.
    pub fn id(self) -> &'static str {
        match self {
            SafeSearchMode::Off => "off",
            SafeSearchMode::Moderate => "moderate",
            SafeSearchMode::Strict => "strict",
        }
    }
}

impl fmt::Display for SafeSearchMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for SafeSearchMode {
    type Err = UnknownId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SafeSearchMode::ALL
            .into_iter()
            .find(|m| m.id() == s)
            .ok_or(UnknownId {
                what: "SafeSearch mode",
            })
    }
}

/// What a DNS filter should answer for a name instead of resolving it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnsOverride {
    /// Answer with this name as a CNAME (and its addresses).
    Cname(&'static str),
    /// Answer that the name does not exist.
    NxDomain,
}

/// Names whose NXDOMAIN answer tells a browser or device not to bypass local DNS.
pub const CANARY_DOMAINS: [&str; 3] = [
    "use-application-dns.net",
    "mask.icloud.com",
    "mask-h2.icloud.com",
];

const BING_HOSTS: [&str; 2] = ["bing.com", "www.bing.com"];
const DUCKDUCKGO_HOSTS: [&str; 3] = [
    "duckduckgo.com",
    "www.duckduckgo.com",
    "start.duckduckgo.com",
];
const YOUTUBE_HOSTS: [&str; 5] = [
    "www.youtube.com",
    "m.youtube.com",
    "youtubei.googleapis.com",
    "youtube.googleapis.com",
    "www.youtube-nocookie.com",
];

/// The DNS answer that enforces `mode` for `host` (lower case, no trailing dot), if any. Canary names get
/// NXDOMAIN in every mode: answering them keeps the family's filter in the path, whatever the search setting.
pub fn dns_override(host: &str, mode: SafeSearchMode) -> Option<DnsOverride> {
    if CANARY_DOMAINS.contains(&host) {
        return Some(DnsOverride::NxDomain);
    }
    let target = match (mode, engine_of(host)?) {
        (SafeSearchMode::Off, _) => return None,
        (_, Engine::Google) => "forcesafesearch.google.com",
        (_, Engine::Bing) => "strict.bing.com",
        (_, Engine::DuckDuckGo) => "safe.duckduckgo.com",
        (SafeSearchMode::Strict, Engine::YouTube) => "restrict.youtube.com",
        (SafeSearchMode::Moderate, Engine::YouTube) => "restrictmoderate.youtube.com",
    };
    Some(DnsOverride::Cname(target))
}

/// The HTTP header that puts YouTube into restricted mode for a request to `host`, if it is a YouTube host.
pub fn restrict_header(host: &str, mode: SafeSearchMode) -> Option<(&'static str, &'static str)> {
    match (engine_of(host)?, mode) {
        (Engine::YouTube, SafeSearchMode::Strict) => Some(("YouTube-Restrict", "Strict")),
        (Engine::YouTube, SafeSearchMode::Moderate) => Some(("YouTube-Restrict", "Moderate")),
        _ => None,
    }
}

/// The search URL with the engine's safe-mode parameter, or `None` if the URL is not a search on Google,
/// Bing or DuckDuckGo, or already asks for the mode. Other query parameters are kept as they were.
pub fn rewrite(url: &str, mode: SafeSearchMode) -> Option<String> {
    if mode == SafeSearchMode::Off {
        return None;
    }
    let mut parsed = ::url::Url::parse(url.trim())
        .ok()
        .filter(|u| u.has_host())
        .or_else(|| ::url::Url::parse(&format!("http://{}", url.trim())).ok())?;
    let host = parsed
        .host_str()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let path = parsed.path();
    let (key, value) = match engine_of(&host)? {
        Engine::Google
            if ["/search", "/webhp", "/images"].contains(&path)
                || path == "/" && has_query(&parsed) =>
        {
            ("safe", "active")
        }
        Engine::Bing if path.ends_with("/search") => match mode {
            SafeSearchMode::Moderate => ("adlt", "moderate"),
            _ => ("adlt", "strict"),
        },
        Engine::DuckDuckGo if has_query(&parsed) => match mode {
            SafeSearchMode::Moderate => ("kp", "-1"),
            _ => ("kp", "1"),
        },
        _ => return None,
    };
    let pairs: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    if pairs.iter().any(|(k, v)| k == key && v == value) {
        return None;
    }
    parsed
        .query_pairs_mut()
        .clear()
        .extend_pairs(pairs.iter().filter(|(k, _)| k != key))
        .append_pair(key, value);
    Some(parsed.into())
}

/// Whether `host` (canonical) belongs to a search engine whose URLs [`rewrite`] may change: a cheap test
/// that spares other URLs the full parse.
pub(crate) fn is_search_host(host: &str) -> bool {
    matches!(
        engine_of(host),
        Some(Engine::Google | Engine::Bing | Engine::DuckDuckGo)
    )
}

fn has_query(url: &::url::Url) -> bool {
    url.query_pairs().any(|(k, _)| k == "q")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Google,
    Bing,
    DuckDuckGo,
    YouTube,
}

fn engine_of(host: &str) -> Option<Engine> {
    if BING_HOSTS.contains(&host) {
        Some(Engine::Bing)
    } else if DUCKDUCKGO_HOSTS.contains(&host) {
        Some(Engine::DuckDuckGo)
    } else if YOUTUBE_HOSTS.contains(&host) {
        Some(Engine::YouTube)
    } else if is_google_search_host(host) {
        Some(Engine::Google)
    } else {
        None
    }
}

/// `google.<country suffix>` or `www.google.<country suffix>`, where the suffix is an ICANN public suffix
/// (so `google.co.uk` counts, `google.blogspot.com` does not).
fn is_google_search_host(host: &str) -> bool {
    let rest = host.strip_prefix("www.").unwrap_or(host);
    let Some(suffix) = rest.strip_prefix("google.") else {
        return false;
    };
    match psl::suffix(suffix.as_bytes()) {
        Some(found) => {
            found.as_bytes() == suffix.as_bytes() && found.typ() == Some(psl::Type::Icann)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_urls_get_the_engines_safe_mode() {
        use SafeSearchMode::{Moderate, Off, Strict};
        let cases = [
            (
                "https://www.google.com/search?q=cats",
                Strict,
                Some("https://www.google.com/search?q=cats&safe=active"),
            ),
            (
                "https://www.google.com.br/search?q=gatos&safe=off",
                Strict,
                Some("https://www.google.com.br/search?q=gatos&safe=active"),
            ),
            (
                "google.fr/search?q=chats",
                Moderate,
                Some("http://google.fr/search?q=chats&safe=active"),
            ),
            (
                "https://www.google.com/search?q=a%26b&safe=active",
                Strict,
                None,
            ),
            ("https://www.google.com/maps", Strict, None),
            ("https://google.blogspot.com/search?q=x", Strict, None),
            (
                "https://www.bing.com/search?q=cats",
                Strict,
                Some("https://www.bing.com/search?q=cats&adlt=strict"),
            ),
            (
                "https://www.bing.com/images/search?q=cats&adlt=off",
                Moderate,
                Some("https://www.bing.com/images/search?q=cats&adlt=moderate"),
            ),
            (
                "https://duckduckgo.com/?q=cats",
                Strict,
                Some("https://duckduckgo.com/?q=cats&kp=1"),
            ),
            (
                "https://duckduckgo.com/?q=cats&kp=-2",
                Moderate,
                Some("https://duckduckgo.com/?q=cats&kp=-1"),
            ),
            ("https://duckduckgo.com/about", Strict, None),
            ("https://www.google.com/search?q=cats", Off, None),
            (
                "https://www.youtube.com/results?search_query=cats",
                Strict,
                None,
            ),
            ("https://example.com/search?q=x", Strict, None),
        ];
        for (url, mode, expected) in cases {
            assert_eq!(rewrite(url, mode).as_deref(), expected, "{url} {mode}");
        }
        // Encoded query values survive the rewrite unchanged.
        let safe = rewrite("https://www.google.com/search?q=a%26b+c", Strict).unwrap();
        let pairs: Vec<(String, String)> = ::url::Url::parse(&safe)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(
            pairs,
            [
                ("q".into(), "a&b c".into()),
                ("safe".into(), "active".into())
            ]
        );
    }

    #[test]
    fn dns_filters_get_cnames_and_canaries() {
        use SafeSearchMode::{Moderate, Off, Strict};
        let cases = [
            (
                "www.google.com",
                Strict,
                Some(DnsOverride::Cname("forcesafesearch.google.com")),
            ),
            (
                "google.co.uk",
                Moderate,
                Some(DnsOverride::Cname("forcesafesearch.google.com")),
            ),
            ("mail.google.com", Strict, None),
            ("google.blogspot.com", Strict, None),
            (
                "bing.com",
                Strict,
                Some(DnsOverride::Cname("strict.bing.com")),
            ),
            (
                "start.duckduckgo.com",
                Strict,
                Some(DnsOverride::Cname("safe.duckduckgo.com")),
            ),
            (
                "www.youtube.com",
                Strict,
                Some(DnsOverride::Cname("restrict.youtube.com")),
            ),
            (
                "m.youtube.com",
                Moderate,
                Some(DnsOverride::Cname("restrictmoderate.youtube.com")),
            ),
            (
                "youtubei.googleapis.com",
                Strict,
                Some(DnsOverride::Cname("restrict.youtube.com")),
            ),
            ("www.youtube.com", Off, None),
            ("use-application-dns.net", Off, Some(DnsOverride::NxDomain)),
            ("mask.icloud.com", Strict, Some(DnsOverride::NxDomain)),
            ("mask-h2.icloud.com", Moderate, Some(DnsOverride::NxDomain)),
            ("icloud.com", Strict, None),
        ];
        for (host, mode, expected) in cases {
            assert_eq!(dns_override(host, mode), expected, "{host} {mode}");
        }
        assert_eq!(
            restrict_header("www.youtube.com", Strict),
            Some(("YouTube-Restrict", "Strict"))
        );
        assert_eq!(
            restrict_header("www.youtube.com", Moderate),
            Some(("YouTube-Restrict", "Moderate"))
        );
        assert_eq!(restrict_header("www.youtube.com", Off), None);
        assert_eq!(restrict_header("www.google.com", Strict), None);
    }

    #[test]
    fn modes_default_by_tier_and_parse() {
        assert_eq!(
            SafeSearchMode::default_for(AgeTier::Under9),
            SafeSearchMode::Strict
        );
        assert_eq!(
            SafeSearchMode::default_for(AgeTier::Age13To15),
            SafeSearchMode::Strict
        );
        assert_eq!(
            SafeSearchMode::default_for(AgeTier::Age16To17),
            SafeSearchMode::Moderate
        );
        assert_eq!(
            SafeSearchMode::default_for(AgeTier::Adult),
            SafeSearchMode::Off
        );
        for mode in SafeSearchMode::ALL {
            assert_eq!(mode.id().parse(), Ok(mode));
        }
        assert!("sometimes".parse::<SafeSearchMode>().is_err());
    }
}
