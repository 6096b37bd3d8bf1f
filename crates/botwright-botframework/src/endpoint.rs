//! The inbound endpoint: `POST /api/messages` as an axum router.
//!
//! Each request goes through, in order: content type (`application/json`, else **415**), the
//! `Authorization` header (**401** when authentication is on and it is missing or malformed),
//! the body limit (**413**), the token (**403**, or **503** when signing keys cannot be had), the
//! JSON (**400**: not JSON, nested too deep, not an object, no string `type`, fields of the
//! wrong type, ids longer than
//! [`BotFrameworkConfig::max_id_bytes`](crate::BotFrameworkConfig::max_id_bytes)), the
//! token's claims against the activity (**403**), then the [`ActivityHandler`]. The channel gets
//! **202** once the handler returned (an accepted activity was handed over), the handler's
//! status and body for `invoke` activities, **503** with `Retry-After` (see
//! [`BotFrameworkConfig::unavailable_retry_after`](crate::BotFrameworkConfig::unavailable_retry_after))
//! when something the bot needs is down for now (its store: [`HandlerError::unavailable`](crate::HandlerError::unavailable)),
//! and **500** when the handler failed otherwise or panicked.
//! Every refusal is a [`Rejection`]: a JSON
//! `{"error": {"code", "message"}}` that says what is wrong.
//!
//! After an authenticated activity, its service URL host becomes trusted with the bot's token
//! (see [`TrustedHosts`]).

use crate::auth::{Authenticator, VerifiedToken, bearer_token};
use crate::handler::ActivityHandler;
use crate::rejection::Rejection;
use crate::trust::{TrustedHosts, service_url_origin};
use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use botwright::activity::ActivityType;
use botwright::{Activity, TurnOutcome};
use futures::FutureExt;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// The path channels post activities to.
pub const MESSAGES_PATH: &str = "/api/messages";

pub(crate) struct EndpointState {
    pub(crate) handler: Arc<dyn ActivityHandler>,
    pub(crate) authenticator: Option<Arc<Authenticator>>,
    pub(crate) trusted: Arc<TrustedHosts>,
    pub(crate) body_limit: usize,
    pub(crate) unavailable_retry_after: std::time::Duration,
    pub(crate) max_id_bytes: usize,
}

/// The router with `POST /api/messages`.
pub(crate) fn router(state: EndpointState) -> Router {
    Router::new().route(MESSAGES_PATH, post(receive)).with_state(Arc::new(state))
}

/// The `Content-Type` is JSON (else 415).
struct JsonContent;

impl<S: Send + Sync> FromRequestParts<S> for JsonContent {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        is_json(&parts.headers).map(|()| JsonContent).map_err(Rejection::UnsupportedMediaType)
    }
}

/// The bearer token of the `Authorization` header, when authentication is on (else 401); it is
/// verified once the body is read (a forged token costs a key lookup, not an unbounded read).
struct Bearer(Option<String>);

impl FromRequestParts<Arc<EndpointState>> for Bearer {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<EndpointState>) -> Result<Self, Rejection> {
        if state.authenticator.is_none() {
            return Ok(Bearer(None));
        }
        let header = parts.headers.get(header::AUTHORIZATION).map(|v| v.to_str().unwrap_or("<not text>"));
        Ok(Bearer(Some(bearer_token(header)?.to_owned())))
    }
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
        Err(format!("the Content-Type is {:?}; expected application/json", crate::limits::truncate_text(text, 100)))
    }
}

/// Reads the body, at most `limit` bytes.
async fn read_body(request: Request, limit: usize) -> Result<axum::body::Bytes, Rejection> {
    let (parts, body) = request.into_parts();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Rejection::PayloadTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(failure) if failure.downcast_ref::<LengthLimitError>().is_some() => {
            Err(Rejection::PayloadTooLarge { limit })
        }
        Err(failure) => Err(Rejection::UnreadableBody(failure.to_string())),
    }
}

