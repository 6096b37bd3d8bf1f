//! Rate limits: a keyed token bucket (GCRA) on the runtime's clock.
//!
//! The delivery engine waits on two limiters before every attempt: one keyed by conversation, one
//! keyed by service URL. A caller reserves its slot and then sleeps until it comes, so waiting for
//! one busy conversation never holds up another.
//!
//! Hand-written rather than `governor`'s keyed limiter: it runs on Tokio's clock (so paused-time
//! tests and `Retry-After` waits share one notion of time), and it forgets idle keys, so memory
//! stays bounded by the number of recently active conversations.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// A rate: `per_second` on average, with bursts of up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    per_second: f64,
    burst: u32,
}

impl Rate {
    /// `per_second` on average, bursts of `burst`.
    pub fn new(per_second: f64, burst: u32) -> Self {
        Rate { per_second, burst }
    }

    /// The sustained rate, in messages per second (must be above zero to limit anything).
    pub fn per_second(&self) -> f64 {
        self.per_second
    }

    /// How many messages may go at once after a quiet spell (at least 1).
    pub fn burst(&self) -> u32 {
        self.burst
    }
}

/// The limits the delivery engine applies before each attempt; `None` disables one.
///
/// The defaults stay inside what Microsoft Teams documents for bots: per conversation (a
/// "thread") 7 messages in 1 s, 60 in 30 s (so a burst of 7 and 2 per second sustained); per bot
/// and tenant about 50 requests per second, applied here per service URL (one connector
/// endpoint). Longer windows (1,800 per hour per thread) are left to the channel's 429 and its
/// `Retry-After`, which the engine honours.
///
/// ```
/// use botwright::proactive::{RateLimits, Rate};
/// let benchmark = RateLimits::unlimited();
/// let strict = RateLimits::default().per_conversation(Some(Rate::new(1.0, 3)));
/// # let _ = (benchmark, strict);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[must_use]
pub struct RateLimits {
    /// Per conversation (default: burst 7, then 2 per second).
    pub(crate) per_conversation: Option<Rate>,
    /// Per service URL (default: burst 50, 50 per second).
    pub(crate) per_service_url: Option<Rate>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits { per_conversation: Some(Rate::new(2.0, 7)), per_service_url: Some(Rate::new(50.0, 50)) }
    }
}

/// Builder methods, one per setting, named after it.
impl RateLimits {
    /// Per conversation (default: burst 7, then 2 per second).
    pub fn per_conversation(mut self, per_conversation: Option<Rate>) -> Self {
        self.per_conversation = per_conversation;
        self
    }

    /// Per service URL (default: burst 50, 50 per second).
    pub fn per_service_url(mut self, per_service_url: Option<Rate>) -> Self {
        self.per_service_url = per_service_url;
        self
    }
}

impl RateLimits {
    /// No limits (benchmarks, or channels that throttle themselves).
    pub fn unlimited() -> Self {
        RateLimits { per_conversation: None, per_service_url: None }
    }
}

const SHARDS: usize = 16;
/// A shard forgets its idle keys once it holds this many.
const FORGET_ABOVE: usize = 1024;

/// One rate per key.
#[derive(Debug)]
pub(crate) struct KeyedLimiter {
    interval: Duration,
    tolerance: Duration,
    shards: Vec<Mutex<HashMap<String, Instant>>>,
    hasher: RandomState,
}

impl KeyedLimiter {
    /// A limiter, or `None` when `rate` limits nothing.
    pub(crate) fn new(rate: Option<Rate>) -> Option<Self> {
        let rate = rate?;
        if !(rate.per_second.is_finite() && rate.per_second > 0.0) {
            return None;
        }
        let interval = Duration::try_from_secs_f64(1.0 / rate.per_second).unwrap_or(Duration::MAX);
        Some(KeyedLimiter {
            interval,
            tolerance: interval.saturating_mul(rate.burst.max(1) - 1),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
        })
    }

