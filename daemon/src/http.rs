//! The JSON API over HTTP/1.1 (TCP on loopback and a Unix socket): checks for apps on the device, and
//! parent-only administration behind the parent passphrase (`Authorization: Bearer PASSPHRASE`).
//!
//! Every error is `{"error": CODE, "message": TEXT}` with a fitting status; no error repeats the checked URL,
//! text or the request body.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{
    DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Path, Query, Request, State,
};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use haven_core::Profile;
use haven_core::i18n::Language;
use haven_core::text::{self, ChatMessage, TextContext};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::auth::AuthError;
use crate::state::{CheckError, Daemon, PutProfileError, is_profile_id};

/// The OpenAPI document served at `GET /openapi.json` (kept in step with [`ROUTES`] by a test).
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Every route as (method, path template): the router below serves exactly these.
pub const ROUTES: [(&str, &str); 12] = [
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
    ("post", "/v1/check/url"),
    ("post", "/v1/check/text"),
    ("post", "/v1/check/image"),
    ("post", "/v1/check/hash"),
    ("get", "/v1/profiles"),
    ("get", "/v1/profiles/{id}"),
    ("put", "/v1/profiles/{id}"),
    ("post", "/v1/lists/reload"),
    ("get", "/v1/audit"),
];

/// The API's router for a daemon.
pub fn router(daemon: Arc<Daemon>) -> Router {
    let http = &daemon.config().http;
    let limits = Arc::new(Limits {
        permits: Semaphore::new(http.max_concurrency),
        timeout: Duration::from_millis(http.request_timeout_ms),
    });
    let image_limit = http.max_image_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/check/url", post(check_url))
        .route("/v1/check/text", post(check_text))
        .route(
            "/v1/check/image",
            post(check_image).layer(DefaultBodyLimit::max(image_limit)),
        )
        .route("/v1/check/hash", post(check_hash))
        .route("/v1/profiles", get(list_profiles))
        .route("/v1/profiles/{id}", get(get_profile).put(put_profile))
        .route("/v1/lists/reload", post(reload))
        .route("/v1/audit", get(audit))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(http.max_body_bytes))
        .layer(middleware::from_fn_with_state(limits, limit))
        .layer(middleware::from_fn_with_state(daemon.clone(), count))
        .with_state(daemon)
}

struct Limits {
    permits: Semaphore,
    timeout: Duration,
}

/// Concurrency limit and time limit: a request waits for a permit, and waiting plus handling must fit the timeout.
async fn limit(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    let work = async {
        let Ok(_permit) = limits.permits.acquire().await else {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the daemon is stopping",
            );
        };
        next.run(request).await
    };
    match tokio::time::timeout(limits.timeout, work).await {
        Ok(response) => response,
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the request took too long; try again",
        ),
    }
}

/// Counts requests by route and status, with their durations.
async fn count(State(daemon): State<Arc<Daemon>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| ROUTES.iter().find(|(_, path)| *path == m.as_str()))
        .map_or("other", |(_, path)| *path);
    let response = next.run(request).await;
    daemon.metrics.count_request(
        route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// An error response.
fn error(status: StatusCode, code: &str, message: impl std::fmt::Display) -> Response {
    (
        status,
        Json(json!({ "error": code, "message": message.to_string() })),
    )
        .into_response()
}

/// A JSON body, with rejections turned into JSON errors that never echo the body.
struct JsonBody<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> Response {
    let status = rejection.status();
    let (code, message) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send the body as JSON (Content-Type: application/json)",
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            "invalid_request",
            "the JSON does not have the fields this endpoint needs (see /openapi.json)",
        ),
        _ => ("malformed_json", "the request body is not valid JSON"),
    };
    error(status, code, message)
}

async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint (see /openapi.json)",
    )
}

async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method (see /openapi.json)",
    )
}

async fn healthz(State(daemon): State<Arc<Daemon>>) -> Response {
    let snapshot = daemon.snapshot();
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "generation": snapshot.generation,
        "profiles": snapshot.profiles.len(),
        "lists": snapshot.lists,
        "parent_passphrase_set": daemon.auth.is_set(),
    }))
    .into_response()
}

async fn metrics(State(daemon): State<Arc<Daemon>>) -> Response {
    let snapshot = daemon.snapshot();
    let entries = snapshot.lists.iter().map(|l| l.entries).sum();
    let text = daemon
        .metrics
        .render(&daemon.dns_stats, snapshot.generation, entries);
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        OPENAPI,
    )
        .into_response()
}

/// `POST /v1/check/url`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UrlCheck {
    url: String,
    #[serde(default)]
    profile: Option<String>,
}

async fn check_url(
    State(daemon): State<Arc<Daemon>>,
    JsonBody(request): JsonBody<UrlCheck>,
) -> Response {
    let result = daemon.check_url(request.profile.as_deref(), &request.url);
    check_answer(&daemon, result, "invalid_url")
}

