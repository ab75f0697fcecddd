//! The traits that `#[gen_server]` and `supervisor!` implement: Elixir's `use GenServer`,
//! `use Supervisor` and `use DynamicSupervisor`, which give a module its `child_spec/1`,
//! its `start_link` and, for a supervisor started with `name: __MODULE__`, functions that
//! reach it by its name.
//!
//! The functions live in traits rather than in generated inherent methods so that your own
//! functions of the same name win: a dynamic supervisor type can define its own
//! `start_child()` (as Elixir modules often do) and call the generated one inside it as
//! `<Self as DynamicSupervisorModule>::start_child(spec)`.

use std::future::Future;

use crate::child_spec::{Child, ChildSpec};
use crate::dynamic_supervisor::{DynamicSupervisor, DynamicSupervisorOptions};
use crate::error::{CallError, ChildError, StartError};
use crate::exit::ExitReason;
use crate::gen_server::{self, GenServer, Server, StartOptions};
use crate::pid::Pid;
use crate::registry::Name;
use crate::supervisor::{ChildCount, ChildInfo, Supervisor, SupervisorOptions};

/// A GenServer with a generated child spec: what `#[gen_server]` on a struct implements.
pub trait GenServerModule: GenServer + Child<Arg = <Self as GenServer>::Args> {
    /// The name [`start_link`](GenServerModule::start_link) registers the server under
    /// (`#[gen_server(name = "...")]`), if any.
    fn name() -> Option<Name> {
        None
    }

    /// Starts the server outside a supervisor, under its name if it has one.
    fn start_link(
        args: Self::Args,
    ) -> impl Future<Output = Result<Server<Self>, StartError>> + Send {
        let options = match Self::name() {
            Some(name) => StartOptions::new().name(name),
            None => StartOptions::new(),
        };
        gen_server::start_link_with::<Self>(args, options)
    }

    /// The running server registered under its name.
    fn whereis() -> Option<Server<Self>> {
        Server::whereis(&Self::name()?)
    }
}

/// A static supervisor registered under its own name: what `supervisor!` implements for
/// a supervisor with `children`.
pub trait SupervisorModule: Child<Arg = ()> + Sized {
    /// The name the supervisor registers under (the seed's `name: __MODULE__`).
    fn name() -> Name;

    /// The children and the options: `init/1` returning `Supervisor.init(children, opts)`.
    fn init() -> (Vec<ChildSpec>, SupervisorOptions);

    /// Starts the supervisor and its children, registered under [`name`](SupervisorModule::name).
    fn start_link() -> impl Future<Output = Result<Supervisor, StartError>> + Send {
        let (children, options) = Self::init();
        Supervisor::start_link(children, options.name(Self::name()))
    }

    /// The running supervisor.
    fn whereis() -> Option<Supervisor> {
        Supervisor::whereis(&Self::name())
    }

    /// `Supervisor.which_children(__MODULE__)`.
    fn which_children() -> impl Future<Output = Result<Vec<ChildInfo>, CallError>> + Send {
        async { find::<Self>()?.which_children().await }
    }

    /// `Supervisor.count_children(__MODULE__)`.
    fn count_children() -> impl Future<Output = Result<ChildCount, CallError>> + Send {
        async { find::<Self>()?.count_children().await }
    }

    /// `Supervisor.terminate_child(__MODULE__, id)`.
    fn terminate_child(id: &str) -> impl Future<Output = Result<(), ChildError>> + Send {
        async move { find::<Self>()?.terminate_child(id).await }
    }

    /// `Supervisor.restart_child(__MODULE__, id)`.
    fn restart_child(id: &str) -> impl Future<Output = Result<Option<Pid>, ChildError>> + Send {
        async move { find::<Self>()?.restart_child(id).await }
    }

    /// `Supervisor.delete_child(__MODULE__, id)`.
    fn delete_child(id: &str) -> impl Future<Output = Result<(), ChildError>> + Send {
        async move { find::<Self>()?.delete_child(id).await }
    }

    /// `Supervisor.start_child(__MODULE__, spec)`.
    fn start_child(
        spec: ChildSpec,
    ) -> impl Future<Output = Result<Option<Pid>, StartError>> + Send {
        async move { find::<Self>()?.start_child(spec).await }
    }

