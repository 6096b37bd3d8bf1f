//! The sample's web hooks: subscriptions, notifications and standups, as JSON over HTTP.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /api/subscriptions` | 200, `[{"userId", "address"}]` |
//! | `POST /api/notify {address, notification}` or `{address, msgId, params}` | 200 `{"id"}` once delivered; 500 `{"error"}` if not delivered within the deadline (then it never will be); with `"wait": false`, 202 `{"id": outboxId}` at once |
//! | `GET /api/notify/{outboxId}` | 200 `{"state": "pending" \| "delivered" \| "dead" \| "withdrawn", ...}` |
//! | `POST /api/standup {members: [{id, address}], reportId}` | 200 once every member was asked |
//! | `GET /api/standup/{reportId}` | 200 `{"<userId>": "<status>"}` |
//!
//! Every refusal is `{"error": "..."}` saying what is wrong:
//! - with a token (`--webhook-token`), a request without `Authorization: Bearer <token>` gets
//!   401 (the token is compared in constant time);
//! - without a token, the hooks answer only requests addressed to a loopback name (`Host:
//!   localhost`, `127.0.0.1` or `[::1]`, any port), else 403: a web page the user visits cannot
//!   reach them through a DNS name rebound to 127.0.0.1 and read everyone's addresses;
//! - a POST whose body is not declared `Content-Type: application/json` gets 415 (with or without
//!   a token): a cross-site form cannot send one without the browser asking first;
//! - when the store is unavailable, 503 with `Retry-After` and the store's error.

use super::records;
use crate::delivery::{self, Outcome};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use botwright::error::{SendError, TurnError};
use botwright::storage::StorageError;
use botwright::text::Args;
use botwright::{Address, Bot, Message, StackPolicy};
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// How long a client is asked to wait (`Retry-After`) when the store is unavailable.
pub const STORE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// What the web hooks need.
#[derive(Debug, Clone)]
pub struct Hooks {
    /// The bot.
    pub bot: Bot,
    /// The bearer token web hook requests must carry, if any. Without one, the hooks answer
    /// only requests addressed to a loopback name.
    pub token: Option<String>,
    /// How long `POST /api/notify` waits for delivery.
    pub notify_timeout: Duration,
}

/// The web hook routes.
pub fn router(hooks: Hooks) -> Router {
    let hooks = Arc::new(hooks);
    Router::new()
        .route("/api/subscriptions", get(subscriptions))
        .route("/api/notify", post(notify))
        .route("/api/notify/{id}", get(notify_status))
        .route("/api/standup", post(standup))
        .route("/api/standup/{report_id}", get(report))
        .route_layer(middleware::from_fn_with_state(hooks.clone(), guard))
        .with_state(hooks)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    HookError { status, message: message.into(), retry_after: None }.into_response()
}

/// A web hook's failure: its status and what went wrong, answered as `{"error": message}`.
#[derive(Debug)]
struct HookError {
    status: StatusCode,
    message: String,
    /// Sent as `Retry-After` (seconds).
    retry_after: Option<Duration>,
}

impl HookError {
    fn bad_request(message: impl Into<String>) -> Self {
        HookError { status: StatusCode::BAD_REQUEST, message: message.into(), retry_after: None }
    }
}

impl IntoResponse for HookError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(json!({ "error": self.message }))).into_response();
        if let Some(after) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(after.as_secs()));
        }
        response
    }
}

/// Whether a store error means the store cannot be reached now (worth retrying later) rather
/// than a fault in what it holds. The core's `StorageError` has no finer classification: every
/// backend error (connection refused or lost, pool exhausted, disk failure) counts.
fn store_unavailable(e: &StorageError) -> bool {
    e.is_unavailable()
}

impl From<StorageError> for HookError {
    fn from(e: StorageError) -> Self {
        if store_unavailable(&e) {
            tracing::warn!(error = %e, "the store is unavailable");
            HookError {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: format!("the store is unavailable, try again later: {e}"),
                retry_after: Some(STORE_RETRY_AFTER),
            }
        } else {
            tracing::error!(error = %e, "the store failed");
            HookError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: format!("the store failed: {e}"),
                retry_after: None,
            }
        }
    }
}

