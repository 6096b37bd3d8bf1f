//! Proactive delivery as the web hooks and `notify` use it.

use botwright::{Bot, Message};
use serde_json::Value;
use std::time::Duration;

/// How a notification ended.
#[derive(Debug)]
pub enum Outcome {
    /// The channel accepted it, with this activity id.
    Delivered(Option<String>),
    /// It was not delivered (and will not be): why.
    Failed(String),
}

/// Sends `message` and waits up to `deadline` for the channel to accept it.
pub async fn deliver_within(bot: &Bot, message: Message, deadline: Duration) -> Outcome {
    match tokio::time::timeout(deadline, bot.send(message)).await {
        Ok(Ok(receipt)) => Outcome::Delivered(receipt.activity_id),
        Ok(Err(e)) => Outcome::Failed(e.to_string()),
        Err(_) => Outcome::Failed(format!("not delivered within {} ms", deadline.as_millis())),
    }
}

/// Queues `message` for delivery and returns its outbox id at once.
pub async fn enqueue(_bot: &Bot, _message: Message) -> Result<String, String> {
    Err("queued notifications need the durable outbox".into())
}

/// Where a queued notification stands.
pub async fn status(_bot: &Bot, _id: &str) -> Result<Option<Value>, String> {
    Ok(None)
}
