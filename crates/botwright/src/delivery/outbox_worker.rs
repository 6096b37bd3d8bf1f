//! The outbox worker: claims due outbox entries with a lease and delivers them.
//!
//! One loop per process claims at most [`ProactiveSettings::max_in_flight`] entries at a time
//! (the store hands out only the oldest pending entry of each conversation, so order holds and a
//! conversation has at most one message in flight across every instance) and runs one attempt
//! for each. The outcome is written back: delivered, due again later (with backoff and
//! `Retry-After`), or dead. Outcomes that end while another write of outcomes is under way are
//! written together by that writer's task ([`Outbox::settle`] takes many), so the store sees one
//! write per batch, not one per message; an entry counts as in flight until its outcome is
//! written. Local waiters (`send`, fan-outs, deadlines) are told.
//!
//! Waiters hear an outcome only once the store recorded it. When the store refuses to record
//! outcomes (it went away), they are kept and written again with backoff (50 ms doubling to
//! 5 s) until it takes them; meanwhile the entries stay in flight and this instance claims
//! nothing, so it never delivers them twice. Only an outage longer than the lease, during which
//! another instance claims an entry over, may still make a message go twice.
//!
//! A panic in an attempt (a channel, send middleware) is caught: the entry is settled as a
//! failed attempt (due again after the backoff; dead after the last attempt, the reason saying
//! it panicked) and its slot is freed. A `Retry-After` beyond
//! [`RetryPolicy::max_retry_after`](crate::RetryPolicy::max_retry_after) is not honoured.
//!
//! [`Outbox::settle`]: crate::storage::Outbox::settle
//!
//! [`ProactiveSettings::max_in_flight`]: crate::proactive::ProactiveSettings::max_in_flight

use super::listeners::{Finished, Listeners, Notice};
use super::payload::{Payload, encode};
use super::{DeadLetterReason, Engine, OutItem, Worker};
use crate::activity::Activity;
use crate::address::Address;
use crate::channel::DeliveryError;
use crate::error::SendError;
use crate::middleware;
use crate::storage::{NewOutboxEntry, OutboxEntry, OutboxId, Settlement, StorageError};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime};

/// The prefix of the stable id each durable message carries in `activity.id`:
/// `botwright-outbox-<outbox id>`, the same on every attempt and after a restart, so that a
/// channel (or a test) can count duplicates.
pub const STABLE_ID_PREFIX: &str = "botwright-outbox-";

/// How long the task that writes outcomes waits for more to join its write.
const SETTLE_GATHER: Duration = Duration::from_millis(1);

/// The first wait before writing outcomes again after the store refused them.
const SETTLE_RETRY_FIRST: Duration = Duration::from_millis(50);

/// The longest wait between writes of outcomes the store refused.
const SETTLE_RETRY_MAX: Duration = Duration::from_secs(5);

/// The outbox worker's state.
#[derive(Debug, Default)]
pub(super) struct OutboxState {
    /// Who waits for which entry.
    pub(super) listeners: Listeners,
    /// The worker's switch and bell (new entries, a free slot).
    pub(super) worker: Worker,
    /// Durable attempts in progress in this process.
    in_flight: AtomicUsize,
    /// When this process next expects an entry to be due (a retry it scheduled).
    next_due: Mutex<Option<tokio::time::Instant>>,
    /// `true` while the outbox refuses to record outcomes: the worker claims nothing then.
    settle_backlog: AtomicBool,
    /// Outcomes of attempts waiting to be recorded in the outbox, together.
    settlements: Mutex<Settlements>,
}

