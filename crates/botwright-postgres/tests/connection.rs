//! Connecting, migrating, and surviving the loss of connections.

mod common;

use botwright::storage::{NewOutboxEntry, Outbox, Precondition, Storage, StorageError};
use botwright_postgres::{PostgresConfig, PostgresError, PostgresStore};
use common::Fixture;
use std::time::{Duration, SystemTime};

/// Kills every server connection of `application_name`, as a server restart or network cut would.
async fn terminate(observer: &tokio_postgres::Client, application_name: &str) -> i64 {
    let rows = observer
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
            &[&application_name],
        )
        .await
        .unwrap();
    rows.len() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_keeps_serving_after_its_connections_are_killed() {
    let fixture = Fixture::new().await;
    let app = fixture.schema.clone();
    let config = PostgresConfig::from_url(&format!("{} application_name={app}", fixture.url))
        .unwrap()
        .schema(&fixture.schema)
        .unwrap()
        .pool_size(2)
        .lock_pool_size(1);
    let store = PostgresStore::connect_with(config).await.unwrap();
    let observer = fixture.client().await;
    let version = store.write("user/kept", r#"{"n":1}"#, Precondition::Absent).await.unwrap();
    let ids = store
        .enqueue(&[NewOutboxEntry { conversation_key: "c".into(), payload: "p".into(), not_before: SystemTime::now() }])
        .await
        .unwrap();
    let lock = store.lock_conversation("conv/held").await.unwrap();

    assert!(terminate(&observer, &app).await >= 2, "the store had connections to kill");

    // Calls fail as "unavailable" (never a panic) until the pool has replaced its connections.
    let mut failures = 0;
    let doc = loop {
        match store.read("user/kept").await {
            Ok(doc) => break doc,
            Err(error @ StorageError::Unavailable(_)) => {
                failures += 1;
                assert!(failures <= 4, "the store did not recover: {error}");
            }
            Err(other) => panic!("expected the store to be unavailable, got {other:?}"),
        }
    };
    eprintln!("calls failed while reconnecting: {failures}");
    let doc = doc.expect("what was written before the loss is kept");
    assert_eq!((doc.json.as_str(), doc.etag), (r#"{"n":1}"#, version));
    assert_eq!(store.claim("w", 10, Duration::from_secs(60)).await.unwrap()[0].id, ids[0]);

    // The lock died with its connection; the server released it, and it can be taken again.
    drop(lock);
    let again = tokio::time::timeout(Duration::from_secs(30), store.lock_conversation("conv/held"))
        .await
        .expect("the lock of a dead connection is free")
        .unwrap();
    assert!(again.is_some());
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_not_a_panic() {
    let config = PostgresConfig::from_url("host=127.0.0.1 port=1 user=postgres dbname=test")
        .unwrap()
        .connect_timeout(Duration::from_secs(5));
    let error = PostgresStore::connect_with(config).await.unwrap_err();
    assert!(matches!(error, PostgresError::Pool(_)), "{error:?}");
    let storage: StorageError = error.into();
    assert!(storage.is_unavailable(), "{storage:?}");
}

#[tokio::test]
async fn bad_settings_are_typed_errors() {
    assert!(matches!(PostgresConfig::from_url("postgres://[::1"), Err(PostgresError::InvalidUrl(_))));
    let config = PostgresConfig::from_url("host=127.0.0.1").unwrap();
    for bad in ["", "Upper", "1st", "with-dash", "semi;colon", "quote\"d", &"x".repeat(64)] {
        let result = config.clone().schema(bad);
        assert!(matches!(result, Err(PostgresError::InvalidSchema(ref s)) if s == bad), "{bad:?}: {result:?}");
    }
    assert_eq!(config.schema("bot_2").unwrap().schema_name(), "bot_2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_keeps_data_and_concurrent_first_connects_migrate_once() {
    let fixture = Fixture::new().await;
    let (a, b) = tokio::join!(fixture.store(), fixture.store());
    a.write("k", "1", Precondition::Absent).await.unwrap();
    drop((a, b));
    let again = fixture.store().await;
    assert_eq!(again.read("k").await.unwrap().unwrap().json, "1");
    let observer = fixture.client().await;
    let row = observer
        .query_one(&format!("SELECT count(*), max(version) FROM \"{}\".botwright_schema", fixture.schema), &[])
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i32>(1)), (1, PostgresStore::schema_version()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    let fixture = Fixture::new().await;
    drop(fixture.store().await);
    let observer = fixture.client().await;
    observer
        .execute(
            &format!("UPDATE \"{}\".botwright_schema SET version = $1", fixture.schema),
            &[&(PostgresStore::schema_version() + 1)],
        )
        .await
        .unwrap();
    match PostgresStore::connect_with(fixture.config()).await {
        Err(PostgresError::NewerSchema { schema, found, supported }) => {
            assert_eq!(schema, fixture.schema);
            assert_eq!((found, supported), (PostgresStore::schema_version() + 1, PostgresStore::schema_version()));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_in_different_schemas_are_separate() {
    let (one, two) = (Fixture::new().await, Fixture::new().await);
    let (a, b) = (one.store().await, two.store().await);
    a.write("same/key", "\"a\"", Precondition::Absent).await.unwrap();
    b.write("same/key", "\"b\"", Precondition::Absent).await.unwrap();
    assert_eq!(a.read("same/key").await.unwrap().unwrap().json, "\"a\"");
    assert_eq!(b.scan("same/").await.unwrap().len(), 1);
}

/// Errors say what PostgreSQL said (not tokio-postgres' bare "db error"), and what the network
/// said when there is no server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_the_servers_own_words() {
    let fixture = Fixture::new().await;
    let missing = fixture.url.replace("dbname=test", "dbname=botwright_no_such_database");
    assert_ne!(missing, fixture.url, "the fixture's URL names the database: {}", fixture.url);
    let config = PostgresConfig::from_url(&missing).unwrap().connect_timeout(Duration::from_secs(5));
    let error = PostgresStore::connect_with(config).await.expect_err("no such database").to_string();
    assert!(error.contains("3D000"), "{error}");
    assert!(error.contains("\"botwright_no_such_database\" does not exist"), "{error}");
    assert!(!error.contains("db error"), "{error}");

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let closed = format!("host=127.0.0.1 port={port} user=postgres dbname=test");
    let config = PostgresConfig::from_url(&closed).unwrap().connect_timeout(Duration::from_secs(5));
    let error = PostgresStore::connect_with(config).await.expect_err("nothing listens").to_string();
    assert!(error.to_lowercase().contains("connection refused"), "{error}");
}

/// What PostgreSQL answers decides whether the store is "unavailable" (worth trying again later:
/// the endpoint and the web hooks answer 503 with `Retry-After`) or failed for good (500).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailability_is_told_from_failure_by_what_the_server_says() {
    let fixture = Fixture::new().await;
    let client = fixture.client().await;
    let server_error = |code: &'static str| {
        let client = &client;
        async move {
            let statement = format!("DO $$ BEGIN RAISE EXCEPTION 'test' USING ERRCODE = '{code}'; END $$");
            let error = client.batch_execute(&statement).await.expect_err("the block raises");
            StorageError::from(PostgresError::Postgres(error))
        }
    };
    // Shutting down, not accepting connections yet, out of connections or memory: unavailable.
    for code in ["57P01", "57P03", "08006", "53300", "53200", "58030"] {
        assert!(server_error(code).await.is_unavailable(), "{code}");
    }
    // A constraint, a syntax error, a missing table: failures a retry would repeat.
    for code in ["23505", "42601", "42P01", "22P02"] {
        let error = server_error(code).await;
        assert!(!error.is_unavailable(), "{code}: {error}");
        assert!(matches!(error, StorageError::Backend(_)), "{code}: {error:?}");
    }
    // A connection the server closed: unavailable.
    let doomed = fixture.client().await;
    let _ = doomed.batch_execute("SELECT pg_terminate_backend(pg_backend_pid())").await;
    let error = doomed.batch_execute("SELECT 1").await.expect_err("the connection is gone");
    assert!(StorageError::from(PostgresError::Postgres(error)).is_unavailable());
}
