//! A handle to a running server, and a call on its way.

use std::any::type_name;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

use super::run::Envelope;
use super::{GenServer, Timeout};
use crate::error::CallError;
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::control::{self, Control, ProcessRef};
use crate::process::mailbox::Mailbox;
use crate::process::{Monitor, try_self_pid};
use crate::registry::Name;
use crate::reply::{self, Answer, ReplyRx};

/// A running server of type `S`: what Elixir code holds as a pid, with the message types
/// attached. Cheap to clone; clones reach the same process, and never another one: a
/// message to a server that exited is dropped, even if a new server took its name.
pub struct Server<S: GenServer> {
    mailbox: Arc<Mailbox<Envelope<S>>>,
}

impl<S: GenServer> Server<S> {
    pub(crate) fn new(mailbox: Arc<Mailbox<Envelope<S>>>) -> Server<S> {
        Server { mailbox }
    }

    /// The server's pid.
    pub fn pid(&self) -> Pid {
        self.mailbox.pid()
    }

    /// Whether the server is still running. A `true` can be stale by the time it is read; a
    /// `false` is final, and by then the server's names are free.
    pub fn is_alive(&self) -> bool {
        !self.mailbox.is_closed()
    }

    /// The server registered under `name`, if one of type `S` is.
    pub fn whereis(name: &Name) -> Option<Server<S>> {
        Server::lookup(name).ok()
    }

    pub(crate) fn lookup(name: &Name) -> Result<Server<S>, CallError> {
        let entry = name.lookup().ok_or(CallError::NoProc)?;
        let mailbox = entry
            .handle
            .downcast::<Mailbox<Envelope<S>>>()
            .map_err(|_| CallError::WrongType {
                name: name.to_string(),
                expected: type_name::<S>(),
                found: entry.type_name,
            })?;
        Ok(Server { mailbox })
    }

    /// The server with this pid, checked: fails with [`CallError::NoProc`] if no process has
    /// it, and with [`CallError::WrongType`] if the process is not a server of type `S`.
    ///
    /// This is how a pid from [`DynamicSupervisor::start_child`](crate::DynamicSupervisor::start_child),
    /// [`StartError::AlreadyStarted`](crate::StartError::AlreadyStarted) or a
    /// [`Down`](crate::process::Down) becomes a handle to call.
    pub fn from_pid(pid: Pid) -> Result<Server<S>, CallError> {
        let process = control::lookup(pid).ok_or(CallError::NoProc)?;
        Server::downcast(process, || pid.to_string())
    }

    fn downcast(
        process: ProcessRef,
        what: impl FnOnce() -> String,
    ) -> Result<Server<S>, CallError> {
        let found = process.type_name();
        let mailbox = process
            .into_any()
            .downcast::<Mailbox<Envelope<S>>>()
            .map_err(|_| CallError::WrongType {
                name: what(),
                expected: type_name::<S>(),
                found,
            })?;
        Ok(Server { mailbox })
    }

    /// The server running this code: `self()` in a callback, as a handle to cast or send to,
    /// or to give to others.
    ///
    /// # Panics
    ///
    /// Panics when not called from a callback of a server of type `S` (use
    /// [`Server::from_pid`]`(`[`self_pid`](crate::self_pid)`())` where that can happen).
    pub fn current() -> Server<S> {
        let pid = try_self_pid().expect("Server::current() called outside a bough process");
        match Server::from_pid(pid) {
            Ok(server) => server,
            Err(error) => panic!("Server::<{}>::current(): {error}", type_name::<S>()),
        }
    }

    /// A monitor of this server: a future of its exit reason. See [`Monitor`].
    pub fn monitor(&self) -> Monitor {
        Monitor::of(&self.control())
    }

    fn control(&self) -> ProcessRef {
        self.mailbox.clone()
    }

    /// Calls the server and waits up to [`DEFAULT_CALL_TIMEOUT`](super::DEFAULT_CALL_TIMEOUT)
    /// for the reply.
    pub fn call(&self, request: S::Call) -> Call<'_, S> {
        self.call_timeout(request, super::DEFAULT_CALL_TIMEOUT)
    }

    /// Calls the server and waits up to `timeout` for the reply. Any duration works; one too
    /// long to represent waits forever.
    pub fn call_timeout(&self, request: S::Call, timeout: impl Into<Timeout>) -> Call<'_, S> {
        Call {
            server: self,
            request: Some(request),
            limit: match timeout.into() {
                Timeout::After(limit) => Some(limit),
                Timeout::Infinity => None,
            },
            rx: None,
            slow: false,
            since: None,
            timer: None,
            exit: None,
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
    /// Fails with [`CallError::NoProc`] if it was not running, with [`CallError::Exited`] if
    /// it exited for another reason first, and with [`CallError::CallingSelf`] when a server
    /// tries to stop itself this way (return a stop from the callback instead).
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
        if try_self_pid() == Some(self.pid()) {
            return Err(CallError::CallingSelf);
        }
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
        match answer {
            Ok(()) => Ok(()),
            // It ended some other way: report it once its exit is published.
            Err(_) => Err(CallError::Exited(self.monitor().await)),
        }
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
    /// The answer may take a while: other messages were queued before the call, or the
    /// server was busy.
    slow: bool,
    since: Option<Instant>,
    timer: Option<Pin<Box<Sleep>>>,
    /// Watches the server's exit once the answer may be slow, or once the server is exiting:
    /// a caller fails with the exit reason as soon as the exit is published, whoever holds
    /// its `ReplyTo`.
    exit: Option<Monitor>,
}

