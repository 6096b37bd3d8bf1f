//! Per-conversation turn locks inside one process.
//!
//! Turns of one conversation run one at a time, in arrival order (tokio's mutex is fair); turns
//! of different conversations never wait for each other. Locks live in sharded maps and are
//! removed when nobody holds or waits for them, so memory stays proportional to the
//! conversations active right now.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

const SHARDS: usize = 64;

#[derive(Debug)]
pub(crate) struct TurnLocks {
    shards: Vec<Mutex<HashMap<String, Arc<AsyncMutex<()>>>>>,
    hasher: RandomState,
}

/// Held for the length of a turn.
#[derive(Debug)]
pub(crate) struct TurnGuard<'a> {
    locks: &'a TurnLocks,
    key: String,
    guard: Option<OwnedMutexGuard<()>>,
}

impl TurnLocks {
    pub(crate) fn new() -> Self {
        TurnLocks { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(), hasher: RandomState::new() }
    }

    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Arc<AsyncMutex<()>>>> {
        &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    pub(crate) async fn lock(&self, key: &str) -> TurnGuard<'_> {
        let mutex = {
            let mut shard = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
            shard.entry(key.to_owned()).or_insert_with(|| Arc::new(AsyncMutex::new(()))).clone()
        };
        let guard = mutex.lock_owned().await;
        TurnGuard { locks: self, key: key.to_owned(), guard: Some(guard) }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap().len()).sum()
    }
}

impl Drop for TurnGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut shard = self.locks.shard(&self.key).lock().unwrap_or_else(|p| p.into_inner());
        // Only the map holds it: nobody holds or waits for this conversation any more.
        if shard.get(&self.key).is_some_and(|m| Arc::strong_count(m) == 1) {
            shard.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn locks_are_removed_when_released() {
        let locks = TurnLocks::new();
        {
            let _a = locks.lock("a").await;
            let _b = locks.lock("b").await;
            assert_eq!(locks.len(), 2);
        }
        assert_eq!(locks.len(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_conversation_runs_one_turn_at_a_time() {
        let locks = Arc::new(TurnLocks::new());
        let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let (locks, inside) = (locks.clone(), inside.clone());
            tasks.push(tokio::spawn(async move {
                let _g = locks.lock("c").await;
                assert_eq!(inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst), 0);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(locks.len(), 0);
    }
}
