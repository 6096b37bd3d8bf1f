//! The storage conformance suite against [`MemoryStore`].

use botwright::storage::MemoryStore;

async fn fresh() -> MemoryStore {
    MemoryStore::new()
}

botwright::storage_conformance_tests!(fresh);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_passes() {
    botwright::storage::conformance::run_all(fresh).await;
}
