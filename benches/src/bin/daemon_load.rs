//! Load benchmark of `havend`: URL checks per second and their latency over keep-alive HTTP/1.1 connections, and
//! DNS queries per second over UDP, both on loopback, plus the daemon's memory.
//!
//! By default it starts the release `havend` found next to this binary as a separate process, in a temporary data
//! directory, with its HTTP API and DNS filter on free loopback ports and, as the DNS filter's only upstream, a fake
//! resolver on loopback inside this process (it answers every A query with 192.0.2.1), so forwarded queries are
//! measured without the internet. `--addr HOST:PORT` loads an already running daemon instead (HTTP only, unless
//! `--dns-addr` names its DNS address too; no memory or CPU figures then).
//!
//! ```sh
//! CARGO_TARGET_DIR=/work/bench-target cargo build --release -p haven-daemon --bin havend
//! CARGO_TARGET_DIR=/work/bench-target cargo build --release -p haven-benches --bin daemon_load
//! /work/bench-target/release/daemon_load [--lists DIR] [--no-audit] [--work-dir DIR] [--client-threads 1|2]
//! ```
//!
//! Phases: every URL of the mix is first checked once and its verdict shown (a non-200 answer stops the run); then
//! `--connections` tasks (default 64), one keep-alive connection each, send `POST /v1/check/url` one after the
//! other, going round the mix from different starting points, for `--warmup` seconds (default 2) and then a measured
//! window of `--seconds` (default 10). Every request started inside the window is timed, from building the request
//! to the last byte of the body. That is a closed loop (the next check when the answer is in: the most the daemon
//! can do); `--rate N` paces the connections at N checks/s in all instead (open loop, each connection sending at
//! fixed slots whatever the answers do). Then the DNS load: `--dns-clients` UDP sockets (default 64), each sending
//! one A query and waiting up to 1 s for its answer (a loss otherwise), for 1 s of warm-up and a measured window of
//! `--dns-seconds` (default 5), separately for blocked names (answered by the daemon), SafeSearch names (a CNAME
//! plus the target's address from upstream) and forwarded names (relayed to the fake upstream). The report is
//! Markdown on stdout; progress goes to stderr.
//!
//! The load generator runs on a tokio runtime of `--client-threads` workers (default 2; 1 means a current-thread
//! runtime). On the 2-core machine of `benches/README.md` two workers gave more checks per second than one: a
//! single client thread left part of the CPU idle whenever it was descheduled. The fake upstream answers on a
//! thread of its own.

// This binary's whole purpose is to print a report to the terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::error::Error;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener, UdpSocket as StdUdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, Query};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpStream, UdpSocket};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The address the fake upstream answers every A query with.
const UPSTREAM_ANSWER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// How long a DNS client waits for an answer before counting the query as lost.
const DNS_TIMEOUT: Duration = Duration::from_secs(1);
/// DNS warm-up per kind of name.
const DNS_WARMUP: Duration = Duration::from_secs(1);

/// The URL mix: allowed sites, blocked sites on the built-in lists, and searches that SafeSearch rewrites.
const URLS: &[&str] = &[
    // Allowed for the default (under-9) profile.
    "https://www.wikipedia.org/",
    "https://en.wikipedia.org/wiki/Octopus",
    "https://en.wikipedia.org/wiki/Rust_(programming_language)?action=history",
    "https://www.bbc.co.uk/news/science_and_environment",
    "https://github.com/rust-lang/rust/issues?q=is%3Aissue+is%3Aopen",
    "https://www.rust-lang.org/learn",
    "https://docs.rs/tokio/latest/tokio/net/struct.TcpStream.html",
    "https://www.khanacademy.org/math/algebra/x2f8bb11595b61c86:solve-equations-inequalities",
    "https://www.nasa.gov/missions/artemis/",
    "https://www.nationalgeographic.com/animals/mammals/facts/giraffe",
    "https://www.amazon.com/dp/B08N5WRWNW?ref=ppx_yo2ov_dt_b_product_details",
    "https://www.nytimes.com/section/science",
    "https://weather.com/weather/today/l/London+England",
    "https://www.lego.com/en-us/themes/star-wars",
    "https://scratch.mit.edu/projects/editor/?tutorial=getStarted",
    "https://www.duolingo.com/learn",
    "https://pbskids.org/games/",
    "https://stackoverflow.com/questions/tagged/rust?tab=Votes",
    "https://www.britannica.com/animal/octopus-mollusk",
    "https://www.apple.com/ipad/",
    "https://cdn.jsdelivr.net/npm/react@18/umd/react.production.min.js",
    "https://fonts.googleapis.com/css2?family=Roboto:wght@400;700&display=swap",
    "http://example.com/",
    "https://www.bbc.com/weather/2643743",
    // Blocked: gambling, social media, dating and bypass tools on the built-in lists.
    "https://www.bet365.com/#/AS/B1/",
    "https://www.pokerstars.com/poker/games/",
    "https://www.888casino.com/slots/",
    "https://sports.draftkings.com/leagues/football/nfl",
    "https://stake.com/casino/home",
    "https://www.instagram.com/explore/",
    "https://www.tiktok.com/@nasa/video/7212345678901234567",
    "https://bumble.com/en/",
    // SafeSearch: searches on the big engines.
    "https://www.google.com/search?q=octopus+facts",
    "https://www.google.co.uk/search?q=how+tall+is+a+giraffe&safe=off",
    "https://www.bing.com/search?q=volcano+for+kids",
    "https://duckduckgo.com/?q=lego+star+wars",
];

