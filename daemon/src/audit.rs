//! The parent's audit log: an append-only [JSON Lines](https://jsonlines.org) file in which every record is
//! chained to the one before it with BLAKE3, so that [`verify`] (`haven audit verify`) notices edited, deleted,
//! reordered or cut-off records.
//!
//! # What is stored
//!
//! Only what an [`AuditEvent`] carries: time, profile, age tier, engine, category, action and, for children under 16,
//! the *registrable domain* (never a full URL, never message text, never image data; the caller reduces a URL with
//! [`haven_core::url::registrable_domain`] and the log additionally drops anything that does not look like a host
//! name). Profiles in the `16-17` and `adult` tiers never get per-event records: their events are counted per
//! (UTC day, profile, engine, category, action) in memory and written as one `daily_aggregate` record per key when the
//! day changes (at the next [`AuditLog::record`]) or on [`AuditLog::flush_aggregates`] (call it on shutdown; dropping
//! the log does it too, ignoring errors). Counts not yet flushed are lost if the process dies. By default `allow`
//! decisions are not recorded at all ([`AuditOptions::record_allowed`]).
//!
//! # Record format
//!
//! One [`AuditRecord`] per line, UTF-8 JSON terminated by `\n`. Fields appear in this order and absent optional
//! fields are left out:
//!
//! | field      | meaning |
//! |------------|---------|
//! | `seq`      | sequence number, 1 for the very first record, +1 for every record, across rotations |
//! | `ts`       | when the record was written (or the event's time), RFC 3339 UTC, whole seconds |
//! | `kind`     | `event`, `daily_aggregate`, `rotated` (first record of a file started by rotation) or `opened` (the log was opened, e.g. the daemon started) |
//! | `profile`  | the profile's identifier (`event`, `daily_aggregate`) |
//! | `tier`     | the age tier id (`under-9`, `9-12`, `13-15`, `16-17`, `adult`) |
//! | `engine`   | the engine id (`url`, `text`, `hash`, `classifier`, `profile`) |
//! | `category` | the category id (`sexual_content`, ...), when the decision had one |
//! | `action`   | `allow`, `warn` or `block` |
//! | `domain`   | registrable domain, `event` records of under-16 profiles only, when given |
//! | `day`      | the UTC day (`YYYY-MM-DD`) a `daily_aggregate` counts |
//! | `count`    | how many events a `daily_aggregate` counts |
//! | `prev`     | the `hash` of the previous record (64 hex zeros for the first record ever) |
//! | `hash`     | lowercase hex BLAKE3 of the record's *canonical form* |
//!
//! The canonical form of a record is its compact `serde_json` serialisation with the fields in the order above,
//! absent optional fields left out and the `hash` field left out; a line as written is exactly the canonical form with
//! `,"hash":"<64 hex>"` inserted before the final `}`. [`verify`] parses each line (unknown or duplicate fields are
//! errors) and recomputes the hash over the canonical form of what it parsed, so whitespace or key order in a line do
//! not matter, its content does. For example:
//!
//! ```text
//! {"seq":42,"ts":"2025-03-01T16:04:05Z","kind":"event","profile":"mia","tier":"9-12","engine":"url","category":"gambling","action":"block","domain":"example.com","prev":"9f0c…(64 hex)","hash":"51aa…(64 hex)"}
//! {"seq":43,"ts":"2025-03-02T00:00:07Z","kind":"daily_aggregate","profile":"leo","tier":"16-17","engine":"text","category":"bullying","action":"warn","day":"2025-03-01","count":3,"prev":"51aa…","hash":"07be…"}
//! ```
//!
//! # Truncation, the head file and rotation
//!
//! A hash chain alone cannot notice its last records being cut off, so after every append the log atomically replaces
//! (temporary file + rename) a small *head file* next to it, `<log>.head` (see [`head_path`]), holding the last
//! [`Head`] (`{"seq":…,"hash":"…"}`). [`verify`] reports [`ProblemKind::Truncated`] when the log ends before the
//! head's record, and [`ProblemKind::HeadMismatch`] when that record has another hash. Anyone who can write the log can
//! also rewrite the whole chain and the head (the chain has no secret key): a parent who wants stronger guarantees
//! should copy the head file somewhere the child cannot reach (another device, a message to themselves) and later
//! check it with [`verify_with_head`], which proves that every record up to the copied one is unchanged.
//!
//! Before an append would make the live file larger than [`AuditOptions::max_bytes`], the live file is renamed to
//! `<log>.1` (an existing `.1` becomes `.2` and so on; files beyond [`AuditOptions::keep`] are deleted) and a new
//! live file begins with a `rotated` record whose `prev` is the last hash of the previous file, so [`verify`] follows
//! the chain across files. Once old files have been deleted the oldest remaining file starts with a `prev` that cannot
//! be checked; [`VerifyReport::first_prev_unverified`] says so, it is not a problem.
//!
//! # Concurrency and durability
//!
//! [`AuditLog`] is `Send + Sync` and serialises appends with a mutex; each record is written with a single `write`
//! call (no user-space buffering) but not `fsync`ed. One process at a time may write a given log.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use haven_core::policy::{Action, AgeTier, Category};
use haven_core::verdict::Engine;
use serde::{Deserialize, Serialize};

/// The `prev` of the first record ever written: 64 hex zeros.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The default [`AuditOptions::max_bytes`]: 8 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// The default [`AuditOptions::keep`]: 5 rotated files.
pub const DEFAULT_KEEP: usize = 5;

/// The longest domain the log stores (a DNS name's limit); longer ones are dropped.
const MAX_DOMAIN_LEN: usize = 253;

