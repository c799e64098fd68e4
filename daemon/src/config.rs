//! `havend`'s configuration: a TOML file whose every field has a documented default, so the daemon also starts
//! without one.
//!
//! ```toml
//! # /etc/haven/havend.toml (every line optional)
//! data_dir = "/var/lib/haven"        # profiles/, parent.passphrase, audit.jsonl
//! lists_dir = "/var/lib/haven/lists" # compiled lists (*.hvl) used besides the built-in ones
//! default_profile = "default"        # for checks that name no profile and unmapped DNS clients
//!
//! [http]
//! listen = "127.0.0.1:8707"          # loopback only unless allow_remote = true
//! unix_socket = "/run/haven/havend.sock"
//! allow_remote = false
//! max_body_bytes = 65536             # JSON requests
//! max_image_bytes = 16777216         # POST /v1/check/image
//! max_concurrency = 256              # requests in progress at once; the rest wait their turn
//! request_timeout_ms = 5000
//!
//! [dns]
//! enabled = true
//! listen = "127.0.0.1:5353"          # 53 in production (needs CAP_NET_BIND_SERVICE)
//! upstreams = ["9.9.9.9:53"]         # default: the nameservers in /etc/resolv.conf
//! blocked_answer = "sinkhole"        # or "nxdomain"
//! sinkhole_v4 = "0.0.0.0"
//! sinkhole_v6 = "::"
//! upstream_timeout_ms = 2000
//! [[dns.clients]]                    # devices mapped to profiles by address
//! address = "192.168.1.23"
//! profile = "leo"
//!
//! [auth]
//! free_attempts = 3                  # failed passphrases before back-off starts
//! base_lockout_ms = 2000             # doubled after each further failure
//! max_lockout_ms = 900000
//!
//! [audit]
//! enabled = true
//! max_bytes = 8388608                # rotate the live file at this size
//! keep = 5
//! record_allowed = false
//! repeat_window_s = 10               # identical events within this are counted, not written one by one
//! head_every_ms = 1000               # how often the head file that pins the chain's end is rewritten
//!
//! [reload]
//! watch_interval_ms = 2000           # poll profiles and lists for changes; 0 turns it off
//!
//! [text_model]
//! enabled = true                     # the toxic-message classifier joins the lexicons in text checks
//! transformer = true                 # English also through MiniLM, when installed (else the fast model alone)
//! ort_dylib = "/usr/lib/haven/libonnxruntime.so.1.32.0"   # default: $HAVEN_ORT_DYLIB, else .haven/runtime/...
//! models_dir = "/usr/lib/haven/models"                    # default: $HAVEN_MODELS_DIR, else .haven/models
//! sessions = 2                       # messages scored at the same moment, per model
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where profiles (`profiles/*.toml`), the parent credential and the audit log live.
    pub data_dir: PathBuf,
    /// A directory of compiled lists (`*.hvl`) used besides the built-in seed lists; missing is fine.
    pub lists_dir: Option<PathBuf>,
    /// The profile for checks that name none and for DNS clients not mapped to a profile.
    pub default_profile: String,
    /// The HTTP and Unix-socket API.
    pub http: HttpConfig,
    /// The DNS filter.
    pub dns: DnsConfig,
    /// The parent credential's back-off.
    pub auth: AuthConfig,
    /// The audit log.
    pub audit: AuditConfig,
    /// Hot reload.
    pub reload: ReloadConfig,
    /// The toxic-message classifier for text checks.
    pub text_model: TextModelConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("/var/lib/haven"),
            lists_dir: None,
            default_profile: "default".to_owned(),
            http: HttpConfig::default(),
            dns: DnsConfig::default(),
            auth: AuthConfig::default(),
            audit: AuditConfig::default(),
            reload: ReloadConfig::default(),
            text_model: TextModelConfig::default(),
        }
    }
}

/// `[http]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// TCP address of the API.
    pub listen: SocketAddr,
    /// Whether the TCP listener runs at all.
    pub enabled: bool,
    /// A Unix socket for the same API.
    pub unix_socket: Option<PathBuf>,
    /// Must be `true` for `listen` (or the DNS address) to be anything but a loopback address.
    pub allow_remote: bool,
    /// Largest JSON request body.
    pub max_body_bytes: usize,
    /// Largest image body for `POST /v1/check/image`.
    pub max_image_bytes: usize,
    /// Requests handled at once; further requests wait (up to the request timeout).
    pub max_concurrency: usize,
    /// Time limit for one request, waiting included; also the time a connection has to send a request's complete
    /// headers before it is closed (so slow clients cannot hold connections open).
    pub request_timeout_ms: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8707),
            enabled: true,
            unix_socket: None,
            allow_remote: false,
            max_body_bytes: 64 * 1024,
            max_image_bytes: 16 * 1024 * 1024,
            max_concurrency: 256,
            request_timeout_ms: 5000,
        }
    }
}

/// How the DNS filter answers blocked names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockedAnswerKind {
    /// With the sinkhole addresses.
    Sinkhole,
    /// With NXDOMAIN.
    Nxdomain,
}

