//! The connector stand-in: an HTTP server on loopback that plays the Bot Framework connector,
//! receiving a bot's replies on `POST /v3/conversations/{id}/activities[/{replyTo}]` and
//! answering 200 `{"id"}` (or, when asked to, 429 with `Retry-After` or 500 for a share of them).
//!
//! Conversation ids are `c{index}` for scripted users and `p{index}` for proactive deliveries;
//! every reply is recorded against its conversation's [`Slot`] or delivery counter. Only
//! `type: "message"` activities count as replies (Bot Builder v3 also posts `debug` events on the
//! emulator channel); the rest are counted apart.

use crate::slot::{Arrival, Slot, parse_activity_id};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::serve::ListenerExt;
use serde::Deserialize;
use std::borrow::Cow;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Instant;

/// Answers the stand-in gives a share of delivery attempts instead of 200.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Share of attempts answered 429 (0.0–1.0).
    pub rate_limited: f64,
    /// Share of attempts answered 500 (0.0–1.0).
    pub server_error: f64,
    /// The `Retry-After` of a 429, in seconds.
    pub retry_after_secs: u32,
}

/// What the stand-in counted.
#[derive(Debug, Default)]
pub struct Counters {
    /// Message replies recorded (any classification).
    pub messages: AtomicU64,
    /// Replies a turn expected.
    pub expected: AtomicU64,
    /// Second copies of a reply.
    pub duplicates: AtomicU64,
    /// Replies to turns already given up.
    pub late: AtomicU64,
    /// Replies nothing expected, or to an unknown conversation.
    pub unexpected: AtomicU64,
    /// Activities of other types (events, typing).
    pub other_types: AtomicU64,
    /// Requests that were not a readable activity.
    pub malformed: AtomicU64,
    /// Attempts answered 429.
    pub answered_429: AtomicU64,
    /// Attempts answered 500.
    pub answered_500: AtomicU64,
}

/// Proactive deliveries: a count per address, and when the last one came.
#[derive(Debug)]
pub struct Deliveries {
    counts: Vec<AtomicU32>,
    /// Addresses delivered at least once.
    pub unique: AtomicU64,
    last: Mutex<Option<Instant>>,
}

impl Deliveries {
    fn new(n: usize) -> Self {
        Deliveries {
            counts: (0..n).map(|_| AtomicU32::new(0)).collect(),
            unique: AtomicU64::new(0),
            last: Mutex::new(None),
        }
    }

    /// How many times address `index` received its message.
    pub fn count(&self, index: usize) -> u32 {
        self.counts.get(index).map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// The number of addresses.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether there are no addresses.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// When the last first-time delivery came.
    pub fn last(&self) -> Option<Instant> {
        *self.last.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, index: usize) -> Arrival {
        let Some(counter) = self.counts.get(index) else { return Arrival::Unexpected };
        if counter.fetch_add(1, Ordering::Relaxed) == 0 {
            self.unique.fetch_add(1, Ordering::Relaxed);
            *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
            Arrival::Expected
        } else {
            Arrival::Duplicate
        }
    }
}

/// The stand-in's shared state: conversations, deliveries, counters, faults.
#[derive(Debug)]
pub struct Connector {
    /// Scripted conversations, by index.
    pub slots: Vec<Slot>,
    /// Proactive deliveries, by index.
    pub deliveries: Deliveries,
    /// What was counted.
    pub counters: Counters,
    faults: Faults,
    next_id: AtomicU64,
}

impl Connector {
    /// A stand-in for `conversations` scripted conversations and `addresses` proactive ones.
    pub fn new(conversations: usize, addresses: usize, faults: Faults) -> Arc<Self> {
        Arc::new(Connector {
            slots: (0..conversations).map(|_| Slot::default()).collect(),
            deliveries: Deliveries::new(addresses),
            counters: Counters::default(),
            faults,
            next_id: AtomicU64::new(1),
        })
    }

    /// Records one activity posted to conversation `conversation`, in reply to `reply_to` if
    /// given. Returns how it was counted (`None` when it was not a message).
    pub fn record(&self, conversation: &str, reply_to: Option<&str>, body: &[u8]) -> Option<Arrival> {
        let Ok(activity) = serde_json::from_slice::<Reply<'_>>(body) else {
            self.counters.malformed.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        if activity.kind.as_deref() != Some("message") {
            self.counters.other_types.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        self.counters.messages.fetch_add(1, Ordering::Relaxed);
        let reply_to = reply_to.or(activity.reply_to_id.as_deref()).and_then(parse_activity_id);
        let text = activity.text.as_deref().unwrap_or("");
        let arrival = if let Some(index) = conversation.strip_prefix('c').and_then(|i| i.parse::<usize>().ok()) {
            match self.slots.get(index) {
                Some(slot) => slot.record(reply_to.filter(|(i, _)| *i == index).map(|(_, t)| t), text),
                None => Arrival::Unexpected,
            }
        } else if let Some(index) = conversation.strip_prefix('p').and_then(|i| i.parse::<usize>().ok()) {
            self.deliveries.record(index)
        } else {
            Arrival::Unexpected
        };
        let counter = match arrival {
            Arrival::Expected => &self.counters.expected,
            Arrival::Duplicate => &self.counters.duplicates,
            Arrival::Late => &self.counters.late,
            Arrival::Unexpected => &self.counters.unexpected,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Some(arrival)
    }

    fn fault(&self) -> Option<Response> {
        let f = self.faults;
        if f.rate_limited <= 0.0 && f.server_error <= 0.0 {
            return None;
        }
        let r: f64 = rand::random();
        if r < f.rate_limited {
            self.counters.answered_429.fetch_add(1, Ordering::Relaxed);
            let mut response = StatusCode::TOO_MANY_REQUESTS.into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(f.retry_after_secs));
            return Some(response);
        }
        if r < f.rate_limited + f.server_error {
            self.counters.answered_500.fetch_add(1, Ordering::Relaxed);
            return Some(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
        None
    }

    fn answer(&self) -> Response {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        ([(header::CONTENT_TYPE, "application/json")], format!("{{\"id\":\"r{id}\"}}")).into_response()
    }
}

/// The fields of a reply the stand-in reads.
#[derive(Deserialize)]
struct Reply<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(rename = "replyToId", borrow)]
    reply_to_id: Option<Cow<'a, str>>,
}

async fn activity(State(connector): State<Arc<Connector>>, Path(conversation): Path<String>, body: Bytes) -> Response {
    if let Some(fault) = connector.fault() {
        return fault;
    }
    connector.record(&conversation, None, &body);
    connector.answer()
}

async fn reply(
    State(connector): State<Arc<Connector>>,
    Path((conversation, reply_to)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    if let Some(fault) = connector.fault() {
        return fault;
    }
    connector.record(&conversation, Some(&reply_to), &body);
    connector.answer()
}

/// The stand-in's routes.
pub fn router(connector: Arc<Connector>) -> Router {
    Router::new()
        .route("/v3/conversations/{conversation}/activities", post(activity))
        .route("/v3/conversations/{conversation}/activities/{reply_to}", post(reply))
        .with_state(connector)
}

/// Serves `router` on `127.0.0.1:0` with `TCP_NODELAY`; returns the address it listens on.
pub async fn serve(router: Router) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok((address, task))
}

/// Starts the stand-in on loopback; returns its base URL (the `serviceUrl` to give the bot).
pub async fn start(connector: Arc<Connector>) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
    let (address, task) = serve(router(connector)).await?;
    Ok((format!("http://{address}"), task))
}
