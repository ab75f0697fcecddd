//! A process from birth to its announced exit: one prologue for every kind of process, the
//! task wrapper, and the exact order of an exit.
//!
//! However a process ends (its body returned, it panicked, its task was aborted, even a
//! `Drop` of its state panicked) its exit runs these steps once, in this order:
//! 1. its exit reason is decided (callers that learn of the exit from a dropped reply
//!    handle see this reason);
//! 2. its state is dropped;
//! 3. the processes it parents (children it started with `start_link`, or a killed
//!    supervisor's children) are stopped and waited for, each within its shutdown time;
//! 4. its names and its registry entries are released and the live count lowered;
//! 5. the exit is published: `is_alive` turns false, queued calls fail with the reason,
//!    monitors fire and linked processes get their exit signals;
//! 6. its parent is told, and whoever waits in `stop` is answered.
//!
//! So whoever sees a process gone (a DOWN, a failed call, `is_alive() == false`) finds its
//! names free, and nothing it started outlives it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::control::{self, Control, ProcessRef, Signal};
use super::scope::{Scoped, enter};
use crate::child_spec::Shutdown;
use crate::error::StartError;
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::mailbox::{Letter, Mailbox};
use crate::registry::{Name, Registration};
use crate::reply::ReplyTo;

/// The live count, striped: each thread adds and subtracts on a stripe of its own, so that
/// starts and exits on different cores never write one cache line. A process may be born
/// on one stripe and die on another, so a stripe can go below zero; the sum is exact.
struct Stripes([Stripe; STRIPES]);

const STRIPES: usize = 32;

#[repr(align(128))]
struct Stripe(AtomicIsize);

static LIVE: Stripes = Stripes([const { Stripe(AtomicIsize::new(0)) }; STRIPES]);

/// Which stripe the next thread takes.
static NEXT_STRIPE: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static MY_STRIPE: usize = NEXT_STRIPE.fetch_add(1, Ordering::Relaxed) % STRIPES;
}

impl Stripes {
    #[inline]
    fn add(&self, n: isize) {
        // A thread being torn down counts on the first stripe.
        let stripe = MY_STRIPE.try_with(|s| *s).unwrap_or(0);
        self.0[stripe].0.fetch_add(n, Ordering::AcqRel);
    }

    fn sum(&self) -> usize {
        let sum: isize = self.0.iter().map(|s| s.0.load(Ordering::Acquire)).sum();
        usize::try_from(sum).unwrap_or(0)
    }
}

/// How many bough processes are alive in this program: Erlang's
/// `:erlang.system_info(:process_count)`.
///
/// A process counts from the moment its start begins (before `init`) until its state has
/// been dropped, everything it started has ended, and its name is released. Tests use it
/// to prove that a stopped tree left nothing running. Every start and exit that happened
/// before the call is counted; ones running meanwhile may or may not be.
pub fn process_count() -> usize {
    LIVE.sum()
}

/// A process's name and its place in the live count, released together.
struct Birth {
    /// Boxed: most processes have no name, and every byte here is a byte of every task.
    registration: Option<Box<Registration>>,
}

impl Birth {
    #[inline]
    fn new(registration: Option<Registration>) -> Birth {
        LIVE.add(1);
        Birth {
            registration: registration.map(Box::new),
        }
    }
}

impl Drop for Birth {
    fn drop(&mut self) {
        // Release the name before the count, so a start that sees the count drop can take it.
        self.registration.take();
        LIVE.add(-1);
    }
}

/// Where a new process belongs.
pub(crate) enum Parent {
    /// A supervisor that owns the child's handle itself.
    Supervisor(ProcessRef),
    /// Whoever calls `start_link`: the calling process, if the caller is one.
    Caller,
}

impl Parent {
    #[inline]
    fn resolve(self) -> Option<ProcessRef> {
        match self {
            Parent::Supervisor(parent) => Some(parent),
            Parent::Caller => control::current(),
        }
    }
}

/// A new process's one answer to its starter, given to its body: spent by
/// [`Ack::started`] once `init` succeeded, or by [`Exit::not_started`].
///
/// The answer itself is kept in the process's mailbox, so this is only the right to give it.
#[must_use = "a starter waits until its process answers"]
pub(crate) struct Ack(());

impl Ack {
    /// `init` succeeded: OTP's `init_ack(ok)`; `mailbox` is the process's own.
    #[inline]
    pub(crate) fn started<M>(self, mailbox: &Mailbox<M>) {
        mailbox.started();
    }
}

