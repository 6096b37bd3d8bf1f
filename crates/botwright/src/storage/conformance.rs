//! The storage conformance suite: one set of checks that every store backend must pass.
//!
//! Compiled with the `conformance` feature. Each case is a public async function taking a
//! factory that makes a fresh, empty store; it panics (with a message saying what broke) when the
//! store misbehaves. [`run_all`] runs every case; the [`storage_conformance_tests!`] macro turns
//! every case into its own `#[tokio::test]` in the crate of a backend, and
//! [`storage_conformance_cases!`] hands the list of case names to a macro of the caller's, for
//! backends that need their own set-up and tear-down around each case.
//!
//! ```ignore
//! // In a backend's tests/conformance.rs:
//! async fn fresh() -> MyStore { MyStore::open_temporary().await.unwrap() }
//! botwright::storage_conformance_tests!(fresh);
//! ```
//!
//! [`storage_conformance_tests!`]: crate::storage_conformance_tests
//! [`storage_conformance_cases!`]: crate::storage_conformance_cases

use super::{Job, JobStore, NewOutboxEntry, Outbox, OutboxStatus, Precondition, Storage, StorageError, Write};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Generates one `#[tokio::test]` per conformance case, each calling the case with `$make`
/// (an expression usable as a factory: `Fn() -> impl Future<Output = Store>`).
///
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread` features.
#[macro_export]
macro_rules! storage_conformance_tests {
    ($make:expr) => {
        $crate::storage_conformance_tests!(@cases $make;
            version_conflicts, any_precondition_overwrites, concurrent_writers_lose_no_update,
            write_many_is_atomic, large_documents, unicode_keys_and_values, read_many_keeps_order,
            delete_with_preconditions, scan_by_prefix, scan_prefix_is_literal, conversation_lock_excludes,
            outbox_enqueue_claim_deliver, outbox_not_due_before_not_before, outbox_retry_later,
            outbox_dead_letters, outbox_withdraw, outbox_conversation_order, outbox_lease_expiry_takeover,
            outbox_concurrent_claims_are_disjoint,
            jobs_put_and_list, jobs_claim_due, jobs_finish, jobs_finish_by_non_owner_refused,
            jobs_lease_expiry_takeover, jobs_cancel, jobs_concurrent_claims_are_disjoint);
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::storage::conformance::$case($make).await;
            }
        )*
    };
}

/// Calls `$callback!(case, case, ...)` with the name of every conformance case (each a function
/// in [`storage::conformance`](crate::storage::conformance) taking a store factory), for
/// backends that wrap each case in their own set-up and tear-down.
#[macro_export]
macro_rules! storage_conformance_cases {
    ($callback:ident) => {
        $callback!(
            version_conflicts,
            any_precondition_overwrites,
            concurrent_writers_lose_no_update,
            write_many_is_atomic,
            large_documents,
            unicode_keys_and_values,
            read_many_keeps_order,
            delete_with_preconditions,
            scan_by_prefix,
            scan_prefix_is_literal,
            conversation_lock_excludes,
            outbox_enqueue_claim_deliver,
            outbox_not_due_before_not_before,
            outbox_retry_later,
            outbox_dead_letters,
            outbox_withdraw,
            outbox_conversation_order,
            outbox_lease_expiry_takeover,
            outbox_concurrent_claims_are_disjoint,
            jobs_put_and_list,
            jobs_claim_due,
            jobs_finish,
            jobs_finish_by_non_owner_refused,
            jobs_lease_expiry_takeover,
            jobs_cancel,
            jobs_concurrent_claims_are_disjoint
        );
    };
}

/// Runs every case, each on a fresh store from `make`.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: Storage + Outbox + JobStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    version_conflicts(&make).await;
    any_precondition_overwrites(&make).await;
    concurrent_writers_lose_no_update(&make).await;
    write_many_is_atomic(&make).await;
    large_documents(&make).await;
    unicode_keys_and_values(&make).await;
    read_many_keeps_order(&make).await;
    delete_with_preconditions(&make).await;
    scan_by_prefix(&make).await;
    scan_prefix_is_literal(&make).await;
    conversation_lock_excludes(&make).await;
    outbox_enqueue_claim_deliver(&make).await;
    outbox_not_due_before_not_before(&make).await;
    outbox_retry_later(&make).await;
    outbox_dead_letters(&make).await;
    outbox_withdraw(&make).await;
    outbox_conversation_order(&make).await;
    outbox_lease_expiry_takeover(&make).await;
    outbox_concurrent_claims_are_disjoint(&make).await;
    jobs_put_and_list(&make).await;
    jobs_claim_due(&make).await;
    jobs_finish(&make).await;
    jobs_finish_by_non_owner_refused(&make).await;
    jobs_lease_expiry_takeover(&make).await;
    jobs_cancel(&make).await;
    jobs_concurrent_claims_are_disjoint(&make).await;
}

fn is_conflict<T: std::fmt::Debug>(result: &Result<T, StorageError>, key: &str) -> bool {
    matches!(result, Err(StorageError::Conflict { key: k }) if k == key)
}

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
    let keys = |found: Vec<(String, super::Document)>| found.into_iter().map(|(k, _)| k).collect::<Vec<_>>();
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

fn entry(conversation: &str, payload: &str) -> NewOutboxEntry {
    NewOutboxEntry {
        conversation_key: conversation.to_owned(),
        payload: payload.to_owned(),
        not_before: SystemTime::now() - Duration::from_secs(1),
    }
}

const LONG: Duration = Duration::from_secs(600);

/// Enqueue returns ids in order; claim hands out entries with their payload; delivery is recorded
/// and a delivered entry is never claimed again.
pub async fn outbox_enqueue_claim_deliver<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    assert_eq!(store.pending_count().await.unwrap(), 0);
    assert_eq!(store.status(12345).await.unwrap(), None, "an unknown id has no status");
    assert!(store.claim("w1", 10, LONG).await.unwrap().is_empty(), "nothing to claim in an empty outbox");
    assert!(store.enqueue(&[]).await.unwrap().is_empty());

    let before = SystemTime::now() - Duration::from_secs(5);
    let ids = store.enqueue(&[entry("c1", r#"{"text":"one"}"#), entry("c2", r#"{"text":"двa 😀"}"#)]).await.unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1], "ids increase in enqueue order: {ids:?}");
    assert_eq!(store.pending_count().await.unwrap(), 2);
    assert_eq!(store.status(ids[0]).await.unwrap(), Some(OutboxStatus::Pending { attempts: 0, last_error: None }));

    let mut claimed = store.claim("w1", 10, LONG).await.unwrap();
    claimed.sort_by_key(|e| e.id);
    assert_eq!(claimed.len(), 2, "{claimed:?}");
    assert_eq!((claimed[0].id, claimed[0].conversation_key.as_str()), (ids[0], "c1"));
    assert_eq!(claimed[0].payload, r#"{"text":"one"}"#);
    assert_eq!(claimed[1].payload, r#"{"text":"двa 😀"}"#);
    assert_eq!(claimed[0].attempts, 0);
    assert!(claimed[0].created_at >= before && claimed[0].created_at <= SystemTime::now() + Duration::from_secs(5));
    assert!(store.claim("w2", 10, LONG).await.unwrap().is_empty(), "claimed entries are not handed out twice");
    assert_eq!(store.pending_count().await.unwrap(), 2, "claimed entries are still pending");

    store.mark_delivered(ids[0], Some("activity-1")).await.unwrap();
    store.mark_delivered(ids[1], None).await.unwrap();
    assert_eq!(
        store.status(ids[0]).await.unwrap(),
        Some(OutboxStatus::Delivered { activity_id: Some("activity-1".into()) })
    );
    assert_eq!(store.status(ids[1]).await.unwrap(), Some(OutboxStatus::Delivered { activity_id: None }));
    assert_eq!(store.pending_count().await.unwrap(), 0);
    assert!(store.claim("w1", 10, LONG).await.unwrap().is_empty(), "delivered entries are done");

    // The limit is honoured.
    let many: Vec<NewOutboxEntry> = (0..5).map(|i| entry(&format!("m{i}"), "{}")).collect();
    store.enqueue(&many).await.unwrap();
    assert_eq!(store.claim("w1", 3, LONG).await.unwrap().len(), 3);
    assert_eq!(store.claim("w1", 3, LONG).await.unwrap().len(), 2);
}

/// An entry is not claimable before its `not_before`.
pub async fn outbox_not_due_before_not_before<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let later = NewOutboxEntry {
        conversation_key: "c".into(),
        payload: "{}".into(),
        not_before: SystemTime::now() + Duration::from_secs(3600),
    };
    let ids = store.enqueue(&[later, entry("d", "{}")]).await.unwrap();
    let claimed: Vec<_> = store.claim("w", 10, LONG).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(claimed, [ids[1]], "only the due entry is claimed");
    assert_eq!(store.pending_count().await.unwrap(), 2);
}

/// `retry_later` records the failure, releases the claim, and the entry is due again only at its
/// new `not_before`.
pub async fn outbox_retry_later<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let id = store.enqueue(&[entry("c", "{}")]).await.unwrap()[0];
    assert_eq!(store.claim("w", 10, LONG).await.unwrap().len(), 1);
    store.retry_later(id, SystemTime::now() + Duration::from_secs(3600), "503 from the channel").await.unwrap();
    assert_eq!(
        store.status(id).await.unwrap(),
        Some(OutboxStatus::Pending { attempts: 1, last_error: Some("503 from the channel".into()) })
    );
    assert!(store.claim("w", 10, LONG).await.unwrap().is_empty(), "not claimable before its new not_before");

    store.retry_later(id, SystemTime::now() - Duration::from_secs(1), "timeout").await.unwrap();
    let claimed = store.claim("w2", 10, LONG).await.unwrap();
    assert_eq!(claimed.len(), 1, "claimable again once due");
    assert_eq!((claimed[0].id, claimed[0].attempts), (id, 2));
    assert_eq!(
        store.status(id).await.unwrap(),
        Some(OutboxStatus::Pending { attempts: 2, last_error: Some("timeout".into()) })
    );
    store.mark_delivered(id, None).await.unwrap();
    assert_eq!(store.pending_count().await.unwrap(), 0);
}

/// `mark_dead` turns an entry into a dead letter; dead letters list newest first, up to a limit.
pub async fn outbox_dead_letters<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let ids = store.enqueue(&[entry("a", "pa"), entry("b", "pb"), entry("c", "pc")]).await.unwrap();
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    store.claim("w", 10, LONG).await.unwrap();
    store.retry_later(ids[0], SystemTime::now() - Duration::from_secs(1), "flaky").await.unwrap();
    store.mark_dead(ids[0], "gone: 404").await.unwrap();
    store.mark_dead(ids[2], "rejected: 400").await.unwrap();
    assert_eq!(store.status(ids[0]).await.unwrap(), Some(OutboxStatus::Dead { reason: "gone: 404".into() }));
    assert_eq!(store.pending_count().await.unwrap(), 1);

    let dead = store.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 2);
    assert_eq!((dead[0].id, dead[0].conversation_key.as_str(), dead[0].payload.as_str()), (ids[2], "c", "pc"));
    assert_eq!((dead[0].reason.as_str(), dead[0].attempts), ("rejected: 400", 0));
    assert_eq!((dead[1].id, dead[1].reason.as_str(), dead[1].attempts), (ids[0], "gone: 404", 1));
    assert_eq!(store.dead_letters(1).await.unwrap().len(), 1, "the limit is honoured");
    assert!(store.claim("w2", 10, LONG).await.unwrap().is_empty(), "dead letters are never claimed");
}

/// Only a pending, unclaimed entry can be withdrawn; it is then never claimed.
pub async fn outbox_withdraw<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let ids = store.enqueue(&[entry("a", "{}"), entry("b", "{}")]).await.unwrap();
    assert!(store.withdraw(ids[0]).await.unwrap(), "a pending entry can be withdrawn");
    assert_eq!(store.status(ids[0]).await.unwrap(), Some(OutboxStatus::Withdrawn));
    assert!(!store.withdraw(ids[0]).await.unwrap(), "withdrawing twice reports false");
    assert_eq!(store.pending_count().await.unwrap(), 1);

    let claimed: Vec<_> = store.claim("w", 10, LONG).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(claimed, [ids[1]], "a withdrawn entry is never claimed");
    assert!(!store.withdraw(ids[1]).await.unwrap(), "a claimed entry cannot be withdrawn");
    assert!(matches!(store.status(ids[1]).await.unwrap(), Some(OutboxStatus::Pending { .. })));
    store.mark_delivered(ids[1], None).await.unwrap();
    assert!(!store.withdraw(ids[1]).await.unwrap(), "a delivered entry cannot be withdrawn");
    assert!(!store.withdraw(987_654).await.unwrap(), "an unknown id cannot be withdrawn");
}

/// Each conversation's entries are handed out one at a time, oldest first: the second is not
/// claimable while the first is pending (claimed or waiting for a retry).
pub async fn outbox_conversation_order<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let ids = store.enqueue(&[entry("a", "a1"), entry("a", "a2"), entry("b", "b1"), entry("a", "a3")]).await.unwrap();
    let mut first: Vec<_> = store.claim("w", 10, LONG).await.unwrap().into_iter().map(|e| e.id).collect();
    first.sort();
    assert_eq!(first, [ids[0], ids[2]], "one entry per conversation, the oldest");
    assert!(store.claim("w", 10, LONG).await.unwrap().is_empty(), "a2 waits while a1 is claimed");

    store.retry_later(ids[0], SystemTime::now() + Duration::from_secs(3600), "later").await.unwrap();
    assert!(store.claim("w", 10, LONG).await.unwrap().is_empty(), "a2 waits while a1 waits for its retry");

    store.mark_delivered(ids[0], None).await.unwrap();
    let next: Vec<_> = store.claim("w", 10, LONG).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(next, [ids[1]], "a2 follows once a1 is delivered");
    store.mark_dead(ids[1], "bad").await.unwrap();
    let next: Vec<_> = store.claim("w", 10, LONG).await.unwrap().into_iter().map(|e| e.payload).collect();
    assert_eq!(next, ["a3"], "a dead letter does not block its conversation");
}

/// A claim's lease expires; another owner then takes the entry over.
pub async fn outbox_lease_expiry_takeover<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let ids = store.enqueue(&[entry("short", "s"), entry("long", "l")]).await.unwrap();
    let mut claimed = store.claim("w1", 1, Duration::from_millis(50)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed.remove(0).id, ids[0]);
    let claimed = store.claim("w1", 1, LONG).await.unwrap();
    assert_eq!(claimed[0].id, ids[1]);

    tokio::time::sleep(Duration::from_millis(150)).await;
    let taken: Vec<_> = store.claim("w2", 10, LONG).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(taken, [ids[0]], "the expired claim is taken over, the live one is not");
    assert!(store.claim("w3", 10, LONG).await.unwrap().is_empty(), "the takeover holds a new lease");
}

/// Several owners claiming at once never get the same entry, and together get every entry.
pub async fn outbox_concurrent_claims_are_disjoint<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    const ENTRIES: usize = 200;
    let store = Arc::new(make().await);
    let new: Vec<NewOutboxEntry> = (0..ENTRIES).map(|i| entry(&format!("conv-{}", i % 150), "{}")).collect();
    let ids: HashSet<i64> = store.enqueue(&new).await.unwrap().into_iter().collect();
    let mut tasks = Vec::new();
    for owner in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            let mut idle = 0;
            while idle < 3 {
                let claimed = store.claim(&format!("owner-{owner}"), 7, LONG).await.unwrap();
                if claimed.is_empty() {
                    idle += 1;
                    tokio::task::yield_now().await;
                    continue;
                }
                idle = 0;
                for e in claimed {
                    mine.push(e.id);
                    store.mark_delivered(e.id, None).await.unwrap();
                }
            }
            mine
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for id in task.await.expect("claimer task") {
            assert!(seen.insert(id), "entry {id} was claimed twice");
        }
    }
    // Entries whose claimer gave up while a peer still held the head of their conversation.
    loop {
        let rest = store.claim("sweeper", 50, LONG).await.unwrap();
        if rest.is_empty() {
            break;
        }
        for e in rest {
            assert!(seen.insert(e.id), "entry {} was claimed twice", e.id);
            store.mark_delivered(e.id, None).await.unwrap();
        }
    }
    assert_eq!(seen, ids, "every entry is claimed exactly once");
    assert_eq!(store.pending_count().await.unwrap(), 0);
}

fn job(id: &str, due_at: SystemTime, payload: &str) -> Job {
    Job { id: id.to_owned(), due_at, payload: payload.to_owned() }
}

/// Jobs are listed by due time; putting an existing id replaces the job.
pub async fn jobs_put_and_list<S: JobStore, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let now = SystemTime::now();
    assert!(store.jobs().await.unwrap().is_empty());
    let later = job("standup/team-1", now + Duration::from_secs(7200), r#"{"kind":"standup"}"#);
    let sooner = job("reminder/ü/1", now + Duration::from_millis(1500), r#"{"text":"☕"}"#);
    store.put_job(&later).await.unwrap();
    store.put_job(&sooner).await.unwrap();
    assert_eq!(store.jobs().await.unwrap(), [sooner.clone(), later.clone()], "jobs by due time, exact times");
    let replaced = job("standup/team-1", now + Duration::from_secs(1), r#"{"kind":"standup","v":2}"#);
    store.put_job(&replaced).await.unwrap();
    assert_eq!(store.jobs().await.unwrap(), [replaced, sooner], "put_job replaces a job with the same id");
}

/// Only due jobs without a live lease are claimed, earliest first, up to the limit.
pub async fn jobs_claim_due<S: JobStore, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let now = SystemTime::now();
    let due1 = job("j1", now - Duration::from_secs(30), "1");
    let due2 = job("j2", now - Duration::from_secs(20), "2");
    let due3 = job("j3", now, "3");
    let future = job("j4", now + Duration::from_secs(30), "4");
    for j in [&future, &due3, &due1, &due2] {
        store.put_job(j).await.unwrap();
    }
    let mut first = store.claim_due_jobs("a", now, 2, LONG).await.unwrap();
    first.sort_by_key(|j| j.due_at);
    assert_eq!(first, [due1.clone(), due2.clone()], "the earliest due jobs, up to the limit");
    let second = store.claim_due_jobs("b", now, 10, LONG).await.unwrap();
    assert_eq!(second, [due3], "leased jobs are skipped; a job due exactly now is due");
    assert!(store.claim_due_jobs("b", now, 10, LONG).await.unwrap().is_empty());
    assert_eq!(store.jobs().await.unwrap().len(), 4, "claiming does not remove jobs");
}

/// The owner finishes a job: deleting it or rescheduling it (which releases the lease).
pub async fn jobs_finish<S: JobStore, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let now = SystemTime::now();
    store.put_job(&job("once", now, "o")).await.unwrap();
    store.put_job(&job("daily", now, "d")).await.unwrap();
    assert_eq!(store.claim_due_jobs("a", now, 10, LONG).await.unwrap().len(), 2);
    assert!(store.finish_job("once", "a", None).await.unwrap());
    let tomorrow = now + Duration::from_secs(86_400);
    assert!(store.finish_job("daily", "a", Some(tomorrow)).await.unwrap());
    assert_eq!(store.jobs().await.unwrap(), [job("daily", tomorrow, "d")]);
    assert!(store.claim_due_jobs("b", now, 10, LONG).await.unwrap().is_empty(), "rescheduled: not due now");
    let at_tomorrow = store.claim_due_jobs("b", tomorrow, 10, LONG).await.unwrap();
    assert_eq!(at_tomorrow, [job("daily", tomorrow, "d")], "the lease was released on reschedule");
    assert!(!store.finish_job("missing", "a", None).await.unwrap(), "finishing an unknown job reports false");
}

/// `finish_job` by an owner that does not hold the lease is refused and changes nothing.
pub async fn jobs_finish_by_non_owner_refused<S: JobStore, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let now = SystemTime::now();
    let j = job("j", now, "p");
    store.put_job(&j).await.unwrap();
    assert!(!store.finish_job("j", "a", None).await.unwrap(), "an unclaimed job cannot be finished");
    store.claim_due_jobs("a", now, 10, LONG).await.unwrap();
    assert!(!store.finish_job("j", "intruder", None).await.unwrap());
    assert!(!store.finish_job("j", "intruder", Some(now + LONG)).await.unwrap());
    assert_eq!(store.jobs().await.unwrap(), std::slice::from_ref(&j), "a refused finish changes nothing");
    assert!(store.claim_due_jobs("b", now, 10, LONG).await.unwrap().is_empty(), "the lease still holds");
    assert!(store.finish_job("j", "a", None).await.unwrap());
    assert!(store.jobs().await.unwrap().is_empty());
}

/// A job whose lease expired is taken over by another owner; the first owner can then no longer
/// finish it.
pub async fn jobs_lease_expiry_takeover<S: JobStore, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let now = SystemTime::now();
    let j = job("j", now, "p");
    store.put_job(&j).await.unwrap();
    let lease = Duration::from_secs(30);
    assert_eq!(store.claim_due_jobs("a", now, 10, lease).await.unwrap(), std::slice::from_ref(&j));
    let during = now + Duration::from_secs(29);
    assert!(store.claim_due_jobs("b", during, 10, lease).await.unwrap().is_empty(), "the lease is live");
    let after = now + Duration::from_secs(31);
    assert_eq!(store.claim_due_jobs("b", after, 10, lease).await.unwrap(), [j], "taken over after expiry");
    assert!(!store.finish_job("j", "a", None).await.unwrap(), "the first owner lost the lease");
    assert!(store.finish_job("j", "b", None).await.unwrap());
    assert!(store.jobs().await.unwrap().is_empty());
}

/// `cancel_job` deletes a job, claimed or not.
pub async fn jobs_cancel<S: JobStore, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let now = SystemTime::now();
    store.put_job(&job("a", now, "")).await.unwrap();
    store.put_job(&job("b", now, "")).await.unwrap();
    store.claim_due_jobs("w", now, 1, LONG).await.unwrap();
    assert!(store.cancel_job("a").await.unwrap());
    assert!(store.cancel_job("b").await.unwrap());
    assert!(!store.cancel_job("a").await.unwrap(), "cancelling twice reports false");
    assert!(store.jobs().await.unwrap().is_empty());
    assert!(store.claim_due_jobs("w", now, 10, LONG).await.unwrap().is_empty());
}

/// Several owners claiming due jobs at once never get the same job, and together get them all.
pub async fn jobs_concurrent_claims_are_disjoint<S: JobStore, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    const JOBS: usize = 120;
    let store = Arc::new(make().await);
    let now = SystemTime::now();
    for i in 0..JOBS {
        store.put_job(&job(&format!("job-{i}"), now - Duration::from_millis(i as u64), "")).await.unwrap();
    }
    let mut tasks = Vec::new();
    for owner in 0..8 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = store.claim_due_jobs(&format!("owner-{owner}"), now, 5, LONG).await.unwrap();
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|j| j.id));
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for id in task.await.expect("claimer task") {
            assert!(seen.insert(id.clone()), "job {id} was claimed twice");
        }
    }
    assert_eq!(seen.len(), JOBS, "every due job is claimed exactly once");
}
