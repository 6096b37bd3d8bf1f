//! The delivery engine: one path out for replies and proactive messages.
//!
//! Two queues feed one engine:
//!
//! - **In memory**, for the replies of a turn (and for every message of a bot without an
//!   outbox): queued per conversation and delivered one at a time, in order, by a worker task
//!   that exists only while the conversation has something to send. A failed attempt that may
//!   succeed later (429, 5xx, a transport error) is retried with exponential backoff and jitter
//!   ([`RetryPolicy`]), honouring the channel's `Retry-After`; the conversation's later messages
//!   wait, so order holds.
//! - **The durable outbox**, for proactive messages when the bot has an
//!   [`Outbox`]: claimed with a lease by the outbox worker, delivered, and its
//!   outcome written back (see [`crate::proactive`] for the guarantees).
//!
//! Before every attempt, on either path, the engine waits for the conversation's and the service
//! URL's rate limits ([`RateLimits`]) and runs the send middleware
//! ([`Middleware::on_send`]). A message that cannot be
//! delivered ends as a dead letter ([`DeadLetterReason`]) with a
//! [`BotEvent::DeadLetter`], never in silence; a 403 or 404 marks the address stale and emits
//! [`BotEvent::AddressStale`].
//!
//! The rest of the crate sees the engine through `Delivery`'s few calls only: accept a
//! message, submit a turn's messages (and learn their outbox ids), wait for an outcome, flush,
//! start and shut down.

mod lifecycle;
mod listeners;
mod memory;
mod outbox_worker;
mod payload;
mod rate_limit;
mod retry;
mod settings;

pub use crate::dead_letter::DeadLetterReason;
pub use outbox_worker::STABLE_ID_PREFIX;
pub use rate_limit::{Rate, RateLimits};
pub use retry::RetryPolicy;
pub use settings::{ProactiveSettings, ShutdownReport};

pub(crate) use lifecycle::{Lifecycle, Worker};
pub(crate) use listeners::Finished;
pub(crate) use memory::{OutItem, Outgoing};

use crate::activity::Activity;
use crate::address::Address;
use crate::channel::{Channel, Delivered, DeliveryError};
use crate::error::SendError;
use crate::event::{BotEvent, Events};
use crate::middleware::Middleware;
use crate::outcome::Receipt;
use crate::state;
use crate::storage::{NewOutboxEntry, Outbox, OutboxId, OutboxStatus, Storage, StorageError};
use listeners::FanOutSender;
use memory::{MemoryQueues, Withdrawal};
use outbox_worker::OutboxState;
use payload::{Payload, encode};
use rate_limit::Limiters;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};

/// The channels a bot delivers to, by channel id, with a default.
#[derive(Debug, Clone, Default)]
pub(crate) struct Channels {
    pub(crate) by_id: HashMap<String, Arc<dyn Channel>>,
    pub(crate) default: Option<Arc<dyn Channel>>,
}

impl Channels {
    pub(crate) fn get(&self, channel_id: &str) -> Option<&Arc<dyn Channel>> {
        self.by_id.get(channel_id).or(self.default.as_ref())
    }
}

/// What the engine needs from the bot, given once.
pub(crate) struct Parts {
    pub(crate) channels: Channels,
    pub(crate) policy: RetryPolicy,
    pub(crate) events: Events,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) outbox: Option<Arc<dyn Outbox>>,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) settings: ProactiveSettings,
}

/// The engine; one per bot. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Delivery {
    engine: Arc<Engine>,
}

/// What the engine's tasks share.
struct Engine {
    channels: Channels,
    policy: RetryPolicy,
    events: Events,
    storage: Arc<dyn Storage>,
    outbox: Option<Arc<dyn Outbox>>,
    middleware: Vec<Arc<dyn Middleware>>,
    limiters: Limiters,
    settings: ProactiveSettings,
    memory: MemoryQueues,
    durable: OutboxState,
    lifecycle: Lifecycle,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("queued", &self.engine.memory.queued())
            .field("in_flight", &self.engine.durable.in_flight())
            .finish_non_exhaustive()
    }
}

/// A message accepted for delivery.
#[derive(Debug)]
pub(crate) struct Submitted(Accepted);

#[derive(Debug)]
enum Accepted {
    /// In the outbox, under this id.
    Durable(OutboxId),
    /// In the in-memory queue.
    Memory { rx: oneshot::Receiver<Result<Delivered, SendError>>, withdrawal: Arc<Withdrawal> },
}

