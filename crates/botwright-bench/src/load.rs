//! The load generator: N users, each waiting for its expected replies before its next turn.

use crate::connector::Connector;
use crate::latency::Latencies;
use crate::slot::activity_id;
use crate::workload::{Request, User, Workload};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long to run: a duration, or a number of cycles (script repetitions) in all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Length {
    /// Run for this long after the warm-up.
    Duration(Duration),
    /// Run this many cycles in all (shared evenly among the users) after the warm-up.
    Cycles(u64),
}

/// A load run's settings.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// The workload.
    pub workload: Workload,
    /// Concurrent users (each has at most one turn in flight).
    pub users: usize,
    /// Distinct conversations (rounded up to a multiple of `users`; at least `users`).
    pub conversations: usize,
    /// Warm-up time before measuring (turns in it are not measured).
    pub warmup: Duration,
    /// How long to measure.
    pub length: Length,
    /// How long a user waits for its expected replies before counting an error.
    pub timeout: Duration,
    /// How long to keep listening after the last turn, for duplicates and late replies.
    pub settle: Duration,
}

impl LoadConfig {
    /// The number of conversations actually used.
    pub fn conversations_used(&self) -> usize {
        let users = self.users.max(1);
        self.conversations.max(users).div_ceil(users) * users
    }
}

/// Failures of turns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Errors {
    /// Turns whose expected replies did not all come within the timeout.
    pub no_reply: u64,
    /// Requests the bot answered with a non-2xx status, or that failed to connect.
    pub http: u64,
    /// Second copies of replies.
    pub duplicates: u64,
    /// Replies to turns already given up.
    pub late: u64,
    /// Replies nothing expected.
    pub unexpected: u64,
}

impl Errors {
    /// Turn failures (a duplicate is not a failed turn, but is reported).
    pub fn failed_turns(&self) -> u64 {
        self.no_reply + self.http
    }
}

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct LoadOutcome {
    /// Measured turns that got all their replies.
    pub turns: u64,
    /// Measured wall time.
    pub elapsed: Duration,
    /// Latency of the measured turns, from the user's POST to the last expected reply.
    pub latencies: Latencies,
    /// Errors over the whole run (warm-up included).
    pub errors: Errors,
    /// Activities other than messages the bot posted (ignored, e.g. v3's debug events).
    pub other_activities: u64,
}

impl LoadOutcome {
    /// Turns per second.
    pub fn turns_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 { self.turns as f64 / secs } else { 0.0 }
    }
}

/// A pooled HTTP client for the generator (no timeout of its own: turns have one).
pub fn http_client(users: usize) -> reqwest::Client {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(users.max(1))
        .build()
        .expect("an HTTP client without TLS settings builds")
}

struct Shared {
    config: LoadConfig,
    bot_url: String,
    service_url: String,
    run_tag: String,
    connector: Arc<Connector>,
    client: reqwest::Client,
    measuring: AtomicBool,
    stop: AtomicBool,
    no_reply: AtomicU64,
    http: AtomicU64,
    cycles_per_user: u64,
}

