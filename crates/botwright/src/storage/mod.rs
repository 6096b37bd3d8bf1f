//! State storage: JSON documents by key, with versions.
//!
//! [`Storage`] is the one trait every backend implements for state (user, conversation and
//! private conversation data, the dialog stack, the address book). Each document carries a
//! version, its eTag; a write states what it expects to find ([`Precondition`]) and fails with
//! [`StorageError::Conflict`] when another writer got there first. Nothing is ever silently
//! overwritten, so a lost update is impossible.
//!
//! [`Outbox`] and [`JobStore`] hold the proactive engine's durable queues (messages waiting for
//! delivery, scheduled jobs); they live beside state so that one database holds everything.
//! [`MemoryStore`] implements all three in process memory.

#[cfg(feature = "backend")]
pub mod backend;
#[cfg(feature = "conformance")]
pub mod conformance;
mod jobs;
mod memory;
mod outbox;

pub use jobs::{Job, JobStore};
pub use memory::MemoryStore;
pub use outbox::{DeadLetter, NewOutboxEntry, Outbox, OutboxEntry, OutboxId, OutboxStatus, Settlement};

use async_trait::async_trait;
use std::fmt;

/// A stored JSON document and its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// The document, as JSON text.
    pub json: String,
    /// Its version; changes on every write.
    pub etag: String,
}

/// What a write expects to find under its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Anything: the write always succeeds (last writer wins; use for caches only).
    Any,
    /// Nothing: the key must not exist yet.
    Absent,
    /// The document at this version.
    Version(String),
}

impl Precondition {
    /// The precondition that matches what a read returned: its version, or absence.
    pub fn from_read(document: Option<&Document>) -> Self {
        match document {
            Some(doc) => Precondition::Version(doc.etag.clone()),
            None => Precondition::Absent,
        }
    }
}

/// One write of a [`Storage::write_many`] batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The key.
    pub key: String,
    /// The new document as JSON text, or `None` to delete it.
    pub json: Option<String>,
    /// What the write expects to find.
    pub precondition: Precondition,
}

/// What went wrong in a store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The document changed since it was read (or exists when it should not).
    #[error("version conflict on key {key:?}")]
    Conflict {
        /// The key of the document.
        key: String,
    },
    /// A stored document could not be read back.
    #[error("stored data under {key:?} is corrupt: {reason}")]
    Corrupt {
        /// The key.
        key: String,
        /// Why.
        reason: String,
    },
    /// The backend failed for a reason that will not pass by waiting (a bug, a malformed
    /// statement, a constraint).
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The backend cannot be reached or cannot take the request now (connection lost or
    /// refused, server shutting down, disk full, database locked): worth trying again later.
    #[error("the store is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StorageError {
    /// A backend error from anything that is an error.
    pub fn backend(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StorageError::Backend(error.into())
    }

    /// An unavailable backend, from anything that is an error.
    pub fn unavailable(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StorageError::Unavailable(error.into())
    }

    /// Whether the store is unavailable for now: a caller may answer 503 with `Retry-After`
    /// and try again later.
    ///
    /// ```
    /// use botwright::storage::StorageError;
    /// assert!(StorageError::unavailable("connection refused").is_unavailable());
    /// assert!(!StorageError::backend("syntax error").is_unavailable());
    /// ```
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StorageError::Unavailable(_))
    }
}

/// A lock on one conversation that holds across bot instances, released on drop.
pub trait ConversationLock: Send + Sync + fmt::Debug {}

/// Versioned JSON documents by key.
///
/// Implementations must be safe to share between tasks and must make each call atomic:
/// [`Storage::write_many`] writes all of its documents or none.
///
/// ```
/// use botwright::storage::{MemoryStore, Precondition, Storage, StorageError};
/// # tokio_test::block_on(async {
/// let store = MemoryStore::new();
/// let v1 = store.write("user/u1", r#"{"n":1}"#, Precondition::Absent).await.unwrap();
/// store.write("user/u1", r#"{"n":2}"#, Precondition::Version(v1.clone())).await.unwrap();
/// // A writer still holding v1 loses, loudly.
/// let stale = store.write("user/u1", r#"{"n":3}"#, Precondition::Version(v1)).await;
/// assert!(matches!(stale, Err(StorageError::Conflict { .. })));
/// # });
/// ```
#[async_trait]
pub trait Storage: Send + Sync + fmt::Debug + 'static {
    /// Reads one document.
    async fn read(&self, key: &str) -> Result<Option<Document>, StorageError>;

    /// Reads several documents; the result has one entry per key, in order.
    async fn read_many(&self, keys: &[&str]) -> Result<Vec<Option<Document>>, StorageError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.read(key).await?);
        }
        Ok(out)
    }

    /// Writes one document if `precondition` holds; returns its new version.
    async fn write(&self, key: &str, json: &str, precondition: Precondition) -> Result<String, StorageError>;

    /// Applies every write or none (a conflict on one fails them all); returns the new version
    /// of each written document (`None` for deletions), in order.
    async fn write_many(&self, writes: &[Write]) -> Result<Vec<Option<String>>, StorageError>;

    /// Deletes a document if `precondition` holds; returns whether it existed.
    async fn delete(&self, key: &str, precondition: Precondition) -> Result<bool, StorageError>;

    /// Every document whose key starts with `prefix`, in key order.
    async fn scan(&self, prefix: &str) -> Result<Vec<(String, Document)>, StorageError>;

    /// Takes a lock on `conversation_key` that holds across bot instances sharing this store,
    /// waiting for it if another instance holds it. Stores used by one process return `None`:
    /// the bot's in-process lock is then enough.
    async fn lock_conversation(
        &self,
        conversation_key: &str,
    ) -> Result<Option<Box<dyn ConversationLock>>, StorageError> {
        let _ = conversation_key;
        Ok(None)
    }
}
