//! The policy model: who the child is ([`AgeTier`]), what was found ([`Category`]), and what Haven does about it
//! ([`Action`], [`Rule`]).
//!
//! The [default matrix](default_rule) maps every category × age tier to a [`Rule`]; a family's [`Profile`] can
//! override any cell except [`Category::KnownAbuse`], which is blocked for everyone and can never be relaxed.
//! This module only decides; it never looks at content itself.

mod profile;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use profile::{
    Country, DomainDecision, DomainList, FieldProblem, Profile, ProfileError, ProfileFormat,
    RuleOverride,
};

/// An age band. Protection, wording and defaults follow the tier, not the exact age.
///
/// # Examples
///
/// ```
/// use haven_core::policy::AgeTier;
///
/// assert_eq!(AgeTier::from_age(7), AgeTier::Under9);
/// assert_eq!(AgeTier::from_age(12), AgeTier::Age9To12);
/// assert_eq!(AgeTier::from_age(18), AgeTier::Adult);
/// assert_eq!("13-15".parse::<AgeTier>(), Ok(AgeTier::Age13To15));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AgeTier {
    /// Younger than 9.
    #[serde(rename = "under-9")]
    Under9,
    /// 9 to 12 years old.
    #[serde(rename = "9-12")]
    Age9To12,
    /// 13 to 15 years old.
    #[serde(rename = "13-15")]
    Age13To15,
    /// 16 or 17 years old.
    #[serde(rename = "16-17")]
    Age16To17,
    /// 18 or older.
    #[serde(rename = "adult")]
    Adult,
}

impl AgeTier {
    /// Every tier, youngest first.
    pub const ALL: [AgeTier; 5] = [
        AgeTier::Under9,
        AgeTier::Age9To12,
        AgeTier::Age13To15,
        AgeTier::Age16To17,
        AgeTier::Adult,
    ];

    /// The tier for an age in whole years.
    pub fn from_age(years: u32) -> AgeTier {
        match years {
            0..=8 => AgeTier::Under9,
            9..=12 => AgeTier::Age9To12,
            13..=15 => AgeTier::Age13To15,
            16..=17 => AgeTier::Age16To17,
            _ => AgeTier::Adult,
        }
    }

    /// The stable identifier used in profiles, JSON and the message catalogue (`"under-9"`, `"9-12"`, ...).
    pub fn id(self) -> &'static str {
        match self {
            AgeTier::Under9 => "under-9",
            AgeTier::Age9To12 => "9-12",
            AgeTier::Age13To15 => "13-15",
            AgeTier::Age16To17 => "16-17",
            AgeTier::Adult => "adult",
        }
    }

    /// Whether this tier is a child's (anything but [`AgeTier::Adult`]).
    pub fn is_minor(self) -> bool {
        self != AgeTier::Adult
    }
}

impl fmt::Display for AgeTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The identifier given to [`FromStr`] was not one Haven knows. Carries no copy of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}")]
pub struct UnknownId {
    /// What kind of identifier was expected ("age tier", "category", "action", "language").
    pub what: &'static str,
}

impl FromStr for AgeTier {
    type Err = UnknownId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AgeTier::ALL
            .into_iter()
            .find(|t| t.id() == s)
            .ok_or(UnknownId { what: "age tier" })
    }
}

/// What a piece of content is about. Every engine reports its findings in these terms.
///
/// The declaration order is the order of severity used to pick the one reason a verdict explains first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Category {
    /// Matches a list of known child sexual abuse material (hash or URL list). Blocked for everyone, always.
    KnownAbuse,
    /// Sexual content, pornography.
    SexualContent,
    /// Signs that someone is grooming the child: secrecy, gifts, requests for photos or to meet.
    Grooming,
    /// Content about hurting oneself, suicide or eating disorders.
    SelfHarm,
    /// Images of people without clothes, not necessarily sexual.
    Nudity,
    /// Violence and gore.
    Violence,
    /// Weapons and how to make them.
    Weapons,
    /// Attacks on people for who they are.
    Hate,
    /// Bullying and harassment.
    Bullying,
    /// Illegal drugs and misuse of medicines.
    Drugs,
    /// The child sharing personal information (address, phone, school, passwords, location).
    PersonalInfo,
    /// Scams, phishing and malware.
    ScamsMalware,
    /// VPNs, proxies, DNS-over-HTTPS and other tools that get around the filter.
    BypassTools,
    /// Betting and games of chance for money.
    Gambling,
    /// Dating sites and apps.
    Dating,
    /// Alcohol, tobacco and vaping.
    AlcoholTobacco,
    /// Social networks.
    SocialMedia,
    /// Swearing and rude language.
    Profanity,
}

impl Category {
    /// Every category, most severe first.
    pub const ALL: [Category; 18] = [
        Category::KnownAbuse,
        Category::SexualContent,
        Category::Grooming,
        Category::SelfHarm,
        Category::Nudity,
        Category::Violence,
        Category::Weapons,
        Category::Hate,
        Category::Bullying,
        Category::Drugs,
        Category::PersonalInfo,
        Category::ScamsMalware,
        Category::BypassTools,
        Category::Gambling,
        Category::Dating,
        Category::AlcoholTobacco,
        Category::SocialMedia,
        Category::Profanity,
    ];