impl OutboxState {
    /// Durable attempts in progress in this process (until their outcome is written).
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// Outcomes of attempts not yet written to the outbox.
#[derive(Debug, Default)]
struct Settlements {
    /// Each outcome, with what to tell its waiters once it is written.
    queue: Vec<(OutboxId, Settlement, Option<Ending>)>,
    /// Whether a task is writing outcomes now (it writes what is queued meanwhile, too).
    writing: bool,
}

/// How an entry ended, for its waiters: told once the outcome is written, so that what they
/// hear is what the store says.
#[derive(Debug)]
struct Ending {
    finished: Finished,
    fan_out: Option<(u64, usize)>,
    /// The address, for a fan-out.
    address: Option<Address>,
}

impl Ending {
    fn new(finished: Finished, fan_out: Option<(u64, usize)>, address: Option<Address>) -> Ending {
        Ending { finished, fan_out, address: fan_out.and(address) }
    }
}

impl Engine {
    /// Starts the outbox worker of this process, once.
    pub(super) fn ensure_worker(self: &Arc<Self>) {
        if self.outbox.is_none() || self.lifecycle.is_stopping() {
            return;
        }
        if self.durable.worker.start_once() {
            let weak = Arc::downgrade(self);
            let wake = self.durable.worker.bell();
            let stopping = self.lifecycle.stopping();
            tokio::spawn(run(weak, wake, stopping));
        }
    }

    /// Writes messages to the outbox (all or none) and wakes the worker.
    pub(super) async fn enqueue(&self, entries: &[NewOutboxEntry]) -> Result<Vec<OutboxId>, StorageError> {
        let outbox = self.outbox.as_ref().ok_or_else(|| StorageError::backend("this bot has no outbox"))?;
        let ids = outbox.enqueue(entries).await?;
        self.durable.worker.wake();
        Ok(ids)
    }

