//! The audit log on real files: chain verification, detected tampering (edits, deletions, reordering, truncation),
//! rotation, reopening, daily aggregates for 16-17 profiles, and many threads appending at once.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test helpers: a panic is a test failure

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use haven_core::policy::{Action, AgeTier, Category};
use haven_core::verdict::Engine;
use haven_daemon::audit::{
    self, AuditError, AuditEvent, AuditLog, AuditOptions, AuditRecord, GENESIS_PREV, Problem,
    ProblemKind, RecordKind, VerifyReport,
};

/// 2025-03-01T00:00:00Z plus `secs`.
fn day1(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_740_787_200 + secs)
}

/// 2025-03-02T00:00:00Z plus `secs`.
fn day2(secs: u64) -> SystemTime {
    day1(86_400 + secs)
}

fn block(profile: &str, tier: AgeTier) -> AuditEvent<'_> {
    AuditEvent {
        profile,
        tier,
        engine: Engine::Url,
        category: Some(Category::Gambling),
        action: Action::Block,
        domain: Some("example.com"),
    }
}

fn warn(profile: &str, tier: AgeTier) -> AuditEvent<'_> {
    AuditEvent {
        profile,
        tier,
        engine: Engine::Text,
        category: Some(Category::Bullying),
        action: Action::Warn,
        domain: None,
    }
}

fn log_in(dir: &Path) -> PathBuf {
    dir.join("audit").join("audit.jsonl")
}

/// A log with its `opened` record and `n` block events for an under-16 profile, closed again.
fn log_with_events(path: &Path, n: u64) {
    let log = AuditLog::open(path, AuditOptions::default()).unwrap();
    for i in 0..n {
        log.record_at(&block("mia", AgeTier::Age9To12), day1(i))
            .unwrap();
    }
}

fn lines(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(path, text).unwrap();
}

fn records(path: &Path) -> Vec<AuditRecord> {
    lines(path)
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The records of every file of the log, oldest first.
fn all_records(path: &Path) -> Vec<AuditRecord> {
    let mut out = Vec::new();
    for n in (1..100).rev() {
        let rotated = audit::rotated_path(path, n);
        if rotated.exists() {
            out.extend(records(&rotated));
        }
    }
    out.extend(records(path));
    out
}

fn problem(file: &Path, line: Option<u64>, kind: ProblemKind) -> Problem {
    Problem {
        file: file.to_path_buf(),
        line,
        kind,
    }
}

fn assert_clean(report: &VerifyReport) {
    assert!(report.is_ok(), "{:#?}", report.problems);
}

#[test]
fn the_log_and_its_handle_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<AuditLog>();
}

#[test]
fn chain_verifies_after_many_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 300);

    let report = audit::verify(&path).unwrap();
    assert_clean(&report);
    assert_eq!(report.records, 301);
    assert_eq!(report.files, 1);
    assert_eq!((report.first_seq, report.last_seq), (Some(1), Some(301)));
    assert!(!report.first_prev_unverified);
    assert_eq!(report.unpinned_tail, 0);

    let recs = records(&path);
    assert_eq!(recs[0].kind, RecordKind::Opened);
    assert_eq!(recs[0].prev, GENESIS_PREV);
    for pair in recs.windows(2) {
        assert_eq!(pair[1].prev, pair[0].hash);
        assert_eq!(pair[1].seq, pair[0].seq + 1);
    }
    for record in &recs {
        assert!(record.hash_is_valid());
    }
    let event = &recs[1];
    assert_eq!(event.kind, RecordKind::Event);
    assert_eq!(event.ts, "2025-03-01T00:00:00Z");
    assert_eq!(event.profile.as_deref(), Some("mia"));
    assert_eq!(event.tier.as_deref(), Some("9-12"));
    assert_eq!(event.engine.as_deref(), Some("url"));
    assert_eq!(event.category.as_deref(), Some("gambling"));
    assert_eq!(event.action.as_deref(), Some("block"));
    assert_eq!(event.domain.as_deref(), Some("example.com"));
    assert_eq!((event.day.as_deref(), event.count), (None, None));

    // The line is the canonical form plus the hash, exactly as documented.
    let line = &lines(&path)[1];
    let canonical = String::from_utf8(event.canonical_json().unwrap()).unwrap();
    assert!(!canonical.contains("\"hash\""));
    let expected = format!(
        "{},\"hash\":\"{}\"}}",
        canonical.strip_suffix('}').unwrap(),
        event.hash
    );
    assert_eq!(line, &expected);

    let head = audit::read_head_file(&audit::head_path(&path))
        .unwrap()
        .unwrap();
    assert_eq!(
        (head.seq, head.hash.as_str()),
        (301, recs[300].hash.as_str())
    );
}

