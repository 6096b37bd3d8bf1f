//! Addresses: where a user can be reached.
//!
//! Every incoming activity carries an [`Address`]: the channel, the user, the bot, the conversation
//! and the service URL that replies go to. An address serializes to JSON and back, so an
//! application can store it and reach the user later ("proactive" messaging).
//!
//! Two JSON shapes are read: Bot Builder v3's `IAddress` (`id` is the activity to reply to) and
//! Bot Framework v4's `ConversationReference` (`activityId`). Addresses are written in the v3 shape
//! plus `locale` and `tenantId`, which v3 lost; [`Address::to_conversation_reference`] writes v4's.

use crate::activity::{Activity, ChannelAccount, ConversationAccount};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Why a JSON value is not a usable address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// The value is not a JSON object (nor a string holding one).
    #[error("an address must be a JSON object (or a string holding one)")]
    NotAnObject,
    /// The string did not hold JSON.
    #[error("the address string is not JSON: {0}")]
    InvalidJson(String),
    /// `serviceUrl` is missing or not a string.
    #[error("the address has no string `serviceUrl`")]
    MissingServiceUrl,
    /// `conversation` (with an `id`) is missing.
    #[error("the address has no `conversation` with an `id`")]
    MissingConversation,
    /// `user` (with an `id`) is missing.
    #[error("the address has no `user` with an `id`")]
    MissingUser,
    /// A field has the wrong type.
    #[error("the address is malformed: {0}")]
    Malformed(String),
}

/// The serialized address of a user in a conversation.
///
/// ```
/// use botwright::Address;
/// // Bot Builder v3's IAddress ...
/// let v3 = r#"{"id":"a1","channelId":"msteams","user":{"id":"u1"},"bot":{"id":"b1"},
///             "conversation":{"id":"c1"},"serviceUrl":"https://smba.example/emea/"}"#;
/// let address: Address = serde_json::from_str(v3).unwrap();
/// assert_eq!(address.conversation.id, "c1");
/// // ... and v4's ConversationReference both read.
/// let v4 = r#"{"activityId":"a1","channelId":"msteams","user":{"id":"u1"},"bot":{"id":"b1"},
///             "conversation":{"id":"c1"},"serviceUrl":"https://smba.example/emea/","locale":"es"}"#;
/// let reference: Address = serde_json::from_str(v4).unwrap();
/// assert_eq!(reference.id.as_deref(), Some("a1"));
/// assert_eq!(reference.locale.as_deref(), Some("es"));
/// // A missing serviceUrl is an error on the way in, not a crash later.
/// assert!(serde_json::from_str::<Address>(r#"{"user":{"id":"u"},"conversation":{"id":"c"}}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// The activity a reply threads under (v3 `id`, v4 `activityId`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The channel, e.g. `msteams`, `webchat`, `emulator`.
    pub channel_id: String,
    /// The user.
    pub user: ChannelAccount,
    /// The bot.
    pub bot: ChannelAccount,
    /// The conversation.
    pub conversation: ConversationAccount,
    /// The base URL of the channel's connector service.
    pub service_url: String,
    /// The user's locale as the channel last reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The tenant (Teams), from `conversation.tenantId` or `channelData.tenant.id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

impl Address {
    /// An address from its parts (no reply-to id, no locale, no tenant).
    pub fn new(
        channel_id: impl Into<String>,
        service_url: impl Into<String>,
        user: ChannelAccount,
        bot: ChannelAccount,
        conversation: ConversationAccount,
    ) -> Self {
        Address {
            id: None,
            channel_id: channel_id.into(),
            user,
            bot,
            conversation,
            service_url: service_url.into(),
            locale: None,
            tenant_id: None,
        }
    }

    /// The address of the sender of `activity`, the one replies go to.
    pub fn from_activity(activity: &Activity) -> Result<Self, AddressError> {
        let user = match &activity.from {
            Some(from) if !from.id.is_empty() => from.clone(),
            _ => return Err(AddressError::MissingUser),
        };
        let conversation = match &activity.conversation {
            Some(c) if !c.id.is_empty() => c.clone(),
            _ => return Err(AddressError::MissingConversation),
        };
        let service_url = activity.service_url.clone().ok_or(AddressError::MissingServiceUrl)?;
        let tenant_id =
            conversation.tenant_id.clone().or_else(|| tenant_from_channel_data(activity.channel_data.as_ref()));
        Ok(Address {
            id: activity.id.clone(),
            channel_id: activity.channel_id.clone().unwrap_or_default(),
            user,
            bot: activity.recipient.clone().unwrap_or_default(),
            conversation,
            service_url,
            locale: activity.locale.clone(),
            tenant_id,
        })
    }

