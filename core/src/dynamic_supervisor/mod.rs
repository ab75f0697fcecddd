//! DynamicSupervisor: starts children on demand, one request at a time.
//!
//! | Elixir                                                | bough                                           |
//! |-------------------------------------------------------|-------------------------------------------------|
//! | `DynamicSupervisor.start_link(strategy: :one_for_one)`| [`DynamicSupervisor::start_link`]`(DynamicSupervisorOptions::new())` |
//! | `max_restarts:`, `max_seconds:`, `max_children:`      | [`DynamicSupervisorOptions`]                    |
//! | `extra_arguments: [a]`                                | [`DynamicSupervisorOptions::extra_arguments`] + [`ChildSpec::worker_with_extra`](crate::ChildSpec::worker_with_extra) |
//! | `DynamicSupervisor.start_child(sup, spec)`            | [`DynamicSupervisor::start_child`]              |
//! | `DynamicSupervisor.terminate_child(sup, pid)`         | [`DynamicSupervisor::terminate_child`]          |
//! | `DynamicSupervisor.which_children(sup)`               | [`DynamicSupervisor::which_children`]           |
//! | `DynamicSupervisor.count_children(sup)`               | [`DynamicSupervisor::count_children`]           |
//! | `DynamicSupervisor.stop(sup)`                         | [`DynamicSupervisor::stop`]                     |
//!
//! ```
//! use bough_core::prelude::*;
//!
//! struct Job;
//! impl GenServer for Job {
//!     type Args = u32; type Call = Never; type Reply = Never; type Cast = Never;
//!     type Info = Never; type Continue = ();
//!     async fn init(_: u32) -> Init<Self> { Init::Continue(Job, ()) }
//!     async fn handle_continue(&mut self, _: ()) -> NoReply<Self> {
//!         NoReply::Stop(ExitReason::Normal) // work done
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new()).await?;
//! let spec = ChildSpec::worker::<Job>(7).restart(Restart::Transient);
//! let pid = sup.start_child(spec).await?;
//! println!("started {pid}");
//! # Ok(()) }
//! ```
//!
//! # Semantics
//!
//! - `start_child` is serialized through the supervisor: the child's `init` runs while the
//!   supervisor handles that one request. With a named child this makes "start it, or get
//!   the one already running" free of races: every concurrent start but one gets
//!   [`StartError::AlreadyStarted`] with the same pid.
//! - `max_children` is checked before the start.
//! - A temporary child, or a transient one that exits cleanly, is forgotten when it exits; a
//!   permanent one, or a transient one that crashed, is restarted with the same arguments
//!   (and a new pid), within the restart intensity.
//! - On shutdown all children are asked to stop at once, each within its own shutdown time.
//! - Adding or removing a child costs the same with ten children or a million: children are
//!   kept in a hash map by pid and counted as they come and go.

mod state;

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::child_spec::{ChildId, ChildSpec, ChildType, StartInfo};
use crate::error::{CallError, ChildError, StartError};
use crate::exit::ExitReason;
use crate::introspect::{Children, Query};
use crate::pid::Pid;
use crate::process::control::{self, ProcessRef};
use crate::process::life::Parent;
use crate::process::monitor::Monitor;
use crate::registry::Name;
use crate::supervisor::core;
use crate::supervisor::{ChildCount, ChildInfo, DEFAULT_MAX_RESTARTS, DEFAULT_PERIOD};

use state::{DynReq, Mb};

/// The options of a dynamic supervisor, with OTP's defaults: 3 restarts in 5 seconds, no
/// limit on children, no extra arguments. The strategy is always one_for_one.
#[derive(Clone, Default)]
pub struct DynamicSupervisorOptions {
    pub(crate) max_restarts: Option<u32>,
    pub(crate) period: Option<Duration>,
    pub(crate) max_children: Option<usize>,
    pub(crate) extra: Option<Arc<dyn Any + Send + Sync>>,
    pub(crate) name: Option<Name>,
}