/// The last second humantime can format (9999-12-31T23:59:59Z).
const MAX_TS_SECONDS: u64 = 253_402_300_799;

/// One event to record. The caller passes only what may be stored: no message text, no image data, no full URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditEvent<'a> {
    /// The profile's identifier (stored as given).
    pub profile: &'a str,
    /// The profile's age tier; `16-17` and `adult` are only ever counted in daily aggregates.
    pub tier: AgeTier,
    /// The engine behind the decision.
    pub engine: Engine,
    /// The deciding category, if any.
    pub category: Option<Category>,
    /// What was done.
    pub action: Action,
    /// The registrable domain involved, if any; the caller reduces a URL or host to it (for example with
    /// [`haven_core::url::registrable_domain`]). Stored for under-16 profiles only, lowercased, and only if it looks
    /// like a host name (letters, digits, `-`, `_` and `.`, at most 253 bytes); anything else is dropped.
    pub domain: Option<&'a str>,
}

/// How an [`AuditLog`] rotates and what it records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditOptions {
    /// Rotate before an append would make the live file larger than this (default [`DEFAULT_MAX_BYTES`]). A single
    /// record is always written, even if it alone is larger.
    pub max_bytes: u64,
    /// How many rotated files (`<log>.1` … `<log>.<keep>`) to keep (default [`DEFAULT_KEEP`]); 0 keeps none.
    pub keep: usize,
    /// Whether `allow` decisions are recorded (default `false`: only `warn` and `block`).
    pub record_allowed: bool,
    /// How often the head file is rewritten: at most once per this interval, and by [`AuditLog::sync`] and on drop
    /// (default zero: after every record). Records written since the last head write are chained but not pinned:
    /// cutting them off is detected only after the next head write. `havend` uses one second, because rewriting the
    /// head (a rename) per record costs more than the record itself.
    pub head_every: Duration,
    /// Identical under-16 events (same profile, engine, category, action and domain) within this window of the
    /// last one written are counted instead of written; the next one written after the window carries the count
    /// (`count` = itself plus the repeats before it), and [`AuditLog::flush_aggregates`] writes what is still
    /// counted. Default zero: every event is written. `havend` uses ten seconds, so that a page or device asking
    /// for a blocked name thousands of times cannot rotate the parent's history away.
    pub repeat_window: Duration,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            max_bytes: DEFAULT_MAX_BYTES,
            keep: DEFAULT_KEEP,
            record_allowed: false,
            head_every: Duration::ZERO,
            repeat_window: Duration::ZERO,
        }
    }
}

/// What a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// One decision for an under-16 profile.
    Event,
    /// The number of decisions of one kind a `16-17` or adult profile had on one UTC day.
    DailyAggregate,
    /// The first record of a live file begun by rotation; its `prev` links to the previous file.
    Rotated,
    /// The log was opened (for example, the daemon started).
    Opened,
}

impl RecordKind {
    /// The stable identifier (`"event"`, `"daily_aggregate"`, `"rotated"`, `"opened"`).
    pub fn id(self) -> &'static str {
        match self {
            RecordKind::Event => "event",
            RecordKind::DailyAggregate => "daily_aggregate",
            RecordKind::Rotated => "rotated",
            RecordKind::Opened => "opened",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One line of the audit log. See the [module documentation](self) for the meaning of the fields and the canonical
/// form the `hash` covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// Sequence number: 1 for the first record ever, then +1 per record, across rotations.
    pub seq: u64,
    /// RFC 3339 UTC time in whole seconds (`2025-03-01T16:04:05Z`).
    pub ts: String,
    /// What the record is.
    pub kind: RecordKind,
    /// The profile identifier (`event`, `daily_aggregate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The age tier id (`event`, `daily_aggregate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The engine id (`event`, `daily_aggregate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The category id, when the decision had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The action id (`event`, `daily_aggregate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The registrable domain (`event` records of under-16 profiles only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The UTC day (`YYYY-MM-DD`) a `daily_aggregate` counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    /// How many events a `daily_aggregate` counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The previous record's `hash` ([`GENESIS_PREV`] for the first record ever).
    pub prev: String,
    /// Lowercase hex BLAKE3 of the canonical form (this record serialised without `hash`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
}

impl AuditRecord {
    /// A record of `kind` at `ts` with every optional field absent and `seq`, `prev` and `hash` still to be set.
    fn bare(kind: RecordKind, ts: String) -> AuditRecord {
        AuditRecord {
            seq: 0,
            ts,
            kind,
            profile: None,
            tier: None,
            engine: None,
            category: None,
            action: None,
            domain: None,
            day: None,
            count: None,
            prev: String::new(),
            hash: String::new(),
        }
    }

    /// The canonical form the `hash` covers: compact JSON, fields in declaration order, absent optional fields and the
    /// `hash` field left out.
    pub fn canonical_json(&self) -> Result<Vec<u8>, AuditError> {
        let unhashed = AuditRecord {
            hash: String::new(),
            ..self.clone()
        };
        serde_json::to_vec(&unhashed).map_err(|_| AuditError::Encode)
    }

    /// The hash this record should carry: lowercase hex BLAKE3 of [`AuditRecord::canonical_json`].
    pub fn compute_hash(&self) -> Result<String, AuditError> {
        Ok(blake3::hash(&self.canonical_json()?).to_hex().to_string())
    }

    /// Whether `hash` matches the record's content.
    pub fn hash_is_valid(&self) -> bool {
        self.compute_hash().is_ok_and(|h| h == self.hash)
    }
}

/// The contents of the head file: the last record's `seq` and `hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    /// The last record's sequence number.
    pub seq: u64,
    /// The last record's hash.
    pub hash: String,
}

