use super::catalogue::BUILTIN_SOURCES;
use super::*;
use crate::policy::{AgeTier, Category, Country};

#[test]
fn catalogue_is_complete_for_every_category_tier_language_and_wording() {
    let catalogue = Catalogue::from_sources(BUILTIN_SOURCES).unwrap();
    let mut checked = 0;
    for language in Language::ALL {
        for part in MessagePart::all() {
            for tier in AgeTier::ALL {
                let wording = catalogue.get(language, part, tier);
                for (variant, text) in [("text", &wording.standard), ("easy", &wording.easy_read)] {
                    assert!(
                        !text.trim().is_empty(),
                        "{language} {part:?} {tier} {variant}"
                    );
                    assert_eq!(
                        text.trim(),
                        text,
                        "{language} {part:?} {tier} {variant}: stray spaces"
                    );
                    assert!(
                        text.chars().count() <= 280,
                        "{language} {part:?} {tier} {variant}: too long"
                    );
                    checked += 1;
                }
            }
        }
    }
    // 6 languages × (7 fixed parts + 18 categories) × 5 tiers × 2 wordings.
    assert_eq!(checked, 6 * (7 + Category::ALL.len()) * 5 * 2);
}

#[test]
fn every_category_has_a_message_part() {
    for category in Category::ALL {
        assert!(
            MessagePart::all().any(|p| p == MessagePart::Category(category)),
            "{category}"
        );
    }
}

/// Strong right-to-left characters (Arabic script blocks).
fn is_arabic(c: char) -> bool {
    matches!(c, '\u{0600}'..='\u{06FF}' | '\u{0750}'..='\u{077F}' | '\u{08A0}'..='\u{08FF}' | '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}')
}

#[test]
fn arabic_is_right_to_left_arabic_script() {
    let catalogue = Catalogue::builtin();
    for part in MessagePart::all() {
        for tier in AgeTier::ALL {
            let wording = catalogue.get(Language::Ar, part, tier);
            for text in [&wording.standard, &wording.easy_read] {
                // The first strong character decides the paragraph direction in the Unicode bidi algorithm.
                let first_strong = text.chars().find(|c| c.is_alphabetic());
                assert!(
                    first_strong.is_some_and(is_arabic),
                    "{part:?} {tier}: {text}"
                );
                assert!(
                    !text.chars().any(|c| c.is_ascii_alphabetic()),
                    "{part:?} {tier}: Latin letters"
                );
                // Explicit embedding/override controls make text render wrongly when apps concatenate it.
                let bidi_controls = [
                    '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}',
                    '\u{202E}',
                ];
                assert!(
                    !text.contains(bidi_controls),
                    "{part:?} {tier}: bidi control characters"
                );
            }
        }
    }
}

