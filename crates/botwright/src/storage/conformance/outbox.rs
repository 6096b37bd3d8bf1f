//! Conformance cases of [`Outbox`].

use crate::storage::{NewOutboxEntry, Outbox, OutboxId, OutboxStatus, Settlement};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

fn entry(conversation: &str, payload: &str) -> NewOutboxEntry {
    NewOutboxEntry {
        conversation_key: conversation.to_owned(),
        payload: payload.to_owned(),
        not_before: SystemTime::now() - Duration::from_secs(1),
    }
}

const LONG: Duration = Duration::from_secs(600);

async fn delivered<S: Outbox>(store: &S, owner: &str, id: OutboxId, activity_id: Option<&str>) -> u64 {
    let settlement = Settlement::Delivered { activity_id: activity_id.map(str::to_owned) };
    store.settle(owner, &[(id, settlement)]).await.unwrap()
}

async fn retry<S: Outbox>(store: &S, owner: &str, id: OutboxId, not_before: SystemTime, error: &str) -> u64 {
    store.settle(owner, &[(id, Settlement::RetryLater { not_before, error: error.to_owned() })]).await.unwrap()
}

async fn dead<S: Outbox>(store: &S, owner: &str, id: OutboxId, reason: &str) -> u64 {
    store.settle(owner, &[(id, Settlement::Dead { reason: reason.to_owned() })]).await.unwrap()
}

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

    let both = [
        (ids[0], Settlement::Delivered { activity_id: Some("activity-1".into()) }),
        (ids[1], Settlement::Delivered { activity_id: None }),
    ];
    assert_eq!(store.settle("w1", &both).await.unwrap(), 2, "outcomes are recorded together");
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

/// A retry records the failure, releases the claim, and the entry is due again only at its new
/// `not_before`.
pub async fn outbox_retry_later<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let id = store.enqueue(&[entry("c", "{}")]).await.unwrap()[0];
    assert_eq!(store.claim("w", 10, LONG).await.unwrap().len(), 1);
    let due = SystemTime::now() + Duration::from_millis(300);
    assert_eq!(retry(&store, "w", id, due, "503 from the channel").await, 1);
    assert_eq!(
        store.status(id).await.unwrap(),
        Some(OutboxStatus::Pending { attempts: 1, last_error: Some("503 from the channel".into()) })
    );
    assert!(store.claim("w", 10, LONG).await.unwrap().is_empty(), "not claimable before its new not_before");
    assert_eq!(retry(&store, "w", id, SystemTime::now(), "again").await, 0, "a released claim records nothing");

    tokio::time::sleep(Duration::from_millis(400)).await;
    let claimed = store.claim("w2", 10, LONG).await.unwrap();
    assert_eq!(claimed.len(), 1, "claimable again once due");
    assert_eq!((claimed[0].id, claimed[0].attempts), (id, 1));
    assert_eq!(retry(&store, "w2", id, SystemTime::now() - Duration::from_secs(1), "timeout").await, 1);
    let claimed = store.claim("w3", 10, LONG).await.unwrap();
    assert_eq!((claimed[0].id, claimed[0].attempts), (id, 2));
    assert_eq!(
        store.status(id).await.unwrap(),
        Some(OutboxStatus::Pending { attempts: 2, last_error: Some("timeout".into()) })
    );
    assert_eq!(delivered(&store, "w3", id, None).await, 1);
    assert_eq!(store.pending_count().await.unwrap(), 0);
}

/// A dead settlement turns an entry into a dead letter; dead letters list newest first, up to a limit.
pub async fn outbox_dead_letters<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let ids = store.enqueue(&[entry("a", "pa"), entry("b", "pb"), entry("c", "pc")]).await.unwrap();
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    store.claim("w", 10, LONG).await.unwrap();
    assert_eq!(retry(&store, "w", ids[0], SystemTime::now() - Duration::from_secs(1), "flaky").await, 1);
    let again: Vec<_> = store.claim("w", 10, LONG).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(again, [ids[0]]);
    assert_eq!(dead(&store, "w", ids[0], "gone: 404").await, 1);
    assert_eq!(dead(&store, "w", ids[2], "rejected: 400").await, 1);
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
    assert_eq!(delivered(&store, "w", ids[1], None).await, 1);
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

    assert_eq!(retry(&store, "w", ids[0], SystemTime::now() + Duration::from_millis(300), "later").await, 1);
    assert!(store.claim("w", 10, LONG).await.unwrap().is_empty(), "a2 waits while a1 waits for its retry");

    tokio::time::sleep(Duration::from_millis(400)).await;
    let again: Vec<_> = store.claim("w", 10, LONG).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(again, [ids[0]], "a1 again, once due, before a2");
    assert_eq!(delivered(&store, "w", ids[0], None).await, 1);
    let next: Vec<_> = store.claim("w", 10, LONG).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(next, [ids[1]], "a2 follows once a1 is delivered");
    assert_eq!(dead(&store, "w", ids[1], "bad").await, 1);
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

