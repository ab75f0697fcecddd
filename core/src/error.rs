//! The errors of calls, starts and child management.

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
    /// `init` returned [`Init::Stop`](crate::Init::Stop) or panicked (`{:error, reason}`).
    #[error("init failed: {0}")]
    Init(ExitReason),
    /// A supervisor could not start one of its children, so it did not start
    /// (`{:error, {:shutdown, {:failed_to_start_child, id, reason}}}`).
    #[error("child `{id}` failed to start: {reason}")]
    FailedToStartChild {
        /// The id of the child that failed.
        id: ChildId,
        /// Why it failed.
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
    /// The supervisor asked to start the child could not be reached.
    #[error("the supervisor could not be reached: {0}")]
    Supervisor(CallError),
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
    /// Restarting the child failed (`{:error, reason}`).
    #[error("the child failed to start: {0}")]
    Start(StartError),
    /// The supervisor could not be reached.
    #[error("the supervisor could not be reached: {0}")]
    Supervisor(CallError),
}

impl From<CallError> for StartError {
    fn from(error: CallError) -> StartError {
        StartError::Supervisor(error)
    }
}

impl From<CallError> for ChildError {
    fn from(error: CallError) -> ChildError {
        ChildError::Supervisor(error)
    }
}
