//! The traits that `#[gen_server]` and `supervisor!` implement: Elixir's `use GenServer`,
//! `use Supervisor` and `use DynamicSupervisor`, which give a module its `child_spec/1`,
//! its `start_link` and, for a supervisor started with `name: __MODULE__`, functions that
//! reach it by its name.
//!
//! The functions live in traits rather than in generated inherent methods so that your own
//! functions of the same name win: a dynamic supervisor type can define its own
//! `start_child()` (as Elixir modules often do) and call the generated one inside it as
//! `<Self as DynamicSupervisorModule>::start_child(spec)`.
//!
//! A supervisor's `init` runs at every start of the supervisor, restarts included, as
//! OTP's `init/1` does: a supervisor declared with an argument, `supervisor! { pub
//! Service(config: Config) { ... } }`, builds its children from that argument each time.
//! `start_link` comes from [`StartLink`] (`Service::start_link()`) for a supervisor
//! declared without an argument, and from [`StartLinkArg`] (`Service::start_link(config)`)
//! for one declared with an argument.
//!
//! [`TypedReplyTo`] is the `from` of a request handler of the typed form of
//! `#[gen_server]`, for answers given later.

use std::fmt;
use std::future::Future;

use crate::child_spec::{Child, ChildSpec};
use crate::dynamic_supervisor::{DynamicSupervisor, DynamicSupervisorOptions};
use crate::error::{CallError, ChildError, StartError};
use crate::exit::ExitReason;
use crate::gen_server::{self, GenServer, NoReply, Reply, Server, StartOptions};
use crate::pid::Pid;
use crate::registry::Name;
use crate::reply::ReplyTo;
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
///
/// Its [`Child::Arg`] is the argument it was declared with (`()` without one); `init`
/// receives it at every start and restart.
pub trait SupervisorModule: Child + Sized {
    /// The name the supervisor registers under (the seed's `name: __MODULE__`).
    fn name() -> Name;

    /// The children and the options: `init/1` returning `Supervisor.init(children, opts)`.
    /// Runs at every start of the supervisor, restarts included.
    fn init(arg: Self::Arg) -> (Vec<ChildSpec>, SupervisorOptions);

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
///
/// Its [`Child::Arg`] is the argument it was declared with (`()` without one); `init`
/// receives it at every start and restart.
pub trait DynamicSupervisorModule: Child + Sized {
    /// The name the supervisor registers under (the seed's `name: __MODULE__`).
    fn name() -> Name;

    /// The options: `init/1` returning `DynamicSupervisor.init(opts)`. Runs at every start
    /// of the supervisor, restarts included.
    fn init(arg: Self::Arg) -> DynamicSupervisorOptions;

    /// The running supervisor.
    fn whereis() -> Option<DynamicSupervisor> {
        DynamicSupervisor::whereis(&Self::name())
    }

    /// `DynamicSupervisor.start_child(__MODULE__, spec)`.
    fn start_child(spec: ChildSpec) -> impl Future<Output = Result<Pid, StartError>> + Send {
        async move { find_dynamic::<Self>()?.start_child(spec).await }
    }

