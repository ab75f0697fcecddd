//! GenServer: a process that holds state and answers calls, casts and plain messages.
//!
//! | Elixir                                        | bough                                            |
//! |-----------------------------------------------|--------------------------------------------------|
//! | `use GenServer`                               | `impl GenServer for T` (+ `#[gen_server]` on `T`)|
//! | `init(arg)` → `{:ok, state}`                  | `init(args)` → [`Init::Ok`]`(state)`             |
//! | `{:ok, state, {:continue, c}}`                | [`Init::Continue`]`(state, c)`                   |
//! | `:ignore` / `{:stop, reason}`                 | [`Init::Ignore`] / [`Init::Stop`]`(reason)`      |
//! | `handle_call(msg, from, state)`               | `handle_call(&mut self, msg, from)` → [`Reply`]  |
//! | `handle_cast(msg, state)`                     | `handle_cast(&mut self, msg)` → [`NoReply`]      |
//! | `handle_info(msg, state)`                     | `handle_info(&mut self, msg)` → [`NoReply`]      |
//! | `handle_continue(c, state)`                   | `handle_continue(&mut self, c)` → [`NoReply`]    |
//! | `terminate(reason, state)`                    | `terminate(&mut self, &reason)`                  |
//! | `GenServer.start_link(M, arg, name: n)`       | [`start_link_with`]`::<M>(arg, StartOptions::new().name(n))` |
//! | `GenServer.call(server, msg)`                 | [`Server::call`] or [`call`]`(dest, msg)` (5 s)  |
//! | `GenServer.call(server, msg, timeout)`        | [`Server::call_timeout`]                         |
//! | `GenServer.cast(server, msg)`                 | [`Server::cast`] or [`cast`]                     |
//! | `send(pid, msg)`                              | [`Server::send`] or [`send`] → `handle_info`     |
//! | `GenServer.reply(from, reply)`                | [`ReplyTo::reply`]                               |
//! | `GenServer.stop(server, reason)`              | [`Server::stop`] or [`stop`]                     |
//! | `GenServer.whereis(name)`                     | [`Server::whereis`], [`whereis`](crate::whereis) |
//! | a pid from `start_child`, `self()` in a callback | [`Server::from_pid`], [`Server::current`]     |
//! | `Process.monitor(pid)` → `{:DOWN, ...}`       | [`monitor`] → [`GenServer::handle_down`]         |
//! | `Process.demonitor(ref, [:flush])`            | [`demonitor`]                                    |
//! | `{:EXIT, pid, reason}` (trapping exits)       | [`GenServer::handle_exit`]                       |
//! | `{:noreply, state, timeout}` → `:timeout`     | [`NoReply::Timeout`] → [`GenServer::handle_timeout`] |
//! | `Process.send_after(dest, msg, ms)`           | [`send_after`] → [`TimerRef`]                    |
//! | `Process.cancel_timer(ref)`                   | [`TimerRef::cancel`]                             |
//! | `format_status/1`, `:sys.get_state(server)`   | [`GenServer::STATE`], [`introspect::get_state`](crate::introspect::get_state) |
//!
//! The state is the server value itself, so callbacks take `&mut self` and return only what
//! happens next. Messages are typed: each server names its call, reply, cast, info and
//! continue types. Use [`Never`] for the kinds it does not take (`#[gen_server]` on the
//! `impl` block fills them in for you).
//!
//! ```
//! use bough_core::prelude::*;
//!
//! struct Counter(u64);
//!
//! enum Request { Get, Add(u64) }
//!
//! impl GenServer for Counter {
//!     type Args = u64;
//!     type Call = Request;
//!     type Reply = u64;
//!     type Cast = Never;
//!     type Info = Never;
//!     type Continue = Never;
//!
//!     async fn init(start: u64) -> Init<Self> {
//!         Init::Ok(Counter(start))
//!     }
//!
//!     async fn handle_call(&mut self, request: Request, _from: ReplyTo<u64>) -> Reply<Self> {
//!         match request {
//!             Request::Get => Reply::Reply(self.0),
//!             Request::Add(n) => {
//!                 self.0 += n;
//!                 Reply::Reply(self.0)
//!             }
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let counter = gen_server::start_link::<Counter>(40).await?;
//! assert_eq!(counter.call(Request::Add(2)).await?, 42);
//! counter.stop(ExitReason::Normal).await?;
//! assert_eq!(counter.call(Request::Get).await, Err(CallError::NoProc));
//! # Ok(()) }
//! ```
//!
//! # Differences from OTP
//!
//! - A panic in any callback is a crash: `terminate` runs with [`ExitReason::Panic`], then the
//!   process exits with it. Only that process is affected.
//! - When its parent (its supervisor, or the process that started it with `start_link`)
//!   stops it, a server runs `terminate` (OTP runs it only for servers that trap exits).
//!   bough behaves as if every server trapped its parent's exit signals, because cleaning
//!   up is what Rust programs expect from a graceful stop; give a child
//!   [`Shutdown::BrutalKill`] to skip it. The callback that is
//!   running is never cancelled mid-way; if the server does not finish within its shutdown
//!   time, its task is aborted and its state dropped without `terminate`. Exit signals from
//!   other processes follow OTP exactly (see [`process`](crate::process#exit-signals)).
//! - A shutdown request from the parent is handled before messages already queued (a
//!   trapping OTP server would handle the queue first).
//! - A call whose every [`ReplyTo`] was dropped without a reply fails at once with
//!   [`CallError::NoReply`] instead of waiting for its time-out.
//! - A call's timer is armed only once the answer may be slow: two or more messages were to
//!   be handled before it (queued, or the one under way), the server was busy (a callback
//!   was waiting on something) when the call came or became busy while the call waited, or
//!   it deferred its reply. The time-out counts from the call, or, for a call with at most
//!   one message before it, from the moment the server turned busy. A prompt call costs no
//!   timer, which keeps calls near the cost of a bare channel round trip. A callback that
//!   never yields (a loop with no `.await`) cannot be interrupted, so it delays its callers'
//!   time-outs too; OTP would preempt it.
//! - A zero time-out fails unless the answer is there at once, as in OTP; since the server
//!   runs on another task, that is almost always [`CallError::Timeout`].
//! - Init time-outs (`start_link(..., timeout: t)`) are not provided; use `tokio::time`.
//! - Unlike OTP, DOWN notices, trapped exits and idle time-outs have callbacks of their own
//!   ([`GenServer::handle_down`], [`handle_exit`](GenServer::handle_exit),
//!   [`handle_timeout`](GenServer::handle_timeout)) instead of arriving in `handle_info`:
//!   a server's `Info` type is its own, and these notices are typed by bough.