    /// Reserves the next slot for `key` and returns how long to wait for it.
    pub(crate) fn reserve(&self, key: &str) -> Duration {
        let now = Instant::now();
        let shard = &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS];
        let mut map = shard.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= FORGET_ABOVE {
            // A key whose theoretical arrival time has passed is the same as a new key.
            map.retain(|_, tat| *tat > now);
        }
        let tat = map.get(key).copied().filter(|t| *t > now).unwrap_or(now);
        let allowed_at = tat.checked_sub(self.tolerance).unwrap_or(now).max(now);
        let next = crate::later::tokio_after(tat, self.interval);
        match map.get_mut(key) {
            Some(slot) => *slot = next,
            None => {
                map.insert(key.to_owned(), next);
            }
        }
        allowed_at - now
    }

    /// Waits for the next slot of `key`.
    pub(crate) async fn acquire(&self, key: &str) {
        let wait = self.reserve(key);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }

    /// How many keys are remembered (for tests of the bounded memory).
    #[cfg(test)]
    pub(crate) fn keys(&self) -> usize {
        self.shards.iter().map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len()).sum()
    }
}

/// Both limiters of a delivery engine.
#[derive(Debug)]
pub(crate) struct Limiters {
    conversation: Option<KeyedLimiter>,
    service_url: Option<KeyedLimiter>,
}

impl Limiters {
    pub(crate) fn new(limits: RateLimits) -> Self {
        Limiters {
            conversation: KeyedLimiter::new(limits.per_conversation),
            service_url: KeyedLimiter::new(limits.per_service_url),
        }
    }

    /// Waits until both the conversation and the service URL may take one more message.
    pub(crate) async fn acquire(&self, conversation_key: &str, service_url: &str) {
        if let Some(l) = &self.conversation {
            l.acquire(conversation_key).await;
        }
        if let Some(l) = &self.service_url {
            l.acquire(service_url).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configured rate so small that one message's interval does not fit in a `Duration`
    /// (or an `Instant`) used to panic; it now means "one message, then practically never".
    #[tokio::test(start_paused = true)]
    async fn a_vanishingly_small_rate_does_not_panic() {
        let limiter = KeyedLimiter::new(Some(Rate::new(1e-300, u32::MAX))).unwrap();
        assert_eq!(limiter.reserve("c1"), Duration::ZERO);
        assert!(limiter.reserve("c1") >= Duration::ZERO);
        let limiter = KeyedLimiter::new(Some(Rate::new(1e-300, 1))).unwrap();
        assert_eq!(limiter.reserve("c1"), Duration::ZERO);
        assert!(limiter.reserve("c1") > Duration::from_secs(365 * 24 * 60 * 60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_the_rate_holds() {
        let limiter = KeyedLimiter::new(Some(Rate::new(2.0, 3))).unwrap();
        for _ in 0..3 {
            assert_eq!(limiter.reserve("c1"), Duration::ZERO);
        }
        assert_eq!(limiter.reserve("c1"), Duration::from_millis(500));
        assert_eq!(limiter.reserve("c1"), Duration::from_millis(1000));
        // Another key is not held up.
        assert_eq!(limiter.reserve("c2"), Duration::ZERO);
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(limiter.reserve("c1"), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn idle_keys_are_forgotten() {
        let limiter = KeyedLimiter::new(Some(Rate::new(100.0, 1))).unwrap();
        for i in 0..(SHARDS * FORGET_ABOVE * 2) {
            limiter.reserve(&format!("c{i}"));
            if i % 1000 == 0 {
                tokio::time::advance(Duration::from_secs(1)).await;
            }
        }
        assert!(limiter.keys() <= SHARDS * FORGET_ABOVE);
    }

    #[test]
    fn a_zero_rate_limits_nothing() {
        assert!(KeyedLimiter::new(Some(Rate::new(0.0, 1))).is_none());
        assert!(KeyedLimiter::new(None).is_none());
    }
}
