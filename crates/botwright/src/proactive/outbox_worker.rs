//! The outbox worker: claims due outbox entries with a lease and delivers them.
//!
//! One loop per process claims at most [`ProactiveSettings::max_in_flight`] entries at a time
//! (the store hands out only the oldest pending entry of each conversation, so order holds and a
//! conversation has at most one message in flight across every instance) and runs one attempt
//! for each. The outcome is written back: delivered, due again later (`retry_later`, with
//! backoff and `Retry-After`), or dead. Local waiters (`send`, fan-outs, deadlines) are told.
//!
//! [`ProactiveSettings::max_in_flight`]: crate::proactive::ProactiveSettings::max_in_flight

use crate::activity::Activity;
use crate::address::Address;
use crate::channel::{Delivered, DeliveryError};
use crate::delivery::{OutItem, Shared};
use crate::error::SendError;
use crate::storage::{NewOutboxEntry, OutboxEntry, OutboxId, OutboxStatus, StorageError};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, oneshot};

/// The prefix of the stable id each durable message carries in `activity.id`:
/// `botwright-outbox-<outbox id>`, the same on every attempt and after a restart, so that a
/// channel (or a test) can count duplicates.
pub const STABLE_ID_PREFIX: &str = "botwright-outbox-";

/// The dead-letter reason of a message whose address went stale starts with this.
pub(crate) const STALE_REASON: &str = "stale address: ";

/// What an outbox entry holds: JSON of the address and the activity.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Payload {
    pub(crate) address: Address,
    pub(crate) activity: Activity,
    /// The local fan-out (run token, index) that waits for this entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) fan_out: Option<(u64, usize)>,
}

/// How a durable message ended, as its local waiters learn it.
#[derive(Debug, Clone)]
pub(crate) enum Finished {
    Delivered(Delivered),
    GaveUp {
        attempts: u32,
        last: DeliveryError,
    },
    Stale(DeliveryError),
    Rejected(DeliveryError),
    NoChannel(String),
    Withdrawn,
    /// Dead for a reason recorded elsewhere (another instance, a corrupt entry).
    Dead(String),
}

impl Finished {
    pub(crate) fn into_result(self) -> Result<Delivered, SendError> {
        match self {
            Finished::Delivered(d) => Ok(d),
            Finished::GaveUp { attempts, last } => Err(SendError::GaveUp { attempts, last }),
            Finished::Stale(e) => Err(SendError::Stale(e)),
            Finished::Rejected(e) => Err(SendError::Rejected(e)),
            Finished::NoChannel(c) => Err(SendError::NoChannel(c)),
            Finished::Withdrawn => Err(SendError::Withdrawn { last_error: None }),
            Finished::Dead(reason) => Err(SendError::Dead { reason }),
        }
    }

    /// The outcome the store records, read back (typed details are lost).
    pub(crate) fn from_status(status: &OutboxStatus) -> Option<Finished> {
        match status {
            OutboxStatus::Pending { .. } => None,
            OutboxStatus::Delivered { activity_id } => {
                Some(Finished::Delivered(Delivered { activity_id: activity_id.clone() }))
            }
            OutboxStatus::Dead { reason } => Some(Finished::Dead(reason.clone())),
            OutboxStatus::Withdrawn => Some(Finished::Withdrawn),
        }
    }
}

/// What a single-entry waiter hears.
#[derive(Debug, Clone)]
pub(crate) enum Notice {
    /// An attempt failed; the entry is due again later (and not claimed now).
    Attempted,
    /// The entry is finished.
    Finished(Finished),
}

/// A fan-out's stream of finished entries: (index, outcome).
pub(crate) type FanOutSender = mpsc::UnboundedSender<(usize, Finished)>;

/// How many finished outcomes are remembered for waiters that come late.
const RECENT: usize = 4096;

/// Who waits for which outbox entry, and the outcomes of the most recent ones.
#[derive(Debug, Default)]
pub(crate) struct Listeners {
    inner: Mutex<ListenersInner>,
}

#[derive(Debug, Default)]
struct ListenersInner {
    by_id: HashMap<OutboxId, Vec<oneshot::Sender<Notice>>>,
    fan_outs: HashMap<u64, FanOutSender>,
    next_fan_out: u64,
    recent: HashMap<OutboxId, Finished>,
    recent_order: VecDeque<OutboxId>,
}

