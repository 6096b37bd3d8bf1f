//! Prompts: ask a question, validate the answer, retry.
//!
//! A prompt is a dialog: [`crate::Session::prompt`] begins it, it sends the question (with
//! `inputHint: expectingInput`), and each reply either completes it (its value resumes the calling
//! dialog, e.g. the next waterfall step) or earns a retry prompt. After `max_retries` failed
//! replies it ends with [`crate::dialog::Resumed::NotCompleted`] and no response; without
//! `max_retries` it asks until it gets a valid answer. Every text, built-in retries included, is
//! resolved in the user's locale.
//!
//! | prompt | response |
//! | --- | --- |
//! | [`Prompt::text`] | the text (a string) |
//! | [`Prompt::number`] | the number (digits or number words) |
//! | [`Prompt::confirm`] | `true` / `false` (localized yes/no words, buttons) |
//! | [`Prompt::choice`] | a [`FoundChoice`] (by value, synonym, number or ordinal) |
//! | [`Prompt::time`] | an RFC 3339 date-time string (ISO text or phrases like "tomorrow at 5pm") |
//! | [`Prompt::attachment`] | the array of attachments received |

mod dialog;
mod render;

pub(crate) use dialog::dialogs;

use crate::message::Message;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum PromptKind {
    /// Any non-empty text.
    Text,
    /// A number.
    Number,
    /// Yes or no.
    Confirm,
    /// One of a list of choices.
    Choice,
    /// A date and time.
    Time,
    /// One or more attachments.
    Attachment,
}

impl PromptKind {
    /// The id the prompt's dialog is registered under (register a dialog with this id to
    /// replace a built-in prompt).
    pub fn dialog_id(self) -> &'static str {
        match self {
            PromptKind::Text => "botwright:prompt-text",
            PromptKind::Number => "botwright:prompt-number",
            PromptKind::Confirm => "botwright:prompt-confirm",
            PromptKind::Choice => "botwright:prompt-choice",
            PromptKind::Time => "botwright:prompt-time",
            PromptKind::Attachment => "botwright:prompt-attachment",
        }
    }

    /// The id of the built-in retry message.
    pub(crate) fn default_retry_id(self) -> &'static str {
        match self {
            PromptKind::Text => "default_text",
            PromptKind::Number => "default_number",
            PromptKind::Confirm => "default_confirm",
            PromptKind::Choice => "default_choice",
            PromptKind::Time => "default_time",
            PromptKind::Attachment => "default_file",
        }
    }
}

/// How a choice (or confirm) prompt shows its choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ListStyle {
    /// Not at all (the question says them).
    None,
    /// In the question's text: "Pick one (1. red, 2. green, or 3. blue)".
    Inline,
    /// A numbered list below the question.
    List,
    /// Buttons (suggested actions).
    Button,
    /// Buttons when there are at most 10 short choices, else a list.
    #[default]
    Auto,
}

/// One choice of a choice prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChoiceOption {
    /// The value (what the response reports, and the button's caption unless `title` is set).
    pub value: String,
    /// Other words that select it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
    /// The button's caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl ChoiceOption {
    /// A choice with this value.
    pub fn new(value: impl Into<String>) -> Self {
        ChoiceOption { value: value.into(), synonyms: Vec::new(), title: None }
    }

    /// Adds synonyms.
    pub fn synonyms<I, S>(mut self, synonyms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.synonyms.extend(synonyms.into_iter().map(Into::into));
        self
    }
}

impl From<&str> for ChoiceOption {
    fn from(value: &str) -> Self {
        ChoiceOption::new(value)
    }
}

impl From<String> for ChoiceOption {
    fn from(value: String) -> Self {
        ChoiceOption::new(value)
    }
}

/// The answer of a choice prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundChoice {
    /// The index of the choice.
    pub index: usize,
    /// Its value.
    pub value: String,
    /// How sure the match is, from 0 to 1.
    pub score: f64,
}

