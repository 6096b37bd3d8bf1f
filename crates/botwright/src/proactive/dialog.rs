//! Proactive turns: [`Bot::begin_dialog`] (begin a dialog with a user who did not write) and
//! [`Bot::load_session`] (run code inside a user's turn).

use crate::activity::{Activity, ActivityType};
use crate::address::Address;
use crate::bot::{Bot, StackPolicy};
use crate::error::TurnError;
use crate::session::Session;
use crate::stack::Op;
use crate::storage::OutboxId;
use futures::future::BoxFuture;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

impl Bot {
    /// Begins dialog `dialog_id` with the user at `address`, proactively (the standup: ask each
    /// team member for a status). The user's next reply goes to that dialog.
    ///
    /// With [`StackPolicy::Replace`] the user's current dialogs are dropped (v3's behaviour);
    /// with [`StackPolicy::Push`] they resume when the new dialog ends.
    pub async fn begin_dialog(
        &self,
        address: &Address,
        dialog_id: &str,
        args: Value,
        policy: StackPolicy,
    ) -> Result<(), TurnError> {
        self.begin_dialog_with_ids(address, dialog_id, args, policy).await.map(|_| ())
    }

    /// Like [`Bot::begin_dialog`]; returns the outbox ids of the messages the turn sent.
    pub(crate) async fn begin_dialog_with_ids(
        &self,
        address: &Address,
        dialog_id: &str,
        args: Value,
        policy: StackPolicy,
    ) -> Result<Vec<OutboxId>, TurnError> {
        if self.dialog(dialog_id).is_none() {
            return Err(TurnError::UnknownDialog(dialog_id.to_owned()));
        }
        let id = dialog_id.to_owned();
        let body = move |session: Session| -> BoxFuture<'static, ()> {
            let (id, args) = (id.clone(), args.clone());
            Box::pin(async move {
                let op = match policy {
                    StackPolicy::Replace => {
                        session.with_stack(|s| s.clear());
                        Op::Begin { id, args }
                    }
                    StackPolicy::Push if session.dialog_stack().is_empty() => Op::Begin { id, args },
                    StackPolicy::Push => Op::Interrupt { id, args },
                };
                session.lock().ops.push_back(op);
            })
        };
        let ((), ids) = self.run_turn(Arc::new(synthetic_message(address)), address.clone(), true, &body).await?;
        Ok(ids)
    }

    /// Runs `f` with a session for the user at `address`, inside a turn: the conversation's
    /// lock is held, state is loaded and saved (the dialog stack is kept), and messages sent are
    /// delivered. `f` may run more than once if another instance changes the state meanwhile.
    ///
    /// ```
    /// # use botwright::{Bot, Waterfall};
    /// # use botwright::testing::TestFlow;
    /// # tokio_test::block_on(async {
    /// # let mut flow = TestFlow::new(Bot::builder());
    /// let count = flow.bot().load_session(&flow.address(), |session| async move {
    ///     let n: u32 = session.user_data().get("reminders").unwrap_or(0) + 1;
    ///     session.user_data().set("reminders", n);
    ///     session.send(format!("Reminder #{n}"));
    ///     n
    /// }).await.unwrap();
    /// assert_eq!(count, 1);
    /// flow.bot_says("Reminder #1").await;
    /// # });
    /// ```
    pub async fn load_session<F, Fut, R>(&self, address: &Address, f: F) -> Result<R, TurnError>
    where
        F: Fn(Session) -> Fut + Send + Sync,
        Fut: Future<Output = R> + Send + 'static,
        R: Send + 'static,
    {
        let body = |session: Session| -> BoxFuture<'static, R> { Box::pin(f(session)) };
        let (result, _) = self.run_turn(Arc::new(synthetic_message(address)), address.clone(), true, &body).await?;
        Ok(result)
    }
}

/// The empty message a proactive turn starts from.
fn synthetic_message(address: &Address) -> Activity {
    Activity {
        kind: ActivityType::Message,
        text: Some(String::new()),
        channel_id: Some(address.channel_id.clone()),
        service_url: Some(address.service_url.clone()),
        from: Some(address.user.clone()),
        recipient: Some(address.bot.clone()),
        conversation: Some(address.conversation.clone()),
        locale: address.locale.clone(),
        ..Default::default()
    }
}