/// DNS names answered by the daemon itself (blocked: sinkholed).
const DNS_BLOCKED: &[&str] = &[
    "www.bet365.com.",
    "pokerstars.com.",
    "www.888casino.com.",
    "stake.com.",
    "www.instagram.com.",
    "www.tiktok.com.",
    "bumble.com.",
    "dns.google.",
];
/// DNS names the daemon relays to the upstream.
const DNS_FORWARDED: &[&str] = &[
    "www.wikipedia.org.",
    "en.wikipedia.org.",
    "www.bbc.co.uk.",
    "github.com.",
    "www.rust-lang.org.",
    "docs.rs.",
    "www.khanacademy.org.",
    "www.nasa.gov.",
];
/// DNS names SafeSearch answers with a CNAME, the target resolved upstream.
const DNS_SAFESEARCH: &[&str] = &[
    "www.google.com.",
    "www.bing.com.",
    "duckduckgo.com.",
    "www.youtube.com.",
];

/// Command-line options.
struct Options {
    /// HTTP address of a running daemon to load instead of starting one.
    addr: Option<SocketAddr>,
    /// DNS address of that daemon.
    dns_addr: Option<SocketAddr>,
    /// The `havend` binary to start.
    havend: Option<PathBuf>,
    /// `--lists DIR` for `havend`.
    lists: Option<PathBuf>,
    /// Start `havend` with the audit log off.
    no_audit: bool,
    /// Where the daemon's temporary data directory is made (default: the system's temporary directory).
    work_dir: Option<PathBuf>,
    warmup: Duration,
    seconds: Duration,
    dns_seconds: Duration,
    connections: usize,
    /// Total checks per second to pace the connections at (open loop); `None`: each connection sends its next
    /// check as soon as the previous answer is in (closed loop, the most the daemon can do).
    rate: Option<f64>,
    client_threads: usize,
    dns_clients: usize,
    skip_http: bool,
    skip_dns: bool,
}

const USAGE: &str = "usage: daemon_load [--addr HOST:PORT [--dns-addr HOST:PORT]] [--havend PATH] [--lists DIR] \
[--no-audit] [--work-dir DIR] [--seconds N] [--warmup N] [--dns-seconds N] [--connections N] \
[--rate CHECKS_PER_S] [--client-threads N] [--dns-clients N] [--no-http] [--no-dns]";

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            addr: None,
            dns_addr: None,
            havend: None,
            lists: None,
            no_audit: false,
            work_dir: None,
            warmup: Duration::from_secs(2),
            seconds: Duration::from_secs(10),
            dns_seconds: Duration::from_secs(5),
            connections: 64,
            rate: None,
            client_threads: 2,
            dns_clients: 64,
            skip_http: false,
            skip_dns: false,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .map(String::as_str)
                    .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
            };
            let secs =
                |v: &str| -> Result<Duration> { Ok(Duration::from_secs_f64(v.parse::<f64>()?)) };
            match flag.as_str() {
                "--addr" => options.addr = Some(value()?.parse()?),
                "--dns-addr" => options.dns_addr = Some(value()?.parse()?),
                "--havend" => options.havend = Some(PathBuf::from(value()?)),
                "--lists" => options.lists = Some(PathBuf::from(value()?)),
                "--no-audit" => options.no_audit = true,
                "--work-dir" => options.work_dir = Some(PathBuf::from(value()?)),
                "--seconds" => options.seconds = secs(value()?)?,
                "--warmup" => options.warmup = secs(value()?)?,
                "--dns-seconds" => options.dns_seconds = secs(value()?)?,
                "--connections" => options.connections = value()?.parse()?,
                "--rate" => options.rate = Some(value()?.parse()?).filter(|r: &f64| *r > 0.0),
                "--client-threads" => options.client_threads = value()?.parse()?,
                "--dns-clients" => options.dns_clients = value()?.parse()?,
                "--no-http" => options.skip_http = true,
                "--no-dns" => options.skip_dns = true,
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
            }
        }
        if options.connections == 0 || options.client_threads == 0 || options.dns_clients == 0 {
            return Err(
                "--connections, --client-threads and --dns-clients must be at least 1".into(),
            );
        }
        Ok(options)
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = Options::parse(&args).and_then(|options| {
        let runtime = if options.client_threads == 1 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(options.client_threads)
                .enable_all()
                .build()?
        };
        runtime.block_on(report(&options))
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("daemon_load: {e}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The daemon under test.

/// A `havend` child process, stopped (SIGTERM, then SIGKILL) when dropped.
struct Havend {
    child: Child,
    dir: PathBuf,
}

impl Havend {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("havend.log")).unwrap_or_default()
    }
}

