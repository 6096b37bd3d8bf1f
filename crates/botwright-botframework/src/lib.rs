//! # botwright-botframework
//!
//! The Microsoft Bot Framework channel for botwright: it speaks the connector protocol (REST v3)
//! so that a bot built with botwright works with real channels (Teams, Web Chat, Direct Line,
//! the emulator) and Bot Framework client libraries.
//!
//! - **Inbound**: [`BotFramework::router`] is an axum router with `POST /api/messages`; it checks
//!   the channel's JWT ([`auth`]), reads the activity, and hands it to an [`ActivityHandler`]
//!   (the bot), answering 202 once the handler accepted it ([`endpoint`] lists every status).
//! - **Outbound**: [`BotFrameworkChannel`] implements [`botwright::channel::Channel`] over the
//!   [`ConnectorClient`] (reply, send, update, delete, create conversation, members), with the
//!   bot's own OAuth2 token ([`token`]) sent only to trusted service URL origins, over https ([`trust`]).
//! - **Configuration**: [`BotFrameworkConfig::from_env`] reads `MICROSOFT_APP_ID`,
//!   `MICROSOFT_APP_PASSWORD` and the `BOTWRIGHT_*` overrides. Without an app id, authentication
//!   is off (development mode, with a warning at start).
//!
//! ## Mounting the endpoint
//!
//! ```no_run
//! use botwright::{Activity, TurnOutcome, async_trait, storage::MemoryStore};
//! use botwright_botframework::{ActivityHandler, BotFramework, BotFrameworkConfig, HandlerError};
//! use std::sync::Arc;
//!
//! struct Greeter;
//!
//! #[async_trait]
//! impl ActivityHandler for Greeter {
//!     async fn handle(&self, activity: Activity) -> Result<TurnOutcome, HandlerError> {
//!         tracing::info!(text = activity.text(), "received");
//!         Ok(TurnOutcome::Completed)
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let bf = BotFramework::from_env()?;
//!     let app = axum::Router::new()
//!         .route("/health", axum::routing::get(|| async { "ok" }))
//!         .merge(bf.router(Greeter));
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:3978").await?;
//!     // Timeouts for slow clients, a connection limit and the peer address of each request.
//!     let limits = botwright_botframework::ServerLimits::default();
//!     botwright_botframework::server::serve(listener, app, limits, std::future::pending()).await;
//!     Ok(())
//! }
//! ```
//!
//! ## Direct Line and web chat
//!
//! [`directline::DirectLine`] serves Direct Line 3.0 from the bot itself, with
//! [`directline::DirectLineChannel`] for its replies; [`webchat::webchat_router`] serves a chat
//! page at `GET /` that uses it.
//!
//! ## TLS
//!
//! Outbound HTTPS uses rustls with the `ring` provider, installed as the process default unless
//! the application installed another rustls provider first.

mod adapter;
pub mod auth;
mod bot;
pub mod channel;
pub mod config;
pub mod connector;
pub mod directline;
pub mod endpoint;
pub mod error;
pub mod handler;
pub mod limits;
pub mod rejection;
pub mod server;
pub mod token;
mod transport;
pub mod trust;
pub mod webchat;

pub use adapter::BotFramework;
pub use channel::BotFrameworkChannel;
pub use config::{BotFrameworkConfig, ConfigError};
pub use connector::{ConnectorClient, ConnectorError};
pub use directline::{DirectLine, DirectLineChannel, DirectLineConfig, UserIds};
pub use handler::{ActivityHandler, HandlerError, InvokeResponse};
pub use server::ServerLimits;
pub use token::{AppCredentials, TokenError};
pub use trust::TrustedHosts;
pub use webchat::{WebChatOptions, webchat_router};
