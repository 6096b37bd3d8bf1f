//! The ceiling: the least a bot can do, with no framework. It reads the activity, answers 202,
//! and posts one reply to `{serviceUrl}/v3/conversations/{id}/activities/{replyTo}` at once
//! through a pooled client. No state, no storage, no retries.
//!
//! For the waterfall workload it answers statelessly from the text ("start" gets the prompt,
//! anything else the confirmation), so both workloads can be measured against the same floor.

use crate::workload::{WATERFALL_PROMPT, Workload};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug)]
struct Ceiling {
    client: reqwest::Client,
    workload: Workload,
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
    text: Option<String>,
    #[serde(rename = "serviceUrl")]
    service_url: String,
    conversation: Conversation,
    from: serde_json::Value,
    recipient: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Conversation {
    id: String,
}

/// The ceiling's `POST /api/messages` route, answering as `workload` expects.
pub fn router(workload: Workload) -> Router {
    let client = crate::load::http_client(128);
    Router::new().route("/api/messages", post(messages)).with_state(Arc::new(Ceiling { client, workload }))
}

async fn messages(State(ceiling): State<Arc<Ceiling>>, body: Bytes) -> StatusCode {
    let Ok(activity) = serde_json::from_slice::<Incoming>(&body) else { return StatusCode::BAD_REQUEST };
    if activity.kind != "message" {
        return StatusCode::ACCEPTED;
    }
    let text = activity.text.unwrap_or_default();
    let reply_text = match ceiling.workload {
        Workload::Waterfall if text == "start" => WATERFALL_PROMPT.to_string(),
        Workload::Waterfall => format!("Thanks, {text}"),
        _ => format!("echo: {text}"),
    };
    let conversation = utf8_percent_encode(&activity.conversation.id, NON_ALPHANUMERIC);
    let base = activity.service_url.trim_end_matches('/');
    let url = match &activity.id {
        Some(id) => {
            format!("{base}/v3/conversations/{conversation}/activities/{}", utf8_percent_encode(id, NON_ALPHANUMERIC))
        }
        None => format!("{base}/v3/conversations/{conversation}/activities"),
    };
    let reply = serde_json::json!({
        "type": "message",
        "text": reply_text,
        "replyToId": activity.id,
        "conversation": { "id": activity.conversation.id },
        "from": activity.recipient,
        "recipient": activity.from,
    });
    let client = ceiling.client.clone();
    tokio::spawn(async move {
        if let Err(e) = client.post(url).json(&reply).send().await.and_then(|r| r.error_for_status()) {
            tracing::warn!(error = %e, "the ceiling's reply failed");
        }
    });
    StatusCode::ACCEPTED
}
