//! The HTTP routes of the embedded Direct Line endpoint.

use super::error::DirectLineError;
use super::identity::assign_user_id;
use super::token::{TokenClaims, TokenError};
use super::{BASE_PATH, CHANNEL_ID, Shared, UserIds, shape, stream};
use crate::endpoint::parse_activity;
use crate::handler::ActivityHandler;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{ConnectInfo, Path, RawQuery, Request, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use botwright::Activity;
use botwright::activity::{ActivityType, ChannelAccount, ConversationAccount};
use futures::FutureExt;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use subtle::ConstantTimeEq;

type Answer = Result<Response, DirectLineError>;

pub(super) struct RouteState {
    pub(super) shared: Arc<Shared>,
    pub(super) handler: Arc<dyn ActivityHandler>,
}

pub(super) fn router(shared: Arc<Shared>, handler: Arc<dyn ActivityHandler>) -> Router {
    let state = Arc::new(RouteState { shared, handler });
    // Every answer is JSON, also for a wrong method or a path the endpoint does not serve
    // (per route and under the base path, not as a router fallback: the router is merged with
    // others).
    Router::new()
        .route(&format!("{BASE_PATH}/tokens/generate"), post(generate).fallback(wrong_method))
        .route(&format!("{BASE_PATH}/tokens/refresh"), post(refresh).fallback(wrong_method))
        .route(&format!("{BASE_PATH}/conversations"), post(start).fallback(wrong_method))
        .route(&format!("{BASE_PATH}/conversations/{{id}}"), get(reconnect).fallback(wrong_method))
        .route(
            &format!("{BASE_PATH}/conversations/{{id}}/activities"),
            post(post_activity).get(get_activities).fallback(wrong_method),
        )
        .route(&format!("{BASE_PATH}/conversations/{{id}}/stream"), get(open_stream).fallback(wrong_method))
        .route(&format!("{BASE_PATH}/{{*rest}}"), axum::routing::any(not_served))
        .with_state(state)
}

async fn wrong_method() -> Response {
    let body = json!({ "error": { "code": "MethodNotAllowed", "message": "this route does not take this method" } });
    (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response()
}

async fn not_served() -> Response {
    let body =
        json!({ "error": { "code": "NotFound", "message": "the Direct Line endpoint does not serve this path" } });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

type IdPath = Result<Path<String>, PathRejection>;

/// The conversation id of the path (a path that is not UTF-8 once decoded: 400).
fn path_id(path: IdPath) -> Result<String, DirectLineError> {
    path.map(|Path(id)| id).map_err(|e| DirectLineError::BadRequest(format!("the path is not usable: {e}")))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// Compares in constant time (for equal lengths).
fn same_secret(given: &str, secret: &str) -> bool {
    bool::from(given.as_bytes().ct_eq(secret.as_bytes()))
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
    /// A conversation this endpoint did not open (a made-up id, or one from before ids were
    /// tagged) is not known here: 404, and a client starts again.
    fn verify_for(&self, headers: &HeaderMap, id: &str) -> Result<TokenClaims, DirectLineError> {
        let token = bearer(headers).ok_or(TokenError::Missing)?;
        let claims = if self.is_secret(token) {
            TokenClaims { conv: id.to_owned(), user: None, exp: 0, iat: 0, iss: String::new(), sess: 0 }
        } else {
            self.shared.key.verify_for(token, id)?
        };
        self.known(id)?;
        Ok(claims)
    }

    /// Refuses a conversation id this endpoint did not make.
    fn known(&self, id: &str) -> Result<(), DirectLineError> {
        if self.shared.ids.owns(id) { Ok(()) } else { Err(DirectLineError::UnknownConversation(id.to_owned())) }
    }

    fn is_secret(&self, given: &str) -> bool {
        self.shared.config.secret.as_deref().is_some_and(|secret| same_secret(given, secret))
    }

    fn issue(&self, conversation_id: &str, user: Option<&str>, session_start: u64) -> Result<String, DirectLineError> {
        let lifetime = self.shared.config.token_lifetime;
        Ok(self.shared.key.issue_in_session(conversation_id, user, lifetime, session_start)?)
    }

    /// Who asks to open a conversation without a token of it: the secret's holder, a client
    /// renewing its session with one of our tokens, or an anonymous client (when there is no
    /// secret).
    fn opener(&self, headers: &HeaderMap) -> Result<Opener, DirectLineError> {
        match bearer(headers) {
            Some(given) if self.is_secret(given) => Ok(Opener::Secret),
            Some(given) => match self.shared.key.verify_ignoring_expiry(given) {
                Ok(claims) => {
                    claims.check_session_age(self.shared.config.max_session_age)?;
                    Ok(Opener::Renewal(claims))
                }
                Err(_) if self.shared.config.secret.is_some() => {
                    Err(TokenError::Invalid("it is neither this endpoint's secret nor one of its tokens".into()).into())
                }
                Err(e) => Err(e.into()),
            },
            None if self.shared.config.secret.is_some() => Err(TokenError::Missing.into()),
            None => Ok(Opener::Anonymous),
        }
    }

    /// Counts a conversation opened by a client without the secret against its address.
    fn count_opening(&self, peer: Option<SocketAddr>) -> Result<(), DirectLineError> {
        match peer {
            Some(peer) => {
                self.shared.limiter.check(peer.ip()).map_err(|retry_after| DirectLineError::RateLimited { retry_after })
            }
            None => Ok(()),
        }
    }

    /// The user of a new conversation opened by `opener`, naming `named` (from the body).
    fn user_for(&self, opener: &Opener, named: Option<String>) -> Result<Option<String>, DirectLineError> {
        let assigned = self.shared.config.user_ids == UserIds::ServerAssigned;
        match opener {
            Opener::Secret => Ok(named.or_else(|| assigned.then(assign_user_id))),
            _ if assigned && named.is_some() => Err(DirectLineError::UserNotAllowed),
            Opener::Renewal(claims) => {
                Ok(named.or_else(|| claims.user.clone()).or_else(|| assigned.then(assign_user_id)))
            }
            Opener::Anonymous => Ok(named.or_else(|| assigned.then(assign_user_id))),
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

    /// The answer with a token: `{conversationId, token, expires_in}` and, when the token names
    /// a user, `userId`.
    fn token_answer(&self, id: &str, token: &str, user: Option<&str>) -> Value {
        let mut answer = json!({
            "conversationId": id,
            "token": token,
            "expires_in": self.shared.config.token_lifetime.as_secs(),
        });
        if let (Some(user), Value::Object(map)) = (user, &mut answer) {
            map.insert("userId".into(), Value::String(user.to_owned()));
        }
        answer
    }

    /// The answer to starting or reconnecting: the token answer and a `streamUrl`.
    fn conversation_answer(
        &self,
        headers: &HeaderMap,
        id: &str,
        token: &str,
        user: Option<&str>,
        watermark: Option<u64>,
    ) -> Value {
        let mut answer = self.token_answer(id, token, user);
        if let Value::Object(map) = &mut answer {
            map.insert("streamUrl".into(), Value::String(self.stream_url(headers, id, token, watermark)));
        }
        answer
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

/// Who opens a conversation without a token of it.
enum Opener {
    /// The holder of the Direct Line secret (a token server): may name any user.
    Secret,
    /// A client with one of our tokens (perhaps expired, its session not too old): the same
    /// user, in a new conversation.
    Renewal(TokenClaims),
    /// Anyone (no secret is configured).
    Anonymous,
}

fn peer(request: &Request) -> Option<SocketAddr> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0)
}

fn now_secs() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default()
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

/// `POST tokens/generate`: a token for a new conversation. With the secret, for the user the body
/// names (or, when the server assigns ids, a new one); with one of our tokens, for the same user
/// (a browser that comes back); else, without a secret configured, for a new assigned user (or
/// the named one when clients choose).
async fn generate(State(state): State<Arc<RouteState>>, request: Request) -> Answer {
    let opener = state.opener(request.headers())?;
    let peer = peer(&request);
    let bytes = state.read_body(request).await?;
    let user = state.user_for(&opener, generate_user(&bytes)?)?;
    // Counted once the request is known to be good: a refused one costs the client nothing.
    if !matches!(opener, Opener::Secret) {
        state.count_opening(peer)?;
    }
    let session_start = match &opener {
        Opener::Renewal(claims) => claims.session_start(),
        _ => now_secs(),
    };
    let id = state.shared.ids.new_id();
    let token = state.issue(&id, user.as_deref(), session_start)?;
    Ok(axum::Json(state.token_answer(&id, &token, user.as_deref())).into_response())
}

/// `POST tokens/refresh`: a fresh token for the same conversation and user, until the session's
/// maximum age.
async fn refresh(State(state): State<Arc<RouteState>>, headers: HeaderMap) -> Answer {
    let token = bearer(&headers).ok_or(TokenError::Missing)?;
    let claims = state.shared.key.verify(token)?;
    claims.check_session_age(state.shared.config.max_session_age)?;
    state.known(&claims.conv)?;
    let token = state.issue(&claims.conv, claims.user.as_deref(), claims.session_start())?;
    Ok(axum::Json(state.token_answer(&claims.conv, &token, claims.user.as_deref())).into_response())
}

/// `POST conversations`: a token opens its own conversation; the secret (or, without a secret
/// configured, anyone) opens a new one.
async fn start(State(state): State<Arc<RouteState>>, request: Request) -> Answer {
    let peer = peer(&request);
    let headers = request.headers();
    let given = bearer(headers);
    let is_secret = given.is_some_and(|g| state.is_secret(g));
    let (id, token, user) = match given {
        Some(token) if !is_secret => {
            // A token that is not valid is refused, rather than quietly opening another
            // conversation.
            let claims = state.shared.key.verify(token)?;
            state.known(&claims.conv)?;
            (claims.conv, token.to_owned(), claims.user)
        }
        _ => {
            let opener = if is_secret { Opener::Secret } else { state.opener(headers)? };
            if !is_secret {
                state.count_opening(peer)?;
            }
            let user = state.user_for(&opener, None)?;
            let id = state.shared.ids.new_id();
            let token = state.issue(&id, user.as_deref(), now_secs())?;
            (id, token, user)
        }
    };
    let (_, opened) = state.shared.conversations.get_or_open(&id);
    if opened {
        state.announce(headers, &id, user.as_deref()).await;
    }
    let status = if opened { StatusCode::CREATED } else { StatusCode::OK };
    let answer = state.conversation_answer(headers, &id, &token, user.as_deref(), None);
    Ok((status, axum::Json(answer)).into_response())
}

async fn reconnect(
    State(state): State<Arc<RouteState>>,
    path: IdPath,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let id = path_id(path)?;
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
        _ => state.issue(&id, claims.user.as_deref(), now_secs())?,
    };
    let answer = state.conversation_answer(&headers, &id, &token, claims.user.as_deref(), watermark);
    Ok(axum::Json(answer).into_response())
}

async fn get_activities(
    State(state): State<Arc<RouteState>>,
    path: IdPath,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Answer {
    let id = path_id(path)?;
    state.verify_for(&headers, &id)?;
    let watermark = watermark(query.as_deref())?;
    let conversation = state.shared.conversations.get(&id).ok_or(DirectLineError::UnknownConversation(id))?;
    // The body is assembled from the stored JSON texts, sharing their buffers.
    let chunks = conversation.since(watermark).into_chunks();
    let body = Body::from_stream(futures::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>)));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn post_activity(State(state): State<Arc<RouteState>>, path: IdPath, request: Request) -> Answer {
    let id = path_id(path)?;
    let headers = request.headers().clone();
    let claims = state.verify_for(&headers, &id)?;
    let conversation =
        state.shared.conversations.get(&id).ok_or_else(|| DirectLineError::UnknownConversation(id.clone()))?;
    let bytes = state.read_body(request).await?;
    let max_containers = state.shared.config.max_activity_containers;
    if shape::containers(&bytes, max_containers) > max_containers {
        return Err(DirectLineError::TooComplex(max_containers));
    }
    let mut activity = parse_activity(&bytes).map_err(DirectLineError::BadRequest)?;
    drop(bytes);
    // A token made for a user speaks as that user only (else one could overwrite another user's
    // address in the bot's address book); a token without one takes the activity's `from`, but
    // where the server assigns users only the secret's holder names one.
    let by_secret = bearer(&headers).is_some_and(|given| state.is_secret(given));
    if claims.user.is_none() && !by_secret && state.shared.config.user_ids == UserIds::ServerAssigned {
        return Err(DirectLineError::UserNotAllowed);
    }
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
    // Kept (and shown to the streams) before the bot runs, so that replies come after it; the
    // history keeps the JSON text, serialized once.
    let typing = activity.kind == ActivityType::Typing;
    let max_typing = state.shared.config.max_typing_bytes;
    let make = |activity_id: &str| {
        activity.id = Some(activity_id.to_owned());
        let text = serde_json::to_vec(&activity)
            .map_err(|e| DirectLineError::BadRequest(format!("the activity is malformed: {e}")))?;
        if typing && text.len() > max_typing {
            return Err(DirectLineError::TooLarge(max_typing));
        }
        Ok(text)
    };
    let activity_id =
        if typing { conversation.show(make)? } else { state.shared.conversations.append(&conversation, make)? };
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
    path: IdPath,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Answer {
    let id = path_id(path)?;
    let token = query_param(query.as_deref(), "t").or_else(|| bearer(&headers).map(str::to_owned));
    let token = token.ok_or(TokenError::Missing)?;
    if !state.is_secret(&token) {
        state.shared.key.verify_for(&token, &id)?;
    }
    let watermark = watermark(query.as_deref())?;
    let conversation = state.shared.conversations.get(&id).ok_or(DirectLineError::UnknownConversation(id))?;
    let upgrade = upgrade.map_err(|e| DirectLineError::BadRequest(format!("not a WebSocket request: {e}")))?;
    let max = state.shared.config.max_streams_per_conversation;
    let place = conversation.take_stream_place().ok_or(DirectLineError::TooManyStreams(max))?;
    let limit = state.shared.config.max_client_message_bytes.max(128);
    let send_timeout = state.shared.config.stream_send_timeout;
    Ok(upgrade
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| stream::run(socket, conversation, watermark, place, send_timeout)))
}