impl From<SendError> for HookError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Storage(e) => e.into(),
            other => {
                HookError { status: StatusCode::INTERNAL_SERVER_ERROR, message: other.to_string(), retry_after: None }
            }
        }
    }
}

/// The checks every web hook request passes first: the token, the `Host` without a token, and
/// the content type of POSTs.
async fn guard(State(hooks): State<Arc<Hooks>>, request: Request, next: Next) -> Response {
    match &hooks.token {
        Some(token) => {
            let given = request
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if !given.is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.as_bytes()))) {
                return error(StatusCode::UNAUTHORIZED, "this web hook needs `Authorization: Bearer <token>`");
            }
        }
        None => {
            let host = host_of(&request);
            if !host.as_deref().is_some_and(is_loopback_host) {
                let shown = host.map(|h| format!("`Host: {}`", h.escape_default())).unwrap_or("no `Host`".into());
                return error(
                    StatusCode::FORBIDDEN,
                    format!(
                        "without a web hook token, the web hooks answer only requests to localhost, 127.0.0.1 or [::1] \
                         (this one has {shown}); set --webhook-token to call them by another name"
                    ),
                );
            }
        }
    }
    if request.method() == Method::POST && !is_json(request.headers()) {
        let given = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("none");
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("web hook requests need `Content-Type: application/json` (this one has {:?})", given),
        );
    }
    next.run(request).await
}

/// The host a request is addressed to: its `Host` header, or the authority of an absolute URI.
fn host_of(request: &Request) -> Option<String> {
    match request.headers().get(header::HOST) {
        Some(value) => Some(String::from_utf8_lossy(value.as_bytes()).into_owned()),
        None => request.uri().authority().map(|a| a.as_str().to_owned()),
    }
}

/// Whether `host` (`name[:port]`) names this machine's loopback: `localhost`, `127.0.0.1` or
/// `[::1]`, with any port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, "")) => return inside == "::1",
            Some((inside, port)) => return inside == "::1" && port.strip_prefix(':').is_some_and(is_port),
            _ => return false,
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) if is_port(port) => name,
            Some(_) => return false,
            None => host,
        }
    };
    name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1"
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit())
}

/// Whether the body is declared JSON: `application/json`, with parameters or not, in any case.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim())
        .is_some_and(|media| media.eq_ignore_ascii_case("application/json"))
}

fn parse_body(body: &Bytes) -> Result<Value, HookError> {
    serde_json::from_slice(body).map_err(|e| HookError::bad_request(format!("the body is not JSON: {e}")))
}

async fn subscriptions(State(hooks): State<Arc<Hooks>>) -> Response {
    match records::subscriptions(hooks.bot.storage()).await {
        Ok(list) => axum::Json(list).into_response(),
        Err(e) => HookError::from(e).into_response(),
    }
}

/// The message a notify request asks for: `msgId` (localized) wins over `notification`.
async fn notification(bot: &Bot, body: &Value, address: &Address) -> Result<Message, HookError> {
    if let Some(Value::String(id)) = body.get("msgId") {
        let params: Vec<Value> = match body.get("params") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(_) => return Err(HookError::bad_request("`params` must be an array of strings")),
        };
        let locale = bot.preferred_locale(address).await.map_err(HookError::from)?.unwrap_or_else(|| "en".into());
        let args = Args { positional: params, named: Vec::new() };
        return Ok(Message::localized(id.clone()).args(args).locale(locale));
    }
    match body.get("notification") {
        Some(Value::String(text)) => Ok(Message::new().text(text.clone())),
        _ => Err(HookError::bad_request("notify needs a string `notification` or a string `msgId`")),
    }
}

async fn notify(State(hooks): State<Arc<Hooks>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let address = match Address::from_value(body.get("address").unwrap_or(&Value::Null)) {
        Ok(a) => a,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("notify needs a valid address: {e}")),
    };
    let message = match notification(&hooks.bot, &body, &address).await {
        Ok(m) => m.address(address),
        Err(e) => return e.into_response(),
    };
    if body.get("wait") == Some(&Value::Bool(false)) {
        return match delivery::enqueue(&hooks.bot, message).await {
            Ok(id) => (StatusCode::ACCEPTED, axum::Json(json!({ "id": id }))).into_response(),
            Err(e) => HookError::from(e).into_response(),
        };
    }
    match delivery::deliver_within(&hooks.bot, message, hooks.notify_timeout).await {
        Outcome::Delivered(id) => axum::Json(json!({ "id": id })).into_response(),
        Outcome::Failed(e) => HookError::from(e).into_response(),
    }
}

