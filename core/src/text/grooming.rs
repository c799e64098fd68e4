//! Grooming risk over a conversation: several weak signals of different families, close together in time, raise
//! the risk; one alone does not.
//!
//! Each family has a base weight (how much it says on its own), scaled by the matched phrase's severity and
//! halved for the child's own messages (a child saying "I'm home alone" matters, but less than an adult asking).
//! Signals older than [`WINDOW_SECONDS`] before the last message are forgotten. For each family the strongest
//! signal counts, and the families combine as independent evidence:
//! `risk = 1 − Π (1 − weight_f)`. The conversation is flagged at [`THRESHOLD`].
//!
//! With the weights below (severity 1 counts 0.85, 2 counts 1, 3 counts 1.5), one "how old are you" (0.25 at
//! severity 2), one "don't tell your parents" (0.4) or one "send me a photo" (0.45) stays under the threshold;
//! age probing plus secrecy (0.55), secrecy plus a move to another platform (0.58) or a severe photo request
//! alone (0.68) is flagged.

use std::ops::Range;

use super::Direction;
use super::lexicon::GroomingFamily;
use crate::i18n::Language;

/// Risk at or above which a conversation is flagged as grooming.
pub const THRESHOLD: f32 = 0.5;

/// How far back, before the last message, signals still count: 14 days.
pub const WINDOW_SECONDS: u64 = 14 * 24 * 60 * 60;

/// What one signal of a family weighs at severity 2, from the other person.
pub fn base_weight(family: GroomingFamily) -> f32 {
    match family {
        GroomingFamily::Secrecy => 0.40,
        GroomingFamily::Isolation => 0.30,
        GroomingFamily::Age => 0.25,
        GroomingFamily::Photos => 0.45,
        GroomingFamily::Platform => 0.30,
        GroomingFamily::Meet => 0.40,
        GroomingFamily::Gifts => 0.30,
    }
}

/// One grooming phrase found in a message.
#[derive(Debug, Clone, PartialEq)]
pub struct GroomingSignal {
    /// Its family.
    pub family: GroomingFamily,
    /// The index of the message in the conversation.
    pub message: usize,
    /// Where in that message, in bytes.
    pub span: Range<usize>,
    /// The phrase's severity (1..=3).
    pub severity: u8,
    /// Who wrote it.
    pub direction: Direction,
    /// When the message was sent (seconds since the Unix epoch).
    pub sent_at: u64,
    /// The lexicon rule that matched (`grooming.secrecy:don't tell your parents`).
    pub rule: String,
    /// The lexicon's language.
    pub language: Language,
}

impl GroomingSignal {
    /// What this signal weighs.
    pub fn weight(&self) -> f32 {
        let severity = match self.severity {
            0 | 1 => 0.85,
            2 => 1.0,
            _ => 1.5,
        };
        let direction = match self.direction {
            Direction::Incoming => 1.0,
            Direction::Outgoing => 0.5,
        };
        (base_weight(self.family) * severity * direction).min(0.9)
    }
}

/// The grooming risk of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct GroomingAssessment {
    /// `0.0..1.0`; flagged at [`THRESHOLD`].
    pub risk: f32,
    /// The signals that counted (within the window), in conversation order.
    pub signals: Vec<GroomingSignal>,
}

impl GroomingAssessment {
    /// Whether the risk reaches [`THRESHOLD`].
    pub fn is_flagged(&self) -> bool {
        self.risk >= THRESHOLD
    }

    /// The distinct families that counted, in [`GroomingFamily::ALL`] order.
    pub fn families(&self) -> Vec<GroomingFamily> {
        GroomingFamily::ALL
            .into_iter()
            .filter(|f| self.signals.iter().any(|s| s.family == *f))
            .collect()
    }
}

/// Weighs the signals of a conversation whose last message was sent at `last_sent_at`.
pub fn assess(signals: Vec<GroomingSignal>, last_sent_at: u64) -> GroomingAssessment {
    let since = last_sent_at.saturating_sub(WINDOW_SECONDS);
    let signals: Vec<GroomingSignal> = signals.into_iter().filter(|s| s.sent_at >= since).collect();
    let mut keep = 1.0f32;
    for family in GroomingFamily::ALL {
        let strongest = signals
            .iter()
            .filter(|s| s.family == family)
            .map(GroomingSignal::weight)
            .fold(0.0f32, f32::max);
        keep *= 1.0 - strongest;
    }
    GroomingAssessment {
        risk: 1.0 - keep,
        signals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(
        family: GroomingFamily,
        severity: u8,
        direction: Direction,
        sent_at: u64,
    ) -> GroomingSignal {
        GroomingSignal {
            family,
            message: 0,
            span: 0..1,
            severity,
            direction,
            sent_at,
            rule: String::new(),
            language: Language::En,
        }
    }

    #[test]
    fn weak_signals_add_up_and_single_ones_do_not() {
        use Direction::{Incoming, Outgoing};
        use GroomingFamily::*;
        let day = 24 * 60 * 60;
        type Case<'a> = (&'a [(GroomingFamily, u8, Direction, u64)], bool);
        let cases: &[Case<'_>] = &[
            (&[(Age, 2, Incoming, 0)], false),
            (&[(Secrecy, 2, Incoming, 0)], false),
            (&[(Photos, 2, Incoming, 0)], false),
            (&[(Age, 2, Incoming, 0), (Age, 2, Incoming, 10)], false),
            (&[(Age, 2, Incoming, 0), (Secrecy, 2, Incoming, 60)], true),
            (
                &[(Secrecy, 2, Incoming, 0), (Platform, 2, Incoming, 60)],
                true,
            ),
            (&[(Photos, 3, Incoming, 0)], true),
            // The child's own words count half.
            (&[(Age, 2, Outgoing, 0), (Secrecy, 2, Outgoing, 60)], false),
            // Signals a month apart do not combine.
            (
                &[(Age, 2, Incoming, 0), (Secrecy, 2, Incoming, 30 * day)],
                false,
            ),
            (
                &[(Age, 2, Incoming, 0), (Secrecy, 2, Incoming, 13 * day)],
                true,
            ),
        ];
        for (signals, flagged) in cases {
            let last = signals.iter().map(|s| s.3).max().unwrap_or(0);
            let signals = signals
                .iter()
                .map(|&(f, sev, d, t)| signal(f, sev, d, t))
                .collect();
            let assessment = assess(signals, last);
            assert_eq!(assessment.is_flagged(), *flagged, "{assessment:?}");
            assert!((0.0..1.0).contains(&assessment.risk));
        }
    }
}