#[test]
fn editing_one_field_of_a_middle_line_is_a_hash_mismatch_at_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 20);
    let mut text = lines(&path);
    assert!(text[9].contains(r#""action":"block""#));
    text[9] = text[9].replace(r#""action":"block""#, r#""action":"warn""#);
    write_lines(&path, &text);

    let report = audit::verify(&path).unwrap();
    assert_eq!(
        report.problems,
        vec![problem(&path, Some(10), ProblemKind::HashMismatch)]
    );
    assert_eq!(report.records, 21);
}

#[test]
fn editing_a_line_and_recomputing_its_hash_breaks_the_chain_at_the_next_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 20);
    let mut text = lines(&path);
    let mut record: AuditRecord = serde_json::from_str(&text[9]).unwrap();
    record.domain = Some("innocent.example".to_owned());
    record.hash = record.compute_hash().unwrap();
    text[9] = serde_json::to_string(&record).unwrap();
    write_lines(&path, &text);

    let report = audit::verify(&path).unwrap();
    assert_eq!(
        report.problems,
        vec![problem(&path, Some(11), ProblemKind::BrokenChain)]
    );
}

#[test]
fn deleting_a_middle_line_breaks_the_chain_and_the_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 20);
    let mut text = lines(&path);
    text.remove(9);
    write_lines(&path, &text);

    let report = audit::verify(&path).unwrap();
    assert_eq!(
        report.problems,
        vec![
            problem(&path, Some(10), ProblemKind::BrokenChain),
            problem(&path, Some(10), ProblemKind::SeqGap),
        ]
    );
    assert_eq!(report.records, 20);
}

#[test]
fn reordering_two_lines_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 20);
    let mut text = lines(&path);
    text.swap(9, 10);
    write_lines(&path, &text);

    let report = audit::verify(&path).unwrap();
    assert!(!report.is_ok());
    for line in [10, 11, 12] {
        assert!(
            report
                .problems
                .contains(&problem(&path, Some(line), ProblemKind::BrokenChain)),
            "line {line}: {:#?}",
            report.problems
        );
    }
    assert!(
        report
            .problems
            .iter()
            .all(|p| p.line.is_some_and(|l| (10..=12).contains(&l)))
    );
}

#[test]
fn cutting_off_the_last_lines_is_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 20);
    let text = lines(&path);
    write_lines(&path, &text[..text.len() - 3]);

    // The remaining chain is intact; only the head file knows more records existed.
    let report = audit::verify(&path).unwrap();
    assert_eq!(
        report.problems,
        vec![problem(&path, None, ProblemKind::Truncated)]
    );
    assert_eq!(report.last_seq, Some(18));

    // The daemon refuses to continue such a log rather than hiding the cut.
    match AuditLog::open(&path, AuditOptions::default()) {
        Err(AuditError::Truncated {
            head_seq: 21,
            log_seq: Some(18),
            ..
        }) => {}
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[test]
fn cutting_a_record_in_half_is_a_partial_line_and_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 5);
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() - 30]).unwrap();

    let report = audit::verify(&path).unwrap();
    assert_eq!(
        report.problems,
        vec![
            problem(&path, Some(6), ProblemKind::PartialLine),
            problem(&path, None, ProblemKind::Truncated),
        ]
    );
}

