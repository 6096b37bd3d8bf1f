//! The bot: dialogs, state, channels, and the turn pipeline.
//!
//! [`Bot::receive`] runs one turn for an incoming activity:
//!
//! 1. receive middleware; non-message activities become [`BotEvent`]s (invokes go to the
//!    invoke handler);
//! 2. the conversation's turn lock (in process, and across instances when the store has one);
//! 3. state is loaded (user, conversation, private conversation with the dialog stack) with
//!    versions, and the user's address-book entry refreshed;
//! 4. session middleware, then routing: the winning action, else the active dialog, else the
//!    default dialog; the dialogs' stack changes are applied;
//! 5. state is saved, version-checked (if another instance changed it meanwhile, the turn runs
//!    again from step 3: nothing was sent yet, so nothing is sent twice);
//! 6. the turn's messages go to the delivery engine, in order.
//!
//! Proactive calls ([`Bot::send`], [`Bot::begin_dialog`], [`Bot::load_session`]) use the same
//! pipeline and the same delivery engine.

mod address_book;
mod builder;
mod event;
mod middleware;

pub use address_book::{AddressBook, AddressEntry};
pub use builder::{BotBuilder, Settings};
pub use event::BotEvent;
pub(crate) use event::Events;
pub use middleware::Middleware;

use crate::activity::{Activity, ActivityType};
use crate::address::Address;
use crate::delivery::{Delivery, OutItem};
use crate::dialog::{Action, Dialog, Op, route_message, run_ops};
use crate::error::{SendError, TurnError};
use crate::locale::Localizer;
use crate::message::Message;
use crate::session::Session;
use crate::state::{self, TurnDocs};
use crate::storage::{JobStore, Outbox, Storage, StorageError};
use crate::turn_lock::TurnLocks;
use futures::future::BoxFuture;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::broadcast;

/// The answer to an `invoke` activity, returned in the HTTP response.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct InvokeResponse {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Option<Value>,
}

impl InvokeResponse {
    /// 200 with this body.
    pub fn ok(body: Value) -> Self {
        InvokeResponse { status: 200, body: Some(body) }
    }

    /// An answer with this status and body.
    pub fn new(status: u16, body: Option<Value>) -> Self {
        InvokeResponse { status, body }
    }
}

/// What a turn produced for the caller of [`Bot::receive`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum TurnOutcome {
    /// The activity was handled: a message's turn saved its state and queued its replies;
    /// another activity was announced to the observers.
    #[default]
    Completed,
    /// An `invoke` ran; the answer goes back in the HTTP response.
    Invoked(InvokeResponse),
    /// A middleware stopped the activity before its turn: nothing ran, nothing was saved.
    Dropped,
}

impl TurnOutcome {
    /// The answer of an `invoke`.
    pub fn invoke_response(&self) -> Option<&InvokeResponse> {
        match self {
            TurnOutcome::Invoked(response) => Some(response),
            _ => None,
        }
    }

    /// The answer of an `invoke`, owned.
    pub fn into_invoke_response(self) -> Option<InvokeResponse> {
        match self {
            TurnOutcome::Invoked(response) => Some(response),
            _ => None,
        }
    }
}

pub(crate) type InvokeHandler = Arc<dyn Fn(Session) -> BoxFuture<'static, InvokeResponse> + Send + Sync>;

/// How [`Bot::begin_dialog`] treats the dialog the user is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StackPolicy {
    /// Drop the user's dialog stack and begin the dialog (Bot Builder v3's behaviour). User and
    /// conversation data are kept.
    #[default]
    Replace,
    /// Interrupt: push the dialog on top; when it ends, the dialog the user was in resumes (a
    /// prompt asks its question again).
    Push,
}

