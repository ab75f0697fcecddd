//! What every process shares, whatever it runs: its pid in task-local storage, panic
//! capture, the live-process count, and the bookkeeping of its exit.
//!
//! A process is one tokio task wrapped in [`Process`]. When the task is dropped before its
//! body returned (it was aborted), three steps run in this order, which is what makes exits
//! exact:
//! 1. the mailbox is closed with `killed`, so callers waiting on a reply learn the reason
//!    before the body's state is dropped;
//! 2. the body drops the server's state (and any reply handles it kept);
//! 3. the notice releases the name, lowers the live count and only then tells the parent.
//!
//! A body that returned did all three itself, so dropping its task costs nothing more.

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tokio::task::JoinHandle;

use crate::error::StartError;
use crate::exit::ExitReason;
use crate::mailbox::{Letter, Mailbox};
use crate::pid::Pid;
use crate::registry::Registration;
use crate::reply::{self, ReplyRx, ReplyTo};

thread_local! {
    /// The pid of the process being polled on this thread. A plain cell, set around each
    /// poll: tokio's `task_local!` does the same with a `RefCell` and costs a fifth of a call.
    static CURRENT: Cell<Option<Pid>> = const { Cell::new(None) };
}

/// Puts the previous pid back, even when the poll panics.
struct Restore(Option<Pid>);

impl Drop for Restore {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

fn enter(pid: Pid) -> Restore {
    Restore(CURRENT.with(|current| current.replace(Some(pid))))
}

pin_project! {
    /// Runs `inner` as process `pid`: `self_pid()` answers `pid` while it is polled and
    /// while it is dropped.
    pub(crate) struct Scoped<F> {
        pid: Pid,
        #[pin]
        inner: Option<F>,
    }

    impl<F> PinnedDrop for Scoped<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            let _restore = enter(*this.pid);
            this.inner.set(None);
        }
    }
}

impl<F> Scoped<F> {
    pub(crate) fn new(pid: Pid, inner: F) -> Scoped<F> {
        Scoped {
            pid,
            inner: Some(inner),
        }
    }

    /// Drops `inner` now, as the process.
    fn clear(self: Pin<&mut Self>) {
        let mut this = self.project();
        let _restore = enter(*this.pid);
        this.inner.set(None);
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _restore = enter(*this.pid);
        match this.inner.as_pin_mut() {
            Some(inner) => inner.poll(cx),
            // Polled after completion: futures may not be, and ours never are.
            None => Poll::Pending,
        }
    }
}

/// The pid of the process running this code: Elixir's `self()`.
///
/// Works in every callback of a GenServer, `init` included.
///
/// # Panics
///
/// Panics when called outside a bough process, like `tokio::spawn` outside a runtime.
/// Use [`try_self_pid`] where that can happen.
pub fn self_pid() -> Pid {
    try_self_pid().expect("bough::self_pid() called outside a bough process")
}

/// The pid of the process running this code, or `None` outside a bough process.
pub fn try_self_pid() -> Option<Pid> {
    CURRENT.try_with(Cell::get).ok().flatten()
}

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// How many bough processes are alive in this program: Erlang's
/// `:erlang.system_info(:process_count)`.
///
/// A process counts from the moment its start begins (before `init`) until its state has
/// been dropped and its name released. Tests use it to prove that a stopped tree left
/// nothing running.
pub fn process_count() -> usize {
    LIVE.load(Ordering::Acquire)
}

/// The operations a supervisor needs on a child's mailbox, whatever its message type.
pub(crate) trait Control: Send + Sync {
    fn signal(&self, reason: ExitReason);
    fn close(&self, reason: ExitReason) -> bool;
    fn exit_reason(&self) -> Option<ExitReason>;
}

impl<M: Send + Letter> Control for Mailbox<M> {
    fn signal(&self, reason: ExitReason) {
        Mailbox::signal(self, reason)
    }
    fn close(&self, reason: ExitReason) -> bool {
        Mailbox::close(self, reason)
    }
    fn exit_reason(&self) -> Option<ExitReason> {
        Mailbox::exit_reason(self)
    }
}

