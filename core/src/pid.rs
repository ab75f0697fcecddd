//! Process identifiers: Elixir's `pid`.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
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

/// The first pid of the next block to hand out; 0 is never a process's pid.
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Pids a thread takes from `NEXT` at once.
const BLOCK: u64 = 1024;

thread_local! {
    /// This thread's block of pids: the next one to give and the end of the block.
    static BLOCK_LEFT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

impl Pid {
    /// A fresh pid, from this thread's block of pids. One counter shared by every thread
    /// would put a cache line that all cores write on the path of every start; blocks touch
    /// it once per thousand starts. Pids stay unique, but are no longer in start order
    /// across threads. Relaxed ordering suffices: only uniqueness matters.
    #[inline]
    pub(crate) fn next() -> Pid {
        BLOCK_LEFT
            .try_with(|left| {
                let (next, end) = left.get();
                if next < end {
                    left.set((next + 1, end));
                    return Pid(next);
                }
                let start = NEXT.fetch_add(BLOCK, Ordering::Relaxed);
                left.set((start + 1, start + BLOCK));
                Pid(start)
            })
            // A thread being torn down has no block: take a single pid.
            .unwrap_or_else(|_| Pid(NEXT.fetch_add(1, Ordering::Relaxed)))
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

/// A map keyed by pid. Pids are unique counters, not attacker-chosen keys, so no SipHash
/// (which cost more than the rest of a dynamic supervisor's bookkeeping for a child).
///
/// The hash's low bits, which pick the bucket, put each run of 64 consecutive pids in 64
/// neighbouring buckets and scatter the runs over the table; its top bits, which the table
/// compares first, are a mix of the whole pid. Children that come and go have recent,
/// neighbouring pids, so they land in buckets that stay in cache even when a million idle
/// children fill the table (a fully scattering hash made each start and exit a cache miss:
/// a start with a million live children cost 80% more than with a thousand). Scattering the
/// runs matters too: with the bare pid as the bucket, new pids wrapped around onto the
/// solid block of old idle children and probed far through it.
pub(crate) type PidMap<V> = HashMap<Pid, V, BuildHasherDefault<PidHasher>>;

/// Pids per run of neighbouring buckets.
const RUN_BITS: u32 = 6;

#[derive(Default)]
pub(crate) struct PidHasher(u64);

impl Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, n: u64) {
        const SCATTER: u64 = 0x9E37_79B9_7F4A_7C15;
        let mixed = n.wrapping_mul(SCATTER);
        let run = (n >> RUN_BITS).wrapping_mul(SCATTER) << RUN_BITS;
        let low = run | (n & ((1 << RUN_BITS) - 1));
        self.0 = (mixed & !(u64::MAX >> 7)) | (low & (u64::MAX >> 7));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_are_unique_across_threads_and_blocks() {
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..3 * BLOCK).map(|_| Pid::next()).collect::<Vec<_>>()))
            .collect();
        let mut all = std::collections::HashSet::new();
        for thread in threads {
            for pid in thread.join().unwrap() {
                assert_ne!(pid.as_raw(), 0, "0 is no process's pid");
                assert!(all.insert(pid), "{pid} was given twice");
            }
        }
        assert_eq!(all.len(), 4 * 3 * BLOCK as usize);
    }

    #[test]
    fn pids_are_unique_and_print_like_elixir() {
        let a = Pid::next();
        let b = Pid::next();
        assert_ne!(a, b);
        assert_eq!(format!("{:?}", Pid::from_raw(7)), "#PID<0.7.0>");
        assert_eq!(Pid::from_raw(7).as_raw(), 7);
    }

    #[test]
    fn consecutive_pids_spread_over_the_high_bits() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<PidHasher>::default();
        let tops: std::collections::HashSet<u64> = (0..128)
            .map(|n| build.hash_one(Pid::from_raw(n)) >> 57)
            .collect();
        assert!(
            tops.len() > 64,
            "only {} distinct top-7-bit values",
            tops.len()
        );
        let mut map = PidMap::default();
        map.insert(Pid::from_raw(1), "a");
        assert_eq!(map.get(&Pid::from_raw(1)), Some(&"a"));
    }

    #[test]
    fn runs_of_pids_take_neighbouring_buckets_and_runs_scatter() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<PidHasher>::default();
        let bucket = |n: u64| build.hash_one(Pid::from_raw(n)) & ((1 << 16) - 1);
        let run_of = |n: u64| bucket(n) >> RUN_BITS;
        for n in 640..704 {
            assert_eq!(bucket(n) & 63, n & 63, "a run's pids are neighbours");
            assert_eq!(run_of(n), run_of(640), "a run stays in one place");
        }
        let places: Vec<u64> = (0..1024).map(|run| run_of(run << RUN_BITS)).collect();
        let distinct: std::collections::HashSet<_> = places.iter().collect();
        assert_eq!(distinct.len(), places.len(), "runs never share a place");
        let in_order = places.windows(2).filter(|w| w[1] == w[0] + 1).count();
        assert!(in_order < 8, "runs follow each other in {in_order} places");
    }
}