/// Errors of the audit log. They name files and sequence numbers, never record content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A file operation failed.
    #[error("audit log: cannot {op} {}: {source}", path.display())]
    Io {
        /// What was being done (`"open"`, `"append to"`, `"rename"`, ...).
        op: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The log's last line is cut short, not a record, or fails its hash; the chain is not continued from it.
    #[error(
        "audit log {} ends in a partial or corrupt record; refusing to continue its chain (run `haven audit verify`, then move the log aside)",
        path.display()
    )]
    CorruptTail {
        /// The file whose tail is corrupt.
        path: PathBuf,
    },
    /// The head file names a record the log no longer has: records were cut off or deleted.
    #[error(
        "audit log {} ends {} but its head file records seq {head_seq}: records were cut off (run `haven audit verify`)",
        path.display(),
        match log_seq { Some(seq) => format!("at seq {seq}"), None => "with no records".to_owned() }
    )]
    Truncated {
        /// The live log file.
        path: PathBuf,
        /// The last sequence number according to the head file.
        head_seq: u64,
        /// The last sequence number actually in the log, if any.
        log_seq: Option<u64>,
    },
    /// The log's record at the head's sequence number has another hash than the head file records.
    #[error(
        "audit log {} does not match its head file at seq {seq}: records were changed (run `haven audit verify`)",
        path.display()
    )]
    HeadMismatch {
        /// The live log file.
        path: PathBuf,
        /// The sequence number concerned.
        seq: u64,
    },
    /// The log has records but its head file is missing.
    #[error("audit log {} has records but its head file is missing (run `haven audit verify`)", path.display())]
    HeadMissing {
        /// The live log file.
        path: PathBuf,
    },
    /// A head file is not a valid [`Head`].
    #[error("{} is not a valid audit head file", path.display())]
    BadHead {
        /// The head file.
        path: PathBuf,
    },
    /// There is neither a log nor a head file to verify.
    #[error("no audit log at {}", path.display())]
    NotFound {
        /// The live log path that was looked for.
        path: PathBuf,
    },
    /// A record could not be serialised (not expected to happen).
    #[error("cannot encode an audit record")]
    Encode,
}

/// The path of the head file that belongs to the log at `log`: `<log>.head`.
pub fn head_path(log: &Path) -> PathBuf {
    with_suffix(log, ".head")
}

/// The path of the `n`th rotated file of the log at `log`: `<log>.<n>` (1 is the newest).
pub fn rotated_path(log: &Path, n: usize) -> PathBuf {
    with_suffix(log, &format!(".{n}"))
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io_error<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> AuditError + 'a {
    move |source| AuditError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a head file; `Ok(None)` if it does not exist.
pub fn read_head_file(path: &Path) -> Result<Option<Head>, AuditError> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| AuditError::BadHead {
                path: path.to_path_buf(),
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", path)(e)),
    }
}

fn write_head(log: &Path, head: &Head) -> Result<(), AuditError> {
    let path = head_path(log);
    let tmp = with_suffix(&path, ".tmp");
    let mut bytes = serde_json::to_vec(head).map_err(|_| AuditError::Encode)?;
    bytes.push(b'\n');
    fs::write(&tmp, &bytes).map_err(io_error("write", &tmp))?;
    fs::rename(&tmp, &path).map_err(io_error("rename", &tmp))
}

/// `at` as RFC 3339 UTC whole seconds, clamped to 1970-01-01T00:00:00Z ..= 9999-12-31T23:59:59Z.
fn format_ts(at: SystemTime) -> String {
    use fmt::Write as _;
    let latest = UNIX_EPOCH
        .checked_add(Duration::from_secs(MAX_TS_SECONDS))
        .unwrap_or(UNIX_EPOCH);
    let at = at.clamp(UNIX_EPOCH, latest);
    let mut ts = String::with_capacity(20);
    if write!(ts, "{}", humantime::format_rfc3339_seconds(at)).is_err() {
        return "1970-01-01T00:00:00Z".to_owned();
    }
    ts
}

/// The day part (`YYYY-MM-DD`) of a timestamp from [`format_ts`].
fn day_of(ts: &str) -> &str {
    ts.get(..10).unwrap_or(ts)
}

/// The domain as stored: lowercased, without a trailing dot, or `None` if it does not look like a host name.
fn clean_domain(domain: &str) -> Option<String> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let plausible = !domain.is_empty()
        && domain.len() <= MAX_DOMAIN_LEN
        && !domain.starts_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.');
    plausible.then(|| domain.to_lowercase())
}

/// Whether a tier's events are only ever counted in daily aggregates.
fn aggregated(tier: AgeTier) -> bool {
    matches!(tier, AgeTier::Age16To17 | AgeTier::Adult)
}

/// The last record of a non-empty file, which must end with a complete, valid record.
fn last_record(path: &Path) -> Result<AuditRecord, AuditError> {
    let corrupt = || AuditError::CorruptTail {
        path: path.to_path_buf(),
    };
    let mut file = File::open(path).map_err(io_error("open", path))?;
    let len = file.metadata().map_err(io_error("read", path))?.len();
    let mut window: u64 = 4096;
    let line = loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))
            .map_err(io_error("read", path))?;
        let mut buf = Vec::new();
        Read::by_ref(&mut file)
            .take(len.saturating_sub(start))
            .read_to_end(&mut buf)
            .map_err(io_error("read", path))?;
        let Some((b'\n', body)) = buf.split_last() else {
            return Err(corrupt());
        };
        match body.iter().rposition(|&b| b == b'\n') {
            Some(i) => break body.get(i.saturating_add(1)..).unwrap_or_default().to_vec(),
            None if start == 0 => break body.to_vec(),
            None => window = window.saturating_mul(4),
        }
    };
    let record: AuditRecord = serde_json::from_slice(&line).map_err(|_| corrupt())?;
    if !record.hash_is_valid() {
        return Err(corrupt());
    }
    Ok(record)
}

