//! `botwright serve` with its PostgreSQL store out of reach: at start it waits (with backoff,
//! logging each attempt) instead of exiting, and starts once the database answers; while it
//! runs, the web hooks answer 503 with `Retry-After` and the store's error. The database is the
//! shared test server behind a TCP relay of the test's own, which the test opens and closes.

mod support;

use std::sync::Arc;
use support::{Watched, free_port, get};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Relays 127.0.0.1:`port` to the PostgreSQL server at 127.0.0.1:5432 until `cut` is notified;
/// then closes the listener and every relayed connection.
async fn relay(port: u16, cut: Arc<Notify>) {
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            () = cut.notified() => break,
            accepted = listener.accept() => {
                let Ok((mut client, _)) = accepted else { continue };
                connections.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(("127.0.0.1", 5432)).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }
    }
    connections.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_waits_for_a_store_that_is_not_up_yet_and_answers_503_when_it_goes_away() {
    let schema = format!("cli_outage_{}", std::process::id());
    let port = free_port();
    let store = format!("postgres://postgres@127.0.0.1:{port}/test?schema={schema}");
    let server = Watched::start(&["--store", &store], &[]);
    // Nothing listens on `port` yet: serve keeps trying, saying why, and does not exit.
    let output = server.wait_output("a second attempt", |o| o.contains("attempt=2"));
    assert!(output.contains("the store is not reachable yet"), "{output}");
    assert!(output.contains("retry_in=2s"), "the pause doubles: {output}");
    let mut child = server;
    assert!(child.child.try_wait().unwrap().is_none(), "serve exited:\n{}", child.output());
    assert!(!child.output().contains("listening on"));

    // The database comes up: serve starts.
    let cut = Arc::new(Notify::new());
    let relaying = tokio::spawn(relay(port, cut.clone()));
    child.wait_listening();
    let (status, body) = get(&child.base, "/api/subscriptions").await;
    assert_eq!(status, 200, "{body}");

    // The database goes away: the hooks say so with 503 and Retry-After.
    cut.notify_one();
    relaying.await.unwrap();
    let response = support::http().get(format!("{}/api/subscriptions", child.base)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    let body: serde_json::Value = response.json().await.unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(error.contains("the store is unavailable") && error.contains("PostgreSQL"), "{error}");
    let (status, _) = get(&child.base, "/api/standup/r1").await;
    assert_eq!(status, 503);
    drop(child);

    let (client, connection) =
        tokio_postgres::connect("host=127.0.0.1 port=5432 user=postgres dbname=test", tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    client.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await.unwrap();
}

#[test]
fn an_invalid_store_url_fails_at_once() {
    let mut server = Watched::start(&["--store", "postgres://user:pw@127.0.0.1:notaport/test"], &[]);
    let (status, output) = server.wait_exit();
    assert!(!status.success());
    assert!(output.contains("invalid PostgreSQL URL"), "{output}");
    assert!(!output.contains("attempt="), "an invalid URL is not retried: {output}");
}
