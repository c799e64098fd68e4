//! `havend`: Haven's local daemon. Serves the JSON API on 127.0.0.1:8707 (and optionally a Unix socket) and the
//! DNS filter on 127.0.0.1:5353 unless the configuration says otherwise; SIGHUP reloads profiles and lists;
//! SIGTERM or ctrl-c stops it gracefully.
#![forbid(unsafe_code)]
#![allow(clippy::print_stderr)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use haven_daemon::config::Config;
use haven_daemon::server::{Listeners, run};
use haven_daemon::state::Daemon;
use tokio::signal::unix::{SignalKind, signal};

/// havend: Haven's local daemon (JSON API, DNS filter, audit log).
#[derive(Parser)]
#[command(name = "havend", version, about, long_about = None)]
struct Args {
    /// Configuration file (TOML); without one every setting has its documented default.
    #[arg(long, env = "HAVEN_CONFIG")]
    config: Option<PathBuf>,
    /// Data directory (profiles/, parent.passphrase, audit.jsonl), overriding the configuration.
    #[arg(long, env = "HAVEN_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Directory of compiled lists (*.hvl), overriding the configuration.
    #[arg(long, env = "HAVEN_LISTS_DIR")]
    lists: Option<PathBuf>,
    /// HTTP address, overriding the configuration.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Unix socket path for the API, overriding the configuration.
    #[arg(long)]
    unix_socket: Option<PathBuf>,
    /// DNS address (UDP and TCP), overriding the configuration.
    #[arg(long)]
    dns_listen: Option<SocketAddr>,
    /// Upstream DNS resolver (repeatable), overriding the configuration.
    #[arg(long)]
    upstream: Vec<SocketAddr>,
    /// Do not run the DNS filter.
    #[arg(long)]
    no_dns: bool,
}

fn config(args: &Args) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(path) => Config::load(path).map_err(|e| format!("{}: {e}", path.display()))?,
        None => Config::default(),
    };
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(dir) = &args.lists {
        config.lists_dir = Some(dir.clone());
    }
    if let Some(addr) = args.listen {
        config.http.listen = addr;
    }
    if let Some(path) = &args.unix_socket {
        config.http.unix_socket = Some(path.clone());
    }
    if let Some(addr) = args.dns_listen {
        config.dns.listen = addr;
    }
    if !args.upstream.is_empty() {
        config.dns.upstreams = args.upstream.clone();
    }
    if args.no_dns {
        config.dns.enabled = false;
    }
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match config(&args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("havend: {e}");
            return ExitCode::from(3);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("havend: cannot start the runtime ({})", e.kind());
            return ExitCode::from(6);
        }
    };
    match runtime.block_on(serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("havend: {e}");
            ExitCode::from(6)
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let listeners = Listeners::bind(&config).await.map_err(|e| e.to_string())?;
    let unix = config.http.unix_socket.clone();
    let daemon = Arc::new(Daemon::load(config).map_err(|e| e.to_string())?);
    let (http, dns) = listeners.local_addrs();
    let snapshot = daemon.snapshot();
    eprintln!(
        "havend {}: {} profile(s), {} list(s), {} list entries",
        env!("CARGO_PKG_VERSION"),
        snapshot.profiles.len(),
        snapshot.lists.len(),
        snapshot.lists.iter().map(|l| l.entries).sum::<usize>()
    );
    if let Some(addr) = http {
        eprintln!("havend: API on http://{addr}/ (see /openapi.json)");
    }
    if let Some(path) = unix {
        eprintln!("havend: API on unix socket {}", path.display());
    }
    if let Some(addr) = dns {
        let upstreams = daemon.config().upstreams();
        eprintln!(
            "havend: DNS filter on {addr} (udp, tcp), {} upstream(s)",
            upstreams.len()
        );
    }
    if !daemon.auth.is_set() {
        eprintln!(
            "havend: no parent passphrase yet: run `haven parent set-passphrase` to enable administration"
        );
    }

    let mut hangup = signal(SignalKind::hangup()).map_err(|e| format!("signals ({})", e.kind()))?;
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|e| format!("signals ({})", e.kind()))?;
    let reloader = daemon.clone();
    tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            let daemon = reloader.clone();
            match tokio::task::spawn_blocking(move || daemon.reload()).await {
                Ok(Ok(report)) => eprintln!("havend: reloaded (generation {})", report.generation),
                Ok(Err(e)) => eprintln!("havend: reload failed, still serving the old data: {e}"),
                Err(_) => eprintln!("havend: reload task failed"),
            }
        }
    });
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        eprintln!("havend: stopping");
    };
    run(daemon, listeners, shutdown)
        .await
        .map_err(|e| e.to_string())
}
