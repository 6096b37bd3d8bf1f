//! [`Storage`] on SQLite: versioned JSON documents in the `documents` table.

use crate::error::backend;
use crate::store::SqliteStore;
use crate::writer::WriterContext;
use async_trait::async_trait;
use botwright::storage::backend::key_range::prefix_end;
use botwright::storage::{Document, Precondition, Storage, StorageError, Write};
use rusqlite::{Connection, OptionalExtension};

const READ: &str = "SELECT json, version FROM documents WHERE key = ?1";
const VERSION: &str = "SELECT version FROM documents WHERE key = ?1";
const UPSERT: &str = include_str!("sql/upsert_document.sql");
const DELETE: &str = "DELETE FROM documents WHERE key = ?1";
const SCAN_RANGE: &str = "SELECT key, json, version FROM documents WHERE key >= ?1 AND key < ?2 ORDER BY key";
const SCAN_FROM: &str = "SELECT key, json, version FROM documents WHERE key >= ?1 ORDER BY key";

fn read_one(conn: &Connection, key: &str) -> Result<Option<Document>, StorageError> {
    conn.prepare_cached(READ)
        .and_then(|mut stmt| {
            stmt.query_row([key], |row| Ok(Document { json: row.get(0)?, etag: row.get::<_, i64>(1)?.to_string() }))
                .optional()
        })
        .map_err(backend)
}

fn current_version(conn: &Connection, key: &str) -> Result<Option<i64>, StorageError> {
    conn.prepare_cached(VERSION)
        .and_then(|mut stmt| stmt.query_row([key], |row| row.get(0)).optional())
        .map_err(backend)
}

fn check(key: &str, current: Option<i64>, precondition: &Precondition) -> Result<(), StorageError> {
    let ok = match (precondition, current) {
        (Precondition::Any, _) | (Precondition::Absent, None) => true,
        (Precondition::Absent, Some(_)) | (Precondition::Version(_), None) => false,
        (Precondition::Version(expected), Some(current)) => *expected == current.to_string(),
    };
    if ok { Ok(()) } else { Err(StorageError::Conflict { key: key.to_owned() }) }
}

fn upsert(ctx: &mut WriterContext, key: &str, json: &str) -> Result<String, StorageError> {
    let version = ctx.next_version();
    ctx.conn.prepare_cached(UPSERT).and_then(|mut stmt| stmt.execute((key, json, version))).map_err(backend)?;
    Ok(version.to_string())
}

fn remove(ctx: &WriterContext, key: &str) -> Result<bool, StorageError> {
    let deleted = ctx.conn.prepare_cached(DELETE).and_then(|mut stmt| stmt.execute([key])).map_err(backend)?;
    Ok(deleted > 0)
}

#[async_trait]
impl Storage for SqliteStore {
    async fn read(&self, key: &str) -> Result<Option<Document>, StorageError> {
        let key = key.to_owned();
        self.readers.read(move |conn| read_one(conn, &key)).await
    }

    async fn read_many(&self, keys: &[&str]) -> Result<Vec<Option<Document>>, StorageError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        self.readers
            .read(move |conn| {
                // One snapshot for all the keys.
                let tx = conn.unchecked_transaction().map_err(backend)?;
                keys.iter().map(|key| read_one(&tx, key)).collect()
            })
            .await
    }

    async fn write(&self, key: &str, json: &str, precondition: Precondition) -> Result<String, StorageError> {
        let (key, json) = (key.to_owned(), json.to_owned());
        self.writer
            .write(move |ctx| {
                check(&key, current_version(&ctx.conn, &key)?, &precondition)?;
                upsert(ctx, &key, &json)
            })
            .await
    }

    async fn write_many(&self, writes: &[Write]) -> Result<Vec<Option<String>>, StorageError> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let writes = writes.to_vec();
        self.writer
            .write(move |ctx| {
                // Every precondition is checked against the state before the batch.
                for write in &writes {
                    check(&write.key, current_version(&ctx.conn, &write.key)?, &write.precondition)?;
                }
                let mut versions = Vec::with_capacity(writes.len());
                for write in &writes {
                    match &write.json {
                        Some(json) => versions.push(Some(upsert(ctx, &write.key, json)?)),
                        None => {
                            remove(ctx, &write.key)?;
                            versions.push(None);
                        }
                    }
                }
                Ok(versions)
            })
            .await
    }

    async fn delete(&self, key: &str, precondition: Precondition) -> Result<bool, StorageError> {
        let key = key.to_owned();
        self.writer
            .write(move |ctx| {
                if precondition != Precondition::Any {
                    check(&key, current_version(&ctx.conn, &key)?, &precondition)?;
                }
                remove(ctx, &key)
            })
            .await
    }

    async fn scan(&self, prefix: &str) -> Result<Vec<(String, Document)>, StorageError> {
        let prefix = prefix.to_owned();
        self.readers
            .read(move |conn| {
                let end = prefix_end(&prefix);
                let sql = if end.is_some() { SCAN_RANGE } else { SCAN_FROM };
                let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
                let map = |row: &rusqlite::Row<'_>| {
                    Ok((
                        row.get::<_, String>(0)?,
                        Document { json: row.get(1)?, etag: row.get::<_, i64>(2)?.to_string() },
                    ))
                };
                let rows = match &end {
                    Some(end) => stmt.query_map((&prefix, end), map),
                    None => stmt.query_map([&prefix], map),
                };
                rows.and_then(|rows| rows.collect::<Result<Vec<_>, _>>()).map_err(backend)
            })
            .await
    }
}
