//! The Bot Framework as a botwright [`Channel`]: delivery through the connector client.
//!
//! [`BotFrameworkChannel`] posts each activity to its address's conversation, as a reply when the
//! activity has a `replyToId`, and translates the connector's answers into the
//! [`DeliveryError`]s the delivery engine acts on:
//!
//! | connector answer | delivery error |
//! | --- | --- |
//! | 429 | `RateLimited { retry_after }` (from `Retry-After`, seconds or HTTP date) |
//! | 5xx | `Unavailable` (retried) |
//! | 403, 404 | `Stale` (the address no longer works) |
//! | 401 (after one retry with a new token) | `Rejected` |
//! | other 4xx | `Rejected` |
//! | connection error, timeout | `Unreachable` (retried) |
//! | service URL not http(s), its origin not trusted with the token, plain http to a non-loopback host with a token, or (development mode) neither loopback nor configured | `InvalidAddress` |
//! | a 2xx answer larger than the configured limit | `Unavailable` |
//! | token endpoint unreachable / answering 429 or 5xx | `Unreachable` / `Unavailable` (retried) |
//! | token endpoint refusing the credentials (other 4xx) | `Rejected` |

use crate::connector::{ConnectorClient, ConnectorError, ConversationParameters};
use crate::token::TokenError;
use botwright::Storage;
use botwright::activity::{Activity, ConversationAccount};
use botwright::address::Address;
use botwright::async_trait;
use botwright::channel::{Channel, Delivered, DeliveryError};
use std::sync::Arc;

/// Delivers activities through the Bot Framework connector.
///
/// ```no_run
/// use botwright::channel::Channel;
/// use botwright::{Activity, Address, storage::MemoryStore};
/// use botwright_botframework::{BotFramework, BotFrameworkConfig};
/// use std::sync::Arc;
/// # async fn run(address: Address) -> Result<(), Box<dyn std::error::Error>> {
/// let bf = BotFramework::from_env()?;
/// let channel = bf.channel();
/// let mut activity = Activity::message("The build is green.");
/// address.apply_to(&mut activity);
/// let delivered = channel.deliver(&address, &activity).await?;
/// println!("sent as {:?}", delivered.activity_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BotFrameworkChannel {
    connector: ConnectorClient,
}

impl BotFrameworkChannel {
    /// A channel that sends through `connector`.
    pub fn new(connector: ConnectorClient) -> Self {
        BotFrameworkChannel { connector }
    }

    /// The connector client, for calls beyond delivery (update, delete, members, ...).
    pub fn connector(&self) -> &ConnectorClient {
        &self.connector
    }

    /// Opens a one-to-one conversation with the user of `address` (first contact: the address
    /// needs the user, the bot, the channel and the service URL; its conversation is ignored)
    /// and returns the address of the new conversation, without a reply-to id.
    ///
    /// ```no_run
    /// # use botwright::{Address, channel::Channel, Activity};
    /// # async fn run(channel: botwright_botframework::BotFrameworkChannel, known: Address)
    /// # -> Result<(), botwright::channel::DeliveryError> {
    /// let fresh = channel.create_conversation(&known).await?;
    /// let mut hello = Activity::message("Hello! I will keep you posted.");
    /// fresh.apply_to(&mut hello);
    /// channel.deliver(&fresh, &hello).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_conversation(&self, address: &Address) -> Result<Address, DeliveryError> {
        if address.user.id.is_empty() {
            return Err(DeliveryError::InvalidAddress("the address has no user id".into()));
        }
        let parameters = ConversationParameters {
            is_group: Some(false),
            bot: Some(address.bot.clone()),
            members: vec![address.user.clone()],
            tenant_id: address.tenant_id.clone(),
            channel_data: address.tenant_id.as_ref().map(|id| serde_json::json!({ "tenant": { "id": id } })),
            ..Default::default()
        };
        let created =
            self.connector.create_conversation(&address.service_url, &parameters).await.map_err(delivery_error)?;
        let mut conversation = ConversationAccount::new(created.id);
        conversation.tenant_id = address.tenant_id.clone();
        Ok(Address {
            id: None,
            conversation,
            service_url: created.service_url.unwrap_or_else(|| address.service_url.clone()),
            ..address.clone()
        })
    }
}

