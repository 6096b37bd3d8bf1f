//! # Waterfall: a conversation of steps, with prompts
//!
//! ```text
//! user> hi
//! bot>  Hi! What is your name?
//! user> Ana
//! bot>  How many cups of coffee did you have today, Ana?
//! user> lots
//! bot>  I didn't recognize that as a number. Please enter a number.
//! user> three
//! bot>  3 cups, Ana? Noted.
//! ```
//!
//! ```text
//! cargo run -p botwright-examples --example waterfall     # PORT=3978 by default
//! ```
//!
//! A [`Waterfall`] is a list of steps. A step that starts a prompt (or any child dialog) ends the
//! turn; the user's answer comes back as the `result` of the *next* step. Where the conversation
//! stands lives in the store, so it survives restarts when the store does.

use botwright::prompt::Prompt;
use botwright::storage::MemoryStore;
use botwright::{Bot, Waterfall};
use botwright_botframework::BotFramework;
use std::sync::Arc;

/// The conversation: three steps, two prompts.
pub fn coffee_survey() -> Waterfall {
    Waterfall::new()
        // Step 1: runs when the dialog begins. A text prompt accepts any non-empty answer.
        .step(|session, _args| async move {
            session.prompt(Prompt::text("Hi! What is your name?"));
            Ok(())
        })
        // Step 2: `result` is the text prompt's answer. Keep it in dialog data (kept until this
        // dialog ends) and ask for a number. The prompt validates the answer: words ("three") and
        // digits are numbers; a value out of range or with decimals gets a specific retry message.
        .step(|session, result| async move {
            let name = result.text().unwrap_or("friend").to_owned();
            session.dialog_data().set("name", name.as_str());
            session.prompt(
                Prompt::number(format!("How many cups of coffee did you have today, {name}?"))
                    .min(0.0)
                    .max(30.0)
                    .integer_only(),
            );
            Ok(())
        })
        // Step 3: `result` is the number. Answer and end the dialog; the next message begins it
        // again at step 1.
        .step(|session, result| async move {
            let name: String = session.dialog_data().get("name").unwrap_or_default();
            let cups = result.number().unwrap_or_default();
            session.end_dialog_with_message(format!("{cups} cups, {name}? Noted."));
            Ok(())
        })
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
    // `/` is the default dialog: a message that finds no dialog running begins it.
    let bot = Bot::builder()
        .store(store)
        .default_channel(Arc::new(bot_framework.channel()))
        .dialog("/", coffee_survey())
        .build();

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port()?)).await?;
    tracing::info!("waterfall bot listening on http://{}/api/messages", listener.local_addr()?);
    axum::serve(listener, bot_framework.router(bot.clone())).with_graceful_shutdown(ctrl_c()).await?;
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
