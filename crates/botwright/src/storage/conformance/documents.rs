//! Conformance cases of [`Storage`]: versioned documents and conversation locks.

use super::is_conflict;
use crate::storage::{Document, Precondition, Storage, StorageError, Write};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Stale versions, `Absent` on an existing key and `Version` on a missing key all fail with
/// [`StorageError::Conflict`] and change nothing; every write gets a new version.
pub async fn version_conflicts<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    assert_eq!(store.read("user/u1").await.unwrap(), None, "a fresh store is empty");
    let v1 = store.write("user/u1", r#"{"n":1}"#, Precondition::Absent).await.unwrap();
    let read = store.read("user/u1").await.unwrap().expect("written document");
    assert_eq!(read.json, r#"{"n":1}"#);
    assert_eq!(read.etag, v1, "read returns the version write returned");

    let again = store.write("user/u1", r#"{"n":9}"#, Precondition::Absent).await;
    assert!(is_conflict(&again, "user/u1"), "Absent on an existing key must conflict, got {again:?}");

    let v2 = store.write("user/u1", r#"{"n":2}"#, Precondition::Version(v1.clone())).await.unwrap();
    assert_ne!(v1, v2, "each write makes a new version");

    let stale = store.write("user/u1", r#"{"n":3}"#, Precondition::Version(v1.clone())).await;
    assert!(is_conflict(&stale, "user/u1"), "a stale version must conflict, got {stale:?}");
    let read = store.read("user/u1").await.unwrap().unwrap();
    assert_eq!((read.json.as_str(), read.etag.as_str()), (r#"{"n":2}"#, v2.as_str()), "a conflict changes nothing");

    let respelled = store.write("user/u1", "{}", Precondition::Version(format!("0{v2}"))).await;
    assert!(is_conflict(&respelled, "user/u1"), "a version is matched exactly, got {respelled:?}");
    let bogus = store.write("user/u1", "{}", Precondition::Version("not a version".into())).await;
    assert!(is_conflict(&bogus, "user/u1"), "an unknown version conflicts, got {bogus:?}");

    let missing = store.write("user/u2", "{}", Precondition::Version(v2.clone())).await;
    assert!(is_conflict(&missing, "user/u2"), "Version on a missing key must conflict, got {missing:?}");
    assert_eq!(store.read("user/u2").await.unwrap(), None);

    // A version never comes back to life: delete and re-create, then the old version is stale.
    assert!(store.delete("user/u1", Precondition::Version(v2.clone())).await.unwrap());
    let v3 = store.write("user/u1", r#"{"n":4}"#, Precondition::Absent).await.unwrap();
    assert_ne!(v3, v2, "a re-created document gets a version never used before");
    let old = store.write("user/u1", "{}", Precondition::Version(v2)).await;
    assert!(is_conflict(&old, "user/u1"), "the version of a deleted document must conflict, got {old:?}");
}

/// `Precondition::Any` creates and overwrites.
pub async fn any_precondition_overwrites<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let v1 = store.write("cache/a", "1", Precondition::Any).await.unwrap();
    let v2 = store.write("cache/a", "2", Precondition::Any).await.unwrap();
    assert_ne!(v1, v2);
    let read = store.read("cache/a").await.unwrap().unwrap();
    assert_eq!((read.json.as_str(), read.etag), ("2", v2));
}

/// 50 tasks increment one counter with read-modify-write, retrying on conflict: it ends at
/// exactly 50 (no lost update).
pub async fn concurrent_writers_lose_no_update<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    const WRITERS: u64 = 50;
    let store = Arc::new(make().await);
    let mut tasks = Vec::new();
    for _ in 0..WRITERS {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0u64;
            loop {
                let current = store.read("counter").await.unwrap();
                let n: u64 = match &current {
                    Some(doc) => doc.json.parse().expect("counter is a number"),
                    None => 0,
                };
                match store.write("counter", &(n + 1).to_string(), Precondition::from_read(current.as_ref())).await {
                    Ok(_) => return conflicts,
                    Err(StorageError::Conflict { .. }) => conflicts += 1,
                    Err(other) => panic!("a concurrent write failed with a non-conflict error: {other}"),
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("writer task");
    }
    let final_doc = store.read("counter").await.unwrap().expect("counter written");
    assert_eq!(final_doc.json, WRITERS.to_string(), "every increment must survive");
}

/// One conflicting write fails the whole batch; a good batch applies every write.
pub async fn write_many_is_atomic<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let va = store.write("a", r#""a1""#, Precondition::Absent).await.unwrap();
    let vb = store.write("b", r#""b1""#, Precondition::Absent).await.unwrap();

    let batch = [
        Write { key: "a".into(), json: Some(r#""a2""#.into()), precondition: Precondition::Version(va.clone()) },
        Write { key: "b".into(), json: Some(r#""b2""#.into()), precondition: Precondition::Absent },
        Write { key: "c".into(), json: Some(r#""c1""#.into()), precondition: Precondition::Absent },
    ];
    let failed = store.write_many(&batch).await;
    assert!(is_conflict(&failed, "b"), "the conflicting write names its key, got {failed:?}");
    assert_eq!(store.read("a").await.unwrap().unwrap().etag, va, "a failed batch writes nothing");
    assert_eq!(store.read("b").await.unwrap().unwrap().etag, vb);
    assert_eq!(store.read("c").await.unwrap(), None, "a failed batch creates nothing");

    let batch = [
        Write { key: "a".into(), json: Some(r#""a2""#.into()), precondition: Precondition::Version(va) },
        Write { key: "b".into(), json: None, precondition: Precondition::Version(vb) },
        Write { key: "c".into(), json: Some(r#""c1""#.into()), precondition: Precondition::Absent },
    ];
    let versions = store.write_many(&batch).await.unwrap();
    assert_eq!(versions.len(), 3);
    assert!(versions[0].is_some() && versions[1].is_none() && versions[2].is_some(), "{versions:?}");
    let a = store.read("a").await.unwrap().unwrap();
    assert_eq!((a.json.as_str(), Some(a.etag)), (r#""a2""#, versions[0].clone()));
    assert_eq!(store.read("b").await.unwrap(), None, "a deletion in a batch deletes");
    let c = store.read("c").await.unwrap().unwrap();
    assert_eq!((c.json.as_str(), Some(c.etag)), (r#""c1""#, versions[2].clone()));
    assert_eq!(store.write_many(&[]).await.unwrap(), Vec::<Option<String>>::new(), "an empty batch is fine");
}

/// A 1 MiB document is stored and read back intact, and can be replaced.
pub async fn large_documents<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let blob: String = (0..(1 << 20)).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    let json = format!(r#"{{"blob":"{blob}"}}"#);
    let v1 = store.write("big", &json, Precondition::Absent).await.unwrap();
    let read = store.read("big").await.unwrap().unwrap();
    assert_eq!(read.json.len(), json.len());
    assert!(read.json == json, "a 1 MiB document comes back unchanged");
    let json2 = json.replace('a', "é");
    store.write("big", &json2, Precondition::Version(v1)).await.unwrap();
    assert!(store.read("big").await.unwrap().unwrap().json == json2);
}

/// Keys and documents in any script, emoji and combining marks included, come back unchanged.
pub async fn unicode_keys_and_values<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let pairs = [
        ("user/日本語/ユーザー", r#"{"name":"山田太郎","greeting":"こんにちは"}"#),
        ("conv/😀🎉/x", r#"{"emoji":"👩‍👩‍👧‍👦","flag":"🇳🇿"}"#),
        ("user/ünïcödé", r#"{"text":"e\u0301 café","escaped":"\u0000\n\t\"\\"}"#),
        ("user/עברית/العربية", r#"{"rtl":"שלום مرحبا"}"#),
        ("user/\u{10FFFF}", r#"{"max":"\u{10FFFF}"}"#),
    ];
    for (key, json) in pairs {
        store.write(key, json, Precondition::Absent).await.unwrap();
    }
    for (key, json) in pairs {
        let read = store.read(key).await.unwrap().unwrap_or_else(|| panic!("{key:?} was written"));
        assert_eq!(read.json, json, "document under {key:?}");
    }
    let scanned: Vec<String> = store.scan("user/").await.unwrap().into_iter().map(|(k, _)| k).collect();
    let mut expected: Vec<String> =
        pairs.iter().map(|(k, _)| k.to_string()).filter(|k| k.starts_with("user/")).collect();
    expected.sort();
    assert_eq!(scanned, expected, "scan returns Unicode keys in code point order");
}

/// `read_many` returns one entry per key, in order, `None` for missing keys.
pub async fn read_many_keeps_order<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let vx = store.write("x", "1", Precondition::Absent).await.unwrap();
    let vy = store.write("y", "2", Precondition::Absent).await.unwrap();
    let docs = store.read_many(&["y", "missing", "x", "y"]).await.unwrap();
    let got: Vec<Option<(String, String)>> = docs.into_iter().map(|d| d.map(|d| (d.json, d.etag))).collect();
    assert_eq!(
        got,
        vec![Some(("2".into(), vy.clone())), None, Some(("1".into(), vx)), Some(("2".into(), vy))],
        "read_many keeps the order of the keys"
    );
    assert!(store.read_many(&[]).await.unwrap().is_empty());
}

/// Deletion honours its precondition and reports whether the document existed.
pub async fn delete_with_preconditions<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let v1 = store.write("d", "1", Precondition::Absent).await.unwrap();
    let v2 = store.write("d", "2", Precondition::Version(v1.clone())).await.unwrap();

    let stale = store.delete("d", Precondition::Version(v1)).await;
    assert!(is_conflict(&stale, "d"), "delete with a stale version must conflict, got {stale:?}");
    let absent = store.delete("d", Precondition::Absent).await;
    assert!(is_conflict(&absent, "d"), "delete expecting absence of an existing key must conflict, got {absent:?}");
    assert_eq!(store.read("d").await.unwrap().unwrap().etag, v2, "a refused delete deletes nothing");

    assert!(store.delete("d", Precondition::Version(v2.clone())).await.unwrap(), "delete at the current version");
    assert_eq!(store.read("d").await.unwrap(), None);

    let missing = store.delete("d", Precondition::Version(v2)).await;
    assert!(is_conflict(&missing, "d"), "delete at a version of a missing key must conflict, got {missing:?}");
    assert!(!store.delete("d", Precondition::Any).await.unwrap(), "deleting a missing key reports false");
    assert!(!store.delete("d", Precondition::Absent).await.unwrap(), "Absent holds on a missing key");

    store.write("e", "1", Precondition::Absent).await.unwrap();
    assert!(store.delete("e", Precondition::Any).await.unwrap(), "Any deletes whatever is there");
    assert_eq!(store.read("e").await.unwrap(), None);
}

/// `scan` returns exactly the keys starting with the prefix, in key (code point) order.
pub async fn scan_by_prefix<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let keys = ["user/b", "user/a", "user/ab", "users/x", "user", "conv/1", "user/B", "user/é", "user0", "v"];
    let mut versions = std::collections::HashMap::new();
    for key in keys {
        versions.insert(key, store.write(key, &format!("\"{key}\""), Precondition::Absent).await.unwrap());
    }
    let scanned = store.scan("user/").await.unwrap();
    let names: Vec<&str> = scanned.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["user/B", "user/a", "user/ab", "user/b", "user/é"], "scan(\"user/\")");
    for (key, doc) in &scanned {
        assert_eq!(doc.json, format!("\"{key}\""));
        assert_eq!(Some(&doc.etag), versions.get(key.as_str()), "scan returns current versions");
    }
    let all: Vec<String> = store.scan("").await.unwrap().into_iter().map(|(k, _)| k).collect();
    let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(all, expected, "scan(\"\") returns everything in key order");
    assert!(store.scan("nothing/").await.unwrap().is_empty());

    // Prefixes ending in the largest code point have no simple upper bound.
    let max = '\u{10FFFF}';
    for key in [format!("p{max}"), format!("p{max}a"), format!("p{max}{max}"), "q".to_owned()] {
        store.write(&key, "0", Precondition::Absent).await.unwrap();
    }
    let found: Vec<String> = store.scan(&format!("p{max}")).await.unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(found, [format!("p{max}"), format!("p{max}a"), format!("p{max}{max}")]);
    let found: Vec<String> = store.scan(&format!("p{max}{max}")).await.unwrap().into_iter().map(|(k, _)| k).collect();
    assert_eq!(found, [format!("p{max}{max}")]);
}

/// `%`, `_` and `\` in a prefix are plain characters, not patterns.
pub async fn scan_prefix_is_literal<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    for key in ["a%/1", "a_/1", "ab/1", "aX/1", "a\\/1", "a%b", "a/%"] {
        store.write(key, "0", Precondition::Absent).await.unwrap();
    }
    let keys = |found: Vec<(String, Document)>| found.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
    assert_eq!(keys(store.scan("a%").await.unwrap()), ["a%/1", "a%b"], "% is literal");
    assert_eq!(keys(store.scan("a_").await.unwrap()), ["a_/1"], "_ is literal");
    assert_eq!(keys(store.scan("a\\").await.unwrap()), ["a\\/1"], "\\ is literal");
    assert_eq!(keys(store.scan("a/").await.unwrap()), ["a/%"]);
}

/// A conversation lock, where the store has one, excludes a second holder until dropped; taking
/// it again after release works.
pub async fn conversation_lock_excludes<S: Storage, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = Arc::new(make().await);
    let first = store.lock_conversation("conv/locked").await.unwrap();
    let Some(first) = first else {
        // One-process stores rely on the bot's in-process lock.
        assert!(store.lock_conversation("conv/locked").await.unwrap().is_none());
        return;
    };
    // Another conversation is independent.
    let other = tokio::time::timeout(Duration::from_secs(30), store.lock_conversation("conv/other"))
        .await
        .expect("locking another conversation must not wait")
        .unwrap();
    drop(other);
    let contender = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.lock_conversation("conv/locked").await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!contender.is_finished(), "a second lock on a held conversation must wait");
    drop(first);
    let second = tokio::time::timeout(Duration::from_secs(30), contender)
        .await
        .expect("the lock must be granted once released")
        .expect("task")
        .unwrap();
    assert!(second.is_some());
    drop(second);
    let third = tokio::time::timeout(Duration::from_secs(30), store.lock_conversation("conv/locked"))
        .await
        .expect("released again")
        .unwrap();
    assert!(third.is_some());
}
