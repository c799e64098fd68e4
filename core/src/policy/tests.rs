use super::*;

use AgeTier::{Adult, Age9To12, Age13To15, Age16To17, Under9};

/// The default matrix, written out cell by cell from the specification (issue "Core foundation") plus the
/// refinements documented in the README. Columns: under-9, 9-12, 13-15, 16-17, adult.
const MATRIX: &[(Category, [&str; 5])] = &[
    (
        Category::KnownAbuse,
        [
            "block + notify + help",
            "block + notify + help",
            "block + notify + help",
            "block + notify + help",
            "block + help",
        ],
    ),
    (
        Category::SexualContent,
        ["block", "block", "block", "block", "allow"],
    ),
    (
        Category::Grooming,
        [
            "block + notify + help",
            "block + notify + help",
            "warn + notify + help",
            "warn + help",
            "allow",
        ],
    ),
    (
        Category::SelfHarm,
        [
            "block + notify + help",
            "block + notify + help",
            "block + help",
            "warn + help",
            "warn + help",
        ],
    ),
    (
        Category::Nudity,
        ["block", "block", "block", "warn", "allow"],
    ),
    (
        Category::Violence,
        ["block", "block", "warn", "warn", "allow"],
    ),
    (
        Category::Weapons,
        ["block", "block", "warn", "warn", "allow"],
    ),
    (Category::Hate, ["block", "block", "warn", "warn", "allow"]),
    (
        Category::Bullying,
        [
            "block + help",
            "block + help",
            "warn + help",
            "warn + help",
            "allow",
        ],
    ),
    (
        Category::Drugs,
        ["block", "block", "block", "warn", "allow"],
    ),
    (
        Category::PersonalInfo,
        ["block", "warn", "warn", "warn", "allow"],
    ),
    (
        Category::ScamsMalware,
        ["block", "block", "block", "block", "warn"],
    ),
    (
        Category::BypassTools,
        ["block", "block", "block", "block", "allow"],
    ),
    (
        Category::Gambling,
        ["block", "block", "block", "block", "allow"],
    ),
    (
        Category::Dating,
        ["block", "block", "block", "block", "allow"],
    ),
    (
        Category::AlcoholTobacco,
        ["block", "block", "warn", "warn", "allow"],
    ),
    (
        Category::SocialMedia,
        ["block", "block", "allow", "allow", "allow"],
    ),
    (
        Category::Profanity,
        ["block", "warn", "allow", "allow", "allow"],
    ),
];

#[test]
fn every_cell_of_the_default_matrix() {
    assert_eq!(
        MATRIX.len(),
        Category::ALL.len(),
        "every category has a row"
    );
    for (category, row) in MATRIX {
        for (tier, expected) in AgeTier::ALL.into_iter().zip(row) {
            assert_eq!(
                default_rule(*category, tier).to_string(),
                *expected,
                "{category} at {tier}"
            );
        }
    }
}

#[test]
fn known_abuse_is_blocked_for_everyone_and_not_overridable() {
    for tier in AgeTier::ALL {
        assert_eq!(
            default_rule(Category::KnownAbuse, tier).action,
            Action::Block
        );
    }
    assert!(!Category::KnownAbuse.is_overridable());
    assert!(
        Category::ALL
            .iter()
            .filter(|c| !c.is_overridable())
            .eq([&Category::KnownAbuse])
    );
}

#[test]
fn tiers_from_ages() {
    let cases = [
        (0, Under9),
        (8, Under9),
        (9, Age9To12),
        (12, Age9To12),
        (13, Age13To15),
        (15, Age13To15),
        (16, Age16To17),
        (17, Age16To17),
        (18, Adult),
        (99, Adult),
        (u32::MAX, Adult),
    ];
    for (age, tier) in cases {
        assert_eq!(AgeTier::from_age(age), tier, "age {age}");
    }
}