    /// Writes a proactive turn's messages to the outbox, in order (a pause delays the messages
    /// after it); returns their ids.
    pub(super) async fn enqueue_turn(
        self: &Arc<Self>,
        conversation_key: &str,
        items: &[OutItem],
    ) -> Result<Vec<OutboxId>, StorageError> {
        let mut not_before = SystemTime::now();
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            match item {
                OutItem::Pause(d) => not_before = crate::later::system_after(not_before, *d),
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
        self.ensure_worker();
        Ok(ids)
    }

    /// Waits for the final outcome of entry `id` (its local notice, else its status in the
    /// store, read again every poll interval for entries another instance delivers).
    pub(super) async fn wait_finished(&self, id: OutboxId) -> Result<Finished, SendError> {
        let outbox = self.require_outbox()?;
        let mut stopped = self.lifecycle.stopped();
        loop {
            let rx = self.durable.listeners.listen(id);
            if let Some(done) = self.durable.listeners.recent(id) {
                self.durable.listeners.forget(id);
                return Ok(done);
            }
            match outbox.status(id).await.map_err(SendError::Storage)? {
                None => {
                    self.durable.listeners.forget(id);
                    return Err(SendError::Storage(StorageError::Corrupt {
                        key: format!("outbox/{id}"),
                        reason: "no such outbox entry".into(),
                    }));
                }
                Some(status) => {
                    if let Some(done) = Finished::from_status(&status) {
                        // Prefer the typed outcome, if it finished here.
                        let done = self.durable.listeners.recent(id).unwrap_or(done);
                        self.durable.listeners.forget(id);
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
                    self.durable.listeners.forget(id);
                }
                _ = stopped.wait_for(|s| *s) => {
                    self.durable.listeners.forget(id);
                    return Err(SendError::ShuttingDown);
                }
            }
        }
    }

    /// Waits for the next attempt on `id` to end (or a poll interval to pass).
    pub(super) async fn wait_attempt(&self, id: OutboxId) {
        let rx = self.durable.listeners.listen(id);
        tokio::select! {
            _ = rx => {}
            _ = tokio::time::sleep(self.settings.poll_interval) => self.durable.listeners.forget(id),
        }
    }

    /// Claims what is due, up to the free slots; returns how many were claimed.
    async fn claim_and_start(self: &Arc<Self>) -> Result<usize, StorageError> {
        let Some(outbox) = &self.outbox else { return Ok(0) };
        if self.durable.settle_backlog.load(Ordering::SeqCst) {
            // Outcomes wait to be written: claiming now could hand this instance an entry it
            // delivered already (its lease may have run out meanwhile).
            return Ok(0);
        }
        let max = self.settings.max_in_flight.max(1);
        let in_flight = self.durable.in_flight.load(Ordering::SeqCst);
        let free = max.saturating_sub(in_flight);
        // Claim in batches (a claim scans the head of the queue, claimed entries included):
        // once half the slots are free, or when nothing is in flight.
        if free == 0 || (in_flight > 0 && free < max.div_ceil(2)) {
            return Ok(0);
        }
        let entries = outbox.claim(&self.settings.instance_id, free, self.settings.lease).await?;
        let n = entries.len();
        for entry in entries {
            self.durable.in_flight.fetch_add(1, Ordering::SeqCst);
            let shared = self.clone();
            tokio::spawn(async move {
                let id = entry.id;
                // A panic in the attempt (a channel, send middleware) must not kill the task
                // before the entry is settled: its slot would never be freed and the entry
                // would panic again after every lease.
                let (settlement, ending) = match AssertUnwindSafe(shared.attempt(&entry)).catch_unwind().await {
                    Ok(outcome) => outcome,
                    Err(panic) => shared.panicked(&entry, &panic_message(panic.as_ref())),
                };
                shared.settle(id, settlement, ending).await;
            });
        }
        Ok(n)
    }

    /// Records the outcome of an attempt: queues it, and writes every queued outcome unless
    /// another task is writing them already (that one writes this one, too). The entry stops
    /// counting as in flight once its outcome is written.
    async fn settle(&self, id: OutboxId, settlement: Settlement, ending: Option<Ending>) {
        let Some(outbox) = &self.outbox else { return };
        {
            let mut settlements = self.durable.settlements.lock().unwrap_or_else(|p| p.into_inner());
            settlements.queue.push((id, settlement, ending));
            if settlements.writing {
                return;
            }
            settlements.writing = true;
        }
        loop {
            // Let the outcomes of attempts ending about now join this write: under load a
            // batch then carries many (one store write for all), at the cost of a millisecond.
            tokio::time::sleep(SETTLE_GATHER).await;
            let (batch, news): (Vec<_>, Vec<_>) = {
                let mut settlements = self.durable.settlements.lock().unwrap_or_else(|p| p.into_inner());
                if settlements.queue.is_empty() {
                    settlements.writing = false;
                    return;
                }
                std::mem::take(&mut settlements.queue).into_iter().map(|(id, s, e)| ((id, s), e)).unzip()
            };
            self.write_settlements(outbox.as_ref(), &batch).await;
            for ((id, settlement), ending) in batch.iter().zip(news) {
                if let Some(Ending { finished, fan_out, address }) = ending {
                    self.durable.listeners.finished(*id, fan_out, &finished, address);
                } else if matches!(settlement, Settlement::RetryLater { .. }) {
                    // Released: a deadline may take it back now.
                    self.durable.listeners.attempted(*id);
                }
            }
            self.durable.in_flight.fetch_sub(batch.len(), Ordering::SeqCst);
            self.durable.worker.wake();
        }
    }

    /// Writes a batch of outcomes, again and again until the store takes it (waiting
    /// [`SETTLE_RETRY_FIRST`], doubling up to [`SETTLE_RETRY_MAX`]). Meanwhile the entries stay
    /// in flight, their waiters hear nothing, and the worker claims nothing
    /// (`settle_backlog`), so this instance never delivers them again: a store outage
    /// costs no duplicate. Only an outage longer than the lease, during which another instance
    /// claims an entry over, may still make it go twice (this instance's outcome is then not
    /// recorded).
    async fn write_settlements(&self, outbox: &dyn crate::storage::Outbox, batch: &[(OutboxId, Settlement)]) {
        let mut wait = SETTLE_RETRY_FIRST;
        loop {
            match outbox.settle(&self.settings.instance_id, batch).await {
                Ok(n) => {
                    if n < batch.len() as u64 {
                        tracing::warn!(
                            settled = n,
                            of = batch.len(),
                            "some outbox entries were no longer claimed by this instance; their outcomes were not recorded"
                        );
                    }
                    if self.durable.settle_backlog.swap(false, Ordering::SeqCst) {
                        tracing::info!(entries = batch.len(), "the outbox recorded the outcomes it had refused");
                    }
                    return;
                }
                Err(e) => {
                    self.durable.settle_backlog.store(true, Ordering::SeqCst);
                    tracing::warn!(error = %e, entries = batch.len(), retry_in = ?wait,
                        "the outbox could not record outcomes; keeping them and trying again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(SETTLE_RETRY_MAX);
                }
            }
        }
    }

    /// One attempt at one claimed entry; returns the outcome to record and, if it ended, what
    /// to tell its waiters.
    async fn attempt(&self, entry: &OutboxEntry) -> (Settlement, Option<Ending>) {
        let id = entry.id;
        let payload: Payload = match serde_json::from_str(&entry.payload) {
            Ok(p) => p,
            Err(e) => {
                let reason = DeadLetterReason::CorruptPayload { detail: e.to_string() };
                tracing::error!(outbox_id = id, %reason, "dead letter");
                let dead = Settlement::Dead { reason: reason.to_string() };
                return (dead, Some(Ending::new(Finished::Dead(reason), None, None)));
            }
        };
        let Payload { address, mut activity, fan_out } = payload;
        activity.id = Some(format!("{STABLE_ID_PREFIX}{id}"));
        let Some(channel) = self.channels.get(&address.channel_id).cloned() else {
            let reason = DeadLetterReason::NoChannel { channel_id: address.channel_id.clone() };
            let done = Finished::NoChannel(address.channel_id.clone());
            return self.finish(fan_out, done, &reason, &address, &activity, entry.attempts);
        };
        self.limiters.acquire(&entry.conversation_key, &address.service_url).await;
        let attempts = entry.attempts + 1;
        let (result, sent) = middleware::attempt(&self.middleware, channel.as_ref(), &address, &activity).await;
        match result {
            Ok(delivered) => {
                self.delivered(&address, sent.as_ref().unwrap_or(&activity), &delivered);
                let ending = Some(Ending::new(Finished::Delivered(delivered.clone()), fan_out, Some(address)));
                (Settlement::Delivered { activity_id: delivered.activity_id }, ending)
            }
            Err(error) if error.is_retryable() => {
                let age = SystemTime::now().duration_since(entry.created_at).unwrap_or_default();
                if attempts >= self.policy.max_attempts || age >= self.policy.max_age {
                    let reason = DeadLetterReason::GaveUp { attempts, last_error: error.to_string() };
                    tracing::warn!(conversation = %address.conversation.id, %reason, "dead letter");
                    let done = Finished::GaveUp { attempts, last: error };
                    return self.finish(fan_out, done, &reason, &address, &activity, attempts);
                }
                let wait = self.policy.backoff(attempts, error.retry_after());
                tracing::debug!(conversation = %address.conversation.id, %error, ?wait, outbox_id = id, "retrying delivery");
                self.due_in(wait);
                (
                    Settlement::RetryLater {
                        not_before: crate::later::system_after(SystemTime::now(), wait),
                        error: error.to_string(),
                    },
                    None,
                )
            }
            Err(DeliveryError::Withheld(_)) => {
                let reason = DeadLetterReason::Withheld;
                self.finish(fan_out, Finished::Withdrawn, &reason, &address, &activity, 0)
            }
            Err(error @ DeliveryError::Stale { .. }) => {
                self.stale(&address, &error).await;
                let reason = DeadLetterReason::Stale { detail: error.to_string() };
                self.finish(fan_out, Finished::Stale(error), &reason, &address, &activity, attempts)
            }
            Err(error) => {
                tracing::warn!(conversation = %address.conversation.id, %error, "message rejected by the channel");
                let reason = DeadLetterReason::Rejected { detail: error.to_string() };
                self.finish(fan_out, Finished::Rejected(error), &reason, &address, &activity, attempts)
            }
        }
    }

    /// The outcome of an attempt that panicked: a failed attempt, due again after the backoff,
    /// or dead after the last attempt.
    fn panicked(&self, entry: &OutboxEntry, message: &str) -> (Settlement, Option<Ending>) {
        let attempts = entry.attempts.saturating_add(1);
        let error = format!("the delivery attempt panicked: {message}");
        tracing::error!(outbox_id = entry.id, %error, attempts, "delivery attempt panicked");
        let age = SystemTime::now().duration_since(entry.created_at).unwrap_or_default();
        if attempts < self.policy.max_attempts && age < self.policy.max_age {
            let wait = self.policy.backoff(attempts, None);
            self.due_in(wait);
            let not_before = crate::later::system_after(SystemTime::now(), wait);
            return (Settlement::RetryLater { not_before, error }, None);
        }
        let reason = DeadLetterReason::GaveUp { attempts, last_error: error };
        match serde_json::from_str::<Payload>(&entry.payload) {
            Ok(Payload { address, activity, fan_out }) => {
                self.finish(fan_out, Finished::Dead(reason.clone()), &reason, &address, &activity, attempts)
            }
            Err(_) => {
                let dead = Settlement::Dead { reason: reason.to_string() };
                (dead, Some(Ending::new(Finished::Dead(reason), None, None)))
            }
        }
    }

    /// Ends an entry as a dead letter (or withdrawn): the event; returns the outcome to record
    /// and what to tell the waiters.
    fn finish(
        &self,
        fan_out: Option<(u64, usize)>,
        done: Finished,
        reason: &DeadLetterReason,
        address: &Address,
        activity: &Activity,
        attempts: u32,
    ) -> (Settlement, Option<Ending>) {
        if !matches!(done, Finished::Withdrawn) {
            self.dead_letter(address, activity, reason, attempts);
        }
        let dead = Settlement::Dead { reason: reason.to_string() };
        (dead, Some(Ending::new(done, fan_out, fan_out.map(|_| address.clone()))))
    }

    /// Remembers that an entry is due again in `wait`, so the worker looks then.
    fn due_in(&self, wait: Duration) {
        let at = crate::later::tokio_after(tokio::time::Instant::now(), wait);
        let mut next = self.durable.next_due.lock().unwrap_or_else(|p| p.into_inner());
        if next.is_none_or(|n| at < n) {
            *next = Some(at);
        }
        drop(next);
        self.durable.worker.wake();
    }

    /// How long the worker may sleep before it looks again.
    fn sleep_for(&self) -> Duration {
        let poll = self.settings.poll_interval;
        let mut next = self.durable.next_due.lock().unwrap_or_else(|p| p.into_inner());
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

/// Deletes finished outbox entries older than the retention, in the background.
fn purge(shared: &Arc<Engine>) {
    let (Some(outbox), Some(retention)) = (shared.outbox.clone(), shared.settings.outbox_retention) else { return };
    let Some(before) = SystemTime::now().checked_sub(retention) else { return };
    tokio::spawn(async move {
        match outbox.purge(before).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(purged = n, "deleted finished outbox entries past their retention"),
            Err(e) => tracing::warn!(error = %e, "could not delete old outbox entries"),
        }
    });
}

/// The worker loop: claim, start attempts, sleep until woken or due; purge now and then.
async fn run(weak: Weak<Engine>, wake: Arc<tokio::sync::Notify>, mut stopping: tokio::sync::watch::Receiver<bool>) {
    let mut purged_at: Option<tokio::time::Instant> = None;
    loop {
        if *stopping.borrow() {
            return;
        }
        let Some(shared) = weak.upgrade() else { return };
        if purged_at.is_none_or(|at| at.elapsed() >= shared.settings.purge_interval) {
            purged_at = Some(tokio::time::Instant::now());
            purge(&shared);
        }
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

/// The text of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => (*s).to_owned(),
        (_, Some(s)) => s.clone(),
        _ => "(no message)".to_owned(),
    }
}
