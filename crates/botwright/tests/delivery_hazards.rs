//! Hostile channels and a failing store: a panicking channel, a `Retry-After` too large to add
//! to a clock, and a store that cannot record outcomes for a while. No delivery task may die,
//! no slot may leak, no message may be lost or sent twice.

mod common;

use async_trait::async_trait;
use botwright::activity::Activity;
use botwright::channel::{Channel, Delivered, DeliveryError};
use botwright::error::SendError;
use botwright::storage::{
    ConversationLock, DeadLetter, Document, Job, JobStore, MemoryStore, NewOutboxEntry, Outbox, OutboxEntry, OutboxId,
    OutboxStatus, Precondition, Settlement, Storage, StorageError, Write,
};
use botwright::testing::TestFlow;
use botwright::{Address, Bot, Message};
use common::{address, ms, quick};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How long a test waits for an outcome before it calls the engine stuck.
const STUCK: Duration = Duration::from_secs(30);

/// What a [`Hostile`] channel does with a message, by its text.
#[derive(Debug, Clone, Copy)]
enum Act {
    /// Panics on every attempt.
    Panic,
    /// Answers 429 with this `Retry-After` on the first attempt, then accepts.
    RetryAfterOnce(Duration),
}

/// A channel that misbehaves for some texts and accepts the rest; counts attempts and
/// deliveries by text.
#[derive(Debug, Default)]
struct Hostile {
    acts: HashMap<String, Act>,
    attempts: Mutex<HashMap<String, usize>>,
    delivered: Mutex<HashMap<String, usize>>,
}

impl Hostile {
    fn new(acts: &[(&str, Act)]) -> Arc<Self> {
        Arc::new(Hostile { acts: acts.iter().map(|(t, a)| (t.to_string(), *a)).collect(), ..Default::default() })
    }

    fn delivered(&self, text: &str) -> usize {
        self.delivered.lock().unwrap().get(text).copied().unwrap_or(0)
    }

    fn attempts(&self, text: &str) -> usize {
        self.attempts.lock().unwrap().get(text).copied().unwrap_or(0)
    }
}

#[async_trait]
impl Channel for Hostile {
    async fn deliver(&self, _to: &Address, activity: &Activity) -> Result<Delivered, DeliveryError> {
        let text = activity.text().to_owned();
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry(text.clone()).or_default();
            *n += 1;
            *n
        };
        match self.acts.get(&text) {
            Some(Act::Panic) => panic!("hostile channel panics on {text:?}"),
            Some(Act::RetryAfterOnce(after)) if attempt == 1 => {
                Err(DeliveryError::RateLimited { retry_after: Some(*after) })
            }
            _ => {
                *self.delivered.lock().unwrap().entry(text.clone()).or_default() += 1;
                Ok(Delivered { activity_id: Some(format!("{text}#{attempt}")) })
            }
        }
    }
}

fn outbox_bot(channel: Arc<Hostile>) -> Bot {
    quick(Bot::builder()).default_channel(channel).configure_proactive(|p| p.max_in_flight(1)).build()
}

async fn send(bot: &Bot, i: usize, text: &str) -> Result<botwright::bot::Receipt, SendError> {
    tokio::time::timeout(STUCK, bot.send(Message::new().address(address(i)).text(text)))
        .await
        .unwrap_or_else(|_| panic!("no outcome for {text:?}: the delivery engine is stuck"))
}

/// A channel that panics does not kill the outbox worker's task: the entry is settled as a
/// failed attempt each time, dead after the last one (the reason says it panicked), and its
/// slot is given back, so later messages (here with a single slot) are still delivered.
#[tokio::test]
async fn a_panicking_channel_settles_its_outbox_entry_and_frees_the_slot() {
    let channel = Hostile::new(&[("boom", Act::Panic)]);
    let bot = outbox_bot(channel.clone());
    let error = send(&bot, 1, "boom").await.unwrap_err();
    match &error {
        SendError::Dead { reason } => assert!(reason.to_string().contains("panicked"), "{reason}"),
        other => panic!("expected a dead letter, got {other:?}"),
    }
    assert_eq!(channel.attempts("boom"), 5, "every attempt of the policy was made");
    let dead = bot.outbox().unwrap().dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 1);
    for i in 2..5 {
        send(&bot, i, "fine").await.unwrap();
    }
    assert_eq!(channel.delivered("fine"), 3);
}

