//! Opening files: reopening keeps everything; files that are not botwright databases, or are
//! from a newer build, are refused with a typed error.

use botwright::storage::{Job, JobStore, NewOutboxEntry, Outbox, OutboxStatus, Precondition, Settlement, Storage};
use botwright_sqlite::{SqliteConfig, SqliteError, SqliteStore, Synchronous};
use std::time::{Duration, SystemTime};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bot.db");
    let now = SystemTime::now();
    let job = Job { id: "standup/t1".into(), due_at: now + Duration::from_secs(3600), payload: r#"{"t":1}"#.into() };
    let (version, ids) = {
        let store = SqliteStore::open(&path).await.unwrap();
        let version = store.write("user/ü", r#"{"name":"Zoë"}"#, Precondition::Absent).await.unwrap();
        store.write("conv/c1", "{}", Precondition::Absent).await.unwrap();
        store.delete("conv/c1", Precondition::Any).await.unwrap();
        let ids = store
            .enqueue(&[
                NewOutboxEntry { conversation_key: "c".into(), payload: "one".into(), not_before: now },
                NewOutboxEntry { conversation_key: "c".into(), payload: "two".into(), not_before: now },
                NewOutboxEntry { conversation_key: "d".into(), payload: "three".into(), not_before: now },
            ])
            .await
            .unwrap();
        store.claim("w", 10, Duration::from_secs(600)).await.unwrap();
        let outcomes = [
            (ids[0], Settlement::Delivered { activity_id: Some("a-1".into()) }),
            (ids[2], Settlement::Dead { reason: "gone".into() }),
        ];
        assert_eq!(store.settle("w", &outcomes).await.unwrap(), 2);
        store.put_job(&job).await.unwrap();
        (version, ids)
    };

    let store = SqliteStore::open(&path).await.unwrap();
    let doc = store.read("user/ü").await.unwrap().unwrap();
    assert_eq!((doc.json.as_str(), &doc.etag), (r#"{"name":"Zoë"}"#, &version));
    assert_eq!(store.read("conv/c1").await.unwrap(), None);
    assert_eq!(store.status(ids[0]).await.unwrap(), Some(OutboxStatus::Delivered { activity_id: Some("a-1".into()) }));
    assert_eq!(store.status(ids[1]).await.unwrap(), Some(OutboxStatus::Pending { attempts: 0, last_error: None }));
    assert_eq!(store.dead_letters(10).await.unwrap()[0].reason, "gone");
    assert_eq!(store.pending_count().await.unwrap(), 1);
    let claimed = store.claim("w2", 10, Duration::from_secs(600)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].id, claimed[0].payload.as_str()), (ids[1], "two"));
    assert_eq!(store.jobs().await.unwrap(), [job]);

    // Versions keep increasing across restarts: a new write never reuses an old version.
    let v2 = store.write("user/ü", "{}", Precondition::Version(version.clone())).await.unwrap();
    assert!(v2.parse::<i64>().unwrap() > version.parse::<i64>().unwrap());
    let new_ids = store
        .enqueue(&[NewOutboxEntry { conversation_key: "e".into(), payload: "p".into(), not_before: now }])
        .await
        .unwrap();
    assert!(new_ids[0] > ids[2], "outbox ids are never reused");
}

#[tokio::test]
async fn a_garbage_file_is_not_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, b"this is not a database, just some text that is long enough to have a header....").unwrap();
    let error = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(&error, SqliteError::NotADatabase { path: p } if *p == path), "{error:?}");
    assert!(error.to_string().contains("not a database file"), "{error}");
    let content = std::fs::read(&path).unwrap();
    assert!(content.starts_with(b"this is not a database"), "the file is left alone");
}

#[tokio::test]
async fn another_sqlite_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices VALUES (1, 9.5);",
        )
        .unwrap();
    }
    let error = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(error, SqliteError::ForeignDatabase { .. }), "{error:?}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
    assert_eq!(mode, "delete", "a refused database is not switched to WAL");
    let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0)).unwrap();
    assert_eq!(tables, 1, "a refused database is not migrated");

    let path = dir.path().join("other-app.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", 0x1234).unwrap();
    }
    let error = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(&error, SqliteError::ForeignDatabase { reason, .. } if reason.contains("0x1234")), "{error:?}");
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    drop(SqliteStore::open(&path).await.unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SqliteStore::schema_version() + 1).unwrap();
    }
    let error = SqliteStore::open(&path).await.unwrap_err();
    match error {
        SqliteError::NewerSchema { found, supported, .. } => {
            assert_eq!((found, supported), (SqliteStore::schema_version() + 1, SqliteStore::schema_version()));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_or_empty_file_becomes_a_botwright_database() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    for path in [empty, dir.path().join("new.db")] {
        let store =
            SqliteStore::open_with(SqliteConfig::new(&path).synchronous(Synchronous::Normal).readers(1)).await.unwrap();
        store.write("k", "1", Precondition::Absent).await.unwrap();
        drop(store);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0)).unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        let mode: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0)).unwrap();
        assert_eq!((id, version, mode.as_str()), (0x6277_7274, SqliteStore::schema_version(), "wal"));
    }
}

#[tokio::test]
async fn a_missing_directory_is_an_open_error() {
    let dir = tempfile::tempdir().unwrap();
    let error = SqliteStore::open(dir.path().join("no/such/dir/bot.db")).await.unwrap_err();
    assert!(matches!(error, SqliteError::Open { .. }), "{error:?}");
}