/// `POST /v1/check/text`: one message or a conversation.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TextCheck {
    #[serde(default)]
    text: Option<String>,
    /// Who wrote `text` (default `in`: to the child).
    #[serde(default)]
    direction: Option<Direction>,
    #[serde(default)]
    messages: Option<Vec<ConversationMessage>>,
    /// The text's language (default: the profile's).
    #[serde(default)]
    language: Option<Language>,
    #[serde(default)]
    profile: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversationMessage {
    direction: Direction,
    text: String,
    #[serde(default)]
    time: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Direction {
    In,
    Out,
}

impl From<Direction> for text::Direction {
    fn from(d: Direction) -> Self {
        match d {
            Direction::In => text::Direction::Incoming,
            Direction::Out => text::Direction::Outgoing,
        }
    }
}

async fn check_text(
    State(daemon): State<Arc<Daemon>>,
    JsonBody(request): JsonBody<TextCheck>,
) -> Response {
    let invalid =
        |message: &str| error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message);
    let mut context = TextContext::incoming();
    context.language = request.language;
    let profile = request.profile;
    // The text classifier runs ONNX Runtime: off the async workers, like image checks.
    let worker = daemon.clone();
    let result = match (request.text, request.messages) {
        (Some(text), None) => {
            context.direction = request
                .direction
                .map_or(text::Direction::Incoming, Into::into);
            tokio::task::spawn_blocking(move || {
                worker.check_text(profile.as_deref(), &text, &context)
            })
            .await
        }
        (None, Some(messages)) if request.direction.is_none() => {
            let mut chat = Vec::with_capacity(messages.len());
            for message in messages {
                let sent_at = match message.time.as_deref().map(humantime::parse_rfc3339) {
                    None => 0,
                    Some(Ok(time)) => time
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs()),
                    Some(Err(_)) => return invalid("\"time\" must be an RFC 3339 date-time"),
                };
                chat.push(ChatMessage {
                    direction: message.direction.into(),
                    text: message.text,
                    sent_at,
                });
            }
            tokio::task::spawn_blocking(move || {
                worker.check_conversation(profile.as_deref(), &chat, &context)
            })
            .await
        }
        (None, Some(_)) => return invalid("\"direction\" goes on each message of a conversation"),
        _ => return invalid("send either \"text\" or \"messages\""),
    };
    match result {
        Ok(result) => check_answer(&daemon, result, "invalid_text"),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "task failed"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageQuery {
    #[serde(default)]
    profile: Option<String>,
}

/// The answer to a check: the profile, the data generation and the verdict, or the error.
fn check_answer(
    daemon: &Daemon,
    result: Result<(String, haven_core::Verdict), CheckError>,
    invalid: &str,
) -> Response {
    match result {
        Ok((profile, verdict)) => Json(json!({
            "profile": profile,
            "generation": daemon.snapshot().generation,
            "verdict": verdict,
        }))
        .into_response(),
        Err(CheckError::UnknownProfile) => error(
            StatusCode::NOT_FOUND,
            "unknown_profile",
            CheckError::UnknownProfile,
        ),
        Err(CheckError::Input(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, invalid, e),
    }
}

/// `POST /v1/check/image`: the hash engine today (exact digests and PDQ against the loaded hash lists); the
/// image classifier joins it when it lands. Decoding and hashing run off the async threads.
async fn check_image(
    State(daemon): State<Arc<Daemon>>,
    query: Result<Query<ImageQuery>, axum::extract::rejection::QueryRejection>,
    image: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "bad query string",
        );
    };
    // The route's body limit applies here: an oversized image is a 413.
    let bytes = match image {
        Ok(bytes) if bytes.is_empty() => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_request",
                "the body must be the image's bytes",
            );
        }
        Ok(bytes) => bytes,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the image is larger than http.max_image_bytes",
            );
        }
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "cannot read the body",
            );
        }
    };
    let checked = {
        let daemon = daemon.clone();
        tokio::task::spawn_blocking(move || daemon.check_image(query.profile.as_deref(), &bytes))
            .await
    };
    match checked {
        Ok(result) => check_answer(&daemon, result, "invalid_image"),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "task failed"),
    }
}

/// `POST /v1/check/hash`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HashCheck {
    kind: String,
    hash: String,
    #[serde(default)]
    profile: Option<String>,
}

async fn check_hash(
    State(daemon): State<Arc<Daemon>>,
    JsonBody(request): JsonBody<HashCheck>,
) -> Response {
    let Some(kind) = haven_core::hash::HashKind::from_name(&request.kind) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_hash",
            "kind must be md5, sha1, blake3 or pdq",
        );
    };
    let Some(value) = haven_core::hash::HashValue::parse(kind, &request.hash) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_hash",
            format!("a {kind} hash is {} hex digits", kind.hex_digits()),
        );
    };
    let result = daemon.check_hash(request.profile.as_deref(), &value);
    check_answer(&daemon, result, "invalid_hash")
}

