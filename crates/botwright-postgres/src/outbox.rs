//! [`Outbox`] on PostgreSQL: the `outbox` table, claimed with `FOR UPDATE SKIP LOCKED`.

use crate::error::backend;
use crate::store::PostgresStore;
use async_trait::async_trait;
use botwright::storage::backend::outbox_state::{self, DEAD, DELIVERED, PENDING};
use botwright::storage::backend::time::{from_nanos, lease_until, to_nanos};
use botwright::storage::{
    DeadLetter, NewOutboxEntry, Outbox, OutboxEntry, OutboxId, OutboxStatus, Settlement, StorageError,
};
use deadpool_postgres::GenericClient;
use std::time::{Duration, SystemTime};

const ENQUEUE_ORDER: &str = include_str!("sql/enqueue_order.sql");
const ENQUEUE: &str = include_str!("sql/enqueue.sql");
const CLAIM: &str = include_str!("sql/claim_outbox.sql");
const SETTLE: &str = include_str!("sql/settle_outbox.sql");
const PURGE: &str = "DELETE FROM outbox WHERE state <> 0 AND created_at < $1";
const WITHDRAW: &str = "UPDATE outbox SET state = 3, payload = '' \
                        WHERE id = $1 AND state = 0 AND (lease_until IS NULL OR lease_until <= $2)";
const STATUS: &str = "SELECT state, attempts, last_error, outcome FROM outbox WHERE id = $1";
const DEAD_LETTERS: &str =
    "SELECT id, conversation_key, payload, outcome, attempts FROM outbox WHERE state = 2 ORDER BY id DESC LIMIT $1";
const PENDING_COUNT: &str = "SELECT count(*) FROM outbox WHERE state = 0";

fn attempts(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl Outbox for PostgresStore {
    async fn enqueue(&self, entries: &[NewOutboxEntry]) -> Result<Vec<OutboxId>, StorageError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&str> = entries.iter().map(|e| e.conversation_key.as_str()).collect();
        let payloads: Vec<&str> = entries.iter().map(|e| e.payload.as_str()).collect();
        let not_before: Vec<i64> = entries.iter().map(|e| to_nanos(e.not_before)).collect();
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let order = tx.prepare_cached(ENQUEUE_ORDER).await.map_err(backend)?;
        tx.execute(&order, &[&keys]).await.map_err(backend)?;
        let insert = tx.prepare_cached(ENQUEUE).await.map_err(backend)?;
        let now = to_nanos(SystemTime::now());
        let rows = tx.query(&insert, &[&keys, &payloads, &not_before, &now]).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        // Ids are handed out in position order within the statement.
        let mut ids: Vec<OutboxId> = rows.iter().map(|row| row.get(0)).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    async fn claim(&self, owner: &str, limit_: usize, lease: Duration) -> Result<Vec<OutboxEntry>, StorageError> {
        if limit_ == 0 {
            return Ok(Vec::new());
        }
        let now = to_nanos(SystemTime::now());
        let until = lease_until(now, lease);
        let client = self.client().await?;
        let statement = client.prepare_cached(CLAIM).await.map_err(backend)?;
        let rows = client.query(&statement, &[&now, &limit(limit_), &owner, &until]).await.map_err(backend)?;
        let mut claimed: Vec<OutboxEntry> = rows
            .iter()
            .map(|row| OutboxEntry {
                id: row.get(0),
                conversation_key: row.get(1),
                payload: row.get(2),
                attempts: attempts(row.get(3)),
                created_at: from_nanos(row.get(4)),
            })
            .collect();
        claimed.sort_unstable_by_key(|e| e.id);
        Ok(claimed)
    }

    async fn settle(&self, owner: &str, settlements: &[(OutboxId, Settlement)]) -> Result<u64, StorageError> {
        if settlements.is_empty() {
            return Ok(0);
        }
        let mut ids = Vec::with_capacity(settlements.len());
        let mut kinds = Vec::with_capacity(settlements.len());
        let mut texts: Vec<Option<&str>> = Vec::with_capacity(settlements.len());
        let mut not_before = Vec::with_capacity(settlements.len());
        for (id, settlement) in settlements {
            ids.push(*id);
            let (kind, text, due) = match settlement {
                Settlement::RetryLater { not_before, error } => (PENDING, Some(error.as_str()), to_nanos(*not_before)),
                Settlement::Delivered { activity_id } => (DELIVERED, activity_id.as_deref(), 0),
                Settlement::Dead { reason } => (DEAD, Some(reason.as_str()), 0),
            };
            kinds.push(kind);
            texts.push(text);
            not_before.push(due);
        }
        let client = self.client().await?;
        let statement = client.prepare_cached(SETTLE).await.map_err(backend)?;
        client.execute(&statement, &[&owner, &ids, &kinds, &texts, &not_before]).await.map_err(backend)
    }

    async fn purge(&self, enqueued_before: SystemTime) -> Result<u64, StorageError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(PURGE).await.map_err(backend)?;
        client.execute(&statement, &[&to_nanos(enqueued_before)]).await.map_err(backend)
    }

    async fn release_claims(&self, owner: &str) -> Result<u64, StorageError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE state = 0 AND lease_owner = $1",
            )
            .await
            .map_err(backend)?;
        client.execute(&statement, &[&owner]).await.map_err(backend)
    }

    async fn withdraw(&self, id: OutboxId) -> Result<bool, StorageError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(WITHDRAW).await.map_err(backend)?;
        let now = to_nanos(SystemTime::now());
        Ok(client.execute(&statement, &[&id, &now]).await.map_err(backend)? > 0)
    }

    async fn status(&self, id: OutboxId) -> Result<Option<OutboxStatus>, StorageError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(STATUS).await.map_err(backend)?;
        let Some(row) = client.query_opt(&statement, &[&id]).await.map_err(backend)? else { return Ok(None) };
        let state: i16 = row.get(0);
        outbox_state::status(id, state.into(), attempts(row.get(1)), row.get(2), row.get(3)).map(Some)
    }

    async fn dead_letters(&self, limit_: usize) -> Result<Vec<DeadLetter>, StorageError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(DEAD_LETTERS).await.map_err(backend)?;
        let rows = client.query(&statement, &[&limit(limit_)]).await.map_err(backend)?;
        Ok(rows
            .iter()
            .map(|row| DeadLetter {
                id: row.get(0),
                conversation_key: row.get(1),
                payload: row.get(2),
                reason: row.get::<_, Option<String>>(3).unwrap_or_default(),
                attempts: attempts(row.get(4)),
            })
            .collect())
    }

    async fn pending_count(&self) -> Result<u64, StorageError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(PENDING_COUNT).await.map_err(backend)?;
        let row = client.query_one(&statement, &[]).await.map_err(backend)?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }
}