impl DynamicSupervisorOptions {
    /// The defaults.
    pub fn new() -> DynamicSupervisorOptions {
        DynamicSupervisorOptions::default()
    }

    /// At most this many restarts within the period (`max_restarts:`, default 3).
    #[must_use]
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = Some(max_restarts);
        self
    }

    /// The period of the intensity, in seconds (`max_seconds:`, default 5).
    #[must_use]
    pub fn max_seconds(self, seconds: u64) -> Self {
        self.period(Duration::from_secs(seconds))
    }

    /// The period of the intensity, at any precision.
    #[must_use]
    pub fn period(mut self, period: Duration) -> Self {
        self.period = Some(period);
        self
    }

    /// At most this many children at once (`max_children:`, default unlimited).
    #[must_use]
    pub fn max_children(mut self, max_children: usize) -> Self {
        self.max_children = Some(max_children);
        self
    }

    /// A value given to every child spec made with
    /// [`ChildSpec::worker_with_extra`](crate::ChildSpec::worker_with_extra) (`extra_arguments:`).
    #[must_use]
    pub fn extra_arguments<E: Any + Send + Sync>(mut self, extra: E) -> Self {
        self.extra = Some(Arc::new(extra));
        self
    }

    /// Registers the supervisor under `name` (`name:`).
    #[must_use]
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.name = Some(name.into());
        self
    }
}

impl fmt::Debug for DynamicSupervisorOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicSupervisorOptions")
            .field(
                "max_restarts",
                &self.max_restarts.unwrap_or(DEFAULT_MAX_RESTARTS),
            )
            .field("period", &self.period.unwrap_or(DEFAULT_PERIOD))
            .field("max_children", &self.max_children)
            .field("extra_arguments", &self.extra.is_some())
            .field("name", &self.name)
            .finish()
    }
}

/// A running dynamic supervisor. Cheap to clone.
#[derive(Clone)]
pub struct DynamicSupervisor {
    mailbox: Arc<Mb>,
}

impl DynamicSupervisor {
    /// Starts a dynamic supervisor with no children.
    ///
    /// Called from inside a bough process, it links the supervisor to the caller, its
    /// parent (see [`process`](crate::process#exit-signals)).
    pub async fn start_link(
        options: DynamicSupervisorOptions,
    ) -> Result<DynamicSupervisor, StartError> {
        let name = options.name.clone();
        DynamicSupervisor::start_with(Box::new(move || options), name).await
    }

