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
//! - When its supervisor shuts it down, a server runs `terminate` (OTP runs it only for
//!   servers that trap exits). bough behaves as if every server trapped exits, because
//!   cleaning up is what Rust programs expect from a graceful stop. The callback that is
//!   running is never cancelled mid-way; if the server does not finish within its shutdown
//!   time, its task is aborted and its state dropped without `terminate`.
//! - A shutdown request from the supervisor is handled before messages already queued (a
//!   trapping OTP server would handle the queue first).
//! - `start_link` outside a supervisor does not link the new process to the caller.
//! - A call whose every [`ReplyTo`] was dropped without a reply fails at once with
//!   [`CallError::NoReply`] instead of waiting for its time-out.
//! - A call's time-out counts from the call, but its timer is armed only once the answer may
//!   be slow: the server was busy (a callback was waiting on something) when the call came,
//!   became busy while the call waited, or deferred its reply. A prompt call costs no timer,
//!   which keeps calls near the cost of a bare channel round trip. A callback that never
//!   yields (a loop with no `.await`) cannot be interrupted, so it delays its callers'
//!   time-outs too; OTP would preempt it.
//! - Init time-outs and `{:noreply, state, timeout}` are not provided; use `tokio::time`.

use std::any::type_name;
use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use crate::child_spec::StartCtx;
use crate::error::{CallError, StartError};
use crate::exit::ExitReason;
use crate::mailbox::{Event, Letter, Mailbox};
use crate::pid::Pid;
use crate::process::{self, Birth, CatchUnwind, Exit, Link, Starting};
use crate::registry::{Name, Registration};
use crate::reply::{self, Answer, ReplyRx, ReplyTo, Watch};

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

    /// Runs before the server exits: after a callback returned a stop, after a panic in a
    /// callback, and on a graceful shutdown by its supervisor or [`Server::stop`]. It does
    /// not run when the server is killed (`Shutdown::BrutalKill` or a shutdown time-out).
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
    /// `{:stop, reason, state}`.
    Stop(ExitReason),
}

pub(crate) enum Envelope<S: GenServer> {
    Call(S::Call, ReplyTo<S::Reply>),
    Cast(S::Cast),
    Info(S::Info),
    Stop(ExitReason, ReplyTo<()>),
}

impl<S: GenServer> Letter for Envelope<S> {
    fn abandon(&self) {
        if let Envelope::Call(_, to) = self {
            to.abandon();
        }
    }
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

/// A running server of type `S`: what Elixir code holds as a pid, with the message types
/// attached. Cheap to clone; clones reach the same process.
pub struct Server<S: GenServer> {
    pid: Pid,
    mailbox: Arc<Mailbox<Envelope<S>>>,
}

impl<S: GenServer> Server<S> {
    /// The server's pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Whether the server is still running. A `true` can be stale by the time it is read.
    pub fn is_alive(&self) -> bool {
        !self.mailbox.is_closed()
    }

    /// The server registered under `name`, if one of type `S` is.
    pub fn whereis(name: &Name) -> Option<Server<S>> {
        lookup(name).ok()
    }

    /// Calls the server and waits up to [`DEFAULT_CALL_TIMEOUT`] for the reply.
    pub fn call(&self, request: S::Call) -> Call<'_, S> {
        self.call_timeout(request, DEFAULT_CALL_TIMEOUT)
    }

