//! # Echo: the smallest bot that speaks the Bot Framework protocol
//!
//! Every message the user sends comes back as `You said: ...`.
//!
//! ```text
//! cargo run -p botwright-examples --example echo          # listens on 127.0.0.1:3978
//! PORT=4000 cargo run -p botwright-examples --example echo
//! ```
//!
//! Point the Bot Framework Emulator (or offline Direct Line) at `http://127.0.0.1:3978/api/messages`.
//! Without `MICROSOFT_APP_ID` the endpoint runs in development mode: it accepts activities without
//! a token, which is what the emulator and offline Direct Line send.

use botwright::storage::MemoryStore;
use botwright::{Bot, Waterfall};
use botwright_botframework::BotFramework;
use std::sync::Arc;

/// The dialog: a waterfall of a single step. It answers and ends, so the next message begins it
/// again.
pub fn echo() -> Waterfall {
    Waterfall::new().step(|session, _| async move {
        let said = session.message().text().to_owned();
        session.end_dialog_with_message(format!("You said: {said}"));
        Ok(())
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to standard error; `RUST_LOG=debug` shows every delivery attempt.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    // 1. A store for the bot's state (dialog stacks, user data, the address book). The memory
    //    store forgets everything when the process ends; see `proactive_webhook` for SQLite.
    let store = Arc::new(MemoryStore::new());

    // 2. The Bot Framework channel: the `/api/messages` endpoint and the connector client that
    //    carries the bot's replies back to `{serviceUrl}/v3/conversations/...`. It reads
    //    `MICROSOFT_APP_ID` and `MICROSOFT_APP_PASSWORD` from the environment.
    let bot_framework = BotFramework::from_env()?;

    // 3. The bot. A message that finds no dialog running begins the default dialog, `/`.
    let bot =
        Bot::builder().store(store).default_channel(Arc::new(bot_framework.channel())).dialog("/", echo()).build();

    // 4. Serve `POST /api/messages`. Replies are not in the HTTP response: the endpoint answers
    //    202 once the turn is saved, and the reply travels to the channel's service URL.
    let app = bot_framework.router(bot.clone());
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port()?)).await?;
    tracing::info!("echo bot listening on http://{}/api/messages", listener.local_addr()?);
    axum::serve(listener, app).with_graceful_shutdown(ctrl_c()).await?;

    // 5. Replies still on their way are delivered before the process ends.
    bot.flush().await;
    Ok(())
}

/// The port from `PORT`, 3978 (the Bot Framework's usual one) when unset.
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