/// How a process body ended.
pub(crate) struct Exit {
    pub(crate) reason: ExitReason,
    /// A `stop` caller to answer once the process is entirely gone.
    pub(crate) waiter: Option<ReplyTo<()>>,
    /// Runs once the exit is published: a call that stopped the server is answered then.
    pub(crate) after: Option<Box<dyn FnOnce() + Send>>,
    /// Set when `init` did not succeed: the starter learns it from this answer, once the
    /// name and the count are released; the parent hears nothing, as with OTP's
    /// `start_link`, whose failure the supervisor sees in its return value.
    /// Boxed: it is rare, and the exit is moved through every layer of the process's task.
    pub(crate) not_started: Option<Box<StartError>>,
}

impl Exit {
    pub(crate) fn new(reason: ExitReason, waiter: Option<ReplyTo<()>>) -> Exit {
        Exit {
            reason,
            waiter,
            after: None,
            not_started: None,
        }
    }

    pub(crate) fn not_started(reason: ExitReason, ack: Ack, error: StartError) -> Exit {
        let Ack(()) = ack;
        Exit {
            reason,
            waiter: None,
            after: None,
            not_started: Some(Box::new(error)),
        }
    }
}

/// Steps 4-6 of an exit. Runs when finished, or at the latest when dropped, so that every
/// way a process ends is announced exactly once.
///
/// Kept small: every process's task holds one. It holds the process's own mailbox by its
/// type, not as a `ProcessRef`: half the size, and calls that need no virtual dispatch.
struct ExitNotice<M: Letter + Send + 'static> {
    control: Arc<Mailbox<M>>,
    birth: Option<Birth>,
    parent: Option<ProcessRef>,
}

impl<M: Letter + Send + 'static> ExitNotice<M> {
    fn pid(&self) -> Pid {
        self.control.pid()
    }

    /// Announces the exit; `exit` says who else to answer (none when the task was aborted).
    fn finish(&mut self, exit: Option<Exit>) {
        let Some(birth) = self.birth.take() else {
            return;
        };
        let pid = self.pid();
        self.control.release_registries();
        if birth.registration.is_some() {
            crate::introspect::names::remove(pid);
        }
        drop(birth);
        control::remove(pid);
        let Exit {
            reason,
            waiter,
            after,
            not_started,
        } = exit.unwrap_or_else(|| Exit::new(ExitReason::Killed, None));
        let started = not_started.is_none();
        let reason = self
            .control
            .publish(reason, not_started.map(|boxed| *boxed));
        if let Some(after) = after {
            after();
        }
        if started && let Some(parent) = self.parent.take() {
            parent.exit_signal(pid, Signal::Linked(reason));
        }
        if let Some(waiter) = waiter {
            waiter.reply(());
        }
    }
}

impl<M: Letter + Send + 'static> Drop for ExitNotice<M> {
    fn drop(&mut self) {
        // Checked here, not only in `finish`: most notices are dropped once finished.
        if self.birth.is_some() {
            self.finish(None);
        }
    }
}

/// The wait for a process's orphans, and how its body ended; boxed, since few processes
/// leave orphans.
type Reaping = Pin<Box<(Pin<Box<dyn Future<Output = ()> + Send>>, Option<Exit>)>>;

pin_project! {
    /// A process's task: its body, then the reaping of what it leaves behind, then its
    /// exit notice.
    struct Process<F, M>
    where
        M: Letter,
        M: Send,
        M: 'static,
    {
        #[pin]
        body: Scoped<F>,
        reaping: Option<Reaping>,
        notice: Option<ExitNotice<M>>,
    }

    impl<F, M> PinnedDrop for Process<F, M>
    where
        M: Letter,
        M: Send,
        M: 'static,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let Some(mut notice) = this.notice.take().filter(|n| n.birth.is_some()) else {
                return;
            };
            // The task was aborted: killed, or dropped with its runtime.
            let reason = notice.control.decide_exit(ExitReason::Killed);
            this.body.clear();
            let exit = {
                // Children held by the body or the reaping become this process's orphans.
                let _scope = enter(notice.pid());
                this.reaping.take().and_then(|mut reaping| reaping.1.take())
            };
            let orphans = notice.control.take_orphans();
            if orphans.is_empty() {
                notice.finish(exit);
                return;
            }
            let reaper = async move {
                reap(orphans, reason).await;
                notice.finish(exit);
            };
            // Without a runtime to reap on, dropping the orphans kills them and the notice
            // is sent at once.
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(reaper);
            }
        }
    }
}

