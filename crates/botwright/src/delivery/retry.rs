//! How hard the delivery engine tries: [`RetryPolicy`].

use rand::Rng;
use std::time::Duration;

/// How hard the engine tries before giving a message up.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct RetryPolicy {
    /// Attempts in all (the first one included).
    pub(crate) max_attempts: u32,
    /// The wait after the first failure; doubled after each further failure.
    pub(crate) initial_backoff: Duration,
    /// The longest wait between attempts of the engine's own backoff (a longer `Retry-After`
    /// is still honoured, up to [`RetryPolicy::max_retry_after`]).
    pub(crate) max_backoff: Duration,
    /// The longest `Retry-After` a channel may ask for (default 1 hour). The header comes from
    /// the network: a longer one is not honoured, the attempt counts as failed and the message
    /// backs off as if no `Retry-After` had been given.
    pub(crate) max_retry_after: Duration,
    /// Give up once a message is this old (checked after a failed attempt).
    pub(crate) max_age: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(60 * 60),
            max_age: Duration::from_secs(10 * 60),
        }
    }
}

/// Builder methods, one per setting, named after it.
impl RetryPolicy {
    /// Attempts in all (the first one included).
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// The wait after the first failure; doubled after each further failure.
    pub fn initial_backoff(mut self, initial_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self
    }

    /// The longest wait between attempts of the engine's own backoff (a longer `Retry-After`
    /// is still honoured, up to [`RetryPolicy::max_retry_after`]).
    pub fn max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// The longest `Retry-After` a channel may ask for (default 1 hour). The header comes from
    /// the network: a longer one is not honoured, the attempt counts as failed and the message
    /// backs off as if no `Retry-After` had been given.
    pub fn max_retry_after(mut self, max_retry_after: Duration) -> Self {
        self.max_retry_after = max_retry_after;
        self
    }

    /// Give up once a message is this old (checked after a failed attempt).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` after `attempt` failures (full jitter on the upper
    /// half), at least the channel's `Retry-After` when that is no longer than
    /// [`RetryPolicy::max_retry_after`] (a longer one is ignored). Never more than
    /// `max(max_backoff, max_retry_after)`.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self.initial_backoff.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_backoff);
        let half = capped / 2;
        let jittered = half.saturating_add((capped - half).mul_f64(rand::rng().random::<f64>().clamp(0.0, 1.0)));
        match retry_after {
            Some(after) if after <= self.max_retry_after => jittered.max(after),
            _ => jittered,
        }
    }
}
