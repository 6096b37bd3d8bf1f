//! [`Storage`] on PostgreSQL: versioned JSON documents in the `documents` table.

use crate::error::backend;
use crate::store::PostgresStore;
use async_trait::async_trait;
use botwright::storage::backend::key_range::prefix_end;
use botwright::storage::{ConversationLock, Document, Precondition, Storage, StorageError, Write};
use deadpool_postgres::GenericClient;

const READ: &str = "SELECT json, version FROM documents WHERE key = $1";
const READ_MANY: &str = "SELECT key, json, version FROM documents WHERE key = ANY($1)";
const UPSERT: &str = include_str!("sql/upsert_document.sql");
const INSERT_ABSENT: &str = include_str!("sql/insert_absent_document.sql");
const UPDATE_VERSION: &str = include_str!("sql/update_document_version.sql");
const EXISTS: &str = "SELECT 1 FROM documents WHERE key = $1";
const DELETE_ANY: &str = "DELETE FROM documents WHERE key = $1";
const DELETE_VERSION: &str = "DELETE FROM documents WHERE key = $1 AND version = $2";
const SCAN_RANGE: &str = "SELECT key, json, version FROM documents WHERE key >= $1 AND key < $2 ORDER BY key";
const SCAN_FROM: &str = "SELECT key, json, version FROM documents WHERE key >= $1 ORDER BY key";

fn conflict(key: &str) -> StorageError {
    StorageError::Conflict { key: key.to_owned() }
}

/// The version a precondition names, or `None` when it cannot name any stored version.
fn expected_version(etag: &str) -> Option<i64> {
    // Only the canonical form names a version ("007" is not version 7).
    etag.parse().ok().filter(|version: &i64| version.to_string() == etag)
}

async fn prepare(client: &impl GenericClient, sql: &str) -> Result<tokio_postgres::Statement, StorageError> {
    client.prepare_cached(sql).await.map_err(backend)
}

/// Writes one document if its precondition holds; the new version.
async fn write_one(
    client: &impl GenericClient,
    key: &str,
    json: &str,
    precondition: &Precondition,
) -> Result<String, StorageError> {
    let row = match precondition {
        Precondition::Any => client.query_opt(&prepare(client, UPSERT).await?, &[&key, &json]).await,
        Precondition::Absent => client.query_opt(&prepare(client, INSERT_ABSENT).await?, &[&key, &json]).await,
        Precondition::Version(etag) => {
            let Some(version) = expected_version(etag) else { return Err(conflict(key)) };
            client.query_opt(&prepare(client, UPDATE_VERSION).await?, &[&key, &json, &version]).await
        }
    }
    .map_err(backend)?;
    match row {
        Some(row) => Ok(row.get::<_, i64>(0).to_string()),
        None => Err(conflict(key)),
    }
}

/// Deletes one document if its precondition holds; whether it existed.
async fn delete_one(client: &impl GenericClient, key: &str, precondition: &Precondition) -> Result<bool, StorageError> {
    match precondition {
        Precondition::Any => {
            let deleted = client.execute(&prepare(client, DELETE_ANY).await?, &[&key]).await.map_err(backend)?;
            Ok(deleted > 0)
        }
        Precondition::Absent => {
            let exists = client.query_opt(&prepare(client, EXISTS).await?, &[&key]).await.map_err(backend)?;
            if exists.is_some() { Err(conflict(key)) } else { Ok(false) }
        }
        Precondition::Version(etag) => {
            let Some(version) = expected_version(etag) else { return Err(conflict(key)) };
            let deleted =
                client.execute(&prepare(client, DELETE_VERSION).await?, &[&key, &version]).await.map_err(backend)?;
            if deleted > 0 { Ok(true) } else { Err(conflict(key)) }
        }
    }
}

fn document(row: &tokio_postgres::Row, json: usize) -> Document {
    Document { json: row.get(json), etag: row.get::<_, i64>(json + 1).to_string() }
}

#[async_trait]
impl Storage for PostgresStore {
    async fn read(&self, key: &str) -> Result<Option<Document>, StorageError> {
        let client = self.client().await?;
        let row = client.query_opt(&prepare(&client, READ).await?, &[&key]).await.map_err(backend)?;
        Ok(row.map(|row| document(&row, 0)))
    }

    async fn read_many(&self, keys: &[&str]) -> Result<Vec<Option<Document>>, StorageError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let rows = client.query(&prepare(&client, READ_MANY).await?, &[&keys]).await.map_err(backend)?;
        let mut found: std::collections::HashMap<String, Document> =
            rows.iter().map(|row| (row.get::<_, String>(0), document(row, 1))).collect();
        Ok(keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                // A key asked for twice gets the document twice.
                if keys[i + 1..].contains(key) { found.get(*key).cloned() } else { found.remove(*key) }
            })
            .collect())
    }

    async fn write(&self, key: &str, json: &str, precondition: Precondition) -> Result<String, StorageError> {
        let client = self.client().await?;
        write_one(&client, key, json, &precondition).await
    }

    async fn write_many(&self, writes: &[Write]) -> Result<Vec<Option<String>>, StorageError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let mut versions = Vec::with_capacity(writes.len());
        for write in writes {
            // On a conflict the transaction is dropped, and so rolled back: nothing is written.
            match &write.json {
                Some(json) => versions.push(Some(write_one(&tx, &write.key, json, &write.precondition).await?)),
                None => {
                    delete_one(&tx, &write.key, &write.precondition).await?;
                    versions.push(None);
                }
            }
        }
        tx.commit().await.map_err(backend)?;
        Ok(versions)
    }

    async fn delete(&self, key: &str, precondition: Precondition) -> Result<bool, StorageError> {
        let client = self.client().await?;
        delete_one(&client, key, &precondition).await
    }

    async fn scan(&self, prefix: &str) -> Result<Vec<(String, Document)>, StorageError> {
        let client = self.client().await?;
        let rows = match prefix_end(prefix) {
            Some(end) => client.query(&prepare(&client, SCAN_RANGE).await?, &[&prefix, &end]).await,
            None => client.query(&prepare(&client, SCAN_FROM).await?, &[&prefix]).await,
        }
        .map_err(backend)?;
        Ok(rows.iter().map(|row| (row.get(0), document(row, 1))).collect())
    }

    async fn lock_conversation(
        &self,
        conversation_key: &str,
    ) -> Result<Option<Box<dyn ConversationLock>>, StorageError> {
        Ok(Some(Box::new(self.lock(conversation_key).await?)))
    }
}