impl<F: Future<Output = Exit>, M: Letter + Send + 'static> Future for Process<F, M> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let Some(notice) = this.notice.as_mut() else {
            return Poll::Ready(());
        };
        let exit = match this.reaping.as_mut() {
            None => {
                let exit = std::task::ready!(this.body.poll(cx));
                let orphans = notice.control.take_orphans();
                if orphans.is_empty() {
                    Some(exit)
                } else {
                    let reason = notice.control.decide_exit(exit.reason.clone());
                    let reaping: Pin<Box<dyn Future<Output = ()> + Send>> =
                        Box::pin(reap(orphans, reason));
                    *this.reaping = Some(Box::pin((reaping, Some(exit))));
                    return self_poll_reaping(this.reaping, notice, cx);
                }
            }
            Some(_) => return self_poll_reaping(this.reaping, notice, cx),
        };
        if let Some(mut notice) = this.notice.take() {
            notice.finish(exit);
        }
        Poll::Ready(())
    }
}

/// Polls the reaping of a process's orphans; once it is done, announces the exit.
fn self_poll_reaping<M: Letter + Send + 'static>(
    reaping: &mut Option<Reaping>,
    notice: &mut ExitNotice<M>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    let Some(state) = reaping.as_mut() else {
        return Poll::Ready(());
    };
    {
        let _scope = enter(notice.pid());
        std::task::ready!(state.0.as_mut().poll(cx));
    }
    let exit = state.1.take();
    *reaping = None;
    notice.finish(exit);
    Poll::Ready(())
}

/// Stops `children` (each by its shutdown, with `reason`) and waits until all have ended.
pub(crate) async fn reap(children: Vec<Started>, reason: ExitReason) {
    let mut waiting: Vec<(Started, Option<Instant>)> = children
        .into_iter()
        .map(|child| {
            let deadline = child.begin_stop(reason.clone());
            (child, deadline)
        })
        .collect();
    for (child, deadline) in &mut waiting {
        child.ended(*deadline).await;
    }
    for (child, _) in waiting {
        child.disarm();
    }
}

/// The handle of a running child, owned by whoever must see it end (its supervisor, or
/// the process that started it). Like tokio's `JoinSet`, ownership means responsibility:
/// a handle dropped before its child ended makes the child an orphan of the process that
/// dropped it, stopped and waited for before that process's exit is announced (outside
/// any process, the child is killed).
pub(crate) struct Started {
    inner: Option<Inner>,
}

struct Inner {
    pid: Pid,
    control: ProcessRef,
    /// `None` for a process adopted by a supervisor but started by someone else: its end is
    /// seen through a monitor.
    join: Option<JoinHandle<()>>,
    shutdown: Shutdown,
}

impl Started {
    pub(crate) fn adopted(control: ProcessRef, shutdown: Shutdown) -> Started {
        Started {
            inner: Some(Inner {
                pid: control.pid(),
                control,
                join: None,
                shutdown,
            }),
        }
    }

    fn inner(&self) -> &Inner {
        self.inner
            .as_ref()
            .expect("a child handle is armed until disarmed")
    }

    pub(crate) fn pid(&self) -> Pid {
        self.inner().pid
    }

    pub(crate) fn control(&self) -> &ProcessRef {
        &self.inner().control
    }

    pub(crate) fn shutdown(&self) -> Shutdown {
        self.inner().shutdown
    }

    #[must_use]
    pub(crate) fn with_shutdown(mut self, shutdown: Shutdown) -> Started {
        if let Some(inner) = self.inner.as_mut() {
            inner.shutdown = shutdown;
        }
        self
    }

    /// Whether this process was started as this owner's child (its exit signal to the
    /// parent is a stop request) rather than adopted.
    fn is_child(&self) -> bool {
        self.inner().join.is_some()
    }

    /// Asks the child to stop as its shutdown says; the deadline after which it is killed.
    pub(crate) fn begin_stop(&self, reason: ExitReason) -> Option<Instant> {
        let inner = self.inner();
        match inner.shutdown {
            Shutdown::BrutalKill => {
                inner.control.kill(ExitReason::Killed);
                None
            }
            Shutdown::Timeout(budget) => {
                self.signal(reason);
                Some(
                    Instant::now()
                        .checked_add(budget)
                        .unwrap_or_else(far_future),
                )
            }
            Shutdown::Infinity => {
                self.signal(reason);
                None
            }
        }
    }