    /// `Supervisor.stop(__MODULE__, reason)`.
    fn stop(reason: ExitReason) -> impl Future<Output = Result<(), CallError>> + Send {
        async move { find::<Self>()?.stop(reason).await }
    }
}

fn find<S: SupervisorModule>() -> Result<Supervisor, CallError> {
    S::whereis().ok_or(CallError::NoProc)
}

/// A dynamic supervisor registered under its own name: what `supervisor!` implements for
/// a `dynamic` supervisor.
pub trait DynamicSupervisorModule: Child<Arg = ()> + Sized {
    /// The name the supervisor registers under (the seed's `name: __MODULE__`).
    fn name() -> Name;

    /// The options: `init/1` returning `DynamicSupervisor.init(opts)`.
    fn init() -> DynamicSupervisorOptions;

    /// Starts the supervisor, registered under [`name`](DynamicSupervisorModule::name).
    fn start_link() -> impl Future<Output = Result<DynamicSupervisor, StartError>> + Send {
        DynamicSupervisor::start_link(Self::init().name(Self::name()))
    }

    /// The running supervisor.
    fn whereis() -> Option<DynamicSupervisor> {
        DynamicSupervisor::whereis(&Self::name())
    }

    /// `DynamicSupervisor.start_child(__MODULE__, spec)`.
    fn start_child(spec: ChildSpec) -> impl Future<Output = Result<Pid, StartError>> + Send {
        async move { find_dynamic::<Self>()?.start_child(spec).await }
    }

    /// `DynamicSupervisor.terminate_child(__MODULE__, pid)`.
    fn terminate_child(pid: Pid) -> impl Future<Output = Result<(), ChildError>> + Send {
        async move { find_dynamic::<Self>()?.terminate_child(pid).await }
    }

    /// `DynamicSupervisor.which_children(__MODULE__)`.
    fn which_children() -> impl Future<Output = Result<Vec<ChildInfo>, CallError>> + Send {
        async { find_dynamic::<Self>()?.which_children().await }
    }

    /// `DynamicSupervisor.count_children(__MODULE__)`.
    fn count_children() -> impl Future<Output = Result<ChildCount, CallError>> + Send {
        async { find_dynamic::<Self>()?.count_children().await }
    }

    /// `DynamicSupervisor.stop(__MODULE__, reason)`.
    fn stop(reason: ExitReason) -> impl Future<Output = Result<(), CallError>> + Send {
        async move { find_dynamic::<Self>()?.stop(reason).await }
    }
}

fn find_dynamic<S: DynamicSupervisorModule>() -> Result<DynamicSupervisor, CallError> {
    S::whereis().ok_or(CallError::NoProc)
}

/// The child spec of a [`SupervisorModule`]: for its generated [`Child::child_spec`].
pub fn supervisor_module_spec<S: SupervisorModule>() -> ChildSpec {
    let (children, options) = S::init();
    Supervisor::child_spec(children, options)
        .name(S::name())
        .id(S::name().to_string())
}

/// The child spec of a [`DynamicSupervisorModule`]: for its generated [`Child::child_spec`].
pub fn dynamic_supervisor_module_spec<S: DynamicSupervisorModule>() -> ChildSpec {
    DynamicSupervisor::child_spec(S::init())
        .name(S::name())
        .id(S::name().to_string())
}

/// Arguments a supervisor can restart a child with: the same value, cloned.
#[diagnostic::on_unimplemented(
    message = "a supervised GenServer's `Args` must be `Clone + Send + Sync + 'static`, and `{Self}` is not",
    label = "the supervisor restarts the child with a clone of these arguments",
    note = "wrap the arguments in an `Arc` to share them instead of cloning"
)]
pub trait RestartableArgs: Clone + Send + Sync + 'static {}

impl<T: Clone + Send + Sync + 'static> RestartableArgs for T {}

/// The argument of a child listed by its name alone: only `()` is one.
#[diagnostic::on_unimplemented(
    message = "this child needs an argument of type `{Self}` to start",
    label = "write `(Child, argument)` in the children list",
    note = "only children whose argument type is `()` can be listed by their name alone"
)]
pub trait NoArgument {
    /// The unit argument.
    fn none() -> Self;
}

impl NoArgument for () {
    fn none() {}
}