#[test]
fn identifiers_round_trip() {
    for tier in AgeTier::ALL {
        assert_eq!(tier.id().parse::<AgeTier>(), Ok(tier));
        assert_eq!(
            serde_json::to_string(&tier).ok(),
            Some(format!("\"{}\"", tier.id()))
        );
    }
    for category in Category::ALL {
        assert_eq!(category.id().parse::<Category>(), Ok(category));
        assert_eq!(
            serde_json::to_string(&category).ok(),
            Some(format!("\"{}\"", category.id()))
        );
    }
    for action in [Action::Allow, Action::Warn, Action::Block] {
        assert_eq!(action.id().parse::<Action>(), Ok(action));
    }
    assert!("teen".parse::<AgeTier>().is_err());
    assert!("porn".parse::<Category>().is_err());
    assert!(Action::Allow < Action::Warn && Action::Warn < Action::Block);
}

#[test]
fn overrides_change_only_what_they_name() {
    let mut profile = Profile::new("Sam", Age13To15).unwrap();
    assert_eq!(
        profile.rule_for(Category::Grooming).to_string(),
        "warn + notify + help"
    );

    let tighten = RuleOverride {
        action: Some(Action::Block),
        ..RuleOverride::default()
    };
    profile.set_override(Category::Grooming, tighten).unwrap();
    assert_eq!(
        profile.rule_for(Category::Grooming).to_string(),
        "block + notify + help"
    );

    let quiet = RuleOverride {
        notify_parent: Some(false),
        ..RuleOverride::default()
    };
    profile.set_override(Category::Grooming, quiet).unwrap();
    assert_eq!(
        profile.rule_for(Category::Grooming).to_string(),
        "warn + help"
    );

    // Other categories keep their defaults.
    assert_eq!(
        profile.rule_for(Category::Violence),
        default_rule(Category::Violence, Age13To15)
    );

    assert!(profile.clear_override(Category::Grooming));
    assert_eq!(
        profile.rule_for(Category::Grooming),
        default_rule(Category::Grooming, Age13To15)
    );
    assert!(!profile.clear_override(Category::Grooming));
}

#[test]
fn known_abuse_override_is_refused() {
    let mut profile = Profile::new("Sam", Adult).unwrap();
    let err = profile
        .set_override(Category::KnownAbuse, RuleOverride::action(Action::Allow))
        .unwrap_err();
    assert_eq!(err.field_name(), Some("overrides.known_abuse"));
    assert_eq!(profile.rule_for(Category::KnownAbuse).action, Action::Block);

    let toml = "name = \"Sam\"\ntier = \"adult\"\n[overrides.known_abuse]\naction = \"allow\"\n";
    let err = Profile::from_toml(toml).unwrap_err();
    assert_eq!(
        err,
        ProfileError::Field {
            field: "overrides.known_abuse".into(),
            problem: FieldProblem::NotOverridable
        }
    );
}