async fn receive(
    State(state): State<Arc<EndpointState>>,
    JsonContent: JsonContent,
    Bearer(token): Bearer,
    request: Request,
) -> Result<Response, Rejection> {
    let bytes = read_body(request, state.body_limit).await?;
    let verified: Option<VerifiedToken> = match (&state.authenticator, token) {
        (Some(authenticator), Some(token)) => Some(authenticator.verify_token(&token).await?),
        _ => None,
    };
    let activity =
        parse_activity(&bytes).and_then(|a| check_lengths(a, state.max_id_bytes)).map_err(Rejection::BadActivity)?;
    if let Some(verified) = &verified {
        verified.check_activity(&activity)?;
        trust_service_url(&state.trusted, &activity).await;
    }

    let invoke = activity.kind == ActivityType::Invoke;
    match AssertUnwindSafe(state.handler.handle(activity)).catch_unwind().await {
        Ok(Ok(outcome)) if invoke => invoke_answer(outcome),
        Ok(Ok(_)) => Ok(StatusCode::ACCEPTED.into_response()),
        Ok(Err(failure)) if failure.is_unavailable() => {
            tracing::warn!(error = %failure, source = ?std::error::Error::source(&failure), "the bot cannot accept activities for now");
            Err(Rejection::Unavailable { message: failure.to_string(), retry_after: state.unavailable_retry_after })
        }
        Ok(Err(failure)) if failure.is_invalid() => {
            tracing::debug!(error = %failure, "an unusable activity was refused");
            Err(Rejection::BadActivity(failure.to_string()))
        }
        Ok(Err(failure)) => {
            tracing::error!(error = %failure, "the bot did not accept an activity");
            Err(Rejection::HandlerFailed)
        }
        Err(_) => {
            tracing::error!("the bot panicked while accepting an activity");
            Err(Rejection::HandlerFailed)
        }
    }
}

/// Reads an activity, saying precisely what is wrong when the body is not one.
///
/// A well-formed activity is read straight from the bytes; anything else is read again as a
/// [`Value`] to word the error (the only way to a precise message, and rare).
pub(crate) fn parse_activity(bytes: &[u8]) -> Result<Activity, String> {
    if let Ok(activity) = serde_json::from_slice::<Activity>(bytes)
        && has_type(&activity, bytes)
    {
        return Ok(activity);
    }
    explain(bytes)
}

/// Whether the activity read straight from `bytes` had a non-empty string `type`: any kind but
/// `message` proves it (only a string becomes a kind), but `message` is also the default, so for
/// it the body must have a top-level `type` key (which, the body having been read as an
/// activity, held a string naming `message`). `false` also when that cannot be told cheaply.
fn has_type(activity: &Activity, bytes: &[u8]) -> bool {
    match &activity.kind {
        ActivityType::Message => has_top_level_type_key(bytes) == Some(true),
        ActivityType::Other(kind) => !kind.is_empty(),
        _ => true,
    }
}

/// Whether `bytes`, valid JSON holding an object, has the key `"type"` at its top level; `None`
/// when it has not as such but has a key written with escapes (only a full parse can tell then).
///
/// A scan without building anything: it follows the nesting and skips strings.
fn has_top_level_type_key(bytes: &[u8]) -> Option<bool> {
    let mut depth = 0usize;
    let mut key_next = false;
    let mut unsure = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                let mut end = start;
                let mut escaped = false;
                while end < bytes.len() && bytes[end] != b'"' {
                    if bytes[end] == b'\\' {
                        escaped = true;
                        end += 1;
                    }
                    end += 1;
                }
                if depth == 1 && key_next {
                    if bytes.get(start..end) == Some(b"type".as_slice()) {
                        return Some(true);
                    }
                    unsure |= escaped;
                }
                key_next = false;
                i = end;
            }
            b'{' => {
                depth += 1;
                key_next = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' => key_next = depth == 1,
            b':' => key_next = false,
            _ => {}
        }
        i += 1;
    }
    if unsure { None } else { Some(false) }
}

