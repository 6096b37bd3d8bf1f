//! Test fixtures: the PostgreSQL server on 127.0.0.1:5432, each test in a fresh schema that is
//! dropped when the fixture goes (also when the test fails).

#![allow(dead_code, unreachable_pub)]

use botwright_postgres::{PostgresConfig, PostgresStore};
use tokio::sync::OnceCell;
use tokio_postgres::NoTls;

static URL: OnceCell<String> = OnceCell::const_new();

/// The connection string of the test server: `BOTWRIGHT_TEST_POSTGRES`, else user `postgres`,
/// else user `root`, on database `test`.
pub async fn url() -> String {
    URL.get_or_init(|| async {
        if let Ok(url) = std::env::var("BOTWRIGHT_TEST_POSTGRES") {
            return url;
        }
        for user in ["postgres", "root"] {
            let url = format!("host=127.0.0.1 port=5432 user={user} dbname=test");
            if let Ok((client, connection)) = tokio_postgres::connect(&url, NoTls).await {
                drop(client);
                drop(connection);
                return url;
            }
        }
        panic!("no PostgreSQL on 127.0.0.1:5432 (database test, user postgres or root)");
    })
    .await
    .clone()
}

/// A fresh schema, dropped with the fixture.
#[derive(Debug)]
pub struct Fixture {
    pub url: String,
    pub schema: String,
}

impl Fixture {
    pub async fn new() -> Fixture {
        Fixture { url: url().await, schema: format!("bwt_{:016x}", rand::random::<u64>()) }
    }

    /// Settings for a store in this schema, with small pools (tests run in parallel).
    pub fn config(&self) -> PostgresConfig {
        PostgresConfig::from_url(&self.url).unwrap().schema(&self.schema).unwrap().pool_size(4).lock_pool_size(4)
    }

    /// A store (a pool of its own) in this schema.
    pub async fn store(&self) -> PostgresStore {
        PostgresStore::connect_with(self.config()).await.expect("connect to the test database")
    }

    /// A plain client, for looking behind the store's back.
    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls).await.unwrap();
        tokio::spawn(connection);
        client
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop may run inside the test's runtime: do the clean-up on a thread with its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap();
                tokio::spawn(connection);
                client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")).await.unwrap();
            });
        });
        let _ = cleanup.join();
    }
}
