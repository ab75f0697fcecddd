//! The type-erased control of a process, which the registry, the supervisors, monitors and
//! links all hold, and the table that finds it by pid.

use std::any::Any;
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::Mutex;
use tokio::task::AbortHandle;

use super::life::Started;
use super::monitor::{Down, MonitorRef, MonitorSlot};
use crate::error::StartError;
use crate::exit::ExitReason;
use crate::introspect::StateError;
use crate::pid::Pid;
use crate::registry::Enrolled;
use crate::reply::ReplyTo;

/// What anyone may do to a process, whatever its message type. Implemented by its mailbox.
pub(crate) trait Control: Send + Sync + 'static {
    fn pid(&self) -> Pid;
    /// The type the process runs (a GenServer's type, "Supervisor", ...).
    fn type_name(&self) -> &'static str;
    /// The parent's stop request: handled before any queued message.
    fn stop(&self, reason: ExitReason);
    /// An exit signal from `from`, handled by OTP's rules (see `process::exit`).
    fn exit_signal(&self, from: Pid, signal: Signal);
    /// Ends the process with `reason` without running anything of it: its task is aborted.
    fn kill(&self, reason: ExitReason);
    /// A DOWN notice or a trapped exit signal, for the process to handle as a message.
    fn deliver(&self, message: SystemMsg);
    /// Adds a watcher fired when the process exits; gives it back with the reason if the
    /// process has already exited.
    fn watch(&self, id: u64, watcher: Watcher) -> Result<(), (Watcher, ExitReason)>;
    /// Removes a watcher; false when it fired (or is firing) already.
    fn unwatch(&self, id: u64) -> bool;
    /// This process wants the DOWN of its monitor `id`.
    fn want_down(&self, id: u64);
    /// This process no longer wants the DOWN of monitor `id`; true if it still did.
    fn forget_down(&self, id: u64) -> bool;
    fn link(&self, other: ProcessRef) -> Result<(), ProcessRef>;
    fn unlink(&self, pid: Pid);
    /// Sets whether exit signals arrive as messages; returns the previous setting.
    fn trap_exit(&self, on: bool) -> bool;
    /// What introspection reads of the process: its queue, whether it waits, its links.
    fn snapshot(&self) -> Snapshot;
    /// The exit reason once it is decided (the process may still be releasing things).
    fn exiting_reason(&self) -> Option<ExitReason>;
    /// The exit reason once the exit is published (names free, monitors firing).
    fn exit_reason(&self) -> Option<ExitReason>;
    /// Decides the exit reason unless it is decided already; returns the one that holds.
    fn decide_exit(&self, reason: ExitReason) -> ExitReason;
    fn set_abort(&self, abort: AbortHandle);
    /// The starter's wait for `init`: `Ok` once it succeeded; the error once the process
    /// exited without succeeding, its exit published.
    fn poll_start(&self, cx: &mut Context<'_>) -> Poll<Result<(), StartError>>;
    /// Keeps a child started with `start_link` from inside this process; gives it back if
    /// this process is exiting.
    fn adopt(&self, child: Started) -> Result<(), Started>;
    /// Takes back a child started with `start_link` from inside this process (a
    /// supervisor's custom start function does).
    fn take_child(&self, pid: Pid) -> Option<Started>;
    /// Takes a child handle dropped unfinished, to be reaped before this process's exit is
    /// announced; gives it back if this process has already exited.
    fn orphan(&self, child: Started) -> Result<(), Started>;
    /// The children this process must see end before its own exit is announced.
    fn take_orphans(&self) -> Vec<Started>;
    /// Keeps `registry` to be told when this process exits, once however often it is
    /// enrolled; false if the process is exiting.
    fn enroll(&self, registry: Arc<dyn Enrolled>) -> bool;
    /// Removes this process's entries from every registry it enrolled in: before `publish`,
    /// so that no monitor fires while they are still there.
    fn release_registries(&self);
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// One process, type-erased.
pub(crate) type ProcessRef = Arc<dyn Control>;

/// An exit signal: OTP's `exit(pid, reason)`, and what a linked process sends when it exits.
#[derive(Debug, Clone)]
pub(crate) enum Signal {
    /// `exit(pid, :kill)`: untrappable.
    Kill,
    /// `exit(pid, reason)`, sent by a live process (or from outside any).
    Exit(ExitReason),
    /// The sender exited with this reason and was linked to the receiver (or is its parent
    /// or child): the link is gone with it.
    Linked(ExitReason),
}

/// What the runtime sends a process as a message.
pub(crate) enum SystemMsg {
    Down(Down),
    /// A trapped exit signal: `{:EXIT, from, reason}`.
    Exit(Pid, ExitReason),
    /// `:sys.get_state`: a server answers it between messages; other processes drop it
    /// unanswered.
    GetState(ReplyTo<Result<String, StateError>>),
}

/// A process's mailbox as introspection sees it (see `introspect::process_info`).
pub(crate) struct Snapshot {
    pub(crate) parent: Option<Pid>,
    /// When the process was born, in nanoseconds of `introspect`'s clock.
    pub(crate) born: u64,
    pub(crate) message_queue_len: usize,
    /// Parked in its receive with nothing queued.
    pub(crate) waiting: bool,
    /// Its exit reason is decided.
    pub(crate) exiting: bool,
    pub(crate) trap_exit: bool,
    pub(crate) links: Vec<Pid>,
    /// How many monitors watch it.
    pub(crate) monitored_by: usize,
}

/// Someone to tell when a process exits.
pub(crate) enum Watcher {
    /// A [`Monitor`](super::Monitor) future, from anywhere.
    Future(Arc<MonitorSlot>),
    /// A process that monitors: it gets a DOWN message.
    Process(ProcessRef),
}

impl Watcher {
    pub(crate) fn fire(self, id: u64, pid: Pid, reason: &ExitReason) {
        match self {
            Watcher::Future(slot) => slot.fire(reason.clone()),
            Watcher::Process(watcher) => watcher.deliver(SystemMsg::Down(Down {
                monitor: MonitorRef { id, pid },
                pid,
                reason: reason.clone(),
            })),
        }
    }
}

const SHARDS: usize = 64;

/// Every live process by pid, sharded so that unrelated starts and exits rarely meet on a
/// lock. A process is in it from its birth until its exit is published. Built at compile
/// time: every start and exit goes through it, and a lazy static costs a check each time.
static TABLE: [Mutex<Shard>; SHARDS] = [const { Mutex::new(Shard::new()) }; SHARDS];

fn shard(pid: Pid) -> &'static Mutex<Shard> {
    // Consecutive pids land on different shards, so concurrent starts spread out.
    &TABLE[(pid.as_raw() as usize) % SHARDS]
}