/// Whoever must hear of a process's exit: its supervisor.
pub(crate) trait Link: Send + Sync {
    fn child_exited(&self, pid: Pid, reason: ExitReason);
}

/// A process between its birth (pid, count, name) and the spawn of its task.
///
/// Dropping it without spawning (a failed or cancelled `init`) releases the name and the
/// count without telling the parent: the parent learns of the failure from the start's
/// return value, as with OTP's `start_link`.
pub(crate) struct Birth {
    pub(crate) pid: Pid,
    /// Boxed: most processes have no name, and every byte here is a byte of every task.
    registration: Option<Box<Registration>>,
}

impl Birth {
    pub(crate) fn new(pid: Pid, registration: Option<Registration>) -> Birth {
        LIVE.fetch_add(1, Ordering::AcqRel);
        Birth {
            pid,
            registration: registration.map(Box::new),
        }
    }
}

impl Drop for Birth {
    fn drop(&mut self) {
        // Release the name before the count, so a start that sees the count drop can take it.
        self.registration.take();
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How a process body ended.
pub(crate) struct Exit {
    pub(crate) reason: ExitReason,
    /// A `stop` caller to answer once the process is entirely gone.
    pub(crate) waiter: Option<ReplyTo<()>>,
    /// Set when `init` did not succeed: the starter learns it from this answer, once the
    /// name and the count are released; the parent hears nothing, as with OTP's
    /// `start_link`, whose failure the supervisor sees in its return value.
    pub(crate) not_started: Option<(ReplyTo<Result<(), StartError>>, StartError)>,
}

impl Exit {
    pub(crate) fn new(reason: ExitReason, waiter: Option<ReplyTo<()>>) -> Exit {
        Exit {
            reason,
            waiter,
            not_started: None,
        }
    }

    pub(crate) fn not_started(ack: ReplyTo<Result<(), StartError>>, error: StartError) -> Exit {
        Exit {
            reason: ExitReason::Normal,
            waiter: None,
            not_started: Some((ack, error)),
        }
    }
}

struct ExitNotice {
    birth: Option<Birth>,
    parent: Option<Arc<dyn Link>>,
}

impl ExitNotice {
    /// Whether the name, the count and the parent are still to be dealt with.
    fn is_pending(&self) -> bool {
        self.birth.is_some()
    }

    /// Releases the name and the count without telling the parent: `init` failed.
    fn forget(&mut self) {
        self.parent.take();
        self.birth.take();
    }

    fn finish(&mut self, reason: ExitReason) {
        let Some(birth) = self.birth.take() else {
            return;
        };
        let pid = birth.pid;
        drop(birth);
        if let Some(parent) = self.parent.take() {
            parent.child_exited(pid, reason);
        }
    }
}

pin_project! {
    pub(crate) struct Process<F> {
        control: Arc<dyn Control>,
        #[pin]
        body: Scoped<F>,
        notice: ExitNotice,
    }

    impl<F> PinnedDrop for Process<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !this.notice.is_pending() {
                return;
            }
            // The task was aborted. A no-op close when the body had closed the mailbox.
            this.control.close(ExitReason::Killed);
            this.body.clear();
            let reason = this.control.exit_reason().unwrap_or(ExitReason::Killed);
            this.notice.finish(reason);
        }
    }
}

impl<F: Future<Output = Exit>> Future for Process<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let exit = std::task::ready!(this.body.poll(cx));
        // The body closed the mailbox and dropped its state before returning.
        if let Some((ack, error)) = exit.not_started {
            this.notice.forget();
            ack.reply(Err(error));
            return Poll::Ready(());
        }
        this.notice.finish(exit.reason);
        if let Some(waiter) = exit.waiter {
            waiter.reply(());
        }
        Poll::Ready(())
    }
}

/// A running process, as its supervisor keeps it.
pub(crate) struct Started {
    pub(crate) pid: Pid,
    pub(crate) join: JoinHandle<()>,
    pub(crate) control: Arc<dyn Control>,
}

