//! [`JobStore`] on SQLite: the `jobs` table.

use crate::error::backend;
use crate::store::SqliteStore;
use async_trait::async_trait;
use botwright::storage::backend::time::{from_nanos, lease_until, to_nanos};
use botwright::storage::{Job, JobStore, StorageError};
use std::time::{Duration, SystemTime};

const PUT: &str = include_str!("sql/put_job.sql");
const CLAIM: &str = include_str!("sql/claim_jobs.sql");
const LEASE: &str = "UPDATE jobs SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1";
const FINISH_DELETE: &str = "DELETE FROM jobs WHERE id = ?1 AND lease_owner = ?2";
const FINISH_RESCHEDULE: &str =
    "UPDATE jobs SET due_at = ?3, lease_owner = NULL, lease_until = NULL WHERE id = ?1 AND lease_owner = ?2";
const CANCEL: &str = "DELETE FROM jobs WHERE id = ?1";
const ALL: &str = "SELECT id, due_at, payload FROM jobs ORDER BY due_at, id";

fn job(row: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job { id: row.get(0)?, due_at: from_nanos(row.get(1)?), payload: row.get(2)? })
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn put_job(&self, job: &Job) -> Result<(), StorageError> {
        let job = job.clone();
        self.writer
            .write(move |ctx| {
                ctx.conn
                    .prepare_cached(PUT)
                    .and_then(|mut s| s.execute((&job.id, to_nanos(job.due_at), &job.payload)))
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn claim_due_jobs(
        &self,
        owner: &str,
        now: SystemTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Job>, StorageError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let owner = owner.to_owned();
        let now = to_nanos(now);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.writer
            .write(move |ctx| {
                let due = ctx
                    .conn
                    .prepare_cached(CLAIM)
                    .and_then(|mut s| s.query_map((now, limit), job)?.collect::<Result<Vec<_>, _>>())
                    .map_err(backend)?;
                let until = lease_until(now, lease);
                let mut stmt = ctx.conn.prepare_cached(LEASE).map_err(backend)?;
                for job in &due {
                    stmt.execute((&job.id, &owner, until)).map_err(backend)?;
                }
                Ok(due)
            })
            .await
    }

    async fn finish_job(&self, id: &str, owner: &str, next_due: Option<SystemTime>) -> Result<bool, StorageError> {
        let (id, owner) = (id.to_owned(), owner.to_owned());
        self.writer
            .write(move |ctx| {
                let changed = match next_due {
                    None => ctx.conn.prepare_cached(FINISH_DELETE).and_then(|mut s| s.execute((&id, &owner))),
                    Some(due) => ctx
                        .conn
                        .prepare_cached(FINISH_RESCHEDULE)
                        .and_then(|mut s| s.execute((&id, &owner, to_nanos(due)))),
                }
                .map_err(backend)?;
                Ok(changed > 0)
            })
            .await
    }

    async fn cancel_job(&self, id: &str) -> Result<bool, StorageError> {
        let id = id.to_owned();
        self.writer
            .write(move |ctx| {
                let changed = ctx.conn.prepare_cached(CANCEL).and_then(|mut s| s.execute([&id])).map_err(backend)?;
                Ok(changed > 0)
            })
            .await
    }

    async fn release_job_claims(&self, owner: &str) -> Result<u64, StorageError> {
        let owner = owner.to_owned();
        self.writer
            .write(move |ctx| {
                let changed = ctx
                    .conn
                    .prepare_cached("UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = ?1")
                    .and_then(|mut s| s.execute([&owner]))
                    .map_err(backend)?;
                Ok(changed as u64)
            })
            .await
    }

    async fn jobs(&self) -> Result<Vec<Job>, StorageError> {
        self.readers
            .read(|conn| {
                conn.prepare_cached(ALL)
                    .and_then(|mut s| s.query_map([], job)?.collect::<Result<Vec<_>, _>>())
                    .map_err(backend)
            })
            .await
    }
}
