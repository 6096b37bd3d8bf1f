//! The console channel: talk to a bot in a terminal (Bot Builder v3's `ConsoleConnector`).

use crate::activity::{Activity, ActivityType, ChannelAccount, ConversationAccount};
use crate::address::Address;
use crate::async_trait;
use crate::bot::Bot;
use crate::channel::{Channel, Delivered, DeliveryError};
use std::io::Write;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The channel id of console conversations.
pub const CHANNEL_ID: &str = "console";

/// Prints the bot's messages on standard output.
#[derive(Debug, Default)]
pub struct ConsoleChannel;

#[async_trait]
impl Channel for ConsoleChannel {
    async fn deliver(&self, _address: &Address, activity: &Activity) -> Result<Delivered, DeliveryError> {
        let mut out = String::new();
        match activity.kind {
            ActivityType::Typing => out.push_str("bot is typing...\n"),
            ActivityType::Message => {
                out.push_str("bot> ");
                out.push_str(activity.text());
                out.push('\n');
                for a in &activity.attachments {
                    out.push_str(&format!("     [attachment {}]\n", a.content_type));
                }
                if let Some(actions) = &activity.suggested_actions {
                    let titles: Vec<&str> = actions.actions.iter().filter_map(|a| a.title.as_deref()).collect();
                    out.push_str(&format!("     [{}]\n", titles.join("] [")));
                }
            }
            _ => return Ok(Delivered::default()),
        }
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(out.as_bytes()).map_err(|e| DeliveryError::Unreachable(e.to_string()))?;
        stdout.flush().map_err(|e| DeliveryError::Unreachable(e.to_string()))?;
        Ok(Delivered::default())
    }
}

/// The address of the console user (`user` in conversation `console`).
pub fn console_address() -> Address {
    Address::new(
        CHANNEL_ID,
        "console://local",
        ChannelAccount::new("user").with_name("You"),
        ChannelAccount::new("bot").with_name("Bot"),
        ConversationAccount::new("console"),
    )
}

/// Reads lines from standard input and hands each to `bot` as a message from the console user,
/// until end of input. Register [`ConsoleChannel`] for channel id [`CHANNEL_ID`] on the bot.
///
/// ```no_run
/// use std::sync::Arc;
/// use botwright::{Bot, Waterfall};
/// use botwright::console::{self, ConsoleChannel};
/// # async fn run() -> std::io::Result<()> {
/// let bot = Bot::builder()
///     .channel(console::CHANNEL_ID, Arc::new(ConsoleChannel))
///     .dialog("/", Waterfall::new().step(|s, _| async move { s.end_dialog_with_message("Hi!"); Ok(()) }))
///     .build();
/// console::run(bot).await
/// # }
/// ```
pub async fn run(bot: Bot) -> std::io::Result<()> {
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let address = console_address();
    let mut next_id = 1u64;
    while let Some(line) = lines.next_line().await? {
        let mut activity = Activity::message(line);
        activity.id = Some(format!("console-{next_id}"));
        next_id += 1;
        activity.channel_id = Some(address.channel_id.clone());
        activity.service_url = Some(address.service_url.clone());
        activity.from = Some(address.user.clone());
        activity.recipient = Some(address.bot.clone());
        activity.conversation = Some(address.conversation.clone());
        activity.timestamp = Some(chrono::Utc::now().to_rfc3339());
        activity.local_timestamp = Some(chrono::Local::now().to_rfc3339());
        if let Err(e) = bot.receive(activity).await {
            eprintln!("error: {e}");
        }
        bot.flush().await;
    }
    bot.flush().await;
    Ok(())
}
