//! What can go wrong in the PostgreSQL store.

use botwright::storage::StorageError;

/// An error of the PostgreSQL store.
///
/// Converts into [`StorageError::Unavailable`] when [`is_unavailable`](Self::is_unavailable), else
/// [`StorageError::Backend`], where the storage traits need one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostgresError {
    /// The connection string could not be parsed.
    #[error("invalid PostgreSQL connection string: {}", describe(.0))]
    InvalidUrl(#[source] tokio_postgres::Error),
    /// The schema name is not one the store accepts.
    #[error(
        "invalid schema name {0:?}: use 1 to 63 lowercase ASCII letters, digits and underscores, not starting with a digit"
    )]
    InvalidSchema(String),
    /// The schema was migrated by a newer botwright, with tables this build does not know.
    #[error(
        "schema {schema:?} is at version {found}, newer than this build supports (up to {supported}); upgrade botwright"
    )]
    NewerSchema {
        /// The schema.
        schema: String,
        /// The version found.
        found: i32,
        /// The newest version this build knows.
        supported: i32,
    },
    /// A schema migration failed; the schema is left at the previous version.
    #[error("migrating schema {schema:?} to version {version} failed: {}", describe(source))]
    Migration {
        /// The schema.
        schema: String,
        /// The version being applied.
        version: i32,
        /// Why.
        #[source]
        source: tokio_postgres::Error,
    },
    /// A statement failed, or the connection was lost.
    #[error("PostgreSQL: {}", describe(.0))]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool (the server is unreachable, or the pool is
    /// exhausted for too long).
    #[error("no PostgreSQL connection: {}", describe(.0))]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The connection pool could not be built.
    #[error("building the PostgreSQL connection pool: {0}")]
    Build(#[from] deadpool_postgres::BuildError),
}

/// What went wrong, in the server's own words: tokio-postgres and deadpool show a server error as
/// a bare "db error" and hide the cause of a lost connection in their sources. A server error
/// reads `ERROR 3D000: database "x" does not exist (detail: ...; hint: ...)`; anything else is
/// its chain of causes (`error connecting to server: Connection refused (os error 111)`).
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut causes = Vec::new();
    let mut next = Some(error);
    while let Some(cause) = next {
        if let Some(db) = cause.downcast_ref::<tokio_postgres::error::DbError>() {
            let mut text = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
            let extras: Vec<String> = [("detail", db.detail()), ("hint", db.hint())]
                .into_iter()
                .filter_map(|(name, value)| value.map(|v| format!("{name}: {v}")))
                .collect();
            if !extras.is_empty() {
                text.push_str(&format!(" ({})", extras.join("; ")));
            }
            return text;
        }
        let text = cause.to_string();
        // A wrapper that only repeats its source ("db error") adds nothing.
        if text != "db error" && !causes.iter().any(|c: &String| c.contains(&text)) {
            causes.push(text);
        }
        next = cause.source();
    }
    causes.join(": ")
}

impl PostgresError {
    /// Whether the failure may pass by waiting: no connection could be had, the connection was
    /// lost, or the server said it cannot serve now (SQLSTATE class 08, connection exceptions;
    /// 57P01–57P03, shutting down or not yet accepting; class 53, insufficient resources;
    /// 58030, an I/O error).
    pub fn is_unavailable(&self) -> bool {
        match self {
            PostgresError::Pool(_) => true,
            PostgresError::Postgres(e) | PostgresError::Migration { source: e, .. } => postgres_unavailable(e),
            _ => false,
        }
    }
}

fn postgres_unavailable(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    match error.code() {
        Some(code) => {
            let code = code.code();
            code.starts_with("08") || code.starts_with("53") || matches!(code, "57P01" | "57P02" | "57P03" | "58030")
        }
        // No server error: the failure is the connection's (its source is an I/O error).
        None => {
            let mut next = std::error::Error::source(error);
            while let Some(cause) = next {
                if cause.is::<std::io::Error>() {
                    return true;
                }
                next = cause.source();
            }
            false
        }
    }
}

impl From<PostgresError> for StorageError {
    fn from(error: PostgresError) -> Self {
        if error.is_unavailable() {
            StorageError::Unavailable(Box::new(error))
        } else {
            StorageError::Backend(Box::new(error))
        }
    }
}

/// A statement error as a storage error.
pub(crate) fn backend(error: tokio_postgres::Error) -> StorageError {
    PostgresError::Postgres(error).into()
}

/// A pool error as a storage error.
pub(crate) fn no_connection(error: deadpool_postgres::PoolError) -> StorageError {
    PostgresError::Pool(error).into()
}
