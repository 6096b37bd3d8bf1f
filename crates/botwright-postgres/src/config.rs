//! How to connect a PostgreSQL store.

use crate::error::PostgresError;
use std::str::FromStr;
use std::time::Duration;

/// Settings of a [`PostgresStore`](crate::PostgresStore).
///
/// ```
/// use botwright_postgres::PostgresConfig;
/// let config = PostgresConfig::from_url("postgres://bot@db.internal/botwright")?
///     .schema("bot_one")?
///     .pool_size(16);
/// assert_eq!(config.schema_name(), "bot_one");
/// # Ok::<(), botwright_postgres::PostgresError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PostgresConfig {
    pub(crate) pg: tokio_postgres::Config,
    pub(crate) schema: String,
    pub(crate) pool_size: usize,
    pub(crate) lock_pool_size: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) wait_timeout: Duration,
}

impl PostgresConfig {
    /// Settings from a connection string, URL (`postgres://user@host:port/db?...`) or key-value
    /// (`host=... user=... dbname=...`) form, with the defaults of [`PostgresConfig::new`].
    pub fn from_url(url: &str) -> Result<PostgresConfig, PostgresError> {
        tokio_postgres::Config::from_str(url).map(PostgresConfig::new).map_err(PostgresError::InvalidUrl)
    }

    /// Settings for a parsed client configuration, with defaults: schema `public`, 16 pooled
    /// connections for queries, up to 64 more for held conversation locks, 10 s to connect,
    /// 30 s to wait for a pooled connection. Connections are not encrypted (`NoTls`).
    pub fn new(pg: tokio_postgres::Config) -> PostgresConfig {
        PostgresConfig {
            pg,
            schema: "public".to_owned(),
            pool_size: 16,
            lock_pool_size: 64,
            connect_timeout: Duration::from_secs(10),
            wait_timeout: Duration::from_secs(30),
        }
    }

    /// The schema holding the store's tables (created if missing). Several stores can share a
    /// database in different schemas.
    pub fn schema(mut self, schema: impl Into<String>) -> Result<PostgresConfig, PostgresError> {
        let schema = schema.into();
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && !schema.starts_with(|c: char| c.is_ascii_digit())
            && schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(PostgresError::InvalidSchema(schema));
        }
        self.schema = schema;
        Ok(self)
    }

    /// The schema holding the store's tables.
    pub fn schema_name(&self) -> &str {
        &self.schema
    }

    /// The most connections used for queries at once (at least 1).
    pub fn pool_size(mut self, size: usize) -> PostgresConfig {
        self.pool_size = size.max(1);
        self
    }

    /// The most conversation locks held at once: each holds a connection of its own, apart from
    /// the query pool, for as long as it is held (at least 1).
    pub fn lock_pool_size(mut self, size: usize) -> PostgresConfig {
        self.lock_pool_size = size.max(1);
        self
    }

    /// How long to try to open a connection before a call fails.
    pub fn connect_timeout(mut self, timeout: Duration) -> PostgresConfig {
        self.connect_timeout = timeout;
        self
    }

    /// How long a call waits for a free pooled connection before failing.
    pub fn wait_timeout(mut self, timeout: Duration) -> PostgresConfig {
        self.wait_timeout = timeout;
        self
    }
}
