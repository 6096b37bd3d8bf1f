//! The Bot Framework activity schema.
//!
//! An [`Activity`] is what travels between a channel and a bot: a user's message, a typing
//! indicator, a conversation update, an event. Field names are camelCase on the wire. Fields this
//! crate does not model are kept in `extra` maps so that they survive a round trip unchanged;
//! nothing here rejects an unknown field.

pub use crate::wire_value::{ActionType, AttachmentLayout, InputHint, TextFormat};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt;

/// The kind of an activity (`type` on the wire).
///
/// Unknown kinds are kept as [`ActivityType::Other`] so that a newer channel never breaks parsing.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ActivityType {
    /// A message from a user or a bot.
    #[default]
    Message,
    /// A typing indicator.
    Typing,
    /// Members joined or left a conversation, or its properties changed.
    ConversationUpdate,
    /// A named event.
    Event,
    /// The conversation ended.
    EndOfConversation,
    /// A request that expects an answer in the HTTP response.
    Invoke,
    /// The bot was added to or removed from a user's contact list.
    ContactRelationUpdate,
    /// The bot was installed or uninstalled.
    InstallationUpdate,
    /// A user reacted to a message.
    MessageReaction,
    /// Any other type, kept verbatim.
    Other(String),
}

impl ActivityType {
    /// The wire name of this type.
    pub fn as_str(&self) -> &str {
        match self {
            ActivityType::Message => "message",
            ActivityType::Typing => "typing",
            ActivityType::ConversationUpdate => "conversationUpdate",
            ActivityType::Event => "event",
            ActivityType::EndOfConversation => "endOfConversation",
            ActivityType::Invoke => "invoke",
            ActivityType::ContactRelationUpdate => "contactRelationUpdate",
            ActivityType::InstallationUpdate => "installationUpdate",
            ActivityType::MessageReaction => "messageReaction",
            ActivityType::Other(other) => other,
        }
    }
}

impl From<&str> for ActivityType {
    fn from(value: &str) -> Self {
        // Channels are not consistent about case (v3 compared case-insensitively).
        match value.to_ascii_lowercase().as_str() {
            "message" => ActivityType::Message,
            "typing" => ActivityType::Typing,
            "conversationupdate" => ActivityType::ConversationUpdate,
            "event" => ActivityType::Event,
            "endofconversation" => ActivityType::EndOfConversation,
            "invoke" => ActivityType::Invoke,
            "contactrelationupdate" => ActivityType::ContactRelationUpdate,
            "installationupdate" => ActivityType::InstallationUpdate,
            "messagereaction" => ActivityType::MessageReaction,
            _ => ActivityType::Other(value.to_owned()),
        }
    }
}

impl fmt::Display for ActivityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ActivityType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ActivityType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(ActivityType::from(raw.as_ref()))
    }
}

/// A user or a bot taking part in a conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelAccount {
    /// The channel's id of this account.
    #[serde(default)]
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `user` or `bot`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The account's Azure AD object id (Teams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aad_object_id: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChannelAccount {
    /// An account with this id and nothing else.
    pub fn new(id: impl Into<String>) -> Self {
        ChannelAccount { id: id.into(), ..Default::default() }
    }

    /// Sets the display name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// A conversation: a one-to-one chat, a group chat or a channel thread.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationAccount {
    /// The channel's id of the conversation.
    #[serde(default)]
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether more than two parties take part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_group: Option<bool>,
    /// `personal`, `groupChat`, `channel`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_type: Option<String>,
    /// The tenant the conversation belongs to (Teams).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ConversationAccount {
    /// A conversation with this id and nothing else.
    pub fn new(id: impl Into<String>) -> Self {
        ConversationAccount { id: id.into(), ..Default::default() }
    }
}

/// A file, a card or any other content attached to a message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// The MIME type, e.g. `image/png` or `application/vnd.microsoft.card.hero`.
    #[serde(default)]
    pub content_type: String,
    /// Where the content can be downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_url: Option<String>,
    /// Inline content (cards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<Value>,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A thumbnail's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbnail_url: Option<String>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Metadata about an activity: a mention, client information, a place, ...
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// The entity's kind, e.g. `mention` or `clientInfo`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Its other fields.
    #[serde(flatten)]
    pub properties: Map<String, Value>,
}

/// A button or other action offered to the user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardAction {
    /// `imBack`, `postBack`, `openUrl`, `messageBack`, ...
    #[serde(rename = "type", default)]
    pub kind: ActionType,
    /// The button's caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// An icon's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Text sent to the bot (messageBack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Text shown in the chat (messageBack).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_text: Option<String>,
    /// The value sent back or opened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Fields this crate does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CardAction {
    /// A button that posts `value` back to the bot as if the user typed it.
    pub fn im_back(title: impl Into<String>, value: impl Into<String>) -> Self {
        CardAction {
            kind: ActionType::ImBack,
            title: Some(title.into()),
            value: Some(Value::String(value.into())),
            ..Default::default()
        }
    }

    /// A button that opens a URL.
    pub fn open_url(title: impl Into<String>, url: impl Into<String>) -> Self {
        CardAction {
            kind: ActionType::OpenUrl,
            title: Some(title.into()),
            value: Some(Value::String(url.into())),
            ..Default::default()
        }
    }
}

