//! How to open an SQLite store.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// When a commit reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Synchronous {
    /// Every commit is flushed to disk before the write returns (`PRAGMA synchronous = FULL`):
    /// an accepted write, outbox message included, survives a power loss. Concurrent writes share
    /// one flush (group commit), so this costs one flush per batch, not per write.
    #[default]
    Full,
    /// Commits reach the disk at the next checkpoint (`PRAGMA synchronous = NORMAL`): the
    /// database is never corrupted and survives a crash of the process, but the last commits can
    /// be lost on a power loss or an operating system crash.
    Normal,
}

/// Settings of a [`SqliteStore`](crate::SqliteStore).
///
/// ```
/// use botwright_sqlite::{SqliteConfig, Synchronous};
/// let config = SqliteConfig::new("botwright.db").readers(8).synchronous(Synchronous::Full);
/// assert_eq!(config.path().to_str(), Some("botwright.db"));
/// ```
#[derive(Debug, Clone)]
pub struct SqliteConfig {
    pub(crate) path: PathBuf,
    pub(crate) readers: usize,
    pub(crate) synchronous: Synchronous,
    pub(crate) max_batch: usize,
    pub(crate) busy_timeout: Duration,
    pub(crate) cache_kib: u32,
}

/// The default page cache of each connection, in KiB.
const DEFAULT_CACHE_KIB: u32 = 512;

impl SqliteConfig {
    /// Defaults for the database file at `path` (created if missing): 4 reader connections,
    /// [`Synchronous::Full`], batches of up to 1024 writes, 5 s busy timeout, 512 KiB of page
    /// cache per connection.
    pub fn new(path: impl AsRef<Path>) -> Self {
        SqliteConfig {
            path: path.as_ref().to_path_buf(),
            readers: 4,
            synchronous: Synchronous::Full,
            max_batch: 1024,
            busy_timeout: Duration::from_secs(5),
            cache_kib: DEFAULT_CACHE_KIB,
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many connections serve reads at once (at least 1).
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers.max(1);
        self
    }

    /// When commits reach the disk.
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// The most writes the writer thread commits in one transaction (at least 1).
    pub fn max_batch(mut self, max_batch: usize) -> Self {
        self.max_batch = max_batch.max(1);
        self
    }

    /// The page cache of each connection (the writer and every reader), in KiB (`PRAGMA
    /// cache_size`; default 512). Pages not in it are read again from the file, usually from the
    /// operating system's cache; SQLite's own default of 2000 KiB per connection made the cache
    /// most of the store's memory.
    pub fn cache_kib(mut self, kib: u32) -> Self {
        self.cache_kib = kib;
        self
    }

    /// How long a connection waits for a lock held by another process before failing.
    pub fn busy_timeout(mut self, busy_timeout: Duration) -> Self {
        self.busy_timeout = busy_timeout;
        self
    }
}
