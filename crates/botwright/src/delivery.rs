//! The delivery engine: one path out for replies and proactive messages.
//!
//! Outgoing activities are queued per conversation and delivered one at a time, in order, by a
//! worker task that exists only while the conversation has something to send. A failed attempt
//! that may succeed later (429, 5xx, a transport error) is retried with exponential backoff and
//! jitter, honouring the channel's `Retry-After`; the conversation's later messages wait, so
//! order holds. A message that cannot be delivered ends as a dead letter with an event, never in
//! silence; a 403 or 404 marks the address stale.

use crate::activity::Activity;
use crate::address::Address;
use crate::bot::{BotEvent, Events, Middleware};
use crate::channel::{Channel, Delivered, DeliveryError};
use crate::error::SendError;
use crate::state;
use crate::storage::{Outbox, OutboxId, Storage};
use rand::Rng;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{Notify, oneshot};

/// How hard the engine tries before giving a message up.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all (the first one included).
    pub max_attempts: u32,
    /// The wait after the first failure; doubled after each further failure.
    pub initial_backoff: Duration,
    /// The longest wait between attempts (a longer `Retry-After` is still honoured).
    pub max_backoff: Duration,
    /// Give up once a message is this old.
    pub max_age: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            max_age: Duration::from_secs(10 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after `attempt` failures (full jitter on the upper
    /// half), at least the channel's `Retry-After`.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_backoff);
        let jittered = capped / 2 + capped.mul_f64(rand::rng().random::<f64>() / 2.0);
        match retry_after {
            Some(after) => jittered.max(after),
            None => jittered,
        }
    }
}

/// The outcome of one queued message, for whoever waits on it.
pub(crate) type Reply = oneshot::Sender<Result<Delivered, SendError>>;

/// One queued activity.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) address: Address,
    pub(crate) activity: Activity,
    pub(crate) reply: Option<Reply>,
    pub(crate) outbox_id: Option<OutboxId>,
    pub(crate) enqueued_at: Instant,
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
            outbox_id: None,
            enqueued_at: Instant::now(),
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

pub(crate) struct Delivery {
    shared: Arc<Shared>,
}

struct Shared {
    channels: Channels,
    policy: RetryPolicy,
    queues: Vec<Mutex<HashMap<String, VecDeque<OutItem>>>>,
    hasher: RandomState,
    queued: AtomicUsize,
    idle: Notify,
    events: Events,
    storage: Arc<dyn Storage>,
    outbox: Option<Arc<dyn Outbox>>,
    middleware: Vec<Arc<dyn Middleware>>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").field("queued", &self.shared.queued.load(Ordering::Relaxed)).finish_non_exhaustive()
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
            }),
        }
    }

    /// Queues items behind the conversation's earlier ones.
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

    /// Waits until every queued item has been delivered or given up.
    pub(crate) async fn flush(&self) {
        loop {
            let notified = self.shared.idle.notified();
            if self.shared.queued.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// How many items are queued or in flight.
    pub(crate) fn queued(&self) -> usize {
        self.shared.queued.load(Ordering::SeqCst)
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

    async fn work(self: Arc<Self>, key: String) {
        while let Some(item) = self.next(&key) {
            match item {
                OutItem::Pause(d) => tokio::time::sleep(d).await,
                OutItem::Activity(outgoing) => self.deliver(*outgoing).await,
            }
            self.done();
        }
    }

    async fn deliver(&self, mut out: Outgoing) {
        for m in &self.middleware {
            if !m.send(&mut out.activity).await {
                finish(out.reply, Err(SendError::Withdrawn));
                return;
            }
        }
        let Some(channel) = self.channels.get(&out.address.channel_id).cloned() else {
            let error = SendError::NoChannel(out.address.channel_id.clone());
            tracing::warn!(channel = %out.address.channel_id, "no channel registered; message dropped as a dead letter");
            self.dead_letter(&out, &error.to_string(), 0).await;
            finish(out.reply, Err(error));
            return;
        };
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            match channel.deliver(&out.address, &out.activity).await {
                Ok(delivered) => {
                    if let Some(id) = out.outbox_id
                        && let Some(outbox) = &self.outbox
                        && let Err(e) = outbox.mark_delivered(id, delivered.activity_id.as_deref()).await
                    {
                        tracing::warn!(error = %e, outbox_id = id, "delivered, but the outbox could not record it");
                    }
                    let address = &out.address;
                    let activity = &out.activity;
                    self.events.emit(|| BotEvent::Outgoing {
                        address: Box::new(address.clone()),
                        activity: Arc::new(activity.clone()),
                        activity_id: delivered.activity_id.clone(),
                    });
                    finish(out.reply, Ok(delivered));
                    return;
                }
                Err(error) if error.is_retryable() => {
                    let age = out.enqueued_at.elapsed();
                    if attempts >= self.policy.max_attempts || age >= self.policy.max_age {
                        let reason = format!("gave up after {attempts} attempt(s): {error}");
                        tracing::warn!(conversation = %out.address.conversation.id, %reason, "dead letter");
                        self.dead_letter(&out, &reason, attempts).await;
                        finish(out.reply, Err(SendError::GaveUp { attempts, last: error }));
                        return;
                    }
                    let wait = self.policy.backoff(attempts, error.retry_after());
                    tracing::debug!(conversation = %out.address.conversation.id, %error, ?wait, "retrying delivery");
                    tokio::time::sleep(wait).await;
                }
                Err(error @ DeliveryError::Stale { .. }) => {
                    let status = match &error {
                        DeliveryError::Stale { status, .. } => *status,
                        _ => 0,
                    };
                    self.mark_stale(&out.address, status).await;
                    self.dead_letter(&out, &error.to_string(), attempts).await;
                    finish(out.reply, Err(SendError::Stale(error)));
                    return;
                }
                Err(error) => {
                    tracing::warn!(conversation = %out.address.conversation.id, %error, "message rejected by the channel");
                    self.dead_letter(&out, &error.to_string(), attempts).await;
                    finish(out.reply, Err(SendError::Rejected(error)));
                    return;
                }
            }
        }
    }

    async fn dead_letter(&self, out: &Outgoing, reason: &str, attempts: u32) {
        if let Some(id) = out.outbox_id
            && let Some(outbox) = &self.outbox
            && let Err(e) = outbox.mark_dead(id, reason).await
        {
            tracing::error!(error = %e, outbox_id = id, "the outbox could not record a dead letter");
        }
        self.events.emit(|| BotEvent::DeadLetter {
            address: Box::new(out.address.clone()),
            activity: Arc::new(out.activity.clone()),
            reason: reason.to_owned(),
            attempts,
        });
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
}

fn finish(reply: Option<Reply>, result: Result<Delivered, SendError>) {
    if let Some(reply) = reply {
        let _ = reply.send(result);
    }
}
