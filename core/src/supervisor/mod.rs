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
//!   killed (`BrutalKill`, its shutdown time ran out, or [`process::kill`](crate::process::kill))
//!   sends its children the `killed` exit signal, as OTP's links do: a child supervisor
//!   stops its own children in order, a server runs `terminate`, each within its shutdown
//!   time. The killed supervisor's exit is announced only once all of them have ended, so
//!   a `stop` returns only when nothing of the tree is left.
//! - Supervisors trap exits: an exit signal from their parent is a request to shut down;
//!   from any other linked process, a message they ignore unless it is from a child.
//! - A supervisor does not run user callbacks, so there is no `terminate` to run for it.
//! - Options are checked at start: a zero `max_seconds` is refused with
//!   [`StartError::InvalidOption`], as OTP refuses `{:invalid_period, 0}`.

pub(crate) mod core;
mod inbox;
mod intensity;
pub(crate) mod report;
mod shutdown;
mod state;

pub(crate) use inbox::{Requests, SupMsg};
pub(crate) use intensity::{DEFAULT_MAX_RESTARTS, DEFAULT_PERIOD, Intensity};
pub(crate) use shutdown::{all as shutdown_all, one as shutdown_one};

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use crate::child_spec::{ChildId, ChildSpec, ChildType, StartInfo};
use crate::error::{CallError, ChildError, StartError};
use crate::exit::ExitReason;
use crate::introspect::{Children, Query};
use crate::pid::Pid;
use crate::process::control;
use crate::process::life::Parent;
use crate::process::monitor::Monitor;
use crate::registry::Name;

use state::{Mb, StaticReq};

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
            max_restarts: DEFAULT_MAX_RESTARTS,
            period: DEFAULT_PERIOD,
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
    mailbox: Arc<Mb>,
}

impl Supervisor {
    /// Starts a supervisor and its children, in order; returns once all have started.
    ///
    /// Called from inside a bough process, it links the supervisor to the caller, its
    /// parent (see [`process`](crate::process#exit-signals)).
    pub async fn start_link(
        children: impl IntoIterator<Item = ChildSpec>,
        options: SupervisorOptions,
    ) -> Result<Supervisor, StartError> {
        let children: Vec<ChildSpec> = children.into_iter().collect();
        let name = options.name.clone();
        Supervisor::start_with(Box::new(move || (children, options)), name).await
    }

    /// Starts a supervisor whose `init` runs in its own process.
    pub(crate) async fn start_with(
        init: state::Init,
        name: Option<Name>,
    ) -> Result<Supervisor, StartError> {
        let (mailbox, starting) = state::spawn(init, name, Parent::Caller)?;
        let started = starting.wait().await?;
        crate::process::life::keep_with_caller(started, crate::Shutdown::Infinity);
        Ok(Supervisor { mailbox })
    }

    /// A child spec whose supervisor runs `init` in its own process at every start.
    pub(crate) fn child_spec_with(
        id: ChildId,
        init: impl Fn() -> state::Init + Send + Sync + 'static,
    ) -> ChildSpec {
        ChildSpec::from_start(id, ChildType::Supervisor, move |ctx| {
            state::spawn(init(), ctx.name, ctx.parent).map(|(_, starting)| starting)
        })
    }

    /// A child spec that starts this supervisor under another one: type supervisor,
    /// shutdown infinity, id its name if it has one, "Supervisor" otherwise.
    pub fn child_spec(
        children: impl IntoIterator<Item = ChildSpec>,
        options: SupervisorOptions,
    ) -> ChildSpec {
        let children: Arc<[ChildSpec]> = children.into_iter().collect();
        let id = options.name.as_ref().map_or_else(
            || ChildId::from("Supervisor"),
            |name| name.to_string().into(),
        );
        ChildSpec::from_start(id, ChildType::Supervisor, move |ctx| {
            let name = ctx.name.or_else(|| options.name.clone());
            let (children, options) = (children.to_vec(), options.clone());
            state::spawn(Box::new(move || (children, options)), name, ctx.parent)
                .map(|(_, starting)| starting)
        })
    }

