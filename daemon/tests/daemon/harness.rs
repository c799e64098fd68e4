//! Starting a daemon for a test and talking to it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use haven_core::Category;
use haven_core::url::compiled::compile;
use haven_core::url::list::{ListOptions, ParsedList};
use haven_daemon::config::{AuthConfig, Config};
use haven_daemon::server::{Listeners, ServeError, run};
use haven_daemon::state::Daemon;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tempfile::TempDir;
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) const PASSPHRASE: &str = "correct horse battery staple";

/// A running daemon in a temporary data directory.
pub(crate) struct TestDaemon {
    pub(crate) http: SocketAddr,
    pub(crate) dns: Option<SocketAddr>,
    pub(crate) unix: PathBuf,
    pub(crate) dir: TempDir,
    pub(crate) daemon: Arc<Daemon>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), ServeError>>>,
}

/// The test configuration: everything on loopback port 0, quick back-off and file watching, no DNS.
pub(crate) fn test_config(dir: &Path) -> Config {
    let mut config = Config {
        data_dir: dir.join("data"),
        lists_dir: Some(dir.join("lists")),
        ..Config::default()
    };
    config.http.listen = "127.0.0.1:0".parse().unwrap();
    config.http.unix_socket = Some(dir.join("run/havend.sock"));
    config.dns.enabled = false;
    config.dns.listen = "127.0.0.1:0".parse().unwrap();
    config.auth = AuthConfig {
        free_attempts: 2,
        base_lockout_ms: 400,
        max_lockout_ms: 800,
    };
    config.reload.watch_interval_ms = 100;
    // Generous: CI machines run many test binaries at once on two cores (the default of 5 s is for production).
    config.http.request_timeout_ms = 30_000;
    // Off unless a test turns it on: ONNX Runtime is loaded once per process, so one test loading it would change
    // what the others see (the lexicon-only verdicts they assert).
    config.text_model.enabled = false;
    config
}

impl TestDaemon {
    /// Starts a daemon; `setup` may write files into the directory and change the configuration first.
    pub(crate) async fn start(setup: impl FnOnce(&Path, &mut Config)) -> TestDaemon {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        setup(dir.path(), &mut config);
        let unix = config.http.unix_socket.clone().unwrap();
        let listeners = Listeners::bind(&config).await.unwrap();
        let (http, dns) = listeners.local_addrs();
        let daemon = Arc::new(Daemon::load(config).unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(daemon.clone(), listeners, async {
            let _ = stopped.await;
        }));
        TestDaemon {
            http: http.unwrap(),
            dns,
            unix,
            dir,
            daemon,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops it and returns what `run` returned.
    pub(crate) async fn stop(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("run returns after shutdown")
            .unwrap()
    }

    pub(crate) async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, &[], None).await
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// A request with the parent passphrase (or another one).
    pub(crate) async fn parent(
        &self,
        method: Method,
        path: &str,
        passphrase: &str,
        body: Option<&Value>,
    ) -> Reply {
        let auth = format!("Bearer {passphrase}");
        let mut headers = vec![("authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        self.send(
            method,
            path,
            &headers,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        let stream = TcpStream::connect(self.http).await.unwrap();
        send_on(stream, method, path, headers, body).await
    }

    pub(crate) async fn send_unix(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let stream = UnixStream::connect(&self.unix).await.unwrap();
        let headers: &[(&str, &str)] = if body.is_some() {
            &[("content-type", "application/json")]
        } else {
            &[]
        };
        send_on(
            stream,
            method,
            path,
            headers,
            body.map(|b| b.to_string().into_bytes()),
        )
        .await
    }

    /// Checks a URL for a profile and returns the verdict's action.
    pub(crate) async fn action(&self, url: &str, profile: Option<&str>) -> String {
        let mut body = serde_json::json!({ "url": url });
        if let Some(profile) = profile {
            body["profile"] = profile.into();
        }
        let reply = self.post_json("/v1/check/url", &body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        reply.json()["verdict"]["action"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) fn set_passphrase(&self) {
        haven_daemon::auth::set_passphrase(&self.daemon.config().credential_path(), PASSPHRASE)
            .unwrap();
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An HTTP response.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// The `error` code of an error body.
    pub(crate) fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub(crate) async fn send_on<S>(
    stream: S,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Reply
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

/// Compiles a domain list into `DIR/NAME.hvl`.
pub(crate) fn write_list(
    dir: &Path,
    name: &str,
    category: Category,
    version: &str,
    domains: &[&str],
) {
    let text = domains.join("\n");
    let options = ListOptions {
        id: Some(name.to_owned()),
        category: Some(category),
        version: Some(version.to_owned()),
        provenance: Some("test".to_owned()),
        ..ListOptions::default()
    };
    let parsed = ParsedList::parse(&text, &options).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    haven_core::url::compiled::write_atomically(dir.join(format!("{name}.hvl")), &compile(&parsed))
        .unwrap();
}

/// Waits (up to 5 s) until `check` holds.
pub(crate) async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not met within 5 s");
}
