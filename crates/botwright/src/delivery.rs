//! The delivery engine: one path out for replies and proactive messages.
//!
//! Two queues feed one engine:
//!
//! - **In memory**, for the replies of a turn (and for every message of a bot without an
//!   outbox): queued per conversation and delivered one at a time, in order, by a worker task
//!   that exists only while the conversation has something to send. A failed attempt that may
//!   succeed later (429, 5xx, a transport error) is retried with exponential backoff and jitter,
//!   honouring the channel's `Retry-After`; the conversation's later messages wait, so order
//!   holds.
//! - **The durable outbox**, for proactive messages when the bot has an [`Outbox`]: see
//!   [`crate::proactive`] for its worker and its guarantees.
//!
//! Before every attempt, on either path, the engine waits for the conversation's and the service
//! URL's rate limits ([`crate::proactive::RateLimits`]). A message that cannot be delivered ends
//! as a dead letter with a [`BotEvent::DeadLetter`], never in silence; a 403 or 404 marks the
//! address stale and emits [`BotEvent::AddressStale`].

use crate::activity::Activity;
use crate::address::Address;
use crate::bot::{BotEvent, Events, Middleware};
use crate::channel::{Channel, Delivered, DeliveryError};
use crate::error::SendError;
use crate::proactive::ProactiveSettings;
use crate::proactive::rate_limit::Limiters;
use crate::state;
use crate::storage::{Outbox, Storage};
use futures::FutureExt;
use rand::Rng;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, oneshot, watch};

pub(crate) use crate::proactive::outbox_worker::Listeners;

/// How hard the engine tries before giving a message up.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all (the first one included).
    pub max_attempts: u32,
    /// The wait after the first failure; doubled after each further failure.
    pub initial_backoff: Duration,
    /// The longest wait between attempts of the engine's own backoff (a longer `Retry-After`
    /// is still honoured, up to [`RetryPolicy::max_retry_after`]).
    pub max_backoff: Duration,
    /// The longest `Retry-After` a channel may ask for (default 1 hour). The header comes from
    /// the network: a longer one is not honoured, the attempt counts as failed and the message
    /// backs off as if no `Retry-After` had been given.
    pub max_retry_after: Duration,
    /// Give up once a message is this old (checked after a failed attempt).
    pub max_age: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60 * 60),
            max_age: Duration::from_secs(10 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after `attempt` failures (full jitter on the upper
    /// half), at least the channel's `Retry-After` when that is no longer than
    /// [`RetryPolicy::max_retry_after`] (a longer one is ignored). Never more than
    /// `max(max_backoff, max_retry_after)`.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_backoff);
        let half = capped / 2;
        let jittered = half.saturating_add((capped - half).mul_f64(rand::rng().random::<f64>().clamp(0.0, 1.0)));
        match retry_after {
            Some(after) if after <= self.max_retry_after => jittered.max(after),
            _ => jittered,
        }
    }
}

/// The outcome of one queued message, for whoever waits on it.
pub(crate) type Reply = oneshot::Sender<Result<Delivered, SendError>>;

/// Lets a waiter take back an in-memory message: at once while no attempt is running, else
/// once the running attempt failed.
#[derive(Debug, Default)]
pub(crate) struct Withdrawal {
    /// [`IDLE`], [`ATTEMPTING`] or [`WITHDRAWN`].
    state: AtomicU8,
    requested: AtomicBool,
    notify: Notify,
}

const IDLE: u8 = 0;
const ATTEMPTING: u8 = 1;
const WITHDRAWN: u8 = 2;

impl Withdrawal {
    /// Asks for the message back; `true` when it is withdrawn now (no attempt was running, and
    /// none will run). Otherwise the running attempt's outcome decides.
    pub(crate) fn request(&self) -> bool {
        self.requested.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
        self.state.compare_exchange(IDLE, WITHDRAWN, Ordering::SeqCst, Ordering::SeqCst).is_ok()
            || self.state.load(Ordering::SeqCst) == WITHDRAWN
    }

