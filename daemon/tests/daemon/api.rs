//! Every endpoint, errors, the Unix socket, the parent credential and its back-off, the audit log.

use std::collections::BTreeSet;
use std::time::Duration;

use haven_daemon::http::{OPENAPI, ROUTES};
use hyper::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{PASSPHRASE, Reply, TestDaemon};

const MT: tokio::runtime::RuntimeFlavor = tokio::runtime::RuntimeFlavor::MultiThread;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_lists_exactly_the_served_routes() {
    assert_eq!(tokio::runtime::Handle::current().runtime_flavor(), MT);
    let d = TestDaemon::start(|_, _| {}).await;
    let served = d.get("/openapi.json").await;
    assert_eq!(served.status, StatusCode::OK);
    assert_eq!(served.text(), OPENAPI);
    let doc = served.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let routes: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, routes);

    // Every documented route is really served: none answers "no such endpoint" or "wrong method".
    d.set_passphrase();
    for (method, path) in &routes {
        let path = path.replace("{id}", "default");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let reply = d.parent(method.clone(), &path, PASSPHRASE, None).await;
        assert_ne!(reply.status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
    let missing = d.get("/v1/nothing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error(), "not_found");
    let wrong = d.get("/v1/check/url").await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong.error(), "method_not_allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_url_gives_the_verdict_for_the_profile() {
    let d = TestDaemon::start(|dir, _| {
        let profiles = dir.join("data/profiles");
        std::fs::create_dir_all(&profiles).unwrap();
        std::fs::write(
            profiles.join("adult.toml"),
            "name = \"Parent\"\ntier = \"adult\"\n",
        )
        .unwrap();
        let leo = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/profiles/leo-11.toml"
        ))
        .unwrap();
        std::fs::write(profiles.join("leo.toml"), leo).unwrap();
    })
    .await;

    // The default profile is the embedded strictest one: gambling (a built-in seed list) is blocked.
    let reply = d
        .post_json(
            "/v1/check/url",
            &json!({ "url": "https://www.bet365.com/%2E%2E/en/" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let body = reply.json();
    assert_eq!(body["profile"], "default");
    assert_eq!(body["verdict"]["action"], "block");
    assert_eq!(body["verdict"]["categories"][0]["category"], "gambling");
    assert_eq!(body["verdict"]["evidence"][0]["engine"], "url");
    assert!(body["verdict"]["message"]["standard"]["title"].is_string());

    assert_eq!(
        d.action("https://www.bet365.com/", Some("adult")).await,
        "allow"
    );
    assert_eq!(
        d.action("https://videos.example.net/x", Some("leo")).await,
        "block"
    );
    assert_eq!(
        d.action("https://en.wikipedia.org/wiki/Volcano", Some("leo"))
            .await,
        "allow"
    );

    // A search is allowed with its SafeSearch version.
    let reply = d
        .post_json(
            "/v1/check/url",
            &json!({ "url": "https://www.google.com/search?q=volcanoes", "profile": "leo" }),
        )
        .await;
    let redirect = reply.json()["verdict"]["redirect"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(redirect.contains("safe=active"), "{redirect}");

    let unknown = d
        .post_json(
            "/v1/check/url",
            &json!({ "url": "https://a.example/", "profile": "nobody" }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.error(), "unknown_profile");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_json_errors_that_never_echo_the_content() {
    let d = TestDaemon::start(|_, _| {}).await;
    let secret = "http://secret-diary-of-mia.example/%zz\u{0}";
    let invalid = d
        .post_json("/v1/check/url", &json!({ "url": "http://[::1" }))
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.error(), "invalid_url");

    let cases: Vec<(Vec<u8>, &str, StatusCode, &str)> = vec![
        (
            format!("{{\"url\": \"{secret}").into_bytes(),
            "application/json",
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            json!({ "url": 7, "note": secret }).to_string().into_bytes(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!({ "address": secret }).to_string().into_bytes(),
            "application/json",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
        ),
        (
            json!({ "url": secret }).to_string().into_bytes(),
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            json!({ "url": format!("http://x.example/{}", "a".repeat(70_000)) })
                .to_string()
                .into_bytes(),
            "application/json",
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let reply = d
            .send(
                Method::POST,
                "/v1/check/url",
                &[("content-type", content_type)],
                Some(body),
            )
            .await;
        assert_eq!(reply.status, status, "{}", reply.text());
        assert_eq!(reply.error(), code);
        assert!(!reply.text().contains("secret"), "{}", reply.text());
        assert!(!reply.text().contains("aaaa"), "{}", reply.text());
    }

    // Garbage on the socket closes that connection only; the daemon keeps serving.
    let mut raw = tokio::net::TcpStream::connect(d.http).await.unwrap();
    raw.write_all(b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut answer)).await;
    assert!(
        answer.starts_with(b"HTTP/1.1 400") || answer.is_empty(),
        "{answer:?}"
    );
    assert_eq!(d.action("https://example.org/", None).await, "allow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_and_conversations_are_checked() {
    let d = TestDaemon::start(|_, config| config.http.max_image_bytes = 1024).await;
    let verdict = |reply: &Reply| reply.json()["verdict"].clone();
    let categories = |reply: &Reply| -> Vec<String> {
        verdict(reply)["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["category"].as_str().unwrap().to_owned())
            .collect()
    };

    let hello = d
        .post_json("/v1/check/text", &json!({ "text": "hello" }))
        .await;
    assert_eq!(hello.status, StatusCode::OK, "{}", hello.text());
    assert_eq!(verdict(&hello)["action"], "allow");

    let rude = d
        .post_json("/v1/check/text", &json!({ "text": "what the f u c k" }))
        .await;
    assert_eq!(verdict(&rude)["action"], "block");
    assert_eq!(categories(&rude), ["profanity"]);
    let span = &verdict(&rude)["evidence"][0]["span"];
    assert_eq!(
        (span["start"].as_u64(), span["end"].as_u64()),
        (Some(9), Some(16))
    );

    // Personal data counts only in what the child sends.
    let email = json!({ "text": "write to mia.jones@example.com", "direction": "out" });
    let sent = d.post_json("/v1/check/text", &email).await;
    assert_eq!(categories(&sent), ["personal_info"], "{}", sent.text());
    let received = json!({ "text": "write to mia.jones@example.com", "direction": "in" });
    assert_eq!(
        verdict(&d.post_json("/v1/check/text", &received).await)["action"],
        "allow"
    );

    let grooming = json!({ "messages": [
        { "direction": "in", "text": "how old are you?", "time": "2026-11-23T16:00:00Z" },
        { "direction": "out", "text": "11", "time": "2026-11-23T16:01:00Z" },
        { "direction": "in", "text": "cool. don't tell your parents we talk ok", "time": "2026-11-23T16:05:00Z" }
    ]});
    let reply = d.post_json("/v1/check/text", &grooming).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(categories(&reply), ["grooming"]);
    assert_eq!(verdict(&reply)["evidence"][0]["message"], 0);
    assert_eq!(verdict(&reply)["evidence"][1]["message"], 2);
    let one_question = json!({ "messages": [
        { "direction": "in", "text": "how old are you?" },
        { "direction": "out", "text": "11" }
    ]});
    let reply = d.post_json("/v1/check/text", &one_question).await;
    assert_eq!(verdict(&reply)["action"], "allow", "{}", reply.text());

    let both = d.post_json("/v1/check/text", &json!({})).await;
    assert_eq!(both.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_direction = json!({ "messages": [{ "direction": "sideways", "text": "x" }] });
    assert_eq!(
        d.post_json("/v1/check/text", &bad_direction).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let bad_time =
        json!({ "messages": [{ "direction": "in", "text": "secret-text", "time": "yesterday" }] });
    let reply = d.post_json("/v1/check/text", &bad_time).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!reply.text().contains("secret-text"));
    let misplaced = json!({ "direction": "in", "messages": [{ "direction": "in", "text": "x" }] });
    assert_eq!(
        d.post_json("/v1/check/text", &misplaced).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let unknown = json!({ "text": "hi", "profile": "nobody" });
    assert_eq!(
        d.post_json("/v1/check/text", &unknown).await.status,
        StatusCode::NOT_FOUND
    );

    let huge = d
        .send(
            Method::POST,
            "/v1/check/image",
            &[("content-type", "image/png")],
            Some(vec![1; 2000]),
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.error(), "too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket_serves_the_same_api_and_goes_away_at_shutdown() {
    let mut d = TestDaemon::start(|_, _| {}).await;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};
    let meta = std::fs::metadata(&d.unix).unwrap();
    assert!(meta.file_type().is_socket());
    assert_eq!(meta.permissions().mode() & 0o777, 0o666);
    let reply = d
        .send_unix(
            Method::POST,
            "/v1/check/url",
            Some(&json!({ "url": "https://www.bet365.com/" })),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["verdict"]["action"], "block");
    let health = d.send_unix(Method::GET, "/healthz", None).await;
    assert_eq!(health.json()["status"], "ok");

    d.stop().await.unwrap();
    assert!(!d.unix.exists());
    assert!(tokio::net::TcpStream::connect(d.http).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administration_needs_the_parent_passphrase_with_back_off() {
    let d = TestDaemon::start(|_, _| {}).await;
    // Before a passphrase is set, administration is refused outright.
    let unset = d
        .parent(Method::GET, "/v1/profiles", "anything goes", None)
        .await;
    assert_eq!(unset.status, StatusCode::FORBIDDEN);
    assert_eq!(unset.error(), "no_parent_passphrase");
    d.set_passphrase();

    let none = d.get("/v1/profiles").await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(none.headers.contains_key("www-authenticate"));
    let ok = d
        .parent(Method::GET, "/v1/profiles", PASSPHRASE, None)
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json()["default"], "default");

    // Two free wrong attempts (the test configuration), then a lock-out that even the right passphrase meets.
    for _ in 0..2 {
        let wrong = d
            .parent(Method::POST, "/v1/lists/reload", "guess guess", None)
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(!wrong.text().contains("guess"));
    }
    let third = d
        .parent(Method::POST, "/v1/lists/reload", "guess again", None)
        .await;
    assert_eq!(third.status, StatusCode::UNAUTHORIZED);
    let locked = d.parent(Method::GET, "/v1/audit", PASSPHRASE, None).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.error(), "locked");
    let retry: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=1).contains(&retry), "{retry}");
    // Checks are not affected by the lock-out.
    assert_eq!(d.action("https://example.org/", None).await, "allow");

    tokio::time::sleep(Duration::from_millis(450)).await;
    let after = d.parent(Method::GET, "/v1/audit", PASSPHRASE, None).await;
    assert_eq!(after.status, StatusCode::OK);
    let metrics = d.get("/metrics").await.text();
    assert!(
        metrics.contains("haven_parent_auth_failures_total 3"),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_update_then_check() {
    let d = TestDaemon::start(|_, _| {}).await;
    d.set_passphrase();
    assert_eq!(d.action("https://www.instagram.com/", None).await, "block");

    let mia: Value = json!({
        "name": "Mia",
        "tier": "13-15",
        "language": "es",
        "deny_domains": ["games.example.com"]
    });
    let put = d
        .parent(Method::PUT, "/v1/profiles/mia", PASSPHRASE, Some(&mia))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text());
    assert_eq!(put.json()["profile"]["name"], "Mia");
    assert!(d.dir.path().join("data/profiles/mia.toml").exists());
    // Serving at once, no reload needed: social media is allowed at 13-15, the parent's deny list blocks.
    assert_eq!(
        d.action("https://www.instagram.com/", Some("mia")).await,
        "allow"
    );
    assert_eq!(
        d.action("https://games.example.com/", Some("mia")).await,
        "block"
    );
    let reply = d
        .post_json(
            "/v1/check/url",
            &json!({ "url": "https://games.example.com/", "profile": "mia" }),
        )
        .await;
    assert_eq!(reply.json()["verdict"]["message"]["language"], "es");

    let got = d
        .parent(Method::GET, "/v1/profiles/mia", PASSPHRASE, None)
        .await;
    assert_eq!(got.json()["profile"]["tier"], "13-15");
    let all = d
        .parent(Method::GET, "/v1/profiles", PASSPHRASE, None)
        .await
        .json();
    let ids: Vec<&str> = all["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["default", "mia"]);

    // Invalid profiles and ids are refused and change nothing.
    let bad = json!({ "name": "Mia", "tier": "toddler" });
    let refused = d
        .parent(Method::PUT, "/v1/profiles/mia", PASSPHRASE, Some(&bad))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error(), "invalid_profile");
    assert_eq!(
        d.action("https://games.example.com/", Some("mia")).await,
        "block"
    );
    let bad_id = d
        .parent(Method::PUT, "/v1/profiles/Mia..", PASSPHRASE, Some(&mia))
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    let no_auth = d
        .send(
            Method::PUT,
            "/v1/profiles/mia",
            &[("content-type", "application/json")],
            Some(
                json!({ "name": "Mia", "tier": "adult" })
                    .to_string()
                    .into_bytes(),
            ),
        )
        .await;
    assert_eq!(no_auth.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        d.action("https://www.bet365.com/", Some("mia")).await,
        "block"
    );
    let missing = d
        .parent(Method::GET, "/v1/profiles/nobody", PASSPHRASE, None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocked_checks_reach_the_audit_log_without_urls() {
    let d = TestDaemon::start(|_, _| {}).await;
    d.set_passphrase();
    assert_eq!(
        d.action("https://www.bet365.com/secret/path?q=mine", None)
            .await,
        "block"
    );
    assert_eq!(
        d.action("https://www.instagram.com/mia.private", None)
            .await,
        "block"
    );
    assert_eq!(d.action("https://example.org/allowed", None).await, "allow");

    let reply = d
        .parent(Method::GET, "/v1/audit?limit=10", PASSPHRASE, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let text = reply.text();
    assert!(
        !text.contains("secret") && !text.contains("private") && !text.contains("example.org"),
        "{text}"
    );
    let records = reply.json()["records"].as_array().unwrap().clone();
    let events: Vec<&Value> = records.iter().filter(|r| r["kind"] == "event").collect();
    assert_eq!(events.len(), 2, "{text}");
    assert_eq!(events[0]["domain"], "bet365.com");
    assert_eq!(events[0]["category"], "gambling");
    assert_eq!(events[0]["action"], "block");
    assert_eq!(events[0]["profile"], "default");
    assert_eq!(events[1]["domain"], "instagram.com");

    let bad_query = d
        .parent(Method::GET, "/v1/audit?limit=lots", PASSPHRASE, None)
        .await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);

    // The chain verifies, and an edit is detected.
    let path = d.daemon.config().audit_path();
    let report = haven_daemon::audit::verify(&path).unwrap();
    assert!(report.problems.is_empty(), "{report:?}");
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("bet365.com", "example.com");
    std::fs::write(&path, edited).unwrap();
    let report = haven_daemon::audit::verify(&path).unwrap();
    assert!(!report.problems.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_and_metrics() {
    let d = TestDaemon::start(|_, _| {}).await;
    let health = d.get("/healthz").await.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["generation"], 1);
    assert_eq!(health["parent_passphrase_set"], false);
    let ids: Vec<&str> = health["lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"gambling") && ids.contains(&"bypass-tools"),
        "{ids:?}"
    );

    d.action("https://www.bet365.com/", None).await;
    d.action("https://example.org/", None).await;
    let reply = d.get("/metrics").await;
    assert!(
        reply.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let metrics = reply.text();
    for line in [
        "haven_checks_total{engine=\"url\",action=\"block\"} 1",
        "haven_checks_total{engine=\"url\",action=\"allow\"} 1",
        "haven_http_requests_total{route=\"/v1/check/url\",status=\"200\"} 2",
        "haven_http_requests_total{route=\"/healthz\",status=\"200\"} 1",
        "haven_data_generation 1",
        "# TYPE haven_http_request_duration_seconds histogram",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?} in\n{metrics}"
        );
    }
    // Every sample line is `name{labels} value` with a numeric value.
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
}

/// A benign generated PNG (a gradient with a seed-dependent stripe).
fn png(seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(128, 96, |x, y| {
        let stripe = if (x / 8 + u32::from(seed)) % 3 == 0 {
            90
        } else {
            0
        };
        image::Rgb([
            (x * 2) as u8,
            ((y * 2) as u8).wrapping_add(stripe),
            seed.wrapping_mul(37),
        ])
    });
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_and_hashes_are_checked_against_the_hash_lists() {
    use haven_core::hash::list::{HashListOptions, ParsedHashList, to_hex};
    use haven_core::hash::{FileDigests, compiled::compile};
    let listed = png(1);
    let digests = FileDigests::of(&listed);
    let d = TestDaemon::start(|dir, _| {
        // A list built from a benign image the test generates: its MD5, and a made-up PDQ hash.
        let text = format!(
            "# id: test-abuse\n# version: 1\nmd5 {}\npdq {}\n",
            to_hex(&digests.md5),
            "f".repeat(64)
        );
        let parsed = ParsedHashList::parse(&text, &HashListOptions::default()).unwrap();
        std::fs::create_dir_all(dir.join("lists")).unwrap();
        std::fs::write(dir.join("lists/test-abuse.hvh"), compile(&parsed)).unwrap();
    })
    .await;
    let health = d.get("/healthz").await.json();
    assert!(
        health["lists"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["id"] == "test-abuse" && l["category"] == "known_abuse")
    );

    let send_image = |bytes: Vec<u8>| {
        let d = &d;
        async move {
            d.send(
                Method::POST,
                "/v1/check/image",
                &[("content-type", "image/png")],
                Some(bytes),
            )
            .await
        }
    };
    let blocked = send_image(listed.clone()).await;
    assert_eq!(blocked.status, StatusCode::OK, "{}", blocked.text());
    let verdict = &blocked.json()["verdict"];
    assert_eq!(verdict["action"], "block");
    assert_eq!(verdict["categories"][0]["category"], "known_abuse");
    assert_eq!(verdict["evidence"][0]["engine"], "hash");
    assert_eq!(verdict["evidence"][0]["source"]["id"], "test-abuse");
    assert_eq!(
        send_image(png(2)).await.json()["verdict"]["action"],
        "allow"
    );
    let garbage = send_image(b"not an image at all".to_vec()).await;
    assert_eq!(garbage.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(garbage.error(), "invalid_image");

    let by_hash = d
        .post_json(
            "/v1/check/hash",
            &json!({ "kind": "md5", "hash": to_hex(&digests.md5) }),
        )
        .await;
    assert_eq!(by_hash.json()["verdict"]["action"], "block");
    let near = format!("{}e", "f".repeat(63));
    let pdq = d
        .post_json("/v1/check/hash", &json!({ "kind": "pdq", "hash": near }))
        .await;
    assert_eq!(pdq.json()["verdict"]["action"], "block");
    assert_eq!(pdq.json()["verdict"]["evidence"][0]["score"], 1.0);
    let other = d
        .post_json(
            "/v1/check/hash",
            &json!({ "kind": "sha1", "hash": "0".repeat(40) }),
        )
        .await;
    assert_eq!(other.json()["verdict"]["action"], "allow");
    for (kind, hash) in [("md5", "00"), ("sha256", "00"), ("pdq", "zz")] {
        let bad = d
            .post_json("/v1/check/hash", &json!({ "kind": kind, "hash": hash }))
            .await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.error(), "invalid_hash");
    }
    // The audit log has the blocks, without any image data or hash.
    let records = d.daemon.audit().unwrap().recent(10).unwrap();
    let text = serde_json::to_string(&records).unwrap();
    assert!(
        text.contains("known_abuse") && !text.contains(&to_hex(&digests.md5)),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let d = TestDaemon::start(|_, config| config.http.request_timeout_ms = 1000).await;
    // Slow-loris: the start of a request, then nothing. The daemon closes the connection once the request
    // timeout has passed, on TCP and on the Unix socket, and keeps serving everyone else meanwhile.
    let mut tcp = tokio::net::TcpStream::connect(d.http).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut unix = tokio::net::UnixStream::connect(&d.unix).await.unwrap();
    unix.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    let started = std::time::Instant::now();
    assert_eq!(d.action("https://www.bet365.com/", None).await, "block");
    let mut answer = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut answer)).await;
    assert!(closed.is_ok(), "the slow TCP client was not disconnected");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(!answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
    let closed = tokio::time::timeout(Duration::from_secs(10), unix.read_to_end(&mut answer)).await;
    assert!(
        closed.is_ok(),
        "the slow Unix-socket client was not disconnected"
    );
    // A complete request on a fresh connection is still answered.
    assert_eq!(d.action("https://example.org/", None).await, "allow");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_text_model_joins_the_lexicons_in_text_verdicts() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let with_model = |config: &mut haven_daemon::config::Config, models: std::path::PathBuf| {
        config.text_model.enabled = true;
        config.text_model.ort_dylib =
            Some(root.join(haven_core::classify::runtime::DEFAULT_ORT_DYLIB));
        config.text_model.models_dir = Some(models);
    };
    let insult = json!({ "text": "your face is disgusting and everyone laughs at you" });
    let d = TestDaemon::start(|_, config| {
        with_model(config, root.join(haven_core::classify::DEFAULT_MODELS_DIR));
    })
    .await;
    // No lexicon word: the model alone (fast and MiniLM, English) blocks it for the default under-9 profile.
    let reply = d.post_json("/v1/check/text", &insult).await;
    let verdict = reply.json()["verdict"].clone();
    assert_eq!(verdict["action"], "block", "{}", reply.text());
    assert_eq!(verdict["categories"][0]["category"], "bullying");
    assert_eq!(verdict["evidence"][0]["engine"], "classifier");
    assert_eq!(
        verdict["evidence"][0]["source"]["id"],
        "haven-toxic-fast+haven-toxic-minilm"
    );
    let hello = d
        .post_json(
            "/v1/check/text",
            &json!({ "text": "are you coming to the party on saturday?" }),
        )
        .await;
    assert_eq!(
        hello.json()["verdict"]["action"],
        "allow",
        "{}",
        hello.text()
    );

    // Without the transformer installed, the daemon serves with the fast model alone.
    let fast_only =
        TestDaemon::start(|dir, config| with_model(config, dir.join("no-models"))).await;
    let reply = fast_only.post_json("/v1/check/text", &insult).await;
    let verdict = reply.json()["verdict"].clone();
    assert_eq!(verdict["action"], "block", "{}", reply.text());
    assert_eq!(verdict["evidence"][0]["source"]["id"], "haven-toxic-fast");
}