mod run;
mod server;
mod timer;

pub use server::{Call, Server};
pub use timer::{TimerRef, send_after};

pub(crate) use run::spawn;

use std::any::type_name;
use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use crate::child_spec::Shutdown;
use crate::error::{CallError, StartError};
use crate::exit::ExitReason;
use crate::introspect::StateFormat;
use crate::pid::Pid;
use crate::process::life::{Parent, keep_with_caller};
use crate::process::{self, Down, MonitorRef};
use crate::registry::Name;
use crate::reply::ReplyTo;

/// The message type of a kind of message a server does not take; it has no values.
pub type Never = Infallible;

/// How long [`Server::call`] waits for a reply: Elixir's default 5000 ms.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_millis(5000);

/// The callbacks of a server: Elixir's `GenServer` behaviour.
///
/// Only [`init`](GenServer::init) is required. The other callbacks have defaults that match
/// Elixir's `use GenServer`: a call, cast or continue the server does not handle stops it
/// with an error; an unhandled info message is logged and dropped; `terminate` does nothing.
///
/// Write the callbacks as `async fn`s; the futures must be `Send`, since each server runs
/// as a task on a multi-threaded runtime.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a GenServer",
    label = "`{Self}` has no `impl GenServer`",
    note = "add `#[gen_server] impl GenServer for {Self} {{ async fn init(args: ...) -> Init<Self> {{ ... }} }}`"
)]
pub trait GenServer: Sized + Send + 'static {
    /// The argument of [`init`](GenServer::init).
    type Args: Send + 'static;
    /// The requests [`handle_call`](GenServer::handle_call) answers.
    type Call: Send + 'static;
    /// The answer to a call.
    type Reply: Send + 'static;
    /// The messages [`handle_cast`](GenServer::handle_cast) takes.
    type Cast: Send + 'static;
    /// The messages [`handle_info`](GenServer::handle_info) takes ([`Server::send`]).
    type Info: Send + 'static;
    /// What [`handle_continue`](GenServer::handle_continue) takes.
    type Continue: Send + 'static;

    /// Whether and how [`introspect::get_state`](crate::introspect::get_state) and the
    /// observer show this server's state (OTP's `format_status/1`). Hidden by default,
    /// since state often holds secrets; write
    /// `const STATE: StateFormat<Self> = StateFormat::debug();` to show its `Debug`, or
    /// [`StateFormat::with`] to show part of it.
    const STATE: StateFormat<Self> = StateFormat::hidden();

    /// Builds the server from its arguments. The start that runs it returns only after it
    /// returned; `self_pid()` already answers the new pid.
    fn init(args: Self::Args) -> impl Future<Output = Init<Self>> + Send;

    /// Answers a call. Return [`Reply::Reply`] to answer now, or keep `from` and answer later.
    fn handle_call(
        &mut self,
        request: Self::Call,
        from: ReplyTo<Self::Reply>,
    ) -> impl Future<Output = Reply<Self>> + Send {
        drop((request, from));
        async { Reply::Stop(unhandled::<Self>("handle_call")) }
    }

    /// Handles a cast.
    fn handle_cast(&mut self, message: Self::Cast) -> impl Future<Output = NoReply<Self>> + Send {
        drop(message);
        async { NoReply::Stop(unhandled::<Self>("handle_cast")) }
    }

    /// Handles a plain message sent with [`Server::send`].
    fn handle_info(&mut self, message: Self::Info) -> impl Future<Output = NoReply<Self>> + Send {
        drop(message);
        tracing::warn!(
            target: "bough::gen_server",
            server = type_name::<Self>(),
            pid = %process::self_pid(),
            "received an info message but has no handle_info; dropped it"
        );
        async { NoReply::NoReply }
    }

    /// Continues work asked for by [`Init::Continue`] or a `...Continue` result, before any
    /// message in the mailbox is handled.
    fn handle_continue(
        &mut self,
        continuation: Self::Continue,
    ) -> impl Future<Output = NoReply<Self>> + Send {
        drop(continuation);
        async { NoReply::Stop(unhandled::<Self>("handle_continue")) }
    }

    /// Handles the DOWN notice of a monitor this server made with [`monitor`]
    /// (`{:DOWN, ref, :process, pid, reason}` in `handle_info`). The default ignores it.
    fn handle_down(&mut self, down: Down) -> impl Future<Output = NoReply<Self>> + Send {
        drop(down);
        async { NoReply::NoReply }
    }

    /// Handles an exit signal from a linked process, which arrives as a message only while
    /// the server traps exits ([`process::trap_exit`]): `{:EXIT, pid, reason}` in
    /// `handle_info`. The default logs it and carries on, as OTP's default `handle_info`.
    fn handle_exit(
        &mut self,
        pid: Pid,
        reason: ExitReason,
    ) -> impl Future<Output = NoReply<Self>> + Send {
        tracing::warn!(
            target: "bough::gen_server",
            server = type_name::<Self>(),
            pid = %process::self_pid(),
            from = %pid,
            %reason,
            "received a trapped exit but has no handle_exit; ignored it"
        );
        async { NoReply::NoReply }
    }

    /// Runs when no message came within the idle time-out that the last callback asked for
    /// ([`Init::Timeout`], [`Reply::ReplyTimeout`], [`NoReply::Timeout`], ...): OTP's
    /// `:timeout` message. The default logs it and carries on.
    fn handle_timeout(&mut self) -> impl Future<Output = NoReply<Self>> + Send {
        tracing::warn!(
            target: "bough::gen_server",
            server = type_name::<Self>(),
            pid = %process::self_pid(),
            "idle time-out but no handle_timeout; ignored it"
        );
        async { NoReply::NoReply }
    }

    /// Runs before the server exits: after a callback returned a stop, after a panic in a
    /// callback, and on a graceful stop by its parent or [`Server::stop`]. It does not run
    /// when the server is killed (`Shutdown::BrutalKill`, a shutdown time-out, [`process::kill`],
    /// or an exit signal it does not trap).
    fn terminate(&mut self, reason: &ExitReason) -> impl Future<Output = ()> + Send {
        let _ = reason;
        async {}
    }
}

