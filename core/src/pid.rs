//! Process identifiers: Elixir's `pid`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// The identity of one process: a GenServer, a supervisor or a dynamic supervisor.
///
/// Every start gives a new `Pid`, never reused while the program runs, so a pid
/// held after its process exited can never reach a newer process. A restarted child
/// gets a new pid, as in OTP. `Pid` is `Copy`, eight bytes, and prints like Elixir's:
///
/// ```
/// # use bough_core::Pid;
/// # let pid = Pid::from_raw(114);
/// assert_eq!(pid.to_string(), "#PID<0.114.0>");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid(u64);

static NEXT: AtomicU64 = AtomicU64::new(1);

impl Pid {
    /// A fresh pid. Relaxed ordering suffices: only uniqueness matters.
    pub(crate) fn next() -> Pid {
        Pid(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The pid with the given number, for tests and printing. Such a pid names no
    /// process unless one was started with that number.
    pub const fn from_raw(n: u64) -> Pid {
        Pid(n)
    }

    /// The number inside the pid (the middle part of `#PID<0.N.0>`).
    pub const fn as_raw(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#PID<0.{}.0>", self.0)
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_are_unique_and_print_like_elixir() {
        let a = Pid::next();
        let b = Pid::next();
        assert_ne!(a, b);
        assert_eq!(format!("{:?}", Pid::from_raw(7)), "#PID<0.7.0>");
        assert_eq!(Pid::from_raw(7).as_raw(), 7);
    }
}
