//! Conformance cases of [`JobStore`].

use crate::storage::{Job, JobStore};
use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

const LONG: Duration = Duration::from_secs(600);

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

/// `release_job_claims` frees the leases of one owner at once, and only those.
pub async fn jobs_release_claims<S: JobStore, F: FnOnce() -> Fut, Fut: Future<Output = S>>(make: F) {
    let store = make().await;
    let now = SystemTime::now();
    store.put_job(&job("a", now, "")).await.unwrap();
    store.put_job(&job("b", now, "")).await.unwrap();
    let lease = Duration::from_secs(60);
    assert_eq!(store.claim_due_jobs("dead-run", now, 1, lease).await.unwrap().len(), 1);
    assert_eq!(store.claim_due_jobs("other", now, 1, lease).await.unwrap().len(), 1);
    assert_eq!(store.release_job_claims("dead-run").await.unwrap(), 1);
    let again = store.claim_due_jobs("next-run", now, 10, lease).await.unwrap();
    assert_eq!(again.len(), 1, "only the released job is claimable again");
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