#[test]
fn deleting_the_whole_log_or_its_head_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 5);

    fs::rename(&path, dir.path().join("elsewhere")).unwrap();
    let report = audit::verify(&path).unwrap();
    assert_eq!(
        report.problems,
        vec![problem(&path, None, ProblemKind::Truncated)]
    );
    assert!(matches!(
        AuditLog::open(&path, AuditOptions::default()),
        Err(AuditError::Truncated { log_seq: None, .. })
    ));

    fs::rename(dir.path().join("elsewhere"), &path).unwrap();
    assert_clean(&audit::verify(&path).unwrap());
    let head = audit::head_path(&path);
    fs::remove_file(&head).unwrap();
    let report = audit::verify(&path).unwrap();
    assert_eq!(
        report.problems,
        vec![problem(&head, None, ProblemKind::HeadMissing)]
    );
    assert!(matches!(
        AuditLog::open(&path, AuditOptions::default()),
        Err(AuditError::HeadMissing { .. })
    ));

    fs::write(&head, b"{\"seq\":\"six\"}").unwrap();
    let report = audit::verify(&path).unwrap();
    assert_eq!(
        report.problems,
        vec![problem(&head, None, ProblemKind::BadHead)]
    );
    assert!(matches!(
        AuditLog::open(&path, AuditOptions::default()),
        Err(AuditError::BadHead { .. })
    ));
}

#[test]
fn verifying_nothing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        audit::verify(&dir.path().join("audit.jsonl")),
        Err(AuditError::NotFound { .. })
    ));
}

#[test]
fn a_garbage_line_is_bad_json() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 5);
    let mut text = lines(&path);
    text.insert(3, "{\"seq\":4,\"note\":\"hello\"}".to_owned());
    write_lines(&path, &text);

    let report = audit::verify(&path).unwrap();
    // The inserted line is not a record; the line after it cannot be linked, the one after that is fine again.
    assert_eq!(
        report.problems,
        vec![problem(&path, Some(4), ProblemKind::BadJson)]
    );
}

#[test]
fn rotation_produces_files_that_verify_together() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    let options = AuditOptions {
        max_bytes: 2048,
        keep: 50,
        ..AuditOptions::default()
    };
    let log = AuditLog::open(&path, options).unwrap();
    for i in 0..200 {
        log.record_at(&block("mia", AgeTier::Under9), day1(i))
            .unwrap();
    }
    let rotated: Vec<PathBuf> = (1..=50)
        .map(|n| audit::rotated_path(&path, n))
        .filter(|p| p.exists())
        .collect();
    assert!(rotated.len() >= 5, "{}", rotated.len());
    for file in rotated.iter().chain([&path]) {
        assert!(fs::metadata(file).unwrap().len() <= 2048);
    }
    for file in &rotated[..rotated.len() - 1] {
        assert_eq!(records(file)[0].kind, RecordKind::Rotated);
    }
    assert_eq!(records(&path)[0].kind, RecordKind::Rotated);

    let report = audit::verify(&path).unwrap();
    assert_clean(&report);
    assert!(!report.first_prev_unverified);
    assert_eq!(report.files, rotated.len() + 1);
    // 200 events, the `opened` record and one `rotated` record per rotation; seq never skips.
    assert_eq!(report.records, 200 + 1 + rotated.len() as u64);
    assert_eq!(
        (report.first_seq, report.last_seq),
        (Some(1), Some(report.records))
    );

    // `recent` reaches into the newest rotated file when the live one has too few records.
    let live = records(&path).len();
    let recent = log.recent(live + 3).unwrap();
    assert_eq!(recent.len(), live + 3);
    assert_eq!(recent.last().unwrap().seq, report.records);
    for pair in recent.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq + 1);
    }
    assert_eq!(log.recent(2).unwrap().len(), 2);
    assert!(log.recent(0).unwrap().is_empty());
}

