//! Outcomes the store cannot record are kept and written once it answers again: no message is
//! sent twice (even when the outage outlasts the lease), waiters hear the recorded outcome, and
//! the status reads "delivered" afterwards.

mod common;

use botwright::storage::{
    ConversationLock, DeadLetter, Document, Job, JobStore, MemoryStore, NewOutboxEntry, Outbox, OutboxEntry, OutboxId,
    OutboxStatus, Precondition, Settlement, Storage, StorageError, Write,
};
use botwright::testing::TestFlow;
use botwright::{Bot, Message, async_trait};
use common::{address, ms, quick};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

/// A [`MemoryStore`] whose next `failures` calls of `Outbox::settle` fail, as if the database
/// went away; everything else is delegated.
#[derive(Debug, Default)]
struct FlakySettle {
    inner: MemoryStore,
    failures: AtomicUsize,
    failed: AtomicUsize,
}

#[async_trait]
impl Storage for FlakySettle {
    async fn read(&self, key: &str) -> Result<Option<Document>, StorageError> {
        self.inner.read(key).await
    }
    async fn read_many(&self, keys: &[&str]) -> Result<Vec<Option<Document>>, StorageError> {
        self.inner.read_many(keys).await
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
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            self.failed.fetch_add(1, Ordering::SeqCst);
            return Err(StorageError::backend("the database went away"));
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

/// Sends one message to each of three conversations while `settle` fails `failures` times,
/// with the given lease; checks that each was sent once, its sender heard "delivered", and the
/// store says so.
async fn outage(failures: usize, lease: Duration) {
    let store = Arc::new(FlakySettle { failures: AtomicUsize::new(failures), ..Default::default() });
    let flow = TestFlow::new(quick(Bot::builder()).store(store.clone()).configure_proactive(|p| p.lease = lease));
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
    assert_eq!(store.failed.load(Ordering::SeqCst), failures, "the store was away during the deliveries");
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