impl Drop for Havend {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A free loopback TCP port (the listener is closed again, so another process could take it; unlikely here).
fn free_tcp_port() -> Result<SocketAddr> {
    Ok(StdTcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?)
}

/// A loopback port free for both UDP and TCP.
fn free_dns_port() -> Result<SocketAddr> {
    for _ in 0..20 {
        let udp = StdUdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = udp.local_addr()?;
        if StdTcpListener::bind(addr).is_ok() {
            return Ok(addr);
        }
    }
    Err("no free loopback port for DNS".into())
}

fn default_havend() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .ok_or("the benchmark binary has no directory")?;
    let havend = dir.join("havend");
    if havend.is_file() {
        Ok(havend)
    } else {
        Err(format!(
            "{} not found: build it with `cargo build --release -p haven-daemon --bin havend` (same \
             CARGO_TARGET_DIR), or pass --havend PATH",
            havend.display()
        )
        .into())
    }
}

/// Starts `havend` and waits until `/healthz` answers.
async fn start_havend(
    options: &Options,
    upstream: SocketAddr,
) -> Result<(Havend, SocketAddr, SocketAddr)> {
    let binary = match &options.havend {
        Some(path) => path.clone(),
        None => default_havend()?,
    };
    let dir = options
        .work_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("haven-daemon-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data"))?;
    let http = free_tcp_port()?;
    let dns = free_dns_port()?;
    let log = std::fs::File::create(dir.join("havend.log"))?;
    let mut command = Command::new(&binary);
    command
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["--listen", &http.to_string()])
        .args(["--dns-listen", &dns.to_string()])
        .args(["--upstream", &upstream.to_string()]);
    if let Some(lists) = &options.lists {
        command.arg("--lists").arg(lists);
    }
    if options.no_audit {
        let config = dir.join("havend.toml");
        std::fs::write(&config, "[audit]\nenabled = false\n")?;
        command.arg("--config").arg(config);
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
    let mut havend = Havend { child, dir };
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = havend.child.try_wait() {
            return Err(format!("havend exited ({status}) at start:\n{}", havend.log()).into());
        }
        if let Ok(reply) = request(http, Method::GET, "/healthz", None).await
            && reply.0 == StatusCode::OK
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!("havend not ready after 60 s:\n{}", havend.log()).into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!(
        "havend ready in {:.0} ms (pid {}): {}",
        started.elapsed().as_secs_f64() * 1e3,
        havend.pid(),
        havend.log().trim().replace('\n', " | ")
    );
    Ok((havend, http, dns))
}

