//! SQLite storage for botwright: state documents, the outbox and scheduled jobs in one file,
//! nothing to install.
//!
//! [`SqliteStore`] implements the core's [`Storage`](botwright::storage::Storage),
//! [`Outbox`](botwright::storage::Outbox) and [`JobStore`](botwright::storage::JobStore).
//!
//! - **WAL mode, one writer.** A dedicated thread owns the only write connection; reads use a
//!   few reader connections in blocking tasks, concurrently with the writer.
//! - **Group commit.** Writes waiting for the writer are committed together in one transaction,
//!   each in its own savepoint (a version conflict rolls back that write alone). A write returns
//!   only after its batch is committed.
//! - **Durability.** By default `synchronous = FULL`: a returned write, an enqueued outbox
//!   message included, is on disk and survives a power loss; group commit makes that one flush
//!   per batch. [`Synchronous::Normal`] trades the last commits on power loss (never
//!   consistency) for fewer flushes.
//! - **Schema.** The file is marked as botwright's (`PRAGMA application_id`) and versioned
//!   (`PRAGMA user_version`); numbered migrations in `src/migrations/*.sql` are applied at open.
//!   A file that is not SQLite, an SQLite database of something else, or a database from a newer
//!   build is refused with a typed [`SqliteError`].
//!
//! ```no_run
//! use botwright_sqlite::{SqliteConfig, SqliteStore, Synchronous};
//! # async fn example() -> Result<(), botwright_sqlite::SqliteError> {
//! let store = SqliteStore::open_with(SqliteConfig::new("botwright.db").synchronous(Synchronous::Full)).await?;
//! # let _ = store; Ok(()) }
//! ```

mod config;
mod documents;
mod error;
mod jobs;
mod outbox;
mod readers;
mod schema;
mod store;
mod writer;

pub use config::{SqliteConfig, Synchronous};
pub use error::SqliteError;
pub use store::SqliteStore;
pub use writer::WriteStats;
