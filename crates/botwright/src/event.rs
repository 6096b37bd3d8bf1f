//! Events the application can observe.

use crate::activity::Activity;
use crate::address::Address;
use crate::dead_letter::DeadLetterReason;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::broadcast;

/// Something that happened in the bot. Subscribe with [`Bot::events`](crate::Bot::events).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum BotEvent {
    /// A message arrived (before routing).
    Incoming(Arc<Activity>),
    /// A `conversationUpdate` arrived (members added or removed).
    ConversationUpdate(Arc<Activity>),
    /// Another non-message activity arrived (`event`, `typing`, `endOfConversation`, ...).
    Activity(Arc<Activity>),
    /// The channel accepted an outgoing activity.
    Outgoing {
        /// Where it went.
        address: Box<Address>,
        /// What was sent.
        activity: Arc<Activity>,
        /// The channel's id of it.
        activity_id: Option<String>,
    },
    /// A dialog failed (the user was told, the stack reset).
    Error {
        /// Whose turn it was.
        address: Box<Address>,
        /// What went wrong.
        error: String,
    },
    /// The channel answered 403 or 404 for an address: the user blocked the bot or the
    /// conversation is gone. The address book marks it stale until the user writes again.
    AddressStale {
        /// The address.
        address: Box<Address>,
        /// The HTTP status.
        status: u16,
    },
    /// A message was given up.
    DeadLetter {
        /// Where it was going.
        address: Box<Address>,
        /// What it was.
        activity: Arc<Activity>,
        /// Why it was given up.
        reason: DeadLetterReason,
        /// Attempts made.
        attempts: u32,
    },
}

/// The sending side of the bot's events; builds an event only when someone listens.
///
/// Until the first subscription, emitting costs one atomic load: no lock is taken on the turn's
/// hot path (the broadcast channel's receiver count sits behind a mutex).
#[derive(Debug, Clone)]
pub(crate) struct Events {
    sender: broadcast::Sender<BotEvent>,
    subscribed: Arc<AtomicBool>,
}

impl Events {
    pub(crate) fn new(capacity: usize) -> Self {
        Events { sender: broadcast::channel(capacity).0, subscribed: Arc::new(AtomicBool::new(false)) }
    }

    pub(crate) fn emit(&self, event: impl FnOnce() -> BotEvent) {
        if self.subscribed.load(Ordering::Relaxed) && self.sender.receiver_count() > 0 {
            let _ = self.sender.send(event());
        }
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<BotEvent> {
        let receiver = self.sender.subscribe();
        self.subscribed.store(true, Ordering::Relaxed);
        receiver
    }
}
