//! A full disk under the database file: writes fail with an error that says so, nothing already
//! committed is lost or damaged, and once space returns the same store writes again (its writer
//! thread survived). The disk is a small tmpfs mounted for the test, so this needs root (as the
//! project's machines and CI run).

use botwright::storage::{NewOutboxEntry, Outbox, Precondition, Storage};
use botwright_sqlite::{SqliteConfig, SqliteStore};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// A tmpfs of `size` mounted on a new temporary directory, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("the mount command runs");
        assert!(status.success(), "mounting a tmpfs failed: this test needs root (as CI runs), status {status}");
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn entry(i: usize, payload: &str) -> NewOutboxEntry {
    NewOutboxEntry {
        conversation_key: format!("c{}", i % 7),
        payload: payload.to_owned(),
        not_before: SystemTime::now(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_reported_loses_nothing_and_passes() {
    let disk = SmallDisk::mount("6m");
    // Room to give back later.
    let filler: PathBuf = disk.path().join("filler");
    std::fs::write(&filler, vec![7u8; 2 * 1024 * 1024]).unwrap();
    let file = disk.path().join("bot.db");
    let store = SqliteStore::open_with(SqliteConfig::new(&file)).await.expect("the store opens");

    let blob = "x".repeat(16 * 1024);
    let mut written = Vec::new();
    let mut enqueued = 0;
    let error = 'fill: {
        for i in 0..10_000 {
            let key = format!("user/u{i}");
            match store.write(&key, &format!(r#"{{"blob":"{blob}"}}"#), Precondition::Absent).await {
                Ok(_) => written.push(key),
                Err(error) => break 'fill error,
            }
            match store.enqueue(&[entry(i, &blob)]).await {
                Ok(_) => enqueued += 1,
                Err(error) => break 'fill error,
            }
        }
        panic!("6 MiB never filled up");
    };
    let text = error.to_string();
    assert!(error.is_unavailable(), "a full disk is a store unavailable for now: {error:?}");
    assert!(text.to_lowercase().contains("full"), "the error says the disk is full: {text}");
    assert!(written.len() > 10 && enqueued > 10, "{} documents and {enqueued} entries fit", written.len());
    eprintln!("full after {} documents and {enqueued} outbox entries: {text}", written.len());

    // What was committed reads back.
    for key in &written {
        let doc = store.read(key).await.unwrap().unwrap_or_else(|| panic!("{key} lost"));
        assert!(doc.json.contains(&blob));
    }
    assert_eq!(store.pending_count().await.unwrap(), enqueued as u64);

    // Space comes back: the same store writes again.
    std::fs::remove_file(&filler).unwrap();
    store.write("user/after", r#"{"n":1}"#, Precondition::Absent).await.expect("writes work again");
    store.enqueue(&[entry(0, "after")]).await.expect("the outbox takes messages again");
    assert_eq!(store.read("user/after").await.unwrap().unwrap().json, r#"{"n":1}"#);

    // And the file is sound.
    drop(store);
    let connection = rusqlite::Connection::open(&file).unwrap();
    let check: String = connection.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(check, "ok");
    let documents: i64 =
        connection.query_row("SELECT count(*) FROM documents WHERE key LIKE 'user/%'", [], |row| row.get(0)).unwrap();
    assert_eq!(documents as usize, written.len() + 1);
}
