//! Conversation locks across instances: PostgreSQL session advisory locks.
//!
//! A lock holds a connection of the lock pool for as long as it is held. Dropping the guard
//! unlocks in a spawned task and only then returns the connection to the pool; if unlocking
//! fails, or there is no runtime to run it, the connection is closed instead, which releases the
//! lock on the server. A pooled connection therefore never holds a lock. If a connection dies
//! while a lock is held, the server releases the lock.

use crate::error::{backend, no_connection};
use crate::store::PostgresStore;
use botwright::storage::{ConversationLock, StorageError};
use deadpool_postgres::{GenericClient, Object};
use std::fmt;
use tokio_postgres::NoTls;

/// Session advisory locks use the one-key (bigint) space, apart from the two-key space of the
/// outbox's enqueue ordering, so the two never wait on each other.
const LOCK: &str = "SELECT pg_advisory_lock(hashtextextended($1, 0))";
const UNLOCK: &str = "SELECT pg_advisory_unlock(hashtextextended($1, 0))";

/// A held conversation lock; released when dropped.
pub(crate) struct PostgresConversationLock {
    client: Option<Object>,
    key: String,
}

impl fmt::Debug for PostgresConversationLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConversationLock").field("key", &self.key).finish()
    }
}

impl ConversationLock for PostgresConversationLock {}

/// Closes a connection that may hold (or be about to take) a lock, cancelling its query first.
fn discard(client: Object) {
    let token = client.cancel_token();
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            let _ = token.cancel_query(NoTls).await;
        });
    }
    drop(Object::take(client));
}

impl Drop for PostgresConversationLock {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            drop(Object::take(client));
            return;
        };
        let key = std::mem::take(&mut self.key);
        runtime.spawn(async move {
            let unlocked = match client.prepare_cached(UNLOCK).await {
                Ok(statement) => client.query_one(&statement, &[&key]).await.map(|row| row.get::<_, bool>(0)),
                Err(error) => Err(error),
            };
            match unlocked {
                // Back to the pool, holding nothing.
                Ok(true) => drop(client),
                Ok(false) => {
                    tracing::warn!(conversation = key, "conversation lock was not held at release");
                    discard(client);
                }
                Err(error) => {
                    tracing::warn!(conversation = key, %error, "releasing a conversation lock failed; closing its connection");
                    discard(client);
                }
            }
        });
    }
}

/// A connection waiting for a lock: if the wait is abandoned (the future dropped) or fails, the
/// connection is closed rather than pooled, since it may get the lock after all.
struct Waiting(Option<Object>);

impl Drop for Waiting {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            discard(client);
        }
    }
}

impl PostgresStore {
    /// Waits for and takes the lock of `conversation_key`.
    pub(crate) async fn lock(&self, conversation_key: &str) -> Result<PostgresConversationLock, StorageError> {
        let client = self.lock_pool.get().await.map_err(no_connection)?;
        let mut waiting = Waiting(Some(client));
        let client = waiting.0.as_ref().expect("set above");
        let statement = client.prepare_cached(LOCK).await.map_err(backend)?;
        client.execute(&statement, &[&conversation_key]).await.map_err(backend)?;
        Ok(PostgresConversationLock { client: waiting.0.take(), key: conversation_key.to_owned() })
    }
}