    /// Starts a dynamic supervisor whose `init` runs in its own process.
    pub(crate) async fn start_with(
        init: state::Init,
        name: Option<Name>,
    ) -> Result<DynamicSupervisor, StartError> {
        let (mailbox, starting) = state::spawn(init, name, Parent::Caller)?;
        let started = starting.wait().await?;
        crate::process::life::keep_with_caller(started, crate::Shutdown::Infinity);
        Ok(DynamicSupervisor { mailbox })
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
    /// shutdown infinity, id its name if it has one (as Elixir takes it from the name),
    /// "DynamicSupervisor" otherwise.
    pub fn child_spec(options: DynamicSupervisorOptions) -> ChildSpec {
        let id = options.name.as_ref().map_or_else(
            || ChildId::from("DynamicSupervisor"),
            |name| name.to_string().into(),
        );
        ChildSpec::from_start(id, ChildType::Supervisor, move |ctx| {
            let name = ctx.name.or_else(|| options.name.clone());
            let options = options.clone();
            state::spawn(Box::new(move || options), name, ctx.parent).map(|(_, starting)| starting)
        })
    }

    /// The dynamic supervisor registered under `name`, if one is.
    pub fn whereis(name: &Name) -> Option<DynamicSupervisor> {
        let entry = name.lookup()?;
        let mailbox = entry.handle.downcast().ok()?;
        Some(DynamicSupervisor { mailbox })
    }

    /// The dynamic supervisor with this pid: fails with [`CallError::NoProc`] if no
    /// process has it, and with [`CallError::WrongType`] if it is another kind of process.
    pub fn from_pid(pid: Pid) -> Result<DynamicSupervisor, CallError> {
        let process = control::lookup(pid).ok_or(CallError::NoProc)?;
        let found = process.type_name();
        let mailbox = process
            .into_any()
            .downcast()
            .map_err(|_| CallError::WrongType {
                name: pid.to_string(),
                expected: "DynamicSupervisor",
                found,
            })?;
        Ok(DynamicSupervisor { mailbox })
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
        Monitor::of(&(self.mailbox.clone() as ProcessRef))
    }

    /// Starts a child and returns its pid once its `init` returned. Turn the pid into a
    /// handle with [`Server::from_pid`](crate::Server::from_pid), or use
    /// [`start_server`](DynamicSupervisor::start_server).
    ///
    /// Fails with [`StartError::Ignore`] when `init` returned `Ignore` (nothing is kept),
    /// [`StartError::AlreadyStarted`] when the child's name is taken,
    /// [`StartError::MaxChildren`] when the supervisor is full, and [`StartError::Init`]
    /// when `init` stopped or panicked.
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Pid, StartError> {
        // Not through `start_child_with_info`: one layer less on every start.
        let (pid, _) = core::request(&self.mailbox, |to| DynReq::StartChild(spec, to)).await??;
        Ok(pid)
    }

    /// Like [`start_child`](DynamicSupervisor::start_child), with the info a custom start
    /// function gave ([`StartOk::with_info`](crate::StartOk::with_info)): `{:ok, pid, info}`.
    pub async fn start_child_with_info(
        &self,
        spec: ChildSpec,
    ) -> Result<(Pid, Option<StartInfo>), StartError> {
        core::request(&self.mailbox, |to| DynReq::StartChild(spec, to)).await?
    }

    /// Starts a child that is a server of type `S` and returns its handle. The spec must
    /// start an `S` (as [`ChildSpec::worker::<S>`](crate::ChildSpec::worker) does): a spec
    /// of another type fails with [`StartError::WrongType`] before anything starts.
    pub async fn start_server<S: crate::GenServer>(
        &self,
        spec: ChildSpec,
    ) -> Result<crate::Server<S>, StartError> {
        spec.check_server::<S>()?;
        let pid = self.start_child(spec).await?;
        crate::Server::from_pid(pid).map_err(StartError::Supervisor)
    }

    /// Stops the child with this pid as its spec says; it is not restarted. A child whose
    /// restart failed and waits for a retry is known by its last pid, and is forgotten.
    pub async fn terminate_child(&self, pid: Pid) -> Result<(), ChildError> {
        core::request(&self.mailbox, |to| DynReq::TerminateChild(pid, to)).await?
    }

    /// The children, in no particular order; every id is `None`.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        core::request(&self.mailbox, DynReq::WhichChildren).await
    }

    /// Counts the children, without visiting them.
    pub async fn count_children(&self) -> Result<ChildCount, CallError> {
        core::request(&self.mailbox, DynReq::CountChildren).await
    }

    /// Stops all children together, then the supervisor; returns once everything has ended.
    pub async fn stop(&self, reason: ExitReason) -> Result<(), CallError> {
        core::stop(&self.mailbox, reason).await
    }

    /// Refuses new children from now on, as an [`Application`](crate::Application) that
    /// stops asks of every dynamic supervisor of its tree.
    pub(crate) async fn drain(&self) -> Result<(), CallError> {
        core::request(&self.mailbox, DynReq::Drain).await
    }

    /// What [`introspect`](crate::introspect) asks a supervisor.
    pub(crate) async fn describe(&self, query: Query) -> Result<Children, CallError> {
        core::request(&self.mailbox, |to| DynReq::Describe(query, to)).await
    }
}

/// Whether a process's control block is a dynamic supervisor's.
pub(crate) fn is_dynamic(process: &(dyn Any + Send + Sync)) -> bool {
    process.is::<Mb>()
}

impl PartialEq for DynamicSupervisor {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl Eq for DynamicSupervisor {}

impl fmt::Debug for DynamicSupervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DynamicSupervisor({})", self.pid())
    }
}
