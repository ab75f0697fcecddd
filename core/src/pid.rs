//! Process identifiers: Elixir's `pid`.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// The identity of one process: a GenServer, a supervisor or a dynamic supervisor.
///
/// A pid names a slot of the runtime's process table and the slot's generation, as an
/// Erlang pid names a process table entry and a serial: `#PID<0.index.generation>`. Every
/// start gives a pid never given before while the program runs, so a pid held after its
/// process exited can never reach a newer process, even one in the same slot. A restarted
/// child gets a new pid, as in OTP. `Pid` is `Copy` and eight bytes:
///
/// ```
/// # use bough_core::Pid;
/// # let pid = Pid::from_raw(114);
/// assert_eq!(pid.to_string(), "#PID<0.114.0>");
/// assert_eq!(Pid::from_raw(114 | 3 << 32).to_string(), "#PID<0.114.3>");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid(u64);

impl Pid {
    /// The pid of the process in slot `index`, of generation `generation`.
    #[inline]
    pub(crate) const fn new(index: u64, generation: u32) -> Pid {
        Pid(index | (generation as u64) << 32)
    }

    /// Its slot in the process table.
    #[inline]
    pub(crate) const fn index(self) -> u64 {
        self.0 & 0xffff_ffff
    }

    /// How many processes its slot held before it.
    #[inline]
    pub(crate) const fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The pid with the given number (see [`as_raw`](Pid::as_raw)), for tests and
    /// printing. Such a pid names no process unless one was started with that number.
    pub const fn from_raw(n: u64) -> Pid {
        Pid(n)
    }

    /// The number inside the pid: its slot's index in the low 32 bits, the slot's
    /// generation in the high 32 (the middle and last parts of `#PID<0.index.generation>`).
    pub const fn as_raw(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#PID<0.{}.{}>", self.index(), self.generation())
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A map keyed by pid. Pids are the runtime's own, not attacker-chosen keys, so no SipHash
/// (which cost more than the rest of a dynamic supervisor's bookkeeping for a child).
///
/// The hash's low bits, which pick the bucket, come from the pid's slot alone: they put
/// each run of 64 neighbouring slots in 64 neighbouring buckets and scatter the runs over
/// the table; its top bits, which the table compares first, are a mix of the whole pid.
/// Children that come and go take the slots their predecessors just freed, so they land in
/// the same few buckets, which stay in cache even when a million idle children fill the
/// table (a fully scattering hash made each start and exit a cache miss: a start with a
/// million live children cost 80% more than with a thousand). Scattering the runs matters
/// too: with the bare slot as the bucket, new slots wrapped around onto the solid block of
/// old idle children and probed far through it.
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
        let slot = Pid(n).index();
        let run = (slot >> RUN_BITS).wrapping_mul(SCATTER) << RUN_BITS;
        let low = run | (slot & ((1 << RUN_BITS) - 1));
        self.0 = (mixed & !(u64::MAX >> 7)) | (low & (u64::MAX >> 7));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_print_like_elixir_with_the_generation_last() {
        assert_eq!(format!("{:?}", Pid::from_raw(7)), "#PID<0.7.0>");
        assert_eq!(Pid::from_raw(7).as_raw(), 7);
        let pid = Pid::new(7, 2);
        assert_eq!(pid.to_string(), "#PID<0.7.2>");
        assert_eq!((pid.index(), pid.generation()), (7, 2));
        assert_eq!(Pid::from_raw(pid.as_raw()), pid);
        assert_ne!(pid, Pid::new(7, 3));
        assert_eq!(Pid::new(u64::from(u32::MAX), u32::MAX).as_raw(), u64::MAX);
    }

    #[test]
    fn a_slot_keeps_its_buckets_whatever_its_generation() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<PidHasher>::default();
        let bucket = |pid: Pid| build.hash_one(pid) & ((1 << 16) - 1);
        let top = |pid: Pid| build.hash_one(pid) >> 57;
        assert_eq!(bucket(Pid::new(640, 0)), bucket(Pid::new(640, 9)));
        let tops: std::collections::HashSet<u64> =
            (0..128).map(|g| top(Pid::new(640, g))).collect();
        assert!(tops.len() > 64, "generations tell apart by the top bits");
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
