//! Task.Supervisor: supervised one-off work, each piece a process of its own, with a
//! handle to await its result or not.
//!
//! | Elixir                                              | bough                                             |
//! |-----------------------------------------------------|---------------------------------------------------|
//! | `Task.Supervisor.start_link(opts)`                  | [`TaskSupervisor::start_link`]`(`[`DynamicSupervisorOptions`]`)` |
//! | `{Task.Supervisor, name: n}` in a children list     | [`TaskSupervisor::child_spec`]                    |
//! | `Task.Supervisor.start_child(sup, fun)`             | [`TaskSupervisor::start_child`]`(future)`         |
//! | `start_child(sup, fun, restart: r, shutdown: s)`    | [`TaskSupervisor::start_child_with`]`(`[`TaskOptions`]`, fn)` |
//! | `Task.Supervisor.async(sup, fun)`                   | [`TaskSupervisor::async_link`]`(future)` (`async` is a Rust keyword) |
//! | `Task.Supervisor.async_nolink(sup, fun)`            | [`TaskSupervisor::async_nolink`]`(future)`        |
//! | `Task.await(task, :infinity)`                       | `task.await` (a [`Task`] is a future)             |
//! | `Task.await(task, timeout)`                         | [`Task::await_timeout`]                           |
//! | `Task.yield(task, timeout)`                         | [`Task::yield_timeout`], [`Task::try_yield`] (no wait) |
//! | `Task.shutdown(task, shutdown)`                     | [`Task::shutdown`]                                |
//! | `Task.Supervisor.children(sup)`                     | [`TaskSupervisor::children`]                      |
//! | `Task.Supervisor.terminate_child(sup, pid)`         | [`TaskSupervisor::terminate_child`]               |
//! | `Process.flag(:trap_exit, true)` + `receive {:EXIT, from, reason}` in a task | [`process::trap_exit`]`(true)` + [`exit_signal`]`().await` |
//!
//! ```
//! use bough_core::prelude::*;
//! use bough_core::TaskSupervisor;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let tasks = TaskSupervisor::start_link(DynamicSupervisorOptions::new()).await?;
//! let sum = tasks.async_nolink(async { (1..=10u64).sum::<u64>() }).await?;
//! let crash = tasks.async_nolink(async { panic!("bad input") }).await?;
//! assert_eq!(sum.await, Ok(55));
//! assert_eq!(crash.await, Err::<(), _>(ExitReason::Panic("bad input".into())));
//! tasks.stop(ExitReason::Shutdown).await?;
//! # Ok(()) }
//! ```
//!
//! # Semantics
//!
//! - Every task is a bough process (type name `Task`), a temporary child of the task
//!   supervisor by default: a crash is reported and not restarted. `start_child` returns
//!   once the task runs, with its pid; its result is dropped.
//! - [`async_nolink`](TaskSupervisor::async_nolink) gives a [`Task`] handle whose result is
//!   `Err(reason)` if the task crashed: the caller is not affected.
//!   [`async_link`](TaskSupervisor::async_link) also links the task to the calling
//!   process, as Elixir's `Task.Supervisor.async` does: a crash of the task takes the
//!   caller down (unless it traps exits), and the caller's crash takes the task down.
//!   Outside a bough process there is no caller to link, and it is `async_nolink`.
//! - A handle resolves once the task's exit is published: a task that returned has ended,
//!   whatever it started has ended, and its registry entries are gone.
//! - When the supervisor shuts down, each task is stopped with the reason: a task that does
//!   not trap exits ends at once (its future is dropped at its next `.await`); a task that
//!   traps exits gets the shutdown from [`exit_signal`] and may finish its work, and is
//!   killed if it is still running after its shutdown time (5 s by default).

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;

use crate::child_spec::{ChildId, ChildSpec, ChildType, Restart, Shutdown};
use crate::dynamic_supervisor::{DynamicSupervisor, DynamicSupervisorOptions};
use crate::error::{CallError, ChildError, StartError};
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::control::{self, Control, ProcessRef, SystemMsg};
use crate::process::life::{self, Ack, Exit, Parent, Spec, Starting};
use crate::process::mailbox::{Event, Letter, Mailbox};
use crate::process::monitor::Monitor;
use crate::process::{self, CatchUnwind};
use crate::registry::Name;

/// What a task finds in its mailbox: exit signals it trapped.
pub(crate) enum TaskMsg {
    Exit(Pid, ExitReason),
}

