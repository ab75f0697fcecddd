//! A process's mailbox, which is also its control block: an unbounded multi-producer queue,
//! room for its parent's stop request, and what the rest of the program may do to the
//! process (monitor it, link to it, send it exit signals, kill it).
//!
//! Why not `tokio::sync::mpsc`: its unbounded channel allocates a 32-slot block when it is
//! created, so an idle process would pay for 32 messages it never received. This queue
//! allocates nothing until the first message arrives, and one lock per operation keeps it
//! simple enough to reason about: pushes, signals, monitors and the exit all serialize on
//! the same mutex, so no message or monitor can slip in after the process exited.
//!
//! The lock is `parking_lot`'s: it spins before it sleeps. A supervisor's mailbox is pushed
//! by its callers and its children at once; a lock that puts a thread to sleep at the first
//! contention cost a fifth of the start rate of a dynamic supervisor on two cores.
//!
//! A process's life has three stages here: running; exiting, once its exit reason is
//! decided (its state may still be dropping, its names still held); exited, once the
//! reason is published, after its names were released. Monitors fire and linked processes
//! get their exit signals at publication, so whoever sees the exit finds the names free.

use std::any::Any;
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use tokio::task::AbortHandle;

use crate::error::StartError;
use crate::exit::ExitReason;
use crate::pid::{Pid, PidMap};
use crate::process::control::{Control, ProcessRef, Signal, Snapshot, SystemMsg, Watcher};
use crate::process::life::Started;
use crate::registry::Enrolled;
use crate::sync::{Mutex, MutexGuard};

pub(crate) struct Mailbox<M> {
    pid: Pid,
    type_name: &'static str,
    parent: Option<Pid>,
    /// Set once the process has (or had) children or orphans to reap, so that the exit of
    /// the many processes that never have any takes no lock to find out.
    parents: AtomicBool,
    /// Set once the process has registered itself in a registry (always from its own task,
    /// as `parents` is), so that most exits release no registry and take no lock for it.
    enrolled: AtomicBool,
    /// When the process was born, for introspection. Eight bytes that cost nothing: with
    /// the `Arc`'s counts the block is 232 bytes, and glibc's malloc gives the 224 it would
    /// be without them a 240-byte chunk all the same.
    born: u64,
    state: Mutex<State<M>>,
}

struct State<M> {
    queue: VecDeque<M>,
    waker: Option<Waker>,
    /// A stop request from the parent; it is handled before any queued message.
    signal: Option<ExitReason>,
    life: Life,
    /// The process is in a callback that is waiting on something (or has not started its
    /// loop yet), so a message may wait a while before it is handled.
    busy: bool,
    /// The process is not waiting in its receive: it runs a callback (or has not started
    /// its loop yet), so a new message waits at least for that.
    handling: bool,
    /// Exit signals from processes other than the parent arrive as messages.
    trap_exit: bool,
    /// Set once the task is spawned; a kill that came before is carried out then.
    abort: Option<AbortHandle>,
    /// The answer its starter waits for.
    start: Start,
    /// Monitors, links and children; most processes never have any, so they cost a pointer.
    extras: Option<Box<Extras>>,
}

/// What the process's starter waits for: OTP's `init_ack`. Kept in the mailbox rather than
/// in a reply slot of its own, which cost every start an allocation.
enum Start {
    /// `init` is running; the starter's waker, once it has looked.
    Waiting(Option<Waker>),
    /// `init` succeeded, or the starter took its answer.
    Answered,
    /// `init` did not succeed, or the process exited before it answered; set when the exit
    /// is published, so the starter finds the names free.
    Failed(Box<StartError>),
}

#[derive(Clone)]
enum Life {
    Running,
    /// The exit reason is decided; names and state may not be released yet.
    Exiting(ExitReason),
    /// The exit is published: names are free, monitors have fired or are firing.
    Exited(ExitReason),
}

