//! Supervisor: starts children in order, restarts them by a strategy, stops them in reverse.
//!
//! | Elixir                                              | bough                                        |
//! |-----------------------------------------------------|----------------------------------------------|
//! | `Supervisor.start_link(children, strategy: s)`      | [`Supervisor::start_link`]`(children, SupervisorOptions::new(s))` |
//! | `Supervisor.child_spec(children, opts)`             | [`Supervisor::child_spec`]                   |
//! | `:one_for_one`, `:one_for_all`, `:rest_for_one`     | [`Strategy`]                                 |
//! | `max_restarts: 3, max_seconds: 5`                   | [`SupervisorOptions::max_restarts`], [`SupervisorOptions::max_seconds`] |
//! | `Supervisor.which_children(sup)`                    | [`Supervisor::which_children`]               |
//! | `Supervisor.count_children(sup)`                    | [`Supervisor::count_children`]               |
//! | `Supervisor.terminate_child(sup, id)`               | [`Supervisor::terminate_child`]              |
//! | `Supervisor.restart_child(sup, id)`                 | [`Supervisor::restart_child`]                |
//! | `Supervisor.delete_child(sup, id)`                  | [`Supervisor::delete_child`]                 |
//! | `Supervisor.start_child(sup, spec)`                 | [`Supervisor::start_child`]                  |
//! | `Supervisor.stop(sup, reason)`                      | [`Supervisor::stop`]                         |
//!
//! ```
//! use bough_core::prelude::*;
//!
//! struct Worker;
//! impl GenServer for Worker {
//!     type Args = (); type Call = Never; type Reply = Never; type Cast = Never;
//!     type Info = Never; type Continue = Never;
//!     async fn init(_: ()) -> Init<Self> { Init::Ok(Worker) }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let children = vec![
//!     ChildSpec::worker::<Worker>(()).id("a"),
//!     ChildSpec::worker::<Worker>(()).id("b"),
//! ];
//! let sup = Supervisor::start_link(children, SupervisorOptions::new(Strategy::OneForOne)).await?;
//! let count = sup.count_children().await?;
//! assert_eq!((count.specs, count.active, count.workers), (2, 2, 2));
//! sup.stop(ExitReason::Normal).await?;
//! # Ok(()) }
//! ```
//!
//! # Semantics
//!
//! - A child that fails to start makes the whole start fail: the children already started
//!   are stopped in reverse order and the error says which child failed and why.
//! - Restart intensity: more than `max_restarts` restarts within `max_seconds` make the
//!   supervisor stop all its children and exit with [`ExitReason::Shutdown`]; its own
//!   supervisor then treats that as the exit of a child (escalation). A restart that fails
//!   is tried again, and each try counts.
//! - On shutdown, children stop one by one in reverse start order, each as its
//!   [`Shutdown`](crate::Shutdown) says. No child outlives its supervisor: one that is
//!   killed (`BrutalKill`, or its shutdown time ran out) takes its children with it, their
//!   tasks aborted, as OTP's linked children die with a killed supervisor.
//! - A supervisor does not run user callbacks, so there is no `terminate` to run for it.

mod inbox;
mod intensity;
pub(crate) mod report;
mod shutdown;
mod state;

pub(crate) use inbox::{Inbox, RetryKey, SupMsg};
pub(crate) use intensity::Intensity;
pub(crate) use shutdown::{all as shutdown_all, one as shutdown_one};

use std::sync::Arc;
use std::time::Duration;

use crate::child_spec::{ChildId, ChildSpec, ChildType};
use crate::error::{CallError, ChildError, StartError};
use crate::exit::ExitReason;
use crate::mailbox::Mailbox;
use crate::pid::Pid;
use crate::registry::Name;
use crate::reply::{self, ReplyTo};

use state::StaticReq;

/// How a supervisor restarts its children when one exits and must be restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Restart only the child that exited (`:one_for_one`).
    #[default]
    OneForOne,
    /// Stop all other children (in reverse start order), then start them all again in
    /// order (`:one_for_all`).
    OneForAll,
    /// Stop the children started after the one that exited (in reverse order), then start
    /// it and them again in order (`:rest_for_one`).
    RestForOne,
}