/// The receipt of a delivered proactive message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The channel's id of the new activity.
    pub activity_id: Option<String>,
    /// The message's id in the outbox, when it went through one.
    pub outbox_id: Option<crate::storage::OutboxId>,
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
        for m in &self.inner.middleware {
            if !m.receive(&mut activity).await {
                return Ok(TurnOutcome::Dropped);
            }
        }
        match activity.kind {
            ActivityType::Message => {
                let address = Address::from_activity(&activity)?;
                let activity = Arc::new(activity);
                self.emit(|| BotEvent::Incoming(activity.clone()));
                let body = |session: Session| -> BoxFuture<'static, ()> {
                    Box::pin(async move {
                        for m in &session.bot().inner.middleware {
                            if !m.session(&session).await {
                                return;
                            }
                        }
                        route_message(&session).await;
                    })
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
                let response = self.run_turn(Arc::new(activity), address, false, &body).await?;
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
    /// conflict), deliver.
    async fn run_turn<R: Send + 'static>(
        &self,
        message: Arc<Activity>,
        address: Address,
        proactive: bool,
        body: TurnBody<'_, R>,
    ) -> Result<R, TurnError> {
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
                    inner.delivery.submit_turn(&conversation, outgoing, proactive).await;
                    return Ok(result);
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

    /// Sends a message to the address it carries, proactively: no dialog state is read or
    /// changed. A message given as an id with parameters ([`Message::localized`]) is resolved in
    /// the user's stored preferred locale (else the address's locale, else the default).
    ///
    /// Returns once the channel accepted the message, or with the reason it did not (after the
    /// retries of the delivery engine).
    pub async fn send(&self, message: impl Into<Message>) -> Result<Receipt, SendError> {
        let submitted = self.submit(message.into()).await?;
        submitted.outcome(self.inner.delivery.shared()).await
    }

    /// Accepts a proactive message: into the outbox when the bot has one (written before this
    /// returns), else into the in-memory queue.
    pub(crate) async fn submit(&self, message: Message) -> Result<crate::proactive::Submitted, SendError> {
        let (address, activity) = self.prepare_proactive(message).await?;
        self.inner.delivery.accept(address, activity).await
    }

    pub(crate) async fn locale_for(&self, address: &Address, message: &Message) -> Result<String, StorageError> {
        if let Some(locale) = &message.activity.locale {
            return Ok(locale.clone());
        }
        let needs_lookup = matches!(message.text, Some(ref t) if text_is_localized(t));
        let preferred = if needs_lookup {
            let (doc, _) = state::read_user(self.inner.storage.as_ref(), &address.channel_id, &address.user.id).await?;
            doc.locale
        } else {
            None
        };
        Ok(crate::locale::resolve_locale(
            preferred.as_deref(),
            address.locale.as_deref(),
            self.inner.localizer.default_locale(),
        ))
    }

    /// The preferred locale stored for the user at `address` (set with
    /// [`Session::set_preferred_locale`]), if any.
    pub async fn preferred_locale(&self, address: &Address) -> Result<Option<String>, StorageError> {
        let (doc, _) = state::read_user(self.inner.storage.as_ref(), &address.channel_id, &address.user.id).await?;
        Ok(doc.locale)
    }

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
        self.run_turn(Arc::new(synthetic_message(address)), address.clone(), true, &body).await
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
        self.run_turn(Arc::new(synthetic_message(address)), address.clone(), true, &body).await
    }
}

fn text_is_localized(text: &crate::text::Text) -> bool {
    match text {
        crate::text::Text::Localized { .. } => true,
        crate::text::Text::Plain { .. } => false,
        crate::text::Text::OneOf(all) => all.iter().any(text_is_localized),
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

/// Bot Builder v3's input hints: the last message of a turn accepts input, earlier ones ignore
/// it; prompts set `expectingInput` themselves.
fn set_input_hints(outgoing: &mut [OutItem]) {
    let mut last = true;
    for item in outgoing.iter_mut().rev() {
        if let OutItem::Activity(out) = item
            && out.activity.kind == ActivityType::Message
        {
            if out.activity.input_hint.is_none() {
                out.activity.input_hint = Some(if last { "acceptingInput" } else { "ignoringInput" }.into());
            }
            last = false;
        }
    }
}
