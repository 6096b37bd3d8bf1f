//! The WebSocket stream of a conversation: `{activities, watermark}` frames as they happen.
//!
//! A stream is woken with the watermark of each new activity and reads the activities after the
//! last one it sent from the history, one at a time: it holds at most one activity of its own
//! while a slow client reads. Clients send nothing but pings and pongs; a message larger than
//! [`DirectLineConfig::max_client_message_bytes`](super::DirectLineConfig) closes the stream
//! (close code 1009), and nothing else. A client that takes longer than
//! [`DirectLineConfig::stream_send_timeout`](super::DirectLineConfig) to take one frame (it
//! stopped reading) is disconnected.

use super::conversation::{Conversation, StreamEvent, StreamPlace, frame};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, close_code};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often an idle stream is pinged, so that proxies keep it open and dead peers are noticed.
const PING_EVERY: Duration = Duration::from_secs(20);

/// The client's socket, with how long one send may take.
struct Client {
    socket: WebSocket,
    send_timeout: Duration,
}

impl Client {
    /// Sends `message`; false when the socket closed, failed, or the client did not take the
    /// message in time (it stopped reading).
    async fn send(&mut self, message: Message) -> bool {
        match tokio::time::timeout(self.send_timeout, self.socket.send(message)).await {
            Ok(sent) => sent.is_ok(),
            Err(_) => {
                tracing::debug!("a Direct Line stream's client stopped reading: closing the stream");
                false
            }
        }
    }

    async fn send_frame(&mut self, activity: &[u8], watermark: Option<u64>) -> bool {
        self.send(Message::Text(Utf8Bytes::from(frame(activity, watermark)))).await
    }

    /// Sends the activities after `seen`, one frame each; returns the new watermark, or `None`
    /// when the stream is over.
    async fn catch_up(&mut self, conversation: &Conversation, seen: Option<u64>) -> Option<Option<u64>> {
        let mut seen = seen;
        while let Some((seq, activity)) = conversation.next_after(seen) {
            if !self.send_frame(&activity, Some(seq)).await {
                return None;
            }
            seen = Some(seq);
        }
        Some(seen)
    }
}

/// Runs the stream until the client leaves: first the activities after `watermark`, then each
/// new one. `place` is the stream's place in the conversation, given back when it ends.
pub(super) async fn run(
    socket: WebSocket,
    conversation: Arc<Conversation>,
    watermark: Option<u64>,
    place: StreamPlace,
    send_timeout: Duration,
) {
    let _place = place;
    let mut client = Client { socket, send_timeout };
    let (mut events, page) = conversation.subscribe(watermark);
    // The page only tells where the history stands; the activities are read one at a time.
    let start = if page.activities.is_empty() { page.watermark } else { watermark };
    drop(page);
    let Some(mut seen) = client.catch_up(&conversation, start).await else { return };
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            event = events.recv() => {
                let sent = match event {
                    Ok(StreamEvent::Stored(seq)) => {
                        if seen.is_some_and(|w| seq <= w) {
                            continue;
                        }
                        match client.catch_up(&conversation, seen).await {
                            Some(now) => { seen = now; true }
                            None => false,
                        }
                    }
                    Ok(StreamEvent::Ephemeral(activity)) => client.send_frame(&activity, seen).await,
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(conversation = %conversation.id, missed, "a Direct Line stream fell behind; catching up from the history");
                        match client.catch_up(&conversation, seen).await {
                            Some(now) => { seen = now; true }
                            None => false,
                        }
                    }
                    Ok(StreamEvent::Ended) | Err(RecvError::Closed) => {
                        let _ = client.send(Message::Close(None)).await;
                        false
                    }
                };
                if !sent {
                    return;
                }
            }
            incoming = client.socket.recv() => match incoming {
                // Pings and pongs are answered by the library; a close ends the stream.
                Some(Ok(Message::Close(_))) | None => return,
                Some(Err(error)) => {
                    // Most often a message over the size limit: say so, then close.
                    tracing::debug!(conversation = %conversation.id, %error, "a Direct Line stream closed on a client error");
                    let close = CloseFrame { code: close_code::SIZE, reason: Utf8Bytes::from_static("message too big or malformed") };
                    let _ = client.send(Message::Close(Some(close))).await;
                    return;
                }
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if !client.send(Message::Ping(Default::default())).await {
                    return;
                }
            }
        }
    }
}