#[test]
fn rotation_keeps_only_the_newest_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    let options = AuditOptions {
        max_bytes: 1024,
        keep: 3,
        ..AuditOptions::default()
    };
    let log = AuditLog::open(&path, options).unwrap();
    for i in 0..200 {
        log.record_at(&block("mia", AgeTier::Age13To15), day1(i))
            .unwrap();
    }
    for n in 1..=3 {
        assert!(audit::rotated_path(&path, n).exists(), "{n}");
    }
    assert!(!audit::rotated_path(&path, 4).exists());

    let report = audit::verify(&path).unwrap();
    assert_clean(&report);
    assert!(report.first_prev_unverified);
    assert_eq!(report.files, 4);
    assert_eq!(
        report.last_seq,
        Some(all_records(&path).last().unwrap().seq)
    );
    assert!(report.first_seq.unwrap() > 1);
    assert_eq!(
        report.records,
        report.last_seq.unwrap() - report.first_seq.unwrap() + 1
    );

    // Deleting a rotated file between others is not mistaken for rotation.
    fs::remove_file(audit::rotated_path(&path, 2)).unwrap();
    let report = audit::verify(&path).unwrap();
    let missing = audit::rotated_path(&path, 2);
    assert!(
        report
            .problems
            .contains(&problem(&missing, None, ProblemKind::MissingFile))
    );
    let first_of_newest = audit::rotated_path(&path, 1);
    assert!(report.problems.contains(&problem(
        &first_of_newest,
        Some(1),
        ProblemKind::BrokenChain
    )));
}

#[test]
fn keeping_no_rotated_files_still_chains() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    let options = AuditOptions {
        max_bytes: 1024,
        keep: 0,
        ..AuditOptions::default()
    };
    let log = AuditLog::open(&path, options).unwrap();
    for i in 0..50 {
        log.record_at(&block("mia", AgeTier::Age13To15), day1(i))
            .unwrap();
    }
    assert!(!audit::rotated_path(&path, 1).exists());
    let report = audit::verify(&path).unwrap();
    assert_clean(&report);
    assert!(report.first_prev_unverified);
    assert_eq!(report.files, 1);
}

#[test]
fn reopening_resumes_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 10);
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    for i in 0..10 {
        log.record_at(&warn("mia", AgeTier::Under9), day1(100 + i))
            .unwrap();
    }
    drop(log);

    let recs = records(&path);
    assert_eq!(recs.len(), 22);
    assert_eq!(recs[11].kind, RecordKind::Opened);
    assert_eq!(recs[11].seq, 12);
    assert_eq!(recs[11].prev, recs[10].hash);
    let report = audit::verify(&path).unwrap();
    assert_clean(&report);
    assert_eq!((report.records, report.last_seq), (22, Some(22)));
}

#[test]
fn an_interrupted_rotation_continues_from_the_rotated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 10);
    // As if the daemon died right after renaming the live file.
    fs::rename(&path, audit::rotated_path(&path, 1)).unwrap();
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    log.record_at(&block("mia", AgeTier::Under9), day1(500))
        .unwrap();
    drop(log);

    let kinds: Vec<RecordKind> = records(&path).iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [RecordKind::Rotated, RecordKind::Opened, RecordKind::Event]
    );
    let report = audit::verify(&path).unwrap();
    assert_clean(&report);
    assert_eq!((report.files, report.records), (2, 14));
}

#[test]
fn a_corrupt_tail_is_refused_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 5);
    let good = fs::read(&path).unwrap();

    let mut garbage = good.clone();
    garbage.extend_from_slice(b"{not json\n");
    fs::write(&path, &garbage).unwrap();
    assert!(matches!(
        AuditLog::open(&path, AuditOptions::default()),
        Err(AuditError::CorruptTail { .. })
    ));

    // A record cut in half (no final newline).
    fs::write(&path, &good[..good.len() - 1]).unwrap();
    assert!(matches!(
        AuditLog::open(&path, AuditOptions::default()),
        Err(AuditError::CorruptTail { .. })
    ));

    // A last record whose hash does not match.
    let text = String::from_utf8(good.clone())
        .unwrap()
        .replace("\"tier\":\"9-12\"", "\"tier\":\"adult\"");
    fs::write(&path, text).unwrap();
    let err = AuditLog::open(&path, AuditOptions::default()).unwrap_err();
    assert!(matches!(err, AuditError::CorruptTail { .. }), "{err:?}");
    assert!(!err.to_string().contains("adult"));

    // Nothing was appended by the refused opens.
    fs::write(&path, &good).unwrap();
    assert_clean(&audit::verify(&path).unwrap());
}

