//! What can go wrong in the SQLite store.

use botwright::storage::StorageError;
use std::path::PathBuf;
use std::sync::Arc;

/// An error of the SQLite store.
///
/// Converts into [`StorageError::Unavailable`] when [`is_unavailable`](Self::is_unavailable), else
/// [`StorageError::Backend`], where the storage traits need one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SqliteError {
    /// The file exists but is not an SQLite database at all.
    #[error("{path}: not a database file (not SQLite, or damaged)")]
    NotADatabase {
        /// The file.
        path: PathBuf,
    },
    /// The file is an SQLite database that botwright did not create.
    #[error("{path}: an SQLite database that is not a botwright database ({reason})")]
    ForeignDatabase {
        /// The file.
        path: PathBuf,
        /// What gave it away.
        reason: String,
    },
    /// The database was written by a newer botwright, with a schema this build does not know.
    #[error("{path}: schema version {found} is newer than this build supports (up to {supported}); upgrade botwright")]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this build knows.
        supported: i64,
    },
    /// The database could not be opened or set up.
    #[error("{path}: cannot open the database: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// The file refused to switch to write-ahead logging (e.g. it is on a file system without
    /// shared memory support).
    #[error("{path}: cannot use WAL journal mode (got {mode:?})")]
    NoWal {
        /// The file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// A schema migration failed; the database is left at the previous version.
    #[error("migrating the schema to version {version} failed: {source}")]
    Migration {
        /// The version being applied.
        version: i64,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// A statement failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Committing a batch of writes failed; none of its writes took effect.
    #[error("committing a batch of writes failed: {0}")]
    Commit(Arc<rusqlite::Error>),
    /// The writer thread is gone (it could not start, or a write panicked).
    #[error("the SQLite writer thread has stopped")]
    WriterStopped,
    /// A write failed unexpectedly (a bug); it was rolled back.
    #[error("a write failed unexpectedly and was rolled back")]
    WritePanicked,
    /// A blocking read task failed.
    #[error("a read task failed: {0}")]
    ReadTask(String),
    /// A stored value is outside the range this build can represent.
    #[error("stored value out of range: {0}")]
    OutOfRange(&'static str),
}

impl SqliteError {
    /// Whether the failure may pass by waiting: the disk is full, the file cannot be opened,
    /// written or read (an I/O error, a read-only file system) or is locked by another process.
    pub fn is_unavailable(&self) -> bool {
        let statement = match self {
            SqliteError::Sqlite(e) | SqliteError::Open { source: e, .. } => e,
            SqliteError::Commit(e) => e.as_ref(),
            _ => return false,
        };
        matches!(
            statement.sqlite_error_code(),
            Some(
                rusqlite::ErrorCode::DiskFull
                    | rusqlite::ErrorCode::SystemIoFailure
                    | rusqlite::ErrorCode::CannotOpen
                    | rusqlite::ErrorCode::DatabaseBusy
                    | rusqlite::ErrorCode::DatabaseLocked
                    | rusqlite::ErrorCode::ReadOnly
            )
        )
    }
}

impl From<SqliteError> for StorageError {
    fn from(error: SqliteError) -> Self {
        if error.is_unavailable() {
            StorageError::Unavailable(Box::new(error))
        } else {
            StorageError::Backend(Box::new(error))
        }
    }
}

/// A statement error as a storage error.
pub(crate) fn backend(error: rusqlite::Error) -> StorageError {
    SqliteError::Sqlite(error).into()
}
