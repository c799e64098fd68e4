//! The daemon's data: profiles and lists loaded into an immutable [`Snapshot`] that is swapped atomically on reload,
//! so a check in flight keeps the snapshot it started with and no check ever fails during a swap.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use haven_core::classify::ClassifyError;
use haven_core::classify::text::{TextClassifier, TextClassifierConfig};
use haven_core::hash::HashEngine;
use haven_core::lists::{self, ListsDirError};
use haven_core::policy::{AgeTier, ProfileError};
use haven_core::text::{ChatMessage, TextContext};
use haven_core::url::{CanonicalUrl, UrlEngine, registrable_domain};
use haven_core::verdict::Engine;
use haven_core::{Action, Haven, Profile, Verdict};
use serde::Serialize;

use crate::audit::{AuditEvent, AuditLog, AuditOptions};
use crate::auth::ParentAuth;
use crate::config::{Config, TextModelConfig};
use crate::dns::{DnsDecision, DnsPolicy, DnsStats};
use crate::metrics::Metrics;

/// File extension of compiled URL lists.
pub const LIST_EXTENSION: &str = lists::URL_LIST_EXTENSION;
/// File extension of compiled hash lists.
pub const HASH_LIST_EXTENSION: &str = lists::HASH_LIST_EXTENSION;

/// Whether `id` can name a profile: 1–64 characters `a-z`, `0-9`, `-`, `_`.
pub fn is_profile_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Why profiles or lists could not be loaded. The old data keeps serving when a reload fails with one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A profile file is invalid.
    #[error("profile {id}: {error}")]
    Profile {
        /// The profile's id (its file name without extension).
        id: String,
        /// What is wrong with it.
        error: ProfileError,
    },
    /// A profile file's name is not a valid id, or two files share an id.
    #[error("profile file {file}: {problem}")]
    ProfileFile {
        /// The file name.
        file: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// The configured default profile does not exist.
    #[error("the default profile {0} has no file")]
    MissingDefault(String),
    /// A DNS client is mapped to a profile that does not exist.
    #[error("dns.clients maps a device to profile {0}, which has no file")]
    MissingClientProfile(String),
    /// A compiled hash list is invalid.
    #[error("hash list {file}: {error}")]
    HashList {
        /// The file name.
        file: String,
        /// What is wrong with it.
        error: haven_core::hash::CompiledHashListError,
    },
    /// A compiled list is invalid.
    #[error("list {file}: {error}")]
    List {
        /// The file name.
        file: String,
        /// What is wrong with it.
        error: haven_core::url::CompiledListError,
    },
    /// A directory could not be read.
    #[error("cannot read {dir} ({kind})")]
    Io {
        /// Which directory.
        dir: String,
        /// The I/O error kind.
        kind: std::io::ErrorKind,
    },
}

/// One list in use, as `GET /healthz` and reload answers report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListSummary {
    /// List id.
    pub id: String,
    /// Its category.
    pub category: String,
    /// Its version.
    pub version: String,
    /// Blocked domains.
    pub domains: usize,
    /// All entries (domains, URL expressions, exceptions).
    pub entries: usize,
}

/// What the data directories looked like when a snapshot was loaded (file, modification time, length).
pub type Fingerprint = Vec<(PathBuf, Option<SystemTime>, u64)>;

/// Profiles and lists as one immutable unit.
#[derive(Debug)]
pub struct Snapshot {
    /// Increases by one at every successful reload.
    pub generation: u64,
    /// The engine with every list.
    pub haven: Haven,
    /// Profiles by id.
    pub profiles: BTreeMap<String, Arc<Profile>>,
    /// Lists in use.
    pub lists: Vec<ListSummary>,
    /// The files it was loaded from.
    pub fingerprint: Fingerprint,
}

