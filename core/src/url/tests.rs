//! Canonicalisation against the Safe Browsing table, the WHATWG inputs and the Public Suffix List tests, plus
//! properties that must hold for any input.

use super::*;

fn shared(path: &str) -> String {
    let full = format!(
        "{}/../../shared/reference/url/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// Decodes the C-style escapes (`\t \r \n \xHH`) the Safe Browsing table uses, into bytes.
fn c_unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            match bytes[i + 1] {
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'n' => out.push(b'\n'),
                b'\\' => out.push(b'\\'),
                b'x' => {
                    let hex = std::str::from_utf8(&bytes[i + 2..i + 4]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                other => panic!("unknown escape \\{}", char::from(other)),
            }
            i += 2;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Both ways through canonicalisation, on the reference table and on plain URLs.
#[test]
fn plain_urls_take_the_one_pass_path() {
    for url in [
        "http://www.example.com/",
        "https://WWW.Example.com:8443/a/b.html?x=1&y=/./",
        "wss://chat.example/socket",
        "http://example.com",
        "http://example.com?q",
    ] {
        let fast = CanonicalUrl::already_plain(url).unwrap_or_else(|| panic!("{url}"));
        assert_eq!(
            Ok(fast),
            CanonicalUrl::parse_general(url.as_bytes()),
            "{url}"
        );
    }
    for url in [
        "http://a.example/%41",
        "http://a.example/./x",
        "http://a.example//x",
        "http://1.2.3.4/",
        "http://xn--bcher-kva.de/",
        "http://a.example/x#f",
        "http://u@a.example/",
        "http://a.example./",
    ] {
        assert!(CanonicalUrl::already_plain(url).is_none(), "{url}");
    }
}

/// The one-pass path tells its caller the host as soon as it has checked it: the canonical host, and only for a
/// plain URL whose host needs no lower-casing (the engine's table reads start from it, see `parse_for`).
#[test]
fn plain_path_reports_the_host_early() {
    let seen = |url: &str| {
        let mut host = None;
        let parsed = CanonicalUrl::already_plain_with(url, |h, _| {
            host = Some(String::from_utf8_lossy(h).into_owned());
            engine::HostPrints::default()
        });
        (parsed.map(|u| u.host().to_owned()), host)
    };
    for (url, host) in [
        ("https://cdn.a.example.com/x1.jpg", "cdn.a.example.com"),
        ("http://example.com:8080?q=1", "example.com"),
        ("wss://chat.example/socket", "chat.example"),
    ] {
        assert_eq!(seen(url), (Some(host.to_owned()), Some(host.to_owned())));
    }
    // Upper case: the host is reported by the check itself, not early.
    assert_eq!(
        seen("http://WWW.Example.com/"),
        (Some("www.example.com".to_owned()), None)
    );
    // Not plain: neither.
    for url in [
        "http://1.2.3.4/",
        "http://xn--bcher-kva.de/",
        "http://a.example./",
        "ftp://a.example/",
    ] {
        assert_eq!(seen(url), (None, None), "{url}");
    }
}

/// `parse_for` (canonicalise with the engine's table reads started early) and `parse` agree, and the check
/// after either finds the same lists.
#[test]
fn parse_for_an_engine_is_parse() {
    let list = ParsedList::parse(
        "# id: t\n# category: gambling\n# version: 1\ncasino.example\n",
        &list::ListOptions::default(),
    )
    .unwrap();
    let engine =
        UrlEngine::new().with_list(CompiledList::from_bytes(compiled::compile(&list)).unwrap());
    let data: serde_json::Value = serde_json::from_str(&shared("whatwg_urltestdata.json")).unwrap();
    let inputs = data
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|case| case.get("input").and_then(|i| i.as_str()));
    let extra = [
        "https://www.casino.example/slots",
        "http://casino.example",
        "http://xcasino.example/",
    ];
    let mut blocked = 0;
    for input in inputs.chain(extra) {
        let url = CanonicalUrl::parse_for(input, &engine);
        assert_eq!(url, CanonicalUrl::parse(input), "{input:?}");
        if let Ok(url) = url {
            blocked += usize::from(!engine.check(&url).is_empty());
        }
    }
    assert_eq!(blocked, 2);
}

#[test]
fn safe_browsing_canonicalisation_table() {
    let table = shared("safe_browsing_canonicalization.tsv");
    let mut cases = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (input, expected) = line.rsplit_once('\t').unwrap();
        let input = c_unescape(input);
        let got = CanonicalUrl::parse_bytes(&input).map(|u| u.as_str().to_owned());
        assert_eq!(
            got.as_deref(),
            Ok(expected),
            "input {:?}",
            String::from_utf8_lossy(&input)
        );
        cases += 1;
    }
    assert_eq!(cases, 33);
}

#[test]
fn canonical_parts() {
    let url =
        CanonicalUrl::parse("https://user:pw@WWW.Example.com:443//a/../b/?x=1&y#frag").unwrap();
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host(), "www.example.com");
    assert_eq!(url.host_kind(), HostKind::Domain);
    assert_eq!(url.path(), "/b/");
    assert_eq!(url.query(), Some("x=1&y"));
    assert_eq!(url.host_path_query(), "www.example.com/b/?x=1&y");
    assert_eq!(url.to_string(), "https://www.example.com/b/?x=1&y");

    let ip = CanonicalUrl::parse("http://0x7f.0.0.1/").unwrap();
    assert_eq!((ip.host(), ip.host_kind()), ("127.0.0.1", HostKind::Ipv4));
    let ip6 = CanonicalUrl::parse("http://[0:0::1]:8080/x").unwrap();
    assert_eq!((ip6.host(), ip6.host_kind()), ("[::1]", HostKind::Ipv6));
    assert_eq!(CanonicalUrl::parse("http://a/q").unwrap().query(), None);
    assert_eq!(
        CanonicalUrl::parse("http://a/q?").unwrap().query(),
        Some("")
    );
}

/// How browsers read URLs where Safe Browsing is silent: the same site must come out.
#[test]
fn browser_readings_reach_the_same_host() {
    let cases = [
        ("http:\\\\evil.example\\a\\b", "http://evil.example/a/b"),
        ("http:///evil.example/", "http://evil.example/"),
        ("http:evil.example/x", "http://evil.example/x"),
        (
            "HTTPS://bücher.de/Straße",
            "https://xn--bcher-kva.de/Stra%C3%9Fe",
        ),
        ("http://EXAMPLE.com%2Fpath/", "http://example.com/path/"),
        (
            "http://evil.example%E3%80%82com/",
            "http://evil.example.com/",
        ),
        ("example.com:8080/x", "http://example.com/x"),
        ("localhost:3000", "http://localhost/"),
        (
            "wss://chat.example/socket?room=1",
            "wss://chat.example/socket?room=1",
        ),
        ("http://0300.0250.0.1/", "http://192.168.0.1/"),
        ("http://%30x7f.1/", "http://127.0.0.1/"),
    ];
    for (input, expected) in cases {
        assert_eq!(
            CanonicalUrl::parse(input)
                .map(|u| u.as_str().to_owned())
                .as_deref(),
            Ok(expected),
            "{input}"
        );
    }
}

#[test]
fn unsupported_and_broken_urls_are_typed_errors() {
    let cases = [
        ("", UrlError::Empty),
        (" \t\r\n ", UrlError::Empty),
        ("mailto:someone@example.com", UrlError::UnsupportedScheme),
        ("javascript:alert(1)", UrlError::UnsupportedScheme),
        ("data:text/html,hi", UrlError::UnsupportedScheme),
        ("ftp://example.com/", UrlError::UnsupportedScheme),
        ("http://", UrlError::NoHost),
        ("http://.../", UrlError::NoHost),
        ("http://[::1/", UrlError::Malformed),
        ("http://[not-ip]/", UrlError::Malformed),
        ("http://example.com:80x/", UrlError::Malformed),
    ];
    for (input, error) in cases {
        assert_eq!(CanonicalUrl::parse(input), Err(error), "{input:?}");
    }
}

#[test]
fn unescaping_is_linear_and_complete() {
    let nested = format!("http://host/{}", "%25".repeat(5000) + "32%35");
    let url = CanonicalUrl::parse(&nested).unwrap();
    assert!(url.path().len() < 5 * 5000, "every %25 collapses");
    assert_eq!(canon::unescape_fully(b"%%%25%32%35asd%%"), b"%%%asd%%");
    assert_eq!(canon::unescape_fully(b"%4%41"), b"J");
    assert_eq!(canon::unescape_fully(b"%zz%4"), b"%zz%4");
}

/// The Safe Browsing documentation's own examples of lookup expressions.
#[test]
fn lookup_expressions_follow_safe_browsing() {
    let cases: [(&str, &[&str]); 3] = [
        (
            "http://a.b.c.d.e.f.g/1.html",
            &[
                "a.b.c.d.e.f.g/1.html",
                "a.b.c.d.e.f.g/",
                "c.d.e.f.g/1.html",
                "c.d.e.f.g/",
                "d.e.f.g/1.html",
                "d.e.f.g/",
                "e.f.g/1.html",
                "e.f.g/",
                "f.g/1.html",
                "f.g/",
            ],
        ),
        ("http://1.2.3.4/1/", &["1.2.3.4/1/", "1.2.3.4/"]),
        (
            "http://a.b/1/2/3/4/5/6.html?x",
            &[
                "a.b/1/2/3/4/5/6.html?x",
                "a.b/1/2/3/4/5/6.html",
                "a.b/",
                "a.b/1/",
                "a.b/1/2/",
                "a.b/1/2/3/",
            ],
        ),
    ];
    for (url, expected) in cases {
        assert_eq!(
            lookup_expressions(&CanonicalUrl::parse(url).unwrap()),
            expected,
            "{url}"
        );
    }
}

/// Every WHATWG test input gives a canonical URL or a typed error, and never a panic.
#[test]
fn whatwg_inputs_never_panic() {
    let data: serde_json::Value = serde_json::from_str(&shared("whatwg_urltestdata.json")).unwrap();
    let mut inputs = 0;
    let mut parsed = 0;
    for case in data.as_array().unwrap() {
        let Some(input) = case.get("input").and_then(|i| i.as_str()) else {
            continue;
        };
        inputs += 1;
        if let Ok(url) = CanonicalUrl::parse(input) {
            parsed += 1;
            // What comes out is canonical: ASCII, and stable when canonicalised again.
            assert!(url.as_str().is_ascii(), "{input:?}");
            assert_eq!(
                CanonicalUrl::parse(url.as_str()).as_ref(),
                Ok(&url),
                "{input:?}"
            );
        }
    }
    assert!(inputs > 800, "{inputs}");
    assert!(parsed > inputs / 3, "{parsed} of {inputs}");
}

/// Where WHATWG says a URL opens a special-scheme site, Haven must see the same host.
#[test]
fn whatwg_hosts_agree_with_browsers() {
    let data: serde_json::Value = serde_json::from_str(&shared("whatwg_urltestdata.json")).unwrap();
    let mut compared = 0;
    for case in data.as_array().unwrap() {
        let (Some(input), Some(hostname)) = (
            case.get("input").and_then(|v| v.as_str()),
            case.get("hostname").and_then(|v| v.as_str()),
        ) else {
            continue;
        };
        // Absolute http(s) inputs only (relative ones depend on a base, which checks never have).
        let lower = input.trim().to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) || hostname.is_empty() {
            continue;
        }
        // Safe Browsing drops leading and trailing dots, where browsers keep them.
        let expected: Vec<&str> = hostname.split('.').filter(|l| !l.is_empty()).collect();
        let got = CanonicalUrl::parse(input).map(|u| u.host().to_owned());
        if expected.is_empty() {
            assert_eq!(got, Err(UrlError::NoHost), "{input:?}");
        } else {
            assert_eq!(got.as_deref(), Ok(expected.join(".").as_str()), "{input:?}");
        }
        compared += 1;
    }
    assert!(compared >= 140, "{compared}");
}