/// `VmRSS` and `VmHWM` of a process, in bytes.
fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// User plus system CPU time of a process (`self` or a pid), from `/proc/PID/stat` (clock ticks of 10 ms, the
/// Linux default `CLK_TCK` of 100).
fn cpu_time(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: the fields after it are split from its end.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name (state is field 3).
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// CPU time of the daemon and of this process, to say how the two cores were shared over a window.
struct CpuMeter {
    daemon: Option<String>,
    start: Instant,
    daemon_cpu: Option<Duration>,
    own_cpu: Option<Duration>,
}

impl CpuMeter {
    fn start(daemon: Option<u32>) -> CpuMeter {
        let daemon = daemon.map(|pid| pid.to_string());
        CpuMeter {
            daemon_cpu: daemon.as_deref().and_then(cpu_time),
            own_cpu: cpu_time("self"),
            daemon,
            start: Instant::now(),
        }
    }

    /// Cores used by (daemon, load generator) since the start.
    fn cores(&self) -> (Option<f64>, Option<f64>) {
        let wall = self.start.elapsed().as_secs_f64();
        let used = |now: Option<Duration>, then: Option<Duration>| {
            Some(now?.saturating_sub(then?).as_secs_f64() / wall)
        };
        (
            used(self.daemon.as_deref().and_then(cpu_time), self.daemon_cpu),
            used(cpu_time("self"), self.own_cpu),
        )
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The fake upstream resolver.

/// Answers every query on a loopback UDP socket, A questions with [`UPSTREAM_ANSWER`], on its own thread.
fn fake_upstream() -> Result<SocketAddr> {
    let socket = StdUdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = socket.local_addr()?;
    std::thread::Builder::new()
        .name("fake-upstream".to_owned())
        .spawn(move || {
            let mut buf = vec![0_u8; 4096];
            loop {
                let Ok((len, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Some(Ok(query)) = buf.get(..len).map(Message::from_vec) else {
                    continue;
                };
                let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
                reply.metadata.recursion_desired = query.metadata.recursion_desired;
                reply.metadata.recursion_available = true;
                for q in &query.queries {
                    reply.add_query(q.clone());
                    if q.query_type() == RecordType::A {
                        reply.add_answer(Record::from_rdata(
                            q.name().clone(),
                            300,
                            RData::A(A(UPSTREAM_ANSWER)),
                        ));
                    }
                }
                if let Ok(bytes) = reply.to_vec() {
                    let _ = socket.send_to(&bytes, from);
                }
            }
        })?;
    Ok(addr)
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP.

/// One request on a fresh connection: (status, body).
async fn request(
    addr: SocketAddr,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<(StatusCode, Bytes)> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut builder = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let request = builder.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    Ok((status, body))
}

fn check_body(url: &str) -> Bytes {
    Bytes::from(serde_json::json!({ "url": url }).to_string())
}

/// Checks every URL of the mix once; returns each verdict's action and fails on any non-200 answer.
async fn probe(addr: SocketAddr) -> Result<Vec<String>> {
    let mut actions = Vec::new();
    for url in URLS {
        let body = serde_json::json!({ "url": url }).to_string();
        let (status, reply) = request(addr, Method::POST, "/v1/check/url", Some(body)).await?;
        let text = String::from_utf8_lossy(&reply);
        if status != StatusCode::OK {
            return Err(format!("{url}: {status} {text}").into());
        }
        let json: serde_json::Value = serde_json::from_slice(&reply)?;
        let action = json
            .pointer("/verdict/action")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| format!("{url}: no verdict.action in {text}"))?
            .to_owned();
        let rewritten = json
            .pointer("/verdict/rewrite")
            .or_else(|| json.pointer("/verdict/redirect"))
            .and_then(serde_json::Value::as_str)
            .map(|r| format!(" -> {r}"))
            .unwrap_or_default();
        eprintln!("  {action:<8} {url}{rewritten}");
        actions.push(action);
    }
    Ok(actions)
}

/// What one connection saw in the measured window.
#[derive(Default)]
struct ConnResult {
    latencies_us: Vec<u32>,
    non_200: u64,
    errors: u64,
    /// Paced sends that started a whole interval or more after their slot.
    late: u64,
    first_problem: Option<String>,
}

/// One keep-alive connection sending checks one after the other until `end`; requests started at or after
/// `measure_from` are recorded.
async fn connection(
    addr: SocketAddr,
    bodies: Arc<Vec<Bytes>>,
    first: usize,
    pace: Option<(Instant, Duration)>,
    measure_from: Instant,
    end: Instant,
) -> ConnResult {
    let mut result = ConnResult {
        latencies_us: Vec::with_capacity(1 << 16),
        ..ConnResult::default()
    };
    let mut next = first;
    let mut pace = pace;
    'connect: while Instant::now() < end {
        let connected = async {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(connection);
            Ok::<_, Box<dyn Error + Send + Sync>>(sender)
        }
        .await;
        let mut sender = match connected {
            Ok(sender) => sender,
            Err(e) => {
                result.errors += 1;
                result.first_problem.get_or_insert(format!("connect: {e}"));
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        loop {
            if let Some((slot, interval)) = &mut pace {
                if *slot >= end {
                    break 'connect;
                }
                tokio::time::sleep_until((*slot).into()).await;
                // Sends a whole slot or more behind: the previous answer came too late to keep the schedule (tokio's
                // 1 ms timer alone makes most sends up to 1 ms late).
                if *slot >= measure_from && slot.elapsed() >= *interval {
                    result.late += 1;
                }
                *slot += *interval;
            }
            let started = Instant::now();
            if started >= end {
                break 'connect;
            }
            let body = bodies.get(next % bodies.len()).cloned().unwrap_or_default();
            next += 1;
            let request = Request::builder()
                .method(Method::POST)
                .uri("/v1/check/url")
                .header("host", "localhost")
                .header("content-type", "application/json")
                .body(Full::new(body));
            let Ok(request) = request else {
                result.errors += 1;
                continue;
            };
            let exchange = async {
                let response = sender.send_request(request).await?;
                let status = response.status();
                let body = response.into_body().collect().await?.to_bytes();
                Ok::<_, hyper::Error>((status, body))
            }
            .await;
            let elapsed = started.elapsed();
            let measured = started >= measure_from;
            match exchange {
                Ok((status, body)) => {
                    if measured {
                        result
                            .latencies_us
                            .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
                        if status != StatusCode::OK {
                            result.non_200 += 1;
                            result.first_problem.get_or_insert_with(|| {
                                format!("{status} {}", String::from_utf8_lossy(&body))
                            });
                        }
                    }
                }
                Err(e) => {
                    if measured {
                        result.errors += 1;
                        result.first_problem.get_or_insert(format!("request: {e}"));
                    }
                    // The connection is unusable: open another.
                    continue 'connect;
                }
            }
        }
    }
    result
}

/// Latency percentiles (nearest rank) over sorted microseconds.
struct Percentiles {
    p50: u32,
    p90: u32,
    p99: u32,
    p999: u32,
    max: u32,
}

impl Percentiles {
    fn of(sorted: &[u32]) -> Percentiles {
        let at = |q: f64| -> u32 {
            if sorted.is_empty() {
                return 0;
            }
            let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            sorted.get(rank - 1).copied().unwrap_or(0)
        };
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: sorted.last().copied().unwrap_or(0),
        }
    }
}

fn ms(us: u32) -> String {
    format!("{:.2}", f64::from(us) / 1000.0)
}

struct HttpReport {
    requests: usize,
    per_second: f64,
    percentiles: Percentiles,
    non_200: u64,
    errors: u64,
    late: u64,
    first_problem: Option<String>,
    daemon_cores: Option<f64>,
    client_cores: Option<f64>,
}

async fn http_load(options: &Options, addr: SocketAddr, daemon: Option<u32>) -> Result<HttpReport> {
    let bodies: Arc<Vec<Bytes>> = Arc::new(URLS.iter().map(|u| check_body(u)).collect());
    let start = Instant::now();
    let measure_from = start + options.warmup;
    let end = measure_from + options.seconds;
    let mut tasks = tokio::task::JoinSet::new();
    // With --rate, each connection sends at fixed slots, the connections' slots interleaved.
    let interval = options
        .rate
        .map(|rate| Duration::from_secs_f64(options.connections as f64 / rate));
    for i in 0..options.connections {
        // Spread the starting points over the mix so that every moment sees the whole mix.
        let first = i * URLS.len() / options.connections.max(1) + i;
        let pace = interval.map(|interval| {
            let offset = interval.mul_f64(i as f64 / options.connections as f64);
            (start + offset, interval)
        });
        tasks.spawn(connection(
            addr,
            bodies.clone(),
            first,
            pace,
            measure_from,
            end,
        ));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu = CpuMeter::start(daemon);
    tokio::time::sleep_until(end.into()).await;
    let (daemon_cores, client_cores) = cpu.cores();
    let mut all = Vec::new();
    let (mut non_200, mut errors, mut late, mut first_problem) = (0, 0, 0, None);
    while let Some(joined) = tasks.join_next().await {
        let result = joined?;
        all.extend_from_slice(&result.latencies_us);
        non_200 += result.non_200;
        errors += result.errors;
        late += result.late;
        if first_problem.is_none() {
            first_problem = result.first_problem;
        }
    }
    all.sort_unstable();
    Ok(HttpReport {
        requests: all.len(),
        per_second: all.len() as f64 / options.seconds.as_secs_f64(),
        percentiles: Percentiles::of(&all),
        non_200,
        errors,
        late,
        first_problem,
        daemon_cores,
        client_cores,
    })
}

// ---------------------------------------------------------------------------------------------------------------
// DNS.

/// What the answers to one kind of name must hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// The sinkhole address 0.0.0.0.
    Sinkhole,
    /// The upstream's address (possibly after a CNAME).
    Upstream,
}

fn dns_query(name: &str) -> Result<Vec<u8>> {
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(Name::from_ascii(name)?, RecordType::A));
    Ok(query.to_vec()?)
}

/// Asks each name once, parses the answer fully and checks it holds the expected address.
async fn dns_probe(server: SocketAddr, names: &[&str], expect: Expect) -> Result<()> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    socket.connect(server).await?;
    let mut buf = vec![0_u8; 4096];
    for name in names {
        socket.send(&dns_query(name)?).await?;
        let len = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
            .await
            .map_err(|_| format!("{name}: no DNS answer within 5 s"))??;
        let reply = Message::from_vec(buf.get(..len).unwrap_or_default())?;
        let addresses: Vec<Ipv4Addr> = reply
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::A(a) => Some(a.0),
                _ => None,
            })
            .collect();
        let want = match expect {
            Expect::Sinkhole => Ipv4Addr::UNSPECIFIED,
            Expect::Upstream => UPSTREAM_ANSWER,
        };
        if addresses != [want] {
            return Err(format!(
                "{name}: expected {want}, got {addresses:?} ({:?}, {} answers)",
                reply.metadata.response_code,
                reply.answers.len()
            )
            .into());
        }
    }
    Ok(())
}

#[derive(Default)]
struct DnsClientResult {
    latencies_us: Vec<u32>,
    losses: u64,
    bad: u64,
    errors: u64,
}

/// One UDP client: a query, wait for its answer (or [`DNS_TIMEOUT`]), the next query.
async fn dns_client(
    server: SocketAddr,
    queries: Arc<Vec<Vec<u8>>>,
    first: usize,
    measure_from: Instant,
    end: Instant,
) -> DnsClientResult {
    let mut result = DnsClientResult {
        latencies_us: Vec::with_capacity(1 << 15),
        ..DnsClientResult::default()
    };
    let socket = match UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await {
        Ok(socket) => socket,
        Err(_) => {
            result.errors += 1;
            return result;
        }
    };
    if socket.connect(server).await.is_err() {
        result.errors += 1;
        return result;
    }
    let mut buf = vec![0_u8; 4096];
    let mut next = first;
    // Message ids: distinct per client socket, so a late answer to a lost query is recognised and skipped.
    let mut id: u16 = (first as u16).wrapping_mul(7919);
    loop {
        let started = Instant::now();
        if started >= end {
            break;
        }
        let measured = started >= measure_from;
        let Some(template) = queries.get(next % queries.len()) else {
            break;
        };
        next += 1;
        id = id.wrapping_add(1);
        let mut query = template.clone();
        if let Some(header) = query.get_mut(..2) {
            header.copy_from_slice(&id.to_be_bytes());
        }
        if socket.send(&query).await.is_err() {
            result.errors += 1;
            continue;
        }
        let deadline = started + DNS_TIMEOUT;
        let answered = loop {
            match tokio::time::timeout_at(deadline.into(), socket.recv(&mut buf)).await {
                Err(_) => break None,
                Ok(Err(_)) => {
                    result.errors += 1;
                    break None;
                }
                Ok(Ok(len)) => {
                    let reply = buf.get(..len).unwrap_or_default();
                    if reply.get(..2) == Some(&id.to_be_bytes()[..]) {
                        break Some(reply);
                    }
                    // A late answer to an earlier query: keep waiting for this one.
                }
            }
        };
        let elapsed = started.elapsed();
        if !measured {
            continue;
        }
        match answered {
            None => result.losses += 1,
            Some(reply) => {
                result
                    .latencies_us
                    .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
                // RCODE (low 4 bits of byte 3) must be NOERROR and ANCOUNT (bytes 6-7) non-zero.
                let rcode = reply.get(3).map(|b| b & 0x0f);
                let answers = reply
                    .get(6..8)
                    .and_then(|b| <[u8; 2]>::try_from(b).ok())
                    .map(u16::from_be_bytes);
                if rcode != Some(0) || answers.unwrap_or(0) == 0 {
                    result.bad += 1;
                }
            }
        }
    }
    result
}

struct DnsReport {
    kind: &'static str,
    queries: usize,
    per_second: f64,
    percentiles: Percentiles,
    losses: u64,
    bad: u64,
    errors: u64,
    daemon_cores: Option<f64>,
    client_cores: Option<f64>,
}

async fn dns_load(
    options: &Options,
    server: SocketAddr,
    daemon: Option<u32>,
    kind: &'static str,
    names: &[&str],
    expect: Expect,
) -> Result<DnsReport> {
    dns_probe(server, names, expect).await?;
    let queries: Arc<Vec<Vec<u8>>> =
        Arc::new(names.iter().map(|n| dns_query(n)).collect::<Result<_>>()?);
    let start = Instant::now();
    let measure_from = start + DNS_WARMUP;
    let end = measure_from + options.dns_seconds;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..options.dns_clients {
        tasks.spawn(dns_client(server, queries.clone(), i, measure_from, end));
    }
    tokio::time::sleep_until(measure_from.into()).await;
    let cpu = CpuMeter::start(daemon);
    tokio::time::sleep_until(end.into()).await;
    let (daemon_cores, client_cores) = cpu.cores();
    let mut all = Vec::new();
    let (mut losses, mut bad, mut errors) = (0, 0, 0);
    while let Some(joined) = tasks.join_next().await {
        let result = joined?;
        all.extend_from_slice(&result.latencies_us);
        losses += result.losses;
        bad += result.bad;
        errors += result.errors;
    }
    all.sort_unstable();
    Ok(DnsReport {
        kind,
        queries: all.len(),
        per_second: all.len() as f64 / options.dns_seconds.as_secs_f64(),
        percentiles: Percentiles::of(&all),
        losses,
        bad,
        errors,
        daemon_cores,
        client_cores,
    })
}

// ---------------------------------------------------------------------------------------------------------------
// The report.

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn cores(c: Option<f64>) -> String {
    c.map_or_else(|| "–".to_owned(), |c| format!("{c:.2}"))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// The `haven_*` metric lines that point at trouble (failures, drops, non-200 statuses), non-zero only.
async fn trouble_metrics(addr: SocketAddr) -> Vec<String> {
    let Ok((_, body)) = request(addr, Method::GET, "/metrics", None).await else {
        return vec!["(no /metrics)".to_owned()];
    };
    String::from_utf8_lossy(&body)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            let interesting = ["fail", "drop", "malformed", "error", "timeout"]
                .iter()
                .any(|w| l.contains(w))
                || (l.contains("status=\"")
                    && !l.contains("status=\"200\"")
                    && !l.contains("_bucket"));
            let zero = l.rsplit(' ').next().is_some_and(|v| v == "0");
            interesting && !zero
        })
        .map(str::to_owned)
        .collect()
}