#[test]
fn sixteen_to_seventeen_profiles_get_only_daily_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    let teen_block = AuditEvent {
        domain: Some("casino.example"),
        ..block("leo", AgeTier::Age16To17)
    };
    for i in 0..3 {
        log.record_at(&warn("leo", AgeTier::Age16To17), day1(60 * i))
            .unwrap();
    }
    for i in 0..2 {
        log.record_at(&teen_block, day1(3600 + i)).unwrap();
    }
    log.record_at(&warn("ana", AgeTier::Adult), day1(7200))
        .unwrap();
    // An under-16 event on day 1 is written at once; nothing of the others yet.
    log.record_at(&block("mia", AgeTier::Under9), day1(7300))
        .unwrap();
    let kinds: Vec<RecordKind> = records(&path).iter().map(|r| r.kind).collect();
    assert_eq!(kinds, [RecordKind::Opened, RecordKind::Event]);

    // The first event of day 2 writes day 1's aggregates first.
    log.record_at(&warn("leo", AgeTier::Age16To17), day2(10))
        .unwrap();
    log.record_at(&teen_block, day2(20)).unwrap();
    log.record_at(&teen_block, day2(30)).unwrap();
    let day1_aggregates: Vec<AuditRecord> = records(&path)
        .into_iter()
        .filter(|r| r.kind == RecordKind::DailyAggregate)
        .collect();
    assert_eq!(day1_aggregates.len(), 3);
    log.flush_aggregates().unwrap();

    let recs = records(&path);
    assert!(
        recs.iter()
            .all(|r| r.kind != RecordKind::Event || r.profile.as_deref() == Some("mia")),
        "{recs:#?}"
    );
    let aggregates: Vec<(&str, &str, &str, &str, &str, u64)> = recs
        .iter()
        .filter(|r| r.kind == RecordKind::DailyAggregate)
        .map(|r| {
            assert_eq!(r.domain, None);
            (
                r.day.as_deref().unwrap(),
                r.profile.as_deref().unwrap(),
                r.tier.as_deref().unwrap(),
                r.engine.as_deref().unwrap(),
                r.action.as_deref().unwrap(),
                r.count.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        aggregates,
        [
            ("2025-03-01", "ana", "adult", "text", "warn", 1),
            ("2025-03-01", "leo", "16-17", "text", "warn", 3),
            ("2025-03-01", "leo", "16-17", "url", "block", 2),
            ("2025-03-02", "leo", "16-17", "text", "warn", 1),
            ("2025-03-02", "leo", "16-17", "url", "block", 2),
        ]
    );
    let leo_block = recs
        .iter()
        .find(|r| r.action.as_deref() == Some("block") && r.profile.as_deref() == Some("leo"))
        .unwrap();
    assert_eq!(leo_block.category.as_deref(), Some("gambling"));
    assert!(!fs::read_to_string(&path).unwrap().contains("casino"));

    // Flushing again writes nothing new; dropping with nothing pending writes nothing either.
    let before = records(&path).len();
    log.flush_aggregates().unwrap();
    drop(log);
    assert_eq!(records(&path).len(), before);
    assert_clean(&audit::verify(&path).unwrap());
}

#[test]
fn dropping_the_log_flushes_pending_aggregates() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    log.record_at(&warn("leo", AgeTier::Age16To17), day1(0))
        .unwrap();
    drop(log);
    let last = records(&path).pop().unwrap();
    assert_eq!(
        (last.kind, last.count),
        (RecordKind::DailyAggregate, Some(1))
    );
    assert_clean(&audit::verify(&path).unwrap());
}

