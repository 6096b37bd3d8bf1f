//! Actions: reactions to a matching message that change the dialog stack.
//!
//! Actions are registered on the bot. A *global* action (no scope) is considered for every
//! message; a *scoped* action only while its dialog is on the stack. For each message the router
//! scores the active dialog and every applicable action; the highest score wins, ties going to the
//! active dialog, then to the deepest scoped action, then to global actions (Bot Builder v3's
//! order). A regular expression scores `0.4 + 0.6 × matched length / text length`, so an exact
//! match (1.0) beats a text prompt (0.5).

use crate::activity::Activity;
use crate::error::InvalidPattern;
use crate::text::Text;
use regex::Regex;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

/// Decides whether (and how well) a message matches an action.
#[derive(Clone)]
#[non_exhaustive]
pub enum Matcher {
    /// A regular expression on the message text.
    Regex(Regex),
    /// A function from the message to a score in `0..=1` (0: no match).
    Custom(Arc<dyn Fn(&Activity) -> f64 + Send + Sync>),
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Regex(r) => f.debug_tuple("Regex").field(&r.as_str()).finish(),
            Matcher::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl Matcher {
    /// A case-insensitive regular expression written in the code.
    ///
    /// # Panics
    /// When `pattern` is not a valid regular expression (a programming error, found at start).
    /// A pattern that comes from configuration or from users goes through
    /// [`try_regex`](Self::try_regex).
    pub fn regex(pattern: &str) -> Self {
        match Self::try_regex(pattern) {
            Ok(matcher) => matcher,
            Err(e) => panic!("invalid action pattern: {e}"),
        }
    }

    /// A case-insensitive regular expression, or why `pattern` is not one.
    ///
    /// ```
    /// use botwright::dialog::Matcher;
    /// assert!(Matcher::try_regex("^help$").is_ok());
    /// let error = Matcher::try_regex("(unclosed").unwrap_err();
    /// assert_eq!(error.pattern, "(unclosed");
    /// ```
    pub fn try_regex(pattern: &str) -> Result<Self, InvalidPattern> {
        InvalidPattern::compile(pattern).map(Matcher::Regex)
    }

    /// A custom scoring function.
    pub fn custom(f: impl Fn(&Activity) -> f64 + Send + Sync + 'static) -> Self {
        Matcher::Custom(Arc::new(f))
    }

    /// The score of `activity` (0: no match).
    pub fn score(&self, activity: &Activity) -> f64 {
        match self {
            Matcher::Regex(regex) => {
                let text = activity.text().trim();
                if text.is_empty() {
                    return 0.0;
                }
                match regex.find(text) {
                    Some(m) => 0.4 + 0.6 * (m.as_str().len() as f64 / text.len() as f64),
                    None => 0.0,
                }
            }
            Matcher::Custom(f) => f(activity).clamp(0.0, 1.0),
        }
    }
}

/// What an action does when it wins.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ActionKind {
    /// Clears the whole stack and begins the dialog (Bot Builder v3's `triggerAction`).
    Trigger {
        /// The dialog to begin.
        dialog: String,
        /// Its arguments.
        args: Value,
    },
    /// Interrupts: pushes the dialog; when it ends, the interrupted dialog resumes and re-asks
    /// its question (v3's `beginDialogAction`).
    BeginDialog {
        /// The dialog to begin.
        dialog: String,
        /// Its arguments.
        args: Value,
    },
    /// Cancels the scoped dialog and everything above it; its parent resumes with
    /// [`crate::dialog::Resumed::Canceled`]. Without a scope, empties the stack.
    Cancel,
    /// Ends the conversation: clears the stack and conversation data (user data is kept).
    EndConversation,
}

/// An action registered on the bot.
///
/// ```
/// use botwright::dialog::{Action, Matcher};
/// let help = Action::trigger("help", Matcher::regex(r"^help$"));
/// let cancel = Action::cancel(Matcher::regex(r"^cancel")).scoped_to("order").message("Order canceled.");
/// # let _ = (help, cancel);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Action {
    /// What it does.
    pub kind: ActionKind,
    /// When it applies.
    pub matcher: Matcher,
    /// The dialog it is bound to (active only while that dialog is on the stack), or global.
    pub scope: Option<String>,
    /// A message sent when the action runs.
    pub message: Option<Text>,
}

impl Action {
    fn new(kind: ActionKind, matcher: Matcher) -> Self {
        Action { kind, matcher, scope: None, message: None }
    }

    /// A trigger: clears the stack and begins `dialog`.
    pub fn trigger(dialog: impl Into<String>, matcher: Matcher) -> Self {
        Action::new(ActionKind::Trigger { dialog: dialog.into(), args: Value::Null }, matcher)
    }

    /// An interruption: pushes `dialog`, then resumes what was interrupted.
    pub fn begin_dialog(dialog: impl Into<String>, matcher: Matcher) -> Self {
        Action::new(ActionKind::BeginDialog { dialog: dialog.into(), args: Value::Null }, matcher)
    }

    /// A cancel action.
    pub fn cancel(matcher: Matcher) -> Self {
        Action::new(ActionKind::Cancel, matcher)
    }

    /// An end-conversation action.
    pub fn end_conversation(matcher: Matcher) -> Self {
        Action::new(ActionKind::EndConversation, matcher)
    }

    /// Binds the action to a dialog: it applies only while that dialog is on the stack.
    pub fn scoped_to(mut self, dialog: impl Into<String>) -> Self {
        self.scope = Some(dialog.into());
        self
    }

    /// Sends this message when the action runs.
    pub fn message(mut self, text: impl Into<Text>) -> Self {
        self.message = Some(text.into());
        self
    }

    /// Arguments for the dialog a trigger or begin-dialog action begins.
    pub fn args(mut self, new_args: Value) -> Self {
        match &mut self.kind {
            ActionKind::Trigger { args, .. } | ActionKind::BeginDialog { args, .. } => *args = new_args,
            _ => {}
        }
        self
    }
}
