//! The in-memory path: the replies of a turn (and every message of a bot without an outbox),
//! queued per conversation and delivered one at a time, in order, by a worker task that exists
//! only while the conversation has something to send. A failed attempt that may succeed later
//! (429, 5xx, a transport error) is retried in place with backoff, honouring the channel's
//! `Retry-After`; the conversation's later messages wait, so order holds.

use super::{DeadLetterReason, Engine};
use crate::activity::Activity;
use crate::address::Address;
use crate::channel::{Delivered, DeliveryError};
use crate::error::SendError;
use crate::middleware;
use futures::FutureExt;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};

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

const SHARDS: usize = 64;

/// The per-conversation queues, sharded.
pub(super) struct MemoryQueues {
    queues: Vec<Mutex<HashMap<String, VecDeque<OutItem>>>>,
    hasher: RandomState,
    /// Items queued and not yet finished.
    pub(super) queued: AtomicUsize,
    /// Notified when `queued` falls to zero.
    pub(super) idle: Notify,
}

impl MemoryQueues {
    pub(super) fn new() -> Self {
        MemoryQueues {
            queues: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            queued: AtomicUsize::new(0),
            idle: Notify::new(),
        }
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, VecDeque<OutItem>>> {
        &self.queues[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    /// How many items wait or are in flight.
    pub(super) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }
}

impl Engine {
    /// Queues items behind the conversation's earlier ones, in memory.
    pub(super) fn submit_memory(self: &Arc<Self>, conversation_key: &str, items: Vec<OutItem>) {
        if items.is_empty() {
            return;
        }
        self.memory.queued.fetch_add(items.len(), Ordering::SeqCst);
        let mut queues = self.memory.shard(conversation_key).lock().unwrap_or_else(|p| p.into_inner());
        match queues.get_mut(conversation_key) {
            // A worker is running for this conversation: it will get to these.
            Some(queue) => queue.extend(items),
            None => {
                queues.insert(conversation_key.to_owned(), items.into());
                let engine = self.clone();
                let key = conversation_key.to_owned();
                tokio::spawn(async move { engine.work(key).await });
            }
        }
    }
}

impl Engine {
    fn next(&self, key: &str) -> Option<OutItem> {
        let shard = self.memory.shard(key);
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
        if self.memory.queued.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.memory.idle.notify_waiters();
        }
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
                            let message = super::outbox_worker::panic_message(panic.as_ref());
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

    /// Delivers one in-memory message, retrying in place.
    async fn deliver(&self, out: Outgoing) -> Result<Delivered, SendError> {
        if out.withdrawal.as_ref().is_some_and(|w| w.state.load(Ordering::SeqCst) == WITHDRAWN) {
            return Err(SendError::Withdrawn { last_error: None });
        }
        let Some(channel) = self.channels.get(&out.address.channel_id).cloned() else {
            let error = SendError::NoChannel(out.address.channel_id.clone());
            tracing::warn!(channel = %out.address.channel_id, "no channel registered; message dropped as a dead letter");
            let reason = DeadLetterReason::NoChannel { channel_id: out.address.channel_id.clone() };
            self.dead_letter(&out.address, &out.activity, &reason, 0);
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
            let (result, sent) =
                middleware::attempt(&self.middleware, channel.as_ref(), &out.address, &out.activity).await;
            if result.is_err() && out.withdrawal.as_ref().is_some_and(|w| !w.end_attempt()) {
                return Err(SendError::Withdrawn { last_error: None });
            }
            match result {
                Ok(delivered) => {
                    self.delivered(&out.address, sent.as_ref().unwrap_or(&out.activity), &delivered);
                    return Ok(delivered);
                }
                Err(error) if error.is_retryable() => {
                    let age = out.enqueued_at.elapsed();
                    if attempts >= self.policy.max_attempts || age >= self.policy.max_age {
                        let reason = DeadLetterReason::GaveUp { attempts, last_error: error.to_string() };
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
                Err(DeliveryError::Withheld(_)) => return Err(SendError::Withdrawn { last_error: None }),
                Err(error @ DeliveryError::Stale { .. }) => {
                    self.stale(&out.address, &error).await;
                    let reason = DeadLetterReason::Stale { detail: error.to_string() };
                    self.dead_letter(&out.address, &out.activity, &reason, attempts);
                    return Err(SendError::Stale(error));
                }
                Err(error) => {
                    tracing::warn!(conversation = %out.address.conversation.id, %error, "message rejected by the channel");
                    let reason = DeadLetterReason::Rejected { detail: error.to_string() };
                    self.dead_letter(&out.address, &out.activity, &reason, attempts);
                    return Err(SendError::Rejected(error));
                }
            }
        }
    }
}

/// Sends an in-memory message's outcome to whoever waits for it.
pub(crate) fn finish(reply: Option<Reply>, result: Result<Delivered, SendError>) {
    if let Some(reply) = reply {
        let _ = reply.send(result);
    }
}