/// Enters `process`, whose pid is `pid`.
///
/// `#[inline]`, as the other small steps of every start, exit and poll are: they are called
/// from generic code, which is built in the user's crate, where a function of this crate
/// that is not inline is a call (together 100 instructions of every start and exit).
#[inline]
pub(crate) fn insert(pid: Pid, process: ProcessRef) {
    shard(pid).lock().insert(pid, process);
}

#[inline]
pub(crate) fn remove(pid: Pid) {
    // Dropped outside the lock: the last reference may free a whole mailbox.
    let removed = shard(pid).lock().remove(pid);
    drop(removed);
}

/// The live process with this pid.
pub(crate) fn lookup(pid: Pid) -> Option<ProcessRef> {
    shard(pid).lock().get(pid).cloned()
}

/// One shard of the table: open addressing with linear probing, never more than three
/// quarters full, and removal by shifting the rest of a cluster back (no tombstones).
///
/// Not a `HashMap`: a pid is entered once and removed once, and never entered twice, so
/// an insertion takes the first free slot without looking for the key, and an entry is
/// just a pid and a pointer. This takes about 80 instructions off every process's start
/// and exit, with the table no bigger.
struct Shard {
    /// A power of two long, or empty.
    slots: Vec<Option<(Pid, ProcessRef)>>,
    len: usize,
}

/// Pids in a run this long keep neighbouring slots (their entries share cache lines);
/// the runs are scattered. Longer runs would make long clusters of long-lived processes,
/// which new pids would probe through.
const RUN_BITS: u32 = 3;

impl Shard {
    const fn new() -> Shard {
        Shard {
            slots: Vec::new(),
            len: 0,
        }
    }

    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// Where `pid` would be if nothing were in the way.
    fn home(&self, pid: Pid) -> usize {
        const SCATTER: u64 = 0x9E37_79B9_7F4A_7C15;
        // The low bits pick the shard, and are the same for all of this shard's pids.
        let n = pid.as_raw() / SHARDS as u64;
        let run = (n >> RUN_BITS).wrapping_mul(SCATTER) >> 32;
        let home = (run << RUN_BITS) | (n & ((1 << RUN_BITS) - 1));
        (home as usize) & self.mask()
    }

