//! List parsing, compiled files and matching, on lists written here.

use super::compiled::{CompiledListError, FORMAT_VERSION, compile, write_atomically};
use super::list::{LineProblem, ListOptions};
use super::*;
use crate::policy::Category;

fn options(format: Option<ListFormat>, mode: ParseMode) -> ListOptions {
    ListOptions {
        id: Some("test".into()),
        category: Some(Category::Gambling),
        version: Some("7".into()),
        provenance: Some("written by the tests".into()),
        format,
        mode,
    }
}

fn engine_of(lists: &[(&str, ListFormat)]) -> UrlEngine {
    let mut engine = UrlEngine::new();
    for (text, format) in lists {
        let parsed = ParsedList::parse(text, &options(Some(*format), ParseMode::Strict)).unwrap();
        engine = engine.with_list(CompiledList::from_bytes(compile(&parsed)).unwrap());
    }
    engine
}

fn hit(engine: &UrlEngine, url: &str) -> Option<String> {
    engine
        .check(&CanonicalUrl::parse(url).unwrap())
        .into_iter()
        .next()
        .map(|m| m.expression().to_owned())
}

/// One table for all four formats: which URLs each list catches, and with which expression.
#[test]
fn formats_match_what_they_say() {
    type Case<'a> = (ListFormat, &'a str, &'a [(&'a str, Option<&'a str>)]);
    let cases: &[Case<'_>] = &[
        (
            ListFormat::Domains,
            "casino.example\n*.bets.example  # wildcard form\n.poker.example\nBÜCHER.example.\n",
            &[
                ("http://casino.example/", Some("casino.example")),
                ("https://a.b.c.casino.example/x?y", Some("casino.example")),
                ("http://xcasino.example/", None),
                ("http://casino.example.org/", None),
                ("http://www.bets.example/", Some("bets.example")),
                ("http://poker.example/", Some("poker.example")),
                (
                    "http://xn--bcher-kva.example/",
                    Some("xn--bcher-kva.example"),
                ),
                ("http://bücher.example/", Some("xn--bcher-kva.example")),
            ],
        ),
        (
            ListFormat::Hosts,
            "127.0.0.1 localhost\n::1 ip6-localhost\n0.0.0.0 ads.example tracker.example # two names\n0.0.0.0 10.1.2.3\n",
            &[
                ("http://ads.example/", Some("ads.example")),
                ("http://cdn.tracker.example/", Some("tracker.example")),
                ("http://localhost/", None),
                ("http://10.1.2.3/", Some("10.1.2.3")),
                ("http://10.1.2.4/", None),
                ("http://1.10.1.2.3.example/", None),
                ("http://9.10.1.2.3/", None),
            ],
        ),
        (
            ListFormat::Adblock,
            "[Adblock Plus 2.0]\n! Title: test\n||casino.example^\n||slots.example^$important\n@@||help.casino.example^\n",
            &[
                ("http://casino.example/", Some("casino.example")),
                ("http://www.casino.example/", Some("casino.example")),
                ("http://help.casino.example/faq", None),
                ("http://a.help.casino.example/", None),
                ("http://slots.example/", Some("slots.example")),
            ],
        ),
        (
            ListFormat::UrlPrefix,
            "example.com/videos/\nhttp://example.net/page.html\nhttps://whole.example/\nexample.org/q?id=1\n",
            &[
                ("http://example.com/videos/", Some("example.com/videos/")),
                (
                    "http://www.example.com/videos/cats/1.html",
                    Some("example.com/videos/"),
                ),
                ("http://example.com/videosx", None),
                ("http://example.com/", None),
                (
                    "http://example.net/page.html",
                    Some("example.net/page.html"),
                ),
                (
                    "http://example.net/page.html?utm=1",
                    Some("example.net/page.html"),
                ),
                ("http://example.net/page.htmlx", None),
                ("http://whole.example/anything", Some("whole.example")),
                ("http://example.org/q?id=1", Some("example.org/q?id=1")),
                ("http://example.org/q?id=2", None),
            ],
        ),
    ];
    for (format, text, urls) in cases {
        let engine = engine_of(&[(text, *format)]);
        for (url, expected) in *urls {
            assert_eq!(hit(&engine, url).as_deref(), *expected, "{format} {url}");
        }
    }
}