fn file_len(path: &Path) -> Result<Option<u64>, AuditError> {
    match fs::metadata(path) {
        Ok(meta) => Ok(Some(meta.len())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("read", path)(e)),
    }
}

/// The numbers of the rotated files of `log` that exist, in ascending order.
fn rotated_numbers(log: &Path) -> Result<Vec<usize>, AuditError> {
    let dir = match log.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let Some(prefix) = log.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let mut numbers = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_error("list", dir))? {
        let entry = entry.map_err(io_error("list", dir))?;
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|n| n.strip_prefix('.'))
        else {
            continue;
        };
        if !rest.is_empty()
            && rest.bytes().all(|b| b.is_ascii_digit())
            && let Ok(n) = rest.parse::<usize>()
            && n > 0
        {
            numbers.push(n);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

fn remove_if_exists(path: &Path) -> Result<(), AuditError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("remove", path)(e)),
        _ => Ok(()),
    }
}

/// The key daily aggregates are counted under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct AggregateKey {
    day: String,
    profile: String,
    tier: &'static str,
    engine: &'static str,
    category: Option<&'static str>,
    action: &'static str,
}

struct State {
    file: File,
    /// Bytes in the live file.
    live_size: u64,
    /// Bytes of the `rotated` record a fresh live file starts with (a file holding only that is never rotated).
    live_base: u64,
    next_seq: u64,
    last_hash: String,
    pending: BTreeMap<AggregateKey, u64>,
    /// When the head file was last written.
    head_written: Option<Instant>,
    /// Whether records were written since.
    head_dirty: bool,
    /// Under-16 events seen within the repeat window: when the last one was written and how many were counted since.
    repeats: HashMap<RepeatKey, (SystemTime, u64)>,
}

/// What makes two under-16 events the same for [`AuditOptions::repeat_window`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RepeatKey {
    profile: String,
    tier: &'static str,
    engine: &'static str,
    category: Option<&'static str>,
    action: &'static str,
    domain: Option<String>,
}

/// Most distinct events counted at once; beyond it the counts are written out.
const MAX_REPEAT_KEYS: usize = 4096;

impl State {
    /// Gives `record` the next `seq`, `prev` and its `hash`; returns its line (with `\n`).
    fn seal(&self, record: &mut AuditRecord) -> Result<Vec<u8>, AuditError> {
        record.seq = self.next_seq;
        record.prev.clone_from(&self.last_hash);
        record.hash = String::new();
        record.hash = record.compute_hash()?;
        let mut line = serde_json::to_vec(&*record).map_err(|_| AuditError::Encode)?;
        line.push(b'\n');
        Ok(line)
    }
}

/// An open audit log. See the [module documentation](self).
pub struct AuditLog {
    path: PathBuf,
    options: AuditOptions,
    state: Mutex<State>,
}

