//! The message builder.
//!
//! A [`Message`] is an outgoing activity whose text is resolved when it is sent, in the
//! recipient's locale. Sessions fill in the address; proactive sends give one.

use crate::activity::{
    Activity, ActivityType, Attachment, AttachmentLayout, CardAction, HeroCard, InputHint, SuggestedActions, TextFormat,
};
use crate::address::Address;
use crate::locale::Localizer;
use crate::text::{Args, Text};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An outgoing message under construction.
///
/// ```
/// use botwright::Message;
/// use botwright::activity::CardAction;
/// let msg = Message::new()
///     .text("Pick a size, %s")
///     .arg("Ana")
///     .suggested_actions([CardAction::im_back("Small", "small"), CardAction::im_back("Large", "large")])
///     .input_hint("expectingInput");
/// let activity = msg.to_activity(&botwright::locale::Localizer::default(), "en");
/// assert_eq!(activity.text(), "Pick a size, Ana");
/// assert_eq!(activity.suggested_actions.unwrap().actions.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[must_use]
pub struct Message {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) address: Option<Address>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<Text>,
    #[serde(default)]
    pub(crate) activity: Activity,
}

impl Message {
    /// An empty message.
    pub fn new() -> Self {
        Message::default()
    }

    /// A message whose text is message `id`, looked up in the recipient's locale.
    ///
    /// ```
    /// use botwright::Message;
    /// let mut localizer = botwright::locale::Localizer::new("en");
    /// localizer.add_message("es", "shipped", "Tu pedido %s ha sido enviado.");
    /// let msg = Message::localized("shipped").arg("A-17");
    /// assert_eq!(msg.to_activity(&localizer, "es").text(), "Tu pedido A-17 ha sido enviado.");
    /// ```
    pub fn localized(id: impl Into<String>) -> Self {
        Message { text: Some(Text::localized(id)), ..Default::default() }
    }

    /// Sets who receives the message.
    pub fn address(mut self, address: Address) -> Self {
        self.address = Some(address);
        self
    }

    /// The address, when one was set (named as `http`'s builders name their readers, beside
    /// the [`address`](Self::address) setter).
    pub fn address_ref(&self) -> Option<&Address> {
        self.address.as_ref()
    }

    /// The address, when one was set.
    #[deprecated(since = "0.2.0", note = "use `address_ref`")]
    pub fn get_address(&self) -> Option<&Address> {
        self.address_ref()
    }

    /// Sets the text (literal, or any [`Text`]).
    pub fn text(mut self, text: impl Into<Text>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// The text, when one was set.
    pub fn text_ref(&self) -> Option<&Text> {
        self.text.as_ref()
    }

    /// The text, when one was set.
    #[deprecated(since = "0.2.0", note = "use `text_ref`")]
    pub fn get_text(&self) -> Option<&Text> {
        self.text_ref()
    }

    /// One of these texts, picked at random when sent.
    pub fn text_one_of<I, S>(mut self, texts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.text = Some(Text::one_of(texts));
        self
    }

    /// Adds a positional argument (`%s`) to the text.
    pub fn arg(mut self, value: impl Into<Value>) -> Self {
        self.text = self.text.map(|t| t.arg(value));
        self
    }

    /// Sets the text's arguments.
    pub fn args(mut self, args: Args) -> Self {
        self.text = self.text.map(|t| t.with_args(args));
        self
    }

    /// Adds a named argument (`%(name)s`, Fluent `{ $name }`) to the text.
    pub fn named(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.text = self.text.map(|t| t.named(name, value));
        self
    }

    /// Sets the activity type (default `message`).
    pub fn kind(mut self, kind: ActivityType) -> Self {
        self.activity.kind = kind;
        self
    }

    /// Adds an attachment.
    pub fn attachment(mut self, attachment: Attachment) -> Self {
        self.activity.attachments.push(attachment);
        self
    }

    /// Adds a hero card.
    pub fn hero_card(self, card: HeroCard) -> Self {
        self.attachment(card.to_attachment())
    }

    /// `list` or `carousel`.
    pub fn attachment_layout(mut self, layout: impl Into<AttachmentLayout>) -> Self {
        self.activity.attachment_layout = Some(layout.into());
        self
    }

    /// Quick-reply buttons.
    pub fn suggested_actions(mut self, actions: impl IntoIterator<Item = CardAction>) -> Self {
        self.activity.suggested_actions =
            Some(SuggestedActions { to: Vec::new(), actions: actions.into_iter().collect() });
        self
    }

    /// `plain`, `markdown` or `xml`.
    pub fn text_format(mut self, format: impl Into<TextFormat>) -> Self {
        self.activity.text_format = Some(format.into());
        self
    }

    /// `acceptingInput`, `expectingInput` or `ignoringInput`.
    pub fn input_hint(mut self, hint: impl Into<InputHint>) -> Self {
        self.activity.input_hint = Some(hint.into());
        self
    }

    /// The locale to resolve the text in (overrides the recipient's).
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.activity.locale = Some(locale.into());
        self
    }

    /// Channel-specific data.
    pub fn channel_data(mut self, data: Value) -> Self {
        self.activity.channel_data = Some(data);
        self
    }

    /// SSML to speak.
    pub fn speak(mut self, ssml: impl Into<String>) -> Self {
        self.activity.speak = Some(ssml.into());
        self
    }

    /// Summary shown when attachments cannot be rendered.
    pub fn summary(mut self, summary: impl Into<String>) -> Self {
        self.activity.summary = Some(summary.into());
        self
    }

    /// A value (e.g. for an event).
    pub fn value(mut self, value: Value) -> Self {
        self.activity.value = Some(value);
        self
    }

    /// The activity's name (events).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.activity.name = Some(name.into());
        self
    }

    /// Starts from an existing activity (its text is kept literally).
    pub fn from_activity(activity: Activity) -> Self {
        Message { address: None, text: None, activity }
    }

    /// The activity to send, its text resolved in `locale` (or the message's own locale).
    pub fn to_activity(&self, localizer: &Localizer, locale: &str) -> Activity {
        let mut activity = self.activity.clone();
        let locale = activity.locale.as_deref().unwrap_or(locale);
        if let Some(text) = &self.text {
            activity.text = Some(text.resolve(localizer, locale));
        }
        if activity.locale.is_none() && !locale.is_empty() {
            activity.locale = Some(locale.to_owned());
        }
        activity
    }

    /// Turns this message into its activity without copying, resolving the text in `locale`.
    pub(crate) fn into_activity(self, localizer: &Localizer, locale: &str) -> Activity {
        let mut activity = self.activity;
        if let Some(text) = self.text {
            let locale = activity.locale.as_deref().unwrap_or(locale);
            activity.text = Some(text.resolve(localizer, locale));
        }
        if activity.locale.is_none() && !locale.is_empty() {
            activity.locale = Some(locale.to_owned());
        }
        activity
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::new().text(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::new().text(text)
    }
}

impl From<Text> for Message {
    fn from(text: Text) -> Self {
        Message::new().text(text)
    }
}

impl From<Activity> for Message {
    fn from(activity: Activity) -> Self {
        Message::from_activity(activity)
    }
}
