//! How the delivery engine and the proactive engine work: [`ProactiveSettings`], and what a
//! shutdown left behind: [`ShutdownReport`].

use super::rate_limit::RateLimits;
use std::time::Duration;

/// How the proactive engine works; every field has a default.
#[derive(Debug, Clone)]
pub struct ProactiveSettings {
    /// Durable deliveries in flight at once in this process (default 64): the outbox worker's
    /// concurrency, and so a fan-out's.
    pub max_in_flight: usize,
    /// Proactive turns run at once by [`Bot::begin_dialog_all`](crate::Bot::begin_dialog_all) (default 64).
    pub fan_out_concurrency: usize,
    /// How many messages a fan-out writes to the outbox in one batch (default 500).
    pub enqueue_batch: usize,
    /// Rate limits (default: inside Microsoft Teams' documented limits; see [`RateLimits`]).
    pub rate_limits: RateLimits,
    /// How long a claimed outbox entry belongs to this instance (default 2 minutes). Must exceed
    /// the longest delivery attempt plus rate-limit wait, or another instance may deliver the
    /// message a second time.
    pub lease: Duration,
    /// How often the workers look for work they were not told about: entries of other
    /// instances, expired leases, due jobs (default 1 s).
    pub poll_interval: Duration,
    /// This instance's name in leases (default: random).
    pub instance_id: String,
    /// How long a claimed scheduled job belongs to this instance (default 1 minute).
    pub job_lease: Duration,
    /// When a scheduled job fails for a reason that may pass (the store), it runs again after
    /// this long (default 30 s).
    pub job_retry: Duration,
    /// How long finished outbox entries (delivered, dead, withdrawn) are kept after they were
    /// enqueued, so that [`Bot::outbox_status`](crate::Bot::outbox_status) and dead letters can answer for them (default 7
    /// days; `None` keeps them). The outbox worker deletes older ones every
    /// [`purge_interval`](Self::purge_interval).
    pub outbox_retention: Option<Duration>,
    /// How often the outbox worker deletes finished entries older than the retention (default
    /// 10 minutes, and once as it starts).
    pub purge_interval: Duration,
}

impl Default for ProactiveSettings {
    fn default() -> Self {
        ProactiveSettings {
            max_in_flight: 64,
            fan_out_concurrency: 64,
            enqueue_batch: 500,
            rate_limits: RateLimits::default(),
            lease: Duration::from_secs(120),
            poll_interval: Duration::from_secs(1),
            instance_id: format!("botwright-{:016x}", rand::random::<u64>()),
            job_lease: Duration::from_secs(60),
            job_retry: Duration::from_secs(30),
            outbox_retention: Some(Duration::from_secs(7 * 24 * 3600)),
            purge_interval: Duration::from_secs(600),
        }
    }
}

/// What a shutdown left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Durable attempts still in flight when the timeout passed (their entries stay in the
    /// outbox; if the attempt does not finish, the lease expires and another instance, or the
    /// next start, delivers them).
    pub in_flight: usize,
    /// In-memory messages (replies) still queued when the timeout passed.
    pub queued_in_memory: usize,
}

impl ShutdownReport {
    /// Whether everything in flight finished.
    pub fn is_clean(&self) -> bool {
        self.in_flight == 0 && self.queued_in_memory == 0
    }
}