/// Runs `config` against the bot at `bot_url` (its `/api/messages` and web hooks), with replies
/// coming to `connector`, served at `service_url`. `run_tag` keeps user ids apart between runs.
pub async fn run(
    config: LoadConfig,
    bot_url: &str,
    connector: Arc<Connector>,
    service_url: &str,
    run_tag: &str,
) -> LoadOutcome {
    let users = config.users.max(1);
    assert!(connector.slots.len() >= config.conversations_used(), "the connector has a slot per conversation");
    let cycles_per_user = match config.length {
        Length::Cycles(n) => n.div_ceil(users as u64),
        Length::Duration(_) => u64::MAX,
    };
    let shared = Arc::new(Shared {
        client: http_client(users),
        bot_url: bot_url.trim_end_matches('/').to_string(),
        service_url: service_url.to_string(),
        run_tag: run_tag.to_string(),
        connector: connector.clone(),
        measuring: AtomicBool::new(config.warmup.is_zero()),
        stop: AtomicBool::new(false),
        no_reply: AtomicU64::new(0),
        http: AtomicU64::new(0),
        cycles_per_user,
        config: config.clone(),
    });
    let workers: Vec<_> = (0..users).map(|w| tokio::spawn(worker(shared.clone(), w))).collect();
    if !config.warmup.is_zero() {
        tokio::time::sleep(config.warmup).await;
        shared.measuring.store(true, Ordering::SeqCst);
    }
    let measure_start = Instant::now();
    if let Length::Duration(d) = config.length {
        tokio::time::sleep(d).await;
        shared.stop.store(true, Ordering::SeqCst);
    }
    let mut latencies = Latencies::new();
    let mut turns = 0;
    for w in workers {
        if let Ok((l, t)) = w.await {
            latencies.merge(&l);
            turns += t;
        }
    }
    let elapsed = measure_start.elapsed();
    tokio::time::sleep(config.settle).await;
    let c = &connector.counters;
    LoadOutcome {
        turns,
        elapsed,
        latencies,
        errors: Errors {
            no_reply: shared.no_reply.load(Ordering::Relaxed),
            http: shared.http.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            late: c.late.load(Ordering::Relaxed),
            unexpected: c.unexpected.load(Ordering::Relaxed),
        },
        other_activities: c.other_types.load(Ordering::Relaxed),
    }
}

async fn worker(shared: Arc<Shared>, w: usize) -> (Latencies, u64) {
    let config = &shared.config;
    let users = config.users.max(1);
    let per_worker = config.conversations_used() / users;
    let mine: Vec<User> =
        (0..per_worker).map(|k| User::new(w + k * users, &shared.run_tag, &shared.service_url)).collect();
    let mut turn_of = vec![0u64; per_worker];
    let mut cycle_of = vec![0u64; per_worker];
    let mut latencies = Latencies::new();
    let mut turns = 0u64;
    let mut measured_cycles = 0u64;
    let mut j = 0usize;
    loop {
        if shared.stop.load(Ordering::Relaxed) || measured_cycles >= shared.cycles_per_user {
            break;
        }
        let measuring = shared.measuring.load(Ordering::Relaxed);
        let k = j % per_worker;
        j += 1;
        let user = &mine[k];
        let slot = &shared.connector.slots[user.index];
        let steps = config.workload.cycle(user, cycle_of[k]);
        cycle_of[k] += 1;
        if measuring {
            measured_cycles += 1;
        }
        for step in steps {
            turn_of[k] += 1;
            let turn = turn_of[k];
            slot.begin(turn, step.expect);
            let start = Instant::now();
            let deadline = tokio::time::Instant::from_std(start + config.timeout);
            let request = match &step.request {
                Request::Message(text) => shared
                    .client
                    .post(format!("{}/api/messages", shared.bot_url))
                    .header("content-type", "application/json")
                    .body(user.message(&activity_id(user.index, turn), text, &shared.service_url)),
                Request::Hook { path, body } => shared.client.post(format!("{}{path}", shared.bot_url)).json(body),
            };
            let sent = tokio::time::timeout_at(deadline, request.send()).await;
            let ok = matches!(&sent, Ok(Ok(r)) if r.status().is_success());
            if !ok {
                match &sent {
                    Ok(Ok(r)) => tracing::debug!(status = %r.status(), "the bot refused a turn"),
                    Ok(Err(e)) => tracing::debug!(error = %e, "a turn's request failed"),
                    Err(_) => tracing::debug!("a turn's request timed out"),
                }
                shared.http.fetch_add(1, Ordering::Relaxed);
                slot.abandon(turn);
                break;
            }
            // Read the body so that the connection goes back to the pool.
            if let Ok(Ok(response)) = sent {
                let _ = response.bytes().await;
            }
            match slot.wait(deadline).await {
                Some(done) => {
                    if measuring {
                        latencies.record(done.saturating_duration_since(start));
                        turns += 1;
                    }
                }
                None => {
                    shared.no_reply.fetch_add(1, Ordering::Relaxed);
                    slot.abandon(turn);
                    break;
                }
            }
        }
    }
    (latencies, turns)
}
