//! Scheduled jobs, claimed with leases.

use super::StorageError;
use async_trait::async_trait;
use std::time::{Duration, SystemTime};

/// A scheduled job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Its id, chosen by the application (scheduling an existing id replaces the job).
    pub id: String,
    /// When it is due.
    pub due_at: SystemTime,
    /// What to do (JSON written and read by the scheduler).
    pub payload: String,
}

/// Durable scheduled jobs, shared by every bot instance on one store.
#[async_trait]
pub trait JobStore: Send + Sync + std::fmt::Debug + 'static {
    /// Creates or replaces a job.
    async fn put_job(&self, job: &Job) -> Result<(), StorageError>;

    /// Claims up to `limit` jobs due at `now` that no live lease holds, for `owner`, for `lease`.
    async fn claim_due_jobs(
        &self,
        owner: &str,
        now: SystemTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Job>, StorageError>;

    /// Finishes a claimed job: deletes it (`next_due: None`) or reschedules it and releases the
    /// lease. Returns `false` (and changes nothing) when `owner` no longer holds the lease.
    async fn finish_job(&self, id: &str, owner: &str, next_due: Option<SystemTime>) -> Result<bool, StorageError>;

    /// Deletes a job; returns whether it existed.
    async fn cancel_job(&self, id: &str) -> Result<bool, StorageError>;

    /// Every job, by due time.
    async fn jobs(&self) -> Result<Vec<Job>, StorageError>;

    /// Releases every lease `owner` holds on jobs; returns how many (see
    /// [`crate::storage::Outbox::release_claims`]).
    async fn release_job_claims(&self, owner: &str) -> Result<u64, StorageError>;
}
