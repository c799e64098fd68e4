//! Starting and stopping the daemon: bind the listeners, serve until a shutdown signal, then drain.
//!
//! In the style of tokio's mini-redis: [`run`] takes already-bound listeners and a shutdown future, so tests bind
//! port 0 and stop the daemon by completing a future.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, UdpSocket, UnixListener};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::{BlockedAnswerKind, Config};
use crate::dns::{self, BlockedAnswer, DnsOptions, DnsPolicy};
use crate::http;
use crate::state::{Daemon, DaemonDns, StartError};

/// The sockets the daemon serves on; any may be absent.
#[derive(Debug, Default)]
pub struct Listeners {
    /// The HTTP API over TCP.
    pub http: Option<TcpListener>,
    /// The HTTP API over a Unix socket, with the socket's path (removed at shutdown).
    pub unix: Option<(UnixListener, PathBuf)>,
    /// The DNS filter over UDP.
    pub dns_udp: Option<UdpSocket>,
    /// The DNS filter over TCP.
    pub dns_tcp: Option<TcpListener>,
}

/// Why the daemon could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A configured address could not be bound.
    #[error("cannot listen on {what} ({kind})")]
    Bind {
        /// Which listener.
        what: String,
        /// The I/O error kind.
        kind: std::io::ErrorKind,
    },
    /// Loading profiles, lists or the audit log failed.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A server stopped with an I/O error.
    #[error("a listener failed ({0})")]
    Io(std::io::ErrorKind),
}

impl Listeners {
    /// Binds every listener the configuration turns on.
    pub async fn bind(config: &Config) -> Result<Listeners, ServeError> {
        let bind_error = |what: String| {
            move |e: std::io::Error| ServeError::Bind {
                what,
                kind: e.kind(),
            }
        };
        let mut listeners = Listeners::default();
        if config.http.enabled {
            let addr = config.http.listen;
            listeners.http = Some(
                TcpListener::bind(addr)
                    .await
                    .map_err(bind_error(format!("http {addr}")))?,
            );
        }
        if let Some(path) = &config.http.unix_socket {
            listeners.unix = Some((bind_unix(path)?, path.clone()));
        }
        if config.dns.enabled {
            let addr = config.dns.listen;
            // TCP on the same port as UDP, also when the configuration asks for any free port (0): then a port
            // whose TCP side is taken is given back and another tried.
            let mut tries = if addr.port() == 0 { 20 } else { 1 };
            loop {
                tries -= 1;
                let udp = UdpSocket::bind(addr)
                    .await
                    .map_err(bind_error(format!("dns udp {addr}")))?;
                let bound = udp.local_addr().unwrap_or(addr);
                match TcpListener::bind(bound).await {
                    Ok(tcp) => {
                        listeners.dns_udp = Some(udp);
                        listeners.dns_tcp = Some(tcp);
                        break;
                    }
                    Err(e) if tries == 0 => return Err(bind_error(format!("dns tcp {bound}"))(e)),
                    Err(_) => continue,
                }
            }
        }
        Ok(listeners)
    }

    /// The bound addresses, for logs and tests: (http, dns).
    pub fn local_addrs(&self) -> (Option<SocketAddr>, Option<SocketAddr>) {
        (
            self.http.as_ref().and_then(|l| l.local_addr().ok()),
            self.dns_udp.as_ref().and_then(|s| s.local_addr().ok()),
        )
    }
}

