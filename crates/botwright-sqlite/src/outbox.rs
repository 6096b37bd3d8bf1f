//! [`Outbox`] on SQLite: the `outbox` table.

use crate::error::backend;
use crate::store::SqliteStore;
use async_trait::async_trait;
use botwright::storage::backend::outbox_state;
use botwright::storage::backend::time::{from_nanos, lease_until, to_nanos};
use botwright::storage::{
    DeadLetter, NewOutboxEntry, Outbox, OutboxEntry, OutboxId, OutboxStatus, Settlement, StorageError,
};
use rusqlite::OptionalExtension;
use std::time::{Duration, SystemTime};

const INSERT: &str = "INSERT INTO outbox (conversation_key, payload, created_at, not_before) VALUES (?1, ?2, ?3, ?4)";
const CLAIM: &str = include_str!("sql/claim_outbox.sql");
const LEASE: &str = "UPDATE outbox SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1";
const DELIVER: &str = "UPDATE outbox SET state = 1, outcome = ?3, payload = '', lease_owner = NULL, lease_until = NULL \
                       WHERE id = ?1 AND state = 0 AND lease_owner = ?2";
const RETRY: &str = include_str!("sql/retry_outbox.sql");
const KILL: &str = "UPDATE outbox SET state = 2, outcome = ?3, lease_owner = NULL, lease_until = NULL \
                    WHERE id = ?1 AND state = 0 AND lease_owner = ?2";
const PURGE: &str = "DELETE FROM outbox WHERE state <> 0 AND created_at < ?1";
const WITHDRAW: &str = "UPDATE outbox SET state = 3, payload = '' \
                        WHERE id = ?1 AND state = 0 AND (lease_until IS NULL OR lease_until <= ?2)";
const STATUS: &str = "SELECT state, attempts, last_error, outcome FROM outbox WHERE id = ?1";
const DEAD_LETTERS: &str =
    "SELECT id, conversation_key, payload, outcome, attempts FROM outbox WHERE state = 2 ORDER BY id DESC LIMIT ?1";
const PENDING_COUNT: &str = "SELECT count(*) FROM outbox WHERE state = 0";