impl fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl AuditLog {
    /// Opens (creating its directory and file if needed) the log at `path` and writes an `opened` record.
    ///
    /// An existing log is continued from its last record, which must be a complete record with a valid hash
    /// ([`AuditError::CorruptTail`] otherwise) and must agree with the head file ([`AuditError::Truncated`],
    /// [`AuditError::HeadMismatch`], [`AuditError::HeadMissing`], [`AuditError::BadHead`]); the chain is never
    /// silently restarted. To start afresh after such an error, move the log, its rotated files and its head aside.
    /// If a rotation was interrupted (no live file but a `<log>.1`), the chain continues from `<log>.1`.
    pub fn open(path: impl Into<PathBuf>, options: AuditOptions) -> Result<AuditLog, AuditError> {
        let path = path.into();
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            fs::create_dir_all(parent).map_err(io_error("create", parent))?;
        }
        let head = read_head_file(&head_path(&path))?;
        let live_len = file_len(&path)?.unwrap_or(0);
        let (tail, continue_rotation) = if live_len > 0 {
            (Some(last_record(&path)?), false)
        } else {
            let previous = rotated_path(&path, 1);
            match file_len(&previous)? {
                Some(len) if len > 0 => (Some(last_record(&previous)?), true),
                _ => (None, false),
            }
        };
        check_head_on_open(&path, head.as_ref(), tail.as_ref())?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_error("open", &path))?;
        let (next_seq, last_hash) = match &tail {
            Some(record) => (record.seq.saturating_add(1), record.hash.clone()),
            None => (1, GENESIS_PREV.to_owned()),
        };
        let log = AuditLog {
            path,
            options,
            state: Mutex::new(State {
                file,
                live_size: live_len,
                live_base: 0,
                next_seq,
                last_hash,
                pending: BTreeMap::new(),
                head_written: None,
                head_dirty: false,
                repeats: HashMap::new(),
            }),
        };
        {
            let mut state = log.lock();
            let ts = format_ts(SystemTime::now());
            if continue_rotation {
                log.write_rotated(&mut state, &ts)?;
            }
            log.append(&mut state, AuditRecord::bare(RecordKind::Opened, ts))?;
        }
        Ok(log)
    }

    /// The live log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The head file's path (`<log>.head`), the file to copy elsewhere for [`verify_with_head`].
    pub fn head_path(&self) -> PathBuf {
        head_path(&self.path)
    }

    /// The options the log was opened with.
    pub fn options(&self) -> AuditOptions {
        self.options
    }

    /// Records `event` at the current time. See [`AuditLog::record_at`].
    pub fn record(&self, event: &AuditEvent<'_>) -> Result<(), AuditError> {
        self.record_at(event, SystemTime::now())
    }

    /// Records `event` as happening at `at`.
    ///
    /// `allow` events are skipped unless [`AuditOptions::record_allowed`]. Events of `16-17` and adult profiles are
    /// counted for their UTC day; first, counts pending for any other day than `at`'s are written as
    /// `daily_aggregate` records. Under-16 events are written as `event` records at once.
    ///
    /// An [`AuditError::Io`] about the head file means the record itself was appended; the next successful append
    /// brings the head up to date.
    pub fn record_at(&self, event: &AuditEvent<'_>, at: SystemTime) -> Result<(), AuditError> {
        if event.action == Action::Allow && !self.options.record_allowed {
            return Ok(());
        }
        let ts = format_ts(at);
        let day = day_of(&ts);
        let mut state = self.lock();
        if state.pending.keys().any(|key| key.day != day) {
            self.write_aggregates(&mut state, &ts, |key| key.day != day)?;
        }
        if aggregated(event.tier) {
            let key = AggregateKey {
                day: day.to_owned(),
                profile: event.profile.to_owned(),
                tier: event.tier.id(),
                engine: event.engine.id(),
                category: event.category.map(Category::id),
                action: event.action.id(),
            };
            let count = state.pending.entry(key).or_insert(0);
            *count = count.saturating_add(1);
            return Ok(());
        }
        let key = RepeatKey {
            profile: event.profile.to_owned(),
            tier: event.tier.id(),
            engine: event.engine.id(),
            category: event.category.map(Category::id),
            action: event.action.id(),
            domain: event.domain.and_then(clean_domain),
        };
        let mut count = None;
        if !self.options.repeat_window.is_zero() {
            let window = self.options.repeat_window;
            if let Some((written, counted)) = state.repeats.get_mut(&key)
                && at.duration_since(*written).is_ok_and(|d| d < window)
            {
                *counted = counted.saturating_add(1);
                return Ok(());
            }
            if state.repeats.len() >= MAX_REPEAT_KEYS {
                self.write_repeats(&mut state, &ts)?;
            }
            let earlier = state
                .repeats
                .insert(key.clone(), (at, 0))
                .map_or(0, |(_, n)| n);
            count = (earlier > 0).then(|| earlier.saturating_add(1));
        }
        let mut record = event_record(&key, ts);
        record.count = count;
        self.append(&mut state, record)
    }

    /// Writes the head file if records were written since it was last written (see [`AuditOptions::head_every`]).
    /// `havend` calls it every second and on shutdown; dropping the log does it too.
    pub fn sync(&self) -> Result<(), AuditError> {
        let mut state = self.lock();
        self.sync_head(&mut state)
    }

    fn sync_head(&self, state: &mut State) -> Result<(), AuditError> {
        if !state.head_dirty {
            return Ok(());
        }
        let head = Head {
            seq: state.next_seq.saturating_sub(1),
            hash: state.last_hash.clone(),
        };
        write_head(&self.path, &head)?;
        state.head_written = Some(Instant::now());
        state.head_dirty = false;
        Ok(())
    }

    /// Writes the repeats still counted as `event` records carrying their count, and forgets them.
    fn write_repeats(&self, state: &mut State, ts: &str) -> Result<(), AuditError> {
        let counted: Vec<(RepeatKey, u64)> = state
            .repeats
            .drain()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(key, (_, n))| (key, n))
            .collect();
        for (key, n) in counted {
            let mut record = event_record(&key, ts.to_owned());
            record.count = Some(n);
            self.append(state, record)?;
        }
        Ok(())
    }

    /// Writes every pending daily aggregate (including today's, which then starts counting afresh). Call it on
    /// shutdown; dropping the log does it too but cannot report errors.
    pub fn flush_aggregates(&self) -> Result<(), AuditError> {
        let ts = format_ts(SystemTime::now());
        let mut state = self.lock();
        self.write_aggregates(&mut state, &ts, |_| true)?;
        self.write_repeats(&mut state, &ts)?;
        self.sync_head(&mut state)
    }

    /// The newest `limit` records, oldest first, from the live file and, if it has fewer, the newest rotated file.
    /// Lines that are not records are skipped ([`verify`] reports them).
    pub fn recent(&self, limit: usize) -> Result<Vec<AuditRecord>, AuditError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let _state = self.lock(); // no rotation while reading
        let mut records = read_records(&self.path)?;
        if records.len() < limit {
            let mut older = read_records(&rotated_path(&self.path, 1))?;
            older.append(&mut records);
            records = older;
        }
        let skip = records.len().saturating_sub(limit);
        records.drain(..skip);
        Ok(records)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; should it ever, the state is still usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes the pending aggregates whose key `select`s, in key order, as `daily_aggregate` records at `ts`.
    fn write_aggregates(
        &self,
        state: &mut State,
        ts: &str,
        select: impl Fn(&AggregateKey) -> bool,
    ) -> Result<(), AuditError> {
        let keys: Vec<AggregateKey> = state
            .pending
            .keys()
            .filter(|k| select(k))
            .cloned()
            .collect();
        for key in keys {
            let Some(&count) = state.pending.get(&key) else {
                continue;
            };
            let mut record = AuditRecord::bare(RecordKind::DailyAggregate, ts.to_owned());
            record.profile = Some(key.profile.clone());
            record.tier = Some(key.tier.to_owned());
            record.engine = Some(key.engine.to_owned());
            record.category = key.category.map(str::to_owned);
            record.action = Some(key.action.to_owned());
            record.day = Some(key.day.clone());
            record.count = Some(count);
            self.append(state, record)?;
            state.pending.remove(&key);
        }
        Ok(())
    }

    /// Chains and appends `record`, rotating first if it would make the live file too large.
    fn append(&self, state: &mut State, mut record: AuditRecord) -> Result<(), AuditError> {
        let mut line = state.seal(&mut record)?;
        let len = u64::try_from(line.len()).unwrap_or(u64::MAX);
        if state.live_size > state.live_base
            && state.live_size.saturating_add(len) > self.options.max_bytes
        {
            self.rotate(state, &record.ts)?;
            line = state.seal(&mut record)?;
        }
        self.write_line(state, &record, &line)
    }

    fn write_line(
        &self,
        state: &mut State,
        record: &AuditRecord,
        line: &[u8],
    ) -> Result<(), AuditError> {
        state
            .file
            .write_all(line)
            .and_then(|()| state.file.flush())
            .map_err(io_error("append to", &self.path))?;
        state.live_size = state
            .live_size
            .saturating_add(u64::try_from(line.len()).unwrap_or(u64::MAX));
        state.next_seq = record.seq.saturating_add(1);
        state.last_hash.clone_from(&record.hash);
        state.head_dirty = true;
        let due = state
            .head_written
            .is_none_or(|at| at.elapsed() >= self.options.head_every);
        if due {
            self.sync_head(state)?;
        }
        Ok(())
    }

    /// Moves the live file to `<log>.1` (shifting older ones, deleting those beyond `keep`) and starts a new live
    /// file with a `rotated` record.
    fn rotate(&self, state: &mut State, ts: &str) -> Result<(), AuditError> {
        let keep = self.options.keep;
        for n in rotated_numbers(&self.path)?.into_iter().rev() {
            let from = rotated_path(&self.path, n);
            if n >= keep {
                remove_if_exists(&from)?;
            } else {
                let to = rotated_path(&self.path, n.saturating_add(1));
                fs::rename(&from, &to).map_err(io_error("rename", &from))?;
            }
        }
        if keep == 0 {
            remove_if_exists(&self.path)?;
        } else {
            let to = rotated_path(&self.path, 1);
            fs::rename(&self.path, &to).map_err(io_error("rename", &self.path))?;
        }
        state.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(io_error("open", &self.path))?;
        state.live_size = 0;
        state.live_base = 0;
        self.write_rotated(state, ts)
    }

    /// Writes the `rotated` record a fresh live file starts with.
    fn write_rotated(&self, state: &mut State, ts: &str) -> Result<(), AuditError> {
        let mut record = AuditRecord::bare(RecordKind::Rotated, ts.to_owned());
        let line = state.seal(&mut record)?;
        self.write_line(state, &record, &line)?;
        state.live_base = state.live_size;
        Ok(())
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !state.pending.is_empty() || state.repeats.values().any(|(_, n)| *n > 0) {
            // Best effort; call `flush_aggregates` to see errors.
            let _ = self.flush_aggregates();
        } else if state.head_dirty {
            let _ = self.sync();
        }
    }
}