/// Reads every profile and list. Nothing is swapped here: the caller decides.
pub fn load_snapshot(config: &Config, generation: u64) -> Result<Snapshot, LoadError> {
    let fingerprint = fingerprint(config);
    let profiles = load_profiles(&config.profiles_dir(), &config.default_profile)?;
    for client in &config.dns.clients {
        if !profiles.contains_key(&client.profile) {
            return Err(LoadError::MissingClientProfile(client.profile.clone()));
        }
    }
    let engine = load_lists(config.lists_dir.as_deref())?;
    let hashes = load_hash_lists(config.lists_dir.as_deref())?;
    let lists = engine
        .lists()
        .iter()
        .map(|list| {
            let meta = &list.meta().list;
            ListSummary {
                id: meta.id.clone(),
                category: meta.category.id().to_owned(),
                version: meta.version.clone(),
                domains: list.domain_count(),
                entries: list.entry_count(),
            }
        })
        .chain(hashes.lists().iter().map(|list| {
            let meta = &list.meta().list;
            ListSummary {
                id: meta.id.clone(),
                category: haven_core::Category::KnownAbuse.id().to_owned(),
                version: meta.version.clone(),
                domains: 0,
                entries: haven_core::hash::HashKind::ALL
                    .iter()
                    .map(|kind| list.count(*kind))
                    .sum(),
            }
        }))
        .collect();
    Ok(Snapshot {
        generation,
        haven: with_text_model(
            Haven::new()
                .with_url_engine(engine)
                .with_hash_engine(hashes),
            &config.text_model,
        ),
        profiles,
        lists,
        fingerprint,
    })
}

/// The engine with the text classifier the configuration asks for: the transformer too when it is installed, else
/// the fast model alone, else none (the verdicts then carry the `classifier-unavailable` note). A complete load is
/// kept for the process (reloads reuse it); a partial or failed one is tried again at the next reload.
fn with_text_model(haven: Haven, config: &TextModelConfig) -> Haven {
    type Loaded = Option<Arc<TextClassifier>>;
    static LOADED: Mutex<Vec<(TextModelConfig, Loaded)>> = Mutex::new(Vec::new());
    if !config.enabled {
        return haven;
    }
    let Ok(mut loaded) = LOADED.lock() else {
        return haven.without_text_classifier();
    };
    let classifier = match loaded.iter().find(|(c, _)| c == config) {
        Some((_, classifier)) => classifier.clone(),
        None => {
            let mut core = TextClassifierConfig {
                runtime: config.ort_dylib.clone(),
                models_dir: config.models_dir.clone(),
                transformer: config.transformer,
                intra_threads: 1,
                sessions: config.sessions.max(1),
            };
            let unused = |e: ClassifyError| {
                log_line(&format!("the text classifier is not used: {e}"));
            };
            let classifier = match TextClassifier::load(&core) {
                Ok(classifier) => Some(Arc::new(classifier)),
                Err(e) if core.transformer => {
                    log_line(&format!("the English text model is not used: {e}"));
                    core.transformer = false;
                    TextClassifier::load(&core)
                        .map_err(unused)
                        .ok()
                        .map(Arc::new)
                }
                Err(e) => {
                    unused(e);
                    None
                }
            };
            // Only what the configuration fully asked for is kept: after a fallback, a reload tries again (so
            // installing ONNX Runtime or the transformer takes effect without a restart).
            if classifier
                .as_ref()
                .is_some_and(|c| c.has_transformer() == config.transformer)
            {
                loaded.push((config.clone(), classifier.clone()));
            }
            classifier
        }
    };
    match classifier {
        Some(classifier) => haven.with_text_classifier(classifier),
        None => haven.without_text_classifier(),
    }
}

/// A line on standard error (the daemon's log).
fn log_line(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "havend: {line}");
}