    /// The stable snake_case identifier used in profiles, JSON, lists and the message catalogue.
    pub fn id(self) -> &'static str {
        match self {
            Category::KnownAbuse => "known_abuse",
            Category::SexualContent => "sexual_content",
            Category::Grooming => "grooming",
            Category::SelfHarm => "self_harm",
            Category::Nudity => "nudity",
            Category::Violence => "violence",
            Category::Weapons => "weapons",
            Category::Hate => "hate",
            Category::Bullying => "bullying",
            Category::Drugs => "drugs",
            Category::PersonalInfo => "personal_info",
            Category::ScamsMalware => "scams_malware",
            Category::BypassTools => "bypass_tools",
            Category::Gambling => "gambling",
            Category::Dating => "dating",
            Category::AlcoholTobacco => "alcohol_tobacco",
            Category::SocialMedia => "social_media",
            Category::Profanity => "profanity",
        }
    }

    /// Whether a profile may change this category's rule. Only known abuse material is fixed.
    pub fn is_overridable(self) -> bool {
        self != Category::KnownAbuse
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Category {
    type Err = UnknownId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.id() == s)
            .ok_or(UnknownId { what: "category" })
    }
}

/// What happens to the content. Ordered: `Allow < Warn < Block`, so the strictest of several is the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Show it.
    Allow,
    /// Explain why it may not be a good idea; the child may continue after reading.
    Warn,
    /// Do not show or send it.
    Block,
}

impl Action {
    /// The stable identifier (`"allow"`, `"warn"`, `"block"`).
    pub fn id(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Warn => "warn",
            Action::Block => "block",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Action {
    type Err = UnknownId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Action::Allow, Action::Warn, Action::Block]
            .into_iter()
            .find(|a| a.id() == s)
            .ok_or(UnknownId { what: "action" })
    }
}

/// The policy for one category at one tier: an [`Action`] plus whether to tell the parent and offer help.
///
/// # Examples
///
/// ```
/// use haven_core::policy::{default_rule, Action, AgeTier, Category};
///
/// let rule = default_rule(Category::SelfHarm, AgeTier::Age9To12);
/// assert_eq!(rule.action, Action::Block);
/// assert!(rule.offer_help);
/// assert_eq!(rule.to_string(), "block + notify + help");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rule {
    /// What to do with the content.
    pub action: Action,
    /// Tell the parent (through the integrating app) that this happened.
    pub notify_parent: bool,
    /// Show the child where to find help.
    pub offer_help: bool,
}

impl Rule {
    /// A rule with the given action and no flags.
    pub const fn new(action: Action) -> Rule {
        Rule {
            action,
            notify_parent: false,
            offer_help: false,
        }
    }

    /// This rule with `notify_parent` set.
    pub const fn notify(mut self) -> Rule {
        self.notify_parent = true;
        self
    }

    /// This rule with `offer_help` set.
    pub const fn help(mut self) -> Rule {
        self.offer_help = true;
        self
    }
}

/// Written as in the README's policy table: `block`, `warn + help`, `block + notify + help`.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.action.id())?;
        if self.notify_parent {
            f.write_str(" + notify")?;
        }
        if self.offer_help {
            f.write_str(" + help")?;
        }
        Ok(())
    }
}

/// Haven's default rule for a category at an age tier, before any profile override.
///
/// The full matrix, with the reasons behind each row, is the policy table in the README; a test keeps the two
/// identical.
pub fn default_rule(category: Category, tier: AgeTier) -> Rule {
    use Action::{Allow, Block, Warn};
    use AgeTier::{Adult, Age9To12, Age13To15, Age16To17, Under9};

    let block = Rule::new(Block);
    let warn = Rule::new(Warn);
    let allow = Rule::new(Allow);
    let minor = tier.is_minor();
    let under_13 = matches!(tier, Under9 | Age9To12);
    let under_16 = matches!(tier, Under9 | Age9To12 | Age13To15);

    match category {
        // Never overridable. A child who meets known abuse material may be being exploited: the parent is told
        // and reporting/help lines are shown.
        Category::KnownAbuse if minor => block.notify().help(),
        Category::KnownAbuse => block.help(),
        Category::SexualContent | Category::Gambling | Category::Dating | Category::BypassTools => {
            if minor {
                block
            } else {
                allow
            }
        }
        // Non-sexual nudity includes art and health education: 16-17 may continue after a warning.
        Category::Nudity => match tier {
            Under9 | Age9To12 | Age13To15 => block,
            Age16To17 => warn,
            Adult => allow,
        },
        Category::Violence | Category::Weapons | Category::Hate | Category::AlcoholTobacco => {
            match tier {
                Under9 | Age9To12 => block,
                Age13To15 | Age16To17 => warn,
                Adult => allow,
            }
        }
        // Whoever meets bullying may be its target: always point to help.
        Category::Bullying => match tier {
            Under9 | Age9To12 => block.help(),
            Age13To15 | Age16To17 => warn.help(),
            Adult => allow,
        },
        // Young children need an adult involved; teenagers are not reported to their parents, because fear of
        // that stops them looking for help.
        Category::SelfHarm => match tier {
            Under9 | Age9To12 => block.notify().help(),
            Age13To15 => block.help(),
            Age16To17 | Adult => warn.help(),
        },
        Category::Drugs => {
            if under_16 {
                block
            } else if minor {
                warn
            } else {
                allow
            }
        }
        Category::Grooming => match tier {
            Under9 | Age9To12 => block.notify().help(),
            Age13To15 => warn.notify().help(),
            Age16To17 => warn.help(),
            Adult => allow,
        },
        Category::PersonalInfo => match tier {
            Under9 => block,
            Age9To12 | Age13To15 | Age16To17 => warn,
            Adult => allow,
        },
        // Harmful at every age; adults may go on after a warning.
        Category::ScamsMalware => {
            if minor {
                block
            } else {
                warn
            }
        }
        // The minimum age of the large platforms' terms of service is 13.
        Category::SocialMedia => {
            if under_13 {
                block
            } else {
                allow
            }
        }
        Category::Profanity => match tier {
            Under9 => block,
            Age9To12 => warn,
            Age13To15 | Age16To17 | Adult => allow,
        },
    }
}

#[cfg(test)]
mod tests;