    /// `DynamicSupervisor.start_child(__MODULE__, spec)` for a spec that starts a server of
    /// type `S`, answered with its typed handle (see
    /// [`DynamicSupervisor::start_server`]).
    fn start_server<S: GenServer>(
        spec: ChildSpec,
    ) -> impl Future<Output = Result<Server<S>, StartError>> + Send {
        async move { find_dynamic::<Self>()?.start_server::<S>(spec).await }
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

/// `MyService::start_link()`: starts a supervisor declared without an argument, registered
/// under its name (Elixir's `Supervisor.start_link(__MODULE__, [], name: __MODULE__)`).
///
/// A trait of its own, rather than a function of [`SupervisorModule`], because a
/// supervisor declared with an argument starts with [`StartLinkArg::start_link`] instead.
pub trait StartLink: Sized {
    /// The handle of the running supervisor: [`Supervisor`] or [`DynamicSupervisor`].
    type Running;

    /// Runs `init`, then starts the supervisor (and a static one's children).
    fn start_link() -> impl Future<Output = Result<Self::Running, StartError>> + Send;
}

/// `MyService::start_link(arg)`: starts a supervisor declared with an argument, registered
/// under its name (Elixir's `Supervisor.start_link(__MODULE__, arg, name: __MODULE__)`).
pub trait StartLinkArg: Child {
    /// The handle of the running supervisor: [`Supervisor`] or [`DynamicSupervisor`].
    type Running;

    /// Runs `init(arg)`, then starts the supervisor (and a static one's children).
    fn start_link(arg: Self::Arg)
    -> impl Future<Output = Result<Self::Running, StartError>> + Send;
}

/// Where the answer to one request of a typed server goes when its handler answers later:
/// the `from` of Elixir's `handle_call`, typed by that request's answer.
///
/// A `#[call]` handler of the typed form of `#[gen_server]` (see the macro's docs in
/// `bough`) that takes `from: TypedReplyTo<T>` as its last argument answers through it, now
/// or later, from any task (`GenServer.reply(from, answer)`), instead of returning its
/// answer. It can keep `from` in the server's state and answer from a later message.
///
/// As with [`ReplyTo`], only the first answer counts, and a caller whose `TypedReplyTo`
/// is dropped unanswered gets [`CallError::NoReply`] at once.
pub struct TypedReplyTo<T> {
    to: Box<dyn Answer<T>>,
}

/// A [`ReplyTo`] of the server's reply type, with the variant that carries `T` in it.
trait Answer<T>: Send {
    fn reply(self: Box<Self>, answer: T);
    fn is_waiting(&self) -> bool;
}

struct Wrapped<R, T> {
    to: ReplyTo<R>,
    wrap: fn(T) -> R,
}

impl<R: Send, T> Answer<T> for Wrapped<R, T> {
    fn reply(self: Box<Self>, answer: T) {
        self.to.reply((self.wrap)(answer));
    }

    fn is_waiting(&self) -> bool {
        self.to.is_waiting()
    }
}

impl<T> TypedReplyTo<T> {
    /// Sends the answer. Does nothing if the call was already answered or its caller gave
    /// up: a late answer never reaches a later call.
    pub fn reply(self, answer: T) {
        self.to.reply(answer);
    }

    /// Whether the caller is still waiting for an answer.
    pub fn is_waiting(&self) -> bool {
        self.to.is_waiting()
    }
}

impl<T> fmt::Debug for TypedReplyTo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedReplyTo")
            .field("waiting", &self.is_waiting())
            .finish()
    }
}

/// What only generated code uses. Not public API: it changes without notice.
pub mod private {
    use super::*;

    /// The child spec of a [`SupervisorModule`], for its generated [`Child::child_spec`]:
    /// each start, restarts included, runs `init(arg)` again with a clone of `arg`.
    pub fn supervisor_module_spec<S>(arg: S::Arg) -> ChildSpec
    where
        S: SupervisorModule,
        S::Arg: SupervisorArg,
    {
        let name = S::name();
        Supervisor::child_spec_with(name.to_string().into(), move || {
            let arg = arg.clone();
            Box::new(move || S::init(arg))
        })
        .name(name)
    }

    /// The child spec of a [`DynamicSupervisorModule`], for its generated
    /// [`Child::child_spec`]: each start, restarts included, runs `init(arg)` again, in the
    /// new supervisor's process.
    pub fn dynamic_supervisor_module_spec<S>(arg: S::Arg) -> ChildSpec
    where
        S: DynamicSupervisorModule,
        S::Arg: SupervisorArg,
    {
        let name = S::name();
        DynamicSupervisor::child_spec_with(name.to_string().into(), move || {
            let arg = arg.clone();
            Box::new(move || S::init(arg))
        })
        .name(name)
    }

