//! An embedded Direct Line 3.0 endpoint: the bot serves the Direct Line protocol itself, so the
//! official `botframework-webchat` and `botframework-directlinejs` clients (and the built-in web
//! chat, [`crate::webchat`]) talk to it with no Azure service in between. It is built to be
//! exposed: every input is bounded, and one client cannot make the process hold more than a
//! few tens of MiB whatever it sends.
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /v3/directline/tokens/generate` (optional body `{"user": {"id", "name"}}`) | 200 `{conversationId, token, expires_in, userId?}`: a token for a new conversation (see *Identity*) |
//! | `POST /v3/directline/tokens/refresh` | 200, the same with a fresh token (until the session's maximum age, then 403) |
//! | `POST /v3/directline/conversations` | 201 `{conversationId, token, expires_in, streamUrl, userId?}` (200 when the token's conversation was already started) |
//! | `GET /v3/directline/conversations/{id}?watermark=` | 200, the same (reconnect: a new `streamUrl`) |
//! | `POST /v3/directline/conversations/{id}/activities` | 200 `{id}` once the bot took the activity |
//! | `GET /v3/directline/conversations/{id}/activities?watermark=` | 200 `{activities, watermark}`, the user's own activities included |
//! | `GET /v3/directline/conversations/{id}/stream?watermark=&t=` | WebSocket: `{activities, watermark}` frames as they happen |
//!
//! Every answer is JSON; errors are `{"error": {"code", "message"}}`: **403** a missing, invalid,
//! expired or other conversation's token (or a user named where the server assigns them),
//! **404** an unknown conversation (or a path not served), **400** an unusable request, **405** a
//! wrong method, **413** a body too large or too complex, **429** too many streams or
//! conversations (with `Retry-After`).
//!
//! **Tokens** are HS256 JWTs bound to one conversation and one user ([`token`]); every
//! conversation request needs `Authorization: Bearer <token>` (the stream also takes it as
//! `?t=`) for that conversation. With a [`DirectLineConfig::secret`], `tokens/generate` and
//! starting a conversation without a token need `Authorization: Bearer <secret>`, and the secret
//! opens every conversation (as Direct Line's does: keep it on servers, give browsers tokens).
//! Without one, anyone who can reach the endpoint may open conversations (bounded per address,
//! below). A token lives [`DirectLineConfig::token_lifetime`] (30 minutes) and is refreshed
//! until [`DirectLineConfig::max_session_age`] (24 hours) after the first token of its session;
//! then the client starts again.
//!
//! **Identity** ([`UserIds`], [`DirectLineConfig::user_ids`]). The user id is what the bot keys
//! a user's state and address by, so who chooses it matters:
//! - [`UserIds::ServerAssigned`] (the default: safe as it comes): only the secret's holder names
//!   users. Everyone else gets a token bound to a new id, `dl_` and 128 random bits, told to
//!   the client as `userId`; a body naming a user without the secret is refused (403), and every
//!   activity's `from.id` is the token's user whatever the client wrote. A browser keeps its id
//!   across reloads by sending its last token, valid or expired, as `Authorization` to
//!   `tokens/generate`: the new conversation's token is for the same user and the same
//!   session, so this too ends at the session's maximum age (the built-in page does this).
//! - [`UserIds::ClientChosen`] (development and trusted clients): a client names its user in
//!   `tokens/generate`, or as `from.id` with a token that names none; a token made for a user
//!   still speaks as that user only.
//!
//! **Routing.** The conversation ids this endpoint makes are self-certifying (128 random bits
//! and a 64-bit HMAC-SHA256 tag keyed from the signing key): [`DirectLine::owns`] tells ours
//! from anyone else's, across restarts when the key is kept, with no storage. Azure's own
//! Direct Line channel also uses channel id `directline`, so a bot registered with it and
//! serving this endpoint too routes by conversation with [`DirectLine::channel_or`]: ours to the
//! endpoint, everything else to the Bot Framework connector. [`DirectLineChannel`] alone refuses
//! (with [`DeliveryError::InvalidAddress`](botwright::channel::DeliveryError::InvalidAddress),
//! not retried) a conversation it does not own, instead of opening it.
//!
//! ```ignore
//! let connector: Arc<dyn Channel> = Arc::new(framework.channel());
//! Bot::builder()
//!     .default_channel(connector.clone())
//!     .channel(CHANNEL_ID, directline.channel_or(connector))
//! ```
//!
//! **Limits**, all in [`DirectLineConfig`] with their defaults:
//!
//! | limit | default | beyond it |
//! | --- | --- | --- |
//! | [`max_conversations`](DirectLineConfig::max_conversations) | 1,000 | the conversation idle the longest (preferring one nobody streams) is dropped and its streams closed; a client that reconnects opens it again, empty |
//! | [`max_history`](DirectLineConfig::max_history) | 500 activities per conversation | oldest dropped |
//! | [`max_history_bytes`](DirectLineConfig::max_history_bytes) | 1 MiB per conversation | oldest dropped (the newest is always kept) |
//! | [`max_total_history_bytes`](DirectLineConfig::max_total_history_bytes) | 32 MiB across all | oldest activities of the idlest conversations dropped |
//! | [`max_streams_per_conversation`](DirectLineConfig::max_streams_per_conversation) | 4 | 429 |
//! | [`stream_send_timeout`](DirectLineConfig::stream_send_timeout) | 30 s to send one frame to a stream's client | that stream closes |
//! | [`max_client_message_bytes`](DirectLineConfig::max_client_message_bytes) | 4 KiB per WebSocket message or frame from a client | that stream closes (1009) |
//! | [`conversations_per_minute_per_client`](DirectLineConfig::conversations_per_minute_per_client) | 30 per client address (IPv6: per /64), without the secret | 429 with `Retry-After` |
//! | [`body_limit`](DirectLineConfig::body_limit) | 256 KiB per posted activity | 413 |
//! | [`max_activity_containers`](DirectLineConfig::max_activity_containers) | 1,000 JSON objects and arrays per posted activity | 413 |
//! | [`max_typing_bytes`](DirectLineConfig::max_typing_bytes) | 4 KiB per posted typing indicator | 413 |
//! | [`token_lifetime`](DirectLineConfig::token_lifetime) / [`max_session_age`](DirectLineConfig::max_session_age) | 30 minutes / 24 hours | 403 |
//!
//! The client address is the connection's peer, from the `axum::extract::ConnectInfo<SocketAddr>`
//! request extension ([`crate::server::serve`] supplies it; with `axum::serve`, serve the app
//! with `into_make_service_with_connect_info::<SocketAddr>()`);
//! without it there is no per-address limit. [`DirectLine::held_bytes`] tells how much history
//! is held. History entries are kept as JSON text, serialized once; reads and stream frames are
//! assembled from them without parsing or copying the history.
//!
//! Not served: attachments upload (`.../upload`), the streaming extensions (`streaming: true`),
//! and CORS: mount the endpoint on the origin of the page that uses it.
//!
//! **Proactive messages** go through [`DirectLineChannel`] (or [`DirectLine::channel_or`]).
//! Conversations opened here are ordinary conversations: the bot stores their addresses, and
//! [`botwright::Bot::send`] reaches them live. After a restart, a message for a conversation of
//! ours the process no longer holds opens it again under the same id, so a client that
//! reconnects to it (its token still valid: configure [`DirectLineConfig::signing_key`] or a
//! secret so tokens and ids outlive the process) gets the message.
//!
//! ```no_run
//! use botwright::{Bot, Waterfall};
//! use botwright_botframework::directline::{DirectLine, DirectLineConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let directline = DirectLine::new(DirectLineConfig::default());
//! let bot = Bot::builder()
//!     .channel("directline", directline.channel())
//!     .dialog("/", Waterfall::new().step(|s, _| async move {
//!         s.send("Hello!");
//!         Ok(())
//!     }))
//!     .build();
//! let app = axum::Router::new().merge(directline.router(bot));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3978").await?;
//! let limits = botwright_botframework::ServerLimits::default();
//! botwright_botframework::server::serve(listener, app, limits, std::future::pending()).await;
//! # Ok(()) }
//! ```

