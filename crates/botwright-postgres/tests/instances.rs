//! Several instances (stores with pools of their own) on one schema.

mod common;

use botwright::storage::{Job, JobStore, NewOutboxEntry, Outbox, Settlement, Storage};
use common::Fixture;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const LONG: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_never_claim_the_same_outbox_entry_and_keep_order() {
    let fixture = Fixture::new().await;
    let instances = [Arc::new(fixture.store().await), Arc::new(fixture.store().await)];
    let entries: Vec<NewOutboxEntry> = (0..300)
        .map(|i| NewOutboxEntry {
            conversation_key: format!("conv-{}", i % 40),
            payload: i.to_string(),
            not_before: SystemTime::now() - Duration::from_secs(1),
        })
        .collect();
    // Enqueue from both instances at once, half each.
    let (first, second) = entries.split_at(150);
    let (a, b) = tokio::join!(instances[0].enqueue(first), instances[1].enqueue(second));
    let all_ids: HashSet<i64> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    assert_eq!(all_ids.len(), 300);

    let log: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let mut tasks = Vec::new();
    for (n, store) in instances.iter().enumerate() {
        for worker in 0..3 {
            let (store, log) = (Arc::clone(store), Arc::clone(&log));
            tasks.push(tokio::spawn(async move {
                let owner = format!("instance-{n}/worker-{worker}");
                let mut idle = 0;
                while idle < 5 {
                    let claimed = store.claim(&owner, 4, LONG).await.unwrap();
                    if claimed.is_empty() {
                        idle += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    idle = 0;
                    for entry in claimed {
                        log.lock().unwrap().push((entry.conversation_key.clone(), entry.id));
                        let delivered = Settlement::Delivered { activity_id: None };
                        assert_eq!(store.settle(&owner, &[(entry.id, delivered)]).await.unwrap(), 1);
                    }
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    // Whatever the workers left when they stopped.
    loop {
        let rest = instances[0].claim("sweeper", 100, LONG).await.unwrap();
        if rest.is_empty() {
            break;
        }
        for entry in rest {
            log.lock().unwrap().push((entry.conversation_key.clone(), entry.id));
            let delivered = Settlement::Delivered { activity_id: None };
            assert_eq!(instances[0].settle("sweeper", &[(entry.id, delivered)]).await.unwrap(), 1);
        }
    }
    let log = log.lock().unwrap().clone();
    let delivered: HashSet<i64> = log.iter().map(|(_, id)| *id).collect();
    assert_eq!(delivered.len(), log.len(), "no entry was claimed twice");
    assert_eq!(delivered, all_ids, "every entry was delivered");
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (conversation, id) in &log {
        if let Some(previous) = last.insert(conversation, *id) {
            assert!(previous < *id, "{conversation}: {id} was delivered after {previous}");
        }
    }
    assert_eq!(instances[1].pending_count().await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_never_claim_the_same_job() {
    let fixture = Fixture::new().await;
    let instances = [Arc::new(fixture.store().await), Arc::new(fixture.store().await)];
    let now = SystemTime::now();
    for i in 0..150 {
        let job = Job { id: format!("job-{i}"), due_at: now - Duration::from_millis(i), payload: String::new() };
        instances[i as usize % 2].put_job(&job).await.unwrap();
    }
    let mut tasks = Vec::new();
    for (n, store) in instances.iter().enumerate() {
        for worker in 0..3 {
            let store = Arc::clone(store);
            tasks.push(tokio::spawn(async move {
                let owner = format!("instance-{n}/worker-{worker}");
                let mut mine = Vec::new();
                loop {
                    let claimed = store.claim_due_jobs(&owner, now, 4, LONG).await.unwrap();
                    if claimed.is_empty() {
                        return mine;
                    }
                    for job in claimed {
                        assert!(
                            store.finish_job(&job.id, &owner, None).await.unwrap(),
                            "the owner finishes {}",
                            job.id
                        );
                        mine.push(job.id);
                    }
                }
            }));
        }
    }
    let mut seen = HashSet::new();
    for task in tasks {
        for id in task.await.unwrap() {
            assert!(seen.insert(id.clone()), "job {id} was claimed twice");
        }
    }
    assert_eq!(seen.len(), 150);
    assert!(instances[0].jobs().await.unwrap().is_empty());
}

/// Advisory locks held in the server on `key` (the one-key form: class and object hold the two
/// halves of the 64-bit key).
async fn advisory_locks(client: &tokio_postgres::Client, key: &str) -> i64 {
    client
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted \
             AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)",
            &[&key],
        )
        .await
        .unwrap()
        .get(0)
}

async fn until_unlocked(client: &tokio_postgres::Client, key: &str) {
    for _ in 0..600 {
        if advisory_locks(client, key).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the lock on {key} was never released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_lock_excludes_another_instance_until_dropped() {
    let fixture = Fixture::new().await;
    let (a, b) = (Arc::new(fixture.store().await), Arc::new(fixture.store().await));
    let observer = fixture.client().await;
    let held = a.lock_conversation("conv/shared").await.unwrap().expect("PostgreSQL locks across instances");
    assert_eq!(advisory_locks(&observer, "conv/shared").await, 1);

    let contender = {
        let b = Arc::clone(&b);
        tokio::spawn(async move { b.lock_conversation("conv/shared").await })
    };
    let other = tokio::time::timeout(Duration::from_secs(30), b.lock_conversation("conv/elsewhere"))
        .await
        .expect("another conversation does not wait")
        .unwrap();
    drop(other);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!contender.is_finished(), "the second instance waits while the first holds the lock");

    drop(held);
    let second = tokio::time::timeout(Duration::from_secs(30), contender)
        .await
        .expect("granted once released")
        .unwrap()
        .unwrap();
    assert!(second.is_some());
    assert_eq!(advisory_locks(&observer, "conv/shared").await, 1);
    drop(second);
    until_unlocked(&observer, "conv/shared").await;
    until_unlocked(&observer, "conv/elsewhere").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_lock_wait_leaves_no_lock_behind() {
    let fixture = Fixture::new().await;
    let (a, b) = (fixture.store().await, fixture.store().await);
    let observer = fixture.client().await;
    let held = a.lock_conversation("conv/abandoned").await.unwrap();
    let gave_up = tokio::time::timeout(Duration::from_millis(200), b.lock_conversation("conv/abandoned")).await;
    assert!(gave_up.is_err(), "the wait was still going");
    drop(held);
    until_unlocked(&observer, "conv/abandoned").await;
    // The abandoned connection did not take the lock once it was free, and was not pooled.
    for _ in 0..3 {
        let lock = tokio::time::timeout(Duration::from_secs(30), b.lock_conversation("conv/abandoned"))
            .await
            .expect("the lock is free")
            .unwrap();
        assert_eq!(advisory_locks(&observer, "conv/abandoned").await, 1);
        drop(lock);
        until_unlocked(&observer, "conv/abandoned").await;
    }
    let lock = a.lock_conversation("conv/abandoned").await.unwrap();
    drop(lock);
    until_unlocked(&observer, "conv/abandoned").await;
}
