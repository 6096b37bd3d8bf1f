//! The sample's web hooks: subscriptions, notifications and standups, as JSON over HTTP.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /api/subscriptions` | 200, `[{"userId", "address"}]` |
//! | `POST /api/notify {address, notification}` or `{address, msgId, params}` | 200 `{"id"}` once delivered; 500 `{"error"}` if not delivered within the deadline (then it never will be); with `"wait": false`, 202 `{"id": outboxId}` at once |
//! | `GET /api/notify/{outboxId}` | 200 `{"state": "pending" \| "delivered" \| "dead" \| "withdrawn", ...}` |
//! | `POST /api/standup {members: [{id, address}], reportId}` | 200 once every member was asked |
//! | `GET /api/standup/{reportId}` | 200 `{"<userId>": "<status>"}` |

use super::records;
use crate::delivery::{self, Outcome};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use botwright::text::Args;
use botwright::{Address, Bot, Message, StackPolicy};
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// What the web hooks need.
#[derive(Debug, Clone)]
pub struct Hooks {
    /// The bot.
    pub bot: Bot,
    /// The bearer token web hook requests must carry, if any.
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
        .route_layer(middleware::from_fn_with_state(hooks.clone(), require_token))
        .with_state(hooks)
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    HookError { status, message: message.into() }.into_response()
}

/// A web hook's failure: its status and what went wrong, answered as `{"error": message}`.
#[derive(Debug)]
struct HookError {
    status: StatusCode,
    message: String,
}

impl HookError {
    fn bad_request(message: impl Into<String>) -> Self {
        HookError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
}

impl IntoResponse for HookError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(json!({ "error": self.message }))).into_response()
    }
}

async fn require_token(State(hooks): State<Arc<Hooks>>, request: Request, next: Next) -> Response {
    if let Some(token) = &hooks.token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if given != Some(token.as_str()) {
            return error(StatusCode::UNAUTHORIZED, "this web hook needs `Authorization: Bearer <token>`");
        }
    }
    next.run(request).await
}

fn parse_body(body: &Bytes) -> Result<Value, HookError> {
    serde_json::from_slice(body).map_err(|e| HookError::bad_request(format!("the body is not JSON: {e}")))
}

fn storage_failure(e: impl std::fmt::Display) -> Response {
    store_error(e).into_response()
}

fn store_error(e: impl std::fmt::Display) -> HookError {
    tracing::error!(error = %e, "the store failed");
    HookError { status: StatusCode::INTERNAL_SERVER_ERROR, message: format!("the store failed: {e}") }
}

async fn subscriptions(State(hooks): State<Arc<Hooks>>) -> Response {
    match records::subscriptions(hooks.bot.storage()).await {
        Ok(list) => axum::Json(list).into_response(),
        Err(e) => storage_failure(e),
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
        let locale = bot.preferred_locale(address).await.map_err(store_error)?.unwrap_or_else(|| "en".into());
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
            Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        };
    }
    match delivery::deliver_within(&hooks.bot, message, hooks.notify_timeout).await {
        Outcome::Delivered(id) => axum::Json(json!({ "id": id })).into_response(),
        Outcome::Failed(reason) => error(StatusCode::INTERNAL_SERVER_ERROR, reason),
    }
}

async fn notify_status(State(hooks): State<Arc<Hooks>>, Path(id): Path<String>) -> Response {
    match delivery::status(&hooks.bot, &id).await {
        Ok(Some(status)) => axum::Json(status).into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, format!("no notification with id {id:?}")),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
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
        return storage_failure(e);
    }
    let bot = &hooks.bot;
    let report = &report_id;
    let failures: Vec<String> = futures::stream::iter(addresses)
        .map(|address| async move {
            let args = super::standup_args(report, &address.user.id);
            bot.begin_dialog(&address, "standup", args, StackPolicy::Replace)
                .await
                .map_err(|e| format!("{}: {e}", address.user.id))
        })
        .buffer_unordered(32)
        .filter_map(|r| async move { r.err() })
        .collect()
        .await;
    if failures.is_empty() {
        axum::Json(json!({ "reportId": report_id, "members": members.len() })).into_response()
    } else {
        error(StatusCode::INTERNAL_SERVER_ERROR, format!("the standup could not start for: {}", failures.join("; ")))
    }
}

async fn report(State(hooks): State<Arc<Hooks>>, Path(report_id): Path<String>) -> Response {
    match records::report(hooks.bot.storage(), &report_id).await {
        Ok(report) => axum::Json(report).into_response(),
        Err(e) => storage_failure(e),
    }
}