    /// Starts an attempt; `false` when the message was withdrawn.
    fn begin_attempt(&self) -> bool {
        self.state.compare_exchange(IDLE, ATTEMPTING, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    /// Ends a failed attempt; `false` when a withdrawal was asked for meanwhile (the message is
    /// then withdrawn).
    fn end_attempt(&self) -> bool {
        if self.requested.load(Ordering::SeqCst) {
            self.state.store(WITHDRAWN, Ordering::SeqCst);
            return false;
        }
        self.state.store(IDLE, Ordering::SeqCst);
        // A request that came between the check and the store found ATTEMPTING and waits for
        // this outcome: look again.
        if self.requested.load(Ordering::SeqCst) {
            return !self.request();
        }
        true
    }
}

/// One queued activity.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) address: Address,
    pub(crate) activity: Activity,
    pub(crate) reply: Option<Reply>,
    pub(crate) enqueued_at: Instant,
    pub(crate) withdrawal: Option<Arc<Withdrawal>>,
}

/// An item of a conversation's queue.
#[derive(Debug)]
pub(crate) enum OutItem {
    Activity(Box<Outgoing>),
    Pause(Duration),
}

impl OutItem {
    pub(crate) fn activity(address: Address, activity: Activity) -> Self {
        OutItem::Activity(Box::new(Outgoing {
            address,
            activity,
            reply: None,
            enqueued_at: Instant::now(),
            withdrawal: None,
        }))
    }
}

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

const SHARDS: usize = 64;

/// The engine; one per bot.
pub(crate) struct Delivery {
    pub(crate) shared: Arc<Shared>,
}

/// What the engine's tasks share.
pub(crate) struct Shared {
    pub(crate) channels: Channels,
    pub(crate) policy: RetryPolicy,
    queues: Vec<Mutex<HashMap<String, VecDeque<OutItem>>>>,
    hasher: RandomState,
    queued: AtomicUsize,
    idle: Notify,
    pub(crate) events: Events,
    pub(crate) storage: Arc<dyn Storage>,
    pub(crate) outbox: Option<Arc<dyn Outbox>>,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) limiters: Limiters,
    pub(crate) settings: ProactiveSettings,
    /// Who waits for which outbox entry.
    pub(crate) listeners: Listeners,
    /// Wakes the outbox worker (new entries, a free slot).
    pub(crate) wake: Arc<Notify>,
    /// Durable attempts in progress in this process.
    pub(crate) in_flight: AtomicUsize,
    pub(crate) worker_started: AtomicBool,
    pub(crate) scheduler_started: AtomicBool,
    pub(crate) scheduler_wake: Arc<Notify>,
    /// `true` once shutdown began: workers stop claiming.
    pub(crate) stopping: watch::Sender<bool>,
    /// `true` once shutdown finished waiting for in-flight deliveries.
    pub(crate) stopped: watch::Sender<bool>,
    /// When this process next expects an outbox entry to be due (a retry it scheduled).
    pub(crate) next_due: Mutex<Option<tokio::time::Instant>>,
    /// `true` while the outbox refuses to record outcomes: the worker claims nothing then.
    pub(crate) settle_backlog: AtomicBool,
    /// Outcomes of attempts waiting to be recorded in the outbox, together.
    pub(crate) settlements: Mutex<crate::proactive::outbox_worker::Settlements>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("queued", &self.shared.queued.load(Ordering::Relaxed))
            .field("in_flight", &self.shared.in_flight.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Delivery {
    pub(crate) fn new(
        channels: Channels,
        policy: RetryPolicy,
        events: Events,
        storage: Arc<dyn Storage>,
        outbox: Option<Arc<dyn Outbox>>,
        middleware: Vec<Arc<dyn Middleware>>,
        settings: ProactiveSettings,
    ) -> Self {
        Delivery {
            shared: Arc::new(Shared {
                channels,
                policy,
                queues: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
                hasher: RandomState::new(),
                queued: AtomicUsize::new(0),
                idle: Notify::new(),
                events,
                storage,
                outbox,
                middleware,
                limiters: Limiters::new(settings.rate_limits),
                settings,
                listeners: Listeners::default(),
                wake: Arc::new(Notify::new()),
                in_flight: AtomicUsize::new(0),
                worker_started: AtomicBool::new(false),
                scheduler_started: AtomicBool::new(false),
                scheduler_wake: Arc::new(Notify::new()),
                stopping: watch::channel(false).0,
                stopped: watch::channel(false).0,
                next_due: Mutex::new(None),
                settle_backlog: AtomicBool::new(false),
                settlements: Mutex::new(Default::default()),
            }),
        }
    }

    /// Queues items behind the conversation's earlier ones, in memory.
    pub(crate) fn submit(&self, conversation_key: &str, items: Vec<OutItem>) {
        if items.is_empty() {
            return;
        }
        let shared = &self.shared;
        shared.queued.fetch_add(items.len(), Ordering::SeqCst);
        let shard = &shared.queues[(shared.hasher.hash_one(conversation_key) as usize) % SHARDS];
        let mut queues = shard.lock().unwrap_or_else(|p| p.into_inner());
        match queues.get_mut(conversation_key) {
            // A worker is running for this conversation: it will get to these.
            Some(queue) => queue.extend(items),
            None => {
                queues.insert(conversation_key.to_owned(), items.into());
                let shared = self.shared.clone();
                let key = conversation_key.to_owned();
                tokio::spawn(async move { shared.work(key).await });
            }
        }
    }

    /// Hands a turn's messages to delivery: a proactive turn's messages go to the outbox when
    /// the bot has one (written before this returns), a reactive turn's to the in-memory queue.
    ///
    /// Should the outbox fail to take them, they go to the in-memory queue instead (the turn's
    /// state is already saved, so failing the call would let a retry begin the dialog twice).
    pub(crate) async fn submit_turn(&self, conversation_key: &str, items: Vec<OutItem>, proactive: bool) {
        if proactive && self.shared.outbox.is_some() && items.iter().any(|i| matches!(i, OutItem::Activity(_))) {
            match self.shared.enqueue_turn(conversation_key, &items).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::error!(error = %e, conversation = conversation_key,
                        "the outbox did not take a proactive turn's messages; delivering them from memory");
                }
            }
        }
        self.submit(conversation_key, items);
    }