/// An `event` record for `key` at `ts`.
fn event_record(key: &RepeatKey, ts: String) -> AuditRecord {
    let mut record = AuditRecord::bare(RecordKind::Event, ts);
    record.profile = Some(key.profile.clone());
    record.tier = Some(key.tier.to_owned());
    record.engine = Some(key.engine.to_owned());
    record.category = key.category.map(str::to_owned);
    record.action = Some(key.action.to_owned());
    record.domain.clone_from(&key.domain);
    record
}

/// Checks the head file against the log's last record when opening.
fn check_head_on_open(
    path: &Path,
    head: Option<&Head>,
    tail: Option<&AuditRecord>,
) -> Result<(), AuditError> {
    let mismatch = |seq| AuditError::HeadMismatch {
        path: path.to_path_buf(),
        seq,
    };
    match (head, tail) {
        (None, None) => Ok(()),
        // A crash between writing the very first record and its head leaves exactly this.
        (None, Some(tail)) if tail.seq == 1 && tail.prev == GENESIS_PREV => Ok(()),
        (None, Some(_)) => Err(AuditError::HeadMissing {
            path: path.to_path_buf(),
        }),
        (Some(head), None) => Err(AuditError::Truncated {
            path: path.to_path_buf(),
            head_seq: head.seq,
            log_seq: None,
        }),
        (Some(head), Some(tail)) => {
            if head.seq > tail.seq {
                Err(AuditError::Truncated {
                    path: path.to_path_buf(),
                    head_seq: head.seq,
                    log_seq: Some(tail.seq),
                })
            } else if head.seq == tail.seq && head.hash != tail.hash {
                Err(mismatch(head.seq))
            } else if head.seq.saturating_add(1) == tail.seq && head.hash != tail.prev {
                // A crash between appending a record and updating the head leaves the head one behind.
                Err(mismatch(head.seq))
            } else {
                Ok(())
            }
        }
    }
}

/// The records of a file that parse, in order; nothing if the file does not exist.
fn read_records(path: &Path) -> Result<Vec<AuditRecord>, AuditError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error("open", path)(e)),
    };
    let mut records = Vec::new();
    for line in BufReader::new(file).split(b'\n') {
        let line = line.map_err(io_error("read", path))?;
        if let Ok(record) = serde_json::from_slice::<AuditRecord>(&line) {
            records.push(record);
        }
    }
    Ok(records)
}

