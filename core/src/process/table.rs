//! Every live process by pid: a table of slots, each named by the pids of the processes it
//! holds in turn.
//!
//! A pid is a slot's index and the slot's generation: how many processes the slot held
//! before. A process takes a free slot when it is born and leaves it when its exit is
//! published; the slot then goes back to the free slots with its generation one higher. So a
//! pid kept after its process exited finds its slot empty, or holding a process of another
//! generation: never the successor, and a pid is never given twice (a slot whose generation
//! would wrap is retired for good).
//!
//! Why not a hash map: a start and an exit each take the lock of one slot, uncontended,
//! with no hashing, no probing and no moving of neighbours. Free slots wait on the thread
//! that freed them, where the next start most likely runs (a child runs where it was
//! spawned), so a start takes no shared lock either; a thread with more than it needs
//! hands a batch to the others, and a thread that ends hands back all it had.
//!
//! Slots live in pages that double in size and are never moved or freed, so a slot's
//! address holds for the life of the program: 24 bytes per slot, as many slots as
//! processes were ever alive at once.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use super::control::ProcessRef;
use crate::pid::Pid;
use crate::sync::Mutex;

/// Slots in the first page; page `p` holds `FIRST << p`.
const FIRST: u64 = 64;

/// Enough pages for every index a `u32` can hold.
const PAGES: usize = 27;

/// Free slots a thread takes from, or gives to, the others at once.
const BATCH: usize = 64;

struct Slot {
    entry: Mutex<Entry>,
}

struct Entry {
    /// The generation of the slot's process, or of its next one while it is free.
    generation: u32,
    process: Option<ProcessRef>,
}

pub(crate) struct Table {
    pages: [OnceLock<Box<[Slot]>>; PAGES],
    /// The next index never handed out; 0 is never a slot's, so no pid is 0.
    fresh: AtomicU64,
    /// Batches of free slots, as pids, given back by threads that had too many.
    spare: Mutex<Vec<Vec<Pid>>>,
}

/// A thread's free slots, as the pids their next processes take; the last freed first.
pub(crate) struct Free(Vec<Pid>);

impl Free {
    pub(crate) const fn new() -> Free {
        Free(Vec::new())
    }
}

/// Which page holds `index`, and where in it.
#[inline]
fn place(index: u64) -> (usize, usize) {
    let q = index / FIRST + 1;
    let page = q.ilog2();
    let start = FIRST * ((1 << page) - 1);
    (page as usize, (index - start) as usize)
}

impl Table {
    #[cfg(not(all(test, loom)))]
    const fn new() -> Table {
        Table {
            pages: [const { OnceLock::new() }; PAGES],
            fresh: AtomicU64::new(1),
            spare: Mutex::new(Vec::new()),
        }
    }

    #[cfg(all(test, loom))]
    fn new() -> Table {
        Table {
            pages: [const { OnceLock::new() }; PAGES],
            fresh: AtomicU64::new(1),
            spare: Mutex::new(Vec::new()),
        }
    }

    #[inline]
    fn slot(&self, pid: Pid) -> Option<&Slot> {
        let (page, at) = place(pid.index());
        self.pages.get(page)?.get()?.get(at)
    }

    fn page(&self, page: usize) -> &[Slot] {
        self.pages[page].get_or_init(|| {
            (0..FIRST << page)
                .map(|_| Slot {
                    entry: Mutex::new(Entry {
                        generation: 0,
                        process: None,
                    }),
                })
                .collect()
        })
    }

    /// A pid for a new process: a free slot's, or a fresh one's. Its slot is empty until
    /// [`insert`](Table::insert).
    #[inline]
    pub(crate) fn reserve(&self, free: &mut Free) -> Pid {
        match free.0.pop() {
            Some(pid) => pid,
            None => self.refill(free),
        }
    }

    #[cold]
    fn refill(&self, free: &mut Free) -> Pid {
        if let Some(batch) = self.spare.lock().pop() {
            free.0 = batch;
        } else {
            let start = self.fresh.fetch_add(BATCH as u64, Ordering::Relaxed);
            let end = start + BATCH as u64;
            assert!(
                end <= u64::from(u32::MAX),
                "bough: more than 4 billion processes alive at once"
            );
            // Pages before these slots' own were made by the threads that took the
            // indices before; make this batch's (at most two pages).
            self.page(place(start).0);
            self.page(place(end - 1).0);
            // Lowest index last, so it is taken first.
            free.0
                .extend((start..end).rev().map(|index| Pid::new(index, 0)));
        }
        free.0.pop().expect("a refill gives at least one slot")
    }

    /// Puts `process` in the slot that `pid` names, which [`reserve`](Table::reserve) gave.
    #[inline]
    pub(crate) fn insert(&self, pid: Pid, process: ProcessRef) {
        let slot = self.slot(pid).expect("a reserved pid has a slot");
        let mut entry = slot.entry.lock();
        debug_assert_eq!(entry.generation, pid.generation());
        debug_assert!(entry.process.is_none());
        entry.process = Some(process);
    }

