//! When a worker reads KV again: the refresh interval (60 s, or the whole seconds a variable
//! gives) and which request claims the next read, so that concurrent requests do not all read.

/// How long what was read from KV (or its absence) is trusted before KV is read again, in ms.
pub const DEFAULT_MS: f64 = 60_000.0;

/// The variable that replaces [`DEFAULT_MS`]: whole seconds, at least 1.
pub const VARIABLE: &str = "REDIRECT_RULES_REFRESH_SECONDS";

/// The refresh interval in ms from the variable's value (`None` when unset): `Err` with
/// [`DEFAULT_MS`] when the value is not a whole number of seconds of at least 1 (to be logged).
pub fn interval_ms(value: Option<&str>) -> Result<f64, f64> {
    match value.map(|v| v.trim().parse::<u32>()) {
        None => Ok(DEFAULT_MS),
        Some(Ok(seconds)) if seconds >= 1 => Ok(f64::from(seconds) * 1000.0),
        Some(_) => Err(DEFAULT_MS),
    }
}

/// When KV was last read, and how long a read is trusted.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Refresh {
    /// The clock (ms) at the last read claimed; `None` before the first.
    read_at: Option<f64>,
    /// How long a read is trusted, in ms (set at the first claim).
    every_ms: f64,
}

impl Refresh {
    /// Whether the request at `now` (ms) reads KV: `None` while the last read is trusted,
    /// else `Some(first)` (whether it is the isolate's first read), the read claimed at `now`
    /// so that the requests after it do not read too. A clock that went back makes a read due.
    /// `every_ms` gives the interval at the first claim.
    pub fn claim(&mut self, now: f64, every_ms: impl FnOnce() -> f64) -> Option<bool> {
        if self.read_at.is_none() {
            self.every_ms = every_ms();
        }
        match self.read_at {
            Some(at) if now - at < self.every_ms && now >= at => None,
            previous => {
                self.read_at = Some(now);
                Some(previous.is_none())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_is_whole_seconds_of_at_least_one() {
        assert_eq!(interval_ms(None), Ok(60_000.0));
        assert_eq!(interval_ms(Some("1")), Ok(1_000.0));
        assert_eq!(interval_ms(Some(" 30 ")), Ok(30_000.0));
        for bad in ["0", "-5", "1.5", "", "ten", "99999999999"] {
            assert_eq!(interval_ms(Some(bad)), Err(60_000.0), "{bad:?}");
        }
    }

    #[test]
    fn one_request_claims_each_read() {
        let mut r = Refresh::default();
        assert_eq!(r.claim(1_000.0, || 60_000.0), Some(true));
        // Trusted: the interval is read once, at the first claim.
        assert_eq!(r.claim(1_001.0, || unreachable!()), None);
        assert_eq!(r.claim(60_999.0, || unreachable!()), None);
        assert_eq!(r.claim(61_000.0, || unreachable!()), Some(false));
        assert_eq!(r.claim(61_000.0, || unreachable!()), None);
        // A clock that went back makes a read due.
        assert_eq!(r.claim(500.0, || unreachable!()), Some(false));
    }
}
