//! PostgreSQL storage for botwright: state documents, the outbox and scheduled jobs in one
//! database shared by several bot instances.
//!
//! [`PostgresStore`] implements the core's [`Storage`](botwright::storage::Storage),
//! [`Outbox`](botwright::storage::Outbox) and [`JobStore`](botwright::storage::JobStore) over a
//! pool of `tokio-postgres` connections (`deadpool-postgres`). Its tables live in one schema
//! (default `public`), created and migrated at connect from the numbered SQL files in
//! `src/migrations/`.
//!
//! ```no_run
//! use botwright_postgres::{PostgresConfig, PostgresStore};
//! # async fn example() -> Result<(), botwright_postgres::PostgresError> {
//! let store = PostgresStore::connect("postgres://bot@127.0.0.1:5432/botwright").await?;
//! let other_bot = PostgresStore::connect_with(
//!     PostgresConfig::from_url("host=127.0.0.1 user=bot dbname=botwright")?.schema("other_bot")?.pool_size(8),
//! )
//! .await?;
//! # let _ = (store, other_bot); Ok(()) }
//! ```

mod config;
mod documents;
mod error;
mod jobs;
mod lock;
mod outbox;
mod schema;
mod store;

pub use config::PostgresConfig;
pub use error::PostgresError;
pub use store::PostgresStore;