    fn insert(&mut self, pid: Pid, process: ProcessRef) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        self.place(pid, process);
        self.len += 1;
    }

    /// Puts an entry in the first free slot from its home; there is one.
    fn place(&mut self, pid: Pid, process: ProcessRef) {
        let mask = self.mask();
        let mut at = self.home(pid);
        while self.slots[at].is_some() {
            at = (at + 1) & mask;
        }
        self.slots[at] = Some((pid, process));
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(16);
        let old = std::mem::take(&mut self.slots);
        self.slots.resize_with(size, || None);
        for (pid, process) in old.into_iter().flatten() {
            self.place(pid, process);
        }
    }

    fn find(&self, pid: Pid) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.mask();
        let mut at = self.home(pid);
        loop {
            match &self.slots[at] {
                None => return None,
                Some((found, _)) if *found == pid => return Some(at),
                Some(_) => at = (at + 1) & mask,
            }
        }
    }

    fn get(&self, pid: Pid) -> Option<&ProcessRef> {
        let at = self.find(pid)?;
        self.slots[at].as_ref().map(|(_, process)| process)
    }

    fn remove(&mut self, pid: Pid) -> Option<ProcessRef> {
        let mut hole = self.find(pid)?;
        let (_, removed) = self.slots[hole].take()?;
        self.len -= 1;
        // Every entry after the hole in its cluster that may stand in the hole (its home
        // is not between the hole and where it is) moves back into it, leaving a new hole,
        // so that no lookup stops short at an empty slot.
        let mask = self.mask();
        let mut at = hole;
        loop {
            at = (at + 1) & mask;
            let Some((next, _)) = &self.slots[at] else {
                break;
            };
            let home = self.home(*next);
            if at.wrapping_sub(home) & mask >= at.wrapping_sub(hole) & mask {
                self.slots[hole] = self.slots[at].take();
                hole = at;
            }
        }
        Some(removed)
    }
}

/// The process running this code.
pub(crate) fn current() -> Option<ProcessRef> {
    lookup(super::try_self_pid()?)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::process::mailbox::Mailbox;

    fn process(pid: Pid) -> ProcessRef {
        Arc::new(Mailbox::<i32>::new(pid, "i32", None))
    }

    /// Checks the shard against a map after every step of `steps` (`true`: enter the pid,
    /// `false`: remove it); returns how many entries, at most, stood away from their home.
    fn check(steps: impl IntoIterator<Item = (bool, u64)>) -> usize {
        let mut most_displaced = 0;
        let mut shard = Shard::new();
        let mut model = HashMap::new();
        for (enter, raw) in steps {
            let pid = Pid::from_raw(raw);
            if enter {
                let entered = process(pid);
                shard.insert(pid, entered.clone());
                model.insert(raw, entered);
            } else {
                let removed = shard.remove(pid);
                let expected = model.remove(&raw);
                assert_eq!(removed.is_some(), expected.is_some(), "removing {pid}");
            }
            assert_eq!(shard.len, model.len());
            assert!(shard.len * 4 <= shard.slots.len() * 3 || shard.slots.is_empty());
            for (raw, entered) in &model {
                let found = shard
                    .get(Pid::from_raw(*raw))
                    .expect("entered, not removed");
                assert!(Arc::ptr_eq(found, entered));
            }
            let displaced = (0..shard.slots.len())
                .filter(|&at| {
                    shard.slots[at]
                        .as_ref()
                        .is_some_and(|(pid, _)| shard.home(*pid) != at)
                })
                .count();
            most_displaced = most_displaced.max(displaced);
        }
        assert!(shard.get(Pid::from_raw(u64::MAX)).is_none());
        most_displaced
    }

    #[test]
    fn a_shard_finds_every_pid_entered_and_none_removed() {
        // One shard's pids are 64 apart; runs of them, some long-lived, in mixed order.
        let pid = |n: u64| n * SHARDS as u64 + 5;
        let mut steps = Vec::new();
        for n in 0..300 {
            steps.push((true, pid(n)));
            if n % 3 != 0 {
                steps.push((false, pid(n)));
            }
        }
        // Removing the long-lived ones in a scrambled order shifts clusters back.
        let mut state = 12345u64;
        let mut live: Vec<u64> = (0..300).filter(|n| n % 3 == 0).map(pid).collect();
        while !live.is_empty() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (state >> 33) as usize % live.len();
            steps.push((false, live.swap_remove(at)));
            steps.push((false, pid(1_000_000)));
        }
        assert!(check(steps) > 0, "no clusters were made");
    }

    #[test]
    fn a_shard_survives_pids_that_share_a_home() {
        // Pids that all have the same home in a table of 128 slots (where 40 entries put
        // it): one long cluster, and wrapping around the end of the table.
        let shard = Shard {
            slots: (0..128).map(|_| None).collect(),
            len: 0,
        };
        let home = |raw: u64| shard.home(Pid::from_raw(raw));
        let pids: Vec<u64> = (0..)
            .map(|k: u64| k * SHARDS as u64 + 1)
            .filter(|&raw| home(raw) == 127)
            .take(40)
            .collect();
        let mut steps: Vec<(bool, u64)> = pids.iter().map(|&p| (true, p)).collect();
        steps.extend(pids.iter().step_by(2).map(|&p| (false, p)));
        steps.extend(pids.iter().step_by(2).map(|&p| (true, p)));
        steps.extend(pids.iter().rev().map(|&p| (false, p)));
        assert!(check(steps) >= 39, "the pids did not share a home");
    }
}
