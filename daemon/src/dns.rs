//! The DNS filter: a small forwarding resolver that applies Haven's policy to every query.
//!
//! [`serve_udp`] and [`serve_tcp`] answer DNS queries (normally on loopback or the LAN address of the device)
//! until their `shutdown` future completes. For every query the first (and only) question's name is handed,
//! lower-cased and without the trailing dot, to a [`DnsPolicy`] together with the client's address, and the
//! [`DnsDecision`] says what happens:
//!
//! - [`DnsDecision::Forward`]: the query is relayed to the upstream resolvers of [`DnsOptions::upstreams`], tried
//!   in order, each for at most [`DnsOptions::upstream_timeout`]. UDP clients are forwarded over UDP (falling back
//!   to TCP when the upstream answer is truncated), TCP clients over TCP. Every upstream exchange uses a fresh
//!   socket on a random port and a fresh random message id, and the answer is accepted only if its id and
//!   question match; the answer's bytes (EDNS included) are then relayed with the client's id. When no upstream
//!   answers, the client gets SERVFAIL.
//! - [`DnsDecision::Block`]: the query is answered locally as [`DnsOptions::blocked_answer`] says: a sinkhole
//!   address (A and AAAA queries; other types get an empty NOERROR answer) or NXDOMAIN.
//! - [`DnsDecision::NxDomain`]: NXDOMAIN whatever the blocked-answer setting (canary domains such as
//!   `use-application-dns.net`, which tell browsers not to switch to their own DNS-over-HTTPS).
//! - [`DnsDecision::Cname`]: a CNAME to the given target (SafeSearch), followed, for A and AAAA queries, by the
//!   target's records of the same type resolved upstream. If the upstream resolution fails the CNAME is sent
//!   alone (never SERVFAIL, which would make many clients retry on a secondary, unfiltered resolver).
//!
//! Malformed queries are answered FORMERR with the query's id when at least the header can be read, and dropped
//! otherwise; messages that are responses are dropped; opcodes other than QUERY get NOTIMP. All DNS parsing and
//! serialisation is done by `hickory-proto`; the only byte-level edit is the 16-bit message id of relayed
//! messages.
//!
//! Every UDP datagram is handled in its own task (at most [`MAX_UDP_IN_FLIGHT`] at once; further datagrams are
//! dropped and counted in [`DnsStats::dropped`]), so a slow upstream never holds up other queries. Each TCP
//! connection gets its own task (at most [`MAX_TCP_CONNECTIONS`]); it may carry several queries, up to
//! [`MAX_TCP_PIPELINE`] of them processed concurrently and answered as they complete, and it is closed after
//! [`DnsOptions::tcp_idle_timeout`] without a complete query. Queries longer than [`MAX_QUERY_LEN`] bytes are
//! refused.
//!
//! Privacy: nothing here logs, and no error carries a query name.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_proto::op::{Edns, Header, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::timeout;

/// The most UDP queries handled at once; datagrams arriving beyond this are dropped (the client retries).
pub const MAX_UDP_IN_FLIGHT: usize = 1024;
/// The most TCP connections served at once; connections beyond this are closed straight away.
pub const MAX_TCP_CONNECTIONS: usize = 256;
/// The most queries of one TCP connection processed at once; the connection is not read further meanwhile.
pub const MAX_TCP_PIPELINE: usize = 16;
/// The longest query accepted, in bytes (UDP datagram or TCP message); real queries are far shorter.
pub const MAX_QUERY_LEN: usize = 4096;

/// The largest UDP answer read from an upstream or sent to a client.
const MAX_UDP_ANSWER: usize = 4096;
/// The payload size announced in the OPT record of synthesized answers (the DNS flag day 2020 value).
const RESPONSE_EDNS_PAYLOAD: u16 = 1232;
/// How long a TCP write to a client may take before the connection is dropped.
const TCP_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pause after an unexpected socket error before trying again (e.g. out of file descriptors).
const ERROR_BACKOFF: Duration = Duration::from_millis(100);
/// Consecutive unexpected socket errors after which a server gives up and returns the error.
const MAX_CONSECUTIVE_ERRORS: u32 = 100;

/// What the filter does with one query name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsDecision {
    /// Relay the query to the upstream resolvers unchanged.
    Forward,
    /// Blocked by policy: answer with the configured blocked answer (sinkhole address or NXDOMAIN).
    Block,
    /// Answer NXDOMAIN whatever the blocked-answer setting (canary domains such as use-application-dns.net).
    NxDomain,
    /// Answer with a CNAME to this name (SafeSearch), followed by the target's A/AAAA records resolved upstream.
    ///
    /// The target is a domain name in ASCII (punycode), with or without the trailing dot. A target that is not a
    /// valid name is answered as [`DnsDecision::Block`]; a target equal to the query name is forwarded.
    Cname(String),
}

/// Decides per client and name. Implemented by the daemon's state (profiles, lists); tests implement it simply.
///
/// Any `Fn(IpAddr, &str) -> DnsDecision` closure that is `Send + Sync + 'static` is a policy.
pub trait DnsPolicy: Send + Sync + 'static {
    /// `client` is the querying address; `name` is the query name lower-cased without the trailing dot.
    ///
    /// The name is in ASCII as `hickory-proto` writes it (internationalised names as punycode, unusual bytes
    /// escaped); the root is the empty string. An IPv4 client reaching a dual-stack socket is given as its IPv4
    /// address, not the IPv4-mapped IPv6 one.
    fn decide(&self, client: IpAddr, name: &str) -> DnsDecision;
}