    /// Waits until every message handed to delivery so far was delivered or given up: the
    /// in-memory queues are empty, no durable attempt is in flight here, and the outbox has
    /// nothing pending (this starts the outbox worker when needed).
    pub(crate) async fn flush(&self) {
        let shared = &self.shared;
        loop {
            let notified = shared.idle.notified();
            if shared.queued.load(Ordering::SeqCst) == 0 {
                break;
            }
            notified.await;
        }
        let Some(outbox) = &shared.outbox else { return };
        if *shared.stopping.borrow() {
            return;
        }
        shared.ensure_worker();
        loop {
            let in_flight = shared.in_flight.load(Ordering::SeqCst);
            let pending = match outbox.pending_count().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "flush could not count pending outbox entries");
                    return;
                }
            };
            if in_flight == 0 && pending == 0 && shared.queued.load(Ordering::SeqCst) == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// How many items are queued in memory or in flight from the outbox.
    pub(crate) fn queued(&self) -> usize {
        self.shared.queued.load(Ordering::SeqCst) + self.shared.in_flight.load(Ordering::SeqCst)
    }
}

impl Shared {
    fn next(&self, key: &str) -> Option<OutItem> {
        let shard = &self.queues[(self.hasher.hash_one(key) as usize) % SHARDS];
        let mut queues = shard.lock().unwrap_or_else(|p| p.into_inner());
        let queue = queues.get_mut(key)?;
        match queue.pop_front() {
            Some(item) => Some(item),
            None => {
                queues.remove(key);
                None
            }
        }
    }

