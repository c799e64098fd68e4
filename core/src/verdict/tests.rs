use super::*;
use crate::i18n::{Catalogue, HelpDirectory};
use crate::policy::{Country, RuleOverride};

fn finding(category: Category, confidence: f32) -> Finding {
    Finding {
        category,
        confidence,
        evidence: Evidence::new(Engine::Url)
            .with_source("test-list", "2026-11-23")
            .with_rule("example.com/"),
    }
}

fn decide(profile: &Profile, domain: DomainDecision<'_>, findings: Vec<Finding>) -> Verdict {
    Verdict::decide(
        profile,
        domain,
        findings,
        &Catalogue::builtin(),
        &HelpDirectory::builtin(),
    )
}

fn profile(tier: AgeTier) -> Profile {
    Profile::new("Test", tier).unwrap()
}

#[test]
fn nothing_found_is_allowed_without_message() {
    let v = decide(&profile(AgeTier::Under9), DomainDecision::Unlisted, vec![]);
    assert_eq!(v.action, Action::Allow);
    assert!(v.reason.is_none() && v.message.is_none() && v.help.is_none());
    assert!(!v.notify_parent && !v.offer_help);
}

#[test]
fn each_category_follows_the_profile_rule_at_every_tier() {
    for tier in AgeTier::ALL {
        let p = profile(tier);
        for category in Category::ALL {
            let rule = p.rule_for(category);
            let v = decide(&p, DomainDecision::Unlisted, vec![finding(category, 1.0)]);
            assert_eq!(v.action, rule.action, "{category} {tier}");
            assert_eq!(v.notify_parent, rule.notify_parent, "{category} {tier}");
            assert_eq!(v.offer_help, rule.offer_help, "{category} {tier}");
            assert_eq!(
                v.message.is_some(),
                rule.action != Action::Allow,
                "{category} {tier}"
            );
            if let Some(message) = &v.message {
                let catalogue = Catalogue::builtin();
                let body = &catalogue
                    .get(Language::En, MessagePart::Category(category), tier)
                    .standard;
                assert_eq!(&message.standard.body, body);
                let title = if rule.action == Action::Warn {
                    MessagePart::WarnTitle
                } else {
                    MessagePart::BlockTitle
                };
                assert_eq!(
                    message.standard.title,
                    Catalogue::builtin().get(Language::En, title, tier).standard
                );
            }
        }
    }
}

#[test]
fn strictest_action_wins_and_the_most_severe_category_is_explained() {
    let p = profile(AgeTier::Age13To15);
    // Profanity (allow), violence (warn), drugs (block), gambling (block) at 13-15.
    let v = decide(
        &p,
        DomainDecision::Unlisted,
        vec![
            finding(Category::Profanity, 0.7),
            finding(Category::Gambling, 0.6),
            finding(Category::Violence, 0.9),
            finding(Category::Drugs, 0.5),
            finding(Category::Violence, 0.95),
        ],
    );
    assert_eq!(v.action, Action::Block);
    assert_eq!(v.reason, Some(Reason::Category(Category::Drugs)));
    let order: Vec<_> = v
        .categories
        .iter()
        .map(|c| (c.category, c.action))
        .collect();
    assert_eq!(
        order,
        [
            (Category::Drugs, Action::Block),
            (Category::Gambling, Action::Block),
            (Category::Violence, Action::Warn),
            (Category::Profanity, Action::Allow),
        ]
    );
    // Confidence is the highest of a category's findings; every finding is kept as evidence.
    assert_eq!(v.categories[2].confidence, 0.95);
    assert_eq!(v.evidence.len(), 5);
    assert!(v.evidence.iter().all(|e| e.category.is_some()));
}

#[test]
fn confidence_is_clamped_and_nan_safe() {
    let p = profile(AgeTier::Adult);
    let v = decide(
        &p,
        DomainDecision::Unlisted,
        vec![
            finding(Category::Hate, f32::NAN),
            finding(Category::Drugs, 7.0),
            finding(Category::Dating, -1.0),
        ],
    );
    let confidences: Vec<f32> = v.categories.iter().map(|c| c.confidence).collect();
    assert!(
        confidences.iter().all(|c| (0.0..=1.0).contains(c)),
        "{confidences:?}"
    );
}