impl<F> DnsPolicy for F
where
    F: Fn(IpAddr, &str) -> DnsDecision + Send + Sync + 'static,
{
    fn decide(&self, client: IpAddr, name: &str) -> DnsDecision {
        self(client, name)
    }
}

/// How blocked names are answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockedAnswer {
    /// A queries get `v4`, AAAA queries get `v6`, other types an empty NOERROR answer (NODATA).
    Sinkhole {
        /// The address of A answers (normally `0.0.0.0`).
        v4: Ipv4Addr,
        /// The address of AAAA answers (normally `::`).
        v6: Ipv6Addr,
    },
    /// Every query type gets NXDOMAIN.
    NxDomain,
}

impl Default for BlockedAnswer {
    /// A sinkhole to `0.0.0.0` and `::`.
    fn default() -> Self {
        Self::Sinkhole {
            v4: Ipv4Addr::UNSPECIFIED,
            v6: Ipv6Addr::UNSPECIFIED,
        }
    }
}

/// Settings of the DNS servers, fixed for the life of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsOptions {
    /// The upstream resolvers, tried in order; each is reached over UDP and TCP on the same address. Empty: every
    /// forwarded query gets SERVFAIL.
    pub upstreams: Vec<SocketAddr>,
    /// How long to wait for one upstream (per transport) before trying the next one.
    pub upstream_timeout: Duration,
    /// How blocked names are answered.
    pub blocked_answer: BlockedAnswer,
    /// The TTL of synthesized records (blocked answers and SafeSearch CNAMEs).
    pub blocked_ttl: u32,
    /// How long a TCP connection may stay without a complete query before it is closed.
    pub tcp_idle_timeout: Duration,
}

impl Default for DnsOptions {
    /// No upstreams, 2 s upstream timeout, sinkhole to `0.0.0.0`/`::`, TTL 60 s, TCP idle timeout 10 s.
    fn default() -> Self {
        Self {
            upstreams: Vec::new(),
            upstream_timeout: Duration::from_secs(2),
            blocked_answer: BlockedAnswer::default(),
            blocked_ttl: 60,
            tcp_idle_timeout: Duration::from_secs(10),
        }
    }
}

/// Counters of the DNS servers, shared by all of them; read with `load(Ordering::Relaxed)`.
#[derive(Debug, Default)]
pub struct DnsStats {
    /// Messages received (UDP datagrams and TCP messages), malformed ones included.
    pub queries: AtomicU64,
    /// Queries relayed to an upstream and answered by it.
    pub forwarded: AtomicU64,
    /// Queries answered as blocked ([`DnsDecision::Block`] and [`DnsDecision::NxDomain`]).
    pub blocked: AtomicU64,
    /// Queries answered with a SafeSearch CNAME ([`DnsDecision::Cname`]).
    pub rewritten: AtomicU64,
    /// Upstream resolutions that failed on every upstream (forwarded queries then get SERVFAIL).
    pub upstream_failures: AtomicU64,
    /// Messages that could not be parsed, had a question count other than 1, were responses or were too long.
    pub malformed: AtomicU64,
    /// UDP datagrams and TCP connections dropped because the server was at its concurrency limit.
    pub dropped: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// Why an upstream exchange failed. Carries no query data.
#[derive(Debug, thiserror::Error)]
enum UpstreamError {
    #[error("no upstream resolver is configured")]
    NoUpstream,
    #[error("the upstream resolver did not answer in time")]
    Timeout,
    #[error("upstream i/o error: {0}")]
    Io(#[from] io::Error),
    #[error("the upstream answer is malformed")]
    Malformed,
    #[error("the upstream answer does not match the query")]
    Mismatch,
    #[error("the upstream answer is too large")]
    TooLarge,
    #[error("the upstream resolver failed the query ({0})")]
    Failed(ResponseCode),
}

/// How a query reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Udp,
    Tcp,
}

/// What every query handler needs.
struct Context {
    policy: Arc<dyn DnsPolicy>,
    options: Arc<DnsOptions>,
    stats: Arc<DnsStats>,
}

/// Serves DNS over UDP on `socket` until `shutdown` completes.
///
/// Each datagram is handled in its own task; queries still in flight when `shutdown` completes are abandoned.
///
/// # Errors
///
/// Returns an error only when receiving fails persistently (100 times in a row, with a
/// short pause between tries); transient errors such as ICMP-induced connection resets are ignored.
pub async fn serve_udp(
    socket: UdpSocket,
    policy: Arc<dyn DnsPolicy>,
    options: Arc<DnsOptions>,
    stats: Arc<DnsStats>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let socket = Arc::new(socket);
    let context = Arc::new(Context {
        policy,
        options,
        stats,
    });
    let mut tasks = JoinSet::new();
    // One byte more than accepted, so that over-long datagrams are recognised rather than silently cut.
    let mut buf = vec![0_u8; MAX_QUERY_LEN + 1];
    let mut errors = 0_u32;
    tokio::pin!(shutdown);
    loop {
        let received = tokio::select! {
            () = &mut shutdown => return Ok(()),
            received = socket.recv_from(&mut buf) => received,
        };
        let (len, peer) = match received {
            Ok(received) => {
                errors = 0;
                received
            }
            Err(error) => {
                recover(error, &mut errors).await?;
                continue;
            }
        };
        while tasks.try_join_next().is_some() {}
        let Some(query) = buf.get(..len).filter(|_| len <= MAX_QUERY_LEN) else {
            bump(&context.stats.queries);
            bump(&context.stats.malformed);
            continue;
        };
        if tasks.len() >= MAX_UDP_IN_FLIGHT {
            bump(&context.stats.dropped);
            continue;
        }
        let query = query.to_vec();
        let socket = Arc::clone(&socket);
        let context = Arc::clone(&context);
        tasks.spawn(async move {
            let client = peer.ip().to_canonical();
            if let Some(answer) = handle_message(&context, &query, client, Transport::Udp).await {
                // A send error (e.g. the client went away) concerns this query only.
                let _ = socket.send_to(&answer, peer).await;
            }
        });
    }
}

/// Serves DNS over TCP (2-byte length prefix, several queries per connection, idle timeout) on `listener` until
/// `shutdown` completes.
///
/// Connections still open when `shutdown` completes are closed.
///
/// # Errors
///
/// Returns an error only when accepting fails persistently (100 times in a row, with a
/// short pause between tries, e.g. out of file descriptors for ten seconds).
pub async fn serve_tcp(
    listener: TcpListener,
    policy: Arc<dyn DnsPolicy>,
    options: Arc<DnsOptions>,
    stats: Arc<DnsStats>,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let context = Arc::new(Context {
        policy,
        options,
        stats,
    });
    let mut connections = JoinSet::new();
    let mut errors = 0_u32;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                errors = 0;
                accepted
            }
            Err(error) => {
                recover(error, &mut errors).await?;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        if connections.len() >= MAX_TCP_CONNECTIONS {
            bump(&context.stats.dropped);
            continue;
        }
        // Small answers should leave at once rather than wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        connections.spawn(serve_connection(
            stream,
            peer.ip().to_canonical(),
            Arc::clone(&context),
        ));
    }
}