impl<S: GenServer> Unpin for Call<'_, S> {}

impl<S: GenServer> Call<'_, S> {
    /// Sends the request; `Err` if the call is over at once.
    fn send(&mut self, request: S::Call) -> Result<(), CallError> {
        let server = self.server;
        if try_self_pid() == Some(server.pid()) {
            return Err(CallError::CallingSelf);
        }
        let (to, rx) = reply::call_slot();
        let pushed = server
            .mailbox
            .push(Envelope::Call(request, to))
            .map_err(|_| CallError::NoProc)?;
        self.rx = Some(rx);
        // A call at most one message behind at a server that is not busy is handled as soon
        // as the server gets to it; should the server turn busy first, it nudges the call
        // (`Mailbox::set_busy`), which then arms its timer. A call further back, or at a
        // busy server, may wait long: its time-out counts from now, its timer armed at once.
        self.slow = pushed.busy || pushed.ahead >= 2;
        if self.slow {
            self.since = Some(Instant::now());
        }
        Ok(())
    }

    fn arm_timer(&mut self) {
        let Some(limit) = self.limit else {
            return;
        };
        if self.timer.is_none() {
            let since = *self.since.get_or_insert_with(Instant::now);
            // Too far to represent: never.
            if let Some(deadline) = since.checked_add(limit) {
                self.timer = Some(Box::pin(tokio::time::sleep_until(deadline)));
            }
        }
    }

    fn watch_exit(&mut self) -> &mut Monitor {
        let server = self.server;
        self.exit.get_or_insert_with(|| server.monitor())
    }
}

impl<S: GenServer> Future for Call<'_, S> {
    type Output = Result<S::Reply, CallError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(request) = this.request.take() {
            if let Err(error) = this.send(request) {
                return Poll::Ready(Err(error));
            }
            if this.limit == Some(Duration::ZERO) {
                // OTP's `after 0`: only an answer that is already there counts.
                let answer = this.rx.as_mut().map(|rx| rx.poll_answer(cx));
                this.rx = None;
                return Poll::Ready(match answer {
                    Some(Answer::Value(value)) => Ok(value),
                    _ => Err(CallError::Timeout),
                });
            }
        }
        let Some(rx) = this.rx.as_mut() else {
            return Poll::Ready(Err(CallError::NoProc));
        };
        match rx.poll_answer(cx) {
            Answer::Value(value) => return Poll::Ready(Ok(value)),
            Answer::Unanswered => {
                let server = this.server;
                if server.mailbox.exiting_reason().is_none() {
                    return Poll::Ready(Err(CallError::NoReply));
                }
                // The server is exiting: answer once its exit is published (names free).
                return match Pin::new(this.watch_exit()).poll(cx) {
                    Poll::Ready(reason) => Poll::Ready(Err(CallError::Exited(reason))),
                    Poll::Pending => Poll::Pending,
                };
            }
            Answer::Pending { nudged } => {
                if this.slow || nudged {
                    this.arm_timer();
                }
                if nudged {
                    // The reply may come from anywhere now; the server's exit must not go
                    // unnoticed.
                    if let Poll::Ready(reason) = Pin::new(this.watch_exit()).poll(cx) {
                        let rx = this.rx.as_mut().expect("sent");
                        return Poll::Ready(match rx.poll_answer(cx) {
                            Answer::Value(value) => Ok(value),
                            _ => Err(CallError::Exited(reason)),
                        });
                    }
                }
            }
        }
        match this.timer.as_mut().map(|timer| timer.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Err(CallError::Timeout)),
            _ => Poll::Pending,
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
            mailbox: self.mailbox.clone(),
        }
    }
}

impl<S: GenServer> PartialEq for Server<S> {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl<S: GenServer> Eq for Server<S> {}

impl<S: GenServer> Hash for Server<S> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.pid().hash(state);
    }
}

impl<S: GenServer> fmt::Debug for Server<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Server<{}>({})", type_name::<S>(), self.pid())
    }
}
