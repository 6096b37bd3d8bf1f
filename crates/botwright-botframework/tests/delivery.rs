//! The delivery engine over real HTTP: a local channel answers 200, 429 with `Retry-After`, 500,
//! 403, 404 or hangs, per conversation. Every message is delivered or dead-lettered with a
//! reason (none lost), order holds within each conversation, and `Retry-After` is honoured.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use botwright::activity::{ChannelAccount, ConversationAccount};
use botwright::proactive::RateLimits;
use botwright::storage::{MemoryStore, OutboxStatus};
use botwright::{Address, Bot, Message, RetryPolicy};
use botwright_botframework::{BotFramework, BotFrameworkConfig};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Per conversation: the answers still to give (then 200), what was accepted, and when each
/// attempt came.
#[derive(Default)]
struct Channel {
    scripts: Mutex<HashMap<String, Vec<u16>>>,
    accepted: Mutex<HashMap<String, Vec<String>>>,
    attempts: Mutex<HashMap<String, Vec<Instant>>>,
}

/// 0 in a script means: hang (answer after 30 s).
const HANG: u16 = 0;

async fn receive(
    State(channel): State<Arc<Channel>>,
    Path(conversation): Path<String>,
    body: axum::Json<Value>,
) -> Response {
    channel.attempts.lock().unwrap().entry(conversation.clone()).or_default().push(Instant::now());
    let next = {
        let mut scripts = channel.scripts.lock().unwrap();
        let script = scripts.entry(conversation.clone()).or_default();
        if script.is_empty() { 200 } else { script.remove(0) }
    };
    match next {
        200 => {
            let text = body.0["text"].as_str().unwrap_or_default().to_owned();
            channel.accepted.lock().unwrap().entry(conversation).or_default().push(text);
            axum::Json(json!({"id": "ok"})).into_response()
        }
        HANG => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK.into_response()
        }
        429 => {
            let mut headers = HeaderMap::new();
            headers.insert("retry-after", HeaderValue::from_static("1"));
            (StatusCode::TOO_MANY_REQUESTS, headers, axum::Json(json!({"error": {"code": "Throttled"}})))
                .into_response()
        }
        status => (
            StatusCode::from_u16(status).unwrap(),
            axum::Json(json!({"error": {"code": "Failed", "message": format!("status {status}")}})),
        )
            .into_response(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_is_delivered_or_dead_lettered_in_order() {
    let channel = Arc::new(Channel::default());
    {
        let mut scripts = channel.scripts.lock().unwrap();
        scripts.insert("throttled".into(), vec![429, 429]);
        scripts.insert("flaky".into(), vec![500, 503, 500]);
        scripts.insert("hanging".into(), vec![HANG]);
        scripts.insert("blocked".into(), vec![403; 100]);
        scripts.insert("gone".into(), vec![404; 100]);
        scripts.insert("broken".into(), vec![500; 100]);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let service_url = format!("http://{}", listener.local_addr().unwrap());
    let app =
        Router::new().route("/v3/conversations/{conversation}/activities", post(receive)).with_state(channel.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let store = Arc::new(MemoryStore::new());
    let config = BotFrameworkConfig::default().request_timeout(Duration::from_secs(1));
    let framework = BotFramework::from_config(config).map(|bf| bf.store(store.clone())).unwrap();
    let bot = Bot::builder()
        .store(store)
        .default_channel(Arc::new(framework.channel()))
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(5)
                .initial_backoff(Duration::from_millis(50))
                .max_backoff(Duration::from_millis(400))
                .max_age(Duration::from_secs(60)),
        )
        .configure_proactive(|p| p.rate_limits(RateLimits::unlimited()))
        .build();
    bot.start().await;

    let conversations = ["ok", "throttled", "flaky", "hanging", "blocked", "gone", "broken"];
    let mut ids = Vec::new();
    for conversation in conversations {
        let address = Address::new(
            "msteams",
            service_url.clone(),
            ChannelAccount::new(format!("user-{conversation}")),
            ChannelAccount::new("bot"),
            ConversationAccount::new(conversation),
        );
        for n in 1..=4 {
            let message = Message::new().text(format!("{conversation} {n}")).address(address.clone());
            ids.push((conversation, n, bot.enqueue(message).await.unwrap()));
        }
    }

    // Wait until nothing is pending.
    let outbox = bot.outbox().unwrap().clone();
    let started = Instant::now();
    while outbox.pending_count().await.unwrap() > 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "still pending after a minute");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Nothing lost: each message is delivered, or dead with a reason.
    for (conversation, n, id) in &ids {
        let status = outbox.status(*id).await.unwrap().expect("every message has a status");
        match *conversation {
            "blocked" | "gone" | "broken" => match status {
                OutboxStatus::Dead { reason } => assert!(!reason.is_empty(), "{conversation} {n}"),
                other => panic!("{conversation} {n}: expected a dead letter, got {other:?}"),
            },
            _ => assert!(matches!(status, OutboxStatus::Delivered { .. }), "{conversation} {n}: {status:?}"),
        }
    }
    let dead = outbox.dead_letters(100).await.unwrap();
    assert_eq!(dead.len(), 12);
    assert!(dead.iter().filter(|d| d.conversation_key.ends_with("/blocked")).all(|d| d.reason.contains("403")));
    assert!(dead.iter().filter(|d| d.conversation_key.ends_with("/gone")).all(|d| d.reason.contains("404")));
    assert!(dead.iter().filter(|d| d.conversation_key.ends_with("/broken")).all(|d| d.reason.contains("gave up")));

    // Order within each conversation, under retries.
    let accepted = channel.accepted.lock().unwrap().clone();
    for conversation in ["ok", "throttled", "flaky", "hanging"] {
        let expected: Vec<String> = (1..=4).map(|n| format!("{conversation} {n}")).collect();
        assert_eq!(accepted.get(conversation), Some(&expected), "{conversation}");
    }
    assert!(!accepted.contains_key("blocked") && !accepted.contains_key("gone") && !accepted.contains_key("broken"));

    // Retry-After: 1 is honoured: at least a second between a 429 and the next attempt.
    let attempts = channel.attempts.lock().unwrap().get("throttled").cloned().unwrap();
    assert!(attempts[1] - attempts[0] >= Duration::from_millis(950), "{:?}", attempts[1] - attempts[0]);
    assert!(attempts[2] - attempts[1] >= Duration::from_millis(950), "{:?}", attempts[2] - attempts[1]);
    // The stale addresses are marked in the address book.
    let entry = bot.address_book().get("msteams", "user-blocked").await.unwrap().expect("an entry");
    assert_eq!(entry.stale.map(|s| s.status), Some(403));
}