/// `[dns]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DnsConfig {
    /// Whether the DNS filter runs.
    pub enabled: bool,
    /// UDP and TCP address.
    pub listen: SocketAddr,
    /// Upstream resolvers, tried in order; empty means the nameservers in `/etc/resolv.conf`.
    pub upstreams: Vec<SocketAddr>,
    /// Sinkhole or NXDOMAIN for blocked names.
    pub blocked_answer: BlockedAnswerKind,
    /// Address for blocked A queries.
    pub sinkhole_v4: Ipv4Addr,
    /// Address for blocked AAAA queries.
    pub sinkhole_v6: Ipv6Addr,
    /// TTL of synthesised answers.
    pub blocked_ttl: u32,
    /// Time allowed per upstream.
    pub upstream_timeout_ms: u64,
    /// Devices mapped to profiles by address.
    pub clients: Vec<DnsClient>,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            enabled: true,
            listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5353),
            upstreams: Vec::new(),
            blocked_answer: BlockedAnswerKind::Sinkhole,
            sinkhole_v4: Ipv4Addr::UNSPECIFIED,
            sinkhole_v6: Ipv6Addr::UNSPECIFIED,
            blocked_ttl: 60,
            upstream_timeout_ms: 2000,
            clients: Vec::new(),
        }
    }
}

/// One device of the family, by address.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsClient {
    /// The device's address as the DNS filter sees it.
    pub address: IpAddr,
    /// The profile id its queries are checked against.
    pub profile: String,
}

/// `[auth]`: back-off after wrong parent passphrases.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Wrong passphrases allowed before back-off starts.
    pub free_attempts: u32,
    /// The first lock-out; each further failure doubles it.
    pub base_lockout_ms: u64,
    /// The longest lock-out.
    pub max_lockout_ms: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            free_attempts: 3,
            base_lockout_ms: 2000,
            max_lockout_ms: 15 * 60 * 1000,
        }
    }
}

/// `[audit]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Whether checks are recorded.
    pub enabled: bool,
    /// The live file; default `DATA_DIR/audit.jsonl`.
    pub path: Option<PathBuf>,
    /// Rotate the live file when it would grow beyond this.
    pub max_bytes: u64,
    /// Rotated files kept.
    pub keep: usize,
    /// Also record checks that were allowed.
    pub record_allowed: bool,
    /// Identical events (same profile, engine, category, action, domain) within this many seconds of the last one
    /// written are counted into the next record instead of written one by one; 0 writes every one.
    pub repeat_window_s: u64,
    /// The head file (which pins the chain's last record) is rewritten at most this often, and at shutdown.
    pub head_every_ms: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            enabled: true,
            path: None,
            max_bytes: 8 * 1024 * 1024,
            keep: 5,
            record_allowed: false,
            repeat_window_s: 10,
            head_every_ms: 1000,
        }
    }
}

/// `[reload]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReloadConfig {
    /// How often profiles and lists are polled for changes (0: never; reload with SIGHUP or the API).
    pub watch_interval_ms: u64,
}

