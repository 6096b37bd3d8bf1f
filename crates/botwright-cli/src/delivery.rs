//! Proactive delivery as the web hooks use it: wait for the outcome up to a deadline, or queue
//! and report the outbox id.

use botwright::error::SendError;
use botwright::storage::OutboxStatus;
use botwright::{Bot, Message};
use serde_json::{Value, json};
use std::time::Duration;

/// How a notification ended.
#[derive(Debug)]
pub enum Outcome {
    /// The channel accepted it, with this activity id.
    Delivered(Option<String>),
    /// It was not delivered, and will not be: why.
    Failed(SendError),
}

/// Sends `message` and waits up to `deadline` for the channel to accept it; a message not
/// delivered by then is withdrawn, so a failure means it will not arrive later.
pub async fn deliver_within(bot: &Bot, message: Message, deadline: Duration) -> Outcome {
    match bot.send_with_deadline(message, deadline).await {
        Ok(receipt) => Outcome::Delivered(receipt.activity_id),
        Err(e) => Outcome::Failed(e),
    }
}

/// Queues `message` in the outbox and returns its id at once; delivery goes on with retries.
pub async fn enqueue(bot: &Bot, message: Message) -> Result<String, SendError> {
    bot.enqueue(message).await.map(|id| id.to_string())
}

/// Where a queued notification stands: `{"id", "state": "pending" | "delivered" | "dead" |
/// "withdrawn", ...}`; `None` for an unknown id.
pub async fn status(bot: &Bot, id: &str) -> Result<Option<Value>, SendError> {
    let Ok(number) = id.parse::<i64>() else { return Ok(None) };
    let status = bot.outbox_status(number).await?;
    Ok(status.map(|status| match status {
        OutboxStatus::Pending { attempts, last_error } => {
            json!({"id": id, "state": "pending", "attempts": attempts, "lastError": last_error})
        }
        OutboxStatus::Delivered { activity_id } => json!({"id": id, "state": "delivered", "activityId": activity_id}),
        OutboxStatus::Dead { reason } => json!({"id": id, "state": "dead", "reason": reason}),
        OutboxStatus::Withdrawn => json!({"id": id, "state": "withdrawn"}),
        other => json!({"id": id, "state": "unknown", "detail": format!("{other:?}")}),
    }))
}