/// A `Retry-After` of `u64::MAX` seconds cannot be added to a clock: it is not honoured, the
/// attempt counts as failed and the message goes again after the normal backoff.
#[tokio::test]
async fn a_retry_after_too_large_for_the_clock_is_not_honoured() {
    let huge = Duration::from_secs(u64::MAX);
    let channel = Hostile::new(&[("huge", Act::RetryAfterOnce(huge))]);
    let bot = outbox_bot(channel.clone());
    send(&bot, 1, "huge").await.unwrap();
    assert_eq!(channel.attempts("huge"), 2);
    send(&bot, 2, "after").await.unwrap();
    // In memory (a bot without an outbox) too.
    let channel = Hostile::new(&[("huge", Act::RetryAfterOnce(huge))]);
    let bot = quick(Bot::builder()).storage(Arc::new(MemoryStore::new())).default_channel(channel.clone()).build();
    send(&bot, 1, "huge").await.unwrap();
    assert_eq!(channel.attempts("huge"), 2);
}

/// A `Retry-After` longer than `RetryPolicy::max_retry_after` (an hour by default) is not
/// waited for.
#[tokio::test]
async fn a_retry_after_beyond_the_limit_is_not_waited_for() {
    let channel = Hostile::new(&[("later", Act::RetryAfterOnce(Duration::from_secs(2 * 60 * 60)))]);
    let bot = outbox_bot(channel.clone());
    send(&bot, 1, "later").await.unwrap();
    assert_eq!(channel.attempts("later"), 2);
}

/// In memory, a panicking channel fails that message (its waiter hears why) and the
/// conversation's queue goes on: the next message to the same conversation is delivered.
#[tokio::test]
async fn a_panicking_channel_fails_an_in_memory_message_and_the_queue_drains() {
    let channel = Hostile::new(&[("boom", Act::Panic)]);
    let bot = quick(Bot::builder()).storage(Arc::new(MemoryStore::new())).default_channel(channel.clone()).build();
    let error = send(&bot, 1, "boom").await.unwrap_err();
    assert!(matches!(error, SendError::Panicked { .. }), "{error:?}");
    send(&bot, 1, "fine").await.unwrap();
    assert_eq!(channel.delivered("fine"), 1);
}

/// A [`MemoryStore`] whose outbox refuses to record outcomes a given number of times.
#[derive(Debug, Default)]
struct FlakySettle {
    inner: MemoryStore,
    refuse: AtomicUsize,
    refused: AtomicUsize,
}

#[async_trait]
impl Storage for FlakySettle {
    async fn read(&self, key: &str) -> Result<Option<Document>, StorageError> {
        self.inner.read(key).await
    }
    async fn write(&self, key: &str, json: &str, precondition: Precondition) -> Result<String, StorageError> {
        self.inner.write(key, json, precondition).await
    }
    async fn write_many(&self, writes: &[Write]) -> Result<Vec<Option<String>>, StorageError> {
        self.inner.write_many(writes).await
    }
    async fn delete(&self, key: &str, precondition: Precondition) -> Result<bool, StorageError> {
        self.inner.delete(key, precondition).await
    }
    async fn scan(&self, prefix: &str) -> Result<Vec<(String, Document)>, StorageError> {
        self.inner.scan(prefix).await
    }
    async fn lock_conversation(&self, key: &str) -> Result<Option<Box<dyn ConversationLock>>, StorageError> {
        self.inner.lock_conversation(key).await
    }
}

#[async_trait]
impl Outbox for FlakySettle {
    async fn enqueue(&self, entries: &[NewOutboxEntry]) -> Result<Vec<OutboxId>, StorageError> {
        self.inner.enqueue(entries).await
    }
    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxEntry>, StorageError> {
        self.inner.claim(owner, limit, lease).await
    }
    async fn settle(&self, owner: &str, settlements: &[(OutboxId, Settlement)]) -> Result<u64, StorageError> {
        if self.refuse.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() {
            self.refused.fetch_add(1, Ordering::SeqCst);
            return Err(StorageError::backend("the store went away"));
        }
        self.inner.settle(owner, settlements).await
    }
    async fn withdraw(&self, id: OutboxId) -> Result<bool, StorageError> {
        self.inner.withdraw(id).await
    }
    async fn status(&self, id: OutboxId) -> Result<Option<OutboxStatus>, StorageError> {
        self.inner.status(id).await
    }
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StorageError> {
        self.inner.dead_letters(limit).await
    }
    async fn pending_count(&self) -> Result<u64, StorageError> {
        self.inner.pending_count().await
    }
    async fn purge(&self, enqueued_before: SystemTime) -> Result<u64, StorageError> {
        self.inner.purge(enqueued_before).await
    }
    async fn release_claims(&self, owner: &str) -> Result<u64, StorageError> {
        self.inner.release_claims(owner).await
    }
}

