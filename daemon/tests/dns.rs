//! The DNS filter over real sockets on loopback: `serve_udp` and `serve_tcp` with a test policy, in front of a
//! fake upstream resolver (UDP and TCP on one port) built here with `hickory-proto`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // a panic is a test failure

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use haven_daemon::dns::{
    BlockedAnswer, DnsDecision, DnsOptions, DnsPolicy, DnsStats, serve_tcp, serve_udp,
};
use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UdpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// A guard against hanging tests; never used to wait for something to happen.
const GUARD: Duration = Duration::from_secs(10);

const CHILD: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
const PARENT: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const UPSTREAM_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const UPSTREAM_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

fn test_policy(client: IpAddr, name: &str) -> DnsDecision {
    match name {
        "blocked.example" => DnsDecision::Block,
        "use-application-dns.net" => DnsDecision::NxDomain,
        "www.google.com" => DnsDecision::Cname("forcesafesearch.google.com".to_owned()),
        "games.example" if client == CHILD => DnsDecision::Block,
        _ => DnsDecision::Forward,
    }
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).unwrap()
}

fn query(id: u16, qname: &str, record_type: RecordType) -> Message {
    let mut query = Message::new(id, MessageType::Query, OpCode::Query);
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(name(qname), record_type));
    query
}

// ---------------------------------------------------------------------------------------------------------------
// The fake upstream

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Udp,
    Tcp,
}

/// What the fake upstream saw, and whether it answers.
#[derive(Default)]
struct UpstreamLog {
    seen: Mutex<Vec<(Proto, String, RecordType, u16)>>,
    silent: AtomicBool,
}

impl UpstreamLog {
    fn seen(&self) -> Vec<(Proto, String, RecordType, u16)> {
        self.seen.lock().unwrap().clone()
    }

    fn names(&self) -> Vec<(Proto, String, RecordType)> {
        self.seen()
            .into_iter()
            .map(|(proto, name, rt, _)| (proto, name, rt))
            .collect()
    }
}

