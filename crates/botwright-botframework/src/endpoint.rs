//! The inbound endpoint: `POST /api/messages` as an axum router.
//!
//! Each request goes through, in order: content type (`application/json`, else **415**), the
//! `Authorization` header (**401** when authentication is on and it is missing or malformed),
//! the body limit (**413**), the token (**403**, or **503** when signing keys cannot be had), the
//! JSON (**400**: not JSON, not an object, no string `type`, fields of the wrong type), the
//! token's claims against the activity (**403**), then the [`ActivityHandler`]. The channel gets
//! **202** once the handler returned (an accepted activity was handed over), the handler's
//! status and body for `invoke` activities, and **500** when the handler failed or panicked.
//! Every error is a JSON `{"error": {"code", "message"}}` that says what is wrong.
//!
//! After an authenticated activity, its service URL host becomes trusted with the bot's token
//! (see [`TrustedHosts`]).

use crate::auth::{AuthError, Authenticator, VerifiedToken, bearer_token};
use crate::handler::{ActivityHandler, HandlerResponse};
use crate::trust::{TrustedHosts, service_url_host};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use botwright::Activity;
use futures::FutureExt;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// The path channels post activities to.
pub const MESSAGES_PATH: &str = "/api/messages";

pub(crate) struct EndpointState {
    pub(crate) handler: Arc<dyn ActivityHandler>,
    pub(crate) authenticator: Option<Arc<Authenticator>>,
    pub(crate) trusted: Arc<TrustedHosts>,
    pub(crate) body_limit: usize,
}

/// The router with `POST /api/messages`.
pub(crate) fn router(state: EndpointState) -> Router {
    Router::new().route(MESSAGES_PATH, post(receive)).with_state(Arc::new(state))
}

/// A JSON error answer in the Bot Framework's shape.
fn error(status: StatusCode, code: &str, message: impl std::fmt::Display) -> Response {
    let body = json!({ "error": { "code": code, "message": message.to_string() } });
    (status, axum::Json(body)).into_response()
}

fn auth_error(failure: &AuthError) -> Response {
    let status = StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::FORBIDDEN);
    tracing::info!(status = status.as_u16(), error = %failure, "refused an inbound request");
    let mut response = error(status, failure.code(), failure);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

fn is_json(headers: &HeaderMap) -> Result<(), String> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err("the request has no Content-Type; expected application/json".into());
    };
    let text = value.to_str().unwrap_or_default();
    let essence = text.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(format!("the Content-Type is {text:?}; expected application/json"))
    }
}

async fn receive(State(state): State<Arc<EndpointState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(message) = is_json(&parts.headers) {
        return error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UnsupportedMediaType", message);
    }
    let token = match &state.authenticator {
        Some(_) => {
            let header = parts.headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("<not text>"));
            match bearer_token(header) {
                Ok(token) => Some(token),
                Err(failure) => return auth_error(&failure),
            }
        }
        None => None,
    };

    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLarge",
            format!("the body is larger than {} bytes", state.body_limit),
        )
    };
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > state.body_limit as u64) {
        return too_large();
    }
    let bytes = match Limited::new(body, state.body_limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(failure) if failure.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
        Err(failure) => {
            return error(StatusCode::BAD_REQUEST, "BadRequest", format!("the body could not be read: {failure}"));
        }
    };

    let verified: Option<VerifiedToken> = match (&state.authenticator, token) {
        (Some(authenticator), Some(token)) => match authenticator.verify_token(token).await {
            Ok(verified) => Some(verified),
            Err(failure) => return auth_error(&failure),
        },
        _ => None,
    };

    let activity = match parse_activity(&bytes) {
        Ok(activity) => activity,
        Err(message) => return error(StatusCode::BAD_REQUEST, "BadArgument", message),
    };

    if let Some(verified) = &verified {
        if let Err(failure) = verified.check_activity(&activity) {
            return auth_error(&failure);
        }
        trust_service_url(&state.trusted, &activity).await;
    }

    let invoke = activity.kind == botwright::activity::ActivityType::Invoke;
    let handled = AssertUnwindSafe(state.handler.handle(activity)).catch_unwind().await;
    match handled {
        Ok(Ok(response)) if invoke => invoke_answer(response),
        Ok(Ok(_)) => StatusCode::ACCEPTED.into_response(),
        Ok(Err(failure)) if failure.is_invalid() => {
            tracing::debug!(error = %failure, "an unusable activity was refused");
            error(StatusCode::BAD_REQUEST, "BadArgument", failure.to_string())
        }
        Ok(Err(failure)) => {
            tracing::error!(error = %failure, "the bot did not accept an activity");
            error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "the bot failed to accept the activity")
        }
        Err(_) => {
            tracing::error!("the bot panicked while accepting an activity");
            error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "the bot failed to accept the activity")
        }
    }
}

/// Reads an activity, saying precisely what is wrong when the body is not one.
pub(crate) fn parse_activity(bytes: &[u8]) -> Result<Activity, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON: {e}"))?;
    let kind = match &value {
        Value::Object(map) => map.get("type"),
        Value::Array(_) => return Err("the body must be a JSON object (an activity), not an array".into()),
        other => return Err(format!("the body must be a JSON object (an activity), not {}", json_kind(other))),
    };
    match kind {
        Some(Value::String(kind)) if !kind.is_empty() => {}
        Some(Value::String(_)) => return Err("the activity's `type` is empty".into()),
        Some(other) => return Err(format!("the activity's `type` must be a string, not {}", json_kind(other))),
        None => return Err("the activity has no `type`".into()),
    }
    serde_json::from_value(value).map_err(|e| format!("the activity is malformed: {e}"))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

async fn trust_service_url(trusted: &TrustedHosts, activity: &Activity) {
    let Some(service_url) = activity.service_url.as_deref() else { return };
    match service_url_host(service_url) {
        Ok(host) => {
            if let Err(failure) = trusted.trust(&host).await {
                tracing::error!(%host, error = %failure, "could not record a trusted service URL host");
            }
        }
        Err(reason) => tracing::warn!(%reason, "an authenticated activity has an unusable service URL"),
    }
}

fn invoke_answer(response: HandlerResponse) -> Response {
    let Some(invoke) = response.invoke else { return StatusCode::OK.into_response() };
    let Ok(status) = StatusCode::from_u16(invoke.status) else {
        tracing::error!(status = invoke.status, "the bot answered an invoke with an invalid status");
        return error(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "the bot answered with an invalid status");
    };
    match invoke.body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => status.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_bad_bodies() {
        assert!(parse_activity(b"{").unwrap_err().contains("not JSON"));
        assert!(parse_activity(b"[]").unwrap_err().contains("array"));
        assert!(parse_activity(b"42").unwrap_err().contains("a number"));
        assert!(parse_activity(br#"{"text":"hi"}"#).unwrap_err().contains("no `type`"));
        assert!(parse_activity(br#"{"type":7}"#).unwrap_err().contains("must be a string"));
        assert!(parse_activity(br#"{"type":"message","from":"me"}"#).unwrap_err().contains("malformed"));
        assert_eq!(parse_activity(br#"{"type":"message","text":"hi"}"#).unwrap().text(), "hi");
    }
}