/// Proof that the request carried the parent passphrase.
struct Parent;

impl FromRequestParts<Arc<Daemon>> for Parent {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        daemon: &Arc<Daemon>,
    ) -> Result<Self, Self::Rejection> {
        let passphrase = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let result = match passphrase {
            None => Err(AuthError::Missing),
            Some(passphrase) => {
                // Fail fast during a lock-out; otherwise Argon2 runs off the async threads.
                match daemon.auth.check_lock() {
                    Err(e) => Err(e),
                    Ok(()) => {
                        let daemon = daemon.clone();
                        tokio::task::spawn_blocking(move || daemon.auth.verify(&passphrase))
                            .await
                            .unwrap_or(Err(AuthError::Io(std::io::ErrorKind::Other)))
                    }
                }
            }
        };
        match result {
            Ok(()) => Ok(Parent),
            Err(e) => {
                if e == AuthError::Wrong {
                    daemon
                        .metrics
                        .auth_failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Err(auth_error(&e))
            }
        }
    }
}

fn auth_error(e: &AuthError) -> Response {
    match e {
        AuthError::Missing | AuthError::Wrong => {
            let mut response = error(StatusCode::UNAUTHORIZED, "unauthorized", e);
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"haven parent\""),
            );
            response
        }
        AuthError::Locked { retry_after } => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "locked", e);
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&secs.max(1).to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            response
        }
        AuthError::NotSet => error(StatusCode::FORBIDDEN, "no_parent_passphrase", e),
        _ => error(StatusCode::INTERNAL_SERVER_ERROR, "credential_error", e),
    }
}

fn profile_json(profile: &Profile) -> Value {
    serde_json::from_str(&profile.to_json()).unwrap_or(Value::Null)
}

async fn list_profiles(_parent: Parent, State(daemon): State<Arc<Daemon>>) -> Response {
    let snapshot = daemon.snapshot();
    let profiles: Vec<Value> = snapshot
        .profiles
        .iter()
        .map(|(id, profile)| json!({ "id": id, "profile": profile_json(profile) }))
        .collect();
    Json(json!({
        "default": daemon.config().default_profile,
        "generation": snapshot.generation,
        "profiles": profiles,
    }))
    .into_response()
}

async fn get_profile(
    _parent: Parent,
    State(daemon): State<Arc<Daemon>>,
    Path(id): Path<String>,
) -> Response {
    let snapshot = daemon.snapshot();
    match snapshot.profiles.get(&id) {
        Some(profile) => {
            Json(json!({ "id": id, "profile": profile_json(profile) })).into_response()
        }
        None => error(StatusCode::NOT_FOUND, "unknown_profile", "no such profile"),
    }
}

async fn put_profile(
    _parent: Parent,
    State(daemon): State<Arc<Daemon>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if !is_profile_id(&id) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_id",
            PutProfileError::BadId,
        );
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "the body is not UTF-8",
        );
    };
    let profile = match Profile::from_json(text) {
        Ok(profile) => profile,
        Err(e) => return error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_profile", e),
    };
    let stored = {
        let daemon = daemon.clone();
        let id = id.clone();
        let profile = profile.clone();
        tokio::task::spawn_blocking(move || daemon.put_profile(&id, &profile)).await
    };
    match stored {
        Ok(Ok(report)) => Json(json!({
            "id": id,
            "generation": report.generation,
            "profile": profile_json(&profile),
        }))
        .into_response(),
        Ok(Err(e @ PutProfileError::Reload(_))) => {
            error(StatusCode::UNPROCESSABLE_ENTITY, "reload_failed", e)
        }
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, "write_failed", e),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "task failed"),
    }
}

async fn reload(_parent: Parent, State(daemon): State<Arc<Daemon>>) -> Response {
    let result = {
        let daemon = daemon.clone();
        tokio::task::spawn_blocking(move || daemon.reload()).await
    };
    match result {
        Ok(Ok(report)) => Json(report).into_response(),
        Ok(Err(e)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({
                "error": "reload_failed",
                "message": e.to_string(),
                "generation": daemon.snapshot().generation,
            })),
        )
            .into_response(),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "internal", "task failed"),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    #[serde(default = "default_audit_limit")]
    limit: usize,
}

fn default_audit_limit() -> usize {
    100
}

async fn audit(
    _parent: Parent,
    State(daemon): State<Arc<Daemon>>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let Ok(Query(query)) = query else {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "bad query string",
        );
    };
    let Some(log) = daemon.audit() else {
        return error(
            StatusCode::NOT_FOUND,
            "audit_off",
            "the audit log is turned off",
        );
    };
    match log.recent(query.limit.min(10_000)) {
        Ok(records) => Json(json!({ "records": records })).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "audit_error", e),
    }
}
