//! The one answer every check returns: a [`Verdict`] with its action, the categories and evidence behind it, a
//! message for the child in their language, and where fitting a pointer to help.
//!
//! Engines report [`Finding`]s; [`Verdict::decide`] weighs them against the child's [`Profile`]. A verdict never
//! contains the checked content itself beyond the spans and rule names in its evidence.

use serde::{Deserialize, Serialize};

use crate::i18n::{Catalogue, HelpContact, HelpDirectory, Language, MessagePart, TextDirection};
use crate::policy::{Action, AgeTier, Category, DomainDecision, Profile, Rule};

/// Which part of Haven produced a piece of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Engine {
    /// URL and domain lists.
    Url,
    /// Keyword, phrase, personal-data and grooming rules.
    Text,
    /// Exact and perceptual hash lists.
    Hash,
    /// A machine-learning classifier.
    Classifier,
    /// The family's own profile settings (allow/deny lists, allowlist-only mode).
    Profile,
}

impl Engine {
    /// The stable identifier (`"url"`, `"text"`, `"hash"`, `"classifier"`, `"profile"`).
    pub fn id(self) -> &'static str {
        match self {
            Engine::Url => "url",
            Engine::Text => "text",
            Engine::Hash => "hash",
            Engine::Classifier => "classifier",
            Engine::Profile => "profile",
        }
    }
}

/// The list or model behind a piece of evidence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Source {
    /// List or model identifier.
    pub id: String,
    /// Its version.
    pub version: String,
}

/// A byte range in the checked text (for masking and for showing the parent what matched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Why a verdict came out as it did: one engine's observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The engine that saw it.
    pub engine: Engine,
    /// The category it supports (`None` for profile settings such as a parent's denylist).
    pub category: Option<Category>,
    /// The list or model, with its version.
    pub source: Option<Source>,
    /// The rule that matched: a list entry, a lexicon entry, a profile setting.
    pub rule: Option<String>,
    /// Where in the checked text it matched.
    pub span: Option<Span>,
    /// A model score or match distance, when there is one.
    pub score: Option<f32>,
    /// In a conversation check: the index of the message that `span` refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<usize>,
}

impl Evidence {
    /// Evidence from `engine` with nothing else filled in.
    pub fn new(engine: Engine) -> Evidence {
        Evidence {
            engine,
            category: None,
            source: None,
            rule: None,
            span: None,
            score: None,
            message: None,
        }
    }

    /// This evidence with its source list or model.
    pub fn with_source(mut self, id: impl Into<String>, version: impl Into<String>) -> Evidence {
        self.source = Some(Source {
            id: id.into(),
            version: version.into(),
        });
        self
    }

    /// This evidence with the rule that matched.
    pub fn with_rule(mut self, rule: impl Into<String>) -> Evidence {
        self.rule = Some(rule.into());
        self
    }

    /// This evidence with a span of the checked text.
    pub fn with_span(mut self, start: usize, end: usize) -> Evidence {
        self.span = Some(Span { start, end });
        self
    }

    /// This evidence about message `index` of a conversation.
    pub fn with_message(mut self, index: usize) -> Evidence {
        self.message = Some(index);
        self
    }

    /// This evidence with a score.
    pub fn with_score(mut self, score: f32) -> Evidence {
        self.score = Some(score);
        self
    }
}

/// What an engine found: a category, how sure it is, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The category found.
    pub category: Category,
    /// Confidence in `0.0..=1.0` (list matches are 1.0).
    pub confidence: f32,
    /// The evidence.
    pub evidence: Evidence,
}

/// A category present in a verdict, with the action the profile takes for it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CategoryScore {
    /// The category.
    pub category: Category,
    /// The highest confidence among its findings.
    pub confidence: f32,
    /// What the profile does about it.
    pub action: Action,
}

/// The reason the child's message explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "category", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// Content of this category.
    Category(Category),
    /// The parent put this domain on the profile's denylist.
    ParentDenied,
    /// Allowlist-only mode, and the domain is not on the allowlist.
    NotInAllowlist,
}

impl Reason {
    fn message_part(self) -> MessagePart {
        match self {
            Reason::Category(c) => MessagePart::Category(c),
            Reason::ParentDenied => MessagePart::ParentDenied,
            Reason::NotInAllowlist => MessagePart::NotInAllowlist,
        }
    }
}

