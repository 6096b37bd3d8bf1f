//! A fan-out of 10,000 queued notifications; `botwright serve` is killed with SIGKILL partway;
//! after a restart on the same SQLite file every message arrives, and the duplicates are no more
//! than the messages that were in flight.

mod support;

use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use support::{Connector, Server, post, temp_db};

const MESSAGES: usize = 10_000;
const IN_FLIGHT: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_accepted_message_arrives_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let store = temp_db(dir.path());
    let connector = Connector::start().await;
    connector.set_delay(2);
    let flags = ["--rate-limits", "off", "--max-in-flight", "32"];
    let server = Server::start(&store, &flags);

    // Accept 10,000 notifications (each to its own conversation), 64 requests at a time.
    let base = server.base.clone();
    let url = connector.url.clone();
    let accepted = futures::stream::iter(0..MESSAGES)
        .map(|i| {
            let (base, url) = (base.clone(), url.clone());
            async move {
                let address = json!({"channelId": "emulator", "serviceUrl": url, "user": {"id": format!("u{i}")},
                    "bot": {"id": "bot"}, "conversation": {"id": format!("c{i}")}});
                let body = json!({"address": address, "notification": format!("message {i}"), "wait": false});
                post(&base, "/api/notify", &body).await.0
            }
        })
        .buffer_unordered(64);
    use futures::StreamExt;
    let t0 = Instant::now();
    let statuses: Vec<u16> = accepted.collect().await;
    eprintln!("accepted in {:?}, delivered so far {}", t0.elapsed(), connector.count());
    assert!(statuses.iter().all(|s| *s == 202), "every notification is accepted");

    // Kill the bot while deliveries are under way.
    let started = Instant::now();
    while connector.count() < 1_000 {
        assert!(started.elapsed() < Duration::from_secs(60), "deliveries did not start");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let port = server.port;
    server.kill();
    let at_kill = connector.count();
    eprintln!("killed at {at_kill} after {:?}", t0.elapsed());
    assert!(at_kill < MESSAGES, "the crash came too late to test anything ({at_kill} delivered)");

    // Restart on the same file: the outbox is delivered.
    let _server = Server::start_on(port, &store, &flags);
    let started = Instant::now();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    loop {
        by_id.clear();
        for received in connector.all() {
            let id = received.activity["id"].as_str().unwrap_or_default().to_owned();
            *by_id.entry(id).or_default() += 1;
        }
        if by_id.len() >= MESSAGES {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "only {} of {MESSAGES} arrived", by_id.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(by_id.len(), MESSAGES);
    assert!(by_id.keys().all(|id| id.starts_with("botwright-outbox-")), "every message carries its stable id");
    let duplicates: usize = by_id.values().map(|n| n - 1).sum();
    assert!(duplicates <= IN_FLIGHT, "{duplicates} duplicates, more than the {IN_FLIGHT} in flight");
    // Every conversation got exactly its own message.
    for i in (0..MESSAGES).step_by(997) {
        assert_eq!(
            connector.texts(&format!("c{i}")).first().map(String::as_str),
            Some(format!("message {i}").as_str())
        );
    }
}
