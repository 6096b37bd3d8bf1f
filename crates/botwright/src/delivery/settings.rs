//! How the delivery engine and the proactive engine work: [`ProactiveSettings`], and what a
//! shutdown left behind: [`ShutdownReport`].

use super::rate_limit::RateLimits;
use std::time::Duration;

/// How the proactive engine works; every field has a default.
#[derive(Debug, Clone)]
#[must_use]
pub struct ProactiveSettings {
    /// Durable deliveries in flight at once in this process (default 64): the outbox worker's
    /// concurrency, and so a fan-out's.
    pub(crate) max_in_flight: usize,
    /// Proactive turns run at once by [`Bot::begin_dialog_all`](crate::Bot::begin_dialog_all) (default 64).
    pub(crate) fan_out_concurrency: usize,
    /// How many messages a fan-out writes to the outbox in one batch (default 500).
    pub(crate) enqueue_batch: usize,
    /// Rate limits (default: inside Microsoft Teams' documented limits; see [`RateLimits`]).
    pub(crate) rate_limits: RateLimits,
    /// How long a claimed outbox entry belongs to this instance (default 2 minutes). Must exceed
    /// the longest delivery attempt plus rate-limit wait, or another instance may deliver the
    /// message a second time.
    pub(crate) lease: Duration,
    /// How often the workers look for work they were not told about: entries of other
    /// instances, expired leases, due jobs (default 1 s).
    pub(crate) poll_interval: Duration,
    /// This instance's name in leases (default: random).
    pub(crate) instance_id: String,
    /// How long a claimed scheduled job belongs to this instance (default 1 minute).
    pub(crate) job_lease: Duration,
    /// When a scheduled job fails for a reason that may pass (the store), it runs again after
    /// this long (default 30 s).
    pub(crate) job_retry: Duration,
    /// How long finished outbox entries (delivered, dead, withdrawn) are kept after they were
    /// enqueued, so that [`Bot::outbox_status`](crate::Bot::outbox_status) and dead letters can answer for them (default 7
    /// days; `None` keeps them). The outbox worker deletes older ones every
    /// [`purge_interval`](Self::purge_interval).
    pub(crate) outbox_retention: Option<Duration>,
    /// How often the outbox worker deletes finished entries older than the retention (default
    /// 10 minutes, and once as it starts).
    pub(crate) purge_interval: Duration,
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

/// Builder methods, one per setting, named after it.
impl ProactiveSettings {
    /// Durable deliveries in flight at once in this process (default 64): the outbox worker's
    /// concurrency, and so a fan-out's.
    pub fn max_in_flight(mut self, max_in_flight: usize) -> Self {
        self.max_in_flight = max_in_flight;
        self
    }

    /// Proactive turns run at once by [`Bot::begin_dialog_all`](crate::Bot::begin_dialog_all) (default 64).
    pub fn fan_out_concurrency(mut self, fan_out_concurrency: usize) -> Self {
        self.fan_out_concurrency = fan_out_concurrency;
        self
    }

    /// How many messages a fan-out writes to the outbox in one batch (default 500).
    pub fn enqueue_batch(mut self, enqueue_batch: usize) -> Self {
        self.enqueue_batch = enqueue_batch;
        self
    }

    /// Rate limits (default: inside Microsoft Teams' documented limits; see [`RateLimits`]).
    pub fn rate_limits(mut self, rate_limits: RateLimits) -> Self {
        self.rate_limits = rate_limits;
        self
    }

    /// How long a claimed outbox entry belongs to this instance (default 2 minutes). Must exceed
    /// the longest delivery attempt plus rate-limit wait, or another instance may deliver the
    /// message a second time.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// How often the workers look for work they were not told about: entries of other
    /// instances, expired leases, due jobs (default 1 s).
    pub fn poll_interval(mut self, poll_interval: Duration) -> Self {
        self.poll_interval = poll_interval;
        self
    }

    /// This instance's name in leases (default: random).
    pub fn instance_id(mut self, instance_id: impl Into<String>) -> Self {
        self.instance_id = instance_id.into();
        self
    }

    /// How long a claimed scheduled job belongs to this instance (default 1 minute).
    pub fn job_lease(mut self, job_lease: Duration) -> Self {
        self.job_lease = job_lease;
        self
    }

    /// When a scheduled job fails for a reason that may pass (the store), it runs again after
    /// this long (default 30 s).
    pub fn job_retry(mut self, job_retry: Duration) -> Self {
        self.job_retry = job_retry;
        self
    }

    /// How long finished outbox entries (delivered, dead, withdrawn) are kept after they were
    /// enqueued, so that [`Bot::outbox_status`](crate::Bot::outbox_status) and dead letters can answer for them (default 7
    /// days; `None` keeps them). The outbox worker deletes older ones every
    /// [`purge_interval`](Self::purge_interval).
    pub fn outbox_retention(mut self, outbox_retention: Option<Duration>) -> Self {
        self.outbox_retention = outbox_retention;
        self
    }

    /// How often the outbox worker deletes finished entries older than the retention (default
    /// 10 minutes, and once as it starts).
    pub fn purge_interval(mut self, purge_interval: Duration) -> Self {
        self.purge_interval = purge_interval;
        self
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