    fn signal(&self, reason: ExitReason) {
        let inner = self.inner();
        if self.is_child() {
            inner.control.stop(reason);
        } else {
            let from = super::try_self_pid().unwrap_or(Pid::from_raw(0));
            inner.control.exit_signal(from, Signal::Exit(reason));
        }
    }

    /// Waits until the child's task has ended; kills it at `deadline`.
    pub(crate) async fn ended(&mut self, deadline: Option<Instant>) {
        let Some(inner) = self.inner.as_mut() else {
            return;
        };
        match inner.join.as_mut() {
            Some(join) => {
                if let Some(deadline) = deadline
                    && tokio::time::timeout_at(deadline, &mut *join).await.is_ok()
                {
                    return;
                }
                if deadline.is_some() {
                    inner.control.kill(ExitReason::Killed);
                }
                let _ = join.await;
            }
            None => {
                let mut down = super::monitor::Monitor::of(&inner.control);
                if let Some(deadline) = deadline
                    && tokio::time::timeout_at(deadline, &mut down).await.is_ok()
                {
                    return;
                }
                if deadline.is_some() {
                    inner.control.kill(ExitReason::Killed);
                }
                down.await;
            }
        }
    }

    /// The task's handle, for an owner that waits for its very end later; the child is no
    /// longer this handle's responsibility.
    pub(crate) fn into_join(self) -> Option<JoinHandle<()>> {
        // Not dropped: `Started`'s drop would only find the handle empty, in a call.
        let mut this = std::mem::ManuallyDrop::new(self);
        this.inner.take().and_then(|inner| inner.join)
    }

    /// The child ended (or is someone else's now): dropping the handle does nothing more.
    pub(crate) fn disarm(mut self) {
        self.inner.take();
    }

    /// Kills the child without waiting for it.
    pub(crate) fn kill(self) {
        if let Some(inner) = self.inner_ref() {
            inner.control.kill(ExitReason::Killed);
        }
        self.disarm();
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        let Some(inner) = self.inner.take() else {
            return;
        };
        let pid = inner.pid;
        let orphan = Started { inner: Some(inner) };
        let owner = control::current().filter(|owner| owner.pid() != pid);
        let orphan = match owner {
            Some(owner) => match owner.orphan(orphan) {
                Ok(()) => return,
                Err(orphan) => orphan,
            },
            None => orphan,
        };
        orphan.kill();
    }
}

/// A [`Started`] less its pid and its shutdown, for an owner that keeps both anyway (a
/// dynamic supervisor: the pid is its table's key, the shutdown is in the spec), so that
/// every entry of its table is smaller and cheaper to move.
///
/// Unlike `Started` it does nothing when dropped: its owner must turn it back into a
/// `Started` with [`Started::from_parts`] before it lets go of it, also when the owner
/// itself is dropped.
pub(crate) struct Parts {
    control: ProcessRef,
    join: Option<JoinHandle<()>>,
}

impl Started {
    /// Splits an armed handle; `from_parts` with the same pid and shutdown undoes it.
    pub(crate) fn into_parts(self) -> Parts {
        // Not dropped: `Started`'s drop would only find the handle empty, in a call.
        let mut this = std::mem::ManuallyDrop::new(self);
        let inner = this
            .inner
            .take()
            .expect("a child handle is armed until disarmed");
        debug_assert_eq!(inner.pid, inner.control.pid());
        Parts {
            control: inner.control,
            join: inner.join,
        }
    }

    /// The handle that [`into_parts`](Started::into_parts) split.
    pub(crate) fn from_parts(pid: Pid, parts: Parts, shutdown: Shutdown) -> Started {
        Started {
            inner: Some(Inner {
                pid,
                control: parts.control,
                join: parts.join,
                shutdown,
            }),
        }
    }
}

impl Started {
    fn inner_ref(&self) -> Option<&Inner> {
        self.inner.as_ref()
    }
}

fn far_future() -> Instant {
    // About 30 years: what tokio itself uses for "never".
    Instant::now() + std::time::Duration::from_secs(86400 * 365 * 30)
}

/// A process whose task is running its `init`; a future of its start, ready once `init`
/// returned (see [`Starting::wait`]).
///
/// A future of its own rather than an `async fn`: every start of a child is awaited
/// through it, and an `async fn` was one more layer to resume, with room for the rare
/// wait for a failed start's end.
pub(crate) struct Starting {
    started: Option<Started>,
    /// A start that failed: the wait for its task's very end, which then gives the error.
    failing: Option<Pin<Box<dyn Future<Output = StartError> + Send>>>,
}