/// `release_claims` frees the claims of one owner (a previous run that died) at once, and only
/// those.
pub async fn outbox_release_claims<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let ids = store.enqueue(&[entry("a", "a"), entry("b", "b"), entry("c", "c")]).await.unwrap();
    assert_eq!(store.claim("dead-run", 2, LONG).await.unwrap().len(), 2);
    assert_eq!(store.claim("other", 1, LONG).await.unwrap()[0].id, ids[2]);
    assert_eq!(delivered(&store, "dead-run", ids[0], None).await, 1);
    assert_eq!(store.release_claims("dead-run").await.unwrap(), 1, "only the pending entry's claim is released");
    let again: Vec<_> = store.claim("next-run", 10, LONG).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(again, [ids[1]], "the released entry is claimable; the other owner's is not");
    assert_eq!(store.status(ids[0]).await.unwrap(), Some(OutboxStatus::Delivered { activity_id: None }));
    assert_eq!(store.release_claims("nobody").await.unwrap(), 0);
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
                let owner = format!("owner-{owner}");
                for e in claimed {
                    mine.push(e.id);
                    assert_eq!(delivered(store.as_ref(), &owner, e.id, None).await, 1);
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
            assert_eq!(delivered(store.as_ref(), "sweeper", e.id, None).await, 1);
        }
    }
    assert_eq!(seen, ids, "every entry is claimed exactly once");
    assert_eq!(store.pending_count().await.unwrap(), 0);
}

/// Only the owner of a live or lapsed claim records an outcome: not an owner whose claim was
/// taken over, not anyone for an entry nobody claimed, and a finished entry never changes again.
pub async fn outbox_settle_requires_the_claim<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let ids = store.enqueue(&[entry("a", "a"), entry("b", "b")]).await.unwrap();
    assert_eq!(delivered(&store, "w1", ids[0], None).await, 0, "an entry nobody claimed");
    assert_eq!(store.status(ids[0]).await.unwrap(), Some(OutboxStatus::Pending { attempts: 0, last_error: None }));

    let claimed = store.claim("w1", 10, Duration::from_millis(50)).await.unwrap();
    assert_eq!(claimed.len(), 2);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(delivered(&store, "w1", ids[1], Some("late-but-unclaimed")).await, 1, "a lapsed claim nobody took");
    let taken: Vec<_> = store.claim("w2", 10, LONG).await.unwrap().into_iter().map(|e| e.id).collect();
    assert_eq!(taken, [ids[0]]);
    assert_eq!(delivered(&store, "w1", ids[0], Some("stale-owner")).await, 0, "the claim was taken over");
    assert_eq!(dead(&store, "w1", ids[0], "stale owner").await, 0);
    assert_eq!(store.status(ids[0]).await.unwrap(), Some(OutboxStatus::Pending { attempts: 0, last_error: None }));

    let mixed = [
        (ids[0], Settlement::Delivered { activity_id: Some("x".into()) }),
        (ids[1], Settlement::RetryLater { not_before: SystemTime::now(), error: "again".into() }),
        (987_654, Settlement::Dead { reason: "unknown".into() }),
    ];
    assert_eq!(store.settle("w2", &mixed).await.unwrap(), 1, "only the entry w2 holds");
    assert_eq!(store.status(ids[0]).await.unwrap(), Some(OutboxStatus::Delivered { activity_id: Some("x".into()) }));
    assert_eq!(
        store.status(ids[1]).await.unwrap(),
        Some(OutboxStatus::Delivered { activity_id: Some("late-but-unclaimed".into()) }),
        "a finished entry is never made pending again"
    );
    assert_eq!(retry(&store, "w2", ids[0], SystemTime::now(), "again").await, 0);
    assert_eq!(store.pending_count().await.unwrap(), 0);
    assert!(store.claim("w3", 10, LONG).await.unwrap().is_empty());
}

/// `purge` deletes finished entries enqueued before a time, and nothing pending.
pub async fn outbox_purge<S: Outbox, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let before = SystemTime::now() - Duration::from_secs(60);
    let ids = store.enqueue(&[entry("a", "a"), entry("b", "b"), entry("c", "c"), entry("d", "d")]).await.unwrap();
    assert_eq!(store.claim("w", 2, LONG).await.unwrap().len(), 2);
    assert_eq!(delivered(&store, "w", ids[0], None).await, 1);
    assert_eq!(dead(&store, "w", ids[1], "gone").await, 1);
    assert!(store.withdraw(ids[2]).await.unwrap());
    assert_eq!(store.purge(before).await.unwrap(), 0, "nothing was enqueued that early");
    assert_eq!(store.purge(SystemTime::now() + Duration::from_secs(60)).await.unwrap(), 3);
    for id in &ids[..3] {
        assert_eq!(store.status(*id).await.unwrap(), None, "purged");
    }
    assert!(store.dead_letters(10).await.unwrap().is_empty());
    assert_eq!(store.status(ids[3]).await.unwrap(), Some(OutboxStatus::Pending { attempts: 0, last_error: None }));
    assert_eq!(store.pending_count().await.unwrap(), 1);
    assert_eq!(store.claim("w", 10, LONG).await.unwrap()[0].id, ids[3], "a pending entry stays claimable");
}
