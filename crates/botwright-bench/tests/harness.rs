//! The harness against real bots over loopback: the in-process ceiling, and small endpoints that
//! misbehave on purpose (never reply; reply twice).
#![allow(missing_docs)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use botwright_bench::connector::{self, Connector, Faults};
use botwright_bench::load::{self, Length, LoadConfig};
use botwright_bench::slot::Arrival;
use botwright_bench::workload::Workload;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn config(workload: Workload, users: usize, cycles: u64, timeout: Duration) -> LoadConfig {
    LoadConfig {
        workload,
        users,
        conversations: users,
        warmup: Duration::ZERO,
        length: Length::Cycles(cycles),
        timeout,
        settle: Duration::from_millis(200),
    }
}

async fn run_against(router: Router, config: LoadConfig) -> load::LoadOutcome {
    let (bot, _bot_task) = connector::serve(router).await.unwrap();
    let stand_in = Connector::new(config.conversations_used(), 0, Faults::default());
    let (service_url, _task) = connector::start(stand_in.clone()).await.unwrap();
    load::run(config, &format!("http://{bot}"), stand_in, &service_url, "t").await
}

#[tokio::test]
async fn a_short_echo_run_against_the_ceiling_has_no_errors() {
    let outcome = run_against(
        botwright_bench::ceiling::router(Workload::Echo),
        config(Workload::Echo, 8, 200, Duration::from_secs(5)),
    )
    .await;
    assert_eq!(outcome.turns, 200);
    assert_eq!(outcome.errors, load::Errors::default());
    assert_eq!(outcome.latencies.len(), 200);
    assert!(outcome.turns_per_second() > 0.0);
}

#[tokio::test]
async fn the_waterfall_script_runs_against_the_stateless_ceiling() {
    let outcome = run_against(
        botwright_bench::ceiling::router(Workload::Waterfall),
        config(Workload::Waterfall, 4, 20, Duration::from_secs(5)),
    )
    .await;
    // Two turns per cycle.
    assert_eq!(outcome.turns, 40);
    assert_eq!(outcome.errors.failed_turns(), 0);
}

/// A bot that accepts every activity and never replies.
fn silent() -> Router {
    Router::new().route("/api/messages", post(|| async { StatusCode::ACCEPTED }))
}

#[tokio::test]
async fn a_reply_that_never_came_is_an_error() {
    let outcome = run_against(silent(), config(Workload::Echo, 2, 2, Duration::from_millis(200))).await;
    assert_eq!(outcome.turns, 0);
    assert_eq!(outcome.errors.no_reply, 2);
    assert_eq!(outcome.errors.duplicates, 0);
}

/// A bot that refuses every activity.
#[tokio::test]
async fn a_refused_request_is_an_error() {
    let refusing = Router::new().route("/api/messages", post(|| async { StatusCode::SERVICE_UNAVAILABLE }));
    let outcome = run_against(refusing, config(Workload::Echo, 1, 3, Duration::from_millis(500))).await;
    assert_eq!(outcome.errors.http, 3);
    assert_eq!(outcome.turns, 0);
}

/// A bot that sends every echo twice (and a debug event, like v3 on the emulator channel).
fn stuttering() -> Router {
    async fn handle(State(client): State<reqwest::Client>, body: Bytes) -> StatusCode {
        let a: Value = serde_json::from_slice(&body).unwrap();
        let url = format!(
            "{}/v3/conversations/{}/activities/{}",
            a["serviceUrl"].as_str().unwrap(),
            a["conversation"]["id"].as_str().unwrap(),
            a["id"].as_str().unwrap()
        );
        let reply = json!({ "type": "message", "text": format!("echo: {}", a["text"].as_str().unwrap()) });
        let debug = json!({ "type": "event", "name": "debug" });
        for body in [&debug, &reply, &reply] {
            client.post(&url).json(body).send().await.unwrap();
        }
        StatusCode::ACCEPTED
    }
    Router::new().route("/api/messages", post(handle)).with_state(load::http_client(4))
}

#[tokio::test]
async fn a_duplicate_is_counted_as_a_duplicate_not_a_failed_turn() {
    let outcome = run_against(stuttering(), config(Workload::Echo, 2, 6, Duration::from_secs(5))).await;
    assert_eq!(outcome.turns, 6);
    assert_eq!(outcome.errors.failed_turns(), 0);
    assert_eq!(outcome.errors.duplicates, 6);
    assert_eq!(outcome.other_activities, 6);
}

#[tokio::test]
async fn the_connector_stand_in_records_replies_over_http() {
    let stand_in = Connector::new(2, 3, Faults::default());
    let (service_url, _task) = connector::start(stand_in.clone()).await.unwrap();
    stand_in.slots[1].begin(5, vec!["hi".into()]);
    let client = load::http_client(1);
    let post = |path: String, body: Value| {
        let client = client.clone();
        let url = format!("{service_url}{path}");
        async move { client.post(url).json(&body).send().await.unwrap() }
    };
    let answer = post("/v3/conversations/c1/activities/1-5".into(), json!({"type": "message", "text": "hi"})).await;
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(stand_in.slots[1].completed_at().is_some());
    post("/v3/conversations/p2/activities".into(), json!({"type": "message", "text": "n"})).await;
    post("/v3/conversations/p2/activities".into(), json!({"type": "message", "text": "n"})).await;
    post("/v3/conversations/zzz/activities".into(), json!({"type": "message", "text": "?"})).await;
    assert_eq!(stand_in.deliveries.count(2), 2);
    assert_eq!(stand_in.deliveries.count(0), 0);
    let c = &stand_in.counters;
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!((c.expected.load(Relaxed), c.duplicates.load(Relaxed), c.unexpected.load(Relaxed)), (2, 1, 1));
    assert_eq!(stand_in.record("c0", None, b"not json"), None);
    assert_eq!(c.malformed.load(Relaxed), 1);
    assert_eq!(stand_in.record("c0", None, br#"{"type":"message","text":"x"}"#), Some(Arrival::Unexpected));
}

#[tokio::test]
async fn faults_answer_429_with_retry_after_and_500() {
    let all_429 = Connector::new(0, 1, Faults { rate_limited: 1.0, server_error: 0.0, retry_after_secs: 2 });
    let (url, _t) = connector::start(all_429.clone()).await.unwrap();
    let client = load::http_client(1);
    let r = client
        .post(format!("{url}/v3/conversations/p0/activities"))
        .json(&json!({"type": "message"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    assert_eq!(all_429.deliveries.count(0), 0);
    let all_500 = Connector::new(0, 1, Faults { rate_limited: 0.0, server_error: 1.0, retry_after_secs: 1 });
    let (url, _t) = connector::start(all_500.clone()).await.unwrap();
    let r = client
        .post(format!("{url}/v3/conversations/p0/activities"))
        .json(&json!({"type": "message"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let _ = Arc::clone(&all_500);
}
