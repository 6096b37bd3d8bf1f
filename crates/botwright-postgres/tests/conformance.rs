//! The storage conformance suite against [`PostgresStore`] on the real server, each test in its
//! own schema.

mod common;

use common::Fixture;

macro_rules! postgres_cases {
    ($($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture = Fixture::new().await;
                botwright::storage::conformance::$case(|| fixture.store()).await;
            }
        )*
    };
}

botwright::storage_conformance_cases!(postgres_cases);