#[derive(Default)]
struct Extras {
    /// Who watches this process, by monitor id.
    watchers: HashMap<u64, Watcher>,
    /// Processes linked to this one.
    links: PidMap<ProcessRef>,
    /// This process's own monitors whose DOWN it still wants (demonitor removes them).
    monitoring: HashSet<u64>,
    /// Processes this one started with `start_link` (not as a supervisor's children):
    /// stopped and waited for before this process's exit is announced.
    children: PidMap<Started>,
    /// Child handles dropped unfinished while this process ended: reaped before its exit
    /// is announced.
    orphans: Vec<Started>,
    /// Registries this process registered itself in: told of its exit before `publish`.
    registries: Vec<Arc<dyn Enrolled>>,
}

/// A message that may need a word when it is dropped unread, or when its server becomes
/// busy; and the form a process's system messages take in its mailbox.
pub(crate) trait Letter: Sized {
    /// The message will never be handled: a call tells its caller.
    fn abandon(&self) {}
    /// The server will take a while to get to this message: a call arms its time-out.
    fn nudge(&self) {}
    /// A DOWN notice or a trapped exit signal, as this mailbox's message type.
    fn system(message: SystemMsg) -> Option<Self>;
}

/// What a sender learns from a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pushed {
    /// The process is in a callback that waits on something.
    pub(crate) busy: bool,
    /// How many messages the process handles before this one: those queued before it, and
    /// the one it is handling, if it is handling one.
    pub(crate) ahead: usize,
}

/// What a process finds in its mailbox.
pub(crate) enum Event<M> {
    Message(M),
    Signal(ExitReason),
}