    /// Calls the server and waits up to `timeout` for the reply.
    pub fn call_timeout(&self, request: S::Call, timeout: impl Into<Timeout>) -> Call<'_, S> {
        Call {
            server: self,
            request: Some(request),
            limit: match timeout.into() {
                Timeout::After(limit) => Some(limit),
                Timeout::Infinity => None,
            },
            rx: None,
            busy: false,
            since: None,
            timer: None,
        }
    }

    fn why_unanswered(&self) -> CallError {
        match self.mailbox.exit_reason() {
            Some(reason) => CallError::Exited(reason),
            None => CallError::NoReply,
        }
    }

    /// Sends a cast. Never fails: a cast to a server that exited is dropped, as in Elixir.
    pub fn cast(&self, message: S::Cast) {
        let _ = self.mailbox.push(Envelope::Cast(message));
    }

    /// Sends a plain message for [`GenServer::handle_info`]: Elixir's `send(pid, msg)`.
    /// Never fails.
    pub fn send(&self, message: S::Info) {
        let _ = self.mailbox.push(Envelope::Info(message));
    }

    /// Stops the server with `reason` and waits until it has exited: `terminate` has run,
    /// its state is dropped and its name is free.
    ///
    /// Fails with [`CallError::NoProc`] if it was not running, and with
    /// [`CallError::Exited`] if it exited for another reason first.
    pub async fn stop(&self, reason: ExitReason) -> Result<(), CallError> {
        self.stop_timeout(reason, Timeout::Infinity).await
    }

    /// Like [`stop`](Server::stop), but gives up waiting after `timeout`; the server still
    /// stops.
    pub async fn stop_timeout(
        &self,
        reason: ExitReason,
        timeout: impl Into<Timeout>,
    ) -> Result<(), CallError> {
        let (to, mut rx) = reply::slot();
        if self.mailbox.push(Envelope::Stop(reason, to)).is_err() {
            return Err(CallError::NoProc);
        }
        let answer = match timeout.into() {
            Timeout::Infinity => rx.recv().await,
            Timeout::After(limit) => tokio::time::timeout(limit, rx.recv())
                .await
                .map_err(|_| CallError::Timeout)?,
        };
        answer.map_err(|_| self.why_unanswered())
    }
}

/// A call on its way: the future [`Server::call`] returns. Nothing is sent until it is
/// first polled.
#[must_use = "a call does nothing unless awaited"]
pub struct Call<'a, S: GenServer> {
    server: &'a Server<S>,
    request: Option<S::Call>,
    limit: Option<Duration>,
    rx: Option<ReplyRx<S::Reply>>,
    busy: bool,
    since: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
}

impl<S: GenServer> Unpin for Call<'_, S> {}

impl<S: GenServer> Future for Call<'_, S> {
    type Output = Result<S::Reply, CallError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(request) = this.request.take() {
            let (to, rx) = reply::call_slot();
            let pushed = match this.server.mailbox.push(Envelope::Call(request, to)) {
                Ok(pushed) => pushed,
                Err(_) => return Poll::Ready(Err(CallError::NoProc)),
            };
            this.rx = Some(rx);
            this.busy = pushed.busy;
            // The time-out counts from now. A call that is next in line at an idle server
            // is handled as soon as the server runs, so its clock may be read when (if
            // ever) the server says the answer will take a while: one clock read less per
            // prompt call.
            if pushed.busy || !pushed.first {
                this.since = Some(Instant::now());
            }
        }
        let Some(rx) = this.rx.as_mut() else {
            return Poll::Ready(Err(CallError::NoProc));
        };
        match rx.poll_answer(cx) {
            Answer::Value(value) => Poll::Ready(Ok(value)),
            Answer::Unanswered => Poll::Ready(Err(this.server.why_unanswered())),
            Answer::Pending { nudged } => {
                let Some(limit) = this.limit else {
                    return Poll::Pending;
                };
                // The timer is armed only when the answer may be slow to come: the server
                // was busy, or has told us so since. A prompt answer costs no timer.
                if this.timer.is_none() && (this.busy || nudged) {
                    let since = *this.since.get_or_insert_with(Instant::now);
                    this.timer = Some(Box::pin(tokio::time::sleep_until(since + limit)));
                }
                match this.timer.as_mut().map(|timer| timer.as_mut().poll(cx)) {
                    Some(Poll::Ready(())) => Poll::Ready(Err(CallError::Timeout)),
                    _ => Poll::Pending,
                }
            }
        }
    }
}

impl<S: GenServer> fmt::Debug for Call<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("server", self.server)
            .field("sent", &self.request.is_none())
            .finish_non_exhaustive()
    }
}

impl<S: GenServer> Clone for Server<S> {
    fn clone(&self) -> Self {
        Server {
            pid: self.pid,
            mailbox: self.mailbox.clone(),
        }
    }
}

impl<S: GenServer> PartialEq for Server<S> {
    fn eq(&self, other: &Self) -> bool {
        self.pid == other.pid
    }
}

