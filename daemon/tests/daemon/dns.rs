//! The DNS filter inside the daemon: profiles by client address, category lists, SafeSearch, canaries, DoH
//! resolver names, pass-through to a fake upstream on loopback, and the audit log.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::net::UdpSocket;

use crate::harness::TestDaemon;

/// A resolver on loopback that answers every A query with 192.0.2.1 and counts the queries it saw.
async fn fake_upstream() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((len, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let Ok(query) = Message::from_vec(&buf[..len]) else {
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
                        RData::A(A(Ipv4Addr::new(192, 0, 2, 1))),
                    ));
                }
            }
            let _ = socket.send_to(&reply.to_vec().unwrap(), from).await;
        }
    });
    (addr, task)
}

/// Asks `server` for `name`'s A records from `client` (any 127/8 address) over UDP.
async fn ask(server: SocketAddr, client: Ipv4Addr, name: &str) -> Message {
    let socket = UdpSocket::bind(SocketAddr::new(IpAddr::V4(client), 0))
        .await
        .unwrap();
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
    socket
        .send_to(&query.to_vec().unwrap(), server)
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let (len, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut buf))
        .await
        .expect("an answer within 5 s")
        .unwrap();
    let reply = Message::from_vec(&buf[..len]).unwrap();
    assert_eq!(reply.metadata.id, query.metadata.id);
    reply
}

fn addresses(reply: &Message) -> Vec<Ipv4Addr> {
    reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .collect()
}

fn cname(reply: &Message) -> Option<String> {
    reply.answers.iter().find_map(|r| match &r.data {
        RData::CNAME(target) => Some(target.0.to_ascii()),
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_filter_applies_each_devices_profile() {
    let (upstream, _upstream_task) = fake_upstream().await;
    let d = TestDaemon::start(|dir, config| {
        config.dns.enabled = true;
        config.dns.upstreams = vec![upstream];
        config.dns.clients = vec![haven_daemon::config::DnsClient {
            address: "127.0.0.2".parse().unwrap(),
            profile: "parent".to_owned(),
        }];
        let profiles = dir.join("data/profiles");
        std::fs::create_dir_all(&profiles).unwrap();
        std::fs::write(
            profiles.join("parent.toml"),
            "name = \"Parent\"\ntier = \"adult\"\n",
        )
        .unwrap();
    })
    .await;
    let dns = d.dns.unwrap();
    let child = Ipv4Addr::LOCALHOST;
    let parent = Ipv4Addr::new(127, 0, 0, 2);

    // Pass-through: the upstream's answer.
    let reply = ask(dns, child, "www.example.org.").await;
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(addresses(&reply), [Ipv4Addr::new(192, 0, 2, 1)]);

    // Gambling (built-in list) is sinkholed for the child (default profile, under 9), not for the parent.
    let reply = ask(dns, child, "www.bet365.com.").await;
    assert_eq!(addresses(&reply), [Ipv4Addr::UNSPECIFIED]);
    let reply = ask(dns, parent, "www.bet365.com.").await;
    assert_eq!(addresses(&reply), [Ipv4Addr::new(192, 0, 2, 1)]);

    // A DNS-over-HTTPS resolver name is blocked where bypass tools are.
    assert_eq!(
        addresses(&ask(dns, child, "dns.google.").await),
        [Ipv4Addr::UNSPECIFIED]
    );
    assert_eq!(
        addresses(&ask(dns, parent, "dns.google.").await),
        [Ipv4Addr::new(192, 0, 2, 1)]
    );

    // SafeSearch: a CNAME to the engine's safe name, with that name's address from upstream.
    let reply = ask(dns, child, "www.google.com.").await;
    assert_eq!(
        cname(&reply).as_deref(),
        Some("forcesafesearch.google.com.")
    );
    assert_eq!(addresses(&reply), [Ipv4Addr::new(192, 0, 2, 1)]);

    // The canary that turns browsers' own DoH off: NXDOMAIN for everyone.
    for client in [child, parent] {
        let reply = ask(dns, client, "use-application-dns.net.").await;
        assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    }

    let metrics = d.get("/metrics").await.text();
    // Two policy blocks and two canary NXDOMAINs.
    for line in [
        "haven_dns_queries_total{outcome=\"blocked\"} 4",
        "haven_dns_queries_total{outcome=\"rewritten\"} 1",
        "haven_dns_requests_total 8",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?} in\n{metrics}"
        );
    }

    // The block reached the audit log with the registrable domain only.
    let records = d.daemon.audit().unwrap().recent(10).unwrap();
    let text = serde_json::to_string(&records).unwrap();
    assert!(
        text.contains("\"bet365.com\"") && !text.contains("www.bet365.com"),
        "{text}"
    );
}