fn attempts(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn enqueue(&self, entries: &[NewOutboxEntry]) -> Result<Vec<OutboxId>, StorageError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let entries = entries.to_vec();
        self.writer
            .write(move |ctx| {
                let now = to_nanos(SystemTime::now());
                let mut stmt = ctx.conn.prepare_cached(INSERT).map_err(backend)?;
                let mut ids = Vec::with_capacity(entries.len());
                for entry in &entries {
                    let id = stmt
                        .insert((&entry.conversation_key, &entry.payload, now, to_nanos(entry.not_before)))
                        .map_err(backend)?;
                    ids.push(id);
                }
                Ok(ids)
            })
            .await
    }

    async fn claim(&self, owner: &str, limit_: usize, lease: Duration) -> Result<Vec<OutboxEntry>, StorageError> {
        if limit_ == 0 {
            return Ok(Vec::new());
        }
        let owner = owner.to_owned();
        // Relaxed: a claim lost on a power failure is a lease that ran out.
        self.writer
            .write_relaxed(move |ctx| {
                let now = to_nanos(SystemTime::now());
                let claimed = ctx
                    .conn
                    .prepare_cached(CLAIM)
                    .and_then(|mut stmt| {
                        stmt.query_map((now, limit(limit_)), |row| {
                            Ok(OutboxEntry {
                                id: row.get(0)?,
                                conversation_key: row.get(1)?,
                                payload: row.get(2)?,
                                attempts: attempts(row.get(3)?),
                                created_at: from_nanos(row.get(4)?),
                            })
                        })?
                        .collect::<Result<Vec<_>, _>>()
                    })
                    .map_err(backend)?;
                let until = lease_until(now, lease);
                let mut stmt = ctx.conn.prepare_cached(LEASE).map_err(backend)?;
                for entry in &claimed {
                    stmt.execute((entry.id, &owner, until)).map_err(backend)?;
                }
                Ok(claimed)
            })
            .await
    }

    async fn settle(&self, owner: &str, settlements: &[(OutboxId, Settlement)]) -> Result<u64, StorageError> {
        if settlements.is_empty() {
            return Ok(0);
        }
        let owner = owner.to_owned();
        let settlements = settlements.to_vec();
        // Relaxed: an outcome lost on a power failure only makes its message go again.
        self.writer
            .write_relaxed(move |ctx| {
                let mut settled = 0;
                for (id, settlement) in &settlements {
                    let changed = match settlement {
                        Settlement::Delivered { activity_id } => {
                            ctx.conn.prepare_cached(DELIVER).and_then(|mut s| s.execute((id, &owner, activity_id)))
                        }
                        Settlement::RetryLater { not_before, error } => ctx
                            .conn
                            .prepare_cached(RETRY)
                            .and_then(|mut s| s.execute((id, &owner, to_nanos(*not_before), error))),
                        Settlement::Dead { reason } => {
                            ctx.conn.prepare_cached(KILL).and_then(|mut s| s.execute((id, &owner, reason)))
                        }
                    }
                    .map_err(backend)?;
                    settled += changed as u64;
                }
                Ok(settled)
            })
            .await
    }

    async fn purge(&self, enqueued_before: SystemTime) -> Result<u64, StorageError> {
        let before = to_nanos(enqueued_before);
        self.writer
            .write_relaxed(move |ctx| {
                let purged = ctx.conn.prepare_cached(PURGE).and_then(|mut s| s.execute([before])).map_err(backend)?;
                Ok(purged as u64)
            })
            .await
    }

    async fn release_claims(&self, owner: &str) -> Result<u64, StorageError> {
        let owner = owner.to_owned();
        self.writer
            .write(move |ctx| {
                let changed = ctx
                    .conn
                    .prepare_cached(
                        "UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE state = 0 AND lease_owner = ?1",
                    )
                    .and_then(|mut s| s.execute([&owner]))
                    .map_err(backend)?;
                Ok(changed as u64)
            })
            .await
    }

    async fn withdraw(&self, id: OutboxId) -> Result<bool, StorageError> {
        self.writer
            .write(move |ctx| {
                let now = to_nanos(SystemTime::now());
                let changed =
                    ctx.conn.prepare_cached(WITHDRAW).and_then(|mut s| s.execute((id, now))).map_err(backend)?;
                Ok(changed > 0)
            })
            .await
    }

    async fn status(&self, id: OutboxId) -> Result<Option<OutboxStatus>, StorageError> {
        self.readers
            .read(move |conn| {
                let row = conn
                    .prepare_cached(STATUS)
                    .and_then(|mut stmt| {
                        stmt.query_row([id], |row| {
                            Ok((
                                row.get::<_, i64>(0)?,
                                row.get::<_, i64>(1)?,
                                row.get::<_, Option<String>>(2)?,
                                row.get::<_, Option<String>>(3)?,
                            ))
                        })
                        .optional()
                    })
                    .map_err(backend)?;
                let Some((state, tries, last_error, outcome)) = row else { return Ok(None) };
                outbox_state::status(id, state, attempts(tries), last_error, outcome).map(Some)
            })
            .await
    }

    async fn dead_letters(&self, limit_: usize) -> Result<Vec<DeadLetter>, StorageError> {
        self.readers
            .read(move |conn| {
                conn.prepare_cached(DEAD_LETTERS)
                    .and_then(|mut stmt| {
                        stmt.query_map([limit(limit_)], |row| {
                            Ok(DeadLetter {
                                id: row.get(0)?,
                                conversation_key: row.get(1)?,
                                payload: row.get(2)?,
                                reason: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
                                attempts: attempts(row.get(4)?),
                            })
                        })?
                        .collect()
                    })
                    .map_err(backend)
            })
            .await
    }

    async fn pending_count(&self) -> Result<u64, StorageError> {
        self.readers
            .read(|conn| {
                let n: i64 = conn
                    .prepare_cached(PENDING_COUNT)
                    .and_then(|mut s| s.query_row([], |r| r.get(0)))
                    .map_err(backend)?;
                Ok(u64::try_from(n).unwrap_or(0))
            })
            .await
    }
}
