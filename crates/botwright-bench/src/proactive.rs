//! Proactive fan-out: N notifications to N addresses through the sample's `POST /api/notify`,
//! counting deliveries at the connector stand-in (which may answer some attempts 429 or 500).
//!
//! With `"wait": false` the bot queues each message in its outbox and answers 202 at once; a
//! bot without a durable outbox refuses that, and then each request waits for its delivery
//! (at bounded concurrency). A batch command (one whose command line names `{addresses}`) is
//! given a file of every address instead and sends to all of them itself: a fan-out.

use crate::connector::Connector;
use futures::StreamExt;
use serde_json::json;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How the notifications were handed to the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Handoff {
    /// `"wait": false`: queued, 202 at once.
    Queued,
    /// Each request waited for its delivery.
    Waited,
    /// One command sent to every address of a file (a fan-out, e.g. `botwright notify`).
    Batch,
}

/// A proactive run's settings.
#[derive(Debug, Clone)]
pub struct ProactiveConfig {
    /// Notifications (one per address).
    pub messages: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Try `"wait": false` first.
    pub queued: bool,
    /// Give up when no new delivery came for this long after the last request.
    pub drain_timeout: Duration,
    /// How long to keep listening after the last delivery, for duplicates.
    pub settle: Duration,
}

/// What a proactive run measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProactiveOutcome {
    /// How the notifications were handed over.
    pub handoff: Handoff,
    /// Notifications asked for.
    pub messages: u64,
    /// Addresses that got their notification at least once.
    pub delivered: u64,
    /// Addresses that never got it.
    pub lost: u64,
    /// Extra copies delivered.
    pub duplicates: u64,
    /// Requests the bot refused (non-2xx) or that failed.
    pub refused: u64,
    /// Seconds from the first request to the last delivery.
    pub time_to_last_s: f64,
    /// Seconds until every request was answered.
    pub requests_s: f64,
    /// Deliveries per second (delivered / time to last delivery).
    pub deliveries_per_s: f64,
    /// Attempts the stand-in answered 429.
    pub answered_429: u64,
    /// Attempts the stand-in answered 500.
    pub answered_500: u64,
}

fn address(index: usize, service_url: &str, run: &str) -> serde_json::Value {
    json!({
        "channelId": "emulator",
        "serviceUrl": service_url,
        "conversation": { "id": format!("p{index}") },
        "user": { "id": format!("p{index}.{run}"), "name": "user" },
        "bot": { "id": "bot", "name": "bot" },
    })
}

/// Writes `messages` addresses (the ones [`run`] notifies) as JSON Lines to `path`, for a
/// batch command.
pub fn write_addresses(path: &Path, messages: usize, service_url: &str, run: &str) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for index in 0..messages {
        serde_json::to_writer(&mut out, &address(index, service_url, run))?;
        out.write_all(b"\n")?;
    }
    out.flush()
}

fn notify_body(index: usize, service_url: &str, run: &str, wait: bool) -> serde_json::Value {
    let mut body = json!({
        "address": address(index, service_url, run),
        "notification": format!("notification {index}"),
    });
    if !wait {
        body["wait"] = json!(false);
    }
    body
}

/// Fires `config.messages` notifications at the bot at `bot_url`, deliveries going to
/// `connector` (served at `service_url`, with at least that many proactive addresses).
pub async fn run(
    config: &ProactiveConfig,
    bot_url: &str,
    connector: Arc<Connector>,
    service_url: &str,
    run_tag: &str,
) -> ProactiveOutcome {
    let client = crate::load::http_client(config.concurrency);
    let url = format!("{}/api/notify", bot_url.trim_end_matches('/'));
    let start = Instant::now();
    let mut handoff = Handoff::Waited;
    let refused = AtomicU64::new(0);
    let mut first = 0;
    if config.queued && config.messages > 0 {
        let response = client.post(&url).json(&notify_body(0, service_url, run_tag, false)).send().await;
        match response {
            Ok(r) if r.status() == reqwest::StatusCode::ACCEPTED => {
                handoff = Handoff::Queued;
                first = 1;
            }
            // A bot that ignores `"wait": false` delivered it already: do not send it twice.
            Ok(r) if r.status().is_success() => first = 1,
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                tracing::info!(%status, %body, "queued notifications refused; each request will wait for delivery");
            }
            Err(e) => tracing::warn!(error = %e, "the first notification failed"),
        }
    }
    let wait = handoff == Handoff::Waited;
    futures::stream::iter(first..config.messages)
        .map(|i| {
            let request = client.post(&url).json(&notify_body(i, service_url, run_tag, wait));
            let refused = &refused;
            async move {
                match request.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                    }
                    Ok(r) => {
                        tracing::debug!(status = %r.status(), "a notification was refused");
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "a notification request failed");
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
        .buffer_unordered(config.concurrency.max(1))
        .collect::<()>()
        .await;
    let requests_s = start.elapsed().as_secs_f64();
    drain(config, &connector, start, handoff, refused.load(Ordering::Relaxed), requests_s).await
}

/// Waits until every notification arrived (or nothing new came for the drain timeout, and then
/// the settle time for duplicates) and counts the outcome from `start`.
pub async fn drain(
    config: &ProactiveConfig,
    connector: &Connector,
    start: Instant,
    handoff: Handoff,
    refused: u64,
    requests_s: f64,
) -> ProactiveOutcome {
    let deliveries = &connector.deliveries;
    let total = config.messages as u64;
    let mut seen = deliveries.unique.load(Ordering::Relaxed);
    let mut quiet_since = Instant::now();
    while seen < total && quiet_since.elapsed() < config.drain_timeout {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let now = deliveries.unique.load(Ordering::Relaxed);
        if now != seen {
            seen = now;
            quiet_since = Instant::now();
        }
    }
    tokio::time::sleep(config.settle).await;
    let delivered = deliveries.unique.load(Ordering::Relaxed);
    let duplicates: u64 = (0..config.messages).map(|i| u64::from(deliveries.count(i).saturating_sub(1))).sum();
    let time_to_last_s = deliveries.last().map_or(0.0, |t| t.saturating_duration_since(start).as_secs_f64());
    ProactiveOutcome {
        handoff,
        messages: total,
        delivered,
        lost: total - delivered.min(total),
        duplicates,
        refused,
        time_to_last_s,
        requests_s,
        deliveries_per_s: if time_to_last_s > 0.0 { delivered as f64 / time_to_last_s } else { 0.0 },
        answered_429: connector.counters.answered_429.load(Ordering::Relaxed),
        answered_500: connector.counters.answered_500.load(Ordering::Relaxed),
    }
}
