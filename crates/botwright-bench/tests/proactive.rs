//! The proactive mode against small notify endpoints over loopback: one that delivers, one that
//! loses and duplicates on purpose, one that queues (`"wait": false`).
#![allow(missing_docs)]

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use botwright_bench::connector::{self, Connector, Faults};
use botwright_bench::proactive::{self, Handoff, ProactiveConfig};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Clone, Copy, PartialEq)]
enum Behaviour {
    /// Delivers each notification once; refuses `"wait": false` (no outbox).
    Faithful,
    /// Drops every 7th notification, sends every 10th twice.
    Sloppy,
    /// Answers `"wait": false` with 202 and delivers afterwards.
    Queueing,
}

async fn deliver(client: &reqwest::Client, body: &Value) -> reqwest::StatusCode {
    let a = &body["address"];
    let url = format!(
        "{}/v3/conversations/{}/activities",
        a["serviceUrl"].as_str().unwrap(),
        a["conversation"]["id"].as_str().unwrap()
    );
    let reply = json!({ "type": "message", "text": body["notification"] });
    client.post(url).json(&reply).send().await.unwrap().status()
}

fn notify_bot(behaviour: Behaviour) -> Router {
    async fn notify(
        State((client, behaviour)): State<(reqwest::Client, Behaviour)>,
        Json(body): Json<Value>,
    ) -> Response {
        let queued = body.get("wait") == Some(&Value::Bool(false));
        let index: u64 = body["address"]["conversation"]["id"].as_str().unwrap()[1..].parse().unwrap();
        match (behaviour, queued) {
            (Behaviour::Faithful | Behaviour::Sloppy, true) => {
                (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({"error": "no outbox"}))).into_response()
            }
            (Behaviour::Queueing, true) => {
                tokio::spawn(async move { deliver(&client, &body).await });
                (StatusCode::ACCEPTED, Json(json!({"id": index}))).into_response()
            }
            (Behaviour::Sloppy, false) if index % 7 == 3 => Json(json!({"id": index})).into_response(),
            (_, false) => {
                let copies = if behaviour == Behaviour::Sloppy && index % 10 == 5 { 2 } else { 1 };
                for _ in 0..copies {
                    deliver(&client, &body).await;
                }
                Json(json!({"id": index})).into_response()
            }
        }
    }
    Router::new().route("/api/notify", post(notify)).with_state((botwright_bench::load::http_client(16), behaviour))
}

async fn fan_out(behaviour: Behaviour, messages: usize) -> proactive::ProactiveOutcome {
    let (bot, _bot_task) = connector::serve(notify_bot(behaviour)).await.unwrap();
    let stand_in = Connector::new(0, messages, Faults::default());
    let (service_url, _task) = connector::start(stand_in.clone()).await.unwrap();
    let config = ProactiveConfig {
        messages,
        concurrency: 8,
        queued: true,
        drain_timeout: Duration::from_millis(500),
        settle: Duration::from_millis(100),
    };
    proactive::run(&config, &format!("http://{bot}"), stand_in, &service_url, "t").await
}

#[tokio::test]
async fn every_notification_delivered_once_is_counted_once() {
    let o = fan_out(Behaviour::Faithful, 100).await;
    assert_eq!(o.handoff, Handoff::Waited);
    assert_eq!((o.delivered, o.lost, o.duplicates, o.refused), (100, 0, 0, 0));
    assert!(o.deliveries_per_s > 0.0 && o.time_to_last_s > 0.0);
}

#[tokio::test]
async fn lost_and_duplicated_notifications_are_counted() {
    let o = fan_out(Behaviour::Sloppy, 100).await;
    // Indices 3, 10, 17, ..., 94 are dropped (14); 5, 15, ..., 95 are sent twice, except 45, dropped (9).
    assert_eq!(o.lost, 14);
    assert_eq!(o.delivered, 86);
    assert_eq!(o.duplicates, 9);
}

#[tokio::test]
async fn a_bot_with_an_outbox_takes_queued_notifications() {
    let o = fan_out(Behaviour::Queueing, 50).await;
    assert_eq!(o.handoff, Handoff::Queued);
    assert_eq!((o.delivered, o.lost, o.duplicates), (50, 0, 0));
}
