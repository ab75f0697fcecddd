//! A supervisor's mailbox, with OTP's selective receive.
//!
//! While a supervisor waits for one child to exit (during `terminate_child`, a restart under
//! `one_for_all`, or its own shutdown), other messages keep arriving: calls, exits of other
//! children, its parent's shutdown signal. They are set aside and handled afterwards, in
//! the order they came, as an Erlang supervisor's selective `receive` leaves them queued.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::time::Instant;

use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::control::SystemMsg;
use crate::process::mailbox::{Event, Letter, Mailbox};
use crate::reply::ReplyTo;

/// A supervisor's requests, and how it names a child whose restart it must retry.
pub(crate) trait Requests: Send + 'static {
    type RetryKey: Send + 'static;
}

pub(crate) enum SupMsg<R: Requests> {
    /// A child exited: the `{:EXIT, pid, reason}` of a linked child.
    Exit(Pid, ExitReason),
    /// An API request.
    Request(R),
    /// `Supervisor.stop/2`.
    Stop(ExitReason, ReplyTo<()>),
    /// Try again to restart a child whose restart failed (OTP's `try_again_restart`).
    Retry(R::RetryKey),
}

impl<R: Requests> Letter for SupMsg<R> {
    fn system(message: SystemMsg) -> Option<Self> {
        match message {
            // Supervisors trap exits: a linked process's exit is a message.
            SystemMsg::Exit(pid, reason) => Some(SupMsg::Exit(pid, reason)),
            // A supervisor's state is asked for with a request of its own.
            SystemMsg::Down(_) | SystemMsg::GetState(_) => None,
        }
    }
}

pub(crate) struct Inbox<R: Requests> {
    pub(crate) mailbox: Arc<Mailbox<SupMsg<R>>>,
    stash: VecDeque<SupMsg<R>>,
    signal: Option<ExitReason>,
}

impl<R: Requests> Inbox<R> {
    pub(crate) fn new(mailbox: Arc<Mailbox<SupMsg<R>>>) -> Inbox<R> {
        Inbox {
            mailbox,
            stash: VecDeque::new(),
            signal: None,
        }
    }

    /// The next thing to handle: a parent's signal first, then set-aside messages in order,
    /// then new ones.
    ///
    /// A `poll_fn` rather than an `async fn` around the mailbox's own: one layer less for
    /// every message a supervisor handles to be moved through. Polling again looks at the
    /// signal and the stash again, which nothing can change while the inbox is borrowed.
    pub(crate) fn next(&mut self) -> impl Future<Output = Event<SupMsg<R>>> {
        std::future::poll_fn(move |cx| self.poll_next(cx))
    }

    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Event<SupMsg<R>>> {
        if let Some(reason) = self.signal.take() {
            return Poll::Ready(Event::Signal(reason));
        }
        if !self.stash.is_empty() {
            // The mailbox itself hands out a waiting signal before any message.
            if let Some(reason) = self.mailbox.take_signal() {
                return Poll::Ready(Event::Signal(reason));
            }
            if let Some(message) = self.stash.pop_front() {
                return Poll::Ready(Event::Message(message));
            }
        }
        self.mailbox.poll_recv(cx)
    }

    /// Waits for the exit of `pid` until `deadline`, setting everything else aside.
    /// `None` when the deadline passed first.
    pub(crate) async fn exit_of(
        &mut self,
        pid: Pid,
        deadline: Option<Instant>,
    ) -> Option<ExitReason> {
        self.exit_where(|p| p == pid, deadline)
            .await
            .map(|(_, reason)| reason)
    }

    /// Waits for the next exit of any child until `deadline`, setting everything else aside.
    pub(crate) async fn any_exit(
        &mut self,
        deadline: Option<Instant>,
    ) -> Option<(Pid, ExitReason)> {
        self.exit_where(|_| true, deadline).await
    }

    /// The selective receive: the first exit of a child `wanted` accepts, set-aside ones
    /// first; everything else is set aside in order.
    async fn exit_where(
        &mut self,
        wanted: impl Fn(Pid) -> bool,
        deadline: Option<Instant>,
    ) -> Option<(Pid, ExitReason)> {
        if let Some(at) = self
            .stash
            .iter()
            .position(|m| matches!(m, SupMsg::Exit(p, _) if wanted(*p)))
            && let Some(SupMsg::Exit(pid, reason)) = self.stash.remove(at)
        {
            return Some((pid, reason));
        }
        loop {
            let event = match deadline {
                None => self.mailbox.recv().await,
                Some(deadline) => tokio::time::timeout_at(deadline, self.mailbox.recv())
                    .await
                    .ok()?,
            };
            match event {
                Event::Message(SupMsg::Exit(pid, reason)) if wanted(pid) => {
                    return Some((pid, reason));
                }
                Event::Message(other) => self.stash.push_back(other),
                Event::Signal(reason) => {
                    self.signal.get_or_insert(reason);
                }
            }
        }
    }

    /// Queues a retry of a failed restart behind what is already waiting.
    pub(crate) fn retry_later(&self, key: R::RetryKey) {
        let _ = self.mailbox.push(SupMsg::Retry(key));
    }
}