    /// Empties the slot of `pid` (reserved, or filled by `insert`) and frees it for a process
    /// of the next generation; gives back what it held.
    #[inline]
    pub(crate) fn remove(&self, pid: Pid, free: &mut Free) -> Option<ProcessRef> {
        let slot = self.slot(pid)?;
        let (removed, next) = {
            let mut entry = slot.entry.lock();
            if entry.generation != pid.generation() {
                return None;
            }
            let removed = entry.process.take();
            // A slot whose generation would wrap is never used again: its next pid would
            // be one that was given before.
            let Some(next) = entry.generation.checked_add(1) else {
                return removed;
            };
            entry.generation = next;
            (removed, next)
        };
        free.0.push(Pid::new(pid.index(), next));
        if free.0.len() >= 3 * BATCH {
            self.spill(free);
        }
        removed
    }

    /// Gives the least recently freed batch of a thread's free slots to the others.
    #[cold]
    fn spill(&self, free: &mut Free) {
        let batch: Vec<Pid> = free.0.drain(..BATCH).collect();
        self.spare.lock().push(batch);
    }

    /// Gives all of a thread's free slots to the others (the thread is ending).
    fn give_back(&self, free: &mut Free) {
        if !free.0.is_empty() {
            let all = std::mem::take(&mut free.0);
            self.spare.lock().push(all);
        }
    }

    /// The process `pid` names, if it is alive (in the table).
    pub(crate) fn lookup(&self, pid: Pid) -> Option<ProcessRef> {
        let entry = self.slot(pid)?.entry.lock();
        if entry.generation != pid.generation() {
            return None;
        }
        entry.process.clone()
    }
}

mod global {
    use super::*;

    /// Built at compile time: every start and exit goes through it, and a lazy static
    /// costs a check each time.
    #[cfg(not(all(test, loom)))]
    static TABLE: Table = Table::new();

    // loom's locks cannot be built at compile time; no loom model starts a process.
    #[cfg(all(test, loom))]
    static TABLE: std::sync::LazyLock<Table> = std::sync::LazyLock::new(Table::new);

    /// A thread's free slots; handed back to the table when the thread ends.
    struct Local(RefCell<Free>);

    impl Drop for Local {
        fn drop(&mut self) {
            TABLE.give_back(self.0.get_mut());
        }
    }

    thread_local! {
        static FREE: Local = const { Local(RefCell::new(Free::new())) };
    }

    /// Runs `f` with this thread's free slots, or, on a thread being torn down, with a
    /// list of its own that goes straight back to the table.
    #[inline(always)]
    fn with_free<R>(f: impl FnOnce(&mut Free) -> R) -> R {
        let mut f = Some(f);
        let done = FREE.try_with(|local| match local.0.try_borrow_mut() {
            Ok(mut free) => Some((f.take().expect("run once"))(&mut free)),
            Err(_) => None,
        });
        match done {
            Ok(Some(result)) => result,
            _ => {
                let mut free = Free::new();
                let result = (f.take().expect("run once"))(&mut free);
                TABLE.give_back(&mut free);
                result
            }
        }
    }

    /// A pid for a new process; its slot stays empty until [`insert`].
    #[inline]
    pub(crate) fn reserve() -> Pid {
        with_free(|free| TABLE.reserve(free))
    }

    /// Enters `process`, whose pid [`reserve`] gave.
    #[inline]
    pub(crate) fn insert(pid: Pid, process: ProcessRef) {
        TABLE.insert(pid, process);
    }

    /// Takes the process out (it exited, or was never entered) and frees its slot.
    #[inline]
    pub(crate) fn remove(pid: Pid) {
        // Dropped after the slot's lock: the last reference may free a whole mailbox.
        let removed = with_free(|free| TABLE.remove(pid, free));
        drop(removed);
    }

    /// The live process with this pid.
    pub(crate) fn lookup(pid: Pid) -> Option<ProcessRef> {
        TABLE.lookup(pid)
    }
}