impl Letter for TaskMsg {
    fn system(message: SystemMsg) -> Option<TaskMsg> {
        match message {
            SystemMsg::Exit(from, reason) => Some(TaskMsg::Exit(from, reason)),
            // A task has no handler for DOWN notices (`process::monitor` is its monitor), and
            // no state to show.
            SystemMsg::Down(_) | SystemMsg::GetState(_) => None,
        }
    }
}

type TaskMailbox = Mailbox<TaskMsg>;

/// How a task started with [`TaskSupervisor::start_child_with`] is restarted and stopped:
/// the `restart:` and `shutdown:` options of `Task.Supervisor.start_child/3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskOptions {
    restart: Restart,
    shutdown: Shutdown,
}

impl TaskOptions {
    /// Temporary (never restarted), stopped within 5000 ms: Elixir's defaults.
    pub fn new() -> TaskOptions {
        TaskOptions {
            restart: Restart::Temporary,
            shutdown: Shutdown::millis(5000),
        }
    }

    /// When the task is restarted (`restart:`): a transient task is restarted after a
    /// crash, a permanent one after any exit.
    #[must_use]
    pub fn restart(mut self, restart: Restart) -> TaskOptions {
        self.restart = restart;
        self
    }

    /// How the task is stopped (`shutdown:`).
    #[must_use]
    pub fn shutdown(mut self, shutdown: Shutdown) -> TaskOptions {
        self.shutdown = shutdown;
        self
    }
}

impl Default for TaskOptions {
    fn default() -> Self {
        TaskOptions::new()
    }
}

/// Where a task's start leaves what its handle needs: the monitor, made before the task
/// could have ended, and the slot its value lands in.
struct Handoff<T> {
    down: Mutex<Option<Monitor>>,
    value: Arc<Mutex<Option<T>>>,
}

/// A running task supervisor: a dynamic supervisor whose children are tasks, as Elixir's
/// `Task.Supervisor` is. Cheap to clone.
///
/// See the [module docs](crate::task_supervisor) for the mapping from Elixir and the
/// semantics.
#[derive(Clone)]
pub struct TaskSupervisor {
    sup: DynamicSupervisor,
}

impl TaskSupervisor {
    /// Starts a task supervisor with no tasks; `max_children`, the restart intensity and a
    /// name come from `options`.
    ///
    /// Called from inside a bough process, it links the supervisor to the caller, its
    /// parent.
    pub async fn start_link(
        options: DynamicSupervisorOptions,
    ) -> Result<TaskSupervisor, StartError> {
        Ok(TaskSupervisor {
            sup: DynamicSupervisor::start_link(options).await?,
        })
    }

    /// A child spec that starts a task supervisor under another supervisor: type
    /// supervisor, shutdown infinity, id its name if it has one, "Task.Supervisor"
    /// otherwise. Find it again with [`whereis`](TaskSupervisor::whereis).
    pub fn child_spec(options: DynamicSupervisorOptions) -> ChildSpec {
        let id = options.name.as_ref().map_or_else(
            || ChildId::from("Task.Supervisor"),
            |name| name.to_string().into(),
        );
        DynamicSupervisor::child_spec(options).id(id)
    }

    /// The task supervisor registered under `name`, if one is.
    pub fn whereis(name: &Name) -> Option<TaskSupervisor> {
        DynamicSupervisor::whereis(name).map(|sup| TaskSupervisor { sup })
    }

