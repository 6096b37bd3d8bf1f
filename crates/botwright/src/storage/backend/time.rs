//! Times as stored: signed nanoseconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A time as nanoseconds since the epoch, saturating beyond about ±292 years from 1970.
pub fn to_nanos(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_nanos()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_nanos()).map(|n| -n).unwrap_or(i64::MIN),
    }
}

/// The time `nanos` nanoseconds after (or before) the epoch.
pub fn from_nanos(nanos: i64) -> SystemTime {
    let magnitude = Duration::from_nanos(nanos.unsigned_abs());
    if nanos >= 0 { UNIX_EPOCH + magnitude } else { UNIX_EPOCH - magnitude }
}

/// `time + lease` in nanoseconds, saturating.
pub fn lease_until(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_nanos()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_exactly() {
        let now = SystemTime::now();
        assert_eq!(from_nanos(to_nanos(now)), now);
        let before = UNIX_EPOCH - Duration::new(12, 345);
        assert_eq!(from_nanos(to_nanos(before)), before);
        assert_eq!(to_nanos(before), -12_000_000_345);
    }

    #[test]
    fn saturates_far_from_the_epoch() {
        let far = UNIX_EPOCH + Duration::from_secs(400 * 365 * 86_400);
        assert_eq!(to_nanos(far), i64::MAX);
        assert_eq!(lease_until(i64::MAX - 1, Duration::from_secs(5)), i64::MAX);
    }
}