/// Reads the body as a [`Value`] to say what is wrong with it (or, should it be an activity after
/// all, returns it).
fn explain(bytes: &[u8]) -> Result<Activity, String> {
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

/// Refuses an activity whose ids are longer than `max_id_bytes` or whose `serviceUrl` is longer
/// than [`MAX_SERVICE_URL_LEN`](crate::trust::MAX_SERVICE_URL_LEN): they would become storage
/// keys and travel in every reply.
pub(crate) fn check_lengths(activity: Activity, max_id_bytes: usize) -> Result<Activity, String> {
    let ids = [
        ("id", activity.id.as_deref()),
        ("replyToId", activity.reply_to_id.as_deref()),
        ("channelId", activity.channel_id.as_deref()),
        ("from.id", activity.from.as_ref().map(|a| a.id.as_str())),
        ("recipient.id", activity.recipient.as_ref().map(|a| a.id.as_str())),
        ("conversation.id", activity.conversation.as_ref().map(|c| c.id.as_str())),
    ];
    for (name, id) in ids {
        if let Some(id) = id.filter(|id| id.len() > max_id_bytes) {
            return Err(format!("the activity's `{name}` is {} bytes, more than {max_id_bytes}", id.len()));
        }
    }
    let max_url = crate::trust::MAX_SERVICE_URL_LEN;
    if let Some(url) = activity.service_url.as_deref().filter(|url| url.len() > max_url) {
        return Err(format!("the activity's `serviceUrl` is {} bytes, more than {max_url}", url.len()));
    }
    Ok(activity)
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
    match service_url_origin(service_url) {
        Ok(origin) => {
            if let Err(failure) = trusted.trust(&origin).await {
                tracing::error!(%origin, error = %failure, "could not record a trusted service URL host");
            }
        }
        Err(reason) => tracing::warn!(%reason, "an authenticated activity has an unusable service URL"),
    }
}

fn invoke_answer(outcome: TurnOutcome) -> Result<Response, Rejection> {
    let Some(invoke) = outcome.into_invoke_response() else { return Ok(StatusCode::OK.into_response()) };
    let Ok(status) = StatusCode::from_u16(invoke.status) else {
        tracing::error!(status = invoke.status, "the bot answered an invoke with an invalid status");
        return Err(Rejection::InvalidInvokeStatus(invoke.status));
    };
    Ok(match invoke.body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => status.into_response(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    /// `type` defaults to `message` when an activity is read, so a body without a usable `type`
    /// must be refused before that default applies, with the same words as before.
    #[test]
    fn a_type_is_required_even_when_the_rest_is_a_message() {
        let said = |body: &[u8]| parse_activity(body).unwrap_err();
        let message = r#""text":"hi","from":{"id":"u"},"conversation":{"id":"c"}"#;
        assert_eq!(said(format!("{{{message}}}").as_bytes()), "the activity has no `type`");
        assert_eq!(said(b"{}"), "the activity has no `type`");
        assert_eq!(said(format!(r#"{{"type":"",{message}}}"#).as_bytes()), "the activity's `type` is empty");
        assert_eq!(said(format!(r#"{{{message},"type":""}}"#).as_bytes()), "the activity's `type` is empty");
        assert_eq!(
            said(format!(r#"{{"type":null,{message}}}"#).as_bytes()),
            "the activity's `type` must be a string, not null"
        );
        assert_eq!(
            said(format!(r#"{{"type":7,{message}}}"#).as_bytes()),
            "the activity's `type` must be a string, not a number"
        );
        assert_eq!(
            said(format!(r#"{{"type":{{"name":"message"}},{message}}}"#).as_bytes()),
            "the activity's `type` must be a string, not an object"
        );
        assert_eq!(
            said(format!(r#"{{"type":["message"],{message}}}"#).as_bytes()),
            "the activity's `type` must be a string, not an array"
        );
        assert_eq!(said(br#"{"type":true}"#), "the activity's `type` must be a string, not a boolean");
        assert_eq!(said(br#"["message"]"#), "the body must be a JSON object (an activity), not an array");
        assert_eq!(said(br#""message""#), "the body must be a JSON object (an activity), not a string");
        assert_eq!(said(b"null"), "the body must be a JSON object (an activity), not null");
        // A `type` inside another object is not the activity's.
        assert_eq!(
            said(br#"{"text":"hi","entities":[{"type":"mention"}],"channelData":{"type":"message"}}"#),
            "the activity has no `type`"
        );
    }

    #[test]
    fn the_top_level_type_key_is_found_by_a_scan() {
        let scan = |body: &str| has_top_level_type_key(body.as_bytes());
        assert_eq!(scan(r#"{"type":"message"}"#), Some(true));
        assert_eq!(scan(r#" { "text" : "a \"type\": b" , "type" : "message" } "#), Some(true));
        assert_eq!(scan(r#"{"text":"hi"}"#), Some(false));
        assert_eq!(scan(r#"{}"#), Some(false));
        // Nested keys and string values are not the activity's `type`.
        assert_eq!(scan(r#"{"channelData":{"type":"x"},"entities":[{"type":"mention"}]}"#), Some(false));
        assert_eq!(scan(r#"{"text":"type","name":"\"type\"","value":["type",{"a":{"type":1}}]}"#), Some(false));
        assert_eq!(scan(r#"{"a":"x\\","b":[[],{}],"c":{"d":[{"type":[]}]}}"#), Some(false));
        assert_eq!(scan(r#"{"a":[1,2],"type":"message"}"#), Some(true));
        assert_eq!(scan(r#"{"a":{"b":{}},"type":"message"}"#), Some(true));
        // A key written with escapes needs the full parse.
        assert_eq!(scan(r#"{"\u0074ype":"message"}"#), None);
        assert_eq!(scan(r#"{"te\u0078t":"hi","type":"message"}"#), Some(true));
        assert_eq!(scan(r#"{"te\u0078t":"hi"}"#), None);
        // Escapes inside values are fine.
        assert_eq!(scan(r#"{"text":"\\","type":"message"}"#), Some(true));
    }

    /// Whichever way an activity is read, it is the same activity.
    #[test]
    fn activities_read_as_before() {
        let bodies: [&[u8]; 6] = [
            br#"{"type":"message","text":"hi","from":{"id":"u","name":"U","x":1},"conversation":{"id":"c"},
                "serviceUrl":"http://127.0.0.1:1/","channelData":{"type":"x"},"entities":[{"type":"mention"}],
                "x-custom":{"deep":[1,2.5,-3,null,true]}}"#,
            br#"{"type":"MESSAGE","text":"caps"}"#,
            br#"{"type":"invoke","name":"adaptiveCard/action","value":{"a":1}}"#,
            br#"{"type":"somethingNew","text":"later"}"#,
            br#"{"type":"message","text":"escaped keys"}"#,
            br#"{"type":"message","type":"typing"}"#,
        ];
        for body in bodies {
            let value: Value = serde_json::from_slice(body).unwrap();
            let expected: Activity = serde_json::from_value(value).unwrap();
            assert_eq!(parse_activity(body).unwrap(), expected, "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(parse_activity(br#"{"type":"message","type":"typing"}"#).unwrap().kind, ActivityType::Typing);
    }

    /// Any JSON value, a few levels deep, with keys that activities have (so that fields of the
    /// wrong type come up often).
    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            prop_oneof![Just("message".to_owned()), Just(String::new()), "\\PC{0,12}"].prop_map(Value::String),
        ];
        let key = prop_oneof![
            Just("type".to_owned()),
            Just("id".to_owned()),
            Just("text".to_owned()),
            Just("from".to_owned()),
            Just("conversation".to_owned()),
            Just("entities".to_owned()),
            Just("value".to_owned()),
            "[a-zA-Z]{1,8}",
        ];
        leaf.prop_recursive(4, 32, 5, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(key.clone(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// What the endpoint should make of a JSON value: an activity exactly when it is an object
    /// with a non-empty string `type` whose fields have the right types.
    fn is_activity(value: &Value) -> bool {
        matches!(value.get("type"), Some(Value::String(kind)) if !kind.is_empty())
            && serde_json::from_value::<Activity>(value.clone()).is_ok()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            if let Ok(activity) = parse_activity(&bytes) {
                proptest::prop_assert!(!matches!(&activity.kind, ActivityType::Other(kind) if kind.is_empty()));
            }
        }

        /// The fast path (straight to an activity) and the explaining path agree: a body is an
        /// activity exactly when it should be, however it is written.
        #[test]
        fn arbitrary_json_is_an_activity_exactly_when_it_should_be(value in json_value(), pretty in proptest::prelude::any::<bool>()) {
            let bytes = if pretty { serde_json::to_vec_pretty(&value) } else { serde_json::to_vec(&value) }.unwrap();
            let parsed = parse_activity(&bytes);
            proptest::prop_assert_eq!(parsed.is_ok(), is_activity(&value), "{:?} for {}", parsed.err(), value);
        }

        /// An activity-shaped object with a type is accepted, whatever the order of its keys.
        #[test]
        fn activities_with_any_key_order_are_read(kind in "[a-zA-Z]{1,12}", text in "\\PC{0,20}", type_last in proptest::prelude::any::<bool>()) {
            let body = if type_last {
                json!({ "text": text, "conversation": { "id": "c" }, "type": kind }).to_string()
            } else {
                json!({ "type": kind, "text": text, "conversation": { "id": "c" } }).to_string()
            };
            let activity = parse_activity(body.as_bytes()).unwrap();
            proptest::prop_assert_eq!(activity.text(), text.as_str());
        }
    }
}