impl Submitted {
    /// Its outbox id, when it went to the outbox.
    pub(crate) fn outbox_id(&self) -> Option<OutboxId> {
        match self.0 {
            Accepted::Durable(id) => Some(id),
            Accepted::Memory { .. } => None,
        }
    }
}

/// A durable fan-out's registration: the outcomes of its entries arrive on `outcomes`; dropping
/// it stops them.
pub(crate) struct FanOutRegistration {
    engine: Arc<Engine>,
    pub(crate) token: u64,
    pub(crate) outcomes: mpsc::UnboundedReceiver<(usize, Finished, Option<Address>)>,
}

impl Drop for FanOutRegistration {
    fn drop(&mut self) {
        self.engine.durable.listeners.remove_fan_out(self.token);
    }
}

fn receipt(delivered: Delivered, outbox_id: Option<OutboxId>) -> Receipt {
    Receipt { activity_id: delivered.activity_id, outbox_id }
}

impl Delivery {
    pub(crate) fn new(parts: Parts) -> Self {
        let Parts { channels, policy, events, storage, outbox, middleware, settings } = parts;
        Delivery {
            engine: Arc::new(Engine {
                channels,
                policy,
                events,
                storage,
                outbox,
                middleware,
                limiters: Limiters::new(settings.rate_limits),
                settings,
                memory: MemoryQueues::new(),
                durable: OutboxState::default(),
                lifecycle: Lifecycle::default(),
            }),
        }
    }

    /// The settings.
    pub(crate) fn settings(&self) -> &ProactiveSettings {
        &self.engine.settings
    }

    /// The outbox, or the error of a bot without one.
    pub(crate) fn require_outbox(&self) -> Result<&Arc<dyn Outbox>, SendError> {
        self.engine.require_outbox()
    }

    /// Whether shutdown began, and a watch on it.
    pub(crate) fn lifecycle(&self) -> &Lifecycle {
        &self.engine.lifecycle
    }

    /// Queues items behind the conversation's earlier ones, in memory.
    pub(crate) fn submit(&self, conversation_key: &str, items: Vec<OutItem>) {
        self.engine.submit_memory(conversation_key, items);
    }

    /// Hands a turn's messages to delivery: a proactive turn's messages go to the outbox when
    /// the bot has one (written before this returns; their ids are returned), a reactive turn's
    /// to the in-memory queue.
    ///
    /// Should the outbox fail to take them, they go to the in-memory queue instead (the turn's
    /// state is already saved, so failing the call would let a retry begin the dialog twice).
    pub(crate) async fn submit_turn(
        &self,
        conversation_key: &str,
        items: Vec<OutItem>,
        proactive: bool,
    ) -> Vec<OutboxId> {
        if proactive && self.engine.outbox.is_some() && items.iter().any(|i| matches!(i, OutItem::Activity(_))) {
            match self.engine.enqueue_turn(conversation_key, &items).await {
                Ok(ids) => return ids,
                Err(e) => {
                    tracing::error!(error = %e, conversation = conversation_key,
                        "the outbox did not take a proactive turn's messages; delivering them from memory");
                }
            }
        }
        self.submit(conversation_key, items);
        Vec::new()
    }

    /// Accepts an addressed activity: into the outbox when there is one (written before this
    /// returns), else into the in-memory queue.
    pub(crate) async fn accept(&self, address: Address, activity: Activity) -> Result<Submitted, SendError> {
        let engine = &self.engine;
        engine.check_running()?;
        let key = address.conversation_key();
        if engine.outbox.is_some() {
            let payload = Payload { address, activity, fan_out: None };
            let entry =
                NewOutboxEntry { conversation_key: key, payload: encode(&payload)?, not_before: SystemTime::now() };
            let ids = self.enqueue(std::slice::from_ref(&entry)).await?;
            let id = ids
                .first()
                .copied()
                .ok_or_else(|| SendError::Storage(StorageError::backend("the outbox returned no id")))?;
            return Ok(Submitted(Accepted::Durable(id)));
        }
        let (tx, rx) = oneshot::channel();
        let withdrawal = Arc::new(Withdrawal::default());
        let out = Outgoing {
            address,
            activity,
            reply: Some(tx),
            enqueued_at: Instant::now(),
            withdrawal: Some(withdrawal.clone()),
        };
        self.submit(&key, vec![OutItem::Activity(Box::new(out))]);
        Ok(Submitted(Accepted::Memory { rx, withdrawal }))
    }

