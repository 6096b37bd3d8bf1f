//! The store: a pool of connections for queries, another for held conversation locks.

use crate::config::PostgresConfig;
use crate::error::{PostgresError, no_connection};
use crate::schema;
use botwright::storage::StorageError;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use std::fmt;
use tokio_postgres::NoTls;

/// State, outbox and scheduled jobs in PostgreSQL, shared by every bot instance on one database.
///
/// Implements [`Storage`](botwright::storage::Storage), [`Outbox`](botwright::storage::Outbox)
/// and [`JobStore`](botwright::storage::JobStore):
///
/// - writes are version-checked in SQL (`UPDATE … WHERE version = …`, `INSERT … ON CONFLICT DO
///   NOTHING` for a key that must be absent);
/// - outbox entries and jobs are claimed with `FOR UPDATE SKIP LOCKED` and leases (owner and
///   expiry), so any instance can deliver or fire and a dead instance's claims are taken over
///   once their leases expire (lease times come from the instances' clocks, which should agree);
/// - [`lock_conversation`](botwright::storage::Storage::lock_conversation) takes a session
///   advisory lock on a connection of its own, held until the guard drops;
/// - a lost connection fails the call in flight with [`StorageError::Unavailable`]; the pool opens
///   new connections for the next calls once the server is back.
///
/// ```no_run
/// use botwright::storage::{Precondition, Storage};
/// use botwright_postgres::{PostgresConfig, PostgresStore};
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let config = PostgresConfig::from_url("postgres://bot@127.0.0.1/botwright")?.schema("bot")?;
/// let store = PostgresStore::connect_with(config).await?;
/// store.write("user/u1", r#"{"name":"Ada"}"#, Precondition::Absent).await?;
/// # Ok(()) }
/// ```
pub struct PostgresStore {
    pool: Pool,
    pub(crate) lock_pool: Pool,
    schema: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("schema", &self.schema)
            .field("pool", &self.pool.status())
            .field("lock_pool", &self.lock_pool.status())
            .finish()
    }
}

fn pool(config: &PostgresConfig, size: usize) -> Result<Pool, PostgresError> {
    let mut pg = config.pg.clone();
    // Every connection works in the store's schema (a validated plain identifier).
    let options = match pg.get_options() {
        Some(existing) => format!("{existing} -c search_path={}", config.schema),
        None => format!("-c search_path={}", config.schema),
    };
    pg.options(&options);
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(config.connect_timeout);
    }
    let manager = Manager::from_config(pg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Ok(Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .create_timeout(Some(config.connect_timeout))
        .wait_timeout(Some(config.wait_timeout))
        .build()?)
}

impl PostgresStore {
    /// Connects with default settings ([`PostgresConfig::new`], schema `public`) and migrates.
    pub async fn connect(url: &str) -> Result<PostgresStore, PostgresError> {
        PostgresStore::connect_with(PostgresConfig::from_url(url)?).await
    }

    /// Connects, creates the schema if needed and applies pending migrations.
    ///
    /// Fails with [`PostgresError::NewerSchema`] when the schema was migrated by a newer build.
    pub async fn connect_with(config: PostgresConfig) -> Result<PostgresStore, PostgresError> {
        let store = PostgresStore {
            pool: pool(&config, config.pool_size)?,
            lock_pool: pool(&config, config.lock_pool_size)?,
            schema: config.schema.clone(),
        };
        let mut client = store.pool.get().await?;
        schema::migrate(&mut client, &store.schema).await?;
        Ok(store)
    }

    /// The schema holding the store's tables.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The newest schema version this build knows (and migrates schemas to).
    pub fn schema_version() -> i32 {
        schema::LATEST
    }

    /// A pooled connection for queries.
    pub(crate) async fn client(&self) -> Result<Object, StorageError> {
        self.pool.get().await.map_err(no_connection)
    }
}