    /// Reads an address from a JSON value: an object, or a string holding the JSON of one.
    ///
    /// ```
    /// use botwright::Address;
    /// let inner = r#"{"channelId":"webchat","user":{"id":"u"},"conversation":{"id":"c"},"serviceUrl":"http://x"}"#;
    /// let a = Address::from_value(&serde_json::Value::String(inner.into())).unwrap();
    /// assert_eq!(a.user.id, "u");
    /// ```
    pub fn from_value(value: &Value) -> Result<Self, AddressError> {
        match value {
            Value::String(text) => {
                let parsed: Value = serde_json::from_str(text).map_err(|e| AddressError::InvalidJson(e.to_string()))?;
                match parsed {
                    Value::Object(map) => Self::from_map(&map),
                    _ => Err(AddressError::NotAnObject),
                }
            }
            Value::Object(map) => Self::from_map(map),
            _ => Err(AddressError::NotAnObject),
        }
    }

    fn from_map(map: &Map<String, Value>) -> Result<Self, AddressError> {
        let service_url = match map.get("serviceUrl") {
            Some(Value::String(url)) => url.clone(),
            _ => return Err(AddressError::MissingServiceUrl),
        };
        let conversation: ConversationAccount = match map.get("conversation") {
            Some(v @ Value::Object(_)) => {
                serde_json::from_value(v.clone()).map_err(|e| AddressError::Malformed(format!("conversation: {e}")))?
            }
            _ => return Err(AddressError::MissingConversation),
        };
        if conversation.id.is_empty() {
            return Err(AddressError::MissingConversation);
        }
        let user: ChannelAccount = match map.get("user") {
            Some(v @ Value::Object(_)) => {
                serde_json::from_value(v.clone()).map_err(|e| AddressError::Malformed(format!("user: {e}")))?
            }
            _ => return Err(AddressError::MissingUser),
        };
        if user.id.is_empty() {
            return Err(AddressError::MissingUser);
        }
        let bot: ChannelAccount = match map.get("bot") {
            Some(v @ Value::Object(_)) => {
                serde_json::from_value(v.clone()).map_err(|e| AddressError::Malformed(format!("bot: {e}")))?
            }
            None | Some(Value::Null) => ChannelAccount::default(),
            Some(_) => return Err(AddressError::Malformed("bot must be an object".into())),
        };
        let string = |key: &str| -> Result<Option<String>, AddressError> {
            match map.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(AddressError::Malformed(format!("{key} must be a string"))),
            }
        };
        let id = match string("id")? {
            Some(id) => Some(id),
            None => string("activityId")?,
        };
        let tenant_id = match string("tenantId")? {
            Some(t) => Some(t),
            None => conversation.tenant_id.clone(),
        };
        Ok(Address {
            id,
            channel_id: string("channelId")?.unwrap_or_default(),
            user,
            bot,
            conversation,
            service_url,
            locale: string("locale")?,
            tenant_id,
        })
    }

    /// This address as Bot Framework v4's `ConversationReference` JSON.
    pub fn to_conversation_reference(&self) -> Value {
        let mut map = Map::new();
        if let Some(id) = &self.id {
            map.insert("activityId".into(), Value::String(id.clone()));
        }
        map.insert("user".into(), serde_json::to_value(&self.user).unwrap_or(Value::Null));
        map.insert("bot".into(), serde_json::to_value(&self.bot).unwrap_or(Value::Null));
        let mut conversation = self.conversation.clone();
        if conversation.tenant_id.is_none() {
            conversation.tenant_id = self.tenant_id.clone();
        }
        map.insert("conversation".into(), serde_json::to_value(&conversation).unwrap_or(Value::Null));
        map.insert("channelId".into(), Value::String(self.channel_id.clone()));
        if let Some(locale) = &self.locale {
            map.insert("locale".into(), Value::String(locale.clone()));
        }
        map.insert("serviceUrl".into(), Value::String(self.service_url.clone()));
        Value::Object(map)
    }

    /// The same address without the reply-to activity id: a message sent to it starts a new
    /// thread instead of replying to an old activity.
    pub fn without_reply_id(&self) -> Self {
        Address { id: None, ..self.clone() }
    }

    /// The key that identifies this address's conversation across channels.
    pub fn conversation_key(&self) -> String {
        format!("{}/{}", self.channel_id, self.conversation.id)
    }

    /// Fills the routing fields of an outgoing activity (from the bot, to the user, in this
    /// conversation) from this address.
    pub fn apply_to(&self, activity: &mut Activity) {
        activity.channel_id = Some(self.channel_id.clone());
        activity.service_url = Some(self.service_url.clone());
        activity.conversation = Some(self.conversation.clone());
        activity.from = Some(self.bot.clone());
        activity.recipient = Some(self.user.clone());
        if activity.reply_to_id.is_none() {
            activity.reply_to_id = self.id.clone();
        }
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Address::from_value(&value).map_err(serde::de::Error::custom)
    }
}

fn tenant_from_channel_data(channel_data: Option<&Value>) -> Option<String> {
    channel_data?.get("tenant")?.get("id")?.as_str().map(str::to_owned)
}
