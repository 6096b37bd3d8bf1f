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
/// Only conversations the endpoint opened are served ([`DirectLine::owns`](super::DirectLine::owns));
/// any other id is refused with [`DeliveryError::InvalidAddress`] (not retried), so that a
/// message for someone else's conversation (Azure's Direct Line, a made-up id) neither vanishes
/// nor makes the endpoint hold a conversation nobody can read. One of ours that is not held (the
/// process restarted, or it was dropped to make room) is opened again under the same id, so that
/// a client reconnecting to it gets the message.
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

    /// Whether the endpoint opened the conversation `id`.
    pub(super) fn owns(&self, id: &str) -> bool {
        self.shared.ids.owns(id)
    }
}

#[async_trait]
impl Channel for DirectLineChannel {
    async fn deliver(&self, address: &Address, activity: &Activity) -> Result<Delivered, DeliveryError> {
        let id = &address.conversation.id;
        if id.is_empty() {
            return Err(DeliveryError::InvalidAddress("the address has no conversation id".into()));
        }
        if !self.owns(id) {
            return Err(DeliveryError::InvalidAddress(format!(
                "conversation {id:?} was not opened by this Direct Line endpoint"
            )));
        }
        let (conversation, opened) = self.shared.conversations.get_or_open(id);
        if opened {
            tracing::info!(conversation = %id, "a message for a Direct Line conversation not held: opened it again");
        }
        let mut activity = activity.clone();
        if activity.timestamp.is_none() {
            activity.timestamp = Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
        }
        let typing = activity.kind == ActivityType::Typing;
        let make = |activity_id: &str| {
            activity.id = Some(activity_id.to_owned());
            serde_json::to_vec(&activity)
        };
        let added =
            if typing { conversation.show(make) } else { self.shared.conversations.append(&conversation, make) };
        let activity_id = added
            .map_err(|e| DeliveryError::Rejected { status: 400, body: format!("the activity is not JSON: {e}") })?;
        Ok(Delivered { activity_id: Some(activity_id) })
    }
}