mod channel;
mod conversation;
mod error;
mod identity;
mod ids;
mod ratelimit;
mod routes;
mod routing;
mod shape;
mod stream;
pub mod token;

pub use channel::DirectLineChannel;
pub use error::DirectLineError;
pub use identity::{ASSIGNED_PREFIX, UserIds};
pub use routing::RoutingChannel;
pub use token::{TokenClaims, TokenError, TokenKey};

use crate::handler::ActivityHandler;
use botwright::activity::ChannelAccount;
use botwright::channel::Channel;
use conversation::{Conversations, Limits};
use ids::ConversationIds;
use ratelimit::OpenLimiter;
use std::sync::Arc;
use std::time::Duration;

/// The channel id of Direct Line conversations.
pub const CHANNEL_ID: &str = "directline";

/// Where the endpoint's routes begin.
pub const BASE_PATH: &str = "/v3/directline";

/// How the embedded Direct Line endpoint behaves. Every limit has a default fit to be exposed;
/// together they keep what one client can make the process hold to a few tens of MiB.
#[derive(Clone)]
#[must_use]
pub struct DirectLineConfig {
    /// The Direct Line secret: when set, generating tokens (and starting a conversation without
    /// a token) needs `Authorization: Bearer <secret>`. Unset: anyone who can reach the endpoint
    /// may (see [`user_ids`](Self::user_ids) for who they may be).
    pub(crate) secret: Option<String>,
    /// The key tokens are signed with, and conversation ids are tagged with. Unset: the secret
    /// when there is one, else a random key made at start (tokens and ids then die with the
    /// process).
    pub(crate) signing_key: Option<Vec<u8>>,
    /// Who chooses user ids (default [`UserIds::ServerAssigned`]: safe to expose).
    pub(crate) user_ids: UserIds,
    /// How long a token is valid (default 30 minutes, as Direct Line's).
    pub(crate) token_lifetime: Duration,
    /// How long a session lasts at most, from its first token (default 24 hours): tokens are
    /// refreshed (and, in [`UserIds::ServerAssigned`] mode, renewed for a new conversation of
    /// the same user) until then, and refused after, with a message saying to start again.
    pub(crate) max_session_age: Duration,
    /// How many conversations are held (default 1,000).
    pub(crate) max_conversations: usize,
    /// How many activities each conversation keeps (default 500).
    pub(crate) max_history: usize,
    /// How many bytes of activities (as JSON) each conversation keeps (default 1 MiB; oldest
    /// dropped first, the newest always kept).
    pub(crate) max_history_bytes: usize,
    /// How many bytes of activities all conversations keep together (default 32 MiB): beyond
    /// it, the oldest activities of the conversations idle the longest are dropped.
    pub(crate) max_total_history_bytes: usize,
    /// How many WebSocket streams each conversation may have open (default 4; one more: 429).
    pub(crate) max_streams_per_conversation: usize,
    /// The largest WebSocket message or frame a client may send (default 4 KiB: clients send
    /// only pings and pongs); a larger one closes that stream (1009).
    pub(crate) max_client_message_bytes: usize,
    /// How long a stream may take to send one frame to its client (default 30 seconds): a client
    /// that stops reading is disconnected, so that it holds neither a stream place nor the
    /// frame for longer.
    pub(crate) stream_send_timeout: Duration,
    /// The largest typing indicator a client may post (default 4 KiB; larger: 413). Typing
    /// indicators are not kept, but travel to the streams.
    pub(crate) max_typing_bytes: usize,
    /// How many conversations one client address (an IPv6 /64) may open per minute through
    /// `tokens/generate` and `POST /conversations` without the secret (default 30; 0: no limit;
    /// beyond it: 429 with `Retry-After`). The address is the peer of the connection
    /// (`axum::extract::ConnectInfo<SocketAddr>`, present when the server is served with
    /// `into_make_service_with_connect_info`); without it, there is no per-address limit.
    /// Behind a reverse proxy every client has the proxy's address: raise the limit there (or
    /// set 0 and limit at the proxy).
    pub(crate) conversations_per_minute_per_client: u32,
    /// How many JSON objects and arrays an activity posted by a client may hold (default
    /// 1,000; more: 413). A parsed object costs hundreds of bytes however short its text, so
    /// this bounds what parsing one body costs (to a few MiB), where the body limit alone
    /// would not.
    pub(crate) max_activity_containers: usize,
    /// The largest activity body accepted, in bytes (default 256 KiB).
    pub(crate) body_limit: usize,
    /// The server's public base URL (e.g. `https://bot.example.com`), for `serviceUrl` and
    /// `streamUrl`. Unset: `http://` and the request's `Host`.
    pub(crate) public_url: Option<String>,
    /// The bot as the conversation's other member (default id `bot`, name `Bot`).
    pub(crate) bot: ChannelAccount,
}

