//! Points in time a duration from now (or from another point), without overflow.
//!
//! Durations may come from the network (`Retry-After`) or from configuration; adding a huge one
//! to an `Instant` or a `SystemTime` panics. These helpers saturate at a far future instead
//! (about 30 years ahead), which is "never" for every wait in the engine.

use std::time::{Duration, SystemTime};

/// How far "never" is: about 30 years.
const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 60 * 60);

/// `at + d`, or the far future when that overflows.
pub(crate) fn system_after(at: SystemTime, d: Duration) -> SystemTime {
    at.checked_add(d).or_else(|| at.checked_add(FAR)).unwrap_or(at)
}

/// `at + d` for a tokio instant, or the far future when that overflows.
pub(crate) fn tokio_after(at: tokio::time::Instant, d: Duration) -> tokio::time::Instant {
    at.checked_add(d).or_else(|| at.checked_add(FAR)).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The largest duration saturates instead of panicking, and stays in the future.
    #[test]
    fn a_huge_duration_saturates() {
        let now = SystemTime::now();
        assert!(system_after(now, Duration::MAX) > now);
        let now = tokio::time::Instant::now();
        assert!(tokio_after(now, Duration::MAX) > now);
        assert_eq!(tokio_after(now, Duration::from_secs(1)), now + Duration::from_secs(1));
    }
}