    /// Starts `work` as a temporary task and returns its pid once it runs:
    /// `Task.Supervisor.start_child/2`. Its result is dropped.
    ///
    /// Fails as [`DynamicSupervisor::start_child`] does, [`StartError::MaxChildren`] included.
    pub async fn start_child<F>(&self, work: F) -> Result<Pid, StartError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.sup
            .start_child(once(work, None, None, TaskOptions::new()))
            .await
    }

    /// Starts a task from `work`, which makes its future, with a restart type and a
    /// shutdown of its own: `Task.Supervisor.start_child/3`. A transient or permanent task
    /// is restarted by calling `work` again.
    pub async fn start_child_with<F, Fut>(
        &self,
        options: TaskOptions,
        work: F,
    ) -> Result<Pid, StartError>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let spec = ChildSpec::from_start("Task", ChildType::Worker, move |ctx| {
            spawn(ctx.parent, None, work(), None).map(|(_, starting)| starting)
        })
        .restart(options.restart)
        .shutdown(options.shutdown);
        self.sup.start_child(spec).await
    }

    /// Starts `work` as a task and returns a handle to its result:
    /// `Task.Supervisor.async_nolink/2`. A crash of the task is its result,
    /// `Err(reason)`; it does not affect the caller.
    pub async fn async_nolink<F>(&self, work: F) -> Result<Task<F::Output>, StartError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.async_task(work, None).await
    }

    /// Starts `work` as a task linked to the calling process and returns a handle to its
    /// result: Elixir's `Task.Supervisor.async/2`. A crash of the task takes the caller
    /// down with the task's reason (unless the caller traps exits, and then it gets the
    /// exit as a message); the caller's crash takes the task down. Called outside a bough
    /// process, it is [`async_nolink`](TaskSupervisor::async_nolink).
    pub async fn async_link<F>(&self, work: F) -> Result<Task<F::Output>, StartError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.async_task(work, control::current()).await
    }

    async fn async_task<F>(
        &self,
        work: F,
        owner: Option<ProcessRef>,
    ) -> Result<Task<F::Output>, StartError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let linked = owner.is_some();
        let handoff = Arc::new(Handoff {
            down: Mutex::new(None),
            value: Arc::new(Mutex::new(None)),
        });
        let spec = once(work, owner, Some(handoff.clone()), TaskOptions::new());
        let pid = self.sup.start_child(spec).await?;
        let down = handoff
            .down
            .lock()
            .take()
            .expect("the start made the monitor before answering");
        Ok(Task {
            pid,
            down,
            value: handoff.value.clone(),
            delivered: false,
            linked,
        })
    }

    /// The pids of the running tasks, in no particular order:
    /// `Task.Supervisor.children/1`.
    pub async fn children(&self) -> Result<Vec<Pid>, CallError> {
        Ok(self
            .sup
            .which_children()
            .await?
            .into_iter()
            .filter_map(|child| child.pid.pid())
            .collect())
    }

    /// Stops the task `pid` as its shutdown says: `Task.Supervisor.terminate_child/2`.
    pub async fn terminate_child(&self, pid: Pid) -> Result<(), ChildError> {
        self.sup.terminate_child(pid).await
    }

    /// Stops every task, then the supervisor; returns once all have ended.
    pub async fn stop(&self, reason: ExitReason) -> Result<(), CallError> {
        self.sup.stop(reason).await
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.sup.pid()
    }

    /// Whether the supervisor still runs.
    pub fn is_alive(&self) -> bool {
        self.sup.is_alive()
    }

    /// A monitor of the supervisor: a future of its exit reason.
    pub fn monitor(&self) -> Monitor {
        self.sup.monitor()
    }

    /// The dynamic supervisor the tasks run under.
    pub fn dynamic_supervisor(&self) -> &DynamicSupervisor {
        &self.sup
    }
}

impl PartialEq for TaskSupervisor {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl Eq for TaskSupervisor {}

impl fmt::Debug for TaskSupervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaskSupervisor({})", self.pid())
    }
}

/// The spec of a task that runs `work` once.
fn once<F>(
    work: F,
    owner: Option<ProcessRef>,
    handoff: Option<Arc<Handoff<F::Output>>>,
    options: TaskOptions,
) -> ChildSpec
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let work = Mutex::new(Some(work));
    ChildSpec::from_start("Task", ChildType::Worker, move |ctx| {
        let work = work.lock().take().ok_or(StartError::InvalidOption(
            "a task made from a future runs once; start it with start_child_with to restart it",
        ))?;
        let value = handoff.as_ref().map(|handoff| handoff.value.clone());
        let (mailbox, starting) = spawn(ctx.parent, owner.clone(), work, value)?;
        if let Some(handoff) = &handoff {
            // Made here, before anyone waits for the start: the task may end at once, and
            // a monitor of a process that ended still gets its reason.
            let process: ProcessRef = mailbox;
            *handoff.down.lock() = Some(Monitor::of(&process));
        }
        Ok(starting)
    })
    .restart(options.restart)
    .shutdown(options.shutdown)
}

/// Spawns a task process under `parent`.
fn spawn<F>(
    parent: Parent,
    owner: Option<ProcessRef>,
    work: F,
    value: Option<Arc<Mutex<Option<F::Output>>>>,
) -> Result<(Arc<TaskMailbox>, Starting), StartError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let spec = Spec {
        type_name: "Task",
        name: None,
        parent,
        trap_exit: false,
    };
    life::spawn(spec, move |mailbox, ack| {
        run(mailbox, ack, owner, work, value)
    })
}