impl std::fmt::Debug for DirectLineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectLineConfig")
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("signing_key", &self.signing_key.as_ref().map(|_| "<set>"))
            .field("user_ids", &self.user_ids)
            .field("token_lifetime", &self.token_lifetime)
            .field("max_session_age", &self.max_session_age)
            .field("max_conversations", &self.max_conversations)
            .field("max_history", &self.max_history)
            .field("max_history_bytes", &self.max_history_bytes)
            .field("max_total_history_bytes", &self.max_total_history_bytes)
            .field("max_streams_per_conversation", &self.max_streams_per_conversation)
            .field("max_client_message_bytes", &self.max_client_message_bytes)
            .field("stream_send_timeout", &self.stream_send_timeout)
            .field("max_typing_bytes", &self.max_typing_bytes)
            .field("conversations_per_minute_per_client", &self.conversations_per_minute_per_client)
            .field("max_activity_containers", &self.max_activity_containers)
            .field("body_limit", &self.body_limit)
            .field("public_url", &self.public_url)
            .field("bot", &self.bot)
            .finish()
    }
}

impl Default for DirectLineConfig {
    fn default() -> Self {
        DirectLineConfig {
            secret: None,
            signing_key: None,
            user_ids: UserIds::default(),
            token_lifetime: Duration::from_secs(30 * 60),
            max_session_age: Duration::from_secs(24 * 60 * 60),
            max_conversations: 1_000,
            max_history: 500,
            max_history_bytes: 1 << 20,
            max_total_history_bytes: 32 << 20,
            max_streams_per_conversation: 4,
            max_client_message_bytes: 4 << 10,
            stream_send_timeout: Duration::from_secs(30),
            max_typing_bytes: 4 << 10,
            conversations_per_minute_per_client: 30,
            max_activity_containers: 1_000,
            body_limit: 256 * 1024,
            public_url: None,
            bot: ChannelAccount::new("bot").with_name("Bot"),
        }
    }
}