/// Decides whether a server goes on after a socket error: transient errors at once, others after a pause, until
/// too many come in a row.
async fn recover(error: io::Error, consecutive: &mut u32) -> io::Result<()> {
    use io::ErrorKind::{
        ConnectionAborted, ConnectionRefused, ConnectionReset, HostUnreachable, Interrupted,
        NetworkUnreachable, WouldBlock,
    };
    if matches!(
        error.kind(),
        ConnectionAborted
            | ConnectionRefused
            | ConnectionReset
            | HostUnreachable
            | Interrupted
            | NetworkUnreachable
            | WouldBlock
    ) {
        return Ok(());
    }
    *consecutive += 1;
    if *consecutive >= MAX_CONSECUTIVE_ERRORS {
        return Err(error);
    }
    tokio::time::sleep(ERROR_BACKOFF).await;
    Ok(())
}

/// One TCP message as read by [`read_frame`].
enum Frame {
    Message(Vec<u8>),
    TooLong,
    End,
}

/// Reads one length-prefixed message of at most `max_len` bytes.
async fn read_frame(reader: &mut (impl AsyncRead + Unpin), max_len: usize) -> io::Result<Frame> {
    let mut prefix = [0_u8; 2];
    match reader.read_exact(&mut prefix).await {
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(Frame::End),
        Err(error) => return Err(error),
    }
    let len = usize::from(u16::from_be_bytes(prefix));
    if len > max_len {
        return Ok(Frame::TooLong);
    }
    let mut message = vec![0_u8; len];
    reader.read_exact(&mut message).await?;
    Ok(Frame::Message(message))
}

/// Writes one length-prefixed message.
async fn write_frame(writer: &mut (impl AsyncWrite + Unpin), message: &[u8]) -> io::Result<()> {
    let len = u16::try_from(message.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "DNS message too long for TCP"))?;
    let mut frame = Vec::with_capacity(message.len() + 2);
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(message);
    writer.write_all(&frame).await?;
    writer.flush().await
}

/// Serves one TCP client: reads queries until end of stream, idle timeout or a write failure, handles up to
/// [`MAX_TCP_PIPELINE`] at once and writes each answer as soon as it is ready.
async fn serve_connection(stream: TcpStream, client: IpAddr, context: Arc<Context>) {
    let (mut reader, mut writer) = stream.into_split();
    let (answers, mut outbox) = mpsc::channel::<Vec<u8>>(MAX_TCP_PIPELINE);
    let idle_timeout = context.options.tcp_idle_timeout;

    let write = async move {
        while let Some(answer) = outbox.recv().await {
            match timeout(TCP_WRITE_TIMEOUT, write_frame(&mut writer, &answer)).await {
                Ok(Ok(())) => {}
                _ => return,
            }
        }
        let _ = writer.shutdown().await;
    };

    let read = async move {
        let permits = Arc::new(Semaphore::new(MAX_TCP_PIPELINE));
        let mut tasks = JoinSet::new();
        loop {
            let frame = tokio::select! {
                frame = timeout(idle_timeout, read_frame(&mut reader, MAX_QUERY_LEN)) => frame,
                () = answers.closed() => break,
            };
            let query = match frame {
                Ok(Ok(Frame::Message(query))) => query,
                Ok(Ok(Frame::TooLong)) => {
                    bump(&context.stats.queries);
                    bump(&context.stats.malformed);
                    break;
                }
                // End of stream, read error or idle timeout.
                _ => break,
            };
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                break;
            };
            let answers = answers.clone();
            let context = Arc::clone(&context);
            tasks.spawn(async move {
                let _permit = permit;
                if let Some(answer) = handle_message(&context, &query, client, Transport::Tcp).await
                {
                    let _ = answers.send(answer).await;
                }
            });
            while tasks.try_join_next().is_some() {}
        }
        // Let the queries in flight finish; the writer ends once they and this sender are gone.
        drop(answers);
        while tasks.join_next().await.is_some() {}
    };

    tokio::join!(read, write);
}