    /// The supervisor registered under `name`, if a static supervisor is.
    pub fn whereis(name: &Name) -> Option<Supervisor> {
        let entry = name.lookup()?;
        let mailbox = entry.handle.downcast().ok()?;
        Some(Supervisor { mailbox })
    }

    /// The static supervisor with this pid: fails with [`CallError::NoProc`] if no process
    /// has it, and with [`CallError::WrongType`] if it is another kind of process.
    pub fn from_pid(pid: Pid) -> Result<Supervisor, CallError> {
        let process = control::lookup(pid).ok_or(CallError::NoProc)?;
        let found = process.type_name();
        let mailbox = process
            .into_any()
            .downcast()
            .map_err(|_| CallError::WrongType {
                name: pid.to_string(),
                expected: "Supervisor",
                found,
            })?;
        Ok(Supervisor { mailbox })
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.mailbox.pid()
    }

    /// Whether the supervisor still runs.
    pub fn is_alive(&self) -> bool {
        !self.mailbox.is_closed()
    }

    /// A monitor of this supervisor: a future of its exit reason.
    pub fn monitor(&self) -> Monitor {
        Monitor::of(&(self.mailbox.clone() as control::ProcessRef))
    }

    /// The children, newest first, as OTP lists them.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        core::request(&self.mailbox, StaticReq::WhichChildren).await
    }

    /// Counts the children.
    pub async fn count_children(&self) -> Result<ChildCount, CallError> {
        core::request(&self.mailbox, StaticReq::CountChildren).await
    }

    /// Stops the child `id` as its spec says. Its spec stays (unless it is temporary), so
    /// [`restart_child`](Supervisor::restart_child) can start it again. Stopping a child
    /// that is not running succeeds.
    pub async fn terminate_child(&self, id: &str) -> Result<(), ChildError> {
        let id = ChildId::from(id.to_owned());
        core::request(&self.mailbox, |to| StaticReq::TerminateChild(id, to)).await?
    }

    /// Starts again the child `id`, which must not be running. `Ok(None)` when its `init`
    /// returned `Ignore` (`{:ok, :undefined}`).
    pub async fn restart_child(&self, id: &str) -> Result<Option<Pid>, ChildError> {
        let id = ChildId::from(id.to_owned());
        core::request(&self.mailbox, |to| StaticReq::RestartChild(id, to)).await?
    }

    /// Forgets the spec of the child `id`, which must not be running.
    pub async fn delete_child(&self, id: &str) -> Result<(), ChildError> {
        let id = ChildId::from(id.to_owned());
        core::request(&self.mailbox, |to| StaticReq::DeleteChild(id, to)).await?
    }

    /// Adds a child at the end and starts it. `Ok(None)` when its `init` returned `Ignore`
    /// (the spec is kept, `{:ok, :undefined}`).
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Option<Pid>, StartError> {
        Ok(self.start_child_with_info(spec).await?.map(|(pid, _)| pid))
    }

    /// Like [`start_child`](Supervisor::start_child), with the info a custom start function
    /// gave ([`StartOk::with_info`](crate::StartOk::with_info)): `{:ok, pid, info}`.
    pub async fn start_child_with_info(
        &self,
        spec: ChildSpec,
    ) -> Result<Option<(Pid, Option<StartInfo>)>, StartError> {
        core::request(&self.mailbox, |to| StaticReq::StartChild(spec, to)).await?
    }

    /// Stops the supervisor: its children stop in reverse start order, then it exits with
    /// `reason`. Returns once everything has ended.
    pub async fn stop(&self, reason: ExitReason) -> Result<(), CallError> {
        core::stop(&self.mailbox, reason).await
    }

    /// What [`introspect`](crate::introspect) asks a supervisor.
    pub(crate) async fn describe(&self, query: Query) -> Result<Children, CallError> {
        core::request(&self.mailbox, |to| StaticReq::Describe(query, to)).await
    }
}

/// Whether a process's control block is a static supervisor's.
pub(crate) fn is_static(process: &(dyn Any + Send + Sync)) -> bool {
    process.is::<Mb>()
}

impl PartialEq for Supervisor {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl Eq for Supervisor {}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Supervisor({})", self.pid())
    }
}