impl Listeners {
    fn lock(&self) -> std::sync::MutexGuard<'_, ListenersInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the next notice about `id`.
    pub(crate) fn listen(&self, id: OutboxId) -> oneshot::Receiver<Notice> {
        let (tx, rx) = oneshot::channel();
        self.lock().by_id.entry(id).or_default().push(tx);
        rx
    }

    /// Stops waiting for `id` (the waiter gave up).
    pub(crate) fn forget(&self, id: OutboxId) {
        let mut inner = self.lock();
        if let Some(list) = inner.by_id.get_mut(&id) {
            list.retain(|tx| !tx.is_closed());
            if list.is_empty() {
                inner.by_id.remove(&id);
            }
        }
    }

    /// The outcome of `id`, if it finished here recently.
    pub(crate) fn recent(&self, id: OutboxId) -> Option<Finished> {
        self.lock().recent.get(&id).cloned()
    }

    /// Registers a fan-out; returns its token.
    pub(crate) fn add_fan_out(&self, sender: FanOutSender) -> u64 {
        let mut inner = self.lock();
        inner.next_fan_out += 1;
        let token = inner.next_fan_out;
        inner.fan_outs.insert(token, sender);
        token
    }

    pub(crate) fn remove_fan_out(&self, token: u64) {
        self.lock().fan_outs.remove(&token);
    }

    /// Tells the waiters of `id` that it was taken back.
    pub(crate) fn withdrawn(&self, id: OutboxId) {
        self.finished(id, None, &Finished::Withdrawn);
    }

    fn attempted(&self, id: OutboxId) {
        let waiters = self.lock().by_id.remove(&id).unwrap_or_default();
        for w in waiters {
            let _ = w.send(Notice::Attempted);
        }
    }

    fn finished(&self, id: OutboxId, fan_out: Option<(u64, usize)>, finished: &Finished) {
        let mut inner = self.lock();
        inner.recent.insert(id, finished.clone());
        inner.recent_order.push_back(id);
        while inner.recent_order.len() > RECENT {
            if let Some(old) = inner.recent_order.pop_front() {
                inner.recent.remove(&old);
            }
        }
        if let Some((token, index)) = fan_out
            && let Some(sender) = inner.fan_outs.get(&token)
            && sender.send((index, finished.clone())).is_err()
        {
            inner.fan_outs.remove(&token);
        }
        for w in inner.by_id.remove(&id).unwrap_or_default() {
            let _ = w.send(Notice::Finished(finished.clone()));
        }
    }
}