/// A DNS server on 127.0.0.1 (UDP and TCP, same port) answering A 192.0.2.1 and AAAA 2001:db8::1 for any name.
/// `big.example` is truncated over UDP and answered in full (three A records) over TCP.
struct FakeUpstream {
    addr: SocketAddr,
    log: Arc<UpstreamLog>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn upstream_answer(query: &Message, proto: Proto) -> Message {
    let mut answer = Message::response(query.id, query.op_code);
    answer.metadata.recursion_desired = query.recursion_desired;
    answer.metadata.recursion_available = true;
    answer.add_queries(query.queries.iter().cloned());
    if let Some(edns) = &query.edns {
        answer.set_edns(edns.clone());
    }
    let question = &query.queries[0];
    let big = question.name().to_lowercase().to_ascii() == "big.example.";
    if big && proto == Proto::Udp {
        answer.metadata.truncation = true;
        return answer;
    }
    let owner = question.name().clone();
    match question.query_type() {
        RecordType::A if big => {
            for last in 1..=3 {
                let data = RData::A(A(Ipv4Addr::new(192, 0, 2, last)));
                answer.add_answer(Record::from_rdata(owner.clone(), 300, data));
            }
        }
        RecordType::A => {
            answer.add_answer(Record::from_rdata(owner, 300, RData::A(A(UPSTREAM_V4))));
        }
        RecordType::AAAA => {
            answer.add_answer(Record::from_rdata(
                owner,
                300,
                RData::AAAA(AAAA(UPSTREAM_V6)),
            ));
        }
        _ => {}
    }
    answer
}

/// Logs a query and returns the answer to send, if the upstream is not silent.
fn upstream_handle(log: &UpstreamLog, bytes: &[u8], proto: Proto) -> Option<Vec<u8>> {
    let query = Message::from_vec(bytes).unwrap();
    let question = &query.queries[0];
    log.seen.lock().unwrap().push((
        proto,
        question.name().to_lowercase().to_ascii(),
        question.query_type(),
        query.id,
    ));
    if log.silent.load(Ordering::SeqCst) {
        return None;
    }
    Some(upstream_answer(&query, proto).to_vec().unwrap())
}

async fn fake_upstream() -> FakeUpstream {
    // UDP and TCP on the same port, as the filter expects of an upstream.
    let (udp, tcp) = loop {
        let udp = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        if let Ok(tcp) = TcpListener::bind(udp.local_addr().unwrap()).await {
            break (udp, tcp);
        }
    };
    let addr = udp.local_addr().unwrap();
    let log = Arc::new(UpstreamLog::default());

    let udp_log = Arc::clone(&log);
    let udp_task = tokio::spawn(async move {
        let mut buf = vec![0_u8; 65535];
        loop {
            let (len, peer) = udp.recv_from(&mut buf).await.unwrap();
            if let Some(answer) = upstream_handle(&udp_log, &buf[..len], Proto::Udp) {
                udp.send_to(&answer, peer).await.unwrap();
            }
        }
    });
    let tcp_log = Arc::clone(&log);
    let tcp_task = tokio::spawn(async move {
        loop {
            let (mut stream, _) = tcp.accept().await.unwrap();
            let log = Arc::clone(&tcp_log);
            tokio::spawn(async move {
                while let Ok(message) = read_message(&mut stream).await {
                    if let Some(answer) = upstream_handle(&log, &message, Proto::Tcp) {
                        write_message(&mut stream, &answer).await.unwrap();
                    }
                }
            });
        }
    });
    FakeUpstream {
        addr,
        log,
        tasks: vec![udp_task, tcp_task],
    }
}

async fn read_message(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let len = stream.read_u16().await?;
    let mut message = vec![0_u8; usize::from(len)];
    stream.read_exact(&mut message).await?;
    Ok(message)
}

async fn write_message(stream: &mut TcpStream, message: &[u8]) -> io::Result<()> {
    let mut frame = u16::try_from(message.len()).unwrap().to_be_bytes().to_vec();
    frame.extend_from_slice(message);
    stream.write_all(&frame).await
}

// ---------------------------------------------------------------------------------------------------------------
// The filter under test

/// `serve_udp` and `serve_tcp` on 127.0.0.1, stopped when dropped or by `shutdown`.
struct Filter {
    udp: SocketAddr,
    tcp: SocketAddr,
    stats: Arc<DnsStats>,
    stop: Vec<oneshot::Sender<()>>,
    servers: Vec<JoinHandle<io::Result<()>>>,
}

impl Filter {
    async fn start(policy: impl DnsPolicy, options: DnsOptions) -> Self {
        let policy: Arc<dyn DnsPolicy> = Arc::new(policy);
        let options = Arc::new(options);
        let stats = Arc::new(DnsStats::default());
        let udp_socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let udp = udp_socket.local_addr().unwrap();
        let tcp = listener.local_addr().unwrap();
        let (stop_udp, udp_stopped) = oneshot::channel::<()>();
        let (stop_tcp, tcp_stopped) = oneshot::channel::<()>();
        let servers = vec![
            tokio::spawn(serve_udp(
                udp_socket,
                Arc::clone(&policy),
                Arc::clone(&options),
                Arc::clone(&stats),
                async move {
                    let _ = udp_stopped.await;
                },
            )),
            tokio::spawn(serve_tcp(
                listener,
                policy,
                options,
                Arc::clone(&stats),
                async move {
                    let _ = tcp_stopped.await;
                },
            )),
        ];
        Self {
            udp,
            tcp,
            stats,
            stop: vec![stop_udp, stop_tcp],
            servers,
        }
    }

    async fn with_upstream(upstream: &FakeUpstream) -> Self {
        Self::start(test_policy, options(vec![upstream.addr])).await
    }

    fn stat(&self, pick: impl Fn(&DnsStats) -> &std::sync::atomic::AtomicU64) -> u64 {
        pick(&self.stats).load(Ordering::SeqCst)
    }

    /// Asks over UDP from `from` (any 127/8 address) and returns the answer.
    async fn udp_from(&self, from: IpAddr, query: &Message) -> Message {
        let socket = UdpSocket::bind((from, 0)).await.unwrap();
        socket.connect(self.udp).await.unwrap();
        socket.send(&query.to_vec().unwrap()).await.unwrap();
        udp_receive(&socket).await
    }

    async fn udp(&self, query: &Message) -> Message {
        self.udp_from(PARENT, query).await
    }