#[test]
fn public_suffix_list_tests() {
    let table = shared("public_suffix_tests.tsv");
    let mut cases = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (input, expected) = line.split_once('\t').unwrap();
        let input = if input == "NULL" { "" } else { input };
        let expected = if expected == "NULL" {
            None
        } else {
            Some(expected)
        };
        assert_eq!(registrable_domain(input).as_deref(), expected, "{input:?}");
        cases += 1;
    }
    assert!(cases >= 70, "{cases}");
}

// host_of: the canonical host alone.
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
        ("http://[::1]:80/", "[::1]"),
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
        ("http://", UrlError::NoHost),
        ("http://user@:80/", UrlError::NoHost),
        ("http://example.com:port/", UrlError::Malformed),
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

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Canonicalising a canonical URL changes nothing.
        #[test]
        fn canonicalise_is_idempotent(input in "\\PC{0,80}") {
            if let Ok(url) = CanonicalUrl::parse(&input) {
                prop_assert_eq!(CanonicalUrl::parse(url.as_str()), Ok(url.clone()));
                prop_assert!(url.as_str().is_ascii());
            }
        }

        /// URL-shaped input built from the characters that matter most.
        #[test]
        fn url_shaped_input_is_safe(input in "(https?:)?[/\\\\]{0,3}[a-zA-Z0-9.%@:\\[\\]#?/ -]{0,40}") {
            if let Ok(url) = CanonicalUrl::parse(&input) {
                prop_assert_eq!(CanonicalUrl::parse(url.as_str()), Ok(url.clone()));
                prop_assert!(!url.host().is_empty());
                prop_assert!(url.path().starts_with('/'));
            }
        }

        /// The fast path for plain names gives exactly what the URL Standard's host parser gives.
        #[test]
        fn simple_hosts_match_the_host_parser(host in "[a-zA-Z0-9_-]{1,8}(\\.[a-zA-Z0-9_-]{1,8}){0,3}") {
            let expected = match ::url::Host::parse(&host) {
                Ok(::url::Host::Domain(domain)) => domain,
                Ok(::url::Host::Ipv4(ip)) => ip.to_string(),
                _ => host.to_ascii_lowercase(),
            };
            if let Ok(url) = CanonicalUrl::parse(&format!("http://{host}/")) {
                prop_assert_eq!(url.host(), expected.as_str());
            }
        }

        /// The one-pass path for plain URLs agrees with the general one wherever it applies.
        #[test]
        fn plain_path_agrees_with_the_general_path(
            input in "(?i:https?|wss?)://[a-zA-Z0-9._-]{1,12}(:[0-9]{0,3})?([/?][a-zA-Z0-9./?=&;:@!$~*'()+,_-]{0,20}){0,3}"
        ) {
            if let Some(fast) = CanonicalUrl::already_plain(&input) {
                prop_assert_eq!(Ok(fast), CanonicalUrl::parse_general(input.as_bytes()), "{}", input);
            }
            prop_assert_eq!(CanonicalUrl::parse_for(&input, &UrlEngine::builtin()), CanonicalUrl::parse(&input));
        }

        /// Any bytes at all are safe input.
        #[test]
        fn any_bytes_are_safe_input(input in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = CanonicalUrl::parse_bytes(&input);
        }
    }
}