/// Builder methods, one per setting, named after it.
impl DirectLineConfig {
    /// The Direct Line secret: when set, generating tokens (and starting a conversation without
    /// a token) needs `Authorization: Bearer <secret>`. Unset: anyone who can reach the endpoint
    /// may (see [`user_ids`](Self::user_ids) for who they may be).
    pub fn secret(mut self, secret: Option<String>) -> Self {
        self.secret = secret;
        self
    }

    /// The key tokens are signed with, and conversation ids are tagged with. Unset: the secret
    /// when there is one, else a random key made at start (tokens and ids then die with the
    /// process).
    pub fn signing_key(mut self, signing_key: Option<Vec<u8>>) -> Self {
        self.signing_key = signing_key;
        self
    }

    /// Who chooses user ids (default [`UserIds::ServerAssigned`]: safe to expose).
    pub fn user_ids(mut self, user_ids: UserIds) -> Self {
        self.user_ids = user_ids;
        self
    }

    /// How long a token is valid (default 30 minutes, as Direct Line's).
    pub fn token_lifetime(mut self, token_lifetime: Duration) -> Self {
        self.token_lifetime = token_lifetime;
        self
    }

    /// How long a session lasts at most, from its first token (default 24 hours): tokens are
    /// refreshed (and, in [`UserIds::ServerAssigned`] mode, renewed for a new conversation of
    /// the same user) until then, and refused after, with a message saying to start again.
    pub fn max_session_age(mut self, max_session_age: Duration) -> Self {
        self.max_session_age = max_session_age;
        self
    }

    /// How many conversations are held (default 1,000).
    pub fn max_conversations(mut self, max_conversations: usize) -> Self {
        self.max_conversations = max_conversations;
        self
    }

