//! Choosing a store: `memory`, `sqlite:PATH` or `postgres://...`.

use anyhow::{Context, bail};
use botwright::Storage;
use botwright::bot::BotBuilder;
use botwright::storage::MemoryStore;
use botwright_postgres::{PostgresConfig, PostgresStore};
use botwright_sqlite::SqliteStore;
use std::sync::Arc;

/// An open store of any kind.
#[derive(Debug, Clone)]
pub enum Store {
    /// In process memory.
    Memory(Arc<MemoryStore>),
    /// A SQLite file.
    Sqlite(Arc<SqliteStore>),
    /// A PostgreSQL database.
    Postgres(Arc<PostgresStore>),
}

impl Store {
    /// Opens the store `spec` names.
    pub async fn open(spec: &str) -> anyhow::Result<Store> {
        if spec == "memory" {
            return Ok(Store::Memory(Arc::new(MemoryStore::new())));
        }
        if let Some(path) = spec.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                bail!("`sqlite:` needs a file path, e.g. sqlite:botwright.db");
            }
            let store =
                SqliteStore::open(path).await.with_context(|| format!("cannot open the SQLite store {path:?}"))?;
            return Ok(Store::Sqlite(Arc::new(store)));
        }
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            let (url, schema) = split_schema(spec);
            let mut config = PostgresConfig::from_url(&url).context("invalid PostgreSQL URL")?;
            if let Some(schema) = schema {
                config = config.schema(schema).context("invalid PostgreSQL schema name")?;
            }
            let store = PostgresStore::connect_with(config).await.context("cannot connect to the PostgreSQL store")?;
            return Ok(Store::Postgres(Arc::new(store)));
        }
        bail!("unknown store {spec:?}: use `memory`, `sqlite:PATH` or `postgres://...`")
    }

    /// The store's state documents.
    pub fn storage(&self) -> Arc<dyn Storage> {
        match self {
            Store::Memory(s) => s.clone(),
            Store::Sqlite(s) => s.clone(),
            Store::Postgres(s) => s.clone(),
        }
    }

    /// Gives a bot this store for state, outbox and jobs.
    pub fn apply(&self, builder: BotBuilder) -> BotBuilder {
        match self {
            Store::Memory(s) => builder.store(s.clone()),
            Store::Sqlite(s) => builder.store(s.clone()),
            Store::Postgres(s) => builder.store(s.clone()),
        }
    }
}

/// Takes a `schema=NAME` query parameter (botwright's own) out of a PostgreSQL URL.
fn split_schema(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_owned(), None) };
    let mut schema = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("schema=") {
            Some(name) => {
                schema = Some(name.to_owned());
                false
            }
            None => !pair.is_empty(),
        })
        .collect();
    let url = if rest.is_empty() { base.to_owned() } else { format!("{base}?{}", rest.join("&")) };
    (url, schema)
}

#[cfg(test)]
mod tests {
    use super::split_schema;

    #[test]
    fn the_schema_parameter_is_taken_out_of_the_url() {
        assert_eq!(split_schema("postgres://u@h/db"), ("postgres://u@h/db".into(), None));
        assert_eq!(split_schema("postgres://u@h/db?schema=bot_a"), ("postgres://u@h/db".into(), Some("bot_a".into())));
        assert_eq!(
            split_schema("postgres://u@h/db?sslmode=disable&schema=x&application_name=b"),
            ("postgres://u@h/db?sslmode=disable&application_name=b".into(), Some("x".into()))
        );
    }
}
