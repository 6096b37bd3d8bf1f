//! The dialog stack as data: the frames stored in private conversation state, the changes a
//! dialog asks for, and the result a dialog ends with.
//!
//! Plain data with no behaviour, so that state (which stores the stack) depends on it and not on
//! the dialogs that run it ([`crate::dialog`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How a child dialog ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Resumed {
    /// It completed (a prompt got a valid answer).
    #[default]
    Completed,
    /// It gave up (a prompt ran out of retries).
    NotCompleted,
    /// It was canceled (a cancel action, `Session::cancel_dialog`).
    Canceled,
    /// An interruption ended: the dialog should ask its question again (prompts re-ask,
    /// waterfalls stay silent).
    Reprompt,
}

/// The result a dialog ends with, passed to its parent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DialogResult {
    /// How it ended.
    pub resumed: Resumed,
    /// Its answer (a prompt's recognized value, a waterfall's last result).
    pub response: Option<Value>,
    /// The id of the dialog that ended.
    pub child_id: Option<String>,
}

impl DialogResult {
    /// A completed result with this response.
    pub fn completed(response: impl Into<Value>) -> Self {
        DialogResult { resumed: Resumed::Completed, response: Some(response.into()), child_id: None }
    }

    /// The response as a string.
    pub fn text(&self) -> Option<&str> {
        self.response.as_ref()?.as_str()
    }

    /// The response as a number.
    pub fn number(&self) -> Option<f64> {
        self.response.as_ref()?.as_f64()
    }

    /// The response as a boolean (a confirm prompt's answer).
    pub fn confirmed(&self) -> Option<bool> {
        self.response.as_ref()?.as_bool()
    }

    /// The response deserialized into `T` (e.g. [`crate::prompt::FoundChoice`]).
    pub fn response_as<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(self.response.clone()?).ok()
    }
}

/// One dialog on the stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Frame {
    /// The dialog's id.
    pub(crate) id: String,
    /// The dialog's data (`Session::dialog_data`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub(crate) data: Map<String, Value>,
    /// The dialog's own bookkeeping (a waterfall's step, a prompt's options).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub(crate) state: Value,
}

/// A requested change of the stack, applied after the dialog callback that asked for it.
#[derive(Debug)]
pub(crate) enum Op {
    Begin { id: String, args: Value },
    Interrupt { id: String, args: Value },
    Replace { id: String, args: Value },
    End(DialogResult),
    Resume(DialogResult),
    Cancel { index: usize, replace: Option<(String, Value)> },
    EndConversation,
    Reset { id: Option<String>, args: Value },
}