/// A task's life: the link to its owner, then its work, watching for its parent's stop.
async fn run<F>(
    mailbox: Arc<TaskMailbox>,
    ack: Ack,
    owner: Option<ProcessRef>,
    work: F,
    value: Option<Arc<Mutex<Option<F::Output>>>>,
) -> Exit
where
    F: Future + Send,
    F::Output: Send,
{
    if let Some(owner) = owner {
        let me: ProcessRef = mailbox.clone();
        if owner.link(me.clone()).is_err() {
            // The caller died before its task started: as a link to a dead process.
            let reason = ExitReason::NoProc;
            return Exit::not_started(reason.clone(), ack, StartError::Init(reason));
        }
        if me.link(owner.clone()).is_err() {
            owner.unlink(me.pid());
        }
    }
    ack.started(&mailbox);
    let mut work = pin!(CatchUnwind::new(work));
    let ended = poll_fn(|cx| {
        if let Poll::Ready(done) = work.as_mut().poll(cx) {
            return Poll::Ready(done);
        }
        // A task that traps exits takes its signals itself, with `exit_signal`.
        while !mailbox.traps_exits() {
            match mailbox.poll_recv(cx) {
                Poll::Ready(Event::Signal(reason)) if mailbox.traps_exits() => {
                    // It began to trap while the stop came in: leave it for `exit_signal`.
                    mailbox.stop(reason);
                }
                Poll::Ready(Event::Signal(reason)) => return Poll::Ready(Err(reason)),
                // Trapped before the task stopped trapping, never taken: dropped.
                Poll::Ready(Event::Message(TaskMsg::Exit(..))) => {}
                Poll::Pending => break,
            }
        }
        Poll::Pending
    })
    .await;
    match ended {
        Ok(result) => {
            if let Some(value) = value {
                *value.lock() = Some(result);
            }
            Exit::new(ExitReason::Normal, None)
        }
        Err(reason) => Exit::new(reason, None),
    }
}

/// Waits for the next exit signal of the calling task, which must trap exits
/// ([`process::trap_exit`]`(true)`): `receive {:EXIT, from,
/// reason}` in an Elixir task. The supervisor's shutdown comes this way, from the
/// supervisor's pid; the task then finishes as it likes (its value is its result), or is
/// killed when its shutdown time runs out.
///
/// Fails with [`CallError::NotAProcess`] outside a process and with
/// [`CallError::WrongType`] in a process that is not a task. While the task does not trap
/// exits it never returns: an exit signal ends the task instead.
///
/// ```
/// # use bough_core::prelude::*;
/// # use bough_core::{task_supervisor, TaskSupervisor};
/// # use std::sync::{Arc, Mutex};
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let tasks = TaskSupervisor::start_link(DynamicSupervisorOptions::new()).await?;
/// let saved = Arc::new(Mutex::new(None));
/// let seen = saved.clone();
/// tasks.start_child(async move {
///     process::trap_exit(true).unwrap();
///     let (_, reason) = task_supervisor::exit_signal().await.unwrap();
///     *seen.lock().unwrap() = Some(reason); // clean up, then end
/// }).await?;
/// tasks.stop(ExitReason::Shutdown).await?;
/// assert_eq!(*saved.lock().unwrap(), Some(ExitReason::Shutdown));
/// # Ok(()) }
/// ```
pub async fn exit_signal() -> Result<(Pid, ExitReason), CallError> {
    let me = control::current().ok_or(CallError::NotAProcess)?;
    let (pid, found) = (me.pid(), me.type_name());
    let mailbox: Arc<TaskMailbox> = me.into_any().downcast().map_err(|_| CallError::WrongType {
        name: pid.to_string(),
        expected: "Task",
        found,
    })?;
    let parent = mailbox.parent().unwrap_or(Pid::from_raw(0));
    Ok(poll_fn(|cx| {
        if !mailbox.traps_exits() {
            // The task's own loop takes the signal and ends the task; it wakes this task.
            return Poll::Pending;
        }
        match mailbox.poll_recv(cx) {
            Poll::Ready(Event::Signal(reason)) => Poll::Ready((parent, reason)),
            Poll::Ready(Event::Message(TaskMsg::Exit(from, reason))) => Poll::Ready((from, reason)),
            Poll::Pending => Poll::Pending,
        }
    })
    .await)
}