#[test]
fn records_carry_only_the_domain_they_are_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    log.record_at(&block("mia", AgeTier::Under9), day1(0))
        .unwrap();
    let full_url = AuditEvent {
        domain: Some("https://example.com/search?q=secret+words"),
        ..block("mia", AgeTier::Under9)
    };
    log.record_at(&full_url, day1(1)).unwrap();
    let no_domain = AuditEvent {
        domain: None,
        ..block("mia", AgeTier::Under9)
    };
    log.record_at(&no_domain, day1(2)).unwrap();
    drop(log);

    let domains: Vec<Option<String>> = records(&path)[1..]
        .iter()
        .map(|r| r.domain.clone())
        .collect();
    assert_eq!(domains, [Some("example.com".to_owned()), None, None]);
    let text = fs::read_to_string(&path).unwrap();
    assert!(!text.contains("secret") && !text.contains("https") && !text.contains("search"));
}

#[test]
fn allow_events_are_skipped_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let allow = AuditEvent {
        action: Action::Allow,
        category: None,
        ..block("mia", AgeTier::Under9)
    };

    let path = dir.path().join("default.jsonl");
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    log.record_at(&allow, day1(0)).unwrap();
    log.record_at(
        &AuditEvent {
            tier: AgeTier::Age16To17,
            ..allow
        },
        day1(0),
    )
    .unwrap();
    log.flush_aggregates().unwrap();
    drop(log);
    assert_eq!(records(&path).len(), 1);

    let path = dir.path().join("all.jsonl");
    let options = AuditOptions {
        record_allowed: true,
        ..AuditOptions::default()
    };
    let log = AuditLog::open(&path, options).unwrap();
    log.record_at(&allow, day1(0)).unwrap();
    drop(log);
    let recs = records(&path);
    assert_eq!(recs.len(), 2);
    assert_eq!(
        (recs[1].action.as_deref(), recs[1].category.as_deref()),
        (Some("allow"), None)
    );
}

#[test]
fn many_threads_recording_at_once_keep_one_chain() {
    const THREADS: u64 = 8;
    const EACH: u64 = 250;
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    let options = AuditOptions {
        max_bytes: 64 * 1024,
        keep: 1000,
        ..AuditOptions::default()
    };
    let log = Arc::new(AuditLog::open(&path, options).unwrap());
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let profile = format!("child-{t}");
                for _ in 0..EACH {
                    log.record(&block(&profile, AgeTier::Age9To12)).unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }

    let report = audit::verify(&path).unwrap();
    assert_clean(&report);
    assert!(
        report.files > 1,
        "expected rotation, got {} file(s)",
        report.files
    );
    let all = all_records(&path);
    let events = all.iter().filter(|r| r.kind == RecordKind::Event).count() as u64;
    let opened = all.iter().filter(|r| r.kind == RecordKind::Opened).count() as u64;
    let rotated = all.iter().filter(|r| r.kind == RecordKind::Rotated).count() as u64;
    assert_eq!(events, THREADS * EACH);
    assert_eq!((opened, rotated), (1, report.files as u64 - 1));
    assert_eq!(report.records, THREADS * EACH + opened + rotated);
    for t in 0..THREADS {
        let profile = format!("child-{t}");
        let mine = all
            .iter()
            .filter(|r| r.profile.as_deref() == Some(profile.as_str()))
            .count();
        assert_eq!(mine as u64, EACH);
    }
}

