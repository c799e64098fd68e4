//! Shared helpers for the text benchmarks: the corpora, Haven's text checks and `rustrict` (0.7) on the same input,
//! and the shared evasion / false-positive table in `fixtures/text/`.
//!
//! Both engines see the same strings one message at a time. Haven: [`Haven::check_text`] (lexicons, personal data,
//! grooming signals and the full verdict with the child's message) and [`Haven::mask_text`]; the lexicon stage alone
//! ([`TextEngine::scan`]) is timed too. rustrict: `Censor::analyze` (what `is_inappropriate` runs) and
//! `CensorStr::censor`.

use std::path::{Path, PathBuf};

use haven_core::i18n::Language;
use haven_core::text::{TextContext, TextEngine};
use haven_core::{AgeTier, Haven, Profile};
use rustrict::{Censor, CensorStr, Type};

use crate::BenchError;

/// The repository root (the benches crate lives one level below it).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A named list of messages.
#[derive(Debug, Clone)]
pub struct Corpus {
    /// Its name in the tables.
    pub name: &'static str,
    /// The messages, checked one by one.
    pub messages: Vec<String>,
}

impl Corpus {
    /// Total size in bytes.
    pub fn bytes(&self) -> usize {
        self.messages.iter().map(String::len).sum()
    }
}

fn read(path: &Path) -> Result<String, BenchError> {
    std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            BenchError::MissingList(path.to_owned())
        } else {
            BenchError::Io(path.to_owned(), e)
        }
    })
}

/// The King James Bible, one line of the `bible` dump per message (English prose, 4.3 MB; installed by
/// `scripts/fetch-corpus.sh`).
pub fn kjv() -> Result<Corpus, BenchError> {
    let text = read(&repo_root().join(".haven/corpus/kjv.txt"))?;
    Ok(Corpus {
        name: "kjv",
        messages: text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// Chat-like short messages in all six languages: every text of the shared fixtures (evasion table, innocent
/// suite, personal-data cues, conversations), repeated until the corpus holds at least `min_bytes`.
pub fn chat(min_bytes: usize) -> Result<Corpus, BenchError> {
    let mut base = Vec::new();
    for row in table()? {
        base.push(row.text);
    }
    let pii = read(&repo_root().join("fixtures/text/pii.tsv"))?;
    base.extend(
        pii.lines()
            .filter(|l| !l.starts_with('#'))
            .skip(1)
            .filter_map(|l| l.split('\t').nth(2).map(str::to_owned)),
    );
    let conversations = read(&repo_root().join("fixtures/text/conversations.json"))?;
    let value: serde_json::Value = serde_json::from_str(&conversations)
        .map_err(|e| BenchError::Haven(format!("conversations.json: {e}")))?;
    collect_texts(&value, &mut base);
    base.retain(|t| !t.is_empty());
    let mut messages = Vec::new();
    let mut bytes = 0;
    while bytes < min_bytes && !base.is_empty() {
        for t in &base {
            bytes += t.len();
            messages.push(t.clone());
        }
    }
    Ok(Corpus {
        name: "chat6",
        messages,
    })
}

fn collect_texts(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("text", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => collect_texts(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_texts(v, out)),
        _ => {}
    }
}

/// One row of the shared table: the evasion table's rows (expected category or `-`) and the innocent suite
/// (every row innocent).
#[derive(Debug, Clone)]
pub struct Row {
    /// The language of the text.
    pub language: Language,
    /// The evasion class (`innocent-suite` for the innocent suite's rows).
    pub class: String,
    /// The text.
    pub text: String,
    /// Whether it should be flagged.
    pub bad: bool,
}

/// The shared evasion and false-positive table: `fixtures/text/evasion.tsv` and `fixtures/text/innocent.tsv`.
pub fn table() -> Result<Vec<Row>, BenchError> {
    let mut rows = Vec::new();
    let evasion = read(&repo_root().join("fixtures/text/evasion.tsv"))?;
    for line in evasion.lines().filter(|l| !l.starts_with('#')).skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        if let [lang, class, text, expected, ..] = fields.as_slice() {
            rows.push(Row {
                language: lang
                    .parse()
                    .map_err(|_| BenchError::Haven(format!("evasion.tsv: language {lang}")))?,
                class: (*class).to_owned(),
                text: (*text).to_owned(),
                bad: *expected != "-",
            });
        }
    }
    let innocent = read(&repo_root().join("fixtures/text/innocent.tsv"))?;
    for line in innocent.lines().filter(|l| !l.starts_with('#')).skip(1) {
        if let Some((lang, text)) = line.split_once('\t') {
            rows.push(Row {
                language: lang
                    .parse()
                    .map_err(|_| BenchError::Haven(format!("innocent.tsv: language {lang}")))?,
                class: "innocent-suite".to_owned(),
                text: text.to_owned(),
                bad: false,
            });
        }
    }
    Ok(rows)
}

/// Haven set up as an app would: built-in lexicons, one under-9 profile in `language`.
pub struct HavenText {
    haven: Haven,
    profile: Profile,
    context: TextContext,
    engine: TextEngine,
    language: Language,
}

impl HavenText {
    /// Haven for texts in `language`, the child receiving them.
    pub fn new(language: Language) -> Result<HavenText, BenchError> {
        let mut profile =
            Profile::new("bench", AgeTier::Under9).map_err(|e| BenchError::Haven(e.to_string()))?;
        profile.set_language(language);
        let haven = Haven::new();
        let engine = haven.text_engine().clone();
        Ok(HavenText {
            haven,
            profile,
            context: TextContext::incoming().with_language(language),
            engine,
            language,
        })
    }

    /// The full check; whether the verdict is not allow.
    pub fn check(&self, text: &str) -> bool {
        self.haven
            .check_text(&self.profile, text, &self.context)
            .is_ok_and(|v| v.action != haven_core::Action::Allow)
    }

    /// The masked text (empty when the check failed).
    pub fn mask(&self, text: &str) -> String {
        self.haven
            .mask_text(&self.profile, text, &self.context)
            .unwrap_or_default()
    }

    /// The lexicon stage alone, as `check_text` runs it (`TextEngine::scan_in`: the pass over the original that
    /// proves most texts clean, else the matching form and its scan): whether any lexicon entry matched.
    pub fn scan(&self, text: &str) -> bool {
        !self.engine.scan_in(text, self.language).is_empty()
    }
}

/// rustrict's analysis: whether the text is inappropriate (its `is_inappropriate`, the default threshold:
/// moderate or severe profanity, offensive, sexual or mean content).
pub fn rustrict_check(text: &str) -> bool {
    Censor::from_str(text).analyze().is(Type::INAPPROPRIATE)
}

/// rustrict's censoring (its `censor`, the default threshold).
pub fn rustrict_mask(text: &str) -> String {
    text.censor()
}