    fn done(&self) {
        if self.queued.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// How many items wait in the in-memory queues.
    pub(crate) fn queued_in_memory(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    async fn work(self: Arc<Self>, key: String) {
        while let Some(item) = self.next(&key) {
            match item {
                OutItem::Pause(d) => tokio::time::sleep(d).await,
                OutItem::Activity(mut outgoing) => {
                    let reply = outgoing.reply.take();
                    let withdrawal = outgoing.withdrawal.clone();
                    // A panic in the attempt (a channel, send middleware) must not end this
                    // worker: the waiter would never hear, and the conversation's later
                    // messages would wait for ever.
                    let result = match AssertUnwindSafe(self.deliver(*outgoing)).catch_unwind().await {
                        Ok(result) => result,
                        Err(panic) => {
                            let message = crate::proactive::outbox_worker::panic_message(panic.as_ref());
                            tracing::error!(conversation = %key, panic = %message, "delivery attempt panicked");
                            if let Some(w) = withdrawal {
                                w.state.store(WITHDRAWN, Ordering::SeqCst);
                            }
                            Err(SendError::Panicked { message })
                        }
                    };
                    finish(reply, result);
                }
            }
            self.done();
        }
    }

    /// Runs the send middleware; `false` when one of them stopped the message.
    pub(crate) async fn run_send_middleware(&self, activity: &mut Activity) -> bool {
        for m in &self.middleware {
            if !m.send(activity).await {
                return false;
            }
        }
        true
    }

    /// Delivers one in-memory message, retrying in place.
    async fn deliver(&self, mut out: Outgoing) -> Result<Delivered, SendError> {
        if out.withdrawal.as_ref().is_some_and(|w| w.state.load(Ordering::SeqCst) == WITHDRAWN) {
            return Err(SendError::Withdrawn { last_error: None });
        }
        if !self.run_send_middleware(&mut out.activity).await {
            return Err(SendError::Withdrawn { last_error: None });
        }
        let Some(channel) = self.channels.get(&out.address.channel_id).cloned() else {
            let error = SendError::NoChannel(out.address.channel_id.clone());
            tracing::warn!(channel = %out.address.channel_id, "no channel registered; message dropped as a dead letter");
            self.dead_letter(&out.address, &out.activity, &error.to_string(), 0);
            return Err(error);
        };
        let conversation_key = out.address.conversation_key();
        let mut attempts = 0u32;
        loop {
            self.limiters.acquire(&conversation_key, &out.address.service_url).await;
            if out.withdrawal.as_ref().is_some_and(|w| !w.begin_attempt()) {
                return Err(SendError::Withdrawn { last_error: None });
            }
            attempts += 1;
            let result = channel.deliver(&out.address, &out.activity).await;
            if result.is_err() && out.withdrawal.as_ref().is_some_and(|w| !w.end_attempt()) {
                return Err(SendError::Withdrawn { last_error: None });
            }
            match result {
                Ok(delivered) => {
                    self.delivered(&out.address, &out.activity, &delivered);
                    return Ok(delivered);
                }
                Err(error) if error.is_retryable() => {
                    let age = out.enqueued_at.elapsed();
                    if attempts >= self.policy.max_attempts || age >= self.policy.max_age {
                        let reason = format!("gave up after {attempts} attempt(s): {error}");
                        tracing::warn!(conversation = %out.address.conversation.id, %reason, "dead letter");
                        self.dead_letter(&out.address, &out.activity, &reason, attempts);
                        return Err(SendError::GaveUp { attempts, last: error });
                    }
                    let wait = self.policy.backoff(attempts, error.retry_after());
                    tracing::debug!(conversation = %out.address.conversation.id, %error, ?wait, "retrying delivery");
                    match &out.withdrawal {
                        Some(w) => {
                            let notified = w.notify.notified();
                            if !w.requested.load(Ordering::SeqCst) {
                                tokio::select! {
                                    _ = tokio::time::sleep(wait) => {}
                                    _ = notified => {}
                                }
                            }
                        }
                        None => tokio::time::sleep(wait).await,
                    }
                }
                Err(error @ DeliveryError::Stale { .. }) => {
                    self.stale(&out.address, &error).await;
                    self.dead_letter(&out.address, &out.activity, &error.to_string(), attempts);
                    return Err(SendError::Stale(error));
                }
                Err(error) => {
                    tracing::warn!(conversation = %out.address.conversation.id, %error, "message rejected by the channel");
                    self.dead_letter(&out.address, &out.activity, &error.to_string(), attempts);
                    return Err(SendError::Rejected(error));
                }
            }
        }
    }

    /// Announces a delivery.
    pub(crate) fn delivered(&self, address: &Address, activity: &Activity, delivered: &Delivered) {
        self.events.emit(|| BotEvent::Outgoing {
            address: Box::new(address.clone()),
            activity: Arc::new(activity.clone()),
            activity_id: delivered.activity_id.clone(),
        });
    }

    /// Announces a dead letter (the outbox record, if any, is the caller's).
    pub(crate) fn dead_letter(&self, address: &Address, activity: &Activity, reason: &str, attempts: u32) {
        self.events.emit(|| BotEvent::DeadLetter {
            address: Box::new(address.clone()),
            activity: Arc::new(activity.clone()),
            reason: reason.to_owned(),
            attempts,
        });
    }

    /// Marks the address stale after the channel answered 403 / 404 for it.
    pub(crate) async fn stale(&self, address: &Address, error: &DeliveryError) {
        let status = match error {
            DeliveryError::Stale { status, .. } => *status,
            _ => 0,
        };
        self.mark_stale(address, status).await;
    }

    async fn mark_stale(&self, address: &Address, status: u16) {
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
    pub(crate) fn require_outbox(&self) -> Result<&Arc<dyn Outbox>, SendError> {
        self.outbox.as_ref().ok_or(SendError::NoOutbox)
    }

    /// Fails when shutdown began.
    pub(crate) fn check_running(&self) -> Result<(), SendError> {
        if *self.stopping.borrow() { Err(SendError::ShuttingDown) } else { Ok(()) }
    }
}

/// Sends an in-memory message's outcome to whoever waits for it.
pub(crate) fn finish(reply: Option<Reply>, result: Result<Delivered, SendError>) {
    if let Some(reply) = reply {
        let _ = reply.send(result);
    }
}