async fn notify_status(State(hooks): State<Arc<Hooks>>, Path(id): Path<String>) -> Response {
    match delivery::status(&hooks.bot, &id).await {
        Ok(Some(status)) => axum::Json(status).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no notification with id {id:?}")),
        Err(e) => HookError::from(e).into_response(),
    }
}

async fn standup(State(hooks): State<Arc<Hooks>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let report_id = match body.get("reportId") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => return error(StatusCode::BAD_REQUEST, "standup needs a `reportId`"),
    };
    let Some(Value::Array(members)) = body.get("members") else {
        return error(StatusCode::BAD_REQUEST, "standup needs `members`, an array of {id, address}");
    };
    // Validate everyone before asking anyone.
    let mut addresses = Vec::with_capacity(members.len());
    for (i, member) in members.iter().enumerate() {
        match Address::from_value(member.get("address").unwrap_or(&Value::Null)) {
            Ok(a) => addresses.push(a),
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("member {i} has no valid address: {e}")),
        }
    }
    if let Err(e) = records::create_report(hooks.bot.storage(), &report_id).await {
        return HookError::from(e).into_response();
    }
    let bot = &hooks.bot;
    let report = &report_id;
    let failures: Vec<(String, TurnError)> = futures::stream::iter(addresses)
        .map(|address| async move {
            let args = super::standup_args(report, &address.user.id);
            bot.begin_dialog(&address, "standup", args, StackPolicy::Replace).await.map_err(|e| (address.user.id, e))
        })
        .buffer_unordered(32)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    if failures.is_empty() {
        return axum::Json(json!({ "reportId": report_id, "members": members.len() })).into_response();
    }
    let unavailable = failures.iter().any(|(_, e)| matches!(e, TurnError::Storage(e) if store_unavailable(e)));
    let list: Vec<String> = failures.iter().map(|(user, e)| format!("{user}: {e}")).collect();
    let message = format!("the standup could not start for: {}", list.join("; "));
    if unavailable {
        tracing::warn!(%message, "the store is unavailable");
        let status = StatusCode::SERVICE_UNAVAILABLE;
        return HookError { status, message, retry_after: Some(STORE_RETRY_AFTER) }.into_response();
    }
    error(StatusCode::INTERNAL_SERVER_ERROR, message)
}

async fn report(State(hooks): State<Arc<Hooks>>, Path(report_id): Path<String>) -> Response {
    match records::report(hooks.bot.storage(), &report_id).await {
        Ok(report) => axum::Json(report).into_response(),
        Err(e) => HookError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::{is_json, is_loopback_host};
    use axum::http::{HeaderMap, HeaderValue, header};
    use proptest::prelude::*;

    #[test]
    fn loopback_names_with_any_port() {
        for host in ["localhost", "LOCALHOST:3978", "127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:3978"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "127.0.0.2",
            "localhost:",
            "localhost:x",
            "127.0.0.1:80:80",
            "[::1",
            "[::1]x",
            "[::1]:",
            "[::2]",
            "0.0.0.0",
            "user@localhost",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn json_is_application_json_with_any_parameters() {
        let with = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            is_json(&headers)
        };
        assert!(with("application/json"));
        assert!(with("Application/JSON; charset=utf-8"));
        assert!(!with("text/plain"));
        assert!(!with("application/x-www-form-urlencoded"));
        assert!(!with("multipart/form-data; boundary=x"));
        assert!(!with("application/jsonp"));
        assert!(!is_json(&HeaderMap::new()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Only the three loopback names pass, whatever else a `Host` holds.
        #[test]
        fn only_loopback_names_pass(host in "\\PC{0,40}") {
            let name = match host.strip_prefix('[') {
                Some(rest) => rest.split(']').next().unwrap_or_default().to_owned(),
                None => host.split(':').next().unwrap_or_default().to_ascii_lowercase(),
            };
            if is_loopback_host(&host) {
                prop_assert!(["localhost", "127.0.0.1", "::1"].contains(&name.as_str()), "{:?}", host);
            }
        }
    }
}