/// The three parts of a message in one wording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageText {
    /// A short heading.
    pub title: String,
    /// Why.
    pub body: String,
    /// What the child can do now (after a warning: how to continue).
    pub next_step: String,
}

impl MessageText {
    /// Title, body and next step as one paragraph, separated as the language expects.
    pub fn joined(&self, language: Language) -> String {
        let sep = if language == Language::Zh { "" } else { " " };
        [
            self.title.as_str(),
            self.body.as_str(),
            self.next_step.as_str(),
        ]
        .join(sep)
    }
}

/// The child-facing explanation, in the profile's language, in both wordings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The language.
    pub language: Language,
    /// Lay out right to left when `rtl`.
    pub direction: TextDirection,
    /// The wording for the child's age.
    pub standard: MessageText,
    /// Short sentences and common words, for children with reading or learning difficulties.
    pub easy_read: MessageText,
}

/// Where the child can find help. Always starts with "talk to an adult you trust".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelpPointer {
    /// "Talk to an adult you trust", for the child's age.
    pub text: String,
    /// The same in easy-read wording.
    pub easy_read: String,
    /// Helplines for the child's country and the categories found (may be empty).
    pub contacts: Vec<HelpContact>,
}

/// The answer to a check.
///
/// Serialises to stable JSON: fields keep their names and order, absent values are `null`, identifiers are
/// snake_case. See the README for an example.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Allow, warn or block.
    pub action: Action,
    /// Tell the parent.
    pub notify_parent: bool,
    /// Show the child where to find help (see `help`).
    pub offer_help: bool,
    /// The reason the message explains (`None` when allowed).
    pub reason: Option<Reason>,
    /// Every category found, strictest first.
    pub categories: Vec<CategoryScore>,
    /// Why, engine by engine.
    pub evidence: Vec<Evidence>,
    /// What to show the child (`None` when allowed).
    pub message: Option<Message>,
    /// Where to find help, when offered.
    pub help: Option<HelpPointer>,
    /// A safer URL to open instead, when the check allows or warns: the same search with the engine's
    /// SafeSearch on (see [`crate::url::safesearch`]).
    #[serde(default)]
    pub redirect: Option<String>,
}

