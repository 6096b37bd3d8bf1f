//! An embedded Direct Line 3.0 endpoint: the bot serves the Direct Line protocol itself, so the
//! official `botframework-webchat` and `botframework-directlinejs` clients (and the built-in web
//! chat, [`crate::webchat`]) talk to it with no Azure service in between.
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /v3/directline/tokens/generate` (optional body `{"user": {"id", "name"}}`) | 200 `{conversationId, token, expires_in}`: a token for a new conversation |
//! | `POST /v3/directline/tokens/refresh` | 200, the same with a fresh token |
//! | `POST /v3/directline/conversations` | 201 `{conversationId, token, expires_in, streamUrl}` (200 when the token's conversation was already started) |
//! | `GET /v3/directline/conversations/{id}?watermark=` | 200, the same (reconnect: a new `streamUrl`) |
//! | `POST /v3/directline/conversations/{id}/activities` | 200 `{id}` once the bot took the activity |
//! | `GET /v3/directline/conversations/{id}/activities?watermark=` | 200 `{activities, watermark}`, the user's own activities included |
//! | `GET /v3/directline/conversations/{id}/stream?watermark=&t=` | WebSocket: `{activities, watermark}` frames as they happen |
//!
//! **Tokens** are HS256 JWTs bound to one conversation ([`token`]); every conversation request
//! needs `Authorization: Bearer <token>` (the stream also takes it as `?t=`) for that
//! conversation, else **403**. With a [`DirectLineConfig::secret`], `tokens/generate` and
//! starting a conversation without a token need `Authorization: Bearer <secret>`, and the secret
//! opens every conversation (as Direct Line's does: keep it on servers, give browsers tokens);
//! **without one (development mode) anyone who can reach the endpoint may generate tokens**: do
//! not expose it to the internet like that.
//!
//! A token generated for a user (`{"user": {"id"}}`) speaks as that user: an activity's
//! `from.id` is replaced by the token's user. Generate tokens on the server, with the secret, for
//! users you authenticated; in development mode anyone may claim any user id.
//!
//! Not served: attachments upload (`.../upload`), the streaming extensions (`streaming: true`),
//! and CORS: mount the endpoint on the origin of the page that uses it.
//!
//! **Conversations** live in memory: at most [`DirectLineConfig::max_conversations`] (default
//! 1,000; one more drops the conversation idle the longest, preferring one nobody streams, and
//! closes its streams; a client that reconnects opens it again, empty), each with its last
//! [`DirectLineConfig::max_history`] activities (default 500). Unknown conversations get
//! **404**, unusable activities **400**, bodies over [`DirectLineConfig::body_limit`] **413**;
//! errors are JSON `{"error": {"code", "message"}}`.
//!
//! **Proactive messages** go through [`DirectLineChannel`], registered on the bot for channel id
//! `directline`. Conversations opened here are ordinary conversations: the bot stores their
//! addresses, and [`botwright::Bot::send`] reaches them live. After a restart, a message for a
//! conversation the process no longer holds opens it again under the same id, so a client that
//! reconnects to it (its token still valid: configure [`DirectLineConfig::signing_key`] or a
//! secret so tokens outlive the process) gets the message.
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
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```

mod channel;
mod conversation;
mod error;
mod routes;
mod stream;
pub mod token;

pub use channel::DirectLineChannel;
pub use error::DirectLineError;
pub use token::{TokenClaims, TokenError, TokenKey};

use crate::handler::ActivityHandler;
use botwright::activity::ChannelAccount;
use conversation::Conversations;
use std::sync::Arc;
use std::time::Duration;

/// The channel id of Direct Line conversations.
pub const CHANNEL_ID: &str = "directline";

/// Where the endpoint's routes begin.
pub const BASE_PATH: &str = "/v3/directline";

/// How the embedded Direct Line endpoint behaves.
#[derive(Clone)]
pub struct DirectLineConfig {
    /// The Direct Line secret: when set, generating tokens (and starting a conversation without
    /// a token) needs `Authorization: Bearer <secret>`. Unset: development mode, anyone may.
    pub secret: Option<String>,
    /// The key tokens are signed with. Unset: the secret when there is one, else a random key
    /// made at start (tokens then die with the process).
    pub signing_key: Option<Vec<u8>>,
    /// How long a token is valid (default 30 minutes, as Direct Line's).
    pub token_lifetime: Duration,
    /// How many conversations are held (default 1,000).
    pub max_conversations: usize,
    /// How many activities each conversation keeps (default 500).
    pub max_history: usize,
    /// The largest activity body accepted, in bytes (default 256 KiB).
    pub body_limit: usize,
    /// The server's public base URL (e.g. `https://bot.example.com`), for `serviceUrl` and
    /// `streamUrl`. Unset: `http://` and the request's `Host`.
    pub public_url: Option<String>,
    /// The bot as the conversation's other member (default id `bot`, name `Bot`).
    pub bot: ChannelAccount,
}

impl std::fmt::Debug for DirectLineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectLineConfig")
            .field("secret", &self.secret.as_ref().map(|_| "<set>"))
            .field("signing_key", &self.signing_key.as_ref().map(|_| "<set>"))
            .field("token_lifetime", &self.token_lifetime)
            .field("max_conversations", &self.max_conversations)
            .field("max_history", &self.max_history)
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
            token_lifetime: Duration::from_secs(30 * 60),
            max_conversations: 1_000,
            max_history: 500,
            body_limit: 256 * 1024,
            public_url: None,
            bot: ChannelAccount::new("bot").with_name("Bot"),
        }
    }
}

pub(crate) struct Shared {
    pub(crate) config: DirectLineConfig,
    pub(crate) key: TokenKey,
    pub(crate) conversations: Conversations,
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
        let key = match (&config.signing_key, &config.secret) {
            (Some(key), _) => TokenKey::new(key),
            (None, Some(secret)) => TokenKey::new(secret.as_bytes()),
            (None, None) => TokenKey::random(),
        };
        if config.secret.is_none() {
            tracing::warn!(
                "the Direct Line endpoint has no secret: anyone who can reach it may generate tokens (development mode)"
            );
        }
        let conversations = Conversations::new(config.max_conversations, config.max_history);
        DirectLine { shared: Arc::new(Shared { config, key, conversations }) }
    }

    /// The configuration.
    pub fn config(&self) -> &DirectLineConfig {
        &self.shared.config
    }

    /// The token key (to issue tokens for a conversation outside the HTTP endpoint).
    pub fn token_key(&self) -> &TokenKey {
        &self.shared.key
    }

    /// How many conversations are held.
    pub fn conversation_count(&self) -> usize {
        self.shared.conversations.len()
    }

    /// The channel that delivers the bot's activities to these conversations; register it with
    /// `BotBuilder::channel("directline", ...)`.
    pub fn channel(&self) -> Arc<DirectLineChannel> {
        Arc::new(DirectLineChannel::new(self.shared.clone()))
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