/// Handles one message from a client and returns the answer to send, if any.
async fn handle_message(
    context: &Context,
    bytes: &[u8],
    client: IpAddr,
    transport: Transport,
) -> Option<Vec<u8>> {
    let stats = &context.stats;
    bump(&stats.queries);
    let Ok(header) = Header::read(&mut BinDecoder::new(bytes)) else {
        bump(&stats.malformed);
        return None;
    };
    if header.message_type != MessageType::Query {
        // Never answer responses: that could start a loop between two servers.
        bump(&stats.malformed);
        return None;
    }
    if header.op_code != OpCode::Query {
        return header_only_answer(&header, ResponseCode::NotImp)
            .to_vec()
            .ok();
    }
    let query = match Message::from_vec(bytes) {
        Ok(query) if query.queries.len() == 1 => query,
        _ => {
            bump(&stats.malformed);
            return header_only_answer(&header, ResponseCode::FormErr)
                .to_vec()
                .ok();
        }
    };
    let question = query.queries.first()?;
    let max_len = match transport {
        Transport::Udp => udp_answer_limit(&query),
        Transport::Tcp => usize::from(u16::MAX),
    };
    let answer = match answer(context, &query, question, bytes, client, transport, max_len).await {
        Answer::Relay(bytes) if bytes.len() <= max_len => return Some(bytes),
        // An upstream answer too long for the client's UDP payload (the upstream ignored it): TC, retry over TCP.
        Answer::Relay(_) => {
            let mut truncated = local_answer(&query, ResponseCode::NoError);
            truncated.metadata.truncation = true;
            truncated
        }
        Answer::Local(answer) => answer,
    };
    match answer.to_vec() {
        Ok(bytes) if bytes.len() <= max_len => Some(bytes),
        // Too long for the client's UDP payload size: send the question with TC set, the client retries over TCP.
        Ok(_) => answer.truncate().to_vec().ok(),
        Err(_) => header_only_answer(&header, ResponseCode::ServFail)
            .to_vec()
            .ok(),
    }
}

/// An answer to a well-formed query.
enum Answer {
    /// An upstream's answer, already carrying the client's id.
    Relay(Vec<u8>),
    /// An answer made here.
    Local(Message),
}

/// Applies the policy to a well-formed query with exactly one question.
async fn answer(
    context: &Context,
    query: &Message,
    question: &Query,
    bytes: &[u8],
    client: IpAddr,
    transport: Transport,
    max_len: usize,
) -> Answer {
    let stats = &context.stats;
    let options = &context.options;
    let name = policy_name(question.name());
    match context.policy.decide(client, &name) {
        DnsDecision::Forward => forward(context, query, question, bytes, transport, max_len).await,
        DnsDecision::Block => {
            bump(&stats.blocked);
            Answer::Local(blocked_answer(query, question, options))
        }
        DnsDecision::NxDomain => {
            bump(&stats.blocked);
            Answer::Local(nxdomain_answer(query))
        }
        DnsDecision::Cname(target) => {
            let Some(target) = cname_target(&target) else {
                bump(&stats.blocked);
                return Answer::Local(blocked_answer(query, question, options));
            };
            if target == *question.name() {
                return forward(context, query, question, bytes, transport, max_len).await;
            }
            bump(&stats.rewritten);
            let mut answer = cname_answer(query, question, &target, options.blocked_ttl);
            if question.query_class() == DNSClass::IN
                && matches!(question.query_type(), RecordType::A | RecordType::AAAA)
            {
                match resolve(context, &target, question.query_type(), transport).await {
                    Ok(records) => {
                        answer.add_answers(records);
                    }
                    Err(_) => bump(&stats.upstream_failures),
                }
            }
            Answer::Local(answer)
        }
    }
}

/// Relays a query to the upstreams, or SERVFAIL when none answers.
async fn forward(
    context: &Context,
    query: &Message,
    question: &Query,
    bytes: &[u8],
    transport: Transport,
    max_len: usize,
) -> Answer {
    match exchange(&context.options, bytes, question, transport, max_len).await {
        Ok(mut reply) => {
            bump(&context.stats.forwarded);
            set_id(&mut reply, query.id);
            Answer::Relay(reply)
        }
        Err(_) => {
            bump(&context.stats.upstream_failures);
            Answer::Local(local_answer(query, ResponseCode::ServFail))
        }
    }
}

