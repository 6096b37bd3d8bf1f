//! # Console: talk to a bot in the terminal
//!
//! The console channel reads lines from standard input and prints the bot's messages on standard
//! output (Bot Builder v3's `ConsoleConnector`). No HTTP, no emulator: the quickest way to try a
//! dialog while writing it. The same dialogs run unchanged behind `/api/messages`.
//!
//! ```text
//! cargo run -p botwright-examples --example console
//! hi
//! bot> Hi! What is your name?
//! Ana
//! bot> Nice to meet you, Ana. Shall I remember your name?
//!      [Yes] [No]
//! yes
//! bot> Done. Say anything to start again (end of input, Ctrl-D, quits).
//! ```
//!
//! This example listens on no port, so it ignores `PORT`.

use botwright::console::{self, ConsoleChannel};
use botwright::prompt::Prompt;
use botwright::{Bot, Waterfall};
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to standard error, so they do not mix with the conversation on standard output.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();

    // Messages of channel `console` go to the console channel. Without a store the bot keeps its
    // state in memory.
    let bot = Bot::builder().channel(console::CHANNEL_ID, Arc::new(ConsoleChannel)).dialog("/", greeter()).build();

    // Each line is a message from the console user; each turn's replies are printed before the
    // next line is read.
    console::run(bot).await?;
    Ok(())
}

/// The dialog: asks the user's name once, and greets by name from then on.
pub fn greeter() -> Waterfall {
    Waterfall::new()
        .step(|session, _| async move {
            // A user who told us their name before is greeted by it (user data follows the user).
            match session.user_data().get::<String>("name") {
                Some(name) => session.end_dialog_with_message(format!("Welcome back, {name}!")),
                None => session.prompt(Prompt::text("Hi! What is your name?")),
            }
            Ok(())
        })
        .step(|session, answer| async move {
            let name = answer.text().unwrap_or_default().trim().to_owned();
            session.dialog_data().set("name", name.as_str());
            session.prompt(Prompt::confirm(format!("Nice to meet you, {name}. Shall I remember your name?")));
            Ok(())
        })
        .step(|session, answer| async move {
            if answer.confirmed() == Some(true) {
                let name: String = session.dialog_data().get("name").unwrap_or_default();
                session.user_data().set("name", name);
            }
            session.end_dialog_with_message("Done. Say anything to start again (end of input, Ctrl-D, quits).");
            Ok(())
        })
}