#[test]
fn each_language_is_written_in_its_own_script() {
    let catalogue = Catalogue::builtin();
    type InScript = fn(char) -> bool;
    let script: [(Language, InScript); 3] = [
        (Language::Zh, |c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
        (Language::Ru, |c| ('\u{0400}'..='\u{04FF}').contains(&c)),
        (Language::Ar, is_arabic),
    ];
    for (language, in_script) in script {
        for part in MessagePart::all() {
            for tier in AgeTier::ALL {
                let text = &catalogue.get(language, part, tier).standard;
                let letters = text.chars().filter(|c| c.is_alphabetic()).count();
                let native = text.chars().filter(|c| in_script(*c)).count();
                // Acronyms such as VPN may stay in Latin letters.
                assert!(
                    native * 10 >= letters * 8,
                    "{language} {part:?} {tier}: {text}"
                );
            }
        }
    }
}

/// A tone check for the languages whose shaming words we can list reliably. The catalogue's README has the full
/// guideline every string was reviewed against.
#[test]
fn no_shaming_words() {
    let catalogue = Catalogue::builtin();
    let banned: [(Language, &[&str]); 3] = [
        (
            Language::En,
            &[
                "bad",
                "naughty",
                "dirty",
                "wrong",
                "inappropriate",
                "shame",
                "ashamed",
                "disgusting",
                "stupid",
            ],
        ),
        (Language::Fr, &["vilain", "sale", "honte", "inapproprié"]),
        (
            Language::Es,
            &["malo", "mala", "sucio", "vergüenza", "inapropiado"],
        ),
    ];
    for (language, words) in banned {
        for part in MessagePart::all() {
            for tier in AgeTier::ALL {
                let wording = catalogue.get(language, part, tier);
                for text in [&wording.standard, &wording.easy_read] {
                    let lower = text.to_lowercase();
                    for word in lower.split(|c: char| !c.is_alphabetic()) {
                        assert!(
                            !words.contains(&word),
                            "{language} {part:?} {tier}: {word:?} in {text}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn incomplete_or_malformed_catalogues_are_refused() {
    let en = BUILTIN_SOURCES[2];
    // Five languages only.
    let five = BUILTIN_SOURCES
        .iter()
        .copied()
        .filter(|s| !s.contains("language = \"ru\""));
    assert_eq!(
        Catalogue::from_sources(five).unwrap_err(),
        CatalogueError::MissingLanguage {
            language: Language::Ru
        }
    );
    // English twice.
    let twice = BUILTIN_SOURCES.iter().copied().chain([en]);
    assert_eq!(
        Catalogue::from_sources(twice).unwrap_err(),
        CatalogueError::DuplicateLanguage {
            language: Language::En
        }
    );
    // One tier of one category removed.
    let start = en.find("[category.gambling]").unwrap();
    let line = start + en[start..].find("\n9-12").unwrap();
    let end = line + 1 + en[line + 1..].find('\n').unwrap();
    let broken = format!("{}{}", &en[..line], &en[end..]);
    let sources = BUILTIN_SOURCES.map(|s| if s == en { broken.as_str() } else { s });
    assert_eq!(
        Catalogue::from_sources(sources).unwrap_err(),
        CatalogueError::Missing {
            language: Language::En,
            key: "category.gambling.9-12".into()
        }
    );
    // An empty easy-read string.
    let emptied = en.replacen("easy = \"", "easy = \"   \" , x = \"", 1);
    let sources = BUILTIN_SOURCES.map(|s| if s == en { emptied.as_str() } else { s });
    assert!(matches!(
        Catalogue::from_sources(sources).unwrap_err(),
        CatalogueError::Missing { .. }
    ));
    // An unknown section (a typo) is not silently ignored.
    let typo = format!("{en}\n[category.gamblign]\nadult = {{ text = \"x\", easy = \"x\" }}\n");
    let sources = BUILTIN_SOURCES.map(|s| if s == en { typo.as_str() } else { s });
    assert!(matches!(
        Catalogue::from_sources(sources).unwrap_err(),
        CatalogueError::Invalid { .. }
    ));
    // Wrong direction for the language.
    let ltr_arabic = BUILTIN_SOURCES[0].replacen("direction = \"rtl\"", "direction = \"ltr\"", 1);
    let sources = BUILTIN_SOURCES.map(|s| {
        if s == BUILTIN_SOURCES[0] {
            ltr_arabic.as_str()
        } else {
            s
        }
    });
    assert!(matches!(
        Catalogue::from_sources(sources).unwrap_err(),
        CatalogueError::Invalid { .. }
    ));
    // Not TOML at all.
    let sources = BUILTIN_SOURCES.map(|s| if s == en { "language = " } else { s });
    assert!(matches!(
        Catalogue::from_sources(sources).unwrap_err(),
        CatalogueError::Syntax { .. }
    ));
}

#[test]
fn languages_parse_from_codes_and_locale_tags() {
    for (tag, language) in [
        ("ar", Language::Ar),
        ("zh-Hans-CN", Language::Zh),
        ("EN_gb", Language::En),
        ("fr-CA", Language::Fr),
        ("ru", Language::Ru),
        ("es-419", Language::Es),
    ] {
        assert_eq!(tag.parse::<Language>(), Ok(language), "{tag}");
    }
    for tag in ["", "de", "english", "zz-ZZ"] {
        assert!(tag.parse::<Language>().is_err(), "{tag}");
    }
}

#[test]
fn help_directory_finds_national_then_international_contacts() {
    let directory = HelpDirectory::builtin();
    let gb: Country = "GB".parse().unwrap();
    let ids = |contacts: Vec<HelpContact>| contacts.into_iter().map(|c| c.id).collect::<Vec<_>>();

    assert_eq!(
        ids(directory.lookup(Some(gb), &[Category::KnownAbuse])),
        [
            "childline-gb",
            "ceop-gb",
            "iwf-gb",
            "child-helpline-international",
            "inhope"
        ]
    );
    assert_eq!(
        ids(directory.lookup(Some(gb), &[Category::Bullying])),
        ["childline-gb", "child-helpline-international"]
    );
    // A topical service only appears for its topics.
    let us: Country = "us".parse().unwrap();
    assert_eq!(
        ids(directory.lookup(Some(us), &[Category::SelfHarm])),
        ["988-us", "child-helpline-international"]
    );
    assert_eq!(
        ids(directory.lookup(Some(us), &[Category::Bullying])),
        ["child-helpline-international"]
    );
    // Unknown or no country: international services only.
    assert_eq!(
        ids(directory.lookup(None, &[Category::SelfHarm])),
        ["child-helpline-international"]
    );
    assert_eq!(
        ids(directory.lookup(Some("ZZ".parse().unwrap()), &[Category::Grooming])),
        ["child-helpline-international"]
    );
}

#[test]
fn help_directory_is_replaceable_and_validated() {
    let own = r#"
        [[contact]]
        id = "school-counsellor"
        name = "Your school counsellor"
        countries = ["NZ"]
        categories = ["bullying"]
        url = "https://school.example/help"
        source = "the app's own directory"
    "#;
    let directory = HelpDirectory::from_toml(own).unwrap();
    assert_eq!(directory.len(), 1);
    assert_eq!(
        directory
            .lookup(Some("NZ".parse().unwrap()), &[Category::Bullying])
            .len(),
        1
    );
    assert!(
        directory
            .lookup(Some("NZ".parse().unwrap()), &[Category::SelfHarm])
            .is_empty()
    );
    assert!(
        HelpDirectory::empty()
            .lookup(None, &[Category::SelfHarm])
            .is_empty()
    );

    let no_way_to_reach = own.replace("url = \"https://school.example/help\"", "");
    assert_eq!(
        HelpDirectory::from_toml(&no_way_to_reach).unwrap_err(),
        HelpError::Invalid {
            field: "contact[0].phone".into(),
            problem: "a contact needs a phone, sms or url"
        }
    );
    let bad_country = own.replace("[\"NZ\"]", "[\"New Zealand\"]");
    assert!(matches!(
        HelpDirectory::from_toml(&bad_country),
        Err(HelpError::Invalid { .. })
    ));
    let no_source = own.replace("source = \"the app's own directory\"", "source = \"\"");
    assert!(matches!(
        HelpDirectory::from_toml(&no_source),
        Err(HelpError::Invalid { .. })
    ));
    let bad_category = own.replace("[\"bullying\"]", "[\"homework\"]");
    assert!(matches!(
        HelpDirectory::from_toml(&bad_category),
        Err(HelpError::Invalid { .. })
    ));
    let twice = format!("{own}{own}");
    assert!(matches!(
        HelpDirectory::from_toml(&twice),
        Err(HelpError::Invalid { .. })
    ));
    assert!(matches!(
        HelpDirectory::from_toml("[[contact]"),
        Err(HelpError::Syntax { .. })
    ));
}