/// The options of a static supervisor, with OTP's defaults: 3 restarts in 5 seconds.
#[derive(Debug, Clone)]
pub struct SupervisorOptions {
    pub(crate) strategy: Strategy,
    pub(crate) max_restarts: u32,
    pub(crate) period: Duration,
    pub(crate) name: Option<Name>,
}

impl SupervisorOptions {
    /// Options with the given strategy and the default intensity (3 restarts in 5 s).
    pub fn new(strategy: Strategy) -> SupervisorOptions {
        SupervisorOptions {
            strategy,
            max_restarts: 3,
            period: Duration::from_secs(5),
            name: None,
        }
    }

    /// At most this many restarts within the period (`max_restarts:`, default 3).
    #[must_use]
    pub fn max_restarts(mut self, max_restarts: u32) -> SupervisorOptions {
        self.max_restarts = max_restarts;
        self
    }

    /// The period of the intensity, in seconds (`max_seconds:`, default 5).
    #[must_use]
    pub fn max_seconds(self, seconds: u64) -> SupervisorOptions {
        self.period(Duration::from_secs(seconds))
    }

    /// The period of the intensity, at any precision.
    #[must_use]
    pub fn period(mut self, period: Duration) -> SupervisorOptions {
        self.period = period;
        self
    }

    /// Registers the supervisor under `name` (`name:`).
    #[must_use]
    pub fn name(mut self, name: impl Into<Name>) -> SupervisorOptions {
        self.name = Some(name.into());
        self
    }
}

impl Default for SupervisorOptions {
    fn default() -> Self {
        SupervisorOptions::new(Strategy::OneForOne)
    }
}

/// A child's pid as `which_children` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChildPid {
    /// The child runs with this pid.
    Running(Pid),
    /// A restart of the child failed and will be tried again (`:restarting`).
    Restarting,
    /// The child is not running (`:undefined`): it was terminated, exited without being
    /// restarted, or its `init` returned `Ignore`.
    Undefined,
}

impl ChildPid {
    /// The pid, if the child runs.
    pub fn pid(self) -> Option<Pid> {
        match self {
            ChildPid::Running(pid) => Some(pid),
            ChildPid::Restarting | ChildPid::Undefined => None,
        }
    }
}

/// One entry of `which_children`: `{id, pid, type, modules}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildInfo {
    /// The child's id; `None` under a dynamic supervisor (`:undefined`).
    pub id: Option<ChildId>,
    /// The child's pid or state.
    pub pid: ChildPid,
    /// Worker or supervisor.
    pub child_type: ChildType,
}

/// What `count_children` returns: `%{specs:, active:, supervisors:, workers:}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ChildCount {
    /// All children, running or not.
    pub specs: usize,
    /// Children that run.
    pub active: usize,
    /// Children of type supervisor, running or not.
    pub supervisors: usize,
    /// Children of type worker, running or not.
    pub workers: usize,
}

/// A running static supervisor. Cheap to clone.
#[derive(Clone)]
pub struct Supervisor {
    pid: Pid,
    mailbox: Arc<Mailbox<SupMsg<StaticReq>>>,
}

pub(crate) async fn request<R: Send + 'static, T>(
    mailbox: &Mailbox<SupMsg<R>>,
    make: impl FnOnce(ReplyTo<T>) -> R,
) -> Result<T, CallError> {
    let (to, mut rx) = reply::slot();
    if mailbox.push(SupMsg::Request(make(to))).is_err() {
        return Err(CallError::NoProc);
    }
    rx.recv().await.map_err(|_| match mailbox.exit_reason() {
        Some(reason) => CallError::Exited(reason),
        None => CallError::NoReply,
    })
}

