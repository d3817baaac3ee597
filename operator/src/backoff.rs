//! The backoff of the Controller's watches after an error.
//!
//! kube-runtime backs off all the watches of one Controller (the Stores and
//! every owned kind) as one stream: each error of any watch sleeps them all,
//! and the sleeps grow. After an API server restart every watch reports a
//! routine error once (its resourceVersion is gone: 410, then a relist), and
//! with the default backoff (0.8 s doubling to 30 s) the eight of them stalled
//! every watch, the Stores' too, for minutes (`make drills` measured 240 s
//! before a changed Store was seen). This one stays short: 100 ms doubling to
//! 2 s, back to 100 ms after any event. A down API server still sees at most
//! one request per 2 s per Controller from the retries.

use std::time::Duration;

use kube::runtime::utils::Backoff;

/// 100 ms doubling up to 2 s; reset to 100 ms by any good event.
#[derive(Debug, Clone)]
pub struct WatchBackoff {
    next: Duration,
}

/// The first delay after an error.
pub const FIRST: Duration = Duration::from_millis(100);
/// The longest delay.
pub const MAX: Duration = Duration::from_secs(2);

impl Default for WatchBackoff {
    fn default() -> Self {
        WatchBackoff { next: FIRST }
    }
}

impl Iterator for WatchBackoff {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let now = self.next;
        self.next = (self.next * 2).min(MAX);
        Some(now)
    }
}

impl Backoff for WatchBackoff {
    fn reset(&mut self) {
        self.next = FIRST;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_two_seconds_and_resets() {
        let mut b = WatchBackoff::default();
        let ms: Vec<u128> = b.by_ref().take(7).map(|d| d.as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1600, 2000, 2000]);
        b.reset();
        assert_eq!(b.next(), Some(FIRST));
    }
}