#[test]
fn domain_lists_match_subdomains_on_label_boundaries() {
    let mut profile = Profile::new("Sam", Age9To12).unwrap();
    profile.allow_domain("Example.COM.").unwrap();
    profile.deny_domain("chat.example.com").unwrap();
    assert_eq!(
        profile.domain_decision("example.com"),
        DomainDecision::Allowed("example.com")
    );
    assert_eq!(
        profile.domain_decision("www.example.com"),
        DomainDecision::Allowed("example.com")
    );
    // The more specific entry wins.
    assert_eq!(
        profile.domain_decision("eu.chat.example.com"),
        DomainDecision::Denied("chat.example.com")
    );
    // Not a subdomain: only the label boundary counts.
    assert_eq!(
        profile.domain_decision("notexample.com"),
        DomainDecision::Unlisted
    );
    assert_eq!(profile.domain_decision("com"), DomainDecision::Unlisted);

    // Moving a domain from one list to the other.
    profile.deny_domain("example.com").unwrap();
    assert_eq!(
        profile.domain_decision("www.example.com"),
        DomainDecision::Denied("example.com")
    );
    assert!(profile.allow_domains().is_empty());

    // IDN entries are stored as punycode, matching what URL parsing gives.
    profile.allow_domain("bücher.de").unwrap();
    assert_eq!(
        profile.domain_decision("xn--bcher-kva.de"),
        DomainDecision::Allowed("xn--bcher-kva.de")
    );

    for bad in [
        "",
        "http://example.com",
        "example.com/path",
        "*.example.com",
        "exa mple.com",
        "a..b",
    ] {
        assert!(profile.allow_domain(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn allowlist_only_mode_blocks_everything_else() {
    let mut profile = Profile::new("Mia", Under9).unwrap();
    profile.allow_domain("kids.example.org").unwrap();
    assert_eq!(
        profile.domain_decision("news.example.org"),
        DomainDecision::Unlisted
    );

    profile.set_allowlist_only(true);
    assert_eq!(
        profile.domain_decision("news.example.org"),
        DomainDecision::NotInAllowlist
    );
    assert_eq!(
        profile.domain_decision("games.kids.example.org"),
        DomainDecision::Allowed("kids.example.org")
    );
    // A denied entry still wins inside the garden.
    profile.deny_domain("chat.kids.example.org").unwrap();
    assert_eq!(
        profile.domain_decision("chat.kids.example.org"),
        DomainDecision::Denied("chat.kids.example.org")
    );
}

const FULL_TOML: &str = r#"
name = "Léa"
tier = "9-12"
language = "fr-FR"
country = "fr"
allowlist_only = false
allow_domains = ["wikipedia.org", "Vikidia.ORG"]
deny_domains = ["chat.example.net"]

[overrides.social_media]
action = "warn"
notify_parent = true

[overrides.profanity]
action = "block"
"#;

#[test]
fn toml_profile_reads_every_field() {
    let profile = Profile::from_toml(FULL_TOML).unwrap();
    assert_eq!(profile.name(), "Léa");
    assert_eq!(profile.tier(), Age9To12);
    assert_eq!(profile.language(), crate::i18n::Language::Fr);
    assert_eq!(profile.country().map(|c| c.to_string()), Some("FR".into()));
    assert!(!profile.allowlist_only());
    assert_eq!(
        profile.allow_domains().iter().collect::<Vec<_>>(),
        ["vikidia.org", "wikipedia.org"]
    );
    assert_eq!(profile.deny_domains().len(), 1);
    assert_eq!(
        profile.rule_for(Category::SocialMedia).to_string(),
        "warn + notify"
    );
    assert_eq!(profile.rule_for(Category::Profanity).action, Action::Block);
}

#[test]
fn profiles_round_trip_through_toml_and_json() {
    let profile = Profile::from_toml(FULL_TOML).unwrap();
    let via_toml = Profile::from_toml(&profile.to_toml()).unwrap();
    assert_eq!(via_toml, profile);
    let via_json = Profile::from_json(&profile.to_json()).unwrap();
    assert_eq!(via_json, profile);

    // Minimal profile: defaults fill in.
    let minimal = Profile::from_json(r#"{"name": "Kai", "tier": "under-9"}"#).unwrap();
    assert_eq!(minimal, Profile::new("Kai", Under9).unwrap());
    assert_eq!(Profile::from_toml(&minimal.to_toml()).unwrap(), minimal);
}

#[test]
fn profiles_save_and_load_files() {
    let dir = std::env::temp_dir().join(format!("haven-profile-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let profile = Profile::from_toml(FULL_TOML).unwrap();
    for file in ["child.toml", "child.json"] {
        let path = dir.join(file);
        profile.save(&path).unwrap();
        assert_eq!(Profile::load(&path).unwrap(), profile, "{file}");
    }
    let text = std::fs::read_to_string(dir.join("child.json")).unwrap();
    assert!(text.trim_start().starts_with('{'));
    assert_eq!(
        Profile::load(dir.join("missing.toml")),
        Err(ProfileError::Io {
            kind: std::io::ErrorKind::NotFound
        })
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Invalid profiles: each error names the field and never repeats the value (here always containing "Zoe").
#[test]
fn profile_errors_name_the_field_not_the_value() {
    let cases: &[(&str, &str, FieldProblem)] = &[
        ("tier = \"9-12\"", "name", FieldProblem::Missing),
        ("name = \"Zoe\"", "tier", FieldProblem::Missing),
        (
            "name = \"Zoe\"\ntier = \"Zoe\"",
            "tier",
            FieldProblem::Invalid("not one of the accepted values"),
        ),
        ("name = \"Zoe\"\ntier = 10", "tier", FieldProblem::WrongType),
        (
            "name = \"\"\ntier = \"adult\"",
            "name",
            FieldProblem::Invalid("must not be empty"),
        ),
        (
            "name = \"Zoe\"\ntier = \"adult\"\nlanguage = \"Zoe\"",
            "language",
            FieldProblem::Invalid("invalid value"),
        ),
        (
            "name = \"Zoe\"\ntier = \"adult\"\ncountry = \"Zoe\"",
            "country",
            FieldProblem::Invalid("invalid value"),
        ),
        (
            "name = \"Zoe\"\ntier = \"adult\"\nnickname = \"Zoe\"",
            "nickname",
            FieldProblem::Unknown,
        ),
        (
            "name = \"Zoe\"\ntier = \"adult\"\nallow_domains = [\"ok.example\", \"Zoe's site\"]",
            "allow_domains[1]",
            FieldProblem::Invalid("expected a domain name such as example.com"),
        ),
        (
            "name = \"Zoe\"\ntier = \"adult\"\nallow_domains = [\"zoe.example\"]\ndeny_domains = [\"a.example\", \"zoe.example\"]",
            "deny_domains[1]",
            FieldProblem::Conflict("the same domain is also in allow_domains"),
        ),
        (
            "name = \"Zoe\"\ntier = \"adult\"\n[overrides.zoe]\naction = \"allow\"",
            "overrides",
            FieldProblem::Invalid("has a key that is not a category"),
        ),
        (
            "name = \"Zoe\"\ntier = \"adult\"\n[overrides.dating]\naction = \"Zoe\"",
            "overrides.dating.action",
            FieldProblem::Invalid("not one of the accepted values"),
        ),
        (
            "name = \"Zoe\"\ntier = \"adult\"\n[overrides.dating]\nzoe = true",
            "overrides.dating.zoe",
            FieldProblem::Unknown,
        ),
        (
            "name = \"Zoe\"\ntier = \"adult\"\nallowlist_only = \"Zoe\"",
            "allowlist_only",
            FieldProblem::WrongType,
        ),
    ];
    for (toml, field, problem) in cases {
        let err = Profile::from_toml(toml).unwrap_err();
        assert_eq!(
            err,
            ProfileError::Field {
                field: (*field).into(),
                problem: *problem
            },
            "profile: {toml}"
        );
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("Zoe") && !shown.contains("zoe.example"),
            "leaks a value: {shown}"
        );
    }

    let long_name = format!("name = \"{}\"\ntier = \"adult\"", "Z".repeat(65));
    assert_eq!(
        Profile::from_toml(&long_name).unwrap_err().field_name(),
        Some("name")
    );
}

#[test]
fn syntax_errors_give_a_position_only() {
    let err = Profile::from_toml("name = \"Zoe\"\ntier = \"adult\n").unwrap_err();
    assert!(
        matches!(
            err,
            ProfileError::Syntax {
                format: ProfileFormat::Toml,
                line: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("Zoe"));

    let err = Profile::from_json("{\"name\": \"Zoe\",\n \"tier\": }").unwrap_err();
    assert!(
        matches!(
            err,
            ProfileError::Syntax {
                format: ProfileFormat::Json,
                line: 2,
                ..
            }
        ),
        "{err:?}"
    );

    let err = Profile::from_json("\"Zoe\"").unwrap_err();
    assert_eq!(err.field_name(), Some("(profile)"));
    assert!(
        matches!(
            err,
            ProfileError::Field {
                problem: FieldProblem::WrongType,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("Zoe"));
}
