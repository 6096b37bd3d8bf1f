//! The bot: dialogs, state, channels, and the turn pipeline.
//!
//! [`Bot::receive`] runs one turn for an incoming activity:
//!
//! 1. middleware ([`Middleware::on_turn`]) wraps the
//!    rest; non-message activities become [`BotEvent`]s (invokes go to the invoke handler);
//! 2. the conversation's turn lock (in process, and across instances when the store has one);
//! 3. state is loaded (user, conversation, private conversation with the dialog stack) with
//!    versions, and the user's address-book entry refreshed;
//! 4. routing: the winning action, else the active dialog, else the default dialog; the
//!    dialogs' stack changes are applied;
//! 5. state is saved, version-checked (if another instance changed it meanwhile, the turn runs
//!    again from step 3: nothing was sent yet, so nothing is sent twice);
//! 6. the turn's messages go to the delivery engine, in order.
//!
//! Proactive calls ([`Bot::send`], [`Bot::begin_dialog`], [`Bot::load_session`], in
//! [`crate::proactive`]) use the same pipeline and the same delivery engine.

mod address_book;
mod builder;

pub use crate::event::BotEvent;
pub use crate::middleware::Middleware;
pub use crate::outcome::{InvokeResponse, Receipt, TurnOutcome};
pub use address_book::{AddressBook, AddressEntry};
pub use builder::{BotBuilder, Settings};

use crate::activity::{Activity, ActivityType, InputHint};
use crate::address::Address;
use crate::delivery::{Delivery, OutItem, Worker};
use crate::dialog::{Action, Dialog, route_message, run_ops};
use crate::error::TurnError;
use crate::event::Events;
use crate::locale::Localizer;
use crate::middleware::{Next, Turn};
use crate::session::Session;
use crate::state::{self, TurnDocs};
use crate::storage::{JobStore, Outbox, OutboxId, Storage, StorageError};
use crate::turn_lock::TurnLocks;
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use tokio::sync::broadcast;

pub(crate) type InvokeHandler = Arc<dyn Fn(Session) -> BoxFuture<'static, InvokeResponse> + Send + Sync>;

/// How [`Bot::begin_dialog`] treats the dialog the user is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StackPolicy {
    /// Drop the user's dialog stack and begin the dialog (Bot Builder v3's behaviour). User and
    /// conversation data are kept.
    #[default]
    Replace,
    /// Interrupt: push the dialog on top; when it ends, the dialog the user was in resumes (a
    /// prompt asks its question again).
    Push,
}

/// A bot: its dialogs, actions, store, channels and delivery engine.
///
/// Cheap to clone (an `Arc` inside); share it between the HTTP endpoint, web hooks and timers.
///
/// ```
/// use botwright::{Bot, Message, Waterfall};
/// use botwright::testing::TestFlow;
/// # tokio_test::block_on(async {
/// let mut flow = TestFlow::new(Bot::builder().dialog("/", Waterfall::new().step(|s, _| async move {
///     s.end_dialog_with_message("subscribed");
///     Ok(())
/// })));
/// flow.user_says("subscribe").await;
/// flow.bot_says("subscribed").await;
/// // Later, from a web hook: reach the user proactively.
/// let receipt = flow.bot().send(Message::new().address(flow.address()).text("Your order shipped")).await.unwrap();
/// flow.bot_says("Your order shipped").await;
/// # let _ = receipt;
/// # });
/// ```
#[derive(Clone)]
pub struct Bot {
    pub(crate) inner: Arc<BotInner>,
}

pub(crate) struct BotInner {
    dialogs: HashMap<String, Arc<dyn Dialog>>,
    actions: Vec<Action>,
    settings: Settings,
    storage: Arc<dyn Storage>,
    outbox: Option<Arc<dyn Outbox>>,
    jobs: Option<Arc<dyn JobStore>>,
    localizer: Localizer,
    middleware: Vec<Arc<dyn Middleware>>,
    events: Events,
    locks: TurnLocks,
    pub(crate) delivery: Delivery,
    /// The scheduler's switch and bell ([`crate::proactive`]).
    pub(crate) scheduler: Worker,
    invoke: Option<InvokeHandler>,
}