impl Verdict {
    /// Weighs findings against a profile.
    ///
    /// - Each category takes the profile's rule for it (the default matrix with overrides).
    /// - A domain the parent allowed is allowed whatever the engines found, except known abuse material.
    /// - A domain the parent denied, or one outside the allowlist in allowlist-only mode, is blocked.
    /// - The verdict's action is the strictest; the message explains known abuse first, then the parent's own
    ///   setting, then the most severe category at that action.
    ///
    /// # Examples
    ///
    /// ```
    /// use haven_core::i18n::{Catalogue, HelpDirectory};
    /// use haven_core::policy::{Action, AgeTier, Category, DomainDecision, Profile};
    /// use haven_core::verdict::{Engine, Evidence, Finding, Verdict};
    ///
    /// let profile = Profile::new("Ana", AgeTier::Age13To15)?;
    /// let finding = Finding {
    ///     category: Category::Violence,
    ///     confidence: 0.9,
    ///     evidence: Evidence::new(Engine::Classifier).with_source("demo-model", "1").with_score(0.9),
    /// };
    /// let verdict = Verdict::decide(
    ///     &profile,
    ///     DomainDecision::Unlisted,
    ///     vec![finding],
    ///     &Catalogue::builtin(),
    ///     &HelpDirectory::builtin(),
    /// );
    /// assert_eq!(verdict.action, Action::Warn);
    /// assert!(verdict.message.is_some());
    /// # Ok::<(), haven_core::policy::ProfileError>(())
    /// ```
    pub fn decide(
        profile: &Profile,
        domain: DomainDecision<'_>,
        findings: Vec<Finding>,
        catalogue: &Catalogue,
        directory: &HelpDirectory,
    ) -> Verdict {
        if findings.is_empty() && matches!(domain, DomainDecision::Unlisted) {
            // Nothing found and nothing the parent said (most checks): allowed, nothing to explain.
            return Verdict {
                action: Action::Allow,
                notify_parent: false,
                offer_help: false,
                reason: None,
                categories: Vec::new(),
                evidence: Vec::new(),
                message: None,
                help: None,
                redirect: None,
            };
        }
        let mut evidence = Vec::with_capacity(findings.len());
        let mut scores: Vec<(CategoryScore, Rule)> = Vec::new();
        for finding in findings {
            let confidence = if finding.confidence.is_nan() {
                0.0
            } else {
                finding.confidence.clamp(0.0, 1.0)
            };
            match scores
                .iter_mut()
                .find(|(s, _)| s.category == finding.category)
            {
                Some((score, _)) => score.confidence = score.confidence.max(confidence),
                None => {
                    let mut rule = profile.rule_for(finding.category);
                    if matches!(domain, DomainDecision::Allowed(_))
                        && finding.category.is_overridable()
                    {
                        rule = Rule::new(Action::Allow);
                    }
                    let score = CategoryScore {
                        category: finding.category,
                        confidence,
                        action: rule.action,
                    };
                    scores.push((score, rule));
                }
            }
            evidence.push(Evidence {
                category: Some(finding.category),
                ..finding.evidence
            });
        }
        // Strictest first, then most severe.
        scores.sort_by(|(a, _), (b, _)| b.action.cmp(&a.action).then(a.category.cmp(&b.category)));

        let profile_block = match domain {
            DomainDecision::Allowed(entry) => {
                evidence.push(
                    Evidence::new(Engine::Profile).with_rule(format!("allow_domains:{entry}")),
                );
                None
            }
            DomainDecision::Denied(entry) => {
                evidence.push(
                    Evidence::new(Engine::Profile).with_rule(format!("deny_domains:{entry}")),
                );
                Some(Reason::ParentDenied)
            }
            DomainDecision::NotInAllowlist => {
                evidence.push(Evidence::new(Engine::Profile).with_rule("allowlist_only"));
                Some(Reason::NotInAllowlist)
            }
            DomainDecision::Unlisted => None,
        };

        let strictest = scores.first().map_or(Action::Allow, |(s, _)| s.action);
        let action = if profile_block.is_some() {
            Action::Block
        } else {
            strictest
        };
        let reason = match (scores.first(), profile_block) {
            _ if action == Action::Allow => None,
            (Some((s, _)), _) if s.category == Category::KnownAbuse => {
                Some(Reason::Category(s.category))
            }
            (_, Some(reason)) => Some(reason),
            (Some((s, _)), None) => Some(Reason::Category(s.category)),
            (None, None) => None,
        };
        let notify_parent = scores.iter().any(|(_, r)| r.notify_parent);
        let help_categories: Vec<Category> = scores
            .iter()
            .filter(|(_, r)| r.offer_help)
            .map(|(s, _)| s.category)
            .collect();

        let tier = profile.tier();
        let language = profile.language();
        let message = reason.map(|reason| compose(catalogue, language, tier, action, reason));
        let help = (!help_categories.is_empty()).then(|| {
            let wording = catalogue.get(language, MessagePart::TrustedAdult, tier);
            HelpPointer {
                text: wording.standard.clone(),
                easy_read: wording.easy_read.clone(),
                contacts: directory.lookup(profile.country(), &help_categories),
            }
        });

        Verdict {
            action,
            notify_parent,
            offer_help: help.is_some(),
            reason,
            categories: scores.into_iter().map(|(s, _)| s).collect(),
            evidence,
            message,
            help,
            redirect: None,
        }
    }

    /// The verdict as stable, compact JSON.
    pub fn to_json(&self) -> String {
        // Every field is a string, number, boolean, option or sequence of those: serialisation cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a verdict back from its JSON form.
    pub fn from_json(json: &str) -> Result<Verdict, serde_json::Error> {
        serde_json::from_str(json)
    }
}

fn compose(
    catalogue: &Catalogue,
    language: Language,
    tier: AgeTier,
    action: Action,
    reason: Reason,
) -> Message {
    let (title, next) = match action {
        Action::Warn => (MessagePart::WarnTitle, MessagePart::WarnNext),
        Action::Block | Action::Allow => (MessagePart::BlockTitle, MessagePart::BlockNext),
    };
    let title = catalogue.get(language, title, tier);
    let body = catalogue.get(language, reason.message_part(), tier);
    let next = catalogue.get(language, next, tier);
    Message {
        language,
        direction: language.direction(),
        standard: MessageText {
            title: title.standard.clone(),
            body: body.standard.clone(),
            next_step: next.standard.clone(),
        },
        easy_read: MessageText {
            title: title.easy_read.clone(),
            body: body.easy_read.clone(),
            next_step: next.easy_read.clone(),
        },
    }
}

#[cfg(test)]
mod tests;
