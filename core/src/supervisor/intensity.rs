//! Restart intensity: how many restarts a supervisor allows within a period.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::StartError;

/// OTP's default `max_restarts`.
pub(crate) const DEFAULT_MAX_RESTARTS: u32 = 3;
/// OTP's default `max_seconds`.
pub(crate) const DEFAULT_PERIOD: Duration = Duration::from_secs(5);

/// OTP's `max_restarts` within `max_seconds`, counted over an exact sliding window.
///
/// A restart at time `t` counts while `now - t <= period`. OTP counts in whole seconds of
/// its clock, so there a restart counts for between `max_seconds` and `max_seconds + 1`
/// seconds; bough counts to the instant, which makes paused-clock tests exact.
#[derive(Debug)]
pub(crate) struct Intensity {
    max_restarts: u32,
    period: Duration,
    restarts: VecDeque<Instant>,
    /// Every restart since the start, for introspection.
    total: u64,
}

impl Intensity {
    /// Checks the options as OTP does: a zero period is refused
    /// (`{:invalid_period, 0}`), since no restart could ever count.
    pub(crate) fn new(max_restarts: u32, period: Duration) -> Result<Intensity, StartError> {
        if period.is_zero() {
            return Err(StartError::InvalidOption(
                "max_seconds (the intensity period) must be greater than zero",
            ));
        }
        Ok(Intensity {
            max_restarts,
            period,
            restarts: VecDeque::new(),
            total: 0,
        })
    }

    /// Records a restart at `now`; false when it makes more than `max_restarts` in the window,
    /// and the supervisor must give up.
    pub(crate) fn add_restart(&mut self, now: Instant) -> bool {
        while self
            .restarts
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) > self.period)
        {
            self.restarts.pop_front();
        }
        self.restarts.push_back(now);
        self.total += 1;
        self.restarts.len() <= self.max_restarts as usize
    }

    pub(crate) fn max_restarts(&self) -> u32 {
        self.max_restarts
    }

    pub(crate) fn period(&self) -> Duration {
        self.period
    }

    /// The restarts that count at `now`, without forgetting any.
    pub(crate) fn recent(&self, now: Instant) -> usize {
        self.restarts
            .iter()
            .filter(|&&t| now.saturating_duration_since(t) <= self.period)
            .count()
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fourth_restart_within_five_seconds_is_too_many() {
        let t0 = Instant::now();
        let mut i = Intensity::new(3, Duration::from_secs(5)).unwrap();
        assert!(i.add_restart(t0));
        assert!(i.add_restart(t0 + Duration::from_secs(1)));
        assert!(i.add_restart(t0 + Duration::from_secs(2)));
        assert!(!i.add_restart(t0 + Duration::from_secs(5)));
    }

    #[test]
    fn restarts_older_than_the_period_no_longer_count() {
        let t0 = Instant::now();
        let mut i = Intensity::new(3, Duration::from_secs(5)).unwrap();
        for s in [0, 1, 2] {
            assert!(i.add_restart(t0 + Duration::from_secs(s)));
        }
        // t0 is 5 s + 1 ms old: out of the window, so this is the third restart in it.
        assert!(i.add_restart(t0 + Duration::from_millis(5001)));
    }

    #[test]
    fn recent_restarts_are_those_in_the_window_and_the_total_keeps_all() {
        let t0 = Instant::now();
        let mut i = Intensity::new(10, Duration::from_secs(5)).unwrap();
        for s in [0, 1, 2] {
            assert!(i.add_restart(t0 + Duration::from_secs(s)));
        }
        assert_eq!(i.recent(t0 + Duration::from_secs(2)), 3);
        assert_eq!(i.recent(t0 + Duration::from_millis(6500)), 1);
        assert_eq!(i.total(), 3);
        assert_eq!((i.max_restarts(), i.period()), (10, Duration::from_secs(5)));
    }

    #[test]
    fn zero_restarts_allows_none() {
        let mut i = Intensity::new(0, Duration::from_secs(5)).unwrap();
        assert!(!i.add_restart(Instant::now()));
    }

    #[test]
    fn a_zero_period_is_refused_and_any_other_works() {
        assert!(matches!(
            Intensity::new(3, Duration::ZERO),
            Err(StartError::InvalidOption(_))
        ));
        let mut i = Intensity::new(1, Duration::MAX).unwrap();
        assert!(i.add_restart(Instant::now()));
        assert!(!i.add_restart(Instant::now()));
    }
}