    /// [`StartLink::start_link`] and [`StartLinkArg::start_link`] of a static supervisor:
    /// `init(arg)` runs in the new supervisor's process.
    pub async fn start_supervisor_module<S: SupervisorModule>(
        arg: S::Arg,
    ) -> Result<Supervisor, StartError>
    where
        S::Arg: Send + 'static,
    {
        Supervisor::start_with(Box::new(move || S::init(arg)), Some(S::name())).await
    }

    /// [`StartLink::start_link`] and [`StartLinkArg::start_link`] of a dynamic supervisor.
    pub async fn start_dynamic_supervisor_module<S: DynamicSupervisorModule>(
        arg: S::Arg,
    ) -> Result<DynamicSupervisor, StartError>
    where
        S::Arg: Send + 'static,
    {
        DynamicSupervisor::start_with(Box::new(move || S::init(arg)), Some(S::name())).await
    }

    /// The `from` a deferred `#[call]` handler gets: the call's `to`, which answers with
    /// `wrap(answer)`.
    pub fn typed_reply_to<T: 'static, R: Send + 'static>(
        to: ReplyTo<R>,
        wrap: fn(T) -> R,
    ) -> TypedReplyTo<T> {
        TypedReplyTo {
            to: Box::new(Wrapped { to, wrap }),
        }
    }

    /// Checks, where the macro can point at the type, that a GenServer's start argument
    /// can be cloned for restarts.
    pub const fn assert_restartable<T: RestartableArgs>() {}

    /// Checks, where the macro can point at the type, that a supervisor's argument can be
    /// cloned for restarts.
    pub const fn assert_supervisor_arg<T: SupervisorArg>() {}

    /// Arguments a supervisor can restart a child with: the same value, cloned.
    #[diagnostic::on_unimplemented(
        message = "a supervised GenServer's start argument must be `Clone + Send + Sync + 'static`, and `{Self}` is not",
        label = "each restart starts the server again with a copy of this argument",
        note = "derive `Clone` for it, or wrap it in an `Arc` to share one value between restarts"
    )]
    pub trait RestartableArgs: Clone + Send + Sync + 'static {}

    impl<T: Clone + Send + Sync + 'static> RestartableArgs for T {}

    /// The argument of a supervisor declared with one.
    #[diagnostic::on_unimplemented(
        message = "a supervisor's argument must be `Clone + Send + Sync + 'static`, and `{Self}` is not",
        label = "each restart runs `init` again with a copy of this argument",
        note = "derive `Clone` for it, or wrap it in an `Arc` to share one value between restarts"
    )]
    pub trait SupervisorArg: Clone + Send + Sync + 'static {}

    impl<T: Clone + Send + Sync + 'static> SupervisorArg for T {}

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

    /// What a `#[cast]`, `#[info]` or answer-later `#[call]` handler returns: nothing, or
    /// [`NoReply`] to continue or stop.
    #[diagnostic::on_unimplemented(
        message = "a `#[cast]`, `#[info]` or answer-later `#[call]` handler returns `()` or `NoReply<Self>`, not `{Self}`",
        label = "return nothing, or `NoReply<Self>` to continue or stop"
    )]
    pub trait HandlerResult<S: GenServer> {
        /// As the result of `handle_cast` or `handle_info`.
        fn into_no_reply(self) -> NoReply<S>;

        /// As the result of `handle_call` when the answer goes through a `TypedReplyTo`.
        fn into_reply(self) -> Reply<S>;
    }

    impl<S: GenServer> HandlerResult<S> for () {
        fn into_no_reply(self) -> NoReply<S> {
            NoReply::NoReply
        }

        fn into_reply(self) -> Reply<S> {
            Reply::NoReply
        }
    }

    impl<S: GenServer> HandlerResult<S> for NoReply<S> {
        fn into_no_reply(self) -> NoReply<S> {
            self
        }

        fn into_reply(self) -> Reply<S> {
            match self {
                NoReply::NoReply => Reply::NoReply,
                NoReply::Continue(next) => Reply::NoReplyContinue(next),
                NoReply::Timeout(idle) => Reply::NoReplyTimeout(idle),
                NoReply::Stop(reason) => Reply::Stop(reason),
            }
        }
    }
}
