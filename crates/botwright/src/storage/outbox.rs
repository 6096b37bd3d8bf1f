//! The durable outbox: messages accepted for delivery and not yet delivered.

use super::StorageError;
use async_trait::async_trait;
use std::time::{Duration, SystemTime};

/// The id of an outbox entry, unique in its store.
pub type OutboxId = i64;

/// A message to put in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutboxEntry {
    /// Entries with the same key are delivered one at a time, in the order they were enqueued.
    pub conversation_key: String,
    /// What to deliver (JSON written and read by the delivery engine).
    pub payload: String,
    /// Not before this time.
    pub not_before: SystemTime,
}

/// A claimed outbox entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Its id.
    pub id: OutboxId,
    /// Its conversation.
    pub conversation_key: String,
    /// What to deliver.
    pub payload: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When it was enqueued.
    pub created_at: SystemTime,
}

/// Where an outbox entry stands.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutboxStatus {
    /// Waiting for (another) attempt.
    Pending {
        /// Failed attempts so far.
        attempts: u32,
        /// The last failure.
        last_error: Option<String>,
    },
    /// The channel accepted it.
    Delivered {
        /// The channel's id of the activity.
        activity_id: Option<String>,
    },
    /// Given up; see the reason.
    Dead {
        /// Why it was given up.
        reason: String,
    },
    /// Taken back before delivery.
    Withdrawn,
}

/// How an attempt at a claimed entry ended, recorded with [`Outbox::settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The channel accepted it: the entry is finished (its payload is no longer kept).
    Delivered {
        /// The channel's id of the activity.
        activity_id: Option<String>,
    },
    /// The attempt failed: the claim is released and the entry is due again at `not_before`.
    RetryLater {
        /// Not before this time.
        not_before: SystemTime,
        /// The failure, for [`OutboxStatus::Pending::last_error`].
        error: String,
    },
    /// Given up: the entry becomes a dead letter with this reason.
    Dead {
        /// Why.
        reason: String,
    },
}

/// A message that was given up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its outbox id.
    pub id: OutboxId,
    /// Its conversation.
    pub conversation_key: String,
    /// What it was to deliver.
    pub payload: String,
    /// Why it was given up.
    pub reason: String,
    /// Attempts made.
    pub attempts: u32,
}

/// The queue of messages waiting for delivery, shared by every bot instance on one store.
///
/// Claiming hands out at most one entry per conversation at a time (the oldest pending one), so
/// that delivery keeps the order of each conversation; a claim is a lease that expires, so the
/// work of an instance that died is taken over by another.
#[async_trait]
pub trait Outbox: Send + Sync + std::fmt::Debug + 'static {
    /// Adds entries atomically (all or none); returns their ids, in order.
    async fn enqueue(&self, entries: &[NewOutboxEntry]) -> Result<Vec<OutboxId>, StorageError>;

    /// Claims up to `limit` due entries for `owner` for `lease`: for each conversation, only its
    /// oldest pending entry, and only if no other claim on that conversation is live.
    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxEntry>, StorageError>;

    /// Records how attempts ended, for entries `owner` claimed; returns how many were recorded.
    ///
    /// An entry is changed only while it is pending and claimed by `owner` (its lease may have
    /// run out, as long as nobody claimed it since): an instance whose claim was taken over, or
    /// an entry that is already finished, is left alone. Settlements are recorded together, but
    /// need not be flushed to disk before this returns (a store may flush them with its next
    /// durable write): lost on a power failure, a settlement only makes an entry go again.
    async fn settle(&self, owner: &str, settlements: &[(OutboxId, Settlement)]) -> Result<u64, StorageError>;

    /// Takes back a pending entry that is not claimed; returns whether it was withdrawn.
    async fn withdraw(&self, id: OutboxId) -> Result<bool, StorageError>;

    /// Where an entry stands (`None`: unknown id, or purged).
    async fn status(&self, id: OutboxId) -> Result<Option<OutboxStatus>, StorageError>;

    /// The most recent dead letters, newest first.
    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StorageError>;

    /// How many entries are pending.
    async fn pending_count(&self) -> Result<u64, StorageError>;

    /// Deletes finished entries (delivered, dead or withdrawn) enqueued before `enqueued_before`;
    /// returns how many. Their status is then unknown (`None`).
    async fn purge(&self, enqueued_before: SystemTime) -> Result<u64, StorageError>;

    /// Releases every claim `owner` holds on pending entries, so they can be claimed again at
    /// once; returns how many. An instance calls it as it starts, for claims its previous run
    /// held when it died (instead of waiting for their leases to expire). Only an owner that is
    /// not running may be released.
    async fn release_claims(&self, owner: &str) -> Result<u64, StorageError>;
}
