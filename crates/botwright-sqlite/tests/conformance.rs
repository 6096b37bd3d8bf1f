//! The storage conformance suite against [`SqliteStore`] on real files, each test in its own
//! temporary directory (removed at the end of the test).

use botwright_sqlite::SqliteStore;

macro_rules! sqlite_cases {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path = dir.path().join("conformance.db");
                botwright::storage::conformance::$case(|| async {
                    SqliteStore::open(&path).await.expect("open a new store")
                })
                .await;
            }
        )*
    };
}

botwright::storage_conformance_cases!(sqlite_cases);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_on_one_file_per_case() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let counter = std::sync::atomic::AtomicUsize::new(0);
    botwright::storage::conformance::run_all(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.path().join(format!("case-{n}.db"));
        async move { SqliteStore::open(path).await.expect("open a new store") }
    })
    .await;
}