pub(crate) async fn stop<R: Send + 'static>(
    mailbox: &Mailbox<SupMsg<R>>,
    reason: ExitReason,
) -> Result<(), CallError> {
    let (to, mut rx) = reply::slot();
    if mailbox.push(SupMsg::Stop(reason, to)).is_err() {
        return Err(CallError::NoProc);
    }
    rx.recv().await.map_err(|_| match mailbox.exit_reason() {
        Some(reason) => CallError::Exited(reason),
        None => CallError::NoReply,
    })
}

impl Supervisor {
    /// Starts a supervisor and its children, in order; returns once all have started.
    pub async fn start_link(
        children: impl IntoIterator<Item = ChildSpec>,
        options: SupervisorOptions,
    ) -> Result<Supervisor, StartError> {
        let (mailbox, starting) = state::spawn(children.into_iter().collect(), options, None)?;
        let pid = starting.wait().await?.pid;
        Ok(Supervisor { pid, mailbox })
    }

    /// A child spec that starts this supervisor under another one: type supervisor,
    /// shutdown infinity, id "Supervisor" unless changed.
    pub fn child_spec(
        children: impl IntoIterator<Item = ChildSpec>,
        options: SupervisorOptions,
    ) -> ChildSpec {
        let children: Arc<[ChildSpec]> = children.into_iter().collect();
        ChildSpec::from_start("Supervisor", ChildType::Supervisor, move |ctx| {
            let mut options = options.clone();
            if ctx.name.is_some() {
                options.name = ctx.name;
            }
            state::spawn(children.to_vec(), options, Some(ctx.parent)).map(|(_, starting)| starting)
        })
    }

    /// The supervisor registered under `name`, if a static supervisor is.
    pub fn whereis(name: &Name) -> Option<Supervisor> {
        let entry = name.lookup()?;
        let pid = entry.pid;
        let mailbox = entry.handle.downcast().ok()?;
        Some(Supervisor { pid, mailbox })
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Whether the supervisor still runs.
    pub fn is_alive(&self) -> bool {
        !self.mailbox.is_closed()
    }

    /// The children, newest first, as OTP lists them.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        request(&self.mailbox, StaticReq::WhichChildren).await
    }

    /// Counts the children.
    pub async fn count_children(&self) -> Result<ChildCount, CallError> {
        request(&self.mailbox, StaticReq::CountChildren).await
    }

    /// Stops the child `id` as its spec says. Its spec stays (unless it is temporary), so
    /// [`restart_child`](Supervisor::restart_child) can start it again. Stopping a child
    /// that is not running succeeds.
    pub async fn terminate_child(&self, id: &str) -> Result<(), ChildError> {
        let id = ChildId::from(id.to_owned());
        request(&self.mailbox, |to| StaticReq::TerminateChild(id, to)).await?
    }

    /// Starts again the child `id`, which must not be running. `Ok(None)` when its `init`
    /// returned `Ignore` (`{:ok, :undefined}`).
    pub async fn restart_child(&self, id: &str) -> Result<Option<Pid>, ChildError> {
        let id = ChildId::from(id.to_owned());
        request(&self.mailbox, |to| StaticReq::RestartChild(id, to)).await?
    }

    /// Forgets the spec of the child `id`, which must not be running.
    pub async fn delete_child(&self, id: &str) -> Result<(), ChildError> {
        let id = ChildId::from(id.to_owned());
        request(&self.mailbox, |to| StaticReq::DeleteChild(id, to)).await?
    }

    /// Adds a child at the end and starts it. `Ok(None)` when its `init` returned `Ignore`
    /// (the spec is kept, `{:ok, :undefined}`).
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Option<Pid>, StartError> {
        request(&self.mailbox, |to| StaticReq::StartChild(spec, to)).await?
    }

    /// Stops the supervisor: its children stop in reverse start order, then it exits with
    /// `reason`. Returns once everything has ended.
    pub async fn stop(&self, reason: ExitReason) -> Result<(), CallError> {
        stop(&self.mailbox, reason).await
    }
}

impl PartialEq for Supervisor {
    fn eq(&self, other: &Self) -> bool {
        self.pid == other.pid
    }
}

impl Eq for Supervisor {}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Supervisor({})", self.pid)
    }
}