async fn report(options: &Options) -> Result<()> {
    let upstream = fake_upstream()?;
    let mut havend = None;
    let (http, dns) = match options.addr {
        Some(addr) => (addr, options.dns_addr),
        None => {
            let (daemon, http, dns) = start_havend(options, upstream).await?;
            havend = Some(daemon);
            (http, Some(dns))
        }
    };
    let pid = havend.as_ref().map(Havend::pid);
    let idle_memory = pid.and_then(memory);
    let load_at_start = load_average();

    let mut out = String::new();
    let config = format!(
        "{}lists: {}, audit: {}{}",
        if options.addr.is_some() {
            "running daemon, "
        } else {
            ""
        },
        options.lists.as_deref().map_or_else(
            || "built-in".to_owned(),
            |d| format!("built-in + {}", d.display())
        ),
        if options.addr.is_some() {
            "as configured"
        } else if options.no_audit {
            "off"
        } else {
            "on (default)"
        },
        options
            .work_dir
            .as_deref()
            .map_or_else(String::new, |d| format!(", data dir under {}", d.display()))
    );
    writeln!(out, "### havend load: {config}\n")?;

    if !options.skip_http {
        eprintln!(
            "URL mix ({} URLs), verdicts for the default profile:",
            URLS.len()
        );
        let actions = probe(http).await?;
        let share = |a: &str| actions.iter().filter(|x| x.as_str() == a).count();
        let mut kinds: Vec<&str> = actions.iter().map(String::as_str).collect();
        kinds.sort_unstable();
        kinds.dedup();
        let mix: Vec<String> = kinds
            .iter()
            .map(|k| format!("{k} {}/{}", share(k), actions.len()))
            .collect();
        eprintln!(
            "HTTP: {} connections, {} client thread(s), {:.0} s warm-up, {:.0} s measured",
            options.connections,
            options.client_threads,
            options.warmup.as_secs_f64(),
            options.seconds.as_secs_f64()
        );
        let r = http_load(options, http, pid).await?;
        writeln!(
            out,
            "URL mix: {} URLs, verdicts {}. {} connections{}, {} client thread(s), {:.0} s measured after {:.0} s \
             warm-up.\n",
            URLS.len(),
            mix.join(", "),
            options.connections,
            options.rate.map_or_else(
                || " (closed loop: next check when the answer is in)".to_owned(),
                |rate| format!(
                    " paced at {rate:.0} checks/s in all (open loop; {} of the measured sends started a whole \
                     slot, {:.1} ms, or more late)",
                    r.late,
                    options.connections as f64 / rate * 1e3
                )
            ),
            options.client_threads,
            options.seconds.as_secs_f64(),
            options.warmup.as_secs_f64()
        )?;
        writeln!(
            out,
            "| checks | checks/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | non-200 | errors | daemon CPU \
             (cores) | load generator CPU (cores) |"
        )?;
        writeln!(
            out,
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        )?;
        let p = &r.percentiles;
        writeln!(
            out,
            "| {} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.requests,
            r.per_second,
            ms(p.p50),
            ms(p.p90),
            ms(p.p99),
            ms(p.p999),
            ms(p.max),
            r.non_200,
            r.errors,
            cores(r.daemon_cores),
            cores(r.client_cores)
        )?;
        if let Some(problem) = &r.first_problem {
            writeln!(
                out,
                "First problem seen: `{}`\n",
                problem.replace('\n', " ")
            )?;
        }
        eprintln!(
            "HTTP done: {:.0} checks/s, p99 {} ms",
            r.per_second,
            ms(p.p99)
        );
    }
    let after_http = pid.and_then(memory);

    if !options.skip_dns
        && let Some(dns) = dns
    {
        let mut rows = Vec::new();
        for (kind, names, expect) in [
            ("blocked (local answer)", DNS_BLOCKED, Expect::Sinkhole),
            ("forwarded (fake upstream)", DNS_FORWARDED, Expect::Upstream),
            (
                "SafeSearch (CNAME + upstream)",
                DNS_SAFESEARCH,
                Expect::Upstream,
            ),
        ] {
            eprintln!("DNS: {kind}, {} clients", options.dns_clients);
            rows.push(dns_load(options, dns, pid, kind, names, expect).await?);
        }
        writeln!(
            out,
            "DNS over UDP: {} clients, one query in flight each, {:.0} s measured after {:.0} s warm-up, 1 s \
             timeout = loss.\n",
            options.dns_clients,
            options.dns_seconds.as_secs_f64(),
            DNS_WARMUP.as_secs_f64()
        )?;
        writeln!(
            out,
            "| names | queries | queries/s | p50 ms | p99 ms | max ms | losses | bad answers | daemon CPU (cores) | \
             load generator CPU (cores) |"
        )?;
        writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")?;
        for r in &rows {
            let p = &r.percentiles;
            writeln!(
                out,
                "| {} | {} | {:.0} | {} | {} | {} | {} | {}{} | {} | {} |",
                r.kind,
                r.queries,
                r.per_second,
                ms(p.p50),
                ms(p.p99),
                ms(p.max),
                r.losses,
                r.bad,
                if r.errors > 0 {
                    format!(" ({} socket errors)", r.errors)
                } else {
                    String::new()
                },
                cores(r.daemon_cores),
                cores(r.client_cores)
            )?;
        }
        writeln!(out)?;
    }

    if let Some(pid) = pid {
        let end_memory = memory(pid);
        let show = |m: Option<(u64, u64)>| m.map_or_else(|| "–".to_owned(), |(rss, _)| mib(rss));
        writeln!(
            out,
            "havend memory: VmRSS idle after start {}, after the HTTP load {}, at the end {}; VmHWM {}.\n",
            show(idle_memory),
            show(after_http),
            show(end_memory),
            end_memory.map_or_else(|| "–".to_owned(), |(_, hwm)| mib(hwm))
        )?;
    }
    let trouble = trouble_metrics(http).await;
    if trouble.is_empty() {
        writeln!(
            out,
            "Daemon metrics: no failures, drops or non-200 statuses."
        )?;
    } else {
        writeln!(
            out,
            "Daemon metrics pointing at trouble:\n\n```\n{}\n```",
            trouble.join("\n")
        )?;
    }
    if let Some(daemon) = &havend {
        let audit = daemon.dir.join("data/audit.jsonl");
        if let Ok(meta) = std::fs::metadata(&audit) {
            let rotated = (1..10)
                .filter(|n| daemon.dir.join(format!("data/audit.jsonl.{n}")).exists())
                .count();
            writeln!(
                out,
                "Audit log: live file {} ({} rotated file(s)).",
                mib(meta.len()),
                rotated
            )?;
        }
    }
    writeln!(
        out,
        "Load average at start {load_at_start}, at the end {}.",
        load_average()
    )?;
    if let Some(mut daemon) = havend {
        daemon.stop();
        let log = daemon.log();
        let unusual: Vec<&str> = log
            .lines()
            .filter(|l| {
                !l.contains("API on") && !l.contains("DNS filter on") && !l.contains("profile(s)")
            })
            .filter(|l| !l.contains("passphrase") && !l.contains("stopping"))
            .collect();
        if !unusual.is_empty() {
            writeln!(
                out,
                "\nhavend's stderr:\n\n```\n{}\n```",
                unusual.join("\n")
            )?;
        }
    }
    print!("{out}");
    Ok(())
}