impl fmt::Debug for Bot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bot")
            .field("dialogs", &self.inner.dialogs.len())
            .field("actions", &self.inner.actions.len())
            .field("storage", &self.inner.storage)
            .finish_non_exhaustive()
    }
}

/// What a turn runs once state is loaded.
type TurnBody<'a, R> = &'a (dyn Fn(Session) -> BoxFuture<'static, R> + Send + Sync);

impl Bot {
    /// Starts building a bot.
    pub fn builder() -> BotBuilder {
        BotBuilder::default()
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The localizer.
    pub fn localizer(&self) -> &Localizer {
        &self.inner.localizer
    }

    /// The state store.
    pub fn storage(&self) -> &dyn Storage {
        self.inner.storage.as_ref()
    }

    /// The state store, shared.
    pub fn storage_arc(&self) -> Arc<dyn Storage> {
        self.inner.storage.clone()
    }

    /// The durable outbox, when the store has one.
    pub fn outbox(&self) -> Option<&Arc<dyn Outbox>> {
        self.inner.outbox.as_ref()
    }

    /// The job store, when the store has one.
    pub fn job_store(&self) -> Option<&Arc<dyn JobStore>> {
        self.inner.jobs.as_ref()
    }

    /// The address book.
    pub fn address_book(&self) -> AddressBook {
        AddressBook { storage: self.inner.storage.clone() }
    }

    /// A registered dialog.
    pub fn dialog(&self, id: &str) -> Option<Arc<dyn Dialog>> {
        self.inner.dialogs.get(id).cloned()
    }

    pub(crate) fn actions(&self) -> &[Action] {
        &self.inner.actions
    }

    /// Subscribes to the bot's events. A subscriber that falls more than 1,024 events behind
    /// misses the oldest ones.
    pub fn events(&self) -> broadcast::Receiver<BotEvent> {
        self.inner.events.subscribe()
    }

    pub(crate) fn emit(&self, event: impl FnOnce() -> BotEvent) {
        self.inner.events.emit(event);
    }

    /// Waits until every message handed to delivery so far was delivered or given up.
    pub async fn flush(&self) {
        self.inner.delivery.flush().await;
    }

    /// How many messages wait for delivery in this process.
    pub fn pending_deliveries(&self) -> usize {
        self.inner.delivery.queued()
    }

    pub(crate) fn deliver_now(&self, address: Address, activity: Activity) {
        let key = address.conversation_key();
        self.inner.delivery.submit(&key, vec![OutItem::activity(address, activity)]);
    }

    /// Runs one turn for an incoming activity (see the module documentation for the steps).
    ///
    /// It returns once the turn's state is saved and its messages are handed to delivery; an
    /// error means nothing of the turn was saved or sent.
    pub async fn receive(&self, mut activity: Activity) -> Result<TurnOutcome, TurnError> {
        if self.inner.middleware.is_empty() {
            return self.turn(activity).await;
        }
        Next::new(&self.inner.middleware, self).run(&mut activity).await
    }

    /// The turn itself, once every middleware let the activity through.
    async fn turn(&self, activity: Activity) -> Result<TurnOutcome, TurnError> {
        match activity.kind {
            ActivityType::Message => {
                let address = Address::from_activity(&activity)?;
                let activity = Arc::new(activity);
                self.emit(|| BotEvent::Incoming(activity.clone()));
                let body = |session: Session| -> BoxFuture<'static, ()> {
                    Box::pin(async move { route_message(&session).await })
                };
                self.run_turn(activity, address, false, &body).await?;
                Ok(TurnOutcome::Completed)
            }
            ActivityType::Invoke => {
                let Some(handler) = self.inner.invoke.clone() else {
                    return Ok(TurnOutcome::Invoked(InvokeResponse {
                        status: 501,
                        body: Some(
                            serde_json::json!({"error": {"code": "NotImplemented", "message": "this bot does not handle invoke activities"}}),
                        ),
                    }));
                };
                let address = Address::from_activity(&activity)?;
                let body = move |session: Session| handler(session);
                let (response, _) = self.run_turn(Arc::new(activity), address, false, &body).await?;
                Ok(TurnOutcome::Invoked(response))
            }
            ActivityType::ConversationUpdate => {
                self.emit(|| BotEvent::ConversationUpdate(Arc::new(activity)));
                Ok(TurnOutcome::Completed)
            }
            _ => {
                tracing::debug!(kind = %activity.kind, "activity without a handler; emitted as an event");
                self.emit(|| BotEvent::Activity(Arc::new(activity)));
                Ok(TurnOutcome::Completed)
            }
        }
    }

    /// Runs a turn: lock, load, `body`, stack changes, save (again from load on a version
    /// conflict), deliver. Returns `body`'s result and, for a proactive turn on a bot with an
    /// outbox, the outbox ids of the messages it sent.
    pub(crate) async fn run_turn<R: Send + 'static>(
        &self,
        message: Arc<Activity>,
        address: Address,
        proactive: bool,
        body: TurnBody<'_, R>,
    ) -> Result<(R, Vec<OutboxId>), TurnError> {
        let inner = &self.inner;
        let conversation = address.conversation_key();
        let _local = inner.locks.lock(&conversation).await;
        let _remote = inner.storage.lock_conversation(&conversation).await?;
        let max_attempts = inner.settings.max_turn_attempts.max(1);
        for attempt in 1..=max_attempts {
            let mut docs = TurnDocs::load(inner.storage.as_ref(), &address).await?;
            if !proactive {
                docs.address.refresh(&address)?;
            }
            if !inner.settings.persist_user_data {
                docs.user.value.data.clear();
            }
            if !inner.settings.persist_conversation_data {
                docs.conversation.value.data.clear();
            }
            let session = Session::new(self.clone(), message.clone(), address.clone(), docs, proactive);
            let result = body(session.clone()).await;
            run_ops(&session).await;
            let mut outgoing = session.take_outgoing();
            let mut docs = match session.into_docs() {
                Some(docs) => docs,
                // The application kept a clone of the session (e.g. in a spawned task).
                None => return Err(TurnError::SessionInUse { conversation }),
            };
            if !inner.settings.persist_user_data {
                docs.user.value.data.clear();
            }
            if !inner.settings.persist_conversation_data {
                docs.conversation.value.data.clear();
            }
            match docs.save(inner.storage.as_ref()).await {
                Ok(()) => {
                    set_input_hints(&mut outgoing);
                    if !inner.settings.batch_delay.is_zero() && !outgoing.is_empty() {
                        outgoing.insert(0, OutItem::Pause(inner.settings.batch_delay));
                    }
                    let ids = inner.delivery.submit_turn(&conversation, outgoing, proactive).await;
                    return Ok((result, ids));
                }
                Err(StorageError::Conflict { key }) if attempt < max_attempts => {
                    tracing::debug!(%key, attempt, "state changed during the turn; running it again");
                    // Another instance wrote this conversation: back off a little, at random, so
                    // that two instances do not keep colliding.
                    let ceiling_ms = 1u64 << attempt.min(8);
                    let wait = rand::Rng::random_range(&mut rand::rng(), 0..=ceiling_ms);
                    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                }
                Err(StorageError::Conflict { .. }) => {
                    return Err(TurnError::Contention { conversation, attempts: attempt });
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(TurnError::Contention { conversation, attempts: max_attempts })
    }

    /// The preferred locale stored for the user at `address` (set with
    /// [`Session::set_preferred_locale`]), if any.
    pub async fn preferred_locale(&self, address: &Address) -> Result<Option<String>, StorageError> {
        let (doc, _) = state::read_user(self.inner.storage.as_ref(), &address.channel_id, &address.user.id).await?;
        Ok(doc.locale)
    }
}

#[crate::async_trait]
impl Turn for Bot {
    async fn run(&self, activity: Activity) -> Result<TurnOutcome, TurnError> {
        self.turn(activity).await
    }
}

/// Bot Builder v3's input hints: the last message of a turn accepts input, earlier ones ignore
/// it; prompts set `expectingInput` themselves.
fn set_input_hints(outgoing: &mut [OutItem]) {
    let mut last = true;
    for item in outgoing.iter_mut().rev() {
        if let OutItem::Activity(out) = item
            && out.activity.kind == ActivityType::Message
        {
            if out.activity.input_hint.is_none() {
                out.activity.input_hint = Some(if last { InputHint::AcceptingInput } else { InputHint::IgnoringInput });
            }
            last = false;
        }
    }
}