/// Profiles from `DIR/*.toml` and `DIR/*.json` (the id is the file name without extension). A missing directory
/// is no profile at all; the default profile, when it has no file, is the embedded strictest one (under 9).
pub fn load_profiles(
    dir: &Path,
    default_id: &str,
) -> Result<BTreeMap<String, Arc<Profile>>, LoadError> {
    let mut profiles = BTreeMap::new();
    for path in files_in(dir, &["toml", "json"])? {
        let file = lists::file_name(&path);
        let id = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| is_profile_id(s))
            .ok_or(LoadError::ProfileFile {
                file: file.clone(),
                problem: "the name must be 1-64 characters a-z, 0-9, '-' or '_'",
            })?
            .to_owned();
        let profile = Profile::load(&path).map_err(|error| LoadError::Profile {
            id: id.clone(),
            error,
        })?;
        if profiles.insert(id, Arc::new(profile)).is_some() {
            return Err(LoadError::ProfileFile {
                file,
                problem: "another file has the same id",
            });
        }
    }
    if !profiles.contains_key(default_id) {
        if default_id != "default" {
            return Err(LoadError::MissingDefault(default_id.to_owned()));
        }
        let profile =
            Profile::new("default", AgeTier::Under9).map_err(|error| LoadError::Profile {
                id: default_id.to_owned(),
                error,
            })?;
        profiles.insert(default_id.to_owned(), Arc::new(profile));
    }
    Ok(profiles)
}

/// The built-in seed lists plus every compiled list (`*.hvl`) in `dir`, in file-name order. A missing directory
/// adds nothing.
pub fn load_lists(dir: Option<&Path>) -> Result<UrlEngine, LoadError> {
    lists::url_engine(dir).map_err(|e| LoadError::from_lists(e, dir))
}

/// Every compiled hash list (`*.hvh`) in `dir`, in file-name order; none without a directory.
pub fn load_hash_lists(dir: Option<&Path>) -> Result<HashEngine, LoadError> {
    lists::hash_engine(dir).map_err(|e| LoadError::from_lists(e, dir))
}

impl LoadError {
    fn from_lists(error: ListsDirError, dir: Option<&Path>) -> LoadError {
        match error {
            ListsDirError::List { file, error } => LoadError::List { file, error },
            ListsDirError::HashList { file, error } => LoadError::HashList { file, error },
            ListsDirError::Io(kind) => LoadError::Io {
                dir: dir.map(|d| d.display().to_string()).unwrap_or_default(),
                kind,
            },
            // `ListsDirError` is non-exhaustive; a new kind of failure still reads as the directory's.
            _ => LoadError::Io {
                dir: dir.map(|d| d.display().to_string()).unwrap_or_default(),
                kind: std::io::ErrorKind::Other,
            },
        }
    }
}

/// Files in `dir` with one of `extensions`, sorted; a missing directory has none.
fn files_in(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>, LoadError> {
    lists::files_in(dir, extensions).map_err(|e| LoadError::Io {
        dir: dir.display().to_string(),
        kind: e.kind(),
    })
}

/// The profile and list files as they are now.
pub fn fingerprint(config: &Config) -> Fingerprint {
    let mut all = Vec::new();
    let dirs = [Some(config.profiles_dir()), config.lists_dir.clone()];
    for dir in dirs.iter().flatten() {
        for path in files_in(dir, &["toml", "json", LIST_EXTENSION, HASH_LIST_EXTENSION])
            .unwrap_or_default()
        {
            let meta = std::fs::metadata(&path).ok();
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            let len = meta.map_or(0, |m| m.len());
            all.push((path, modified, len));
        }
    }
    all
}

/// What a reload did.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadReport {
    /// The generation now serving.
    pub generation: u64,
    /// Profile ids now loaded.
    pub profiles: Vec<String>,
    /// Lists now loaded.
    pub lists: Vec<ListSummary>,
}

/// Why a check could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// No profile has this id.
    #[error("no such profile")]
    UnknownProfile,
    /// The input is invalid (the engine's error, which never repeats the input).
    #[error(transparent)]
    Input(#[from] haven_core::Error),
}

/// The running daemon's shared state.
pub struct Daemon {
    config: Config,
    snapshot: ArcSwap<Snapshot>,
    /// The parent credential checker.
    pub auth: ParentAuth,
    audit: Option<AuditLog>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// The DNS filter's counters.
    pub dns_stats: Arc<DnsStats>,
    /// Reloads and profile writes happen one at a time.
    writer: Mutex<()>,
    /// The fingerprint of the last reload that failed (so the watcher does not retry it in a loop).
    failed_fingerprint: Mutex<Option<Fingerprint>>,
    generation: AtomicU64,
}