pub(crate) use global::{insert, lookup, remove, reserve};

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::process::mailbox::Mailbox;

    fn process(pid: Pid) -> ProcessRef {
        Arc::new(Mailbox::<i32>::new(pid, "i32", None))
    }

    #[test]
    fn pages_cover_every_index_without_gaps() {
        assert_eq!(place(0), (0, 0));
        assert_eq!(place(63), (0, 63));
        assert_eq!(place(64), (1, 0));
        assert_eq!(place(191), (1, 127));
        assert_eq!(place(192), (2, 0));
        let (page, at) = place(u64::from(u32::MAX));
        assert!(page < PAGES);
        assert!(at < (FIRST << page) as usize);
    }

    #[test]
    fn a_pid_kept_after_its_exit_never_reaches_the_successor_in_its_slot() {
        let table = Table::new();
        let mut free = Free::new();
        let first = table.reserve(&mut free);
        table.insert(first, process(first));
        assert_eq!(table.lookup(first).map(|p| p.pid()), Some(first));
        assert!(table.remove(first, &mut free).is_some());
        assert!(table.lookup(first).is_none());

        let second = table.reserve(&mut free);
        assert_eq!(
            second.index(),
            first.index(),
            "the freed slot is taken first"
        );
        assert_eq!(second.generation(), first.generation() + 1);
        assert_ne!(second, first);
        table.insert(second, process(second));
        assert!(table.lookup(first).is_none(), "the old pid finds no one");
        assert!(
            table.remove(first, &mut free).is_none(),
            "nor removes anyone"
        );
        assert_eq!(table.lookup(second).map(|p| p.pid()), Some(second));
    }

    #[test]
    fn a_slot_whose_generation_would_wrap_is_retired() {
        let table = Table::new();
        let mut free = Free::new();
        let pid = table.reserve(&mut free);
        let last = Pid::new(pid.index(), u32::MAX);
        table.slot(pid).unwrap().entry.lock().generation = u32::MAX;
        table.insert(last, process(last));
        assert!(table.remove(last, &mut free).is_some());
        assert!(
            !free.0.iter().any(|p| p.index() == pid.index()),
            "the slot is not handed out again"
        );
    }

    #[test]
    fn slots_freed_on_one_thread_serve_starts_on_another() {
        let table = Arc::new(Table::new());
        let mut born = Free::new();
        let pids: Vec<Pid> = (0..10 * BATCH).map(|_| table.reserve(&mut born)).collect();
        for &pid in &pids {
            table.insert(pid, process(pid));
        }
        let fresh_before = table.fresh.load(Ordering::Relaxed);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut free = Free::new();
                for &pid in &pids {
                    table.remove(pid, &mut free);
                }
                assert!(free.0.len() < 3 * BATCH, "a thread keeps a bounded number");
                table.give_back(&mut free);
            });
        });
        // The starting thread used up its own; the freed ones come back to it in batches.
        born.0.clear();
        let again: Vec<Pid> = (0..10 * BATCH).map(|_| table.reserve(&mut born)).collect();
        assert_eq!(
            table.fresh.load(Ordering::Relaxed),
            fresh_before,
            "no new slots"
        );
        let mut indices: Vec<u64> = again.iter().map(|p| p.index()).collect();
        indices.sort_unstable();
        indices.dedup();
        assert_eq!(indices.len(), again.len(), "no slot given twice");
        assert!(again.iter().all(|p| p.generation() == 1));
    }

    #[test]
    fn many_threads_never_share_a_pid() {
        let table = Arc::new(Table::new());
        let seen = std::sync::Mutex::new(std::collections::HashSet::new());
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let mut free = Free::new();
                    for round in 0..2000 {
                        let pid = table.reserve(&mut free);
                        assert!(seen.lock().unwrap().insert(pid), "{pid} given twice");
                        table.insert(pid, process(pid));
                        if round % 3 != 0 {
                            assert!(table.remove(pid, &mut free).is_some());
                        }
                    }
                    table.give_back(&mut free);
                });
            }
        });
    }
}

#[cfg(all(test, loom))]
mod loom_model {
    use loom::sync::Arc;
    use loom::thread;

    use super::*;
    use crate::process::mailbox::Mailbox;

    fn process(pid: Pid) -> ProcessRef {
        std::sync::Arc::new(Mailbox::<i32>::new(pid, "i32", None))
    }

    /// A process exits and its slot is taken by the next one while another thread looks up
    /// the first pid, and the second: the old pid finds the old process or no one, never
    /// the new one.
    #[test]
    fn loom_a_reused_slot_is_never_found_by_the_old_pid() {
        loom::model(|| {
            let table = Arc::new(Table::new());
            let mut free = Free::new();
            let old = table.reserve(&mut free);
            table.insert(old, process(old));
            let looker = {
                let table = table.clone();
                thread::spawn(move || {
                    let found = table.lookup(old).map(|p| p.pid());
                    assert!(found.is_none() || found == Some(old), "found {found:?}");
                    let next = Pid::new(old.index(), old.generation() + 1);
                    let found = table.lookup(next).map(|p| p.pid());
                    assert!(found.is_none() || found == Some(next), "found {found:?}");
                })
            };
            table.remove(old, &mut free);
            let new = table.reserve(&mut free);
            assert_eq!(new.index(), old.index());
            table.insert(new, process(new));
            looker.join().unwrap();
            assert!(table.lookup(old).is_none());
            assert_eq!(table.lookup(new).map(|p| p.pid()), Some(new));
        });
    }
}