#[async_trait]
impl JobStore for FlakySettle {
    async fn put_job(&self, job: &Job) -> Result<(), StorageError> {
        self.inner.put_job(job).await
    }
    async fn claim_due_jobs(
        &self,
        owner: &str,
        now: SystemTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Job>, StorageError> {
        self.inner.claim_due_jobs(owner, now, limit, lease).await
    }
    async fn finish_job(&self, id: &str, owner: &str, next_due: Option<SystemTime>) -> Result<bool, StorageError> {
        self.inner.finish_job(id, owner, next_due).await
    }
    async fn cancel_job(&self, id: &str) -> Result<bool, StorageError> {
        self.inner.cancel_job(id).await
    }
    async fn jobs(&self) -> Result<Vec<Job>, StorageError> {
        self.inner.jobs().await
    }
    async fn release_job_claims(&self, owner: &str) -> Result<u64, StorageError> {
        self.inner.release_job_claims(owner).await
    }
}

/// While the store refuses to record outcomes (for longer than the lease), the outcomes are
/// kept and written once it answers again: the waiters hear them only then, the store says
/// "delivered" by the time they do, and nothing is delivered twice.
#[tokio::test]
async fn outcomes_the_store_refused_are_written_later_and_nothing_goes_twice() {
    let store = Arc::new(FlakySettle { refuse: AtomicUsize::new(6), ..Default::default() });
    let channel = Hostile::new(&[]);
    let bot = quick(Bot::builder())
        .store(store.clone())
        .default_channel(channel.clone())
        .configure_proactive(|p| p.lease(ms(100)))
        .build();
    let sends = (1..=4).map(|i| {
        let bot = bot.clone();
        async move { (i, send(&bot, i, &format!("m{i}")).await) }
    });
    for (i, result) in futures::future::join_all(sends).await {
        let receipt = result.unwrap_or_else(|e| panic!("m{i}: {e}"));
        let id = receipt.outbox_id.expect("sent through the outbox");
        let status = bot.outbox_status(id).await.unwrap();
        assert!(matches!(status, Some(OutboxStatus::Delivered { .. })), "m{i}: {status:?}");
    }
    assert_eq!(store.refused.load(Ordering::SeqCst), 6, "the store refused outcomes");
    // Leases ran out meanwhile: give a worker that would claim again the time to do it.
    tokio::time::sleep(ms(300)).await;
    bot.flush().await;
    for i in 1..=4 {
        assert_eq!(channel.delivered(&format!("m{i}")), 1, "m{i} was delivered once");
    }
}

/// Sends one message to each of three conversations while `settle` fails `failures` times,
/// with the given lease; checks that each was sent once, its sender heard "delivered", and the
/// store says so.
async fn outage(failures: usize, lease: Duration) {
    let store = Arc::new(FlakySettle { refuse: AtomicUsize::new(failures), ..Default::default() });
    let flow = TestFlow::new(quick(Bot::builder()).store(store.clone()).configure_proactive(|p| p.lease(lease)));
    let bot = flow.bot().clone();
    let sends = (1..=3).map(|conv| {
        let bot = bot.clone();
        async move { bot.send(Message::new().address(address(conv)).text(format!("to {conv}"))).await }
    });
    let receipts = tokio::time::timeout(Duration::from_secs(30), futures::future::join_all(sends))
        .await
        .expect("the sends finished once the store answered again");
    for receipt in receipts {
        let id = receipt.expect("delivered").outbox_id.expect("through the outbox");
        assert!(matches!(bot.outbox_status(id).await.unwrap(), Some(OutboxStatus::Delivered { .. })));
    }
    // Wait past a short lease: nothing goes again.
    tokio::time::sleep(lease.min(ms(1000)) + ms(300)).await;
    let attempts = flow.channel().attempts();
    let mut texts: Vec<String> = attempts.iter().map(|a| a.text.clone()).collect();
    texts.sort();
    assert_eq!(texts, ["to 1", "to 2", "to 3"], "each message was sent once");
    assert_eq!(store.refused.load(Ordering::SeqCst), failures, "the store was away during the deliveries");
}

#[tokio::test]
async fn outcomes_are_written_once_the_store_answers_again() {
    outage(4, Duration::from_secs(120)).await;
}

#[tokio::test]
async fn an_outage_longer_than_the_lease_sends_nothing_twice_from_this_instance() {
    // 50 + 100 + 200 + 400 + 800 ms of retries, past a 300 ms lease.
    outage(5, ms(300)).await;
}