/// What is wrong with a log, found by [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The line is not a record (bad JSON, unknown, missing or duplicate fields).
    BadJson,
    /// The record's `hash` does not match its content: it was edited.
    HashMismatch,
    /// The record's `prev` is not the previous record's `hash`: records were removed, inserted or reordered.
    BrokenChain,
    /// The record's `seq` does not follow the previous one's.
    SeqGap,
    /// The file's last line has no final newline: it was cut in the middle of a record.
    PartialLine,
    /// The log ends before the record the head names: records were cut off.
    Truncated,
    /// The record at the head's sequence number has another hash.
    HeadMismatch,
    /// The log has records but no head file.
    HeadMissing,
    /// The head file is not a valid head.
    BadHead,
    /// A rotated file is missing between others (`<log>.2` absent while `<log>.3` exists).
    MissingFile,
}

impl ProblemKind {
    /// The stable identifier (`"bad_json"`, `"hash_mismatch"`, ...).
    pub fn id(self) -> &'static str {
        match self {
            ProblemKind::BadJson => "bad_json",
            ProblemKind::HashMismatch => "hash_mismatch",
            ProblemKind::BrokenChain => "broken_chain",
            ProblemKind::SeqGap => "seq_gap",
            ProblemKind::PartialLine => "partial_line",
            ProblemKind::Truncated => "truncated",
            ProblemKind::HeadMismatch => "head_mismatch",
            ProblemKind::HeadMissing => "head_missing",
            ProblemKind::BadHead => "bad_head",
            ProblemKind::MissingFile => "missing_file",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One problem [`verify`] found. Carries no record content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file concerned (a log file, or the head file for head problems).
    pub file: PathBuf,
    /// The 1-based line in `file`, when the problem is about one line.
    pub line: Option<u64>,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.kind),
            None => write!(f, "{}: {}", self.file.display(), self.kind),
        }
    }
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Lines that parsed as records, across all files.
    pub records: u64,
    /// Log files read (rotated ones and the live one).
    pub files: usize,
    /// The first record's sequence number.
    pub first_seq: Option<u64>,
    /// The last record's sequence number.
    pub last_seq: Option<u64>,
    /// The oldest remaining record links to a record in a deleted rotated file, so its `prev` could not be checked
    /// (expected once rotation has dropped old files; not a problem by itself).
    pub first_prev_unverified: bool,
    /// Records after the one the head file names (normally 0; 1 after a crash between an append and its head
    /// update). The chain covers them, the head does not.
    pub unpinned_tail: u64,
    /// Everything found wrong, in file and line order, then head problems.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Whether no problems were found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies the log at `path` (the live file's path): its rotated files oldest to newest, then the live file, then
/// its head file. Problems are reported, not returned as errors; errors are for files that cannot be read, or
/// [`AuditError::NotFound`] when there is neither a log nor a head. Verifying a log that a running daemon rotates
/// meanwhile can report spurious problems; verify again.
pub fn verify(path: &Path) -> Result<VerifyReport, AuditError> {
    verify_heads(path, &[head_path(path)])
}

/// Like [`verify`], and also checks the log against a copy of a head file kept elsewhere (`head_copy`): the record
/// it names must still be in the log with the same hash, which proves every record up to it is unchanged even if
/// someone rewrote the whole chain and the local head.
pub fn verify_with_head(path: &Path, head_copy: &Path) -> Result<VerifyReport, AuditError> {
    verify_heads(path, &[head_path(path), head_copy.to_path_buf()])
}

/// A head being checked during verification.
struct HeadCheck {
    file: PathBuf,
    head: Head,
    /// Whether the record at `head.seq` had `head.hash`, once seen.
    matched: Option<bool>,
}

/// Where the chain walk stands.
enum Link {
    /// No record seen yet.
    Start,
    /// The previous line was not a record: the next one cannot be linked.
    Unknown,
    /// The previous record's `seq` and `hash`.
    Known(u64, String),
}

fn verify_heads(path: &Path, head_files: &[PathBuf]) -> Result<VerifyReport, AuditError> {
    let mut report = VerifyReport {
        records: 0,
        files: 0,
        first_seq: None,
        last_seq: None,
        first_prev_unverified: false,
        unpinned_tail: 0,
        problems: Vec::new(),
    };
    let mut heads = Vec::new();
    let mut head_problems = Vec::new();
    for file in head_files {
        match read_head_file(file) {
            Ok(Some(head)) => heads.push(HeadCheck {
                file: file.clone(),
                head,
                matched: None,
            }),
            Ok(None) => head_problems.push(Problem {
                file: file.clone(),
                line: None,
                kind: ProblemKind::HeadMissing,
            }),
            Err(AuditError::BadHead { .. }) => head_problems.push(Problem {
                file: file.clone(),
                line: None,
                kind: ProblemKind::BadHead,
            }),
            Err(e) => return Err(e),
        }
    }

    let numbers = rotated_numbers(path)?;
    let mut files = Vec::new();
    if let Some(&oldest) = numbers.last() {
        for n in (1..=oldest).rev() {
            let file = rotated_path(path, n);
            if numbers.binary_search(&n).is_ok() {
                files.push(file);
            } else {
                report.problems.push(Problem {
                    file,
                    line: None,
                    kind: ProblemKind::MissingFile,
                });
            }
        }
    }
    if file_len(path)?.is_some() {
        files.push(path.to_path_buf());
    }
    if files.is_empty()
        && heads.is_empty()
        && head_problems
            .iter()
            .all(|p| p.kind == ProblemKind::HeadMissing)
    {
        return Err(AuditError::NotFound {
            path: path.to_path_buf(),
        });
    }

    let mut link = Link::Start;
    for file in &files {
        report.files = report.files.saturating_add(1);
        verify_file(file, &mut link, &mut heads, &mut report)?;
    }

    for check in heads {
        match check.matched {
            Some(true) => {
                let after = report
                    .last_seq
                    .map_or(0, |last| last.saturating_sub(check.head.seq));
                report.unpinned_tail = report.unpinned_tail.max(after);
            }
            Some(false) => report.problems.push(Problem {
                file: check.file,
                line: None,
                kind: ProblemKind::HeadMismatch,
            }),
            None if report.last_seq.is_none_or(|last| last < check.head.seq) => {
                report.problems.push(Problem {
                    file: path.to_path_buf(),
                    line: None,
                    kind: ProblemKind::Truncated,
                })
            }
            // The head's record was in a rotated file that has since been deleted, or the line was unreadable
            // (reported already).
            None => {}
        }
    }
    // A log with records needs its local head; a missing copy given to `verify_with_head` is always a problem.
    for problem in head_problems {
        let local = problem.file == head_path(path);
        if !(local && problem.kind == ProblemKind::HeadMissing && report.records == 0) {
            report.problems.push(problem);
        }
    }
    Ok(report)
}