impl<M> Mailbox<M> {
    pub(crate) fn new(pid: Pid, type_name: &'static str, parent: Option<Pid>) -> Mailbox<M> {
        Mailbox {
            pid,
            type_name,
            parent,
            parents: AtomicBool::new(false),
            enrolled: AtomicBool::new(false),
            born: crate::introspect::clock::now(),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                waker: None,
                signal: None,
                life: Life::Running,
                busy: true,
                handling: true,
                trap_exit: false,
                abort: None,
                start: Start::Waiting(None),
                extras: None,
            }),
        }
    }

    /// A mailbox whose process traps exit signals from the start: a supervisor's.
    pub(crate) fn trapping(pid: Pid, type_name: &'static str, parent: Option<Pid>) -> Self {
        let mailbox = Mailbox::new(pid, type_name, parent);
        mailbox.lock().trap_exit = true;
        mailbox
    }

    fn lock(&self) -> MutexGuard<'_, State<M>> {
        self.state.lock()
    }

    pub(crate) fn pid(&self) -> Pid {
        self.pid
    }

    /// Queues a message and says how busy the process is; gives the message back if the
    /// process already exited.
    pub(crate) fn push(&self, message: M) -> Result<Pushed, M> {
        let (waker, pushed) = {
            let mut state = self.lock();
            if matches!(state.life, Life::Exited(_)) {
                return Err(message);
            }
            let ahead = state.queue.len() + usize::from(state.handling);
            state.queue.push_back(message);
            let pushed = Pushed {
                busy: state.busy,
                ahead,
            };
            (state.waker.take(), pushed)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(pushed)
    }

    /// Marks the process busy and nudges the first two queued messages.
    ///
    /// Only those two can need it: a call with two or more messages to be handled before
    /// it (see [`Pushed::ahead`]), or pushed while the process was busy, armed its own
    /// time-out when it was pushed, and the queue only moves forward. So this costs the
    /// same whatever the queue's depth, and a call with one message before it (the usual
    /// case with two callers) arms no timer unless the process does turn busy.
    pub(crate) fn set_busy(&self)
    where
        M: Letter,
    {
        let mut state = self.lock();
        state.busy = true;
        state.queue.iter().take(2).for_each(Letter::nudge);
    }

    /// Marks the process as handling messages promptly again.
    pub(crate) fn set_idle(&self) {
        self.lock().busy = false;
    }

    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Event<M>> {
        // Each message costs task budget, as with tokio's channels, so a process that always
        // has mail (a supervisor retrying a restart, a busy server) still yields.
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        let mut state = self.lock();
        if let Some(reason) = state.signal.take() {
            coop.made_progress();
            state.handling = true;
            return Poll::Ready(Event::Signal(reason));
        }
        if let Some(message) = state.queue.pop_front() {
            coop.made_progress();
            state.handling = true;
            return Poll::Ready(Event::Message(message));
        }
        state.handling = false;
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The next event. A `poll_fn` rather than an `async fn`, which would be one more state
    /// machine to resume on every message a server receives.
    pub(crate) fn recv(&self) -> impl Future<Output = Event<M>> + '_ {
        std::future::poll_fn(|cx| self.poll_recv(cx))
    }

    /// `init` succeeded: the starter may go on.
    pub(crate) fn started(&self) {
        let waker = {
            let mut state = self.lock();
            match &mut state.start {
                Start::Waiting(waker) => {
                    let waker = waker.take();
                    state.start = Start::Answered;
                    waker
                }
                // Answered once only: `Ack` is spent by its answer.
                Start::Answered | Start::Failed(_) => None,
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Takes a waiting stop signal, leaving queued messages in place.
    pub(crate) fn take_signal(&self) -> Option<ExitReason> {
        self.lock().signal.take()
    }

    /// Whether the process's exit is published.
    pub(crate) fn is_closed(&self) -> bool {
        matches!(self.lock().life, Life::Exited(_))
    }

    /// Whether exit signals arrive as messages.
    pub(crate) fn traps_exits(&self) -> bool {
        self.lock().trap_exit
    }

    /// The process's parent, whose exit signals are stop requests.
    pub(crate) fn parent(&self) -> Option<Pid> {
        self.parent
    }
}

fn extras(extras: &mut Option<Box<Extras>>) -> &mut Extras {
    extras.get_or_insert_with(Box::default)
}

impl<M: Letter + Send + 'static> Mailbox<M> {
    /// Queues a system message if the process takes that kind; drops it otherwise.
    fn deliver_locked(&self, mut state: MutexGuard<'_, State<M>>, message: SystemMsg) {
        if matches!(state.life, Life::Exited(_)) {
            return;
        }
        let Some(message) = M::system(message) else {
            return;
        };
        state.queue.push_back(message);
        let waker = state.waker.take();
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// The children and orphans to reap, for a process that has (or had) some.
    fn take_orphans_locked(&self) -> Vec<Started> {
        let mut state = self.lock();
        let Some(extras) = state.extras.as_mut() else {
            return Vec::new();
        };
        let mut orphans = std::mem::take(&mut extras.orphans);
        orphans.extend(std::mem::take(&mut extras.children).into_values());
        orphans
    }

    /// Tells the registries this process enrolled in that it exits.
    fn release_registries_locked(&self) {
        let registries = match self.lock().extras.as_mut() {
            Some(extras) => std::mem::take(&mut extras.registries),
            None => return,
        };
        for registry in registries {
            registry.release(self.pid);
        }
    }

    /// Publishes the exit: refuses messages, fails queued calls, fires monitors and sends
    /// exit signals to linked processes. The reason is the one decided before, if any,
    /// `reason` otherwise; returns it. A starter still waiting for `init` gets
    /// `not_started`, or `Init(Killed)` when the process exited before answering.
    pub(crate) fn publish(
        &self,
        reason: ExitReason,
        not_started: Option<StartError>,
    ) -> ExitReason {
        let (reason, queue, extras, starter) = {
            let mut state = self.lock();
            let reason = match std::mem::replace(&mut state.life, Life::Running) {
                Life::Running => reason,
                Life::Exiting(decided) | Life::Exited(decided) => decided,
            };
            state.life = Life::Exited(reason.clone());
            state.signal = None;
            state.waker = None;
            state.abort = None;
            let starter = match &mut state.start {
                Start::Waiting(waker) => {
                    let waker = waker.take();
                    let error = not_started.unwrap_or(StartError::Init(ExitReason::Killed));
                    state.start = Start::Failed(Box::new(error));
                    waker
                }
                Start::Answered | Start::Failed(_) => None,
            };
            // Most processes leave nothing queued: no empty queue to take and drop.
            let queue = (!state.queue.is_empty()).then(|| std::mem::take(&mut state.queue));
            (reason, queue, state.extras.take(), starter)
        };
        if let Some(starter) = starter {
            starter.wake();
        }
        if let Some(queue) = queue {
            // Dropping pending calls fails their callers with the reason now published.
            queue.iter().for_each(Letter::abandon);
            drop(queue);
        }
        if let Some(extras) = extras {
            let Extras {
                watchers,
                links,
                children,
                orphans,
                ..
            } = *extras;
            for (id, watcher) in watchers {
                watcher.fire(id, self.pid, &reason);
            }
            for (_, linked) in links {
                linked.exit_signal(self.pid, Signal::Linked(reason.clone()));
            }
            // Reaped already; whatever is left here came too late to be waited for.
            children
                .into_values()
                .chain(orphans)
                .for_each(Started::kill);
        }
        reason
    }

    fn kill_locked(&self, mut state: MutexGuard<'_, State<M>>, reason: ExitReason) {
        if matches!(state.life, Life::Exited(_)) {
            return;
        }
        if matches!(state.life, Life::Running) {
            state.life = Life::Exiting(reason);
        }
        let abort = state.abort.clone();
        drop(state);
        if let Some(abort) = abort {
            abort.abort();
        }
    }
}

impl<M: Letter + Send + 'static> Control for Mailbox<M> {
    fn pid(&self) -> Pid {
        self.pid
    }

    fn type_name(&self) -> &'static str {
        self.type_name
    }

    fn stop(&self, reason: ExitReason) {
        let waker = {
            let mut state = self.lock();
            if !matches!(state.life, Life::Running) || state.signal.is_some() {
                return;
            }
            state.signal = Some(reason);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    fn exit_signal(&self, from: Pid, signal: Signal) {
        let mut state = self.lock();
        // What the sender's end releases here is dropped after the lock: a last reference
        // to another process's mailbox may go with it.
        let mut gone = None;
        let signal = match signal {
            // The common case, a supervisor told that a child exited: nothing to unlink,
            // straight into its mailbox (what the general rules below come to).
            Signal::Linked(reason)
                if state.extras.is_none()
                    && state.trap_exit
                    && matches!(state.life, Life::Running)
                    && Some(from) != self.parent =>
            {
                return self.deliver_locked(state, SystemMsg::Exit(from, reason));
            }
            Signal::Linked(reason) => {
                if let Some(extras) = state.extras.as_mut() {
                    let link = extras.links.remove(&from);
                    let child = extras.children.remove(&from).map(Started::disarm);
                    gone = Some((link, child));
                }
                Signal::Exit(reason)
            }
            other => other,
        };
        if !matches!(state.life, Life::Running) && !matches!(signal, Signal::Kill) {
            // Already on its way out: only a kill can hurry it.
            drop(state);
            drop(gone);
            return;
        }
        match signal {
            Signal::Kill => self.kill_locked(state, ExitReason::Killed),
            Signal::Exit(reason) if Some(from) == self.parent => {
                drop(state);
                self.stop(reason);
            }
            Signal::Exit(reason) if state.trap_exit => {
                self.deliver_locked(state, SystemMsg::Exit(from, reason));
            }
            Signal::Exit(ExitReason::Normal) if from != self.pid => {}
            Signal::Exit(reason) | Signal::Linked(reason) => self.kill_locked(state, reason),
        }
        drop(gone);
    }

    fn kill(&self, reason: ExitReason) {
        let state = self.lock();
        self.kill_locked(state, reason);
    }

    fn deliver(&self, message: SystemMsg) {
        let state = self.lock();
        self.deliver_locked(state, message);
    }

    fn watch(&self, id: u64, watcher: Watcher) -> Result<(), (Watcher, ExitReason)> {
        let mut state = self.lock();
        if let Life::Exited(reason) = &state.life {
            let reason = reason.clone();
            return Err((watcher, reason));
        }
        extras(&mut state.extras).watchers.insert(id, watcher);
        Ok(())
    }

    fn unwatch(&self, id: u64) -> bool {
        let mut state = self.lock();
        state
            .extras
            .as_mut()
            .is_some_and(|extras| extras.watchers.remove(&id).is_some())
    }

    fn want_down(&self, id: u64) {
        extras(&mut self.lock().extras).monitoring.insert(id);
    }

    fn forget_down(&self, id: u64) -> bool {
        let mut state = self.lock();
        state
            .extras
            .as_mut()
            .is_some_and(|extras| extras.monitoring.remove(&id))
    }

    fn link(&self, other: ProcessRef) -> Result<(), ProcessRef> {
        let mut state = self.lock();
        if matches!(state.life, Life::Exited(_)) {
            return Err(other);
        }
        extras(&mut state.extras).links.insert(other.pid(), other);
        Ok(())
    }

    fn unlink(&self, pid: Pid) {
        if let Some(extras) = self.lock().extras.as_mut() {
            extras.links.remove(&pid);
        }
    }

    fn trap_exit(&self, on: bool) -> bool {
        std::mem::replace(&mut self.lock().trap_exit, on)
    }

    fn snapshot(&self) -> Snapshot {
        let state = self.lock();
        let (links, monitored_by) = state.extras.as_ref().map_or((Vec::new(), 0), |extras| {
            (
                extras.links.keys().copied().collect(),
                extras.watchers.len(),
            )
        });
        Snapshot {
            parent: self.parent,
            born: self.born,
            message_queue_len: state.queue.len(),
            // A receiver that found nothing left its waker and the queue is still empty;
            // once a message comes, the push takes the waker.
            waiting: state.queue.is_empty() && state.waker.is_some() && state.signal.is_none(),
            exiting: !matches!(state.life, Life::Running),
            trap_exit: state.trap_exit,
            links,
            monitored_by,
        }
    }

    fn exiting_reason(&self) -> Option<ExitReason> {
        match &self.lock().life {
            Life::Running => None,
            Life::Exiting(reason) | Life::Exited(reason) => Some(reason.clone()),
        }
    }

    fn exit_reason(&self) -> Option<ExitReason> {
        match &self.lock().life {
            Life::Exited(reason) => Some(reason.clone()),
            Life::Running | Life::Exiting(_) => None,
        }
    }

    fn decide_exit(&self, reason: ExitReason) -> ExitReason {
        let mut state = self.lock();
        match &state.life {
            Life::Running => {
                state.life = Life::Exiting(reason.clone());
                reason
            }
            Life::Exiting(first) | Life::Exited(first) => first.clone(),
        }
    }

    fn set_abort(&self, abort: AbortHandle) {
        let mut state = self.lock();
        if matches!(state.life, Life::Running) {
            state.abort = Some(abort);
        } else {
            // Killed while it was being spawned.
            drop(state);
            abort.abort();
        }
    }

    fn adopt(&self, child: Started) -> Result<(), Started> {
        let mut state = self.lock();
        if !matches!(state.life, Life::Running) {
            return Err(child);
        }
        // Under the lock, so that `take_orphans` (which reads it first) cannot miss the child.
        self.parents.store(true, Ordering::Relaxed);
        extras(&mut state.extras)
            .children
            .insert(child.pid(), child);
        Ok(())
    }

    fn take_child(&self, pid: Pid) -> Option<Started> {
        self.lock().extras.as_mut()?.children.remove(&pid)
    }

    fn orphan(&self, child: Started) -> Result<(), Started> {
        let mut state = self.lock();
        if matches!(state.life, Life::Exited(_)) {
            return Err(child);
        }
        self.parents.store(true, Ordering::Relaxed);
        extras(&mut state.extras).orphans.push(child);
        Ok(())
    }

    #[inline]
    fn take_orphans(&self) -> Vec<Started> {
        // Children are added by the process itself (a `start_link` in it, or its own state
        // dropped), on its own task: this task sees its own store without a lock.
        if !self.parents.load(Ordering::Relaxed) {
            return Vec::new();
        }
        self.take_orphans_locked()
    }

    fn poll_start(&self, cx: &mut Context<'_>) -> Poll<Result<(), StartError>> {
        let mut state = self.lock();
        match &mut state.start {
            Start::Answered => Poll::Ready(Ok(())),
            Start::Waiting(waker) => {
                match waker {
                    Some(waker) if waker.will_wake(cx.waker()) => {}
                    _ => *waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            Start::Failed(_) => match std::mem::replace(&mut state.start, Start::Answered) {
                Start::Failed(error) => Poll::Ready(Err(*error)),
                _ => unreachable!("matched just above"),
            },
        }
    }

    fn enroll(&self, registry: Arc<dyn Enrolled>) -> bool {
        let mut state = self.lock();
        if !matches!(state.life, Life::Running) {
            return false;
        }
        self.enrolled.store(true, Ordering::Relaxed);
        let registries = &mut extras(&mut state.extras).registries;
        // By address: a process registers in few registries, and each once is enough.
        let same =
            |r: &Arc<dyn Enrolled>| std::ptr::addr_eq(Arc::as_ptr(r), Arc::as_ptr(&registry));
        if !registries.iter().any(same) {
            registries.push(registry);
        }
        true
    }

    #[inline]
    fn release_registries(&self) {
        if self.enrolled.load(Ordering::Relaxed) {
            self.release_registries_locked();
        }
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

#[cfg(all(test, loom))]
#[path = "../loom_mailbox.rs"]
mod loom_model;

#[cfg(test)]
mod tests {
    use super::*;

    impl Letter for i32 {
        fn system(_: SystemMsg) -> Option<i32> {
            None
        }
    }

    fn mailbox() -> Mailbox<i32> {
        Mailbox::new(Pid::from_raw(1), "i32", None)
    }

    #[tokio::test]
    async fn signal_overtakes_queued_messages() {
        let mb = mailbox();
        mb.push(1).unwrap();
        mb.push(2).unwrap();
        mb.stop(ExitReason::Shutdown);
        mb.stop(ExitReason::Killed);
        assert!(matches!(
            mb.recv().await,
            Event::Signal(ExitReason::Shutdown)
        ));
        assert!(matches!(mb.recv().await, Event::Message(1)));
        assert!(matches!(mb.recv().await, Event::Message(2)));
        assert!(mb.take_signal().is_none());
    }

    #[tokio::test]
    async fn a_published_mailbox_refuses_and_remembers_reason() {
        let mb = mailbox();
        let pushed = mb.push(1).unwrap();
        assert!(pushed.busy, "busy until the process says otherwise");
        assert_eq!(pushed.ahead, 1, "handling its init");
        mb.set_idle();
        assert_eq!(
            mb.push(1),
            Ok(Pushed {
                busy: false,
                ahead: 2
            })
        );
        assert_eq!(mb.decide_exit(ExitReason::Normal), ExitReason::Normal);
        assert_eq!(mb.decide_exit(ExitReason::Killed), ExitReason::Normal);
        assert_eq!(mb.exiting_reason(), Some(ExitReason::Normal));
        assert_eq!(mb.exit_reason(), None, "decided, not yet published");
        assert_eq!(mb.publish(ExitReason::Killed, None), ExitReason::Normal);
        assert_eq!(mb.push(2), Err(2));
        assert_eq!(mb.exit_reason(), Some(ExitReason::Normal));
        assert!(mb.is_closed());
    }

    /// A call with one message before it arms no timer of its own; if the process turns
    /// busy before reaching it, the call is nudged then, wherever it waits in the first two.
    #[tokio::test]
    async fn a_message_with_one_before_it_is_nudged_when_the_process_turns_busy() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NUDGED: AtomicUsize = AtomicUsize::new(0);
        struct Noted(usize);
        impl Letter for Noted {
            fn nudge(&self) {
                NUDGED.fetch_or(1 << self.0, Ordering::Relaxed);
            }
            fn system(_: SystemMsg) -> Option<Noted> {
                None
            }
        }
        let mb = Mailbox::new(Pid::from_raw(1), "Noted", None);
        mb.set_idle();
        // The process waits in its receive, then takes the first message.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(mb.poll_recv(&mut cx).is_pending());
        assert_eq!(mb.push(Noted(0)).ok().unwrap().ahead, 0);
        assert_eq!(mb.push(Noted(1)).ok().unwrap().ahead, 1);
        assert!(matches!(mb.recv().await, Event::Message(Noted(0))));
        // Handling the first, with the second queued: a third waits for two.
        assert_eq!(mb.push(Noted(2)).ok().unwrap().ahead, 2);
        assert_eq!(mb.push(Noted(3)).ok().unwrap().ahead, 3);
        assert_eq!(NUDGED.load(Ordering::Relaxed), 0);
        mb.set_busy();
        assert_eq!(
            NUDGED.load(Ordering::Relaxed),
            0b0110,
            "the first two queued"
        );
    }

    /// Issue 12, fault 4: going busy used to visit every queued message, so draining a
    /// backlog whose callbacks await cost time in proportion to its depth, per message.
    #[test]
    fn fault_04_going_busy_costs_the_same_whatever_the_queue_depth() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NUDGES: AtomicUsize = AtomicUsize::new(0);
        struct Counted;
        impl Letter for Counted {
            fn nudge(&self) {
                NUDGES.fetch_add(1, Ordering::Relaxed);
            }
            fn system(_: SystemMsg) -> Option<Counted> {
                None
            }
        }
        let mb = Mailbox::new(Pid::from_raw(1), "Counted", None);
        for _ in 0..100_000 {
            mb.push(Counted).ok().unwrap();
        }
        for _ in 0..1000 {
            mb.set_busy();
            mb.set_idle();
        }
        assert_eq!(
            NUDGES.load(Ordering::Relaxed),
            2000,
            "two nudges, for the first two queued"
        );
    }

    #[tokio::test]
    async fn a_busy_receiver_yields_to_other_tasks() {
        let mb = Arc::new(mailbox());
        let other_ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        tokio::spawn({
            let other_ran = other_ran.clone();
            async move { other_ran.store(true, std::sync::atomic::Ordering::SeqCst) }
        });
        // Always one message waiting: without budgeting this loop would never yield.
        mb.push(0).unwrap();
        for n in 1.. {
            mb.push(n).unwrap();
            mb.recv().await;
            if other_ran.load(std::sync::atomic::Ordering::SeqCst) {
                assert!(n <= 1000, "yielded only after {n} messages");
                return;
            }
        }
    }

    #[tokio::test]
    async fn receiver_is_woken_by_a_push_from_another_task() {
        let mb = Arc::new(mailbox());
        let rx = tokio::spawn({
            let mb = mb.clone();
            async move {
                match mb.recv().await {
                    Event::Message(m) => m,
                    Event::Signal(_) => 0,
                }
            }
        });
        tokio::task::yield_now().await;
        mb.push(42).unwrap();
        assert_eq!(rx.await.unwrap(), 42);
    }
}
