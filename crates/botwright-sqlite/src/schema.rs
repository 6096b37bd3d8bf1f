//! Opening a database file: recognising a botwright database and migrating its schema.
//!
//! A botwright database carries `PRAGMA application_id` = [`APPLICATION_ID`] and its schema
//! version in `PRAGMA user_version`. Migrations are numbered SQL files in `migrations/`, each
//! applied in its own transaction together with the new version number, so a crash mid-migration
//! leaves the previous version intact.

use crate::config::{SqliteConfig, Synchronous};
use crate::error::SqliteError;
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};
use std::path::Path;

/// `PRAGMA application_id` of a botwright database: "bwrt".
pub(crate) const APPLICATION_ID: i32 = 0x6277_7274;

/// The migrations, in order; the number is the schema version after applying the file.
const MIGRATIONS: &[(i64, &str)] = &[(1, include_str!("migrations/0001_initial.sql"))];

/// The newest schema version this build knows.
pub(crate) const LATEST: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

fn open_error(path: &Path, source: rusqlite::Error) -> SqliteError {
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => SqliteError::NotADatabase { path: path.to_path_buf() },
        _ => SqliteError::Open { path: path.to_path_buf(), source },
    }
}

fn configure(conn: &Connection, config: &SqliteConfig) -> Result<(), rusqlite::Error> {
    conn.busy_timeout(config.busy_timeout)?;
    conn.set_prepared_statement_cache_capacity(64);
    let synchronous = match config.synchronous {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", synchronous)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // A negative cache size is in KiB.
    conn.pragma_update(None, "cache_size", -i64::from(config.cache_kib))?;
    Ok(())
}

/// Opens the writer connection: checks that the file is a botwright database (or new), switches
/// it to WAL and applies pending migrations.
pub(crate) fn open_writer(config: &SqliteConfig) -> Result<Connection, SqliteError> {
    let path = config.path.as_path();
    let conn = Connection::open(path).map_err(|e| open_error(path, e))?;
    conn.busy_timeout(config.busy_timeout).map_err(|e| open_error(path, e))?;
    // The first read of the header tells garbage from SQLite.
    let application_id: i32 =
        conn.pragma_query_value(None, "application_id", |row| row.get(0)).map_err(|e| open_error(path, e))?;
    let version: i64 =
        conn.pragma_query_value(None, "user_version", |row| row.get(0)).map_err(|e| open_error(path, e))?;
    check_identity(&conn, path, application_id, version)?;

    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)).map_err(|e| open_error(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(SqliteError::NoWal { path: path.to_path_buf(), mode });
    }
    configure(&conn, config).map_err(|e| open_error(path, e))?;
    migrate(conn, path)
}

fn check_identity(conn: &Connection, path: &Path, application_id: i32, version: i64) -> Result<(), SqliteError> {
    if application_id == APPLICATION_ID {
        if version > LATEST {
            return Err(SqliteError::NewerSchema { path: path.to_path_buf(), found: version, supported: LATEST });
        }
        return Ok(());
    }
    if application_id != 0 {
        return Err(SqliteError::ForeignDatabase {
            path: path.to_path_buf(),
            reason: format!("application id {application_id:#x}"),
        });
    }
    let objects: i64 =
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0)).map_err(|e| open_error(path, e))?;
    if objects > 0 || version != 0 {
        return Err(SqliteError::ForeignDatabase {
            path: path.to_path_buf(),
            reason: format!("{objects} schema objects, user version {version}, no botwright application id"),
        });
    }
    Ok(())
}

fn migrate(mut conn: Connection, path: &Path) -> Result<Connection, SqliteError> {
    for &(target, sql) in MIGRATIONS {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| SqliteError::Migration { version: target, source })?;
        // Another process may have migrated since the check above.
        let current: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(|source| SqliteError::Migration { version: target, source })?;
        if current > LATEST {
            return Err(SqliteError::NewerSchema { path: path.to_path_buf(), found: current, supported: LATEST });
        }
        if current >= target {
            continue;
        }
        let apply = || -> Result<(), rusqlite::Error> {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
            tx.pragma_update(None, "user_version", target)?;
            Ok(())
        };
        apply().map_err(|source| SqliteError::Migration { version: target, source })?;
        tx.commit().map_err(|source| SqliteError::Migration { version: target, source })?;
        tracing::info!(path = %path.display(), version = target, "applied botwright schema migration");
    }
    Ok(conn)
}

/// Opens a reader connection on a database the writer has already set up.
pub(crate) fn open_reader(config: &SqliteConfig) -> Result<Connection, SqliteError> {
    let path = config.path.as_path();
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| open_error(path, e))?;
    configure(&conn, config).map_err(|e| open_error(path, e))?;
    conn.pragma_update(None, "query_only", true).map_err(|e| open_error(path, e))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache_size(conn: &Connection) -> i64 {
        conn.pragma_query_value(None, "cache_size", |row| row.get(0)).unwrap()
    }

    #[test]
    fn connections_use_the_configured_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let config = SqliteConfig::new(dir.path().join("bot.db"));
        let writer = open_writer(&config).unwrap();
        assert_eq!(cache_size(&writer), -512);
        assert_eq!(cache_size(&open_reader(&config).unwrap()), -512);
        let config = config.cache_kib(4096);
        assert_eq!(cache_size(&open_reader(&config).unwrap()), -4096);
    }
}