impl<S: GenServer> Eq for Server<S> {}

impl<S: GenServer> Hash for Server<S> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.pid.hash(state);
    }
}

impl<S: GenServer> fmt::Debug for Server<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Server<{}>({})", type_name::<S>(), self.pid)
    }
}

fn lookup<S: GenServer>(name: &Name) -> Result<Server<S>, CallError> {
    let entry = name.lookup().ok_or(CallError::NoProc)?;
    let found = entry.type_name;
    let mailbox = entry
        .handle
        .downcast::<Mailbox<Envelope<S>>>()
        .map_err(|_| CallError::WrongType {
            name: name.to_string(),
            expected: type_name::<S>(),
            found,
        })?;
    Ok(Server {
        pid: entry.pid,
        mailbox,
    })
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
            Dest::Name(name) => lookup(name).map(Cow::Owned),
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
    let (server, starting) = spawn::<S>(args, options.name, None)?;
    starting.wait().await?;
    Ok(server)
}

pub(crate) fn spawn_supervised<S: GenServer>(
    args: S::Args,
    ctx: StartCtx,
) -> Result<Starting, StartError> {
    spawn::<S>(args, ctx.name, Some(ctx.parent)).map(|(_, starting)| starting)
}

/// Takes the name and spawns the process, whose task then runs `init`.
fn spawn<S: GenServer>(
    args: S::Args,
    name: Option<Name>,
    parent: Option<Arc<dyn Link>>,
) -> Result<(Server<S>, Starting), StartError> {
    let pid = Pid::next();
    let mailbox = Arc::new(Mailbox::<Envelope<S>>::new());
    let registration = match name {
        Some(name) => Some(
            Registration::take(name, pid, mailbox.clone(), type_name::<S>())
                .map_err(StartError::AlreadyStarted)?,
        ),
        None => None,
    };
    let birth = Birth::new(pid, registration);
    let starting = process::start(birth, mailbox.clone(), parent, {
        let mailbox = mailbox.clone();
        move |ack| live(args, mailbox, ack)
    });
    Ok((Server { pid, mailbox }, starting))
}

/// A new process: `init`, its answer to the starter, then the server loop.
async fn live<S: GenServer>(
    args: S::Args,
    mailbox: Arc<Mailbox<Envelope<S>>>,
    ack: ReplyTo<Result<(), StartError>>,
) -> Exit {
    let (state, next) = match CatchUnwind::new(S::init(args)).await {
        Ok(Init::Ok(state)) => (state, None),
        Ok(Init::Continue(state, next)) => (state, Some(next)),
        Ok(Init::Ignore) => {
            mailbox.close(ExitReason::Normal);
            return Exit::not_started(ack, StartError::Ignore);
        }
        Ok(Init::Stop(reason)) | Err(reason) => {
            mailbox.close(reason.clone());
            return Exit::not_started(ack, StartError::Init(reason));
        }
    };
    ack.reply(Ok(()));
    run(state, mailbox, next).await
}

enum Step<C> {
    Wait,
    Continue(C),
    Stop(ExitReason),
}

fn step<S: GenServer>(result: Result<NoReply<S>, ExitReason>) -> Step<S::Continue> {
    match result {
        Ok(NoReply::NoReply) => Step::Wait,
        Ok(NoReply::Continue(next)) => Step::Continue(next),
        Ok(NoReply::Stop(reason)) | Err(reason) => Step::Stop(reason),
    }
}

pin_project! {
    /// Runs one callback, catching panics. If the callback has to wait, the server is busy:
    /// every caller whose call waits behind it (and the caller of this call) is nudged to
    /// arm its time-out, and callers that come meanwhile arm theirs at once.
    struct Callback<'a, S: GenServer, F> {
        #[pin]
        inner: CatchUnwind<F>,
        mailbox: &'a Mailbox<Envelope<S>>,
        current: Option<&'a Watch<S::Reply>>,
        busy: bool,
    }
}