#[test]
fn formats_are_detected() {
    let cases = [
        ("# c\nexample.com\n", ListFormat::Domains),
        ("# c\n0.0.0.0 example.com\n", ListFormat::Hosts),
        ("! c\n||example.com^\n", ListFormat::Adblock),
        ("||example.com^\n", ListFormat::Adblock),
        ("example.com/path\n", ListFormat::UrlPrefix),
        ("", ListFormat::Domains),
    ];
    for (text, format) in cases {
        assert_eq!(ListFormat::detect(text), format, "{text:?}");
    }
}

#[test]
fn header_describes_the_list_and_code_overrides_it() {
    let text = "# id: seed\n# category: dating\n# version: 2026.11.23\n# provenance: hand-picked\n# format: domains\nexample.com\n";
    let parsed = ParsedList::parse(text, &ListOptions::default()).unwrap();
    assert_eq!(
        parsed.meta(),
        &ListMeta {
            id: "seed".into(),
            category: Category::Dating,
            version: "2026.11.23".into(),
            provenance: "hand-picked".into(),
        }
    );
    assert_eq!(parsed.format(), ListFormat::Domains);
    let overridden = ParsedList::parse(text, &options(None, ParseMode::Strict)).unwrap();
    assert_eq!(overridden.meta().id, "test");
    assert_eq!(overridden.meta().category, Category::Gambling);

    for (text, field) in [
        ("# category: dating\n# version: 1\nx.com\n", "id"),
        ("# id: x\n# version: 1\nx.com\n", "category"),
        (
            "# id: x\n# category: nonsense\n# version: 1\nx.com\n",
            "category",
        ),
        ("# id: x\n# category: dating\nx.com\n", "version"),
        (
            "# id: Bad Id\n# category: dating\n# version: 1\nx.com\n",
            "id",
        ),
        (
            "# id: x\n# category: dating\n# version: 1\n# format: csv\nx.com\n",
            "format",
        ),
    ] {
        assert_eq!(
            ParsedList::parse(text, &ListOptions::default()),
            Err(ListError::Meta { field }),
            "{text:?}"
        );
    }
}

#[test]
fn strict_mode_names_the_first_bad_line() {
    let cases = [
        (
            ListFormat::Domains,
            "good.example\nbad domain.example\n",
            2,
            LineProblem::NotADomain,
        ),
        (
            ListFormat::Domains,
            "good.example\nexample.com/path\n",
            2,
            LineProblem::NotADomain,
        ),
        (
            ListFormat::Domains,
            "# c\n\nsecret..example\n",
            3,
            LineProblem::NotADomain,
        ),
        (ListFormat::Domains, "com\n", 1, LineProblem::NotADomain),
        (ListFormat::Adblock, "||xxx^\n", 1, LineProblem::NotADomain),
        (
            ListFormat::Hosts,
            "0.0.0.0 a.example\nexample.com\n",
            2,
            LineProblem::NotAHostsLine,
        ),
        (
            ListFormat::Hosts,
            "0.0.0.0\n",
            1,
            LineProblem::NotAHostsLine,
        ),
        (
            ListFormat::Adblock,
            "||a.example^\nexample.com##.ad\n",
            2,
            LineProblem::UnsupportedRule,
        ),
        (
            ListFormat::Adblock,
            "||a.example^$third-party\n",
            1,
            LineProblem::UnsupportedRule,
        ),
        (
            ListFormat::Adblock,
            "/banner[0-9]+/\n",
            1,
            LineProblem::UnsupportedRule,
        ),
        (
            ListFormat::UrlPrefix,
            "mailto:x@example.com\n",
            1,
            LineProblem::NotAUrl,
        ),
    ];
    for (format, text, line, problem) in cases {
        let result = ParsedList::parse(text, &options(Some(format), ParseMode::Strict));
        assert_eq!(
            result,
            Err(ListError::Line { line, problem }),
            "{format} {text:?}"
        );
        let message = result.unwrap_err().to_string();
        assert!(
            !message.contains("example") && !message.contains("secret"),
            "{message}"
        );
    }
    let long = format!("{}.example\n", "a".repeat(5000));
    assert_eq!(
        ParsedList::parse(
            &long,
            &options(Some(ListFormat::Domains), ParseMode::Strict)
        ),
        Err(ListError::Line {
            line: 1,
            problem: LineProblem::TooLong
        })
    );
}