#[test]
fn a_head_copied_elsewhere_catches_a_rewritten_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 10);
    let copy = dir.path().join("head-copy.json");
    fs::copy(audit::head_path(&path), &copy).unwrap();

    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    for i in 0..10 {
        log.record_at(&warn("mia", AgeTier::Under9), day1(100 + i))
            .unwrap();
    }
    drop(log);
    let report = audit::verify_with_head(&path, &copy).unwrap();
    assert_clean(&report);
    assert_eq!(report.unpinned_tail, 11);

    // Someone replaces the whole log with a fresh, self-consistent one without the blocks, head file included.
    fs::remove_file(&path).unwrap();
    fs::remove_file(audit::head_path(&path)).unwrap();
    let log = AuditLog::open(&path, AuditOptions::default()).unwrap();
    for i in 0..30 {
        log.record_at(&warn("mia", AgeTier::Under9), day1(i))
            .unwrap();
    }
    drop(log);
    assert_clean(&audit::verify(&path).unwrap());
    let report = audit::verify_with_head(&path, &copy).unwrap();
    assert_eq!(
        report.problems,
        vec![problem(&copy, None, ProblemKind::HeadMismatch)]
    );

    let missing = dir.path().join("no-such-copy.json");
    let report = audit::verify_with_head(&path, &missing).unwrap();
    assert_eq!(
        report.problems,
        vec![problem(&missing, None, ProblemKind::HeadMissing)]
    );
}

#[test]
fn errors_and_problems_name_no_record_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    log_with_events(&path, 3);
    let mut text = lines(&path);
    text[2] = text[2].replace("example.com", "private-name.example");
    write_lines(&path, &text);
    let report = audit::verify(&path).unwrap();
    let shown = format!("{:?} {}", report, report.problems[0]);
    assert!(!shown.contains("private-name"), "{shown}");
    assert_eq!(
        report.problems[0].to_string(),
        format!("{}:3: hash_mismatch", path.display())
    );
}

#[test]
fn repeats_within_the_window_are_counted_not_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    let options = AuditOptions {
        repeat_window: Duration::from_secs(10),
        ..AuditOptions::default()
    };
    let log = AuditLog::open(&path, options).unwrap();
    let mia = block("mia", AgeTier::Age9To12);
    // 10 events in the first 10 s: one record, 9 counted.
    for i in 0..10 {
        log.record_at(&mia, day1(i)).unwrap();
    }
    // Another profile is another event.
    log.record_at(&block("leo", AgeTier::Under9), day1(5))
        .unwrap();
    // After the window: a record standing for itself and the 9 before it; then 3 more counted.
    for i in 15..19 {
        log.record_at(&mia, day1(i)).unwrap();
    }
    log.flush_aggregates().unwrap();
    drop(log);

    let events: Vec<AuditRecord> = records(&path)
        .into_iter()
        .filter(|r| r.kind == RecordKind::Event && r.profile.as_deref() == Some("mia"))
        .collect();
    let counts: Vec<Option<u64>> = events.iter().map(|r| r.count).collect();
    assert_eq!(counts, [None, Some(10), Some(3)]);
    let total: u64 = counts.iter().map(|c| c.unwrap_or(1)).sum();
    assert_eq!(total, 14);
    assert!(
        events
            .iter()
            .all(|r| r.domain.as_deref() == Some("example.com"))
    );
    assert_clean(&audit::verify(&path).unwrap());
}

#[test]
fn a_lazy_head_pins_the_chain_after_sync() {
    let dir = tempfile::tempdir().unwrap();
    let path = log_in(dir.path());
    let options = AuditOptions {
        head_every: Duration::from_secs(3600),
        ..AuditOptions::default()
    };
    let log = AuditLog::open(&path, options).unwrap();
    for i in 0..5 {
        log.record_at(&block("mia", AgeTier::Age9To12), day1(i))
            .unwrap();
    }
    // The head still pins the `opened` record; the five after it are chained but not pinned.
    let head = audit::read_head_file(&log.head_path()).unwrap().unwrap();
    assert_eq!(head.seq, 1);
    let report = audit::verify(&path).unwrap();
    assert_clean(&report);
    assert_eq!(report.unpinned_tail, 5);

    log.sync().unwrap();
    let head = audit::read_head_file(&log.head_path()).unwrap().unwrap();
    assert_eq!(head.seq, 6);
    assert_eq!(audit::verify(&path).unwrap().unpinned_tail, 0);
    // Now cutting off the last record is caught.
    let mut all = lines(&path);
    all.pop();
    write_lines(&path, &all);
    let report = audit::verify(&path).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.kind == ProblemKind::Truncated),
        "{report:?}"
    );
}