/// A process whose task is running its `init`.
pub(crate) struct Starting {
    pub(crate) pid: Pid,
    control: Arc<dyn Control>,
    task: AbortOnDrop,
    ack: ReplyRx<Result<(), StartError>>,
}

impl Starting {
    /// Waits until `init` returned: OTP's `start_link` returning.
    pub(crate) async fn wait(mut self) -> Result<Started, StartError> {
        match self.ack.recv().await {
            Ok(Ok(())) => Ok(Started {
                pid: self.pid,
                join: self.task.disarm(),
                control: self.control,
            }),
            Ok(Err(error)) => {
                // The task has released its name and is ending; wait for its very end.
                let _ = self.task.disarm().await;
                Err(error)
            }
            Err(_) => Err(StartError::Init(ExitReason::Killed)),
        }
    }
}

/// Spawns a process. Its body runs its `init` first and answers through the `ReplyTo` it is
/// given, `Ok` before its loop, or [`Exit::not_started`].
///
/// The starter then waits outside any run queue and is woken on the thread the new task
/// runs on, so the new task runs at once where it was spawned rather than being stolen by
/// another worker; and a starter that is cancelled meanwhile aborts the task, so a cancelled
/// start leaves no orphan.
pub(crate) fn start<M, F>(
    birth: Birth,
    mailbox: Arc<Mailbox<M>>,
    parent: Option<Arc<dyn Link>>,
    body: impl FnOnce(ReplyTo<Result<(), StartError>>) -> F,
) -> Starting
where
    M: Send + Letter + 'static,
    F: Future<Output = Exit> + Send + 'static,
{
    let pid = birth.pid;
    let (ack, answer) = reply::slot();
    let control: Arc<dyn Control> = mailbox;
    let join = tokio::spawn(Process {
        control: control.clone(),
        body: Scoped::new(pid, body(ack)),
        notice: ExitNotice {
            birth: Some(birth),
            parent,
        },
    });
    Starting {
        pid,
        control,
        task: AbortOnDrop(Some(join)),
        ack: answer,
    }
}

pin_project! {
    /// Turns a panic while polling `inner` into an exit reason.
    pub(crate) struct CatchUnwind<F> {
        #[pin]
        inner: F,
    }
}

impl<F> CatchUnwind<F> {
    pub(crate) fn new(inner: F) -> CatchUnwind<F> {
        CatchUnwind { inner }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ExitReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(ExitReason::from_panic(payload))),
        }
    }
}

/// Aborts a task that is still starting if whoever started it gives up (is cancelled), so a
/// cancelled start leaves no orphan behind.
pub(crate) struct AbortOnDrop(pub(crate) Option<JoinHandle<()>>);

impl AbortOnDrop {
    pub(crate) fn disarm(mut self) -> JoinHandle<()> {
        self.0.take().expect("armed until disarmed")
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(join) = self.0.take() {
            join.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn catch_unwind_turns_panics_into_reasons() {
        let ok = CatchUnwind::new(async { 5 }).await;
        assert_eq!(ok.unwrap(), 5);
        let failed = CatchUnwind::new(async { panic!("boom") }).await;
        assert_eq!(failed.unwrap_err(), ExitReason::Panic("boom".into()));
    }

    #[tokio::test]
    async fn self_pid_holds_while_a_process_body_is_dropped() {
        struct Check(Pid);
        impl Drop for Check {
            fn drop(&mut self) {
                assert_eq!(try_self_pid(), Some(self.0));
            }
        }
        let pid = Pid::next();
        let body = Scoped::new(pid, async move {
            let _check = Check(pid);
            std::future::pending::<()>().await;
        });
        let mut body = Box::pin(body);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(body.as_mut().poll(&mut cx).is_pending());
        assert_eq!(try_self_pid(), None);
        drop(body);
        assert_eq!(try_self_pid(), None);
    }

    #[tokio::test]
    async fn self_pid_is_scoped_to_the_process() {
        assert_eq!(try_self_pid(), None);
        let pid = Pid::next();
        let seen = Scoped::new(pid, async { self_pid() }).await;
        assert_eq!(seen, pid);
        assert_eq!(try_self_pid(), None);
    }
}