fn unhandled<S>(callback: &str) -> ExitReason {
    ExitReason::error(format!(
        "{} received a message but has no {callback}",
        type_name::<S>()
    ))
}

/// What [`GenServer::init`] returns.
pub enum Init<S: GenServer> {
    /// `{:ok, state}`: the server runs.
    Ok(S),
    /// `{:ok, state, {:continue, c}}`: the server runs `handle_continue(c)` before any message.
    Continue(S, S::Continue),
    /// `{:ok, state, timeout}`: the server runs, and `handle_timeout` runs if no message
    /// comes within the time-out.
    Timeout(S, Duration),
    /// `:ignore`: the server does not start; the start returns [`StartError::Ignore`].
    Ignore,
    /// `{:stop, reason}`: the server does not start; the start returns [`StartError::Init`].
    Stop(ExitReason),
}

/// What [`GenServer::handle_call`] returns.
#[allow(clippy::enum_variant_names)] // the variants are OTP's result tuples
pub enum Reply<S: GenServer> {
    /// `{:reply, reply, state}`.
    Reply(S::Reply),
    /// `{:reply, reply, state, {:continue, c}}`.
    ReplyContinue(S::Reply, S::Continue),
    /// `{:noreply, state}`: answer later through the kept [`ReplyTo`].
    NoReply,
    /// `{:noreply, state, {:continue, c}}`.
    NoReplyContinue(S::Continue),
    /// `{:reply, reply, state, timeout}`: see [`GenServer::handle_timeout`].
    ReplyTimeout(S::Reply, Duration),
    /// `{:noreply, state, timeout}`: see [`GenServer::handle_timeout`].
    NoReplyTimeout(Duration),
    /// `{:stop, reason, reply, state}`: `terminate` runs, then the caller gets `reply`.
    StopReply(ExitReason, S::Reply),
    /// `{:stop, reason, state}`: the caller gets [`CallError::Exited`] unless the server
    /// answered through its [`ReplyTo`].
    Stop(ExitReason),
}

