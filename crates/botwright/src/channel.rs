//! Channels: where outgoing activities go.
//!
//! A [`Channel`] delivers one activity to the conversation of an [`Address`]. The Bot Framework
//! connector (crate `botwright-botframework`), the console and the test channel implement it.
//! Retries, ordering and rate limits are not a channel's business: the delivery engine does them
//! for every channel alike, guided by the [`DeliveryError`] a channel returns.

use crate::activity::Activity;
use crate::address::Address;
use crate::storage::Storage;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// What the channel said when it accepted an activity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    /// The channel's id of the new activity, when it returns one.
    pub activity_id: Option<String>,
}

/// Why a channel did not accept an activity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The channel asked to slow down (HTTP 429).
    #[error("rate limited by the channel{}", retry_after.map(|d| format!(" (retry after {} ms)", d.as_millis())).unwrap_or_default())]
    RateLimited {
        /// How long the channel asked to wait.
        retry_after: Option<Duration>,
    },
    /// The channel failed on its side (HTTP 5xx); worth another try.
    #[error("the channel failed with status {status}: {body}")]
    Unavailable {
        /// The HTTP status.
        status: u16,
        /// The channel's error body.
        body: String,
        /// How long the channel asked to wait.
        retry_after: Option<Duration>,
    },
    /// The channel could not be reached (connection refused, timeout, DNS); worth another try.
    #[error("the channel could not be reached: {0}")]
    Unreachable(String),
    /// The address no longer works (HTTP 403 or 404: the user blocked the bot, the conversation is
    /// gone). The address book marks it stale.
    #[error("the address is stale: the channel answered {status}: {body}")]
    Stale {
        /// The HTTP status.
        status: u16,
        /// The channel's error body.
        body: String,
    },
    /// The channel refused the activity for good (another 4xx).
    #[error("the channel rejected the activity with status {status}: {body}")]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The channel's error body.
        body: String,
    },
    /// The address cannot be used with this channel (e.g. its service URL is not a URL, or its
    /// host is not trusted).
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    /// A send middleware withheld the activity
    /// ([`Middleware::on_send`](crate::middleware::Middleware::on_send)): the message is
    /// withdrawn, not a dead letter.
    #[error("withheld: {0}")]
    Withheld(String),
}

impl DeliveryError {
    /// Whether another attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DeliveryError::RateLimited { .. } | DeliveryError::Unavailable { .. } | DeliveryError::Unreachable(_)
        )
    }

    /// How long the channel asked to wait before the next attempt.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            DeliveryError::RateLimited { retry_after } | DeliveryError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Delivers outgoing activities to one kind of channel.
///
/// ```
/// use botwright::{Activity, Address, async_trait};
/// use botwright::channel::{Channel, Delivered, DeliveryError};
///
/// #[derive(Debug)]
/// struct Stdout;
///
/// #[async_trait]
/// impl Channel for Stdout {
///     async fn deliver(&self, _to: &Address, activity: &Activity) -> Result<Delivered, DeliveryError> {
///         println!("bot: {}", activity.text());
///         Ok(Delivered::default())
///     }
/// }
/// ```
#[async_trait]
pub trait Channel: Send + Sync + std::fmt::Debug + 'static {
    /// Sends `activity` (already addressed: `from`, `recipient`, `conversation` filled from
    /// `address`) to the conversation of `address`, as a reply to `activity.reply_to_id` when set.
    async fn deliver(&self, address: &Address, activity: &Activity) -> Result<Delivered, DeliveryError>;

    /// Called once by [`BotBuilder::build`](crate::bot::BotBuilder::build) with the bot's store,
    /// for a channel that keeps records of its own there (the Bot Framework channel's trusted
    /// service URLs), so that the store is given once, to the bot. A channel that wraps another
    /// passes the call on. The default does nothing.
    fn attach(&self, storage: &Arc<dyn Storage>) {
        let _ = storage;
    }
}

/// What [`BotBuilder::channel`](crate::bot::BotBuilder::channel) and
/// [`default_channel`](crate::bot::BotBuilder::default_channel) take: a channel by value, an
/// `Arc` of one, or an `Arc<dyn Channel>`.
pub trait IntoChannel {
    /// The channel, shared.
    fn into_channel(self) -> Arc<dyn Channel>;
}

impl<C: Channel> IntoChannel for C {
    fn into_channel(self) -> Arc<dyn Channel> {
        Arc::new(self)
    }
}

impl<C: Channel> IntoChannel for Arc<C> {
    fn into_channel(self) -> Arc<dyn Channel> {
        self
    }
}

impl IntoChannel for Arc<dyn Channel> {
    fn into_channel(self) -> Arc<dyn Channel> {
        self
    }
}
