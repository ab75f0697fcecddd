//! The errors of calls, starts and child management, and [`Error`], which holds any of
//! them so that a program can `?` through all three.

use crate::child::ChildId;
use crate::exit::ExitReason;
use crate::pid::Pid;

/// Why a call got no reply: the `exit` a failed `GenServer.call` raises in Elixir.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No reply came within the time-out (`{:timeout, _}`). A reply that comes later is
    /// dropped; it never reaches a later call.
    #[error("the call timed out")]
    Timeout,
    /// No process is there: it never existed, already exited, or no process is registered
    /// under the name (`:noproc`).
    #[error("no process (noproc)")]
    NoProc,
    /// The server exited before it replied, with this reason.
    #[error("the server exited before replying: {0}")]
    Exited(ExitReason),
    /// The server dropped every handle to the call without replying, and still runs.
    /// (OTP would let the caller wait for its time-out; bough says so at once.)
    #[error("the server dropped the call without replying")]
    NoReply,
    /// A server called itself (or tried to stop itself with `stop`), which could only wait
    /// for its own answer (`:calling_self`). Return a stop from the callback instead.
    #[error("a process called itself (calling_self)")]
    CallingSelf,
    /// A function that works on the current process was called outside a bough process.
    #[error("called outside a bough process")]
    NotAProcess,
    /// A process is registered under the name (or has the pid), but it is another kind of
    /// process.
    #[error("`{name}` names a `{found}`, not a `{expected}`")]
    WrongType {
        /// The name or pid that was looked up.
        name: String,
        /// The server type the caller asked for.
        expected: &'static str,
        /// What is registered there.
        found: &'static str,
    },
}

/// Why a process or child did not start: the `{:error, reason}` and `:ignore` of
/// `start_link` and `start_child`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// `init` returned [`Init::Ignore`](crate::Init::Ignore) (`:ignore`).
    #[error("init returned ignore")]
    Ignore,
    /// The name is taken by a running process (`{:error, {:already_started, pid}}`).
    #[error("already started as {0}")]
    AlreadyStarted(Pid),
    /// A static supervisor already has a child spec with this id, not running
    /// (`{:error, :already_present}`).
    #[error("a child with this id is already present")]
    AlreadyPresent,
    /// The dynamic supervisor already runs `max_children` children (`{:error, :max_children}`).
    #[error("the supervisor already runs its max_children")]
    MaxChildren,
    /// The dynamic supervisor takes no new children: its [`Application`](crate::Application)
    /// is stopping. OTP has no such answer: there, a supervisor that is shutting down
    /// answers no calls at all, so a start waits until the shutdown ends and then fails.
    #[error("the application is stopping: no new children are started")]
    ShuttingDown,
    /// `init` returned [`Init::Stop`](crate::Init::Stop) or panicked (`{:error, reason}`).
    #[error("init failed: {0}")]
    Init(ExitReason),
    /// A supervisor could not start one of its children, so it did not start
    /// (`{:error, {:shutdown, {:failed_to_start_child, id, reason}}}`). Why the child
    /// failed is the error's [`source`](std::error::Error::source).
    #[error("child `{id}` failed to start")]
    FailedToStartChild {
        /// The id of the child that failed.
        id: ChildId,
        /// Why it failed.
        #[source]
        reason: Box<StartError>,
    },
    /// Two children of one supervisor share an id
    /// (`{:error, {:start_spec, {:duplicate_child_name, id}}}`).
    #[error("duplicate child id `{0}`")]
    DuplicateChildId(ChildId),
    /// The dynamic supervisor's `extra_arguments` are not what the child spec expects.
    #[error("the supervisor's extra arguments are not a `{expected}`")]
    BadExtraArguments {
        /// The type the child spec expected.
        expected: &'static str,
    },
    /// A supervisor option is invalid (OTP's `{:supervisor_data, ...}` errors).
    #[error("invalid supervisor option: {0}")]
    InvalidOption(&'static str),
    /// The child spec starts another type of server than the one asked for.
    #[error("the child spec starts a `{found}`, not a `{expected}`")]
    WrongType {
        /// The server type asked for.
        expected: &'static str,
        /// What the spec starts.
        found: &'static str,
    },
    /// The supervisor asked to start the child could not be reached; the
    /// [`CallError`] is the [`source`](std::error::Error::source).
    #[error("the supervisor could not be reached")]
    Supervisor(#[from] CallError),
}

/// Why a supervisor could not do what was asked with one of its children.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ChildError {
    /// No child has that id or pid (`{:error, :not_found}`).
    #[error("no such child")]
    NotFound,
    /// The child is running (`{:error, :running}`).
    #[error("the child is running")]
    Running,
    /// The child is being restarted (`{:error, :restarting}`).
    #[error("the child is being restarted")]
    Restarting,
    /// Restarting the child failed (`{:error, reason}`); the [`StartError`] is the
    /// [`source`](std::error::Error::source).
    #[error("the child failed to start")]
    Start(#[source] StartError),
    /// The supervisor could not be reached; the [`CallError`] is the
    /// [`source`](std::error::Error::source).
    #[error("the supervisor could not be reached")]
    Supervisor(#[from] CallError),
}

/// Any error bough returns: a program that starts processes, calls them and manages
/// children can `?` each of [`StartError`], [`CallError`] and [`ChildError`] into this one
/// type, and still match on the precise error inside.
///
/// It shows and chains exactly as the error it holds: its `Display` is that error's, and
/// its [`source`](std::error::Error::source) is that error's source.
///
/// ```
/// use bough_core::prelude::*;
///
/// struct Counter(u64);
///
/// impl GenServer for Counter {
///     type Args = ();
///     type Call = ();
///     type Reply = u64;
///     type Cast = Never;
///     type Info = Never;
///     type Continue = Never;
///
///     async fn init(_: ()) -> Init<Self> {
///         Init::Ok(Counter(0))
///     }
///
///     async fn handle_call(&mut self, _: (), _from: ReplyTo<u64>) -> Reply<Self> {
///         self.0 += 1;
///         Reply::Reply(self.0)
///     }
/// }
///
/// // A start, a call and a child operation, each with its own error, behind one `?`.
/// async fn run() -> Result<u64, bough_core::Error> {
///     let sup = Supervisor::start_link(
///         [ChildSpec::worker::<Counter>(()).id("counter").name("counter")],
///         SupervisorOptions::new(Strategy::OneForOne),
///     )
///     .await?;
///     let count = gen_server::call::<Counter>("counter", ()).await?;
///     sup.terminate_child("counter").await?;
///     sup.stop(ExitReason::Normal).await?;
///     Ok(count)
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(run().await, Ok(1));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A process or child did not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A call got no reply.
    #[error(transparent)]
    Call(#[from] CallError),
    /// A supervisor could not do what was asked with one of its children.
    #[error(transparent)]
    Child(#[from] ChildError),
}