fn verify_file(
    file: &Path,
    link: &mut Link,
    heads: &mut [HeadCheck],
    report: &mut VerifyReport,
) -> Result<(), AuditError> {
    let mut reader = BufReader::new(File::open(file).map_err(io_error("open", file))?);
    let mut buf = Vec::new();
    let mut line_no: u64 = 0;
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(io_error("read", file))?;
        if read == 0 {
            return Ok(());
        }
        line_no = line_no.saturating_add(1);
        let mut problem = |kind| {
            report.problems.push(Problem {
                file: file.to_path_buf(),
                line: Some(line_no),
                kind,
            });
        };
        let complete = buf.last() == Some(&b'\n');
        if !complete {
            problem(ProblemKind::PartialLine);
        }
        let text = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let Ok(record) = serde_json::from_slice::<AuditRecord>(text) else {
            if complete {
                problem(ProblemKind::BadJson);
            }
            *link = Link::Unknown;
            continue;
        };
        if !record.hash_is_valid() {
            problem(ProblemKind::HashMismatch);
        }
        match link {
            Link::Start => {
                if record.prev != GENESIS_PREV {
                    report.first_prev_unverified = true;
                } else if record.seq != 1 {
                    problem(ProblemKind::SeqGap);
                }
            }
            Link::Unknown => {}
            Link::Known(seq, hash) => {
                if record.prev != *hash {
                    problem(ProblemKind::BrokenChain);
                }
                if Some(record.seq) != seq.checked_add(1) {
                    problem(ProblemKind::SeqGap);
                }
            }
        }
        for check in heads.iter_mut() {
            if check.head.seq == record.seq && check.matched != Some(true) {
                check.matched = Some(check.head.hash == record.hash);
            }
        }
        report.records = report.records.saturating_add(1);
        report.first_seq = report.first_seq.or(Some(record.seq));
        report.last_seq = Some(record.seq);
        *link = Link::Known(record.seq, record.hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_leaves_out_hash_and_absent_fields() {
        let mut record = AuditRecord::bare(RecordKind::Opened, "2025-03-01T16:04:05Z".to_owned());
        record.seq = 7;
        record.prev = GENESIS_PREV.to_owned();
        record.hash = "ab".repeat(32);
        let canonical = String::from_utf8(record.canonical_json().unwrap()).unwrap();
        assert_eq!(
            canonical,
            format!(
                r#"{{"seq":7,"ts":"2025-03-01T16:04:05Z","kind":"opened","prev":"{GENESIS_PREV}"}}"#
            )
        );
        let line = serde_json::to_string(&record).unwrap();
        let expected = format!(
            "{},\"hash\":\"{}\"}}",
            canonical.trim_end_matches('}'),
            record.hash
        );
        assert_eq!(line, expected);
        assert!(!record.hash_is_valid());
        record.hash = record.compute_hash().unwrap();
        assert!(record.hash_is_valid());
        assert_eq!(record.hash.len(), 64);
    }

    #[test]
    fn timestamps_are_clamped_utc_seconds() {
        assert_eq!(format_ts(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let before = UNIX_EPOCH.checked_sub(Duration::from_secs(10)).unwrap();
        assert_eq!(format_ts(before), "1970-01-01T00:00:00Z");
        let far = UNIX_EPOCH + Duration::from_secs(MAX_TS_SECONDS + 1_000_000);
        assert_eq!(format_ts(far), "9999-12-31T23:59:59Z");
        let t = UNIX_EPOCH + Duration::from_millis(1_740_845_045_999);
        assert_eq!(format_ts(t), "2025-03-01T16:04:05Z");
        assert_eq!(day_of(&format_ts(t)), "2025-03-01");
    }

    #[test]
    fn domains_that_are_not_host_names_are_dropped() {
        assert_eq!(clean_domain("Example.COM.").as_deref(), Some("example.com"));
        assert_eq!(
            clean_domain("食狮.公司.cn").as_deref(),
            Some("食狮.公司.cn")
        );
        for bad in [
            "",
            ".",
            "https://example.com/",
            "example.com/path",
            "example.com?q=1",
            "user@example.com",
            "example.com:8080",
            "a..b",
            ".example.com",
            "exa mple.com",
            &"a".repeat(254),
        ] {
            assert_eq!(clean_domain(bad), None, "{bad:?}");
        }
    }
}
