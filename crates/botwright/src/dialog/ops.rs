//! The dialog stack and the requests that change it.

use super::Dialog;
use crate::error::BoxError;
use crate::session::Session;
use crate::stack::{DialogResult, Frame, Op, Resumed};
use async_trait::async_trait;
use futures::FutureExt;
use serde_json::{Map, Value, json};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// The id of the system dialog behind interruptions.
pub(crate) const INTERRUPTION: &str = "botwright:interruption";

/// Begins the interrupting dialog; when it ends, asks the interrupted dialog to re-prompt.
pub(crate) struct Interruption;

#[async_trait]
impl Dialog for Interruption {
    async fn begin(&self, session: &Session, args: Value) -> Result<(), BoxError> {
        let id = args.get("dialog").and_then(Value::as_str).unwrap_or_default().to_owned();
        let args = args.get("args").cloned().unwrap_or(Value::Null);
        session.begin_dialog(id, args);
        Ok(())
    }

    async fn reply_received(&self, session: &Session) -> Result<(), BoxError> {
        // Only reached when the interrupting dialog is gone: hand back.
        session.end_dialog_with_result(Session::resumed_reprompt());
        Ok(())
    }

    async fn dialog_resumed(&self, session: &Session, _result: DialogResult) -> Result<(), BoxError> {
        session.end_dialog_with_result(Session::resumed_reprompt());
        Ok(())
    }
}

/// Which callback of a dialog to run.
pub(crate) enum Call {
    Begin(Value),
    Reply,
    Resumed(DialogResult),
}

/// Runs one dialog callback, turning an error or a panic into `Session::error`.
pub(crate) async fn call(session: &Session, dialog: &Arc<dyn Dialog>, id: &str, what: Call) {
    let fut = async {
        match what {
            Call::Begin(args) => dialog.begin(session, args).await,
            Call::Reply => dialog.reply_received(session).await,
            Call::Resumed(result) => dialog.dialog_resumed(session, result).await,
        }
    };
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => session.error(e),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            session.error(format!("dialog {id:?} panicked: {what}"));
        }
    }
}

/// The most stack changes one turn may make (a guard against dialogs that loop forever).
const MAX_OPS_PER_TURN: usize = 256;

/// Applies the session's requested stack changes until none is left.
pub(crate) async fn run_ops(session: &Session) {
    let mut budget = MAX_OPS_PER_TURN;
    while let Some(op) = session.pop_op() {
        budget -= 1;
        if budget == 0 {
            session.error("too many dialog changes in one turn (a dialog loops)");
            continue;
        }
        match op {
            Op::Begin { id, args } => begin(session, id, args).await,
            Op::Interrupt { id, args } => {
                let args = json!({ "dialog": id, "args": args });
                begin(session, INTERRUPTION.to_owned(), args).await;
            }
            Op::Replace { id, args } => {
                session.with_stack(|s| s.pop());
                begin(session, id, args).await;
            }
            Op::End(mut result) => {
                let ended = session.with_stack(|s| s.pop());
                result.child_id = ended.map(|f| f.id);
                resume_top(session, result).await;
            }
            Op::Resume(result) => resume_top(session, result).await,
            Op::Cancel { index, replace } => {
                let removed = session.with_stack(|s| {
                    let removed = s.get(index).map(|f| f.id.clone());
                    s.truncate(index);
                    removed
                });
                match replace {
                    Some((id, args)) => begin(session, id, args).await,
                    None => {
                        let result = DialogResult { resumed: Resumed::Canceled, response: None, child_id: removed };
                        resume_top(session, result).await;
                    }
                }
            }
            Op::EndConversation => {
                let mut end = crate::activity::Activity {
                    kind: crate::activity::ActivityType::EndOfConversation,
                    code: Some("completedSuccessfully".into()),
                    ..Default::default()
                };
                session.address().apply_to(&mut end);
                session.lock().outgoing.push(crate::delivery::OutItem::activity(session.address().clone(), end));
                session.clear_conversation();
                session.lock().ops.clear();
            }
            Op::Reset { id, args } => {
                session.with_stack(|s| s.clear());
                let settings = session.bot().settings();
                let (id, args) = match id {
                    Some(id) => (id, args),
                    None => (settings.default_dialog.clone(), settings.default_args.clone()),
                };
                begin(session, id, args).await;
            }
        }
    }
}

async fn begin(session: &Session, id: String, args: Value) {
    let Some(dialog) = session.bot().dialog(&id) else {
        session.error(format!("no dialog with id {id:?} is registered"));
        return;
    };
    session.with_stack(|s| s.push(Frame { id: id.clone(), data: Map::new(), state: Value::Null }));
    call(session, &dialog, &id, Call::Begin(args)).await;
}

async fn resume_top(session: &Session, result: DialogResult) {
    let Some(id) = session.stack_top() else { return };
    let Some(dialog) = session.bot().dialog(&id) else {
        invalid_stack(session, &id);
        return;
    };
    call(session, &dialog, &id, Call::Resumed(result)).await;
}

/// A stack names a dialog that no longer exists (renamed or removed in a new version of the
/// bot): reset the stack with a warning instead of failing.
pub(crate) fn invalid_stack(session: &Session, id: &str) {
    tracing::warn!(
        conversation = %session.address().conversation.id,
        dialog = %id,
        "the dialog stack names a dialog that is not registered; the stack is reset"
    );
    session.with_stack(|s| s.clear());
    session.lock().ops.clear();
}
