//! Reconnect policy per transport, with Autobahn|Python's parameters and
//! defaults, and the retry state that goes with it.

use std::time::Duration;

/// How a transport is retried after a failed connect or a lost session.
///
/// Defaults are Autobahn|Python's: retry forever, first after 1.5 s, each
/// delay 1.5 times the previous, ±10 % jitter, at most 300 s.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// Retries before giving up on this transport; `-1` retries forever, `0` never.
    pub max_retries: i64,
    /// Delay before the first retry.
    pub initial_retry_delay: Duration,
    /// Factor by which the delay grows after each failed retry.
    pub retry_delay_growth: f64,
    /// Relative random jitter applied to each delay (0.1 = ±10 %).
    pub retry_delay_jitter: f64,
    /// Upper bound of the delay.
    pub max_retry_delay: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            max_retries: -1,
            initial_retry_delay: Duration::from_millis(1500),
            retry_delay_growth: 1.5,
            retry_delay_jitter: 0.1,
            max_retry_delay: Duration::from_secs(300),
        }
    }
}

/// Retry bookkeeping of one transport.
#[derive(Debug, Clone)]
pub(crate) struct RetryState {
    policy: ReconnectPolicy,
    /// Failed attempts since the last success.
    pub retries: i64,
    delay: Duration,
}

impl RetryState {
    pub fn new(policy: ReconnectPolicy) -> Self {
        let delay = policy.initial_retry_delay;
        RetryState {
            policy,
            retries: 0,
            delay,
        }
    }

    /// Whether another attempt is allowed.
    pub fn can_retry(&self) -> bool {
        self.policy.max_retries < 0 || self.retries <= self.policy.max_retries
    }

    /// Records a failure and returns how long to wait before the next attempt.
    pub fn failed(&mut self) -> Duration {
        self.retries += 1;
        let base = self.delay;
        let grown = base.as_secs_f64() * self.policy.retry_delay_growth;
        self.delay = Duration::from_secs_f64(grown.min(self.policy.max_retry_delay.as_secs_f64()));
        jitter(
            base.min(self.policy.max_retry_delay),
            self.policy.retry_delay_jitter,
        )
    }

    /// Records a successful connect: the next failure starts from the initial delay.
    pub fn succeeded(&mut self) {
        self.retries = 0;
        self.delay = self.policy.initial_retry_delay;
    }
}

fn jitter(d: Duration, jitter: f64) -> Duration {
    if jitter <= 0.0 {
        return d;
    }
    let factor = 1.0 + jitter * (rand::random::<f64>() * 2.0 - 1.0);
    Duration::from_secs_f64((d.as_secs_f64() * factor).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_cap_and_reset() {
        let policy = ReconnectPolicy {
            max_retries: 3,
            initial_retry_delay: Duration::from_secs(1),
            retry_delay_growth: 2.0,
            retry_delay_jitter: 0.0,
            max_retry_delay: Duration::from_secs(3),
        };
        let mut s = RetryState::new(policy);
        let delays: Vec<u64> = (0..4).map(|_| s.failed().as_secs()).collect();
        assert_eq!(delays, vec![1, 2, 3, 3]);
        assert!(!s.can_retry(), "4 failures exceed max_retries 3");
        s.succeeded();
        assert!(s.can_retry());
        assert_eq!(s.failed().as_secs(), 1);
    }

    #[test]
    fn jitter_stays_in_bounds() {
        let mut s = RetryState::new(ReconnectPolicy::default());
        for _ in 0..100 {
            let d = s.failed().as_secs_f64();
            assert!(d <= 300.0 * 1.1 + 1e-9, "{d}");
        }
        let d = jitter(Duration::from_secs(10), 0.1).as_secs_f64();
        assert!((9.0..=11.0).contains(&d), "{d}");
    }

    #[test]
    fn defaults_are_autobahns() {
        let p = ReconnectPolicy::default();
        assert_eq!(p.max_retries, -1);
        assert_eq!(p.initial_retry_delay, Duration::from_millis(1500));
        assert_eq!((p.retry_delay_growth, p.retry_delay_jitter), (1.5, 0.1));
        assert_eq!(p.max_retry_delay, Duration::from_secs(300));
    }
}
