//! [`DirectLineChannel`]: the bot's activities into the embedded endpoint's conversations.

use super::Shared;
use botwright::activity::ActivityType;
use botwright::channel::{Channel, Delivered, DeliveryError};
use botwright::{Activity, Address, async_trait};
use std::sync::Arc;

/// Delivers the bot's activities to the conversations of the embedded Direct Line endpoint:
/// each is added to its conversation's history (with an id and the next watermark) and pushed to
/// the conversation's WebSocket streams; typing indicators are pushed but not kept.
///
/// A conversation the endpoint does not hold (the process restarted, or it was dropped to make
/// room) is opened again under the same id, so that a client reconnecting to it gets the message.
pub struct DirectLineChannel {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for DirectLineChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectLineChannel").finish_non_exhaustive()
    }
}

impl DirectLineChannel {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        DirectLineChannel { shared }
    }
}

#[async_trait]
impl Channel for DirectLineChannel {
    async fn deliver(&self, address: &Address, activity: &Activity) -> Result<Delivered, DeliveryError> {
        let id = &address.conversation.id;
        if id.is_empty() {
            return Err(DeliveryError::InvalidAddress("the address has no conversation id".into()));
        }
        let (conversation, opened) = self.shared.conversations.get_or_open(id);
        if opened {
            tracing::info!(conversation = %id, "a message for a Direct Line conversation not held: opened it again");
        }
        let mut activity = activity.clone();
        if activity.timestamp.is_none() {
            activity.timestamp = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
        let value = serde_json::to_value(&activity)
            .map_err(|e| DeliveryError::Rejected { status: 400, body: format!("the activity is not JSON: {e}") })?;
        let activity_id =
            if activity.kind == ActivityType::Typing { conversation.show(value) } else { conversation.append(value) };
        Ok(Delivered { activity_id: Some(activity_id) })
    }
}
