//! The WebSocket stream of a conversation: `{activities, watermark}` frames as they happen.

use super::conversation::{Conversation, Page, StreamEvent};
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often an idle stream is pinged, so that proxies keep it open and dead peers are noticed.
const PING_EVERY: Duration = Duration::from_secs(20);

fn frame(activities: &[&Value], watermark: Option<u64>) -> Message {
    let body = json!({ "activities": activities, "watermark": watermark.map(|w| w.to_string()) });
    Message::Text(Utf8Bytes::from(body.to_string()))
}

/// Sends the page's activities; returns whether the socket is still open.
async fn send_page(socket: &mut WebSocket, page: &Page) -> bool {
    if page.activities.is_empty() {
        return true;
    }
    let activities: Vec<&Value> = page.activities.iter().map(|a| a.as_ref()).collect();
    socket.send(frame(&activities, page.watermark)).await.is_ok()
}

/// Runs the stream until the client leaves: first the activities after `watermark`, then each
/// new one.
pub(super) async fn run(mut socket: WebSocket, conversation: Arc<Conversation>, watermark: Option<u64>) {
    let (mut events, page) = conversation.subscribe(watermark);
    let mut seen = page.watermark;
    if !send_page(&mut socket, &page).await {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            event = events.recv() => {
                let sent = match event {
                    Ok(StreamEvent::Stored { seq, activity }) => {
                        if seen.is_some_and(|w| seq <= w) {
                            continue;
                        }
                        seen = Some(seq);
                        socket.send(frame(&[activity.as_ref()], seen)).await.is_ok()
                    }
                    Ok(StreamEvent::Ephemeral(activity)) => socket.send(frame(&[activity.as_ref()], seen)).await.is_ok(),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(conversation = %conversation.id, missed, "a Direct Line stream fell behind; catching up from the history");
                        let page = conversation.since(seen);
                        seen = page.watermark.or(seen);
                        send_page(&mut socket, &page).await
                    }
                    Ok(StreamEvent::Ended) | Err(RecvError::Closed) => {
                        let _ = socket.send(Message::Close(None)).await;
                        false
                    }
                };
                if !sent {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                // Clients send nothing but pings and pongs (answered by the library); a close
                // or an error ends the stream.
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    }
}