/// A prompt's question and options.
///
/// ```
/// use botwright::Prompt;
/// use botwright::prompt::ListStyle;
/// let age = Prompt::number("How old are you?").min(0.0).max(130.0).integer_only().max_retries(2);
/// let size = Prompt::choice("Which size?", ["small", "medium", "large"]).list_style(ListStyle::Button);
/// let sure = Prompt::confirm("Are you sure?").retry_prompt("Please say yes or no.");
/// # let _ = (age, size, sure);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[must_use]
pub struct Prompt {
    pub(crate) kind: PromptKind,
    pub(crate) prompt: Message,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) retry_prompt: Option<Message>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_retries: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) min_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) min_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_value: Option<f64>,
    #[serde(default)]
    pub(crate) integer_only: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) choices: Vec<ChoiceOption>,
    #[serde(default)]
    pub(crate) list_style: ListStyle,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) content_types: Vec<String>,
}

impl Prompt {
    fn new(kind: PromptKind, prompt: impl Into<Message>) -> Self {
        Prompt {
            kind,
            prompt: prompt.into(),
            retry_prompt: None,
            max_retries: None,
            min_length: None,
            max_length: None,
            min_value: None,
            max_value: None,
            integer_only: false,
            choices: Vec::new(),
            list_style: if kind == PromptKind::Choice || kind == PromptKind::Confirm {
                ListStyle::Auto
            } else {
                ListStyle::None
            },
            content_types: Vec::new(),
        }
    }

    /// Asks for any non-empty text.
    pub fn text(prompt: impl Into<Message>) -> Self {
        Prompt::new(PromptKind::Text, prompt)
    }

    /// Asks for a number.
    pub fn number(prompt: impl Into<Message>) -> Self {
        Prompt::new(PromptKind::Number, prompt)
    }

    /// Asks yes or no (with localized Yes / No buttons).
    pub fn confirm(prompt: impl Into<Message>) -> Self {
        Prompt::new(PromptKind::Confirm, prompt)
    }

    /// Asks for one of `choices`.
    pub fn choice<I, C>(prompt: impl Into<Message>, choices: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<ChoiceOption>,
    {
        let mut p = Prompt::new(PromptKind::Choice, prompt);
        p.choices = choices.into_iter().map(Into::into).collect();
        p
    }

    /// Asks for a date and time.
    pub fn time(prompt: impl Into<Message>) -> Self {
        Prompt::new(PromptKind::Time, prompt)
    }

    /// Asks for a file or other attachment.
    pub fn attachment(prompt: impl Into<Message>) -> Self {
        Prompt::new(PromptKind::Attachment, prompt)
    }

    /// The message sent after an answer that is not valid (default: the built-in one for the
    /// prompt's kind, or the specific validation error).
    pub fn retry_prompt(mut self, retry: impl Into<Message>) -> Self {
        self.retry_prompt = Some(retry.into());
        self
    }

    /// How many invalid answers are retried before the prompt gives up (default: no limit).
    pub fn max_retries(mut self, max: u32) -> Self {
        self.max_retries = Some(max);
        self
    }

    /// Text prompts: the shortest valid answer, in characters.
    pub fn min_length(mut self, min: usize) -> Self {
        self.min_length = Some(min);
        self
    }

    /// Text prompts: the longest valid answer, in characters.
    pub fn max_length(mut self, max: usize) -> Self {
        self.max_length = Some(max);
        self
    }

    /// Number prompts: the smallest valid number.
    pub fn min(mut self, min: f64) -> Self {
        self.min_value = Some(min);
        self
    }

    /// Number prompts: the largest valid number.
    pub fn max(mut self, max: f64) -> Self {
        self.max_value = Some(max);
        self
    }

    /// Number prompts: only whole numbers.
    pub fn integer_only(mut self) -> Self {
        self.integer_only = true;
        self
    }

    /// Choice and confirm prompts: how the choices are shown.
    pub fn list_style(mut self, style: ListStyle) -> Self {
        self.list_style = style;
        self
    }

    /// Attachment prompts: accepted content types (`image/png`, or a prefix such as `image/`).
    pub fn content_types<I, S>(mut self, types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.content_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// The kind of prompt.
    pub fn kind(&self) -> PromptKind {
        self.kind
    }

    pub(crate) fn dialog_id(&self) -> &'static str {
        self.kind.dialog_id()
    }

    pub(crate) fn into_args(self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