fn callback<'a, S: GenServer, F>(
    mailbox: &'a Mailbox<Envelope<S>>,
    current: Option<&'a Watch<S::Reply>>,
    inner: F,
) -> Callback<'a, S, F> {
    Callback {
        inner: CatchUnwind::new(inner),
        mailbox,
        current,
        busy: false,
    }
}

impl<S: GenServer, F: Future> Future for Callback<'_, S, F> {
    type Output = Result<F::Output, ExitReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.inner.poll(cx) {
            Poll::Ready(output) => {
                if *this.busy {
                    this.mailbox.set_idle();
                }
                Poll::Ready(output)
            }
            Poll::Pending => {
                if !*this.busy {
                    *this.busy = true;
                    this.mailbox.set_busy(|queued| {
                        if let Envelope::Call(_, to) = queued {
                            to.nudge();
                        }
                    });
                    if let Some(current) = this.current {
                        current.nudge();
                    }
                }
                Poll::Pending
            }
        }
    }
}

/// The call that stopped the server, and its answer if it gave one.
type Stopping<S> = (
    Watch<<S as GenServer>::Reply>,
    Option<<S as GenServer>::Reply>,
);

/// The server loop: one message at a time, continues first, then `terminate`.
async fn run<S: GenServer>(
    mut state: S,
    mailbox: Arc<Mailbox<Envelope<S>>>,
    mut next: Option<S::Continue>,
) -> Exit {
    // The call that stopped the server, answered (or failed) once the mailbox is closed,
    // so that its caller sees the exit reason.
    let mut stopping: Option<Stopping<S>> = None;
    let mut waiter = None;
    mailbox.set_idle();
    let reason = loop {
        let step = if let Some(continuation) = next.take() {
            step(callback(&mailbox, None, state.handle_continue(continuation)).await)
        } else {
            match mailbox.recv().await {
                Event::Signal(reason) => break reason,
                Event::Message(Envelope::Call(request, from)) => {
                    let watch = from.watch();
                    let result =
                        callback(&mailbox, Some(&watch), state.handle_call(request, from)).await;
                    match result {
                        Ok(Reply::Reply(answer)) => {
                            watch.finish(Some(answer));
                            Step::Wait
                        }
                        Ok(Reply::ReplyContinue(answer, next)) => {
                            watch.finish(Some(answer));
                            Step::Continue(next)
                        }
                        Ok(Reply::NoReply) => {
                            watch.finish(None);
                            Step::Wait
                        }
                        Ok(Reply::NoReplyContinue(next)) => {
                            watch.finish(None);
                            Step::Continue(next)
                        }
                        Ok(Reply::StopReply(reason, answer)) => {
                            stopping = Some((watch, Some(answer)));
                            Step::Stop(reason)
                        }
                        Ok(Reply::Stop(reason)) | Err(reason) => {
                            stopping = Some((watch, None));
                            Step::Stop(reason)
                        }
                    }
                }
                Event::Message(Envelope::Cast(message)) => {
                    step(callback(&mailbox, None, state.handle_cast(message)).await)
                }
                Event::Message(Envelope::Info(message)) => {
                    step(callback(&mailbox, None, state.handle_info(message)).await)
                }
                Event::Message(Envelope::Stop(reason, to)) => {
                    waiter = Some(to);
                    Step::Stop(reason)
                }
            }
        };
        match step {
            Step::Wait => {}
            Step::Continue(continuation) => next = Some(continuation),
            Step::Stop(reason) => break reason,
        }
    };
    // A panic in terminate replaces the reason, as an exception in OTP's terminate does.
    let reason = match callback(&mailbox, None, state.terminate(&reason)).await {
        Ok(()) => reason,
        Err(panic) => panic,
    };
    if !reason.is_clean() {
        tracing::error!(
            server = type_name::<S>(),
            pid = %process::self_pid(),
            %reason,
            "GenServer terminating"
        );
    }
    // `{:stop, reason, reply, state}` answers after terminate, before the exit.
    let stopping = match stopping {
        Some((watch, Some(answer))) => {
            watch.finish(Some(answer));
            None
        }
        other => other,
    };
    mailbox.close(reason.clone());
    drop(state);
    if let Some((watch, _)) = stopping {
        watch.finish(None);
    }
    Exit::new(reason, waiter)
}
