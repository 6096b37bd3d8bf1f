//! The store: one writer thread, a few reader connections, one database file.

use crate::config::{SqliteConfig, Synchronous};
use crate::error::SqliteError;
use crate::readers::Readers;
use crate::schema;
use crate::writer::{WriteStats, Writer};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// State, outbox and scheduled jobs in one SQLite file.
///
/// Implements [`Storage`](botwright::storage::Storage), [`Outbox`](botwright::storage::Outbox)
/// and [`JobStore`](botwright::storage::JobStore). The database is in WAL mode; all writes go
/// through one writer thread that commits concurrent writes together (group commit), and reads
/// run on a few reader connections in blocking tasks, so the async runtime never waits on disk.
///
/// One process uses a file at a time: [`lock_conversation`](botwright::storage::Storage::lock_conversation)
/// returns `None` (the bot's in-process lock is enough). Use PostgreSQL for several instances.
///
/// ```no_run
/// use botwright::storage::{Precondition, Storage};
/// use botwright_sqlite::SqliteStore;
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let store = SqliteStore::open("botwright.db").await?;
/// let version = store.write("user/u1", r#"{"name":"Ada"}"#, Precondition::Absent).await?;
/// let doc = store.read("user/u1").await?.expect("just written");
/// assert_eq!(doc.etag, version);
/// # Ok(()) }
/// ```
pub struct SqliteStore {
    pub(crate) writer: Writer,
    pub(crate) readers: Arc<Readers>,
    path: PathBuf,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` with default settings ([`SqliteConfig::new`]).
    ///
    /// Fails with [`SqliteError::NotADatabase`], [`SqliteError::ForeignDatabase`] or
    /// [`SqliteError::NewerSchema`] when the file is not one this build can use.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, SqliteError> {
        SqliteStore::open_with(SqliteConfig::new(path)).await
    }

    /// Opens (or creates) a database with these settings, in a blocking task.
    pub async fn open_with(config: SqliteConfig) -> Result<SqliteStore, SqliteError> {
        tokio::task::spawn_blocking(move || SqliteStore::open_blocking(config))
            .await
            .map_err(|e| SqliteError::ReadTask(e.to_string()))?
    }

    /// Opens (or creates) a database with these settings, blocking the calling thread (for use
    /// outside an async runtime). The store's methods need a Tokio runtime.
    pub fn open_blocking(config: SqliteConfig) -> Result<SqliteStore, SqliteError> {
        let conn = schema::open_writer(&config)?;
        let writer = Writer::start(conn, config.max_batch, config.synchronous == Synchronous::Full)?;
        let path = config.path.clone();
        // Open one reader now, so that a problem shows at open rather than at the first read.
        let readers = Readers::new(config);
        readers.warm_up()?;
        Ok(SqliteStore { writer, readers, path })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many writes the writer has committed, in how many transactions, since the store was
    /// opened (the ratio shows how well group commit works under the current load).
    pub fn write_stats(&self) -> WriteStats {
        self.writer.stats()
    }

    /// The newest schema version this build knows (and migrates databases to).
    pub fn schema_version() -> i64 {
        schema::LATEST
    }
}