    /// Waits for the final outcome of an accepted message.
    pub(crate) async fn outcome(&self, submitted: Submitted) -> Result<Receipt, SendError> {
        match submitted.0 {
            Accepted::Durable(id) => {
                let delivered = self.engine.wait_finished(id).await?.into_result()?;
                Ok(receipt(delivered, Some(id)))
            }
            Accepted::Memory { rx, .. } => {
                let delivered = rx.await.map_err(|_| SendError::ShuttingDown)??;
                Ok(receipt(delivered, None))
            }
        }
    }

    /// Waits up to `timeout` for the outcome of an accepted message; then withdraws it (an
    /// attempt in flight is waited for, and its outcome decides).
    pub(crate) async fn outcome_within(&self, submitted: Submitted, timeout: Duration) -> Result<Receipt, SendError> {
        match submitted.0 {
            Accepted::Durable(id) => {
                if let Ok(done) = tokio::time::timeout(timeout, self.engine.wait_finished(id)).await {
                    return Ok(receipt(done?.into_result()?, Some(id)));
                }
                self.withdraw(id).await
            }
            Accepted::Memory { mut rx, withdrawal } => {
                let result = match tokio::time::timeout(timeout, &mut rx).await {
                    Ok(result) => result,
                    Err(_) => {
                        if withdrawal.request() {
                            return Err(SendError::Withdrawn { last_error: None });
                        }
                        // An attempt is running: its outcome decides.
                        rx.await
                    }
                };
                let delivered = result.map_err(|_| SendError::ShuttingDown)??;
                Ok(receipt(delivered, None))
            }
        }
    }

    /// Takes a durable message back; waits for an attempt in flight and reports its outcome.
    async fn withdraw(&self, id: OutboxId) -> Result<Receipt, SendError> {
        let engine = &self.engine;
        let outbox = engine.require_outbox()?;
        loop {
            // Why the attempts so far failed, for the caller (read before the entry is withdrawn).
            let last_error = match outbox.status(id).await? {
                Some(OutboxStatus::Pending { last_error, .. }) => last_error,
                _ => None,
            };
            if outbox.withdraw(id).await? {
                tracing::info!(outbox_id = id, "message withdrawn: its deadline passed");
                engine.durable.listeners.withdrawn(id);
                return Err(SendError::Withdrawn { last_error });
            }
            let status = outbox.status(id).await?;
            match status.as_ref().and_then(Finished::from_status) {
                Some(done) => {
                    let done = engine.durable.listeners.recent(id).unwrap_or(done);
                    return Ok(receipt(done.into_result()?, Some(id)));
                }
                None if status.is_none() => {
                    return Err(SendError::Storage(StorageError::Corrupt {
                        key: format!("outbox/{id}"),
                        reason: "no such outbox entry".into(),
                    }));
                }
                // Claimed: an attempt is in flight (here or in another instance).
                None => engine.wait_attempt(id).await,
            }
        }
    }

    /// Waits for the final outcome of outbox entry `id` (its local notice, else its status in
    /// the store, read again every poll interval for entries another instance delivers).
    pub(crate) async fn wait_finished(&self, id: OutboxId) -> Result<Finished, SendError> {
        self.engine.wait_finished(id).await
    }

    /// The outcome of `id`, if it finished in this process recently.
    pub(crate) fn recent(&self, id: OutboxId) -> Option<Finished> {
        self.engine.durable.listeners.recent(id)
    }

    /// Registers a durable fan-out: the outcomes of entries written with its token arrive on
    /// the registration.
    pub(crate) fn register_fan_out(&self) -> FanOutRegistration {
        let (tx, rx): (FanOutSender, _) = mpsc::unbounded_channel();
        let token = self.engine.durable.listeners.add_fan_out(tx);
        FanOutRegistration { engine: self.engine.clone(), token, outcomes: rx }
    }

    /// An outbox entry for message `index` of fan-out `token`.
    pub(crate) fn fan_out_entry(
        &self,
        address: Address,
        activity: Activity,
        token: u64,
        index: usize,
    ) -> Result<NewOutboxEntry, StorageError> {
        let conversation_key = address.conversation_key();
        let payload = Payload { address, activity, fan_out: Some((token, index)) };
        Ok(NewOutboxEntry { conversation_key, payload: encode(&payload)?, not_before: SystemTime::now() })
    }

    /// Writes entries to the outbox (all or none), wakes the worker and starts it if needed.
    pub(crate) async fn enqueue(&self, entries: &[NewOutboxEntry]) -> Result<Vec<OutboxId>, StorageError> {
        let ids = self.engine.enqueue(entries).await?;
        self.engine.ensure_worker();
        Ok(ids)
    }