/// What [`GenServer::handle_cast`], [`handle_info`](GenServer::handle_info) and
/// [`handle_continue`](GenServer::handle_continue) return.
#[allow(clippy::enum_variant_names)] // the variants are OTP's result tuples
pub enum NoReply<S: GenServer> {
    /// `{:noreply, state}`.
    NoReply,
    /// `{:noreply, state, {:continue, c}}`.
    Continue(S::Continue),
    /// `{:noreply, state, timeout}`: if no message comes within the time-out,
    /// [`GenServer::handle_timeout`] runs. Any message cancels it.
    Timeout(Duration),
    /// `{:stop, reason, state}`.
    Stop(ExitReason),
}

/// How long a call may wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timeout {
    /// Fail with [`CallError::Timeout`] after this long.
    After(Duration),
    /// Wait as long as it takes (`:infinity`).
    Infinity,
}

impl From<Duration> for Timeout {
    fn from(duration: Duration) -> Timeout {
        Timeout::After(duration)
    }
}

/// Where a call, cast or message goes: a server handle or a name, like the `server`
/// argument of Elixir's `GenServer` functions.
pub enum Dest<'a, S: GenServer> {
    /// A running server.
    Server(&'a Server<S>),
    /// Whatever server of type `S` is registered under the name when the message is sent.
    Name(Name),
}

impl<S: GenServer> Dest<'_, S> {
    fn resolve(&self) -> Result<Cow<'_, Server<S>>, CallError> {
        match self {
            Dest::Server(server) => Ok(Cow::Borrowed(*server)),
            Dest::Name(name) => Server::lookup(name).map(Cow::Owned),
        }
    }
}

impl<'a, S: GenServer> From<&'a Server<S>> for Dest<'a, S> {
    fn from(server: &'a Server<S>) -> Self {
        Dest::Server(server)
    }
}

impl<S: GenServer> From<Name> for Dest<'_, S> {
    fn from(name: Name) -> Self {
        Dest::Name(name)
    }
}

impl<S: GenServer> From<&Name> for Dest<'_, S> {
    fn from(name: &Name) -> Self {
        Dest::Name(name.clone())
    }
}

impl<S: GenServer> From<&'static str> for Dest<'_, S> {
    fn from(name: &'static str) -> Self {
        Dest::Name(Name::local(name))
    }
}

