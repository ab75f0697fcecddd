//! When processes were born: nanoseconds since the first reading, eight bytes per process.

use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime};

/// The first reading on both clocks, so that a monotonic reading maps to wall time.
static EPOCH: LazyLock<(Instant, SystemTime)> =
    LazyLock::new(|| (Instant::now(), SystemTime::now()));

/// Now, in nanoseconds since the epoch (u64 nanoseconds last 584 years).
pub(crate) fn now() -> u64 {
    u64::try_from(EPOCH.0.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// A reading of [`now`] as wall-clock time.
pub(crate) fn wall(nanos: u64) -> SystemTime {
    EPOCH.1 + Duration::from_nanos(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_grow_and_map_to_wall_time_in_order() {
        let a = now();
        let b = now();
        assert!(b >= a);
        assert!(wall(b) >= wall(a));
        assert_eq!(wall(a) + Duration::from_nanos(b - a), wall(b));
    }
}