    /// Waits until every message handed to delivery so far was delivered or given up: the
    /// in-memory queues are empty, no durable attempt is in flight here, and the outbox has
    /// nothing pending (this starts the outbox worker when needed).
    pub(crate) async fn flush(&self) {
        let engine = &self.engine;
        loop {
            let notified = engine.memory.idle.notified();
            if engine.memory.queued() == 0 {
                break;
            }
            notified.await;
        }
        let Some(outbox) = &engine.outbox else { return };
        if engine.lifecycle.is_stopping() {
            return;
        }
        engine.ensure_worker();
        loop {
            let in_flight = engine.durable.in_flight();
            let pending = match outbox.pending_count().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "flush could not count pending outbox entries");
                    return;
                }
            };
            if in_flight == 0 && pending == 0 && engine.memory.queued() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// How many items are queued in memory or in flight from the outbox.
    pub(crate) fn queued(&self) -> usize {
        self.engine.memory.queued() + self.engine.durable.in_flight()
    }

    /// Starts the outbox worker (idempotent); first, on the first start, releases the claims a
    /// previous run under this instance id held.
    pub(crate) async fn start(&self) {
        let engine = &self.engine;
        if let Some(outbox) = engine.outbox.as_ref().filter(|_| !engine.durable.worker.is_started()) {
            let owner = &engine.settings.instance_id;
            match outbox.release_claims(owner).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(released = n, instance = %owner, "took back messages a previous run had claimed")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not release a previous run's claims; they wait for their leases")
                }
            }
        }
        engine.ensure_worker();
    }

    /// Stops claiming and waits up to `timeout` for deliveries in flight.
    pub(crate) async fn shutdown(&self, timeout: Duration) -> ShutdownReport {
        let engine = &self.engine;
        engine.lifecycle.begin_stopping();
        engine.durable.worker.wake_all();
        let deadline = crate::later::tokio_after(tokio::time::Instant::now(), timeout);
        loop {
            let report =
                ShutdownReport { in_flight: engine.durable.in_flight(), queued_in_memory: engine.memory.queued() };
            if report.is_clean() || tokio::time::Instant::now() >= deadline {
                engine.lifecycle.end_stopping();
                return report;
            }
            tokio::time::sleep(
                Duration::from_millis(10).min(deadline.saturating_duration_since(tokio::time::Instant::now())),
            )
            .await;
        }
    }
}

impl Engine {
    /// Announces a delivery.
    fn delivered(&self, address: &Address, activity: &Activity, delivered: &Delivered) {
        self.events.emit(|| BotEvent::Outgoing {
            address: Box::new(address.clone()),
            activity: Arc::new(activity.clone()),
            activity_id: delivered.activity_id.clone(),
        });
    }

    /// Announces a dead letter (the outbox record, if any, is the caller's).
    fn dead_letter(&self, address: &Address, activity: &Activity, reason: &DeadLetterReason, attempts: u32) {
        self.events.emit(|| BotEvent::DeadLetter {
            address: Box::new(address.clone()),
            activity: Arc::new(activity.clone()),
            reason: reason.clone(),
            attempts,
        });
    }

    /// Marks the address stale after the channel answered 403 / 404 for it.
    async fn stale(&self, address: &Address, error: &DeliveryError) {
        let status = match error {
            DeliveryError::Stale { status, .. } => *status,
            _ => 0,
        };
        let since_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        let result = state::update_address(self.storage.as_ref(), &address.channel_id, &address.user.id, |doc| {
            // A newer address (another conversation) is not stale because this one is.
            let same = doc.address.as_ref().is_none_or(|a| a.conversation.id == address.conversation.id);
            if !same || doc.stale.is_some() {
                return false;
            }
            if doc.address.is_none() {
                // A user the bot never heard from (an address from a file): remember it, stale.
                doc.address = Some(address.without_reply_id());
            }
            doc.stale = Some(state::Staleness { status, since_ms });
            true
        })
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "could not mark an address stale");
        }
        tracing::info!(user = %address.user.id, conversation = %address.conversation.id, status, "address marked stale");
        self.events.emit(|| BotEvent::AddressStale { address: Box::new(address.clone()), status });
    }

    /// The outbox, or the error of a bot without one.
    fn require_outbox(&self) -> Result<&Arc<dyn Outbox>, SendError> {
        self.outbox.as_ref().ok_or(SendError::NoOutbox)
    }

    /// Fails when shutdown began.
    fn check_running(&self) -> Result<(), SendError> {
        if self.lifecycle.is_stopping() { Err(SendError::ShuttingDown) } else { Ok(()) }
    }
}
