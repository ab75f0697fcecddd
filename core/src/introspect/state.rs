//! `:sys.get_state`: a server's state as text, for the servers that show it.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use crate::exit::ExitReason;
use crate::gen_server::GenServer;
use crate::pid::Pid;
use crate::process::control::{self, SystemMsg};
use crate::reply;

/// How long [`get_state`] waits for the answer: `:sys.get_state/1`'s default 5000 ms.
pub const DEFAULT_STATE_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether and how a server shows its state to [`get_state`] and the observer: the
/// [`GenServer::STATE`] constant, bough's form of OTP's `format_status/1` callback.
///
/// A server's state is hidden unless its type opts in, since state often holds secrets
/// (tokens, passwords, personal data) that must not end up on a dashboard:
///
/// ```
/// use bough_core::prelude::*;
/// use bough_core::introspect::StateFormat;
///
/// #[derive(Debug)]
/// struct Counter { hits: u64 }
///
/// impl GenServer for Counter {
///     type Args = (); type Call = Never; type Reply = Never; type Cast = Never;
///     type Info = Never; type Continue = Never;
///     // Show the state as its `Debug` says.
///     const STATE: StateFormat<Self> = StateFormat::debug();
///     async fn init(_: ()) -> Init<Self> { Init::Ok(Counter { hits: 0 }) }
/// }
///
/// struct Session { user: String, token: String }
///
/// impl GenServer for Session {
///     type Args = (); type Call = Never; type Reply = Never; type Cast = Never;
///     type Info = Never; type Continue = Never;
///     // Show some of it, as OTP's `format_status/1` redacts.
///     const STATE: StateFormat<Self> = StateFormat::with(|session, f| {
///         write!(f, "Session {{ user: {:?}, token: <redacted> }}", session.user)
///     });
///     async fn init(_: ()) -> Init<Self> {
///         Init::Ok(Session { user: "joe".into(), token: "s3cret".into() })
///     }
/// }
/// ```
pub struct StateFormat<S> {
    format: Option<fn(&S, &mut fmt::Formatter<'_>) -> fmt::Result>,
}

impl<S> StateFormat<S> {
    /// The state is not shown: [`get_state`] fails with [`StateError::Hidden`] (the default).
    pub const fn hidden() -> StateFormat<S> {
        StateFormat { format: None }
    }

    /// The state is shown as its `Debug` implementation writes it (pretty-printed).
    pub const fn debug() -> StateFormat<S>
    where
        S: fmt::Debug,
    {
        StateFormat {
            format: Some(<S as fmt::Debug>::fmt),
        }
    }

    /// The state is shown as `format` writes it, which may leave out or mask parts of it.
    pub const fn with(format: fn(&S, &mut fmt::Formatter<'_>) -> fmt::Result) -> StateFormat<S> {
        StateFormat {
            format: Some(format),
        }
    }

    /// Whether the state is shown at all.
    pub const fn is_shown(&self) -> bool {
        self.format.is_some()
    }

    /// The state as text. A formatter that panics must not take the server down with it.
    pub(crate) fn render(&self, state: &S) -> Result<String, StateError> {
        let format = self.format.ok_or(StateError::Hidden)?;
        struct Shown<'a, S>(&'a S, fn(&S, &mut fmt::Formatter<'_>) -> fmt::Result);
        impl<S> fmt::Debug for Shown<'_, S> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                (self.1)(self.0, f)
            }
        }
        catch_unwind(AssertUnwindSafe(|| format!("{:#?}", Shown(state, format)))).map_err(|panic| {
            StateError::FormatPanicked(match ExitReason::from_panic(panic) {
                ExitReason::Panic(message) => message.to_string(),
                other => other.to_string(),
            })
        })
    }
}

impl<S> Clone for StateFormat<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S> Copy for StateFormat<S> {}

impl<S> fmt::Debug for StateFormat<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_shown() {
            "StateFormat(shown)"
        } else {
            "StateFormat(hidden)"
        })
    }
}

/// Why [`get_state`] has no state to give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// No process has the pid (`:noproc`).
    #[error("no process with that pid")]
    NoProc,
    /// The server does not show its state.
    #[error(
        "the server does not show its state: add `const STATE: StateFormat<Self> = \
         StateFormat::debug();` (or `StateFormat::with(..)`) to its `impl GenServer`"
    )]
    Hidden,
    /// No answer within the time-out: the server is busy in a long callback, or has a long
    /// queue (`:timeout`).
    #[error("the server did not answer within the time-out")]
    Timeout,
    /// The process exited before it answered.
    #[error("the process exited before it answered")]
    Exited,
    /// The state's formatter panicked; the server runs on.
    #[error("formatting the state panicked: {0}")]
    FormatPanicked(String),
}

/// The state of the server `pid` as text: Erlang's `:sys.get_state/1`, waiting up to
/// [`DEFAULT_STATE_TIMEOUT`].
///
/// The server answers between two messages, after the ones already queued, without
/// running any callback: a server in the middle of a long callback answers when it is
/// done, and its idle time-out ([`NoReply::Timeout`](crate::NoReply::Timeout)) still fires
/// when it was due. A server shows its state only if its type opts in with
/// [`GenServer::STATE`] ([`StateError::Hidden`] otherwise). A supervisor answers with
/// its [`SupervisorInfo`](super::SupervisorInfo), as text.
///
/// ```
/// use bough_core::prelude::*;
/// use bough_core::introspect::{self, StateFormat};
///
/// #[derive(Debug)]
/// struct Counter { hits: u64 }
///
/// impl GenServer for Counter {
///     type Args = u64; type Call = Never; type Reply = Never; type Cast = ();
///     type Info = Never; type Continue = Never;
///     const STATE: StateFormat<Self> = StateFormat::debug();
///     async fn init(hits: u64) -> Init<Self> { Init::Ok(Counter { hits }) }
///     async fn handle_cast(&mut self, _: ()) -> NoReply<Self> {
///         self.hits += 1;
///         NoReply::NoReply
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let counter = gen_server::start_link::<Counter>(41).await.unwrap();
/// counter.cast(());
/// let state = introspect::get_state(counter.pid()).await.unwrap();
/// assert_eq!(state, "Counter {\n    hits: 42,\n}");
/// # }
/// ```
pub async fn get_state(pid: Pid) -> Result<String, StateError> {
    get_state_timeout(pid, DEFAULT_STATE_TIMEOUT).await
}

/// [`get_state`] with a time-out of your own: `:sys.get_state(pid, timeout)`.
pub async fn get_state_timeout(pid: Pid, timeout: Duration) -> Result<String, StateError> {
    let process = control::lookup(pid).ok_or(StateError::NoProc)?;
    if super::info::kind_of(&process).is_supervisor() {
        return match super::tree::supervisor_info(pid).await {
            Ok(info) => Ok(format!("{info:#?}")),
            Err(_) => Err(StateError::Exited),
        };
    }
    let (to, mut answer) = reply::slot();
    process.deliver(SystemMsg::GetState(to));
    drop(process);
    match tokio::time::timeout(timeout, answer.recv()).await {
        Err(_) => Err(StateError::Timeout),
        Ok(Ok(state)) => state,
        // Dropped unanswered: the process exited with the request queued.
        Ok(Err(_)) => Err(StateError::Exited),
    }
}

/// What a server's loop answers to a `GetState` system message.
pub(crate) fn answer<S: GenServer>(state: &S, to: reply::ReplyTo<Result<String, StateError>>) {
    to.reply(S::STATE.render(state));
}
