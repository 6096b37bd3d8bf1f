//! The HTTP routes of the embedded Direct Line endpoint.

use super::conversation::Page;
use super::error::DirectLineError;
use super::token::{TokenClaims, TokenError};
use super::{BASE_PATH, CHANNEL_ID, Shared, stream};
use crate::endpoint::parse_activity;
use crate::handler::ActivityHandler;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use botwright::Activity;
use botwright::activity::{ActivityType, ChannelAccount, ConversationAccount};
use futures::FutureExt;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

type Answer = Result<Response, DirectLineError>;

pub(super) struct RouteState {
    pub(super) shared: Arc<Shared>,
    pub(super) handler: Arc<dyn ActivityHandler>,
}

pub(super) fn router(shared: Arc<Shared>, handler: Arc<dyn ActivityHandler>) -> Router {
    let state = Arc::new(RouteState { shared, handler });
    Router::new()
        .route(&format!("{BASE_PATH}/tokens/generate"), post(generate))
        .route(&format!("{BASE_PATH}/tokens/refresh"), post(refresh))
        .route(&format!("{BASE_PATH}/conversations"), post(start))
        .route(&format!("{BASE_PATH}/conversations/{{id}}"), get(reconnect))
        .route(&format!("{BASE_PATH}/conversations/{{id}}/activities"), post(post_activity).get(get_activities))
        .route(&format!("{BASE_PATH}/conversations/{{id}}/stream"), get(open_stream))
        .with_state(state)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Compares without stopping at the first difference.
fn same_secret(given: &str, secret: &str) -> bool {
    given.len() == secret.len() && given.bytes().zip(secret.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn watermark(query: Option<&str>) -> Result<Option<u64>, DirectLineError> {
    match query_param(query, "watermark") {
        None => Ok(None),
        Some(w) if w.is_empty() || w == "null" || w == "undefined" => Ok(None),
        Some(w) => w
            .parse()
            .map(Some)
            .map_err(|_| DirectLineError::BadRequest(format!("the watermark {w:?} is not one this endpoint gave"))),
    }
}

impl RouteState {
    fn base_url(&self, headers: &HeaderMap) -> String {
        if let Some(url) = &self.shared.config.public_url {
            return url.trim_end_matches('/').to_owned();
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        format!("http://{host}")
    }

    fn stream_url(&self, headers: &HeaderMap, id: &str, token: &str, watermark: Option<u64>) -> String {
        let base = self.base_url(headers);
        let ws = match base.strip_prefix("https://") {
            Some(rest) => format!("wss://{rest}"),
            None => format!("ws://{}", base.strip_prefix("http://").unwrap_or(&base)),
        };
        let mut url = format!("{ws}{BASE_PATH}/conversations/{id}/stream?t={token}");
        if let Some(w) = watermark {
            url.push_str(&format!("&watermark={w}"));
        }
        url
    }

    /// Checks that the request may use conversation `id`: a token for it, or the secret (which
    /// opens every conversation, as Direct Line's does).
    fn verify_for(&self, headers: &HeaderMap, id: &str) -> Result<TokenClaims, DirectLineError> {
        let token = bearer(headers).ok_or(TokenError::Missing)?;
        if self.is_secret(token) {
            return Ok(TokenClaims { conv: id.to_owned(), user: None, exp: 0, iat: 0, iss: String::new() });
        }
        Ok(self.shared.key.verify_for(token, id)?)
    }

    fn is_secret(&self, given: &str) -> bool {
        self.shared.config.secret.as_deref().is_some_and(|secret| same_secret(given, secret))
    }

    fn issue(&self, conversation_id: &str, user: Option<&str>) -> Result<String, DirectLineError> {
        Ok(self.shared.key.issue(conversation_id, user, self.shared.config.token_lifetime)?)
    }

    /// Whether a request may open a conversation without a token: with the secret, or in
    /// development mode.
    fn may_generate(&self, headers: &HeaderMap) -> Result<(), DirectLineError> {
        match &self.shared.config.secret {
            None => Ok(()),
            Some(secret) => match bearer(headers) {
                Some(given) if same_secret(given, secret) => Ok(()),
                Some(_) => Err(TokenError::Invalid("it is not this endpoint's secret".into()).into()),
                None => Err(TokenError::Missing.into()),
            },
        }
    }

    async fn read_body(&self, request: Request) -> Result<Bytes, DirectLineError> {
        let limit = self.shared.config.body_limit;
        let declared = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(DirectLineError::TooLarge(limit));
        }
        match Limited::new(request.into_body(), limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(failure) if failure.downcast_ref::<LengthLimitError>().is_some() => {
                Err(DirectLineError::TooLarge(limit))
            }
            Err(failure) => Err(DirectLineError::BadRequest(format!("the body could not be read: {failure}"))),
        }
    }

    fn token_answer(&self, id: &str, token: &str) -> Response {
        axum::Json(json!({
            "conversationId": id,
            "token": token,
            "expires_in": self.shared.config.token_lifetime.as_secs(),
        }))
        .into_response()
    }

    /// The answer to starting or reconnecting.
    fn conversation_answer(&self, headers: &HeaderMap, id: &str, token: &str, watermark: Option<u64>) -> Value {
        json!({
            "conversationId": id,
            "token": token,
            "expires_in": self.shared.config.token_lifetime.as_secs(),
            "streamUrl": self.stream_url(headers, id, token, watermark),
        })
    }

    /// Tells the bot the conversation began (a `conversationUpdate` with its members).
    async fn announce(&self, headers: &HeaderMap, id: &str, user: Option<&str>) {
        let bot = self.shared.config.bot.clone();
        let mut members = vec![bot.clone()];
        if let Some(user) = user {
            members.push(ChannelAccount::new(user));
        }
        let activity = Activity {
            kind: ActivityType::ConversationUpdate,
            channel_id: Some(CHANNEL_ID.into()),
            service_url: Some(self.base_url(headers)),
            conversation: Some(ConversationAccount::new(id)),
            recipient: Some(bot),
            from: user.map(ChannelAccount::new),
            members_added: Some(members),
            timestamp: Some(now()),
            ..Default::default()
        };
        if let Err(e) = self.handler.handle(activity).await {
            tracing::warn!(error = %e, conversation = %id, "the bot did not take a conversationUpdate");
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn new_conversation_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The user named in a generate body: `{"user": {"id"}}` (also `{"User": {"Id"}}`).
fn generate_user(bytes: &[u8]) -> Result<Option<String>, DirectLineError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let body: Value =
        serde_json::from_slice(bytes).map_err(|e| DirectLineError::BadRequest(format!("the body is not JSON: {e}")))?;
    let user = body.get("user").or_else(|| body.get("User"));
    let id = user.and_then(|u| u.get("id").or_else(|| u.get("Id")));
    match id {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) if !id.is_empty() => Ok(Some(id.clone())),
        Some(_) => Err(DirectLineError::BadRequest("`user.id` must be a non-empty string".into())),
    }
}

async fn generate(State(state): State<Arc<RouteState>>, request: Request) -> Answer {
    state.may_generate(request.headers())?;
    let bytes = state.read_body(request).await?;
    let user = generate_user(&bytes)?;
    let id = new_conversation_id();
    let token = state.issue(&id, user.as_deref())?;
    Ok(state.token_answer(&id, &token))
}

async fn refresh(State(state): State<Arc<RouteState>>, headers: HeaderMap) -> Answer {
    let token = bearer(&headers).ok_or(TokenError::Missing)?;
    let claims = state.shared.key.verify(token)?;
    let token = state.issue(&claims.conv, claims.user.as_deref())?;
    Ok(state.token_answer(&claims.conv, &token))
}

async fn start(State(state): State<Arc<RouteState>>, headers: HeaderMap) -> Answer {
    // A token opens its own conversation; the secret (or development mode) opens a new one.
    let given = bearer(&headers);
    let is_secret = given.is_some_and(|g| state.is_secret(g));
    let (id, token, user) = match given {
        Some(token) if !is_secret => {
            // Development mode too refuses a token that is not valid, rather than quietly
            // opening another conversation.
            let claims = state.shared.key.verify(token)?;
            (claims.conv, token.to_owned(), claims.user)
        }
        _ => {
            state.may_generate(&headers)?;
            let id = new_conversation_id();
            let token = state.issue(&id, None)?;
            (id, token, None)
        }
    };
    let (_, opened) = state.shared.conversations.get_or_open(&id);
    if opened {
        state.announce(&headers, &id, user.as_deref()).await;
    }
    let status = if opened { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(state.conversation_answer(&headers, &id, &token, None))).into_response())
}

async fn reconnect(
    State(state): State<Arc<RouteState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let claims = state.verify_for(&headers, &id)?;
    let watermark = watermark(query.as_deref())?;
    // The token proves the conversation was opened here: after a restart it opens again.
    let (_, opened) = state.shared.conversations.get_or_open(&id);
    if opened {
        tracing::info!(conversation = %id, "a client reconnected to a conversation not held: opened it again");
    }
    // A stream URL carries a token for this conversation, never the secret.
    let token = match bearer(&headers) {
        Some(given) if !state.is_secret(given) => given.to_owned(),
        _ => state.issue(&id, claims.user.as_deref())?,
    };
    Ok(axum::Json(state.conversation_answer(&headers, &id, &token, watermark)).into_response())
}

fn page_answer(page: &Page) -> Value {
    json!({
        "activities": page.activities.iter().map(|a| a.as_ref()).collect::<Vec<_>>(),
        "watermark": page.watermark.map(|w| w.to_string()),
    })
}

async fn get_activities(
    State(state): State<Arc<RouteState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    state.verify_for(&headers, &id)?;
    let watermark = watermark(query.as_deref())?;
    let conversation = state.shared.conversations.get(&id).ok_or(DirectLineError::UnknownConversation(id))?;
    Ok(axum::Json(page_answer(&conversation.since(watermark))).into_response())
}

async fn post_activity(State(state): State<Arc<RouteState>>, Path(id): Path<String>, request: Request) -> Answer {
    let headers = request.headers().clone();
    let claims = state.verify_for(&headers, &id)?;
    let conversation =
        state.shared.conversations.get(&id).ok_or_else(|| DirectLineError::UnknownConversation(id.clone()))?;
    let bytes = state.read_body(request).await?;
    let mut activity = parse_activity(&bytes).map_err(DirectLineError::BadRequest)?;
    // A token made for a user speaks as that user only (else one could overwrite another user's
    // address in the bot's address book); a token without one takes the activity's `from`.
    match (&mut activity.from, claims.user) {
        (Some(from), Some(user)) => {
            if from.id != user {
                tracing::debug!(from = %from.id, %user, "a Direct Line activity's sender replaced by the token's user");
                from.id = user;
            }
        }
        (None, Some(user)) => activity.from = Some(ChannelAccount::new(user)),
        (Some(from), None) if !from.id.is_empty() => {}
        _ => return Err(DirectLineError::BadRequest("the activity has no `from` with an `id`".into())),
    }
    activity.timestamp = Some(now());
    activity.channel_id = Some(CHANNEL_ID.into());
    activity.service_url = Some(state.base_url(&headers));
    activity.conversation = Some(ConversationAccount::new(id.as_str()));
    activity.recipient = Some(state.shared.config.bot.clone());
    let value = serde_json::to_value(&activity)
        .map_err(|e| DirectLineError::BadRequest(format!("the activity is malformed: {e}")))?;
    // Kept (and shown to the streams) before the bot runs, so that replies come after it.
    let activity_id =
        if activity.kind == ActivityType::Typing { conversation.show(value) } else { conversation.append(value) };
    activity.id = Some(activity_id.clone());
    match AssertUnwindSafe(state.handler.handle(activity)).catch_unwind().await {
        Ok(Ok(_)) => Ok(axum::Json(json!({ "id": activity_id })).into_response()),
        Ok(Err(failure)) if failure.is_invalid() => Err(DirectLineError::BadRequest(failure.to_string())),
        Ok(Err(failure)) => {
            tracing::error!(error = %failure, "the bot did not accept a Direct Line activity");
            Err(DirectLineError::BotFailed)
        }
        Err(_) => {
            tracing::error!("the bot panicked while accepting a Direct Line activity");
            Err(DirectLineError::BotFailed)
        }
    }
}

async fn open_stream(
    State(state): State<Arc<RouteState>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Answer {
    let token = query_param(query.as_deref(), "t").or_else(|| bearer(&headers).map(str::to_owned));
    let token = token.ok_or(TokenError::Missing)?;
    if !state.is_secret(&token) {
        state.shared.key.verify_for(&token, &id)?;
    }
    let watermark = watermark(query.as_deref())?;
    let conversation = state.shared.conversations.get(&id).ok_or(DirectLineError::UnknownConversation(id))?;
    Ok(upgrade.on_upgrade(move |socket| stream::run(socket, conversation, watermark)))
}