/// Why [`Task::await_timeout`] has no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task exited without a result: it crashed, was stopped or killed.
    #[error("the task exited: {0}")]
    Exited(ExitReason),
    /// The task did not finish in time; it still runs.
    #[error("the task did not finish in time")]
    Timeout,
}

/// A task started with [`TaskSupervisor::async_nolink`] or
/// [`async_link`](TaskSupervisor::async_link): Elixir's `%Task{}`. Await it for the task's
/// result (`Task.await(task, :infinity)`): `Ok(value)`, or `Err(reason)` when the task
/// exited without one. The result is delivered once.
#[must_use = "a task's result is lost unless the task is awaited"]
pub struct Task<T> {
    pid: Pid,
    down: Monitor,
    value: Arc<Mutex<Option<T>>>,
    delivered: bool,
    linked: bool,
}

impl<T> Task<T> {
    /// The task's pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    fn outcome(&mut self, reason: ExitReason) -> Result<T, ExitReason> {
        self.delivered = true;
        match (reason, self.value.lock().take()) {
            (ExitReason::Normal, Some(value)) => Ok(value),
            (reason, _) => Err(reason),
        }
    }

    /// The result if the task has ended, without waiting: `Task.yield(task, 0)`. `None`
    /// while it runs, and after the result was delivered.
    pub fn try_yield(&mut self) -> Option<Result<T, ExitReason>> {
        if self.delivered {
            return None;
        }
        let reason = self.down.try_reason()?;
        Some(self.outcome(reason))
    }

    /// Waits up to `timeout` for the result: `Task.yield(task, timeout)`. `None` if the
    /// task still runs (it goes on; yield again or await it), and after the result was
    /// delivered.
    pub async fn yield_timeout(&mut self, timeout: Duration) -> Option<Result<T, ExitReason>> {
        if self.delivered {
            return None;
        }
        let reason = tokio::time::timeout(timeout, &mut self.down).await.ok()?;
        Some(self.outcome(reason))
    }

    /// Waits up to `timeout` for the result: `Task.await(task, timeout)`. Unlike Elixir,
    /// where the caller exits, a task that is not done in time gives
    /// [`TaskError::Timeout`] and goes on running; use [`shutdown`](Task::shutdown) to
    /// stop it.
    pub async fn await_timeout(mut self, timeout: Duration) -> Result<T, TaskError> {
        match self.yield_timeout(timeout).await {
            Some(result) => result.map_err(TaskError::Exited),
            None => Err(TaskError::Timeout),
        }
    }

    /// Stops the task and says how it ended: `Task.shutdown(task, shutdown)`. The caller
    /// unlinks from it first, so a linked caller is not taken down by the shutdown. The
    /// task gets the exit signal `shutdown` from the caller (a task that traps exits gets
    /// it from [`exit_signal`]) and is killed if it has not ended within the time-out
    /// (at once with [`Shutdown::BrutalKill`]).
    ///
    /// `Some(Ok(value))` if the task finished first, `Some(Err(reason))` if it had exited
    /// for another reason, `None` if the shutdown ended it (or the result was delivered).
    pub async fn shutdown(mut self, shutdown: Shutdown) -> Option<Result<T, ExitReason>> {
        if self.delivered {
            return None;
        }
        if self.linked {
            process::unlink(self.pid);
        }
        if self.down.try_reason().is_none() {
            match shutdown {
                Shutdown::BrutalKill => process::kill(self.pid),
                Shutdown::Timeout(limit) => {
                    process::exit(self.pid, ExitReason::Shutdown);
                    if tokio::time::timeout(limit, &mut self.down).await.is_err() {
                        process::kill(self.pid);
                    }
                }
                Shutdown::Infinity => process::exit(self.pid, ExitReason::Shutdown),
            }
        }
        let reason = (&mut self.down).await;
        match self.outcome(reason) {
            Ok(value) => Some(Ok(value)),
            Err(ExitReason::Shutdown | ExitReason::Killed) => None,
            Err(other) => Some(Err(other)),
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, ExitReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.delivered {
            // Delivered once: the value is gone, and the task with it.
            return Poll::Ready(Err(ExitReason::NoProc));
        }
        let reason = std::task::ready!(Pin::new(&mut this.down).poll(cx));
        Poll::Ready(this.outcome(reason))
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("pid", &self.pid)
            .field("linked", &self.linked)
            .field("delivered", &self.delivered)
            .finish()
    }
}