impl Shared {
    /// Starts the outbox worker of this process, once.
    pub(crate) fn ensure_worker(self: &Arc<Self>) {
        if self.outbox.is_none() || *self.stopping.borrow() {
            return;
        }
        if self.worker_started.compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            let weak = Arc::downgrade(self);
            let wake = self.wake.clone();
            let stopping = self.stopping.subscribe();
            tokio::spawn(run(weak, wake, stopping));
        }
    }

    /// Writes messages to the outbox (all or none) and wakes the worker.
    pub(crate) async fn enqueue(&self, entries: &[NewOutboxEntry]) -> Result<Vec<OutboxId>, StorageError> {
        let outbox = self.outbox.as_ref().ok_or_else(|| StorageError::backend("this bot has no outbox"))?;
        let ids = outbox.enqueue(entries).await?;
        self.wake.notify_one();
        Ok(ids)
    }

    /// Writes a proactive turn's messages to the outbox, in order; a pause delays the messages
    /// after it.
    pub(crate) async fn enqueue_turn(
        self: &Arc<Self>,
        conversation_key: &str,
        items: &[OutItem],
    ) -> Result<(), StorageError> {
        let mut not_before = SystemTime::now();
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            match item {
                OutItem::Pause(d) => not_before += *d,
                OutItem::Activity(out) => {
                    let payload =
                        Payload { address: out.address.clone(), activity: out.activity.clone(), fan_out: None };
                    entries.push(NewOutboxEntry {
                        conversation_key: conversation_key.to_owned(),
                        payload: encode(&payload)?,
                        not_before,
                    });
                }
            }
        }
        let ids = self.enqueue(&entries).await?;
        crate::proactive::fan_out::record_turn_ids(&ids);
        self.ensure_worker();
        Ok(())
    }

    /// Waits for the final outcome of entry `id` (its local notice, else its status in the
    /// store, read again every poll interval for entries another instance delivers).
    pub(crate) async fn wait_finished(&self, id: OutboxId) -> Result<Finished, SendError> {
        let outbox = self.require_outbox()?;
        let mut stopped = self.stopped.subscribe();
        loop {
            let rx = self.listeners.listen(id);
            if let Some(done) = self.listeners.recent(id) {
                self.listeners.forget(id);
                return Ok(done);
            }
            match outbox.status(id).await.map_err(SendError::Storage)? {
                None => {
                    self.listeners.forget(id);
                    return Err(SendError::Storage(StorageError::Corrupt {
                        key: format!("outbox/{id}"),
                        reason: "no such outbox entry".into(),
                    }));
                }
                Some(status) => {
                    if let Some(done) = Finished::from_status(&status) {
                        // Prefer the typed outcome, if it finished here.
                        let done = self.listeners.recent(id).unwrap_or(done);
                        self.listeners.forget(id);
                        return Ok(done);
                    }
                }
            }
            tokio::select! {
                notice = rx => {
                    if let Ok(Notice::Finished(done)) = notice {
                        return Ok(done);
                    }
                }
                _ = tokio::time::sleep(self.settings.poll_interval) => {
                    self.listeners.forget(id);
                }
                _ = stopped.wait_for(|s| *s) => {
                    self.listeners.forget(id);
                    return Err(SendError::ShuttingDown);
                }
            }
        }
    }

    /// Waits for the next attempt on `id` to end (or a poll interval to pass).
    pub(crate) async fn wait_attempt(&self, id: OutboxId) {
        let rx = self.listeners.listen(id);
        tokio::select! {
            _ = rx => {}
            _ = tokio::time::sleep(self.settings.poll_interval) => self.listeners.forget(id),
        }
    }

    /// Claims what is due, up to the free slots; returns how many were claimed.
    async fn claim_and_start(self: &Arc<Self>) -> Result<usize, StorageError> {
        let Some(outbox) = &self.outbox else { return Ok(0) };
        let max = self.settings.max_in_flight.max(1);
        let in_flight = self.in_flight.load(Ordering::SeqCst);
        let free = max.saturating_sub(in_flight);
        // Claim in batches (a claim scans the queue): once a quarter of the slots are free, or
        // when nothing is in flight.
        if free == 0 || (in_flight > 0 && free < max.div_ceil(4)) {
            return Ok(0);
        }
        let entries = outbox.claim(&self.settings.instance_id, free, self.settings.lease).await?;
        let n = entries.len();
        for entry in entries {
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let shared = self.clone();
            tokio::spawn(async move {
                shared.attempt(entry).await;
                shared.in_flight.fetch_sub(1, Ordering::SeqCst);
                shared.wake.notify_one();
            });
        }
        Ok(n)
    }

    /// One attempt at one claimed entry.
    async fn attempt(&self, entry: OutboxEntry) {
        let Some(outbox) = self.outbox.clone() else { return };
        let id = entry.id;
        let payload: Payload = match serde_json::from_str(&entry.payload) {
            Ok(p) => p,
            Err(e) => {
                let reason = format!("corrupt outbox payload: {e}");
                tracing::error!(outbox_id = id, %reason, "dead letter");
                self.listeners.finished(id, None, &Finished::Dead(reason.clone()));
                if let Err(e) = outbox.mark_dead(id, &reason).await {
                    tracing::error!(error = %e, outbox_id = id, "the outbox could not record a dead letter");
                }
                return;
            }
        };
        let Payload { address, mut activity, fan_out } = payload;
        activity.id = Some(format!("{STABLE_ID_PREFIX}{id}"));
        if !self.run_send_middleware(&mut activity).await {
            self.finish(id, fan_out, Finished::Withdrawn, "stopped by send middleware", &address, &activity, 0).await;
            return;
        }
        let Some(channel) = self.channels.get(&address.channel_id).cloned() else {
            let error = SendError::NoChannel(address.channel_id.clone());
            let reason = error.to_string();
            let done = Finished::NoChannel(address.channel_id.clone());
            self.finish(id, fan_out, done, &reason, &address, &activity, entry.attempts).await;
            return;
        };
        self.limiters.acquire(&entry.conversation_key, &address.service_url).await;
        let attempts = entry.attempts + 1;
        match channel.deliver(&address, &activity).await {
            Ok(delivered) => {
                self.listeners.finished(id, fan_out, &Finished::Delivered(delivered.clone()));
                if let Err(e) = outbox.mark_delivered(id, delivered.activity_id.as_deref()).await {
                    // The lease will expire and the message go again: a duplicate, never a loss.
                    tracing::warn!(error = %e, outbox_id = id, "delivered, but the outbox could not record it");
                }
                self.delivered(&address, &activity, &delivered);
            }
            Err(error) if error.is_retryable() => {
                let age = SystemTime::now().duration_since(entry.created_at).unwrap_or_default();
                if attempts >= self.policy.max_attempts || age >= self.policy.max_age {
                    let reason = format!("gave up after {attempts} attempt(s): {error}");
                    tracing::warn!(conversation = %address.conversation.id, %reason, "dead letter");
                    let done = Finished::GaveUp { attempts, last: error };
                    self.finish(id, fan_out, done, &reason, &address, &activity, attempts).await;
                    return;
                }
                let wait = self.policy.backoff(attempts, error.retry_after());
                tracing::debug!(conversation = %address.conversation.id, %error, ?wait, outbox_id = id, "retrying delivery");
                if let Err(e) = outbox.retry_later(id, SystemTime::now() + wait, &error.to_string()).await {
                    tracing::warn!(error = %e, outbox_id = id, "the outbox could not record a retry; the lease will expire");
                }
                self.due_in(wait);
                self.listeners.attempted(id);
            }
            Err(error @ DeliveryError::Stale { .. }) => {
                self.stale(&address, &error).await;
                let reason = format!("{STALE_REASON}{error}");
                self.finish(id, fan_out, Finished::Stale(error), &reason, &address, &activity, attempts).await;
            }
            Err(error) => {
                tracing::warn!(conversation = %address.conversation.id, %error, "message rejected by the channel");
                let reason = error.to_string();
                self.finish(id, fan_out, Finished::Rejected(error), &reason, &address, &activity, attempts).await;
            }
        }
    }

    /// Ends an entry as a dead letter (or withdrawn): the record, the event, the waiters.
    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        id: OutboxId,
        fan_out: Option<(u64, usize)>,
        done: Finished,
        reason: &str,
        address: &Address,
        activity: &Activity,
        attempts: u32,
    ) {
        let Some(outbox) = &self.outbox else { return };
        self.listeners.finished(id, fan_out, &done);
        if let Err(e) = outbox.mark_dead(id, reason).await {
            tracing::error!(error = %e, outbox_id = id, "the outbox could not record a dead letter");
        }
        if !matches!(done, Finished::Withdrawn) {
            self.dead_letter(address, activity, reason, attempts);
        }
    }

    /// Remembers that an entry is due again in `wait`, so the worker looks then.
    fn due_in(&self, wait: Duration) {
        let at = tokio::time::Instant::now() + wait;
        let mut next = self.next_due.lock().unwrap_or_else(|p| p.into_inner());
        if next.is_none_or(|n| at < n) {
            *next = Some(at);
        }
        drop(next);
        self.wake.notify_one();
    }

    /// How long the worker may sleep before it looks again.
    fn sleep_for(&self) -> Duration {
        let poll = self.settings.poll_interval;
        let mut next = self.next_due.lock().unwrap_or_else(|p| p.into_inner());
        match *next {
            Some(at) => {
                let now = tokio::time::Instant::now();
                if at <= now {
                    *next = None;
                    Duration::ZERO
                } else {
                    (at - now).min(poll)
                }
            }
            None => poll,
        }
    }
}

/// The worker loop: claim, start attempts, sleep until woken or due.
async fn run(weak: Weak<Shared>, wake: Arc<tokio::sync::Notify>, mut stopping: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stopping.borrow() {
            return;
        }
        let Some(shared) = weak.upgrade() else { return };
        let sleep = match shared.claim_and_start().await {
            // More may be waiting: look again at once if slots are left.
            Ok(n) if n > 0 => Duration::ZERO,
            Ok(_) => shared.sleep_for(),
            Err(e) => {
                tracing::warn!(error = %e, "claiming outbox entries failed; trying again");
                shared.settings.poll_interval
            }
        };
        drop(shared);
        if sleep.is_zero() {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
            _ = stopping.wait_for(|s| *s) => return,
        }
    }
}

/// A payload as JSON.
pub(crate) fn encode(payload: &Payload) -> Result<String, StorageError> {
    serde_json::to_string(payload).map_err(StorageError::backend)
}