#[async_trait]
impl Channel for BotFrameworkChannel {
    /// Keeps the service URL origins learned from authenticated requests in the bot's store.
    fn attach(&self, storage: &Arc<dyn Storage>) {
        self.connector.trusted_hosts().attach(storage.clone());
    }

    async fn deliver(&self, address: &Address, activity: &Activity) -> Result<Delivered, DeliveryError> {
        let conversation_id = address.conversation.id.as_str();
        if conversation_id.is_empty() {
            return Err(DeliveryError::InvalidAddress("the address has no conversation id".into()));
        }
        // Skype never supported threaded replies (Bot Builder v3 posted to the conversation).
        let reply_to = activity.reply_to_id.as_deref().filter(|id| !id.is_empty() && address.channel_id != "skype");
        let sent = match reply_to {
            Some(reply_to_id) => {
                self.connector.reply_to_activity(&address.service_url, conversation_id, reply_to_id, activity).await
            }
            None => self.connector.send_to_conversation(&address.service_url, conversation_id, activity).await,
        };
        match sent {
            Ok(response) => Ok(Delivered { activity_id: response.id }),
            Err(error) => Err(delivery_error(error)),
        }
    }
}

/// How a connector failure reads to the delivery engine.
pub fn delivery_error(error: ConnectorError) -> DeliveryError {
    match error {
        ConnectorError::InvalidServiceUrl(reason) => DeliveryError::InvalidAddress(reason),
        error @ (ConnectorError::UntrustedHost { .. }
        | ConnectorError::InsecureServiceUrl { .. }
        | ConnectorError::NotAllowedInDevelopment { .. }) => DeliveryError::InvalidAddress(error.to_string()),
        ConnectorError::ResponseTooLarge { method, url, limit } => DeliveryError::Unavailable {
            status: 200,
            body: format!("{method} to {url} answered more than {limit} bytes"),
            retry_after: None,
        },
        ConnectorError::TrustStore(reason) => {
            DeliveryError::Unreachable(format!("the trusted hosts could not be read: {reason}"))
        }
        ConnectorError::Token(TokenError::Unreachable(reason)) => {
            DeliveryError::Unreachable(format!("the token endpoint could not be reached: {reason}"))
        }
        // The token service's own words are logged, never passed on (they may reach API answers).
        ConnectorError::Token(error @ TokenError::Refused { status }) if status == 429 || status >= 500 => {
            DeliveryError::Unavailable { status, body: error.to_string(), retry_after: None }
        }
        ConnectorError::Token(error @ TokenError::Refused { status }) => {
            DeliveryError::Rejected { status, body: error.to_string() }
        }
        ConnectorError::Token(TokenError::InvalidResponse(reason)) => {
            DeliveryError::Unavailable { status: 200, body: format!("token endpoint: {reason}"), retry_after: None }
        }
        ConnectorError::Serialization(reason) => {
            DeliveryError::Rejected { status: 0, body: format!("the activity cannot be serialized: {reason}") }
        }
        ConnectorError::Unreachable { method, url, reason, timeout } => {
            let what = if timeout { "timed out" } else { "failed" };
            DeliveryError::Unreachable(format!("{method} to {url} {what}: {reason}"))
        }
        ConnectorError::InvalidResponse { method, url, reason } => {
            DeliveryError::Unavailable { status: 200, body: format!("{method} to {url}: {reason}"), retry_after: None }
        }
        ConnectorError::Status { status, body, retry_after, .. } => match status {
            429 => DeliveryError::RateLimited { retry_after },
            500..=599 => DeliveryError::Unavailable { status, body, retry_after },
            403 | 404 => DeliveryError::Stale { status, body },
            _ => DeliveryError::Rejected { status, body },
        },
    }
}