#[test]
fn parent_allowlist_overrides_categories_but_never_known_abuse() {
    let p = profile(AgeTier::Age9To12);
    let v = decide(
        &p,
        DomainDecision::Allowed("example.com"),
        vec![finding(Category::Gambling, 1.0)],
    );
    assert_eq!(v.action, Action::Allow);
    assert_eq!(v.categories[0].action, Action::Allow);
    assert_eq!(
        v.evidence.last().unwrap().rule.as_deref(),
        Some("allow_domains:example.com")
    );

    let v = decide(
        &p,
        DomainDecision::Allowed("example.com"),
        vec![
            finding(Category::Gambling, 1.0),
            finding(Category::KnownAbuse, 1.0),
        ],
    );
    assert_eq!(v.action, Action::Block);
    assert_eq!(v.reason, Some(Reason::Category(Category::KnownAbuse)));
    assert!(v.notify_parent && v.offer_help);
}

#[test]
fn parent_denylist_and_walled_garden_block_with_their_own_message() {
    let p = profile(AgeTier::Under9);
    let v = decide(&p, DomainDecision::Denied("games.example"), vec![]);
    assert_eq!(
        (v.action, v.reason),
        (Action::Block, Some(Reason::ParentDenied))
    );
    assert_eq!(
        v.message.unwrap().standard.body,
        Catalogue::builtin()
            .get(Language::En, MessagePart::ParentDenied, AgeTier::Under9)
            .standard
    );
    assert_eq!(v.evidence[0].engine, Engine::Profile);
    assert_eq!(v.evidence[0].category, None);

    let v = decide(&p, DomainDecision::NotInAllowlist, vec![]);
    assert_eq!(
        (v.action, v.reason),
        (Action::Block, Some(Reason::NotInAllowlist))
    );
    assert_eq!(v.evidence[0].rule.as_deref(), Some("allowlist_only"));

    // A denied domain with self-harm content still offers help; known abuse is explained before the parent's rule.
    let v = decide(
        &p,
        DomainDecision::Denied("x.example"),
        vec![finding(Category::SelfHarm, 1.0)],
    );
    assert_eq!(v.reason, Some(Reason::ParentDenied));
    assert!(v.offer_help && v.help.is_some());
    let v = decide(
        &p,
        DomainDecision::Denied("x.example"),
        vec![finding(Category::KnownAbuse, 1.0)],
    );
    assert_eq!(v.reason, Some(Reason::Category(Category::KnownAbuse)));
}

#[test]
fn overrides_reach_the_verdict() {
    let mut p = profile(AgeTier::Age13To15);
    p.set_override(
        Category::SocialMedia,
        RuleOverride {
            action: Some(Action::Warn),
            notify_parent: Some(true),
            offer_help: None,
        },
    )
    .unwrap();
    let v = decide(
        &p,
        DomainDecision::Unlisted,
        vec![finding(Category::SocialMedia, 1.0)],
    );
    assert_eq!(v.action, Action::Warn);
    assert!(v.notify_parent);
    // "Allow but tell me" is a valid parent choice: no message for the child, but the parent is notified.
    p.set_override(
        Category::SocialMedia,
        RuleOverride {
            action: Some(Action::Allow),
            notify_parent: Some(true),
            offer_help: None,
        },
    )
    .unwrap();
    let v = decide(
        &p,
        DomainDecision::Unlisted,
        vec![finding(Category::SocialMedia, 1.0)],
    );
    assert_eq!(v.action, Action::Allow);
    assert!(v.notify_parent && v.message.is_none());
}

#[test]
fn messages_follow_language_tier_and_direction() {
    let mut p = profile(AgeTier::Age16To17);
    p.set_language(Language::Ar);
    let v = decide(
        &p,
        DomainDecision::Unlisted,
        vec![finding(Category::Violence, 1.0)],
    );
    let message = v.message.unwrap();
    assert_eq!(
        (message.language, message.direction),
        (Language::Ar, TextDirection::Rtl)
    );
    let catalogue = Catalogue::builtin();
    let expect = |part| {
        catalogue
            .get(Language::Ar, part, AgeTier::Age16To17)
            .clone()
    };
    assert_eq!(
        message.standard.title,
        expect(MessagePart::WarnTitle).standard
    );
    assert_eq!(
        message.standard.next_step,
        expect(MessagePart::WarnNext).standard
    );
    assert_eq!(
        message.easy_read.body,
        expect(MessagePart::Category(Category::Violence)).easy_read
    );
    assert_ne!(message.standard.body, message.easy_read.body);

    for language in Language::ALL {
        p.set_language(language);
        let v = decide(
            &p,
            DomainDecision::Unlisted,
            vec![finding(Category::Gambling, 1.0)],
        );
        let m = v.message.unwrap();
        assert_eq!(m.language, language);
        assert!(!m.standard.joined(language).is_empty());
    }
}

