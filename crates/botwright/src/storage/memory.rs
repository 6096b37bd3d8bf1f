//! An in-process store: state, outbox and jobs in memory, gone when the process ends.

use super::{
    DeadLetter, Document, Job, JobStore, NewOutboxEntry, Outbox, OutboxEntry, OutboxId, OutboxStatus, Precondition,
    Settlement, Storage, StorageError, Write,
};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

const SHARDS: usize = 32;

/// State, outbox and jobs in process memory.
///
/// Documents live in sharded maps (no lock is shared by all conversations); versions are checked
/// exactly as in the durable stores, so code tested against it behaves the same on them.
#[derive(Debug)]
pub struct MemoryStore {
    shards: Vec<Mutex<HashMap<Box<str>, Stored>>>,
    hasher: RandomState,
    next_version: AtomicU64,
    outbox: Mutex<MemoryOutbox>,
    jobs: Mutex<BTreeMap<String, MemoryJob>>,
}

/// A document as kept: its JSON without spare capacity and its version as a number (a
/// [`Document`] is built on read), so that each of many small documents costs little beyond
/// its text.
#[derive(Debug)]
struct Stored {
    json: Box<str>,
    version: u64,
}

impl Stored {
    fn document(&self) -> Document {
        Document { json: self.json.to_string(), etag: self.version.to_string() }
    }
}

#[derive(Debug, Default)]
struct MemoryOutbox {
    next_id: OutboxId,
    entries: BTreeMap<OutboxId, MemoryOutboxEntry>,
    /// The ids of the pending entries, so that a claim looks at those only.
    pending: std::collections::BTreeSet<OutboxId>,
}

#[derive(Debug)]
struct MemoryOutboxEntry {
    entry: OutboxEntry,
    not_before: SystemTime,
    lease: Option<(String, SystemTime)>,
    status: OutboxStatus,
}

#[derive(Debug)]
struct MemoryJob {
    job: Job,
    lease: Option<(String, SystemTime)>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            next_version: AtomicU64::new(1),
            outbox: Mutex::new(MemoryOutbox::default()),
            jobs: Mutex::new(BTreeMap::new()),
        }
    }

    fn shard_of(&self, key: &str) -> usize {
        (self.hasher.hash_one(key) as usize) % SHARDS
    }

    fn version(&self) -> u64 {
        self.next_version.fetch_add(1, Ordering::Relaxed)
    }
}

fn check(key: &str, existing: Option<&Stored>, precondition: &Precondition) -> Result<(), StorageError> {
    let ok = match (precondition, existing) {
        (Precondition::Any, _) => true,
        (Precondition::Absent, None) => true,
        (Precondition::Absent, Some(_)) => false,
        (Precondition::Version(v), Some(doc)) => is_version(v, doc.version),
        (Precondition::Version(_), None) => false,
    };
    if ok { Ok(()) } else { Err(StorageError::Conflict { key: key.to_owned() }) }
}

/// Whether `etag` is `version` written out (as [`Stored::document`] does).
fn is_version(etag: &str, version: u64) -> bool {
    !etag.starts_with(['0', '+']) && etag.parse() == Ok(version)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave a half-applied write (all mutations below
    // happen after every check), so a poisoned lock is safe to keep using.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[async_trait]
impl Storage for MemoryStore {
    async fn read(&self, key: &str) -> Result<Option<Document>, StorageError> {
        Ok(lock(&self.shards[self.shard_of(key)]).get(key).map(Stored::document))
    }

    async fn write(&self, key: &str, json: &str, precondition: Precondition) -> Result<String, StorageError> {
        let mut shard = lock(&self.shards[self.shard_of(key)]);
        check(key, shard.get(key), &precondition)?;
        let version = self.version();
        shard.insert(key.into(), Stored { json: json.into(), version });
        Ok(version.to_string())
    }

    async fn write_many(&self, writes: &[Write]) -> Result<Vec<Option<String>>, StorageError> {
        let mut indexes: Vec<usize> = writes.iter().map(|w| self.shard_of(&w.key)).collect();
        indexes.sort_unstable();
        indexes.dedup();
        // Lock the shards in index order so that concurrent batches cannot deadlock.
        let mut guards: HashMap<usize, std::sync::MutexGuard<'_, HashMap<Box<str>, Stored>>> =
            indexes.iter().map(|&i| (i, lock(&self.shards[i]))).collect();
        for write in writes {
            let shard = &guards[&self.shard_of(&write.key)];
            check(&write.key, shard.get(write.key.as_str()), &write.precondition)?;
        }
        let mut versions = Vec::with_capacity(writes.len());
        for write in writes {
            let shard = guards.get_mut(&self.shard_of(&write.key)).expect("shard locked above");
            match &write.json {
                Some(json) => {
                    let version = self.version();
                    shard.insert(write.key.as_str().into(), Stored { json: json.as_str().into(), version });
                    versions.push(Some(version.to_string()));
                }
                None => {
                    shard.remove(write.key.as_str());
                    versions.push(None);
                }
            }
        }
        Ok(versions)
    }

    async fn delete(&self, key: &str, precondition: Precondition) -> Result<bool, StorageError> {
        let mut shard = lock(&self.shards[self.shard_of(key)]);
        if precondition != Precondition::Any {
            check(key, shard.get(key), &precondition)?;
        }
        Ok(shard.remove(key).is_some())
    }

    async fn scan(&self, prefix: &str) -> Result<Vec<(String, Document)>, StorageError> {
        let mut found = Vec::new();
        for shard in &self.shards {
            let shard = lock(shard);
            found.extend(
                shard.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, d)| (k.to_string(), d.document())),
            );
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found)
    }
}