impl Starting {
    /// Waits until `init` returned: OTP's `start_link` returning.
    pub(crate) fn wait(self) -> Starting {
        self
    }
}

impl Future for Starting {
    type Output = Result<Started, StartError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let failing = match this.failing.as_mut() {
            Some(failing) => failing,
            None => {
                let starting = this.started.as_ref().expect("a start is awaited once");
                let answer = std::task::ready!(starting.control().poll_start(cx));
                let mut started = this.started.take().expect("a start is awaited once");
                // On an error the task has released its name and is ending; wait for its
                // very end.
                let error = match answer {
                    Ok(()) => return Poll::Ready(Ok(started)),
                    Err(error) => error,
                };
                this.failing.insert(Box::pin(async move {
                    started.ended(None).await;
                    started.disarm();
                    error
                }))
            }
        };
        failing.as_mut().poll(cx).map(Err)
    }
}

/// A starter that gives up (is cancelled) kills the process it was starting.
impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(started) = self.started.take() {
            started.control().kill(ExitReason::Killed);
            drop(started);
        }
    }
}

/// How a new process is made: its type, its name, where it belongs.
pub(crate) struct Spec {
    pub(crate) type_name: &'static str,
    pub(crate) name: Option<Name>,
    pub(crate) parent: Parent,
    /// Supervisors trap exits from the start.
    pub(crate) trap_exit: bool,
}

/// The prologue of every process: a pid, a mailbox, the name (taken before anything runs),
/// a place in the live count and the table, then the task, whose body runs its `init` and
/// answers through the [`Ack`] it is given, [`Ack::started`] before its loop, or
/// [`Exit::not_started`].
///
/// The starter then waits outside any run queue and is woken on the thread the new task
/// runs on, so the new task runs at once where it was spawned rather than being stolen by
/// another worker.
// Inline into each kind of process's own spawn: out of line it cost every start about
// fifty instructions of moving its arguments.
#[inline]
pub(crate) fn spawn<M, F>(
    spec: Spec,
    body: impl FnOnce(Arc<Mailbox<M>>, Ack) -> F,
) -> Result<(Arc<Mailbox<M>>, Starting), StartError>
where
    M: Letter + Send + 'static,
    F: Future<Output = Exit> + Send + 'static,
{
    let pid = super::table::reserve();
    let parent = spec.parent.resolve();
    let parent_pid = parent.as_ref().map(|parent| parent.pid());
    let mailbox = Arc::new(if spec.trap_exit {
        Mailbox::<M>::trapping(pid, spec.type_name, parent_pid)
    } else {
        Mailbox::<M>::new(pid, spec.type_name, parent_pid)
    });
    let control: ProcessRef = mailbox.clone();
    let registration = match spec.name {
        Some(name) => {
            let handle = mailbox.clone();
            let registration = Registration::take(name.clone(), pid, handle, spec.type_name)
                .inspect_err(|_| control::remove(pid))?;
            crate::introspect::names::insert(pid, name);
            Some(registration)
        }
        None => None,
    };
    let birth = Birth::new(registration);
    control::insert(pid, control.clone());
    // Boxed: tokio moves a task's future by value through its spawn and into its cell, and
    // writes the cell's whole stage at the end; with a box each of those is a pointer, not
    // a few hundred bytes (one allocation for about 300 instructions of copying).
    let join = tokio::spawn(Box::pin(Process {
        body: Scoped::new(pid, body(mailbox.clone(), Ack(()))),
        reaping: None,
        notice: Some(ExitNotice {
            control: mailbox.clone(),
            birth: Some(birth),
            parent,
        }),
    }));
    control.set_abort(join.abort_handle());
    let started = Started {
        inner: Some(Inner {
            pid,
            control,
            join: Some(join),
            shutdown: Shutdown::BrutalKill,
        }),
    };
    Ok((
        mailbox,
        Starting {
            started: Some(started),
            failing: None,
        },
    ))
}

/// A started child of the calling process, kept by it: `start_link` from inside a process.
/// Outside any process the handle is let go (the process runs detached, as a task).
pub(crate) fn keep_with_caller(started: Started, default_shutdown: Shutdown) {
    let started = started.with_shutdown(default_shutdown);
    match control::current() {
        Some(caller) => {
            if let Err(started) = caller.adopt(started) {
                drop(started);
            }
        }
        None => {
            let _ = started.into_join();
        }
    }
}