#[test]
fn help_pointer_starts_with_a_trusted_adult_then_local_helplines() {
    let mut p = profile(AgeTier::Age13To15);
    let v = decide(
        &p,
        DomainDecision::Unlisted,
        vec![finding(Category::SelfHarm, 1.0)],
    );
    let help = v.help.unwrap();
    assert_eq!(
        help.text,
        Catalogue::builtin()
            .get(Language::En, MessagePart::TrustedAdult, AgeTier::Age13To15)
            .standard
    );
    // No country: only international services.
    assert!(
        help.contacts
            .iter()
            .all(|c| c.id == "child-helpline-international")
    );

    p.set_country(Some("US".parse::<Country>().unwrap()));
    let v = decide(
        &p,
        DomainDecision::Unlisted,
        vec![finding(Category::SelfHarm, 1.0)],
    );
    assert_eq!(v.help.unwrap().contacts[0].id, "988-us");

    // Categories without offer_help give no help pointer.
    let v = decide(
        &p,
        DomainDecision::Unlisted,
        vec![finding(Category::Gambling, 1.0)],
    );
    assert!(v.help.is_none() && !v.offer_help);
}

#[test]
fn json_is_stable_and_round_trips() {
    let mut p = profile(AgeTier::Age9To12);
    p.set_country(Some("GB".parse().unwrap()));
    let v = decide(
        &p,
        DomainDecision::Unlisted,
        vec![Finding {
            category: Category::Bullying,
            confidence: 0.875,
            evidence: Evidence::new(Engine::Text)
                .with_source("lexicon-en", "3")
                .with_rule("insult:loser")
                .with_span(4, 9)
                .with_score(0.875),
        }],
    );
    let json = v.to_json();
    assert_eq!(Verdict::from_json(&json).unwrap(), v);

    // Field order is part of the format.
    assert!(
        json.starts_with(r#"{"action":"block","notify_parent":false,"offer_help":true,"reason":{"kind":"category","category":"bullying"},"categories":["#),
        "{json}"
    );
    let at = |key: &str| json.find(&format!("\"{key}\":")).unwrap();
    assert!(
        at("categories") < at("evidence")
            && at("evidence") < at("message")
            && at("message") < at("help")
    );
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["action"], "block");
    assert_eq!(
        value["reason"],
        serde_json::json!({"kind": "category", "category": "bullying"})
    );
    assert_eq!(
        value["categories"],
        serde_json::json!([{"category": "bullying", "confidence": 0.875, "action": "block"}])
    );
    assert_eq!(
        value["evidence"],
        serde_json::json!([{
            "engine": "text", "category": "bullying",
            "source": {"id": "lexicon-en", "version": "3"},
            "rule": "insult:loser", "span": {"start": 4, "end": 9}, "score": 0.875
        }])
    );
    assert_eq!(value["message"]["language"], "en");
    assert_eq!(value["message"]["direction"], "ltr");
    for wording in ["standard", "easy_read"] {
        let mut keys: Vec<&str> = value["message"][wording]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["body", "next_step", "title"]);
    }
    assert_eq!(value["help"]["contacts"][0]["id"], "childline-gb");

    // Profile reasons serialise without a category.
    let v = decide(&p, DomainDecision::NotInAllowlist, vec![]);
    let value: serde_json::Value = serde_json::from_str(&v.to_json()).unwrap();
    assert_eq!(
        value["reason"],
        serde_json::json!({"kind": "not_in_allowlist"})
    );
    assert_eq!(value["help"], serde_json::Value::Null);
    assert_eq!(Verdict::from_json(&v.to_json()).unwrap(), v);
}