/// Resolves `name`/`record_type` upstream for a SafeSearch CNAME and returns the answer's records of that type
/// and CNAMEs (a further CNAME chain of the target).
async fn resolve(
    context: &Context,
    name: &Name,
    record_type: RecordType,
    transport: Transport,
) -> Result<Vec<Record>, UpstreamError> {
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    let question = Query::query(name.clone(), record_type);
    query.add_query(question.clone());
    let mut edns = Edns::new();
    edns.set_max_payload(RESPONSE_EDNS_PAYLOAD);
    query.set_edns(edns);
    let bytes = query.to_vec().map_err(|_| UpstreamError::Malformed)?;
    let reply = exchange(
        &context.options,
        &bytes,
        &question,
        transport,
        usize::from(RESPONSE_EDNS_PAYLOAD),
    )
    .await?;
    let reply = Message::from_vec(&reply).map_err(|_| UpstreamError::Malformed)?;
    match reply.response_code {
        ResponseCode::NoError | ResponseCode::NXDomain => {}
        other => return Err(UpstreamError::Failed(other)),
    }
    Ok(reply
        .answers
        .into_iter()
        .filter(|record| {
            let found = record.record_type();
            found == record_type || found == RecordType::CNAME
        })
        .collect())
}

/// Sends `query` to the upstreams in order and returns the first matching answer, with the id of `query`'s
/// header replaced by whatever the upstream exchange used (the caller restores the client's).
async fn exchange(
    options: &DnsOptions,
    query: &[u8],
    question: &Query,
    transport: Transport,
    max_len: usize,
) -> Result<Vec<u8>, UpstreamError> {
    let mut last = UpstreamError::NoUpstream;
    for &upstream in &options.upstreams {
        match exchange_one(
            upstream,
            options.upstream_timeout,
            query,
            question,
            transport,
            max_len,
        )
        .await
        {
            Ok(reply) => return Ok(reply),
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// One upstream: UDP (with a TCP retry when the answer is truncated) for UDP clients, TCP for TCP clients.
async fn exchange_one(
    upstream: SocketAddr,
    limit: Duration,
    query: &[u8],
    question: &Query,
    transport: Transport,
    max_len: usize,
) -> Result<Vec<u8>, UpstreamError> {
    let id = random_id();
    let mut query = query.to_vec();
    set_id(&mut query, id);
    if transport == Transport::Tcp {
        return tcp_exchange(upstream, limit, &query, id, question).await;
    }
    let udp = match udp_exchange(upstream, limit, &query, id, question).await {
        Ok(reply) if !is_truncated(&reply) => return Ok(reply),
        Ok(reply) => Some(reply),
        Err(UpstreamError::TooLarge) => None,
        Err(error) => return Err(error),
    };
    match tcp_exchange(upstream, limit, &query, id, question).await {
        Ok(full) if full.len() <= max_len => Ok(full),
        // The full answer does not fit the client's UDP payload: relay the truncated one, the client will retry
        // over TCP.
        result => udp.map_or(result, Ok),
    }
}

async fn udp_exchange(
    upstream: SocketAddr,
    limit: Duration,
    query: &[u8],
    id: u16,
    question: &Query,
) -> Result<Vec<u8>, UpstreamError> {
    let exchange = async {
        let local: SocketAddr = match upstream {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(local).await?;
        socket.connect(upstream).await?;
        socket.send(query).await?;
        let mut buf = vec![0_u8; MAX_UDP_ANSWER + 1];
        loop {
            let len = socket.recv(&mut buf).await?;
            if len > MAX_UDP_ANSWER {
                return Err(UpstreamError::TooLarge);
            }
            let Some(reply) = buf.get(..len) else {
                continue;
            };
            // Anything else (a late answer to someone else, a spoofing attempt) is ignored.
            if check_reply(reply, id, question).is_ok() {
                return Ok(reply.to_vec());
            }
        }
    };
    timeout(limit, exchange)
        .await
        .map_err(|_| UpstreamError::Timeout)?
}

async fn tcp_exchange(
    upstream: SocketAddr,
    limit: Duration,
    query: &[u8],
    id: u16,
    question: &Query,
) -> Result<Vec<u8>, UpstreamError> {
    let exchange = async {
        let mut stream = TcpStream::connect(upstream).await?;
        let _ = stream.set_nodelay(true);
        write_frame(&mut stream, query).await?;
        match read_frame(&mut stream, usize::from(u16::MAX)).await? {
            Frame::Message(reply) => {
                check_reply(&reply, id, question)?;
                Ok(reply)
            }
            Frame::TooLong | Frame::End => Err(UpstreamError::Malformed),
        }
    };
    timeout(limit, exchange)
        .await
        .map_err(|_| UpstreamError::Timeout)?
}

/// Checks that `reply` is a response with id `id` to `question` (the name compared case-insensitively).
fn check_reply(reply: &[u8], id: u16, question: &Query) -> Result<(), UpstreamError> {
    let mut decoder = BinDecoder::new(reply);
    let header = Header::read(&mut decoder).map_err(|_| UpstreamError::Malformed)?;
    if header.id != id || header.message_type != MessageType::Response || header.counts.queries != 1
    {
        return Err(UpstreamError::Mismatch);
    }
    let echoed = Query::read(&mut decoder).map_err(|_| UpstreamError::Malformed)?;
    if echoed.name() != question.name()
        || echoed.query_type() != question.query_type()
        || echoed.query_class() != question.query_class()
    {
        return Err(UpstreamError::Mismatch);
    }
    Ok(())
}

fn is_truncated(reply: &[u8]) -> bool {
    Header::read(&mut BinDecoder::new(reply)).is_ok_and(|header| header.truncation)
}

/// Replaces the id (the first two bytes) of a DNS message that has a header.
fn set_id(message: &mut [u8], id: u16) {
    if let Some(slot) = message.get_mut(..2) {
        slot.copy_from_slice(&id.to_be_bytes());
    }
}

/// A random message id from `hickory-proto`'s cryptographically secure generator.
fn random_id() -> u16 {
    Message::query().id
}

/// The name as the policy sees it: lower-case ASCII without the trailing dot.
fn policy_name(name: &Name) -> String {
    let mut ascii = name.to_lowercase().to_ascii();
    if ascii.ends_with('.') {
        ascii.pop();
    }
    ascii
}

/// Parses a CNAME target given by the policy as a fully qualified name.
fn cname_target(target: &str) -> Option<Name> {
    let mut name = Name::from_ascii(target).ok()?;
    name.set_fqdn(true);
    (!name.is_root()).then_some(name)
}

/// The UDP payload size the client accepts: 512 bytes, or its EDNS size (capped at [`MAX_UDP_ANSWER`]).
fn udp_answer_limit(query: &Message) -> usize {
    let announced = query.edns.as_ref().map_or(512, Edns::max_payload);
    usize::from(announced).clamp(512, MAX_UDP_ANSWER)
}

/// An answer to a message of which only the header could be read (FORMERR, NOTIMP).
fn header_only_answer(header: &Header, code: ResponseCode) -> Message {
    let mut answer = Message::error_msg(header.id, header.op_code, code);
    answer.metadata.recursion_desired = header.recursion_desired;
    answer.metadata.recursion_available = true;
    answer
}

/// An answer to `query` with its id, question, RD and CD bits, RA set and an OPT record if the query had one.
fn local_answer(query: &Message, code: ResponseCode) -> Message {
    let mut answer = Message::response(query.id, query.op_code);
    answer.metadata.recursion_desired = query.recursion_desired;
    answer.metadata.checking_disabled = query.checking_disabled;
    answer.metadata.recursion_available = true;
    answer.metadata.response_code = code;
    answer.add_queries(query.queries.iter().cloned());
    if let Some(edns) = &query.edns {
        let mut reply_edns = Edns::new();
        reply_edns.set_max_payload(RESPONSE_EDNS_PAYLOAD);
        reply_edns.set_dnssec_ok(edns.flags().dnssec_ok);
        answer.set_edns(reply_edns);
    }
    answer
}

fn nxdomain_answer(query: &Message) -> Message {
    let mut answer = local_answer(query, ResponseCode::NXDomain);
    answer.metadata.authoritative = true;
    answer
}

/// The answer to a blocked query, as `options.blocked_answer` says.
fn blocked_answer(query: &Message, question: &Query, options: &DnsOptions) -> Message {
    let BlockedAnswer::Sinkhole { v4, v6 } = options.blocked_answer else {
        return nxdomain_answer(query);
    };
    let mut answer = local_answer(query, ResponseCode::NoError);
    answer.metadata.authoritative = true;
    if question.query_class() == DNSClass::IN {
        let data = match question.query_type() {
            RecordType::A => Some(RData::A(A(v4))),
            RecordType::AAAA => Some(RData::AAAA(AAAA(v6))),
            _ => None,
        };
        if let Some(data) = data {
            answer.add_answer(Record::from_rdata(
                question.name().clone(),
                options.blocked_ttl,
                data,
            ));
        }
    }
    answer
}

/// The CNAME from the question's name to `target` (the target's own records are added by the caller).
fn cname_answer(query: &Message, question: &Query, target: &Name, ttl: u32) -> Message {
    let mut answer = local_answer(query, ResponseCode::NoError);
    let mut record = Record::from_rdata(
        question.name().clone(),
        ttl,
        RData::CNAME(CNAME(target.clone())),
    );
    record.dns_class = question.query_class();
    answer.add_answer(record);
    answer
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    fn query_message(name: &str, record_type: RecordType) -> Message {
        let mut query = Message::new(0x4242, MessageType::Query, OpCode::Query);
        query.metadata.recursion_desired = true;
        query.add_query(Query::query(Name::from_ascii(name).unwrap(), record_type));
        query
    }

    fn context(policy: impl DnsPolicy, options: DnsOptions) -> Context {
        Context {
            policy: Arc::new(policy),
            options: Arc::new(options),
            stats: Arc::new(DnsStats::default()),
        }
    }

    fn test_policy(_client: IpAddr, name: &str) -> DnsDecision {
        match name {
            "blocked.example" => DnsDecision::Block,
            "use-application-dns.net" => DnsDecision::NxDomain,
            "www.google.com" => DnsDecision::Cname("forcesafesearch.google.com".to_owned()),
            "bad-target.example" => DnsDecision::Cname("not a name..".to_owned()),
            "self.example" => DnsDecision::Cname("SELF.example.".to_owned()),
            _ => DnsDecision::Forward,
        }
    }

    async fn ask(context: &Context, query: &Message) -> Message {
        let bytes = query.to_vec().unwrap();
        let answer = handle_message(
            context,
            &bytes,
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            Transport::Udp,
        )
        .await
        .expect("an answer");
        Message::from_vec(&answer).unwrap()
    }

    #[test]
    fn policy_names_are_lower_case_without_the_root_dot() {
        assert_eq!(
            policy_name(&Name::from_ascii("WWW.Example.COM.").unwrap()),
            "www.example.com"
        );
        assert_eq!(
            policy_name(&Name::from_ascii("example.com").unwrap()),
            "example.com"
        );
        assert_eq!(policy_name(&Name::root()), "");
    }

    #[test]
    fn cname_targets_become_fully_qualified_names() {
        let target = cname_target("forcesafesearch.google.com").unwrap();
        assert!(target.is_fqdn());
        assert_eq!(
            target,
            Name::from_ascii("forcesafesearch.google.com.").unwrap()
        );
        assert_eq!(cname_target("forcesafesearch.google.com.").unwrap(), target);
        assert!(cname_target("").is_none());
        assert!(cname_target(".").is_none());
        assert!(cname_target("a..b").is_none());
    }

    #[test]
    fn sinkhole_answers_a_and_aaaa_and_nodata_for_other_types() {
        let options = DnsOptions {
            blocked_answer: BlockedAnswer::Sinkhole {
                v4: Ipv4Addr::new(10, 0, 0, 1),
                v6: "fd00::1".parse().unwrap(),
            },
            blocked_ttl: 42,
            ..DnsOptions::default()
        };
        for (record_type, expected) in [
            (RecordType::A, Some(RData::A(A(Ipv4Addr::new(10, 0, 0, 1))))),
            (
                RecordType::AAAA,
                Some(RData::AAAA(AAAA("fd00::1".parse().unwrap()))),
            ),
            (RecordType::MX, None),
            (RecordType::HTTPS, None),
        ] {
            let query = query_message("blocked.example.", record_type);
            let answer = blocked_answer(&query, &query.queries[0], &options);
            assert_eq!(answer.id, 0x4242);
            assert_eq!(answer.message_type, MessageType::Response);
            assert_eq!(answer.response_code, ResponseCode::NoError);
            assert!(answer.authoritative && answer.recursion_available && answer.recursion_desired);
            assert_eq!(answer.queries, query.queries);
            match expected {
                Some(data) => {
                    assert_eq!(answer.answers.len(), 1);
                    assert_eq!(answer.answers[0].data, data);
                    assert_eq!(answer.answers[0].ttl, 42);
                    assert_eq!(answer.answers[0].name, query.queries[0].name().clone());
                }
                None => assert!(answer.answers.is_empty()),
            }
            // And it survives serialisation.
            let parsed = Message::from_vec(&answer.to_vec().unwrap()).unwrap();
            assert_eq!(parsed.answers, answer.answers);
        }
    }

    #[test]
    fn nxdomain_blocked_answer_and_edns() {
        let options = DnsOptions {
            blocked_answer: BlockedAnswer::NxDomain,
            ..DnsOptions::default()
        };
        let mut query = query_message("blocked.example.", RecordType::A);
        let answer = blocked_answer(&query, &query.queries[0], &options);
        assert_eq!(answer.response_code, ResponseCode::NXDomain);
        assert!(answer.answers.is_empty());
        assert!(answer.edns.is_none());

        let mut edns = Edns::new();
        edns.set_max_payload(4096).set_dnssec_ok(true);
        query.set_edns(edns);
        let answer = Message::from_vec(&nxdomain_answer(&query).to_vec().unwrap()).unwrap();
        let edns = answer.edns.expect("an OPT record in the answer");
        assert_eq!(edns.max_payload(), RESPONSE_EDNS_PAYLOAD);
        assert!(edns.flags().dnssec_ok);
    }

    #[test]
    fn header_only_answers_copy_id_opcode_and_rd() {
        let mut query = query_message("example.com.", RecordType::A);
        query.metadata.op_code = OpCode::Status;
        let bytes = query.to_vec().unwrap();
        let header = Header::read(&mut BinDecoder::new(&bytes)).unwrap();
        let answer = header_only_answer(&header, ResponseCode::NotImp);
        let answer = Message::from_vec(&answer.to_vec().unwrap()).unwrap();
        assert_eq!(answer.id, 0x4242);
        assert_eq!(answer.op_code, OpCode::Status);
        assert_eq!(answer.response_code, ResponseCode::NotImp);
        assert!(answer.recursion_desired);
        assert!(answer.queries.is_empty());
    }

    #[test]
    fn udp_limit_follows_edns() {
        let mut query = query_message("example.com.", RecordType::A);
        assert_eq!(udp_answer_limit(&query), 512);
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        query.set_edns(edns.clone());
        assert_eq!(udp_answer_limit(&query), 1232);
        edns.set_max_payload(65000);
        query.set_edns(edns);
        assert_eq!(udp_answer_limit(&query), MAX_UDP_ANSWER);
    }

    #[test]
    fn ids_are_replaced_and_replies_checked() {
        let query = query_message("Example.com.", RecordType::A);
        let mut bytes = query.to_vec().unwrap();
        set_id(&mut bytes, 0xbeef);
        assert_eq!(Message::from_vec(&bytes).unwrap().id, 0xbeef);
        let mut short = [1_u8];
        set_id(&mut short, 0xbeef); // too short: left alone, no panic
        assert_eq!(short, [1]);

        let question = Query::query(Name::from_ascii("example.COM.").unwrap(), RecordType::A);
        let mut reply = local_answer(&query, ResponseCode::NoError);
        reply.metadata.id = 7;
        let reply = reply.to_vec().unwrap();
        assert!(check_reply(&reply, 7, &question).is_ok());
        assert!(matches!(
            check_reply(&reply, 8, &question),
            Err(UpstreamError::Mismatch)
        ));
        let other = Query::query(Name::from_ascii("example.org.").unwrap(), RecordType::A);
        assert!(matches!(
            check_reply(&reply, 7, &other),
            Err(UpstreamError::Mismatch)
        ));
        let aaaa = Query::query(Name::from_ascii("example.com.").unwrap(), RecordType::AAAA);
        assert!(matches!(
            check_reply(&reply, 7, &aaaa),
            Err(UpstreamError::Mismatch)
        ));
        // A query is not a reply.
        let mut as_query = query.clone();
        as_query.metadata.id = 7;
        assert!(check_reply(&as_query.to_vec().unwrap(), 7, &question).is_err());
        assert!(matches!(
            check_reply(&reply[..5], 7, &question),
            Err(UpstreamError::Malformed)
        ));
        assert!(!is_truncated(&reply));
        assert!(!is_truncated(&[]));
    }

    #[test]
    fn random_ids_vary() {
        let ids: std::collections::HashSet<u16> = (0..64).map(|_| random_id()).collect();
        assert!(ids.len() > 32);
    }

    #[tokio::test]
    async fn handler_applies_the_policy() {
        let context = context(test_policy, DnsOptions::default());
        let blocked = ask(&context, &query_message("Blocked.Example.", RecordType::A)).await;
        assert_eq!(blocked.answers[0].data, RData::A(A(Ipv4Addr::UNSPECIFIED)));

        let canary = ask(
            &context,
            &query_message("use-application-dns.net.", RecordType::A),
        )
        .await;
        assert_eq!(canary.response_code, ResponseCode::NXDomain);

        // No upstreams: a forwarded query gets SERVFAIL, the SafeSearch CNAME comes alone.
        let forwarded = ask(&context, &query_message("example.com.", RecordType::A)).await;
        assert_eq!(forwarded.response_code, ResponseCode::ServFail);
        assert_eq!(
            forwarded.queries,
            query_message("example.com.", RecordType::A).queries
        );
        let rewritten = ask(&context, &query_message("www.google.com.", RecordType::A)).await;
        assert_eq!(rewritten.response_code, ResponseCode::NoError);
        assert_eq!(rewritten.answers.len(), 1);
        assert_eq!(
            rewritten.answers[0].data,
            RData::CNAME(CNAME(
                Name::from_ascii("forcesafesearch.google.com.").unwrap()
            ))
        );
        // A target that is no name is a block; a target equal to the name is a forward.
        let bad = ask(
            &context,
            &query_message("bad-target.example.", RecordType::A),
        )
        .await;
        assert_eq!(bad.answers[0].data, RData::A(A(Ipv4Addr::UNSPECIFIED)));
        let same = ask(&context, &query_message("self.example.", RecordType::A)).await;
        assert_eq!(same.response_code, ResponseCode::ServFail);

        let stats = &context.stats;
        assert_eq!(stats.queries.load(Ordering::Relaxed), 6);
        assert_eq!(stats.blocked.load(Ordering::Relaxed), 3);
        assert_eq!(stats.rewritten.load(Ordering::Relaxed), 1);
        assert_eq!(stats.upstream_failures.load(Ordering::Relaxed), 3);
        assert_eq!(stats.forwarded.load(Ordering::Relaxed), 0);
        assert_eq!(stats.malformed.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn handler_rejects_malformed_messages() {
        let context = context(test_policy, DnsOptions::default());
        let client = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let handle = |bytes: Vec<u8>| {
            let context = &context;
            async move { handle_message(context, &bytes, client, Transport::Udp).await }
        };
        // Shorter than a header: dropped.
        assert!(handle(vec![]).await.is_none());
        assert!(handle(vec![1, 2, 3, 4, 5]).await.is_none());
        // A header announcing a question that is not there: FORMERR with the id.
        let mut garbage = query_message("example.com.", RecordType::A)
            .to_vec()
            .unwrap();
        garbage.truncate(15);
        let answer = Message::from_vec(&handle(garbage).await.unwrap()).unwrap();
        assert_eq!(
            (answer.id, answer.response_code),
            (0x4242, ResponseCode::FormErr)
        );
        // Two questions, or none: FORMERR.
        let mut two = query_message("a.example.", RecordType::A);
        two.add_query(Query::query(
            Name::from_ascii("b.example.").unwrap(),
            RecordType::A,
        ));
        let answer = Message::from_vec(&handle(two.to_vec().unwrap()).await.unwrap()).unwrap();
        assert_eq!(answer.response_code, ResponseCode::FormErr);
        let none = Message::new(9, MessageType::Query, OpCode::Query);
        let answer = Message::from_vec(&handle(none.to_vec().unwrap()).await.unwrap()).unwrap();
        assert_eq!(
            (answer.id, answer.response_code),
            (9, ResponseCode::FormErr)
        );
        // A response: dropped.
        let mut response = query_message("example.com.", RecordType::A);
        response.metadata.message_type = MessageType::Response;
        assert!(handle(response.to_vec().unwrap()).await.is_none());
        // Another opcode: NOTIMP.
        let mut notify = query_message("example.com.", RecordType::SOA);
        notify.metadata.op_code = OpCode::Notify;
        let answer = Message::from_vec(&handle(notify.to_vec().unwrap()).await.unwrap()).unwrap();
        assert_eq!(answer.response_code, ResponseCode::NotImp);

        let stats = &context.stats;
        assert_eq!(stats.queries.load(Ordering::Relaxed), 7);
        assert_eq!(stats.malformed.load(Ordering::Relaxed), 6);
    }
}
