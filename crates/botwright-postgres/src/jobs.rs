//! [`JobStore`] on PostgreSQL: the `jobs` table, claimed with `FOR UPDATE SKIP LOCKED`.

use crate::error::backend;
use crate::store::PostgresStore;
use async_trait::async_trait;
use botwright::storage::backend::time::{from_nanos, lease_until, to_nanos};
use botwright::storage::{Job, JobStore, StorageError};
use deadpool_postgres::GenericClient;
use std::time::{Duration, SystemTime};

const PUT: &str = include_str!("sql/put_job.sql");
const CLAIM: &str = include_str!("sql/claim_jobs.sql");
const FINISH_DELETE: &str = "DELETE FROM jobs WHERE id = $1 AND lease_owner = $2";
const FINISH_RESCHEDULE: &str =
    "UPDATE jobs SET due_at = $3, lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2";
const CANCEL: &str = "DELETE FROM jobs WHERE id = $1";
const ALL: &str = "SELECT id, due_at, payload FROM jobs ORDER BY due_at, id";

fn job(row: &tokio_postgres::Row) -> Job {
    Job { id: row.get(0), due_at: from_nanos(row.get(1)), payload: row.get(2) }
}

#[async_trait]
impl JobStore for PostgresStore {
    async fn put_job(&self, job: &Job) -> Result<(), StorageError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(PUT).await.map_err(backend)?;
        client.execute(&statement, &[&job.id, &to_nanos(job.due_at), &job.payload]).await.map_err(backend)?;
        Ok(())
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
        let now = to_nanos(now);
        let until = lease_until(now, lease);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let client = self.client().await?;
        let statement = client.prepare_cached(CLAIM).await.map_err(backend)?;
        let rows = client.query(&statement, &[&now, &limit, &owner, &until]).await.map_err(backend)?;
        let mut claimed: Vec<Job> = rows.iter().map(job).collect();
        claimed.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
        Ok(claimed)
    }

    async fn finish_job(&self, id: &str, owner: &str, next_due: Option<SystemTime>) -> Result<bool, StorageError> {
        let client = self.client().await?;
        let changed = match next_due {
            None => {
                let statement = client.prepare_cached(FINISH_DELETE).await.map_err(backend)?;
                client.execute(&statement, &[&id, &owner]).await
            }
            Some(due) => {
                let statement = client.prepare_cached(FINISH_RESCHEDULE).await.map_err(backend)?;
                client.execute(&statement, &[&id, &owner, &to_nanos(due)]).await
            }
        }
        .map_err(backend)?;
        Ok(changed > 0)
    }

    async fn cancel_job(&self, id: &str) -> Result<bool, StorageError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(CANCEL).await.map_err(backend)?;
        Ok(client.execute(&statement, &[&id]).await.map_err(backend)? > 0)
    }

    async fn release_job_claims(&self, owner: &str) -> Result<u64, StorageError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached("UPDATE jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1")
            .await
            .map_err(backend)?;
        client.execute(&statement, &[&owner]).await.map_err(backend)
    }

    async fn jobs(&self) -> Result<Vec<Job>, StorageError> {
        let client = self.client().await?;
        let statement = client.prepare_cached(ALL).await.map_err(backend)?;
        Ok(client.query(&statement, &[]).await.map_err(backend)?.iter().map(job).collect())
    }
}
