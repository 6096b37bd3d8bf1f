//! What one hostile web chat client makes the process hold: it posts a few hundred large
//! `event` activities (values of many small JSON objects, which cost far more parsed than as
//! text) and reads the history back several times, over real sockets. The process's resident
//! memory must grow by less than 64 MiB (it grew by gigabytes when the history was kept as parsed
//! JSON and copied whole for every read).
//!
//! The only test in this binary, so that the process's memory is this test's.

use axum::Router;
use botwright::{Activity, TurnOutcome, async_trait};
use botwright_botframework::directline::{DirectLine, DirectLineConfig};
use botwright_botframework::{ActivityHandler, HandlerError};
use serde_json::{Value, json};
use std::time::Duration;

/// A bot that takes everything and says nothing.
struct Accepts;

#[async_trait]
impl ActivityHandler for Accepts {
    async fn handle(&self, _activity: Activity) -> Result<TurnOutcome, HandlerError> {
        Ok(TurnOutcome::Completed)
    }
}

/// Resident and peak resident memory of this process, in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> u64 {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_make_the_process_grow_by_more_than_64_mib() {
    let directline = DirectLine::new(DirectLineConfig::default());
    let app: Router = directline.router(Accepts);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let base = format!("http://{addr}/v3/directline");

    let generated: Value = http.post(format!("{base}/tokens/generate")).send().await.unwrap().json().await.unwrap();
    let token = generated["token"].as_str().unwrap().to_owned();
    let started: Value =
        http.post(format!("{base}/conversations")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    let conversation = started["conversationId"].as_str().unwrap().to_owned();

    // ~250 KB of JSON text each (under the 256 KiB body limit): 30,000 small objects, tens of
    // MB once parsed (refused: too many objects), and the costliest shape accepted, 990 objects
    // of 31 keys each.
    let small_objects: Vec<Value> = (0..30_000).map(|i| json!({ "k": i % 10 })).collect();
    let heavy = json!({"type": "event", "name": "flood", "from": {"id": "eve"}, "value": small_objects}).to_string();
    let dense: Vec<Value> =
        (0..990).map(|i| Value::Object((0..31).map(|k| (format!("k{k}"), json!(i % 7))).collect())).collect();
    let dense = json!({"type": "event", "name": "flood", "from": {"id": "eve"}, "value": dense}).to_string();
    for body in [&heavy, &dense] {
        assert!(body.len() > 200 * 1024 && body.len() < 256 * 1024, "{}", body.len());
    }

    let (rss_before, _) = memory();
    for _ in 0..300 {
        for (body, status) in [(&heavy, 413), (&dense, 200)] {
            let response = http
                .post(format!("{base}/conversations/{conversation}/activities"))
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), status);
        }
    }
    for _ in 0..5 {
        let response = http
            .get(format!("{base}/conversations/{conversation}/activities"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let bytes = response.bytes().await.unwrap();
        assert!(bytes.len() > 256 * 1024, "the history is there");
    }
    let (rss_after, peak) = memory();
    let grown = rss_after.saturating_sub(rss_before) / 1024;
    let peak_over = peak.saturating_sub(rss_before) / 1024;
    println!(
        "resident memory: {} MiB before, {} MiB after (+{grown} MiB), peak +{peak_over} MiB",
        rss_before / 1024,
        rss_after / 1024
    );
    assert!(peak_over < 64, "the process grew by {peak_over} MiB at its peak");
}