/// Quick-reply buttons shown with a message and hidden once the user answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedActions {
    /// Ids of the recipients that see the actions (empty: everyone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// The actions.
    #[serde(default)]
    pub actions: Vec<CardAction>,
}

/// An image on a card.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardImage {
    /// The image's URL.
    pub url: String,
    /// Alternative text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt: Option<String>,
}

/// A hero card: a large image, a title, text and buttons.
///
/// ```
/// use botwright::activity::{CardAction, HeroCard};
/// let card = HeroCard::new("Order 42").text("Shipped today").button(CardAction::im_back("Track", "track 42"));
/// assert_eq!(card.to_attachment().content_type, "application/vnd.microsoft.card.hero");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[must_use]
pub struct HeroCard {
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Subtitle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// Body text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<CardImage>,
    /// Buttons.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<CardAction>,
    /// The action run when the card itself is tapped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tap: Option<CardAction>,
}

impl HeroCard {
    /// The content type of a hero card attachment.
    pub const CONTENT_TYPE: &'static str = "application/vnd.microsoft.card.hero";

    /// A card with this title.
    pub fn new(title: impl Into<String>) -> Self {
        HeroCard { title: Some(title.into()), ..Default::default() }
    }
    /// Sets the subtitle.
    pub fn subtitle(mut self, subtitle: impl Into<String>) -> Self {
        self.subtitle = Some(subtitle.into());
        self
    }
    /// Sets the body text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }
    /// Adds an image.
    pub fn image(mut self, url: impl Into<String>) -> Self {
        self.images.push(CardImage { url: url.into(), alt: None });
        self
    }
    /// Adds a button.
    pub fn button(mut self, action: CardAction) -> Self {
        self.buttons.push(action);
        self
    }
    /// The card as an attachment.
    pub fn to_attachment(&self) -> Attachment {
        Attachment {
            content_type: Self::CONTENT_TYPE.into(),
            content: serde_json::to_value(self).ok(),
            ..Default::default()
        }
    }
}

/// One activity of the Bot Framework protocol.
///
/// ```
/// use botwright::Activity;
/// let json = r#"{"type":"message","text":"hi","channelId":"emulator","from":{"id":"u1"},
///               "conversation":{"id":"c1"},"serviceUrl":"http://localhost:1","x-custom":42}"#;
/// let activity: Activity = serde_json::from_str(json).unwrap();
/// assert_eq!(activity.text.as_deref(), Some("hi"));
/// // Unknown fields survive a round trip.
/// assert_eq!(serde_json::to_value(&activity).unwrap()["x-custom"], 42);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// The activity's kind.
    #[serde(rename = "type", default)]
    pub kind: ActivityType,
    /// The channel's id of this activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// UTC time the activity was sent (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The sender's local time (ISO 8601 with offset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_timestamp: Option<String>,
    /// The sender's IANA time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_timezone: Option<String>,
    /// Where replies to this activity are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_url: Option<String>,
    /// `msteams`, `webchat`, `directline`, `emulator`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// The sender.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<ChannelAccount>,
    /// The conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<ConversationAccount>,
    /// The recipient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<ChannelAccount>,
    /// `plain`, `markdown` or `xml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_format: Option<TextFormat>,
    /// `list` or `carousel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_layout: Option<AttachmentLayout>,
    /// Members who joined (conversationUpdate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_added: Option<Vec<ChannelAccount>>,
    /// Members who left (conversationUpdate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members_removed: Option<Vec<ChannelAccount>>,
    /// The text's locale (BCP 47), e.g. `en-US`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The message text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// SSML to speak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speak: Option<String>,
    /// `acceptingInput`, `expectingInput` or `ignoringInput`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_hint: Option<InputHint>,
    /// Text shown when the channel cannot render the attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Quick-reply buttons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggested_actions: Option<SuggestedActions>,
    /// Attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Entities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Entity>,
    /// Channel-specific data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<Value>,
    /// The activity this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_id: Option<String>,
    /// A value (card submits, invoke payloads, event data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The name of an event or invoke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Why a conversation ended (endOfConversation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Fields this crate does not model, kept verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Activity {
    /// A message activity with this text.
    pub fn message(text: impl Into<String>) -> Self {
        Activity { kind: ActivityType::Message, text: Some(text.into()), ..Default::default() }
    }

    /// A typing indicator.
    pub fn typing() -> Self {
        Activity { kind: ActivityType::Typing, ..Default::default() }
    }

    /// The message text, or `""`.
    pub fn text(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }

    /// The sender's id, or `""`.
    pub fn from_id(&self) -> &str {
        self.from.as_ref().map(|a| a.id.as_str()).unwrap_or("")
    }

    /// The conversation's id, or `""`.
    pub fn conversation_id(&self) -> &str {
        self.conversation.as_ref().map(|c| c.id.as_str()).unwrap_or("")
    }

    /// The channel's id, or `""`.
    pub fn channel_id(&self) -> &str {
        self.channel_id.as_deref().unwrap_or("")
    }
}
