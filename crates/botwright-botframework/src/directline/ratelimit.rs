//! How many conversations each client address may open per minute.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The window the limit counts in.
const WINDOW: Duration = Duration::from_secs(60);

/// How many addresses are remembered at most; when that many are counting in the current
/// window, new addresses are refused until it ends (memory stays bounded whatever the peers).
const MAX_ADDRESSES: usize = 65_536;

/// Counts conversations opened per client address in fixed one-minute windows. IPv6 addresses
/// count per /64 (one host usually holds a whole /64).
#[derive(Debug)]
pub(crate) struct OpenLimiter {
    per_minute: u32,
    counts: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

impl OpenLimiter {
    /// At most `per_minute` per address (0: no limit).
    pub(crate) fn new(per_minute: u32) -> Self {
        OpenLimiter { per_minute, counts: Mutex::new(HashMap::new()) }
    }

    /// Counts one opening from `ip`; `Err(seconds)` to wait when it is one too many.
    pub(crate) fn check(&self, ip: IpAddr) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let mut counts = self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let key = key(ip);
        if !counts.contains_key(&key) && counts.len() >= MAX_ADDRESSES {
            counts.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
            if counts.len() >= MAX_ADDRESSES {
                let oldest = counts.values().map(|(start, _)| *start).min().unwrap_or(now);
                return Err(WINDOW.saturating_sub(now.duration_since(oldest)).as_secs().max(1));
            }
        }
        let (start, count) = counts.entry(key).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        if *count >= self.per_minute {
            return Err(WINDOW.saturating_sub(now.duration_since(*start)).as_secs().max(1));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_count() {
        let limiter = OpenLimiter::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(limiter.check(a).is_ok() && limiter.check(a).is_ok());
        let wait = limiter.check(a).unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(limiter.check(b).is_ok(), "another address is not limited");
        // One IPv6 host's /64 is one address.
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        assert!(limiter.check(v6).is_ok() && limiter.check(same_64).is_ok());
        assert!(limiter.check(v6).is_err());
        assert!(OpenLimiter::new(0).check(a).is_ok(), "0 is no limit");
    }
}
