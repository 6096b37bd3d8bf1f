//! # Proactive web hook: save where a user can be reached, message them later from outside
//!
//! A user subscribes in a short conversation; the bot saves the user's *address* (channel,
//! service URL, conversation, user) with the subscription. Later a web hook — called by another
//! system, not by the user — sends the user a message with [`Bot::send`] and reports whether the
//! channel took it.
//!
//! ```text
//! user> hi
//! bot>  Hello! I send alerts when something happens.
//! bot>  What is your name?
//! user> Ana
//! bot>  Which alerts would you like, Ana?   [news] [weather] [sports]
//! user> weather
//! bot>  Thanks, Ana! You will get weather alerts here.
//! ```
//!
//! ```text
//! cargo run -p botwright-examples --example proactive_webhook   # PORT=3978, DATABASE=proactive_webhook.db
//! curl -s http://127.0.0.1:3978/api/subscriptions
//! curl -s http://127.0.0.1:3978/api/notify -H 'content-type: application/json' \
//!      -d '{"address": <an address from /api/subscriptions>, "text": "Storm warning for tonight"}'
//! ```
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /api/subscriptions` | 200, `[{"userId", "name", "topic", "address"}]` |
//! | `POST /api/notify {"address", "text"}` | 200 `{"id"}` once the channel accepted the message (`id` is the channel's activity id, `null` when the channel gives none); 500 `{"error"}` when it was not delivered (the delivery engine gave up); 504 `{"error"}` when the channel did not answer within 10 s (the message may still arrive: delivery goes on); 400 `{"error"}` for a body that is not JSON, an unusable address, or no `text` |
//!
//! Subscriptions live in a SQLite file, so they survive a restart of the bot. The address is
//! opaque to callers: they pass back what `/api/subscriptions` gave them (an object, or a string
//! holding its JSON).
//!
//! The interop test `tests/offline_directline.rs` runs this very bot against offline-directline,
//! which is why [`app`] is separate from `main`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use botwright::prompt::{FoundChoice, Prompt};
use botwright::storage::{JobStore, Outbox, Precondition};
use botwright::{Address, Bot, Message, RetryPolicy, Storage, Waterfall};
use botwright_botframework::{BotFramework, BotFrameworkConfig, ConfigError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The topics a user can subscribe to.
pub const TOPICS: [&str; 3] = ["news", "weather", "sports"];

/// How long `POST /api/notify` waits for the channel before answering 504.
pub const NOTIFY_DEADLINE: Duration = Duration::from_secs(10);

/// Where the stored subscriptions live in the store: `subscription/<channel>/<user>`.
const SUBSCRIPTION_PREFIX: &str = "subscription/";

/// A user's subscription, as stored and as `GET /api/subscriptions` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// The user's id on the channel.
    pub user_id: String,
    /// The name the user gave.
    pub name: String,
    /// One of [`TOPICS`].
    pub topic: String,
    /// Where the user can be reached.
    pub address: Address,
}

/// The bot and its HTTP application (`POST /api/messages` and the web hooks), on `store`.
pub fn app<S>(store: Arc<S>, config: BotFrameworkConfig) -> Result<(Bot, Router), ConfigError>
where
    S: Storage + Outbox + JobStore,
{
    let bot_framework = BotFramework::from_config(config)?;
    let bot = Bot::builder()
        .store(store)
        .default_channel(Arc::new(bot_framework.channel()))
        // A proactive send retries a channel that is down or busy, with backoff; give up after a
        // few seconds so the web hook can report the outcome before its caller gives up on it.
        .retry_policy(
            RetryPolicy::default().max_attempts(5).max_backoff(Duration::from_secs(2)).max_age(Duration::from_secs(6)),
        )
        .dialog("/", subscribe())
        .build();
    let hooks = Router::new()
        .route("/api/subscriptions", get(list_subscriptions))
        .route("/api/notify", post(notify))
        .with_state(bot.clone());
    Ok((bot.clone(), hooks.merge(bot_framework.router(bot))))
}

/// The subscription conversation: a greeting, a text prompt, a choice prompt, then the address
/// is saved.
pub fn subscribe() -> Waterfall {
    Waterfall::new()
        .step(|session, _| async move {
            // Messages of one turn arrive in the order they were sent.
            session.send("Hello! I send alerts when something happens.");
            session.prompt(Prompt::text("What is your name?"));
            Ok(())
        })
        .step(|session, answer| async move {
            let name = answer.text().unwrap_or_default().trim().to_owned();
            session.dialog_data().set("name", name.as_str());
            // Up to ten short choices show as buttons (suggested actions); the user may also type
            // a choice or its number. Anything else gets the retry message.
            session.prompt(Prompt::choice(format!("Which alerts would you like, {name}?"), TOPICS));
            Ok(())
        })
        .step(|session, answer| async move {
            let name: String = session.dialog_data().get("name").unwrap_or_default();
            let Some(choice) = answer.response_as::<FoundChoice>() else {
                session.end_dialog_with_message("No subscription then. Say anything to start again.");
                return Ok(());
            };
            // The address of this conversation, without the id of the message being answered: a
            // message sent to it later starts afresh instead of replying to an old message.
            let address = session.address().without_reply_id();
            let subscription = Subscription {
                user_id: address.user.id.clone(),
                name: name.clone(),
                topic: choice.value.clone(),
                address,
            };
            let key = format!("{SUBSCRIPTION_PREFIX}{}/{}", subscription.address.channel_id, subscription.user_id);
            // A newer subscription replaces an older one: last writer wins is right here.
            let json = serde_json::to_string(&subscription)?;
            session.bot().storage().write(&key, &json, Precondition::Any).await?;
            session.end_dialog_with_message(format!("Thanks, {name}! You will get {} alerts here.", choice.value));
            Ok(())
        })
}

/// `GET /api/subscriptions`: every stored subscription.
pub async fn list_subscriptions(State(bot): State<Bot>) -> Response {
    let documents = match bot.storage().scan(SUBSCRIPTION_PREFIX).await {
        Ok(documents) => documents,
        Err(e) => return failure(StatusCode::INTERNAL_SERVER_ERROR, format!("the store failed: {e}")),
    };
    let mut subscriptions = Vec::with_capacity(documents.len());
    for (key, document) in documents {
        match serde_json::from_str::<Subscription>(&document.json) {
            Ok(subscription) => subscriptions.push(subscription),
            Err(e) => tracing::warn!(%key, error = %e, "skipping a subscription that cannot be read"),
        }
    }
    Json(subscriptions).into_response()
}

/// `POST /api/notify {"address", "text"}`: sends `text` to `address` and reports the outcome.
pub async fn notify(State(bot): State<Bot>, body: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return failure(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")),
    };
    // An address from outside is checked before use: a typed error says what is missing.
    let address = match body.get("address").map(Address::from_value) {
        Some(Ok(address)) => address,
        Some(Err(e)) => return failure(StatusCode::BAD_REQUEST, format!("`address` is not usable: {e}")),
        None => return failure(StatusCode::BAD_REQUEST, "the body has no `address`"),
    };
    let Some(text) = body.get("text").and_then(Value::as_str) else {
        return failure(StatusCode::BAD_REQUEST, "the body has no string `text`");
    };
    // `Bot::send` goes through the same delivery engine as replies (retries, per-conversation
    // order) and returns once the channel accepted the message, or with the reason it did not.
    let sending = bot.send(Message::new().address(address).text(text));
    match tokio::time::timeout(NOTIFY_DEADLINE, sending).await {
        Ok(Ok(receipt)) => Json(json!({ "id": receipt.activity_id })).into_response(),
        Ok(Err(e)) => failure(StatusCode::INTERNAL_SERVER_ERROR, format!("not delivered: {e}")),
        Err(_) => failure(
            StatusCode::GATEWAY_TIMEOUT,
            format!("the channel did not confirm within {} s; delivery goes on", NOTIFY_DEADLINE.as_secs()),
        ),
    }
}

fn failure(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    // SQLite keeps state, subscriptions and the address book in one file.
    let database = std::env::var("DATABASE").unwrap_or_else(|_| "proactive_webhook.db".to_owned());
    let store = Arc::new(botwright_sqlite::SqliteStore::open(&database).await?);
    let (bot, app) = app(store, BotFrameworkConfig::from_env()?)?;

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port()?)).await?;
    tracing::info!(%database, "proactive web hook bot listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).with_graceful_shutdown(ctrl_c()).await?;
    bot.flush().await;
    Ok(())
}

/// The port from `PORT`, 3978 when unset.
fn port() -> Result<u16, String> {
    match std::env::var("PORT") {
        Ok(text) => text.trim().parse().map_err(|e| format!("PORT={text} is not a port number: {e}")),
        Err(_) => Ok(3978),
    }
}

/// Resolves when the user presses Ctrl-C.
async fn ctrl_c() {
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::warn!(error = %e, "cannot listen for Ctrl-C; stop the process another way");
        std::future::pending::<()>().await;
    }
}