fn lease_live(lease: &Option<(String, SystemTime)>, now: SystemTime) -> bool {
    matches!(lease, Some((_, until)) if *until > now)
}

#[async_trait]
impl Outbox for MemoryStore {
    async fn enqueue(&self, entries: &[NewOutboxEntry]) -> Result<Vec<OutboxId>, StorageError> {
        let mut outbox = lock(&self.outbox);
        let now = SystemTime::now();
        let mut ids = Vec::with_capacity(entries.len());
        for new in entries {
            outbox.next_id += 1;
            let id = outbox.next_id;
            outbox.entries.insert(
                id,
                MemoryOutboxEntry {
                    entry: OutboxEntry {
                        id,
                        conversation_key: new.conversation_key.clone(),
                        payload: new.payload.clone(),
                        attempts: 0,
                        created_at: now,
                    },
                    not_before: new.not_before,
                    lease: None,
                    status: OutboxStatus::Pending { attempts: 0, last_error: None },
                },
            );
            outbox.pending.insert(id);
            ids.push(id);
        }
        Ok(ids)
    }

    async fn claim(&self, owner: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxEntry>, StorageError> {
        let mut guard = lock(&self.outbox);
        let outbox = &mut *guard;
        let now = SystemTime::now();
        let mut seen = std::collections::HashSet::new();
        let mut chosen = Vec::new();
        for id in &outbox.pending {
            if chosen.len() >= limit {
                break;
            }
            let Some(e) = outbox.entries.get(id) else { continue };
            // Only the head of each conversation's queue can be claimed.
            if !seen.insert(e.entry.conversation_key.as_str()) {
                continue;
            }
            if lease_live(&e.lease, now) || e.not_before > now {
                continue;
            }
            chosen.push(*id);
        }
        let until = now + lease;
        let mut claimed = Vec::with_capacity(chosen.len());
        for id in chosen {
            let Some(e) = outbox.entries.get_mut(&id) else { continue };
            e.lease = Some((owner.to_owned(), until));
            claimed.push(e.entry.clone());
        }
        Ok(claimed)
    }

    async fn settle(&self, owner: &str, settlements: &[(OutboxId, Settlement)]) -> Result<u64, StorageError> {
        let mut guard = lock(&self.outbox);
        let outbox = &mut *guard;
        let mut settled = 0;
        for (id, settlement) in settlements {
            let Some(e) = outbox.entries.get_mut(id) else { continue };
            let claimed = matches!(e.status, OutboxStatus::Pending { .. })
                && e.lease.as_ref().is_some_and(|(holder, _)| holder == owner);
            if !claimed {
                continue;
            }
            e.lease = None;
            match settlement {
                Settlement::Delivered { activity_id } => {
                    e.entry.payload = String::new();
                    e.status = OutboxStatus::Delivered { activity_id: activity_id.clone() };
                    outbox.pending.remove(id);
                }
                Settlement::RetryLater { not_before, error } => {
                    e.not_before = *not_before;
                    e.entry.attempts += 1;
                    e.status = OutboxStatus::Pending { attempts: e.entry.attempts, last_error: Some(error.clone()) };
                }
                Settlement::Dead { reason } => {
                    e.status = OutboxStatus::Dead { reason: reason.clone() };
                    outbox.pending.remove(id);
                }
            }
            settled += 1;
        }
        Ok(settled)
    }

    async fn purge(&self, enqueued_before: SystemTime) -> Result<u64, StorageError> {
        let mut outbox = lock(&self.outbox);
        let before = outbox.entries.len();
        outbox
            .entries
            .retain(|_, e| matches!(e.status, OutboxStatus::Pending { .. }) || e.entry.created_at >= enqueued_before);
        Ok((before - outbox.entries.len()) as u64)
    }

    async fn withdraw(&self, id: OutboxId) -> Result<bool, StorageError> {
        let mut outbox = lock(&self.outbox);
        let now = SystemTime::now();
        match outbox.entries.get_mut(&id) {
            Some(e) if matches!(e.status, OutboxStatus::Pending { .. }) && !lease_live(&e.lease, now) => {
                e.status = OutboxStatus::Withdrawn;
                e.entry.payload = String::new();
                outbox.pending.remove(&id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn status(&self, id: OutboxId) -> Result<Option<OutboxStatus>, StorageError> {
        Ok(lock(&self.outbox).entries.get(&id).map(|e| e.status.clone()))
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<DeadLetter>, StorageError> {
        let outbox = lock(&self.outbox);
        Ok(outbox
            .entries
            .values()
            .rev()
            .filter_map(|e| match &e.status {
                OutboxStatus::Dead { reason } => Some(DeadLetter {
                    id: e.entry.id,
                    conversation_key: e.entry.conversation_key.clone(),
                    payload: e.entry.payload.clone(),
                    reason: reason.clone(),
                    attempts: e.entry.attempts,
                }),
                _ => None,
            })
            .take(limit)
            .collect())
    }

    async fn release_claims(&self, owner: &str) -> Result<u64, StorageError> {
        let mut guard = lock(&self.outbox);
        let outbox = &mut *guard;
        let mut released = 0;
        for id in &outbox.pending {
            if let Some(e) = outbox.entries.get_mut(id)
                && e.lease.as_ref().is_some_and(|(o, _)| o == owner)
            {
                e.lease = None;
                released += 1;
            }
        }
        Ok(released)
    }

    async fn pending_count(&self) -> Result<u64, StorageError> {
        Ok(lock(&self.outbox).pending.len() as u64)
    }
}

#[async_trait]
impl JobStore for MemoryStore {
    async fn put_job(&self, job: &Job) -> Result<(), StorageError> {
        lock(&self.jobs).insert(job.id.clone(), MemoryJob { job: job.clone(), lease: None });
        Ok(())
    }

    async fn claim_due_jobs(
        &self,
        owner: &str,
        now: SystemTime,
        limit: usize,
        lease: Duration,
    ) -> Result<Vec<Job>, StorageError> {
        let mut jobs = lock(&self.jobs);
        let mut due: Vec<&mut MemoryJob> =
            jobs.values_mut().filter(|j| j.job.due_at <= now && !lease_live(&j.lease, now)).collect();
        due.sort_by_key(|j| j.job.due_at);
        Ok(due
            .into_iter()
            .take(limit)
            .map(|j| {
                j.lease = Some((owner.to_owned(), now + lease));
                j.job.clone()
            })
            .collect())
    }

    async fn finish_job(&self, id: &str, owner: &str, next_due: Option<SystemTime>) -> Result<bool, StorageError> {
        let mut jobs = lock(&self.jobs);
        let holds = matches!(jobs.get(id), Some(MemoryJob { lease: Some((o, _)), .. }) if o == owner);
        if !holds {
            return Ok(false);
        }
        match next_due {
            None => {
                jobs.remove(id);
            }
            Some(due) => {
                let j = jobs.get_mut(id).expect("checked above");
                j.job.due_at = due;
                j.lease = None;
            }
        }
        Ok(true)
    }

    async fn cancel_job(&self, id: &str) -> Result<bool, StorageError> {
        Ok(lock(&self.jobs).remove(id).is_some())
    }

    async fn release_job_claims(&self, owner: &str) -> Result<u64, StorageError> {
        let mut jobs = lock(&self.jobs);
        let mut released = 0;
        for j in jobs.values_mut() {
            if j.lease.as_ref().is_some_and(|(o, _)| o == owner) {
                j.lease = None;
                released += 1;
            }
        }
        Ok(released)
    }

    async fn jobs(&self) -> Result<Vec<Job>, StorageError> {
        let mut all: Vec<Job> = lock(&self.jobs).values().map(|j| j.job.clone()).collect();
        all.sort_by_key(|j| j.due_at);
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_match_only_as_written() {
        assert!(is_version("7", 7));
        assert!(is_version("18446744073709551615", u64::MAX));
        assert!(!is_version("8", 7));
        assert!(!is_version("07", 7));
        assert!(!is_version("+7", 7));
        assert!(!is_version(" 7", 7));
        assert!(!is_version("", 7));
    }
}