    async fn tcp_connect_from(&self, from: IpAddr) -> TcpStream {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::new(from, 0)).unwrap();
        socket.connect(self.tcp).await.unwrap()
    }

    /// Asks over a new TCP connection from `from` and returns the answer.
    async fn tcp_from(&self, from: IpAddr, query: &Message) -> Message {
        let mut stream = self.tcp_connect_from(from).await;
        write_message(&mut stream, &query.to_vec().unwrap())
            .await
            .unwrap();
        tcp_receive(&mut stream).await
    }

    async fn tcp(&self, query: &Message) -> Message {
        self.tcp_from(PARENT, query).await
    }

    /// Asks over UDP and over TCP, checks both answers agree, returns the UDP one.
    async fn both(&self, query: &Message) -> Message {
        let over_udp = self.udp(query).await;
        let over_tcp = self.tcp(query).await;
        assert_eq!(over_udp, over_tcp);
        over_udp
    }
}

fn options(upstreams: Vec<SocketAddr>) -> DnsOptions {
    DnsOptions {
        upstreams,
        upstream_timeout: Duration::from_millis(500),
        ..DnsOptions::default()
    }
}

async fn udp_receive(socket: &UdpSocket) -> Message {
    let mut buf = vec![0_u8; 65535];
    let len = timeout(GUARD, socket.recv(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    Message::from_vec(&buf[..len]).unwrap()
}

async fn tcp_receive(stream: &mut TcpStream) -> Message {
    let message = timeout(GUARD, read_message(stream))
        .await
        .expect("an answer")
        .unwrap();
    Message::from_vec(&message).unwrap()
}

fn assert_answers_query(answer: &Message, query: &Message) {
    assert_eq!(answer.id, query.id);
    assert_eq!(answer.message_type, MessageType::Response);
    assert_eq!(answer.op_code, OpCode::Query);
    assert_eq!(answer.queries, query.queries);
    assert!(answer.recursion_desired);
    assert!(answer.recursion_available);
}

fn data(answer: &Message) -> Vec<RData> {
    answer
        .answers
        .iter()
        .map(|record| record.data.clone())
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_names_get_the_sinkhole_over_udp_and_tcp() {
    let upstream = fake_upstream().await;
    let filter = Filter::with_upstream(&upstream).await;

    let a = query(0x0101, "blocked.example.", RecordType::A);
    let answer = filter.both(&a).await;
    assert_answers_query(&answer, &a);
    assert_eq!(answer.response_code, ResponseCode::NoError);
    assert!(answer.authoritative);
    assert_eq!(data(&answer), [RData::A(A(Ipv4Addr::UNSPECIFIED))]);
    assert_eq!(answer.answers[0].ttl, 60);
    assert_eq!(answer.answers[0].name, name("blocked.example."));

    // Case does not matter to the policy; the answer keeps the question's case.
    let aaaa = query(0x0102, "BLOCKED.Example.", RecordType::AAAA);
    let answer = filter.both(&aaaa).await;
    assert_answers_query(&answer, &aaaa);
    assert_eq!(data(&answer), [RData::AAAA(AAAA(Ipv6Addr::UNSPECIFIED))]);

    // Other types: NOERROR without records.
    for record_type in [RecordType::MX, RecordType::TXT, RecordType::HTTPS] {
        let other = query(0x0103, "blocked.example.", record_type);
        let answer = filter.both(&other).await;
        assert_answers_query(&answer, &other);
        assert_eq!(answer.response_code, ResponseCode::NoError);
        assert!(answer.answers.is_empty());
    }

    assert!(
        upstream.log.seen().is_empty(),
        "blocked names never reach the upstream"
    );
    assert_eq!(filter.stat(|s| &s.blocked), 10);
    assert_eq!(filter.stat(|s| &s.queries), 10);
    assert_eq!(filter.stat(|s| &s.forwarded), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_names_get_nxdomain_when_so_configured() {
    let upstream = fake_upstream().await;
    let filter = Filter::start(
        test_policy,
        DnsOptions {
            blocked_answer: BlockedAnswer::NxDomain,
            blocked_ttl: 5,
            ..options(vec![upstream.addr])
        },
    )
    .await;
    for record_type in [RecordType::A, RecordType::AAAA, RecordType::MX] {
        let blocked = query(7, "blocked.example.", record_type);
        let answer = filter.both(&blocked).await;
        assert_answers_query(&answer, &blocked);
        assert_eq!(answer.response_code, ResponseCode::NXDomain);
        assert!(answer.answers.is_empty());
    }
    assert!(upstream.log.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canary_domain_is_nxdomain_even_with_a_sinkhole() {
    let upstream = fake_upstream().await;
    let filter = Filter::with_upstream(&upstream).await;
    for record_type in [RecordType::A, RecordType::AAAA] {
        let canary = query(0xcafe, "use-application-dns.net.", record_type);
        let answer = filter.both(&canary).await;
        assert_answers_query(&answer, &canary);
        assert_eq!(answer.response_code, ResponseCode::NXDomain);
        assert!(answer.answers.is_empty());
    }
    assert!(upstream.log.seen().is_empty());
    assert_eq!(filter.stat(|s| &s.blocked), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safesearch_is_a_cname_plus_the_target_address() {
    let upstream = fake_upstream().await;
    let filter = Filter::with_upstream(&upstream).await;
    let target = name("forcesafesearch.google.com.");
    let cname = RData::CNAME(CNAME(target.clone()));

    let a = query(0x5afe, "www.google.com.", RecordType::A);
    let answer = filter.udp(&a).await;
    assert_answers_query(&answer, &a);
    assert_eq!(answer.response_code, ResponseCode::NoError);
    assert_eq!(data(&answer), [cname.clone(), RData::A(A(UPSTREAM_V4))]);
    assert_eq!(answer.answers[0].name, name("www.google.com."));
    assert_eq!(answer.answers[1].name, target);
    assert_eq!(
        upstream.log.names(),
        [(
            Proto::Udp,
            "forcesafesearch.google.com.".to_owned(),
            RecordType::A
        )],
        "the target, never the original name, is resolved upstream"
    );

    let aaaa = query(0x5aff, "WWW.google.com.", RecordType::AAAA);
    let answer = filter.tcp(&aaaa).await;
    assert_answers_query(&answer, &aaaa);
    assert_eq!(
        data(&answer),
        [cname.clone(), RData::AAAA(AAAA(UPSTREAM_V6))]
    );
    assert_eq!(
        upstream.log.names()[1],
        (
            Proto::Tcp,
            "forcesafesearch.google.com.".to_owned(),
            RecordType::AAAA
        ),
        "TCP clients are resolved over TCP"
    );

    // HTTPS (and other types): the CNAME alone, nothing asked upstream.
    let https = query(0x5b00, "www.google.com.", RecordType::HTTPS);
    let answer = filter.both(&https).await;
    assert_answers_query(&answer, &https);
    assert_eq!(data(&answer), [cname]);
    assert_eq!(upstream.log.seen().len(), 2);
    assert_eq!(filter.stat(|s| &s.rewritten), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn safesearch_cname_comes_alone_when_the_upstream_fails() {
    let upstream = fake_upstream().await;
    upstream.log.silent.store(true, Ordering::SeqCst);
    let filter = Filter::start(
        test_policy,
        DnsOptions {
            upstream_timeout: Duration::from_millis(200),
            ..options(vec![upstream.addr])
        },
    )
    .await;
    let a = query(1, "www.google.com.", RecordType::A);
    let answer = filter.both(&a).await;
    assert_eq!(answer.response_code, ResponseCode::NoError);
    assert_eq!(
        data(&answer),
        [RData::CNAME(CNAME(name("forcesafesearch.google.com.")))]
    );
    assert_eq!(filter.stat(|s| &s.upstream_failures), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_names_are_relayed_with_the_client_id() {
    let upstream = fake_upstream().await;
    let filter = Filter::with_upstream(&upstream).await;

    let mut a = query(0x1234, "Example.COM.", RecordType::A);
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    a.set_edns(edns);
    let answer = filter.udp(&a).await;
    assert_answers_query(&answer, &a);
    assert_eq!(data(&answer), [RData::A(A(UPSTREAM_V4))]);
    assert_eq!(
        answer.answers[0].ttl, 300,
        "the upstream's answer, unchanged"
    );
    assert_eq!(
        answer.edns.as_ref().map(Edns::max_payload),
        Some(1232),
        "EDNS passes through"
    );

    let aaaa = query(0xfedc, "example.com.", RecordType::AAAA);
    let answer = filter.tcp(&aaaa).await;
    assert_answers_query(&answer, &aaaa);
    assert_eq!(data(&answer), [RData::AAAA(AAAA(UPSTREAM_V6))]);

    let seen = upstream.log.names();
    assert_eq!(
        seen,
        [
            (Proto::Udp, "example.com.".to_owned(), RecordType::A),
            (Proto::Tcp, "example.com.".to_owned(), RecordType::AAAA),
        ]
    );
    assert_eq!(filter.stat(|s| &s.forwarded), 2);
    assert_eq!(filter.stat(|s| &s.upstream_failures), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_upstream_answers_are_fetched_again_over_tcp() {
    let upstream = fake_upstream().await;
    let filter = Filter::with_upstream(&upstream).await;
    let big = query(0x0b16, "big.example.", RecordType::A);
    let answer = filter.udp(&big).await;
    assert_answers_query(&answer, &big);
    assert!(!answer.truncation);
    assert_eq!(answer.answers.len(), 3);
    let protos: Vec<Proto> = upstream
        .log
        .names()
        .into_iter()
        .map(|(proto, _, _)| proto)
        .collect();
    assert_eq!(protos, [Proto::Udp, Proto::Tcp]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_upstream_means_servfail_within_the_timeout() {
    let upstream = fake_upstream().await;
    upstream.log.silent.store(true, Ordering::SeqCst);
    let limit = Duration::from_millis(300);
    let filter = Filter::start(
        test_policy,
        DnsOptions {
            upstream_timeout: limit,
            ..options(vec![upstream.addr])
        },
    )
    .await;
    let a = query(0x5e5e, "example.com.", RecordType::A);

    let started = Instant::now();
    let answer = filter.udp(&a).await;
    let elapsed = started.elapsed();
    assert_answers_query(&answer, &a);
    assert_eq!(answer.response_code, ResponseCode::ServFail);
    assert!(elapsed >= limit && elapsed < limit * 4, "{elapsed:?}");

    let started = Instant::now();
    let answer = filter.tcp(&a).await;
    let elapsed = started.elapsed();
    assert_eq!(answer.response_code, ResponseCode::ServFail);
    assert!(elapsed >= limit && elapsed < limit * 4, "{elapsed:?}");

    assert_eq!(
        upstream.log.seen().len(),
        2,
        "the query did reach the upstream"
    );
    assert_eq!(filter.stat(|s| &s.upstream_failures), 2);
    assert_eq!(filter.stat(|s| &s.forwarded), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_upstream_answers_when_the_first_is_silent() {
    let silent = fake_upstream().await;
    silent.log.silent.store(true, Ordering::SeqCst);
    let good = fake_upstream().await;
    let filter = Filter::start(
        test_policy,
        DnsOptions {
            upstream_timeout: Duration::from_millis(200),
            ..options(vec![silent.addr, good.addr])
        },
    )
    .await;
    let a = query(77, "example.com.", RecordType::A);
    let answer = filter.both(&a).await;
    assert_eq!(data(&answer), [RData::A(A(UPSTREAM_V4))]);
    assert_eq!(silent.log.seen().len(), 2);
    assert_eq!(good.log.seen().len(), 2);
    assert_eq!(filter.stat(|s| &s.upstream_failures), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_upstream_means_servfail() {
    let filter = Filter::start(test_policy, options(Vec::new())).await;
    let a = query(3, "example.com.", RecordType::A);
    let answer = filter.both(&a).await;
    assert_answers_query(&answer, &a);
    assert_eq!(answer.response_code, ResponseCode::ServFail);
    // Blocking works without any upstream.
    let blocked = filter
        .both(&query(4, "blocked.example.", RecordType::A))
        .await;
    assert_eq!(data(&blocked), [RData::A(A(Ipv4Addr::UNSPECIFIED))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decisions_depend_on_the_client_address() {
    let upstream = fake_upstream().await;
    let filter = Filter::with_upstream(&upstream).await;
    let games = query(0x6a3e, "games.example.", RecordType::A);

    for answer in [
        filter.udp_from(PARENT, &games).await,
        filter.tcp_from(PARENT, &games).await,
    ] {
        assert_eq!(data(&answer), [RData::A(A(UPSTREAM_V4))]);
    }
    for answer in [
        filter.udp_from(CHILD, &games).await,
        filter.tcp_from(CHILD, &games).await,
    ] {
        assert_answers_query(&answer, &games);
        assert_eq!(data(&answer), [RData::A(A(Ipv4Addr::UNSPECIFIED))]);
    }
    assert_eq!(
        upstream.log.seen().len(),
        2,
        "only the parent's queries were forwarded"
    );
}

#[tokio::test] // one thread: the server handles datagrams in the order they were sent
async fn malformed_datagrams_are_answered_formerr_or_dropped_and_serving_goes_on() {
    let upstream = fake_upstream().await;
    let filter = Filter::with_upstream(&upstream).await;
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    socket.connect(filter.udp).await.unwrap();

    // A truncated header: dropped. The next answer is the FORMERR of two questions.
    socket.send(&[0x12, 0x34, 0x01]).await.unwrap();
    let mut two = query(0x2222, "a.example.", RecordType::A);
    two.add_query(Query::query(name("b.example."), RecordType::A));
    socket.send(&two.to_vec().unwrap()).await.unwrap();
    let answer = udp_receive(&socket).await;
    assert_eq!(
        (answer.id, answer.response_code),
        (0x2222, ResponseCode::FormErr)
    );
    assert_eq!(answer.message_type, MessageType::Response);

    // A header announcing a question followed by junk: FORMERR with its id.
    let mut junk = query(0x3333, "example.com.", RecordType::A)
        .to_vec()
        .unwrap();
    junk.truncate(12);
    junk.extend_from_slice(&[0xff; 9]);
    socket.send(&junk).await.unwrap();
    let answer = udp_receive(&socket).await;
    assert_eq!(
        (answer.id, answer.response_code),
        (0x3333, ResponseCode::FormErr)
    );

    // Pseudo-random junk: whatever comes back is FORMERR or NOTIMP (junk shorter than a header or flagged as a
    // response gets nothing), and a good query afterwards is answered.
    let mut state = 0x9e37_79b9_u32;
    let mut junk_sent = 0;
    for round in 0..40_usize {
        let blob: Vec<u8> = (0..round * 3)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state.to_be_bytes()[0]
            })
            .collect();
        socket.send(&blob).await.unwrap();
        junk_sent += 1;
    }
    let good = query(0x600d, "example.com.", RecordType::A);
    socket.send(&good.to_vec().unwrap()).await.unwrap();
    let answer = loop {
        let answer = udp_receive(&socket).await;
        if answer.id == good.id && answer.response_code == ResponseCode::NoError {
            break answer;
        }
        assert!(
            matches!(
                answer.response_code,
                ResponseCode::FormErr | ResponseCode::NotImp
            ),
            "{answer:?}"
        );
    };
    assert_eq!(data(&answer), [RData::A(A(UPSTREAM_V4))]);
    assert_eq!(filter.stat(|s| &s.queries), 3 + junk_sent + 1);
    assert!(filter.stat(|s| &s.malformed) >= 3);
    assert_eq!(filter.stat(|s| &s.forwarded), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_tcp_messages_do_not_end_the_connection() {
    let upstream = fake_upstream().await;
    let filter = Filter::with_upstream(&upstream).await;
    let mut stream = filter.tcp_connect_from(PARENT).await;

    // Too short for a header: dropped; then two questions: FORMERR.
    write_message(&mut stream, &[1, 2, 3]).await.unwrap();
    let mut two = query(0x2222, "a.example.", RecordType::A);
    two.add_query(Query::query(name("b.example."), RecordType::A));
    write_message(&mut stream, &two.to_vec().unwrap())
        .await
        .unwrap();
    let answer = tcp_receive(&mut stream).await;
    assert_eq!(
        (answer.id, answer.response_code),
        (0x2222, ResponseCode::FormErr)
    );

    // A notify: NOTIMP.
    let mut notify = query(0x4444, "example.com.", RecordType::SOA);
    notify.metadata.op_code = OpCode::Notify;
    write_message(&mut stream, &notify.to_vec().unwrap())
        .await
        .unwrap();
    let answer = tcp_receive(&mut stream).await;
    assert_eq!(
        (answer.id, answer.response_code),
        (0x4444, ResponseCode::NotImp)
    );

    // The connection still serves.
    let good = query(0x600d, "example.com.", RecordType::A);
    write_message(&mut stream, &good.to_vec().unwrap())
        .await
        .unwrap();
    let answer = tcp_receive(&mut stream).await;
    assert_answers_query(&answer, &good);
    assert_eq!(data(&answer), [RData::A(A(UPSTREAM_V4))]);
    assert_eq!(filter.stat(|s| &s.malformed), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_tcp_connection_carries_several_queries() {
    let upstream = fake_upstream().await;
    let filter = Filter::with_upstream(&upstream).await;
    let mut stream = filter.tcp_connect_from(PARENT).await;

    // One after the other.
    for id in 1..=3 {
        let q = query(id, "example.com.", RecordType::A);
        write_message(&mut stream, &q.to_vec().unwrap())
            .await
            .unwrap();
        let answer = tcp_receive(&mut stream).await;
        assert_answers_query(&answer, &q);
    }

    // Pipelined in one write: answers may come in any order, each matched by id.
    let queries = [
        query(10, "blocked.example.", RecordType::A),
        query(11, "example.org.", RecordType::AAAA),
        query(12, "www.google.com.", RecordType::A),
        query(13, "use-application-dns.net.", RecordType::A),
        query(14, "example.net.", RecordType::A),
    ];
    let mut frames = Vec::new();
    for q in &queries {
        let bytes = q.to_vec().unwrap();
        frames.extend_from_slice(&u16::try_from(bytes.len()).unwrap().to_be_bytes());
        frames.extend_from_slice(&bytes);
    }
    stream.write_all(&frames).await.unwrap();
    let mut answers = Vec::new();
    for _ in &queries {
        answers.push(tcp_receive(&mut stream).await);
    }
    answers.sort_by_key(|answer| answer.id);
    for (answer, q) in answers.iter().zip(&queries) {
        assert_answers_query(answer, q);
    }
    assert_eq!(data(&answers[0]), [RData::A(A(Ipv4Addr::UNSPECIFIED))]);
    assert_eq!(data(&answers[1]), [RData::AAAA(AAAA(UPSTREAM_V6))]);
    assert_eq!(answers[2].answers.len(), 2);
    assert_eq!(answers[3].response_code, ResponseCode::NXDomain);
    assert_eq!(data(&answers[4]), [RData::A(A(UPSTREAM_V4))]);
    assert_eq!(filter.stat(|s| &s.queries), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_oversized_tcp_connections_are_closed() {
    let filter = Filter::start(
        test_policy,
        DnsOptions {
            tcp_idle_timeout: Duration::from_millis(200),
            ..options(Vec::new())
        },
    )
    .await;

    let mut idle = filter.tcp_connect_from(PARENT).await;
    let started = Instant::now();
    let mut buf = [0_u8; 16];
    let read = timeout(GUARD, idle.read(&mut buf))
        .await
        .expect("closed by the server");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(started.elapsed() >= Duration::from_millis(150));

    // A length prefix announcing more than a query can be: closed at once.
    let mut oversized = filter.tcp_connect_from(PARENT).await;
    oversized.write_all(&[0xff, 0xff, 0, 0]).await.unwrap();
    let read = timeout(GUARD, oversized.read(&mut buf))
        .await
        .expect("closed by the server");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert_eq!(filter.stat(|s| &s.malformed), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_both_servers_and_open_connections() {
    let upstream = fake_upstream().await;
    let mut filter = Filter::with_upstream(&upstream).await;
    // Both serve before the shutdown.
    let a = query(1, "example.com.", RecordType::A);
    filter.both(&a).await;
    let mut open = filter.tcp_connect_from(PARENT).await;
    write_message(&mut open, &a.to_vec().unwrap())
        .await
        .unwrap();
    tcp_receive(&mut open).await;

    for stop in filter.stop.drain(..) {
        stop.send(()).unwrap();
    }
    for server in filter.servers.drain(..) {
        timeout(GUARD, server)
            .await
            .expect("the server ends")
            .unwrap()
            .unwrap();
    }
    // The connection that was open is closed, and no new one is accepted.
    let mut buf = [0_u8; 16];
    let read = timeout(GUARD, open.read(&mut buf)).await.expect("closed");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(TcpStream::connect(filter.tcp).await.is_err());
}