/// Binds a Unix socket, replacing a stale socket file, and lets every local user connect (checks are for every
/// app; administration still needs the parent passphrase).
pub fn bind_unix(path: &std::path::Path) -> Result<UnixListener, ServeError> {
    let bind_error = |e: std::io::Error| ServeError::Bind {
        what: format!("unix socket {}", path.display()),
        kind: e.kind(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(bind_error)?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            use std::os::unix::fs::FileTypeExt;
            if meta.file_type().is_socket() {
                std::fs::remove_file(path).map_err(bind_error)?;
            } else {
                return Err(ServeError::Bind {
                    what: format!(
                        "unix socket {} (a non-socket file is in the way)",
                        path.display()
                    ),
                    kind: std::io::ErrorKind::AlreadyExists,
                });
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(bind_error(e)),
    }
    let listener = UnixListener::bind(path).map_err(bind_error)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).map_err(bind_error)?;
    Ok(listener)
}

/// The DNS filter's options from the configuration.
pub fn dns_options(config: &Config) -> DnsOptions {
    DnsOptions {
        upstreams: config.upstreams(),
        upstream_timeout: Duration::from_millis(config.dns.upstream_timeout_ms),
        blocked_answer: match config.dns.blocked_answer {
            BlockedAnswerKind::Sinkhole => BlockedAnswer::Sinkhole {
                v4: config.dns.sinkhole_v4,
                v6: config.dns.sinkhole_v6,
            },
            BlockedAnswerKind::Nxdomain => BlockedAnswer::NxDomain,
        },
        blocked_ttl: config.dns.blocked_ttl,
        ..DnsOptions::default()
    }
}

/// Serves `daemon` on `listeners` until `shutdown` completes, then stops accepting, lets requests in flight
/// finish (up to the request timeout), writes pending audit aggregates and returns. Profiles and lists are
/// reloaded when their files change (polled every `reload.watch_interval_ms`).
pub async fn run(
    daemon: Arc<Daemon>,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    let mut tasks: JoinSet<Result<(), ServeError>> = JoinSet::new();
    let router = http::router(daemon.clone());
    let io = |e: std::io::Error| ServeError::Io(e.kind());

    // A client must send a request's headers within the request timeout (no slow-loris connections).
    let header_timeout = Duration::from_millis(daemon.config().http.request_timeout_ms);
    if let Some(listener) = listeners.http {
        let router = router.clone();
        let stop = stopped();
        tasks.spawn(async move {
            serve_http(listener, router, stop, header_timeout).await;
            Ok(())
        });
    }
    if let Some((listener, path)) = listeners.unix {
        let router = router.clone();
        let stop = stopped();
        tasks.spawn(async move {
            serve_http(listener, router, stop, header_timeout).await;
            let _ = std::fs::remove_file(&path);
            Ok(())
        });
    }
    if listeners.dns_udp.is_some() || listeners.dns_tcp.is_some() {
        let policy: Arc<dyn DnsPolicy> = Arc::new(DaemonDns(daemon.clone()));
        let options = Arc::new(dns_options(daemon.config()));
        if let Some(socket) = listeners.dns_udp {
            let (policy, options, stats, stop) = (
                policy.clone(),
                options.clone(),
                daemon.dns_stats.clone(),
                stopped(),
            );
            tasks.spawn(async move {
                dns::serve_udp(socket, policy, options, stats, stop)
                    .await
                    .map_err(io)
            });
        }
        if let Some(listener) = listeners.dns_tcp {
            let (stats, stop) = (daemon.dns_stats.clone(), stopped());
            tasks.spawn(async move {
                dns::serve_tcp(listener, policy, options, stats, stop)
                    .await
                    .map_err(io)
            });
        }
    }
    if daemon.audit().is_some() {
        let daemon = daemon.clone();
        let stop = stopped();
        tasks.spawn(async move {
            let sync = async {
                let mut ticks = tokio::time::interval(Duration::from_secs(1));
                loop {
                    ticks.tick().await;
                    let daemon = daemon.clone();
                    let _ = tokio::task::spawn_blocking(move || daemon.sync_audit()).await;
                }
            };
            tokio::select! {
                () = sync => {}
                () = stop => {}
            }
            Ok(())
        });
    }
    let interval = daemon.config().reload.watch_interval_ms;
    if interval > 0 {
        let daemon = daemon.clone();
        let stop = stopped();
        tasks.spawn(async move {
            let watch = async {
                let mut ticks = tokio::time::interval(Duration::from_millis(interval));
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                loop {
                    ticks.tick().await;
                    let daemon = daemon.clone();
                    let _ = tokio::task::spawn_blocking(move || daemon.reload_if_changed()).await;
                }
            };
            tokio::select! {
                () = watch => {}
                () = stop => {}
            }
            Ok(())
        });
    }

    // Serve until shutdown is asked for or a server fails.
    let mut result = Ok(());
    tokio::select! {
        () = shutdown => {}
        Some(joined) = tasks.join_next() => {
            result = flatten(joined);
        }
    }
    let _ = stop_tx.send(true);
    let drain = Duration::from_millis(daemon.config().http.request_timeout_ms + 1000);
    let _ = tokio::time::timeout(drain, async {
        while let Some(joined) = tasks.join_next().await {
            if result.is_ok() {
                result = flatten(joined);
            }
        }
    })
    .await;
    tasks.abort_all();
    daemon.flush();
    result
}

/// Serves `router` over HTTP/1.1 on `listener` until `stop`, then stops accepting and lets the requests in flight
/// finish (the caller bounds how long). A connection that has not sent a request's complete headers within
/// `header_timeout` is closed, so slow clients cannot hold connections open (`axum::serve` sets no such timeout).
async fn serve_http<L: axum::serve::Listener>(
    mut listener: L,
    router: axum::Router,
    stop: impl Future<Output = ()>,
    header_timeout: Duration,
) {
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let (io, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let connection = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(router.clone()));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A connection's errors (a client gone, a timeout) concern that connection only.
            let _ = connection.await;
        });
    }
    graceful.shutdown().await;
}

fn flatten(
    joined: Result<Result<(), ServeError>, tokio::task::JoinError>,
) -> Result<(), ServeError> {
    joined.unwrap_or(Err(ServeError::Io(std::io::ErrorKind::Other)))
}

/// Loads the daemon from `config`, binds its listeners and serves until `shutdown`: the whole of `havend`.
pub async fn run_config(
    config: Config,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let listeners = Listeners::bind(&config).await?;
    let daemon = Arc::new(Daemon::load(config)?);
    run(daemon, listeners, shutdown).await
}