#[test]
fn lenient_mode_accounts_for_every_line() {
    let text =
        "# comment\n\na.example\nA.EXAMPLE.\nbad domain\nb.example # why\n*.c.example\nhttp://x/\n";
    let parsed = ParsedList::parse(
        text,
        &options(Some(ListFormat::Domains), ParseMode::Lenient),
    )
    .unwrap();
    let report = parsed.report();
    assert_eq!(report.lines, 8);
    assert_eq!(report.comments, 2);
    assert_eq!(report.entries, 3);
    assert_eq!(report.duplicates, 1);
    assert_eq!(report.skipped, 2);
    assert_eq!(
        report.comments + report.entries + report.duplicates + report.skipped + report.ignored,
        report.lines
    );
    assert_eq!(
        report.problems.iter().map(|p| p.line).collect::<Vec<_>>(),
        [5, 8]
    );

    let hosts = "127.0.0.1 localhost localhost.localdomain\n0.0.0.0 a.example b.example\n";
    let parsed =
        ParsedList::parse(hosts, &options(Some(ListFormat::Hosts), ParseMode::Lenient)).unwrap();
    assert_eq!((parsed.report().entries, parsed.report().ignored), (2, 2));
}

#[test]
fn exclusions_remove_exact_entries_only() {
    let mut adult = ParsedList::parse(
        "platform.example\nadult.platform.example\nporn.example\n",
        &options(None, ParseMode::Strict),
    )
    .unwrap();
    let exclusions = ParsedList::parse(
        "platform.example\nnot-listed.example\n",
        &options(None, ParseMode::Strict),
    )
    .unwrap();
    adult.exclude(&exclusions);
    assert_eq!((adult.report().entries, adult.report().excluded), (2, 1));
    let engine = UrlEngine::new().with_list(CompiledList::from_bytes(compile(&adult)).unwrap());
    assert_eq!(hit(&engine, "http://platform.example/"), None);
    assert_eq!(hit(&engine, "http://www.platform.example/"), None);
    assert_eq!(
        hit(&engine, "http://adult.platform.example/").as_deref(),
        Some("adult.platform.example")
    );
    assert_eq!(
        hit(&engine, "http://porn.example/").as_deref(),
        Some("porn.example")
    );
}

#[test]
fn many_lists_report_each_match_with_its_source() {
    let mut gambling = options(None, ParseMode::Strict);
    gambling.id = Some("gambling".into());
    let mut social = options(None, ParseMode::Strict);
    social.id = Some("social".into());
    social.category = Some(Category::SocialMedia);
    social.version = Some("2".into());
    let engine = UrlEngine::new()
        .with_list(
            CompiledList::from_bytes(compile(
                &ParsedList::parse("both.example\n", &gambling).unwrap(),
            ))
            .unwrap(),
        )
        .with_list(
            CompiledList::from_bytes(compile(
                &ParsedList::parse("chat.both.example\n", &social).unwrap(),
            ))
            .unwrap(),
        );
    let url = CanonicalUrl::parse("https://room.chat.both.example/").unwrap();
    let matches = engine.check(&url);
    let summary: Vec<(&str, &str, Category, &str)> = matches
        .iter()
        .map(|m| (m.list_id(), m.version(), m.category(), m.expression()))
        .collect();
    assert_eq!(
        summary,
        [
            ("gambling", "7", Category::Gambling, "both.example"),
            ("social", "2", Category::SocialMedia, "chat.both.example"),
        ]
    );
    let finding = matches[1].to_finding();
    assert_eq!(finding.category, Category::SocialMedia);
    let source = finding.evidence.source.unwrap();
    assert_eq!(
        (source.id.as_str(), source.version.as_str()),
        ("social", "2")
    );
    assert_eq!(finding.evidence.rule.as_deref(), Some("chat.both.example"));
}