    /// How many activities each conversation keeps (default 500).
    pub fn max_history(mut self, max_history: usize) -> Self {
        self.max_history = max_history;
        self
    }

    /// How many bytes of activities (as JSON) each conversation keeps (default 1 MiB; oldest
    /// dropped first, the newest always kept).
    pub fn max_history_bytes(mut self, max_history_bytes: usize) -> Self {
        self.max_history_bytes = max_history_bytes;
        self
    }

    /// How many bytes of activities all conversations keep together (default 32 MiB): beyond
    /// it, the oldest activities of the conversations idle the longest are dropped.
    pub fn max_total_history_bytes(mut self, max_total_history_bytes: usize) -> Self {
        self.max_total_history_bytes = max_total_history_bytes;
        self
    }

    /// How many WebSocket streams each conversation may have open (default 4; one more: 429).
    pub fn max_streams_per_conversation(mut self, max_streams_per_conversation: usize) -> Self {
        self.max_streams_per_conversation = max_streams_per_conversation;
        self
    }

    /// The largest WebSocket message or frame a client may send (default 4 KiB: clients send
    /// only pings and pongs); a larger one closes that stream (1009).
    pub fn max_client_message_bytes(mut self, max_client_message_bytes: usize) -> Self {
        self.max_client_message_bytes = max_client_message_bytes;
        self
    }

    /// How long a stream may take to send one frame to its client (default 30 seconds): a client
    /// that stops reading is disconnected, so that it holds neither a stream place nor the
    /// frame for longer.
    pub fn stream_send_timeout(mut self, stream_send_timeout: Duration) -> Self {
        self.stream_send_timeout = stream_send_timeout;
        self
    }

    /// The largest typing indicator a client may post (default 4 KiB; larger: 413). Typing
    /// indicators are not kept, but travel to the streams.
    pub fn max_typing_bytes(mut self, max_typing_bytes: usize) -> Self {
        self.max_typing_bytes = max_typing_bytes;
        self
    }

    /// How many conversations one client address (an IPv6 /64) may open per minute through
    /// `tokens/generate` and `POST /conversations` without the secret (default 30; 0: no limit;
    /// beyond it: 429 with `Retry-After`). The address is the peer of the connection
    /// (`axum::extract::ConnectInfo<SocketAddr>`, present when the server is served with
    /// `into_make_service_with_connect_info`); without it, there is no per-address limit.
    /// Behind a reverse proxy every client has the proxy's address: raise the limit there (or
    /// set 0 and limit at the proxy).
    pub fn conversations_per_minute_per_client(mut self, conversations_per_minute_per_client: u32) -> Self {
        self.conversations_per_minute_per_client = conversations_per_minute_per_client;
        self
    }

    /// How many JSON objects and arrays an activity posted by a client may hold (default
    /// 1,000; more: 413). A parsed object costs hundreds of bytes however short its text, so
    /// this bounds what parsing one body costs (to a few MiB), where the body limit alone
    /// would not.
    pub fn max_activity_containers(mut self, max_activity_containers: usize) -> Self {
        self.max_activity_containers = max_activity_containers;
        self
    }

    /// The largest activity body accepted, in bytes (default 256 KiB).
    pub fn body_limit(mut self, body_limit: usize) -> Self {
        self.body_limit = body_limit;
        self
    }

    /// The server's public base URL (e.g. `https://bot.example.com`), for `serviceUrl` and
    /// `streamUrl`. Unset: `http://` and the request's `Host`.
    pub fn public_url(mut self, public_url: Option<String>) -> Self {
        self.public_url = public_url;
        self
    }

    /// The bot as the conversation's other member (default id `bot`, name `Bot`).
    pub fn bot(mut self, bot: ChannelAccount) -> Self {
        self.bot = bot;
        self
    }
}

pub(crate) struct Shared {
    pub(crate) config: DirectLineConfig,
    pub(crate) key: TokenKey,
    pub(crate) ids: ConversationIds,
    pub(crate) conversations: Conversations,
    pub(crate) limiter: OpenLimiter,
}

