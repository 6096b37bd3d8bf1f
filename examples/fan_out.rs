//! # Fan-out: one message to everyone the bot knows
//!
//! Every message a user sends refreshes the user's entry in the bot's *address book*: the freshest
//! address the user can be reached at, kept by the framework in the bot's store. A web hook reads
//! the whole address book and sends one message to each user, concurrently, then reports who got
//! it and who did not.
//!
//! ```text
//! cargo run -p botwright-examples --example fan_out     # PORT=3978
//! # talk to the bot from one or more clients, then:
//! curl -s http://127.0.0.1:3978/api/broadcast -H 'content-type: application/json' \
//!      -d '{"text": "The office is closed tomorrow."}'
//! {"sent":2,"skippedStale":0,"failed":[]}
//! ```
//!
//! | request | answer |
//! | --- | --- |
//! | `POST /api/broadcast {"text"}` | 200 `{"sent", "skippedStale", "failed": [{"userId", "error"}]}`; 400 `{"error"}` for a body that is not JSON or has no string `text`; 500 when the address book cannot be read |
//!
//! Each send goes through the delivery engine (retries with backoff, per-conversation order), so
//! one slow or unreachable user does not hold up the others. Users whose channel answered 403 or
//! 404 (they blocked the bot, the conversation is gone) are marked *stale* by the framework and
//! skipped until they write again.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use botwright::storage::MemoryStore;
use botwright::{Bot, Message, Waterfall};
use botwright_botframework::BotFramework;
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;

/// How many sends are in flight at once.
const CONCURRENCY: usize = 32;

/// The dialog only tells users what the bot is for; the address book fills itself.
pub fn on_the_list() -> Waterfall {
    Waterfall::new().step(|session, _| async move {
        session.end_dialog_with_message("You are on the list: announcements will reach you here.");
        Ok(())
    })
}

/// `POST /api/broadcast {"text"}`: sends `text` to every user in the address book.
pub async fn broadcast(State(bot): State<Bot>, body: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return failure(StatusCode::BAD_REQUEST, format!("the body is not JSON: {e}")),
    };
    let Some(text) = body.get("text").and_then(Value::as_str) else {
        return failure(StatusCode::BAD_REQUEST, "the body has no string `text`");
    };

    // The address book is a scan of the store: fine for an administrative fan-out like this one,
    // not something to do on every message.
    let entries = match bot.address_book().all().await {
        Ok(entries) => entries,
        Err(e) => return failure(StatusCode::INTERNAL_SERVER_ERROR, format!("the address book cannot be read: {e}")),
    };
    let (live, stale): (Vec<_>, Vec<_>) = entries.into_iter().partition(|entry| entry.stale.is_none());

    // One `Bot::send` per user, at most CONCURRENCY at a time. Each resolves once the channel
    // accepted the message or the delivery engine gave up on it.
    let outcomes: Vec<(String, Result<(), String>)> = futures::stream::iter(live)
        .map(|entry| {
            let bot = bot.clone();
            let message = Message::new().address(entry.address.clone()).text(text);
            async move {
                let outcome = bot.send(message).await.map(|_| ()).map_err(|e| e.to_string());
                (entry.address.user.id, outcome)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;

    let sent = outcomes.iter().filter(|(_, outcome)| outcome.is_ok()).count();
    let failed: Vec<Value> = outcomes
        .into_iter()
        .filter_map(|(user_id, outcome)| outcome.err().map(|error| json!({ "userId": user_id, "error": error })))
        .collect();
    Json(json!({ "sent": sent, "skippedStale": stale.len(), "failed": failed })).into_response()
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

    let store = Arc::new(MemoryStore::new());
    let bot_framework = BotFramework::from_env()?;
    let bot = Bot::builder()
        .store(store)
        .default_channel(Arc::new(bot_framework.channel()))
        .dialog("/", on_the_list())
        .build();

    let app = Router::new()
        .route("/api/broadcast", post(broadcast))
        .with_state(bot.clone())
        .merge(bot_framework.router(bot.clone()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port()?)).await?;
    tracing::info!("fan-out bot listening on http://{}", listener.local_addr()?);
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