impl Default for ReloadConfig {
    fn default() -> Self {
        ReloadConfig {
            watch_interval_ms: 2000,
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration ({0})")]
    Read(std::io::ErrorKind),
    /// The file is not valid TOML or has an unknown or mistyped field.
    #[error("invalid configuration: {0}")]
    Invalid(String),
    /// A listener would be reachable from other machines without `allow_remote = true`.
    #[error("{0} is not a loopback address; set http.allow_remote = true to listen on it")]
    NotLoopback(SocketAddr),
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Value(&'static str),
}

impl Config {
    /// Reads and validates a TOML file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read(e.kind()))?;
        Config::from_toml(&text)
    }

    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Invalid(e.message().to_owned()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the rules a parsed configuration must also follow.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.http.allow_remote {
            if self.http.enabled && !self.http.listen.ip().is_loopback() {
                return Err(ConfigError::NotLoopback(self.http.listen));
            }
            if self.dns.enabled && !self.dns.listen.ip().is_loopback() {
                return Err(ConfigError::NotLoopback(self.dns.listen));
            }
        }
        if self.http.max_concurrency == 0 {
            return Err(ConfigError::Value(
                "http.max_concurrency must be at least 1",
            ));
        }
        if self.http.max_body_bytes == 0 || self.http.max_image_bytes == 0 {
            return Err(ConfigError::Value("body limits must be at least 1 byte"));
        }
        if self.http.request_timeout_ms == 0 || self.dns.upstream_timeout_ms == 0 {
            return Err(ConfigError::Value("timeouts must be at least 1 ms"));
        }
        if !crate::state::is_profile_id(&self.default_profile) {
            return Err(ConfigError::Value(
                "default_profile must be 1-64 characters a-z, 0-9, '-' or '_'",
            ));
        }
        for client in &self.dns.clients {
            if !crate::state::is_profile_id(&client.profile) {
                return Err(ConfigError::Value("dns.clients: invalid profile id"));
            }
        }
        Ok(())
    }

    /// The audit log's live file.
    pub fn audit_path(&self) -> PathBuf {
        self.audit
            .path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("audit.jsonl"))
    }

    /// The directory of profile files.
    pub fn profiles_dir(&self) -> PathBuf {
        self.data_dir.join("profiles")
    }

    /// The parent credential file.
    pub fn credential_path(&self) -> PathBuf {
        self.data_dir.join("parent.passphrase")
    }

    /// The upstream resolvers: the configured ones, else the nameservers of `/etc/resolv.conf` that are not this
    /// filter's own address.
    pub fn upstreams(&self) -> Vec<SocketAddr> {
        if !self.dns.upstreams.is_empty() {
            return self.dns.upstreams.clone();
        }
        let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        resolv_conf_nameservers(&text)
            .into_iter()
            .filter(|addr| *addr != self.dns.listen)
            .collect()
    }
}

/// The `nameserver` lines of a resolv.conf, on port 53.
pub fn resolv_conf_nameservers(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (Some("nameserver"), Some(addr)) => addr.parse::<IpAddr>().ok(),
                _ => None,
            }
        })
        .map(|ip| SocketAddr::new(ip, 53))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn empty_file_gives_the_documented_defaults() {
        let config = Config::from_toml("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.http.listen.to_string(), "127.0.0.1:8707");
        assert!(config.http.listen.ip().is_loopback());
        assert_eq!(config.dns.listen.to_string(), "127.0.0.1:5353");
    }

    #[test]
    fn the_module_example_parses() {
        let doc = include_str!("config.rs");
        let example: String = doc
            .lines()
            .skip_while(|l| !l.starts_with("//! ```toml"))
            .skip(1)
            .take_while(|l| !l.starts_with("//! ```"))
            .map(|l| l.trim_start_matches("//!").trim_start_matches(' '))
            .collect::<Vec<_>>()
            .join("\n");
        let config = Config::from_toml(&example).unwrap();
        assert_eq!(config.dns.clients.len(), 1);
        assert_eq!(config.dns.upstreams, vec!["9.9.9.9:53".parse().unwrap()]);
        assert_eq!(
            config.http.unix_socket.as_deref(),
            Some(Path::new("/run/haven/havend.sock"))
        );
    }

    #[test]
    fn other_interfaces_need_allow_remote() {
        let err = Config::from_toml("[http]\nlisten = \"0.0.0.0:8707\"").unwrap_err();
        assert!(matches!(err, ConfigError::NotLoopback(_)));
        let err = Config::from_toml("[dns]\nlisten = \"192.168.1.2:53\"").unwrap_err();
        assert!(matches!(err, ConfigError::NotLoopback(_)));
        let ok = Config::from_toml("[http]\nlisten = \"0.0.0.0:8707\"\nallow_remote = true");
        assert!(ok.is_ok());
        assert!(Config::from_toml("[dns]\nenabled = false\nlisten = \"10.0.0.1:53\"").is_ok());
    }

    #[test]
    fn unknown_and_mistyped_fields_are_errors() {
        assert!(matches!(
            Config::from_toml("[http]\nlisen = \"127.0.0.1:1\""),
            Err(ConfigError::Invalid(_))
        ));
        assert!(matches!(
            Config::from_toml("[dns]\nblocked_answer = \"refuse\""),
            Err(ConfigError::Invalid(_))
        ));
        assert!(matches!(
            Config::from_toml("default_profile = \"../etc\""),
            Err(ConfigError::Value(_))
        ));
    }

    #[test]
    fn resolv_conf_nameservers_are_read() {
        let text = "# comment\nnameserver 10.0.0.2\nsearch lan\nnameserver ::1\nnameserver bogus\n";
        assert_eq!(
            resolv_conf_nameservers(text),
            vec![
                "10.0.0.2:53".parse::<SocketAddr>().unwrap(),
                "[::1]:53".parse().unwrap()
            ]
        );
    }
}

/// `[text_model]`: the toxic-message classifier (`haven_core::classify::text`). The fast model is compiled in and
/// needs only ONNX Runtime; the English transformer must be installed (`scripts/fetch-models.sh`). When it cannot
/// be loaded, texts are checked with the lexicons alone and every text verdict carries a
/// `classifier-unavailable` evidence note.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextModelConfig {
    /// Whether text checks use the classifier at all.
    pub enabled: bool,
    /// Whether English messages also go through the transformer (when it is installed; otherwise the fast model
    /// serves alone).
    pub transformer: bool,
    /// The ONNX Runtime library; default: `$HAVEN_ORT_DYLIB`, else `.haven/runtime/libonnxruntime.so.1.32.0`.
    pub ort_dylib: Option<PathBuf>,
    /// The installed models directory; default: `$HAVEN_MODELS_DIR`, else `.haven/models`.
    pub models_dir: Option<PathBuf>,
    /// Sessions per model (messages scored at the same moment).
    pub sessions: usize,
}

impl Default for TextModelConfig {
    fn default() -> Self {
        TextModelConfig {
            enabled: true,
            transformer: true,
            ort_dylib: None,
            models_dir: None,
            sessions: 2,
        }
    }
}
