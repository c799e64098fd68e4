//! # haven-daemon
//!
//! `havend`, Haven's local daemon, as a library: the service that desktop parental-control apps, routers and
//! set-top boxes talk to instead of embedding `haven-core`.
//!
//! - [`config`]: the TOML configuration and its defaults (loopback only unless told otherwise).
//! - [`state`]: profiles and lists as an immutable snapshot, swapped atomically on reload; the checks.
//! - [`http`]: the JSON API (TCP and Unix socket), with parent-only administration.
//! - [`auth`]: the parent passphrase (Argon2id) and its back-off.
//! - [`dns`]: the DNS filter (UDP and TCP, forwarding to upstream resolvers).
//! - [`audit`]: the parent's append-only, BLAKE3-chained audit log.
//! - [`metrics`]: Prometheus counters.
//! - [`server`]: [`server::run`]`(daemon, listeners, shutdown)`.
//!
//! ```no_run
//! # async fn start() -> Result<(), haven_daemon::server::ServeError> {
//! use haven_daemon::config::Config;
//! let config = Config::from_toml("data_dir = \"/var/lib/haven\"").expect("valid");
//! haven_daemon::server::run_config(config, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit;
pub mod auth;
pub mod config;
pub mod dns;
pub mod http;
pub mod metrics;
pub mod server;
pub mod state;
