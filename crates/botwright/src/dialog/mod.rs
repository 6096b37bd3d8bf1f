//! Dialogs: the units of a conversation.
//!
//! A conversation keeps a *dialog stack*. The dialog on top receives the user's messages; it may
//! begin a child dialog (pushed on top), and when the child ends, its result resumes the parent.
//! The stack lives in private conversation state, so it survives restarts with a durable store.
//!
//! - [`Waterfall`]: a sequence of steps; each step gets the previous step's (or child dialog's)
//!   result.
//! - [`crate::prompt::Prompt`]: asks a question and validates the answer, with retries.
//! - [`IntentDialog`]: routes each message to a handler by recognized intent.
//! - [`Action`]: global or stack-scoped reactions to a matching message (trigger, begin-dialog,
//!   cancel, end-conversation).
//!
//! Stack changes requested through [`Session`] (`begin_dialog`, `end_dialog`, ...) take effect
//! when the current dialog callback returns, in the order they were requested.

mod action;
mod intent;
mod ops;
mod router;
mod waterfall;

pub use crate::stack::{DialogResult, Resumed};
pub use action::{Action, ActionKind, Matcher};
pub use intent::{Intent, IntentDialog, IntentRecognizer, RegexRecognizer};
pub(crate) use ops::{INTERRUPTION, Interruption, run_ops};
pub(crate) use router::route_message;
pub use waterfall::Waterfall;

use crate::error::BoxError;
use crate::session::Session;
use async_trait::async_trait;
use serde_json::Value;

/// A unit of conversation on the dialog stack.
///
/// Most bots use [`Waterfall`] and the prompts; implement this trait for anything else.
/// Methods get the [`Session`] of the turn; stack changes requested on it take effect after the
/// method returns.
///
/// ```
/// use botwright::{Dialog, Session, async_trait};
/// use botwright::error::BoxError;
///
/// /// Echoes every message until the user says "bye".
/// struct Echo;
///
/// #[async_trait]
/// impl Dialog for Echo {
///     async fn begin(&self, session: &Session, _args: serde_json::Value) -> Result<(), BoxError> {
///         session.send("Say something; \"bye\" ends.");
///         Ok(())
///     }
///     async fn reply_received(&self, session: &Session) -> Result<(), BoxError> {
///         if session.message().text() == "bye" {
///             session.end_dialog_with_message("Bye!");
///         } else {
///             session.send(format!("You said: {}", session.message().text()));
///         }
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait Dialog: Send + Sync + 'static {
    /// The dialog was pushed on the stack with `args`.
    async fn begin(&self, session: &Session, args: Value) -> Result<(), BoxError>;

    /// A user message arrived while this dialog is on top. The default begins the dialog again.
    async fn reply_received(&self, session: &Session) -> Result<(), BoxError> {
        self.begin(session, Value::Null).await
    }

    /// A child dialog ended. The default ends this dialog with the child's result.
    async fn dialog_resumed(&self, session: &Session, result: DialogResult) -> Result<(), BoxError> {
        if result.resumed != Resumed::Reprompt {
            session.end_dialog_with_result(result);
        }
        Ok(())
    }

    /// How well this dialog understands the current message, from 0 to 1, when it is on top of
    /// the stack. Actions scoring higher take the message instead (see [`Action`]). The default,
    /// 0.1, lets any matching action interrupt.
    async fn recognize(&self, session: &Session) -> f64 {
        let _ = session;
        0.1
    }

    /// Dialogs this one owns, registered with it as `<its id>:<name>` (e.g. an intent dialog's
    /// inline handlers).
    fn children(&self) -> Vec<(String, std::sync::Arc<dyn Dialog>)> {
        Vec::new()
    }
}