impl std::fmt::Debug for Daemon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Daemon")
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Profiles or lists are invalid.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The audit log could not be opened.
    #[error("audit log: {0}")]
    Audit(#[from] crate::audit::AuditError),
}

impl Daemon {
    /// Loads profiles, lists and the audit log.
    pub fn load(config: Config) -> Result<Daemon, StartError> {
        let snapshot = load_snapshot(&config, 1)?;
        let audit = if config.audit.enabled {
            Some(AuditLog::open(
                config.audit_path(),
                AuditOptions {
                    max_bytes: config.audit.max_bytes,
                    keep: config.audit.keep,
                    record_allowed: config.audit.record_allowed,
                    head_every: Duration::from_millis(config.audit.head_every_ms),
                    repeat_window: Duration::from_secs(config.audit.repeat_window_s),
                },
            )?)
        } else {
            None
        };
        Ok(Daemon {
            auth: ParentAuth::new(config.credential_path(), config.auth.clone()),
            snapshot: ArcSwap::from_pointee(snapshot),
            audit,
            metrics: Metrics::default(),
            dns_stats: Arc::new(DnsStats::default()),
            writer: Mutex::new(()),
            failed_fingerprint: Mutex::new(None),
            generation: AtomicU64::new(1),
            config,
        })
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The data serving now.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// The audit log, when it is on.
    pub fn audit(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }

    /// Reloads profiles and lists from disk; on failure the old data keeps serving and the error says why.
    pub fn reload(&self) -> Result<ReloadReport, LoadError> {
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.reload_locked()
    }

    fn reload_locked(&self) -> Result<ReloadReport, LoadError> {
        let generation = self.generation.load(Ordering::Relaxed) + 1;
        match load_snapshot(&self.config, generation) {
            Ok(snapshot) => {
                let report = ReloadReport {
                    generation,
                    profiles: snapshot.profiles.keys().cloned().collect(),
                    lists: snapshot.lists.clone(),
                };
                self.snapshot.store(Arc::new(snapshot));
                self.generation.store(generation, Ordering::Relaxed);
                self.metrics.reloads_ok.fetch_add(1, Ordering::Relaxed);
                *self
                    .failed_fingerprint
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = None;
                Ok(report)
            }
            Err(e) => {
                self.metrics.reloads_failed.fetch_add(1, Ordering::Relaxed);
                *self
                    .failed_fingerprint
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(fingerprint(&self.config));
                Err(e)
            }
        }
    }

    /// Reloads if profile or list files changed since the last load (or the last failed attempt).
    pub fn reload_if_changed(&self) -> Option<Result<ReloadReport, LoadError>> {
        let changed = |daemon: &Daemon| {
            let now = fingerprint(&daemon.config);
            now != daemon.snapshot.load().fingerprint
                && daemon
                    .failed_fingerprint
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .as_ref()
                    != Some(&now)
        };
        if !changed(self) {
            return None;
        }
        // Look again under the writer lock: a profile written through the API has been reloaded already.
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if !changed(self) {
            return None;
        }
        Some(self.reload_locked())
    }

    /// Validates and stores a profile (atomically, as `profiles/ID.toml`), then reloads so it serves at once.
    pub fn put_profile(
        &self,
        id: &str,
        profile: &Profile,
    ) -> Result<ReloadReport, PutProfileError> {
        if !is_profile_id(id) {
            return Err(PutProfileError::BadId);
        }
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let dir = self.config.profiles_dir();
        std::fs::create_dir_all(&dir).map_err(|e| PutProfileError::Io(e.kind()))?;
        let json = dir.join(format!("{id}.json"));
        if json.exists() {
            // One file per id: the TOML file replaces a JSON one.
            std::fs::remove_file(&json).map_err(|e| PutProfileError::Io(e.kind()))?;
        }
        profile
            .save(dir.join(format!("{id}.toml")))
            .map_err(PutProfileError::Profile)?;
        self.reload_locked().map_err(PutProfileError::Reload)
    }

    /// The profile for a check: the named one, or the default.
    pub fn profile(&self, snapshot: &Snapshot, id: Option<&str>) -> Option<(String, Arc<Profile>)> {
        let id = id.unwrap_or(&self.config.default_profile);
        snapshot
            .profiles
            .get(id)
            .map(|profile| (id.to_owned(), profile.clone()))
    }

    /// The profile id for a DNS client address.
    pub fn profile_for_client(&self, client: IpAddr) -> &str {
        let client = canonical_ip(client);
        self.config
            .dns
            .clients
            .iter()
            .find(|c| canonical_ip(c.address) == client)
            .map_or(self.config.default_profile.as_str(), |c| c.profile.as_str())
    }

    /// Runs one check for a profile (the default one when `profile` is `None`) on the current snapshot, counts it
    /// and records it in the audit log (with `domain`, computed only when the check is recorded).
    fn checked(
        &self,
        profile: Option<&str>,
        engine: Engine,
        check: impl FnOnce(&Haven, &Profile) -> Result<Verdict, haven_core::Error>,
        domain: impl FnOnce() -> Option<String>,
    ) -> Result<(String, Verdict), CheckError> {
        let snapshot = self.snapshot.load();
        let (id, profile) = self
            .profile(&snapshot, profile)
            .ok_or(CheckError::UnknownProfile)?;
        let verdict = check(&snapshot.haven, &profile)?;
        self.metrics.count_check(engine, verdict.action);
        if verdict.action != Action::Allow || self.config.audit.record_allowed {
            self.record(&id, &profile, &verdict, engine, domain().as_deref());
        }
        Ok((id, verdict))
    }

    /// Checks a URL for a profile (the default one when `profile` is `None`) and records it in the audit log.
    pub fn check_url(
        &self,
        profile: Option<&str>,
        url: &str,
    ) -> Result<(String, Verdict), CheckError> {
        self.checked(
            profile,
            Engine::Url,
            |haven, profile| haven.check_url(profile, url),
            || {
                CanonicalUrl::parse(url)
                    .ok()
                    .and_then(|u| registrable_domain(u.host()))
            },
        )
    }

    /// Checks an image's bytes against the hash lists for a profile and records a match in the audit log.
    pub fn check_image(
        &self,
        profile: Option<&str>,
        bytes: &[u8],
    ) -> Result<(String, Verdict), CheckError> {
        self.checked(
            profile,
            Engine::Hash,
            |haven, profile| haven.check_image(profile, bytes),
            || None,
        )
    }

    /// Checks one hash against the hash lists for a profile and records a match in the audit log.
    pub fn check_hash(
        &self,
        profile: Option<&str>,
        value: &haven_core::hash::HashValue,
    ) -> Result<(String, Verdict), CheckError> {
        self.checked(
            profile,
            Engine::Hash,
            |haven, profile| Ok(haven.check_hash(profile, value)),
            || None,
        )
    }

    /// Checks one text for a profile and records the verdict in the audit log (never the text).
    pub fn check_text(
        &self,
        profile: Option<&str>,
        text: &str,
        context: &TextContext,
    ) -> Result<(String, Verdict), CheckError> {
        self.checked(
            profile,
            Engine::Text,
            |haven, profile| haven.check_text(profile, text, context),
            || None,
        )
    }

    /// Checks a conversation for a profile and records the verdict in the audit log (never the messages).
    pub fn check_conversation(
        &self,
        profile: Option<&str>,
        messages: &[ChatMessage],
        context: &TextContext,
    ) -> Result<(String, Verdict), CheckError> {
        self.checked(
            profile,
            Engine::Text,
            |haven, profile| haven.check_conversation(profile, messages, context),
            || None,
        )
    }

    /// Writes one check to the audit log (never the content: only profile, engine, category, action, domain).
    pub fn record(
        &self,
        profile_id: &str,
        profile: &Profile,
        verdict: &Verdict,
        engine: Engine,
        domain: Option<&str>,
    ) {
        let Some(audit) = &self.audit else {
            return;
        };
        let category = verdict
            .categories
            .iter()
            .find(|c| c.action == verdict.action)
            .or(verdict.categories.first())
            .map(|c| c.category);
        let event = AuditEvent {
            profile: profile_id,
            tier: profile.tier(),
            engine: verdict.evidence.first().map_or(engine, |e| e.engine),
            category,
            action: verdict.action,
            domain,
        };
        if audit.record(&event).is_err() {
            self.metrics.audit_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Brings the audit log's head file up to date (every second while serving).
    pub fn sync_audit(&self) {
        if let Some(audit) = &self.audit
            && audit.sync().is_err()
        {
            self.metrics.audit_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes pending daily aggregates and counted repeats, and the head (on shutdown).
    pub fn flush(&self) {
        if let Some(audit) = &self.audit
            && audit.flush_aggregates().is_err()
        {
            self.metrics.audit_failures.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// IPv4-mapped IPv6 addresses as IPv4, so a mapping by IPv4 address also covers dual-stack sockets.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Why `PUT /v1/profiles/{id}` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PutProfileError {
    /// The id is not 1–64 characters `a-z`, `0-9`, `-`, `_`.
    #[error("a profile id is 1-64 characters a-z, 0-9, '-' or '_'")]
    BadId,
    /// The profile could not be written.
    #[error(transparent)]
    Profile(ProfileError),
    /// The directory could not be written.
    #[error("cannot write the profile ({0})")]
    Io(std::io::ErrorKind),
    /// The profile was stored but the reload failed (the old data keeps serving).
    #[error("stored, but the reload failed: {0}")]
    Reload(LoadError),
}

/// The DNS filter's view of the daemon: each query name is checked as `http://NAME/` for the client's profile.
#[derive(Debug, Clone)]
pub struct DaemonDns(pub Arc<Daemon>);

impl DnsPolicy for DaemonDns {
    fn decide(&self, client: IpAddr, name: &str) -> DnsDecision {
        let daemon = &self.0;
        let snapshot = daemon.snapshot.load();
        let Some((id, profile)) =
            daemon.profile(&snapshot, Some(daemon.profile_for_client(client)))
        else {
            return DnsDecision::Forward;
        };
        if let Some(rewrite) =
            haven_core::url::safesearch::dns_override(name, profile.safe_search())
        {
            return match rewrite {
                haven_core::url::safesearch::DnsOverride::Cname(target) => {
                    DnsDecision::Cname(target.to_owned())
                }
                _ => DnsDecision::NxDomain,
            };
        }
        let Ok(verdict) = snapshot
            .haven
            .check_url(&profile, &format!("http://{name}/"))
        else {
            // Not a name a URL can have (e.g. `_service._tcp` labels): nothing to filter.
            return DnsDecision::Forward;
        };
        daemon.metrics.count_check(Engine::Url, verdict.action);
        if verdict.action == Action::Block {
            let domain = registrable_domain(name);
            daemon.record(&id, &profile, &verdict, Engine::Url, domain.as_deref());
            DnsDecision::Block
        } else {
            DnsDecision::Forward
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn profile_ids() {
        for ok in ["default", "leo", "mia-2", "a_b", &"x".repeat(64)] {
            assert!(is_profile_id(ok), "{ok}");
        }
        for bad in ["", "Leo", "../x", "a.b", "a b", &"x".repeat(65), "é"] {
            assert!(!is_profile_id(bad), "{bad}");
        }
    }

    #[test]
    fn mapped_ipv4_matches_ipv4_clients() {
        let v4: IpAddr = "192.168.1.5".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.168.1.5".parse().unwrap();
        assert_eq!(canonical_ip(mapped), v4);
        assert_eq!(canonical_ip(v4), v4);
    }
}