fn sample_compiled() -> Vec<u8> {
    let text: String = (0..1000)
        .map(|i| format!("site{i}.example\n"))
        .collect::<String>()
        + "@@||ok.site1.example^\n";
    let parsed = ParsedList::parse(
        &text
            .lines()
            .map(|l| {
                if l.starts_with("@@") {
                    l.to_owned()
                } else {
                    format!("||{l}^")
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        &options(Some(ListFormat::Adblock), ParseMode::Strict),
    )
    .unwrap();
    compile(&parsed)
}

#[test]
fn compiled_lists_round_trip_through_a_file() {
    let bytes = sample_compiled();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.hvl");
    write_atomically(&path, &bytes).unwrap();
    let list = CompiledList::open(&path).unwrap();
    assert_eq!(list.meta().list.id, "test");
    assert_eq!(list.meta().format, ListFormat::Adblock);
    assert_eq!(list.domain_count(), 1000);
    assert_eq!(list.entry_count(), 1001);
    assert_eq!(list.size_bytes(), bytes.len());
    // Budget: at most 12 bytes a domain, with the header and metadata included.
    assert!(bytes.len() <= 12 * 1000 + 1024, "{}", bytes.len());
    let engine = UrlEngine::new().with_list(list);
    for i in (0..1000).step_by(37) {
        assert_eq!(
            hit(&engine, &format!("http://www.site{i}.example/")),
            Some(format!("site{i}.example"))
        );
    }
    assert_eq!(hit(&engine, "http://site1000.example/"), None);
    assert_eq!(hit(&engine, "http://ok.site1.example/"), None);
    assert_eq!(
        CompiledList::open(dir.path().join("missing.hvl")).unwrap_err(),
        CompiledListError::Io(std::io::ErrorKind::NotFound)
    );
}

#[test]
fn corrupted_compiled_lists_are_typed_errors() {
    let good = sample_compiled();
    assert!(CompiledList::from_bytes(good.clone()).is_ok());
    // Every truncation.
    for len in (0..good.len()).step_by(7) {
        let error = CompiledList::from_bytes(good[..len].to_vec()).unwrap_err();
        assert!(
            matches!(
                error,
                CompiledListError::Truncated | CompiledListError::NotACompiledList
            ),
            "{len}: {error:?}"
        );
        if len >= 8 {
            assert_eq!(error, CompiledListError::Truncated, "{len}");
        }
    }
    // Every single flipped byte after the magic and version is caught.
    for at in 12..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        assert!(CompiledList::from_bytes(bad).is_err(), "flip at {at}");
    }
    let mut bad = good.clone();
    bad[0] = b'X';
    assert_eq!(
        CompiledList::from_bytes(bad).unwrap_err(),
        CompiledListError::NotACompiledList
    );
    let mut newer = good.clone();
    newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert_eq!(
        CompiledList::from_bytes(newer).unwrap_err(),
        CompiledListError::UnsupportedVersion {
            found: FORMAT_VERSION + 1,
            supported: FORMAT_VERSION
        }
    );
    let mut longer = good.clone();
    longer.extend_from_slice(&[0; 8]);
    assert_eq!(
        CompiledList::from_bytes(longer).unwrap_err(),
        CompiledListError::Malformed
    );
    assert_eq!(
        CompiledList::from_bytes(b"not a list at all".to_vec()).unwrap_err(),
        CompiledListError::NotACompiledList
    );
}

/// A compiled list whose domain section holds exactly these fingerprints (sorted, distinct).
fn raw_list(fps: &[u64]) -> Vec<u8> {
    let parsed = ParsedList::parse("example.com", &options(None, ParseMode::Strict)).unwrap();
    let meta = compiled::CompiledMeta {
        list: parsed.meta().clone(),
        format: ListFormat::Domains,
        report: parsed.report().clone(),
        source_sha256: None,
    };
    let sections = list::Sections {
        domains: fps.to_vec(),
        ..Default::default()
    };
    compiled::compile_sections(&meta, &sections)
}

#[test]
fn tables_hold_fingerprints_past_their_home_range() {
    // 500 fingerprints that all want the last home slots: they overflow the range, in order.
    let fps: Vec<u64> = (0..500).map(|i| u64::MAX - 500 + i).collect();
    let bytes = raw_list(&fps);
    let list = CompiledList::from_bytes(bytes.clone()).unwrap();
    for &fp in &fps {
        assert!(list.contains(compiled::SectionKind::Domains, fp));
    }
    assert!(!list.contains(compiled::SectionKind::Domains, u64::MAX));
    assert!(!list.contains(compiled::SectionKind::Domains, 0));
    assert!(!list.contains(compiled::SectionKind::Domains, u64::MAX / 2));
    // Sizes in the header that contradict each other are caught before the checksum.
    let mut bad = bytes;
    bad[64..68].copy_from_slice(&1u32.to_le_bytes()); // fewer slots than entries
    assert_eq!(
        CompiledList::from_bytes(bad).unwrap_err(),
        CompiledListError::Malformed
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        /// Any text is safe input to every list parser, in both modes.
        #[test]
        fn any_text_is_safe_list_input(text in "\\PC{0,300}", lenient in any::<bool>()) {
            let mode = if lenient { ParseMode::Lenient } else { ParseMode::Strict };
            for format in ListFormat::ALL {
                if let Ok(parsed) = ParsedList::parse(&text, &options(Some(format), mode)) {
                    let r = parsed.report();
                    prop_assert!(r.entries + r.duplicates <= r.lines.max(1) * 64);
                    prop_assert!(CompiledList::from_bytes(compile(&parsed)).is_ok());
                }
            }
        }

        /// Any bytes are safe input to the compiled-list reader.
        #[test]
        fn any_bytes_are_safe_compiled_input(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = CompiledList::from_bytes(bytes);
        }

        /// Whatever the fingerprints (clustered at the top so that they overflow the home range, 0, the largest),
        /// each one put into a table is found and its neighbours are not.
        #[test]
        fn tables_find_every_fingerprint(
            spread in proptest::collection::btree_set(any::<u64>(), 0..300),
            top in proptest::collection::btree_set(u64::MAX - 2000..=u64::MAX, 0..300),
            zero in any::<bool>(),
        ) {
            let mut fps: Vec<u64> = spread.iter().chain(&top).copied().collect();
            if zero {
                fps.push(0);
            }
            fps.sort_unstable();
            fps.dedup();
            let list = CompiledList::from_bytes(raw_list(&fps)).unwrap();
            // 0 is stored as 1.
            let keys: std::collections::BTreeSet<u64> = fps.iter().map(|&fp| fp.max(1)).collect();
            prop_assert_eq!(list.domain_count(), keys.len());
            for &fp in &fps {
                prop_assert!(list.contains(compiled::SectionKind::Domains, fp), "{}", fp);
                for near in [fp.wrapping_sub(1), fp.wrapping_add(1)] {
                    let held = keys.contains(&near.max(1));
                    prop_assert_eq!(list.contains(compiled::SectionKind::Domains, near), held, "{}", near);
                }
            }
            prop_assert_eq!(list.first_of(compiled::SectionKind::Domains, &[]), None);
        }

        /// Every domain put into a list is found again, with its subdomains; nothing else is.
        #[test]
        fn compiled_lists_find_what_they_hold(labels in proptest::collection::btree_set("[a-wyz][a-z0-9-]{0,8}[a-z0-9]", 1..60)) {
            let domains: Vec<String> = labels.iter().map(|l| format!("{l}.example")).collect();
            let parsed = ParsedList::parse(&domains.join("\n"), &options(Some(ListFormat::Domains), ParseMode::Strict)).unwrap();
            let engine = UrlEngine::new().with_list(CompiledList::from_bytes(compile(&parsed)).unwrap());
            for domain in &domains {
                prop_assert_eq!(hit(&engine, &format!("http://sub.{domain}/x")), Some(domain.clone()));
                prop_assert_eq!(hit(&engine, &format!("http://{domain}x/")), None);
            }
        }
    }
}

#[test]
fn seed_lists_parse_strictly_and_block_their_category() {
    let lists = seed_lists().unwrap();
    let expected = [
        ("gambling", Category::Gambling, "https://www.bet365.com/"),
        (
            "social-media",
            Category::SocialMedia,
            "https://www.instagram.com/",
        ),
        ("dating", Category::Dating, "https://tinder.com/"),
        (
            "bypass-tools",
            Category::BypassTools,
            "https://nordvpn.com/download/",
        ),
    ];
    assert_eq!(lists.len(), expected.len());
    let engine = UrlEngine::builtin();
    for ((id, category, url), list) in expected.into_iter().zip(&lists) {
        assert_eq!(
            (list.meta().id.as_str(), list.meta().category),
            (id, category)
        );
        assert!(
            list.report().entries >= 40,
            "{id}: {}",
            list.report().entries
        );
        assert_eq!(list.report().duplicates, 0, "{id}");
        let url = CanonicalUrl::parse(url).unwrap();
        let matches = engine.check(&url);
        assert_eq!(
            matches.iter().map(|m| m.category()).collect::<Vec<_>>(),
            [category],
            "{url}"
        );
    }
    // General sites are in none of them.
    for url in [
        "https://www.wikipedia.org/",
        "https://www.youtube.com/",
        "https://www.google.com/search?q=x",
    ] {
        assert!(
            engine.check(&CanonicalUrl::parse(url).unwrap()).is_empty(),
            "{url}"
        );
    }
}

#[test]
fn adult_exclusions_parse_strictly() {
    let options = ListOptions {
        category: Some(Category::SexualContent),
        ..ListOptions::default()
    };
    let exclusions = ParsedList::parse(ADULT_EXCLUSIONS, &options).unwrap();
    assert!(
        exclusions.report().entries > 250,
        "{}",
        exclusions.report().entries
    );
    assert_eq!(exclusions.report().duplicates, 0);
}

/// The whole URL check: profile lists and modes first, then category lists, then SafeSearch.
#[test]
fn check_url_applies_profile_precedence() {
    use crate::Haven;
    use crate::policy::{Action, AgeTier, Profile};
    use crate::verdict::Reason;

    let haven = Haven::new();
    let mut profile = Profile::new("Sam", AgeTier::Age9To12).unwrap();

    // A seed-list category blocks, with the list as evidence; encodings reach the same verdict.
    for url in [
        "https://www.bet365.com/",
        "http://WWW.BET365.COM.:443/%2E/",
        "bet365.com",
    ] {
        let v = haven.check_url(&profile, url).unwrap();
        assert_eq!(v.action, Action::Block, "{url}");
        assert_eq!(v.reason, Some(Reason::Category(Category::Gambling)));
        let source = v.evidence[0].source.as_ref().unwrap();
        assert_eq!(source.id, "gambling");
        assert_eq!(v.evidence[0].rule.as_deref(), Some("bet365.com"));
    }
    // The parent's allow list beats the category; the deny list blocks what no list has.
    profile.allow_domain("bet365.com").unwrap();
    assert_eq!(
        haven
            .check_url(&profile, "https://www.bet365.com/")
            .unwrap()
            .action,
        Action::Allow
    );
    profile.deny_domain("example.org").unwrap();
    let denied = haven.check_url(&profile, "http://a.example.org/").unwrap();
    assert_eq!(
        (denied.action, denied.reason),
        (Action::Block, Some(Reason::ParentDenied))
    );
    // Allowlist-only: everything else is closed, list or no list.
    profile.set_allowlist_only(true);
    let closed = haven
        .check_url(&profile, "https://en.wikipedia.org/")
        .unwrap();
    assert_eq!(
        (closed.action, closed.reason),
        (Action::Block, Some(Reason::NotInAllowlist))
    );

    // SafeSearch follows the profile: on by default for children, off for adults or when the parent says so.
    let child = Profile::new("Sam", AgeTier::Age9To12).unwrap();
    let search = haven
        .check_url(&child, "https://www.google.com/search?q=cats")
        .unwrap();
    assert_eq!(search.action, Action::Allow);
    assert_eq!(
        search.redirect.as_deref(),
        Some("https://www.google.com/search?q=cats&safe=active")
    );
    let adult = Profile::new("Ana", AgeTier::Adult).unwrap();
    assert_eq!(
        haven
            .check_url(&adult, "https://www.google.com/search?q=cats")
            .unwrap()
            .redirect,
        None
    );
    let mut relaxed = child.clone();
    relaxed.set_safe_search(Some(safesearch::SafeSearchMode::Off));
    assert_eq!(
        haven
            .check_url(&relaxed, "https://www.google.com/search?q=cats")
            .unwrap()
            .redirect,
        None
    );
    // A blocked URL has no redirect.
    assert_eq!(
        haven
            .check_url(&child, "https://www.bet365.com/?q=x")
            .unwrap()
            .redirect,
        None
    );
}

#[test]
fn profile_safe_search_round_trips() {
    use crate::policy::Profile;
    use crate::url::safesearch::SafeSearchMode;

    let profile =
        Profile::from_toml("name = \"Teo\"\ntier = \"16-17\"\nsafe_search = \"strict\"\n").unwrap();
    assert_eq!(profile.safe_search(), SafeSearchMode::Strict);
    assert_eq!(Profile::from_toml(&profile.to_toml()).unwrap(), profile);
    assert_eq!(Profile::from_json(&profile.to_json()).unwrap(), profile);
    let default = Profile::from_toml("name = \"Teo\"\ntier = \"16-17\"\n").unwrap();
    assert_eq!(default.safe_search(), SafeSearchMode::Moderate);
    assert!(!default.to_toml().contains("safe_search"));
    let bad = Profile::from_toml("name = \"Teo\"\ntier = \"16-17\"\nsafe_search = \"sometimes\"\n")
        .unwrap_err();
    assert_eq!(bad.field_name(), Some("safe_search"));
}
