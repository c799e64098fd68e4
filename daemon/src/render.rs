//! Human-readable output for the terminal.

use std::io::{self, Write};

use haven_core::policy::{Category, Profile};
use haven_core::verdict::{Reason, Verdict};

/// Prints a verdict: the decision, why, the child's message and any help.
pub(crate) fn verdict(
    out: &mut impl Write,
    verdict: &Verdict,
    profile: &Profile,
    easy_read: bool,
) -> io::Result<()> {
    writeln!(
        out,
        "{} (tier {})",
        verdict.action.id().to_uppercase(),
        profile.tier()
    )?;
    match verdict.reason {
        Some(Reason::Category(category)) => writeln!(out, "reason: {category}")?,
        Some(Reason::ParentDenied) => writeln!(out, "reason: on the profile's deny list")?,
        Some(Reason::NotInAllowlist) => {
            writeln!(out, "reason: allowlist-only profile, not on the allowlist")?
        }
        _ => {}
    }
    for score in &verdict.categories {
        writeln!(
            out,
            "category: {} (confidence {:.2}, {})",
            score.category, score.confidence, score.action
        )?;
    }
    for evidence in &verdict.evidence {
        let engine = evidence.engine.id();
        let source = evidence
            .source
            .as_ref()
            .map(|s| format!(" {}@{}", s.id, s.version))
            .unwrap_or_default();
        let rule = evidence
            .rule
            .as_deref()
            .map(|r| format!(" rule {r}"))
            .unwrap_or_default();
        writeln!(out, "evidence: {engine}{source}{rule}")?;
    }
    if let Some(redirect) = &verdict.redirect {
        writeln!(out, "safe search: open {redirect} instead")?;
    }
    if verdict.notify_parent {
        writeln!(out, "the parent will be notified")?;
    }
    if let Some(message) = &verdict.message {
        let text = if easy_read {
            &message.easy_read
        } else {
            &message.standard
        };
        writeln!(out)?;
        writeln!(out, "  {}", text.title)?;
        writeln!(out, "  {}", text.body)?;
        writeln!(out, "  {}", text.next_step)?;
    }
    if let Some(help) = &verdict.help {
        writeln!(out)?;
        writeln!(
            out,
            "  {}",
            if easy_read {
                &help.easy_read
            } else {
                &help.text
            }
        )?;
        for contact in &help.contacts {
            let reach: Vec<String> = [
                contact.phone.as_ref().map(|p| format!("call {p}")),
                contact.sms.as_ref().map(|s| format!("text {s}")),
                contact.url.clone(),
            ]
            .into_iter()
            .flatten()
            .collect();
            writeln!(out, "  - {}: {}", contact.name, reach.join(", "))?;
        }
    }
    Ok(())
}

/// Prints a profile's settings and the rule in force for every category.
pub(crate) fn profile(out: &mut impl Write, profile: &Profile) -> io::Result<()> {
    writeln!(out, "profile: {}", profile.name())?;
    writeln!(out, "tier: {}", profile.tier())?;
    writeln!(out, "language: {}", profile.language())?;
    writeln!(
        out,
        "country: {}",
        profile.country().map_or("-".to_owned(), |c| c.to_string())
    )?;
    writeln!(
        out,
        "allowlist only: {}",
        if profile.allowlist_only() {
            "yes"
        } else {
            "no"
        }
    )?;
    writeln!(out, "allowed domains: {}", profile.allow_domains().len())?;
    writeln!(out, "denied domains: {}", profile.deny_domains().len())?;
    writeln!(out, "rules:")?;
    for category in Category::ALL {
        let changed = if profile.overrides().contains_key(&category) {
            "  (override)"
        } else {
            ""
        };
        writeln!(
            out,
            "  {:<16} {}{changed}",
            category.id(),
            profile.rule_for(category)
        )?;
    }
    Ok(())
}
