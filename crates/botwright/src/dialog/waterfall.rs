//! Waterfalls: dialogs made of steps.

use super::{Dialog, DialogResult, Resumed};
use crate::error::BoxError;
use crate::session::Session;
use async_trait::async_trait;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::fmt;
use std::future::Future;
use std::sync::Arc;

trait Step: Send + Sync {
    fn call(&self, session: Session, result: DialogResult) -> BoxFuture<'static, Result<(), BoxError>>;
}

impl<F, Fut> Step for F
where
    F: Fn(Session, DialogResult) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
{
    fn call(&self, session: Session, result: DialogResult) -> BoxFuture<'static, Result<(), BoxError>> {
        Box::pin(self(session, result))
    }
}

/// A dialog made of steps, run one after the other.
///
/// The first step gets the dialog's arguments as `result.response`; each later step gets the
/// result of what the previous step started (a prompt's answer, a child dialog's result), or the
/// value given to [`Session::next`] to skip ahead. After the last step the waterfall ends with the
/// last result. A user message that reaches a waterfall with no prompt pending starts it again
/// at the first step (Bot Builder v3's behaviour).
///
/// ```
/// use botwright::{Bot, Prompt, Waterfall};
/// let standup = Waterfall::new()
///     .step(|session, args| async move {
///         session.dialog_data().set("reportId", args.response.unwrap_or_default());
///         session.prompt(Prompt::text("What is your status for today?"));
///         Ok(())
///     })
///     .step(|session, answer| async move {
///         let status = answer.text().unwrap_or_default().to_owned();
///         session.end_dialog_with_message(format!("Got it: {status}"));
///         Ok(())
///     });
/// let bot = Bot::builder().dialog("standup", standup);
/// # let _ = bot;
/// ```
#[derive(Clone, Default)]
#[must_use]
pub struct Waterfall {
    steps: Vec<Arc<dyn Step>>,
}

impl fmt::Debug for Waterfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waterfall").field("steps", &self.steps.len()).finish()
    }
}

impl Waterfall {
    /// A waterfall with no steps (it ends at once).
    pub fn new() -> Self {
        Waterfall::default()
    }

    /// Adds a step: an async function of the session and the previous result.
    pub fn step<F, Fut>(mut self, step: F) -> Self
    where
        F: Fn(Session, DialogResult) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        self.steps.push(Arc::new(step));
        self
    }

    async fn run(&self, session: &Session, index: usize, result: DialogResult) -> Result<(), BoxError> {
        match self.steps.get(index) {
            Some(step) => {
                session.set_frame_state(json!({ "step": index }));
                step.call(session.clone(), result).await
            }
            None => {
                session.end_dialog_with_result(result);
                Ok(())
            }
        }
    }
}

#[async_trait]
impl Dialog for Waterfall {
    async fn begin(&self, session: &Session, args: Value) -> Result<(), BoxError> {
        let response = if args.is_null() { None } else { Some(args) };
        self.run(session, 0, DialogResult { resumed: Resumed::Completed, response, child_id: None }).await
    }

    async fn reply_received(&self, session: &Session) -> Result<(), BoxError> {
        let text = session.message().text().to_owned();
        self.run(session, 0, DialogResult::completed(text)).await
    }

    async fn dialog_resumed(&self, session: &Session, result: DialogResult) -> Result<(), BoxError> {
        if result.resumed == Resumed::Reprompt {
            return Ok(());
        }
        let step = session.frame_state().get("step").and_then(Value::as_u64).unwrap_or(0) as usize;
        self.run(session, step + 1, result).await
    }
}