/// The embedded Direct Line endpoint: its conversations, its token key, its router and its
/// channel. Cheap to clone.
#[derive(Clone)]
pub struct DirectLine {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for DirectLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectLine")
            .field("config", &self.shared.config)
            .field("conversations", &self.shared.conversations.len())
            .finish()
    }
}

impl DirectLine {
    /// The endpoint with `config`.
    pub fn new(config: DirectLineConfig) -> Self {
        let secret: Vec<u8> = match (&config.signing_key, &config.secret) {
            (Some(key), _) => key.clone(),
            (None, Some(secret)) => secret.as_bytes().to_vec(),
            (None, None) => rand::random::<[u8; 32]>().to_vec(),
        };
        if config.secret.is_none() {
            match config.user_ids {
                UserIds::ClientChosen => tracing::warn!(
                    "the Direct Line endpoint has no secret and lets clients choose user ids: anyone who can reach it may speak as any user (development mode)"
                ),
                UserIds::ServerAssigned => tracing::info!(
                    "the Direct Line endpoint has no secret: anyone who can reach it may open conversations, as users it assigns"
                ),
            }
        }
        let conversations = Conversations::new(Limits {
            max_conversations: config.max_conversations,
            max_history: config.max_history,
            max_history_bytes: config.max_history_bytes,
            max_total_bytes: config.max_total_history_bytes,
            max_streams: config.max_streams_per_conversation,
        });
        let limiter = OpenLimiter::new(config.conversations_per_minute_per_client);
        let shared =
            Shared { key: TokenKey::new(&secret), ids: ConversationIds::new(&secret), config, conversations, limiter };
        DirectLine { shared: Arc::new(shared) }
    }

    /// The configuration.
    pub fn config(&self) -> &DirectLineConfig {
        &self.shared.config
    }

    /// Who chooses user ids on this endpoint.
    pub fn user_ids(&self) -> UserIds {
        self.config().user_ids
    }

    /// The token key (to issue tokens for a conversation outside the HTTP endpoint).
    pub fn token_key(&self) -> &TokenKey {
        &self.shared.key
    }

    /// How many conversations are held.
    pub fn conversation_count(&self) -> usize {
        self.shared.conversations.len()
    }

    /// How many bytes of activities (as JSON) the conversations hold together: at most
    /// [`DirectLineConfig::max_total_history_bytes`] (plus one activity while it is added).
    pub fn held_bytes(&self) -> usize {
        self.shared.conversations.held_bytes()
    }

    /// Whether this endpoint opened the conversation `conversation_id` (its id carries a tag
    /// made with the signing key: this holds across restarts when the key is kept, and never
    /// for another channel's conversation).
    pub fn owns(&self, conversation_id: &str) -> bool {
        self.shared.ids.owns(conversation_id)
    }

    /// The channel that delivers the bot's activities to these conversations (and refuses
    /// others); see [`channel_or`](Self::channel_or) to share channel id `directline` with
    /// Azure's Direct Line.
    pub fn channel(&self) -> Arc<DirectLineChannel> {
        Arc::new(DirectLineChannel::new(self.shared.clone()))
    }

    /// A channel that delivers to this endpoint exactly the conversations it owns
    /// ([`owns`](Self::owns)), whatever their channel id, and everything else to `fallback`
    /// (the Bot Framework connector): so that a bot registered with Azure's Direct Line channel
    /// still answers Azure's Direct Line users while it serves its own.
    pub fn channel_or(&self, fallback: Arc<dyn Channel>) -> Arc<dyn Channel> {
        Arc::new(RoutingChannel::new(self.channel(), fallback))
    }

    /// The router with the Direct Line routes (under `/v3/directline`), handing users'
    /// activities to `handler` (a [`botwright::Bot`]).
    pub fn router(&self, handler: impl ActivityHandler) -> axum::Router {
        self.router_with(Arc::new(handler))
    }

    /// Like [`router`](Self::router), for a shared handler.
    pub fn router_with(&self, handler: Arc<dyn ActivityHandler>) -> axum::Router {
        routes::router(self.shared.clone(), handler)
    }
}

/// The Direct Line router for `directline` and `handler`: `directline.router(handler)`.
pub fn directline_router(directline: &DirectLine, handler: impl ActivityHandler) -> axum::Router {
    directline.router(handler)
}
