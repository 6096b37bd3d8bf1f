//! Migrations: numbered SQL files in `migrations/`, applied at connect inside one transaction
//! under an advisory lock (so instances starting together migrate once), with the version kept in
//! the `botwright_schema` table of the store's schema.

use crate::error::PostgresError;
use deadpool_postgres::Object;

/// The migrations, in order; the number is the schema version after applying the file.
const MIGRATIONS: &[(i32, &str)] = &[(1, include_str!("migrations/0001_initial.sql"))];

/// The newest schema version this build knows.
pub(crate) const LATEST: i32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// Advisory lock class (two-key form) under which migrations run.
const MIGRATION_LOCK_CLASS: i32 = 1;

/// Creates the schema if needed and brings it to [`LATEST`].
pub(crate) async fn migrate(client: &mut Object, schema: &str) -> Result<(), PostgresError> {
    let migration_error = |version: i32| {
        let schema = schema.to_owned();
        move |source| PostgresError::Migration { schema, version, source }
    };
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", &[&MIGRATION_LOCK_CLASS, &schema]).await?;
    // `schema` is validated as a plain lowercase identifier (see PostgresConfig::schema).
    tx.batch_execute(&format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\"; SET LOCAL search_path TO \"{schema}\";\
         CREATE TABLE IF NOT EXISTS botwright_schema (version integer NOT NULL);"
    ))
    .await?;
    let current: Option<i32> = tx.query_opt("SELECT version FROM botwright_schema", &[]).await?.map(|row| row.get(0));
    let current = current.unwrap_or(0);
    if current > LATEST {
        return Err(PostgresError::NewerSchema { schema: schema.to_owned(), found: current, supported: LATEST });
    }
    for &(version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > current) {
        tx.batch_execute(sql).await.map_err(migration_error(version))?;
        tx.execute("DELETE FROM botwright_schema", &[]).await.map_err(migration_error(version))?;
        tx.execute("INSERT INTO botwright_schema (version) VALUES ($1)", &[&version])
            .await
            .map_err(migration_error(version))?;
        tracing::info!(schema, version, "applied botwright schema migration");
    }
    tx.commit().await?;
    Ok(())
}
