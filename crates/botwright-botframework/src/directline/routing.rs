//! [`RoutingChannel`]: the embedded endpoint's conversations to it, every other to a fallback.

use super::DirectLineChannel;
use botwright::channel::{Channel, Delivered, DeliveryError};
use botwright::{Activity, Address, async_trait};
use std::sync::Arc;

/// Delivers to the embedded Direct Line endpoint exactly the conversations it opened (their ids
/// say so, see [`DirectLine::owns`](super::DirectLine::owns)), whatever the address's channel
/// id, and every other activity to the fallback channel (the Bot Framework connector). Made by
/// [`DirectLine::channel_or`](super::DirectLine::channel_or).
pub struct RoutingChannel {
    directline: Arc<DirectLineChannel>,
    fallback: Arc<dyn Channel>,
}

impl std::fmt::Debug for RoutingChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutingChannel").field("fallback", &self.fallback).finish_non_exhaustive()
    }
}

impl RoutingChannel {
    pub(super) fn new(directline: Arc<DirectLineChannel>, fallback: Arc<dyn Channel>) -> Self {
        RoutingChannel { directline, fallback }
    }
}

#[async_trait]
impl Channel for RoutingChannel {
    fn attach(&self, storage: &Arc<dyn botwright::Storage>) {
        self.directline.attach(storage);
        self.fallback.attach(storage);
    }

    async fn deliver(&self, address: &Address, activity: &Activity) -> Result<Delivered, DeliveryError> {
        if self.directline.owns(&address.conversation.id) {
            self.directline.deliver(address, activity).await
        } else {
            self.fallback.deliver(address, activity).await
        }
    }
}
