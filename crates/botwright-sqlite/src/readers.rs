//! Reader connections: reads run on a small pool of connections in blocking tasks, beside the
//! writer, each seeing the last committed state (WAL lets readers and the writer work at once).

use crate::config::SqliteConfig;
use crate::error::SqliteError;
use crate::schema;
use botwright::storage::StorageError;
use rusqlite::Connection;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;

/// Idle reader connections, at most `config.readers` in use at once.
#[derive(Debug)]
pub(crate) struct Readers {
    config: SqliteConfig,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    pub(crate) fn new(config: SqliteConfig) -> Arc<Readers> {
        let permits = Arc::new(Semaphore::new(config.readers));
        Arc::new(Readers { idle: Mutex::new(Vec::with_capacity(config.readers)), config, permits })
    }

    fn take(&self) -> Result<Connection, SqliteError> {
        let idle = self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
        match idle {
            Some(conn) => Ok(conn),
            None => schema::open_reader(&self.config),
        }
    }

    fn put(&self, conn: Connection) {
        self.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(conn);
    }

    /// Opens one connection ahead of the first read.
    pub(crate) fn warm_up(&self) -> Result<(), SqliteError> {
        let conn = self.take()?;
        self.put(conn);
        Ok(())
    }

    /// Runs `work` on a reader connection in a blocking task.
    pub(crate) async fn read<R, F>(self: &Arc<Self>, work: F) -> Result<R, StorageError>
    where
        F: FnOnce(&Connection) -> Result<R, StorageError> + Send + 'static,
        R: Send + 'static,
    {
        let permit =
            Arc::clone(&self.permits).acquire_owned().await.map_err(|e| SqliteError::ReadTask(e.to_string()))?;
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let conn = readers.take()?;
            let result = work(&conn);
            if conn.is_autocommit() {
                readers.put(conn);
            }
            result
        })
        .await
        .map_err(|e| SqliteError::ReadTask(e.to_string()))?
    }
}