/// Calls a server or a name: `GenServer.call(server, request)`.
///
/// ```
/// # use bough_core::prelude::*;
/// # struct Echo;
/// # impl GenServer for Echo {
/// #     type Args = (); type Call = u8; type Reply = u8; type Cast = Never; type Info = Never;
/// #     type Continue = Never;
/// #     async fn init(_: ()) -> Init<Self> { Init::Ok(Echo) }
/// #     async fn handle_call(&mut self, n: u8, _: ReplyTo<u8>) -> Reply<Self> { Reply::Reply(n) }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// gen_server::start_link_with::<Echo>((), StartOptions::new().name("echo")).await.unwrap();
/// assert_eq!(gen_server::call::<Echo>("echo", 7).await, Ok(7));
/// assert_eq!(gen_server::call::<Echo>("nobody", 7).await, Err(CallError::NoProc));
/// # }
/// ```
pub async fn call<S: GenServer>(
    server: impl Into<Dest<'_, S>>,
    request: S::Call,
) -> Result<S::Reply, CallError> {
    server.into().resolve()?.call(request).await
}

/// Calls a server or a name with a time-out: `GenServer.call(server, request, timeout)`.
pub async fn call_timeout<S: GenServer>(
    server: impl Into<Dest<'_, S>>,
    request: S::Call,
    timeout: impl Into<Timeout>,
) -> Result<S::Reply, CallError> {
    server
        .into()
        .resolve()?
        .call_timeout(request, timeout)
        .await
}

/// Casts to a server or a name: `GenServer.cast(server, message)`. Never fails.
pub fn cast<'a, S: GenServer>(server: impl Into<Dest<'a, S>>, message: S::Cast) {
    if let Ok(server) = server.into().resolve() {
        server.cast(message);
    }
}

/// Sends a plain message to a server or a name: `send(dest, message)`. Never fails.
pub fn send<'a, S: GenServer>(server: impl Into<Dest<'a, S>>, message: S::Info) {
    if let Ok(server) = server.into().resolve() {
        server.send(message);
    }
}

/// Stops a server or a name and waits until it exited: `GenServer.stop(server, reason)`.
pub async fn stop<S: GenServer>(
    server: impl Into<Dest<'_, S>>,
    reason: ExitReason,
) -> Result<(), CallError> {
    server.into().resolve()?.stop(reason).await
}

/// Options of [`start_link_with`]: `GenServer.start_link/3`'s keyword list.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    name: Option<Name>,
}

impl StartOptions {
    /// No options.
    pub fn new() -> StartOptions {
        StartOptions::default()
    }

    /// Registers the server under `name` before `init` runs (`name:`).
    #[must_use]
    pub fn name(mut self, name: impl Into<Name>) -> StartOptions {
        self.name = Some(name.into());
        self
    }
}

/// Starts a server: runs `init` and returns once it returned (`GenServer.start_link/2`).
///
/// Called from inside a bough process, it links the new server to the caller, which becomes
/// its parent: the caller stops it (and waits for it, up to 5 s) when it exits itself, and
/// gets its exit signal if it crashes (see [`process`](crate::process#exit-signals)).
pub async fn start_link<S: GenServer>(args: S::Args) -> Result<Server<S>, StartError> {
    start_link_with::<S>(args, StartOptions::new()).await
}

/// Starts a server with options (`GenServer.start_link/3`).
///
/// With a name, the name is taken before `init` runs: a start under a name that is taken
/// fails at once with [`StartError::AlreadyStarted`] and the holder's pid.
pub async fn start_link_with<S: GenServer>(
    args: S::Args,
    options: StartOptions,
) -> Result<Server<S>, StartError> {
    let (server, starting) = spawn::<S>(args, options.name, Parent::Caller)?;
    let started = starting.wait().await?;
    keep_with_caller(started, Shutdown::default_for(crate::ChildType::Worker));
    Ok(server)
}

/// Makes the current server monitor `pid` (Elixir's `Process.monitor/1` in a GenServer):
/// when that process exits, [`GenServer::handle_down`] gets exactly one [`Down`] with this
/// reference and the exit reason ([`ExitReason::NoProc`] at once if it was not alive). By
/// then, the process's names are free. Monitors stack: monitoring a process twice gives
/// two DOWNs.
///
/// To wait for a process's exit from outside a server, use [`process::monitor`] instead.
///
/// # Panics
///
/// Panics when called outside a bough process, like [`self_pid`](crate::self_pid).
pub fn monitor(pid: Pid) -> MonitorRef {
    process::monitor::monitor_from_process(pid)
        .expect("bough::gen_server::monitor() called outside a bough process")
}

/// Cancels a monitor made with [`monitor`] (`Process.demonitor(ref, [:flush])`): no DOWN
/// for it reaches `handle_down` afterwards, even one already queued. True if the DOWN had
/// not been handled yet.
pub fn demonitor(monitor: MonitorRef) -> bool {
    process::monitor::demonitor_from_process(monitor)
}
