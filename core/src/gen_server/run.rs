//! A server's process: `init`, then one message at a time until it stops, then `terminate`.

use std::any::type_name;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::time::Instant;

use super::{GenServer, Init, NoReply, Reply, Server};
use crate::error::StartError;
use crate::exit::ExitReason;
use crate::introspect::{self, StateError};
use crate::pid::Pid;
use crate::process::control::{Control, SystemMsg};
use crate::process::life::{self, Ack, Exit, Parent, Spec, Starting};
use crate::process::mailbox::{Event, Letter, Mailbox};
use crate::process::scope::catch_poll;
use crate::process::{self, CatchUnwind, Down};
use crate::registry::Name;
use crate::reply::{ReplyTo, Watch};

pub(crate) enum Envelope<S: GenServer> {
    Call(S::Call, ReplyTo<S::Reply>),
    Cast(S::Cast),
    Info(S::Info),
    Stop(ExitReason, ReplyTo<()>),
    // The rare messages are boxed, so that they do not make every queued message bigger.
    Down(Box<Down>),
    Exit(Box<(Pid, ExitReason)>),
    /// `:sys.get_state`, answered between messages.
    GetState(ReplyTo<Result<String, StateError>>),
}

impl<S: GenServer> Letter for Envelope<S> {
    fn abandon(&self) {
        if let Envelope::Call(_, to) = self {
            to.abandon();
        }
    }

    fn nudge(&self) {
        if let Envelope::Call(_, to) = self {
            to.nudge();
        }
    }

    fn system(message: SystemMsg) -> Option<Self> {
        Some(match message {
            SystemMsg::Down(down) => Envelope::Down(Box::new(down)),
            SystemMsg::Exit(pid, reason) => Envelope::Exit(Box::new((pid, reason))),
            SystemMsg::GetState(to) => Envelope::GetState(to),
        })
    }
}

/// Takes the name and spawns the process, whose task then runs `init`.
pub(crate) fn spawn<S: GenServer>(
    args: S::Args,
    name: Option<Name>,
    parent: Parent,
) -> Result<(Server<S>, Starting), StartError> {
    let spec = Spec {
        type_name: type_name::<S>(),
        name,
        parent,
        trap_exit: false,
    };
    let (mailbox, starting) = life::spawn(spec, move |mailbox, ack| live::<S>(args, mailbox, ack))?;
    Ok((Server::new(mailbox), starting))
}

/// A new process: `init`, its answer to the starter, the server loop, then `terminate`.
///
/// An `async` block over its captures rather than an `async fn` (or two): an `async fn`
/// keeps its arguments twice in its future, as arguments and as the locals they are moved
/// into, and every byte of this future is a byte of every server's task, copied at each
/// spawn.
#[allow(clippy::manual_async_fn)] // the point is not to be an `async fn`
fn live<S: GenServer>(
    args: S::Args,
    mailbox: Arc<Mailbox<Envelope<S>>>,
    ack: Ack,
) -> impl Future<Output = Exit> + Send {
    async move {
        let (mut state, mut next) = match CatchUnwind::new(S::init(args)).await {
            Ok(Init::Ok(state)) => (state, Next::Wait),
            Ok(Init::Continue(state, next)) => (state, Next::Continue(next)),
            Ok(Init::Timeout(state, idle)) => (state, Next::Idle(idle)),
            Ok(Init::Ignore) => {
                return Exit::not_started(ExitReason::Normal, ack, StartError::Ignore);
            }
            Ok(Init::Stop(reason)) | Err(reason) => {
                return Exit::not_started(reason.clone(), ack, StartError::Init(reason));
            }
        };
        ack.started(&mailbox);
        // The call that stopped the server, answered (or failed) once the exit is published,
        // so that its caller finds the name free.
        let mut stopping: Option<Stopping<S>> = None;
        let mut waiter = None;
        mailbox.set_idle();
        let reason = loop {
            // One statement, so that the message is gone (moved into its callback) before
            // the callback is awaited: a message held across that await would be room in
            // every server's task.
            let doing = match match next {
                Next::Stop(reason) => break reason,
                Next::Continue(continuation) => Received::Continue(continuation),
                Next::Wait => Received::Event(mailbox.recv().await),
                // Boxed, like the rare callbacks: every server's task would otherwise hold
                // room for this future.
                Next::Idle(idle) => match Box::pin(recv_within(&mailbox, idle, &mut state)).await {
                    Some(event) => Received::Event(event),
                    None => Received::Timeout,
                },
            } {
                Received::Continue(continuation) => Doing::Continue {
                    callback: state.handle_continue(continuation),
                },
                Received::Timeout => Doing::Timeout {
                    callback: Box::pin(state.handle_timeout()),
                },
                Received::Event(Event::Signal(reason)) => break reason,
                Received::Event(Event::Message(message)) => match message {
                    Envelope::Call(request, from) => Doing::Call {
                        watch: Some(from.watch()),
                        callback: state.handle_call(request, from),
                    },
                    Envelope::Cast(message) => Doing::Cast {
                        callback: state.handle_cast(message),
                    },
                    Envelope::Info(message) => Doing::Info {
                        callback: state.handle_info(message),
                    },
                    Envelope::Down(down) => {
                        // A DOWN of a monitor cancelled meanwhile is flushed.
                        if !mailbox.forget_down(down.monitor.id) {
                            next = Next::Wait;
                            continue;
                        }
                        Doing::Down {
                            callback: Box::pin(state.handle_down(*down)),
                        }
                    }
                    Envelope::Exit(exit) => {
                        let (pid, reason) = *exit;
                        Doing::Exit {
                            callback: Box::pin(state.handle_exit(pid, reason)),
                        }
                    }
                    Envelope::Stop(reason, to) => {
                        waiter = Some(to);
                        break reason;
                    }
                    Envelope::GetState(to) => {
                        introspect::answer_state(&state, to);
                        next = Next::Wait;
                        continue;
                    }
                },
            };
            next = Handling {
                mailbox: &mailbox,
                stopping: &mut stopping,
                busy: false,
                doing,
            }
            .await;
        };
        // A panic in terminate replaces the reason, as an exception in OTP's terminate does.
        let reason = match callback(&mailbox, state.terminate(&reason)).await {
            Ok(()) => reason,
            Err(panic) => panic,
        };
        let reason = mailbox.decide_exit(reason);
        if !reason.is_clean() {
            tracing::error!(
                target: "bough::gen_server",
                server = type_name::<S>(),
                pid = %process::self_pid(),
                %reason,
                "GenServer terminating"
            );
        }
        // A `Drop` of the state that panics must not keep the exit from being announced.
        let _ = catch_unwind(AssertUnwindSafe(|| drop(state)));
        let after: Option<Box<dyn FnOnce() + Send>> = stopping.map(|(watch, answer)| {
            // `{:stop, reason, reply, state}` answers after terminate, once the name is free.
            Box::new(move || watch.finish(answer)) as Box<dyn FnOnce() + Send>
        });
        Exit {
            reason,
            waiter,
            after,
            not_started: None,
        }
    }
}

/// What the loop does next.
enum Next<C> {
    Wait,
    Continue(C),
    /// Wait for a message, but no longer than this.
    Idle(Duration),
    Stop(ExitReason),
}

fn next<S: GenServer>(result: Result<NoReply<S>, ExitReason>) -> Next<S::Continue> {
    match result {
        Ok(NoReply::NoReply) => Next::Wait,
        Ok(NoReply::Continue(next)) => Next::Continue(next),
        Ok(NoReply::Timeout(idle)) => Next::Idle(idle),
        Ok(NoReply::Stop(reason)) | Err(reason) => Next::Stop(reason),
    }
}

/// What the loop found to do: a continue, a time-out, or something from the mailbox.
enum Received<C, M> {
    Continue(C),
    Timeout,
    Event(Event<M>),
}

pin_project! {
    /// The callback under way, whichever it is: one future for the loop to await, as big as
    /// the biggest of the common ones (the rare ones are boxed).
    #[project = DoingProj]
    enum Doing<R, Ca, Cs, In, Co, Ti, Dn, Ex> {
        Call {
            // Taken when the callback is done.
            watch: Option<Watch<R>>,
            #[pin]
            callback: Ca,
        },
        Cast { #[pin] callback: Cs },
        Info { #[pin] callback: In },
        Continue { #[pin] callback: Co },
        Timeout { callback: Pin<Box<Ti>> },
        Down { callback: Pin<Box<Dn>> },
        Exit { callback: Pin<Box<Ex>> },
    }
}

pin_project! {
    /// Runs one callback, catching panics, and answers the call it handles, if it handles
    /// one. If the callback has to wait, the server is busy: the call at the head of the
    /// queue (and the call being handled) is nudged to arm its time-out, and callers that
    /// come meanwhile arm theirs at once.
    struct Handling<'a, S: GenServer, Ca, Cs, In, Co, Ti, Dn, Ex> {
        mailbox: &'a Mailbox<Envelope<S>>,
        // Where a call that stops the server is kept, to be answered once the exit is
        // published.
        stopping: &'a mut Option<Stopping<S>>,
        busy: bool,
        #[pin]
        doing: Doing<S::Reply, Ca, Cs, In, Co, Ti, Dn, Ex>,
    }
}

impl<S, Ca, Cs, In, Co, Ti, Dn, Ex> Future for Handling<'_, S, Ca, Cs, In, Co, Ti, Dn, Ex>
where
    S: GenServer,
    Ca: Future<Output = Reply<S>>,
    Cs: Future<Output = NoReply<S>>,
    In: Future<Output = NoReply<S>>,
    Co: Future<Output = NoReply<S>>,
    Ti: Future<Output = NoReply<S>>,
    Dn: Future<Output = NoReply<S>>,
    Ex: Future<Output = NoReply<S>>,
{
    type Output = Next<S::Continue>;

    // Inlined into the server loop, where the callbacks' futures are polled: every message
    // goes through here.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (polled, current) = match this.doing.project() {
            DoingProj::Call { watch, callback } => match catch_poll(callback, cx) {
                Poll::Ready(returned) => {
                    let watch = watch.take().expect("a call's callback returns once");
                    (Poll::Ready(answer(returned, watch, this.stopping)), None)
                }
                Poll::Pending => (Poll::Pending, watch.as_ref()),
            },
            DoingProj::Cast { callback } => (catch_poll(callback, cx).map(next), None),
            DoingProj::Info { callback } => (catch_poll(callback, cx).map(next), None),
            DoingProj::Continue { callback } => (catch_poll(callback, cx).map(next), None),
            DoingProj::Timeout { callback } => (catch_poll(callback.as_mut(), cx).map(next), None),
            DoingProj::Down { callback } => (catch_poll(callback.as_mut(), cx).map(next), None),
            DoingProj::Exit { callback } => (catch_poll(callback.as_mut(), cx).map(next), None),
        };
        match polled {
            Poll::Ready(next) => {
                if *this.busy {
                    this.mailbox.set_idle();
                }
                Poll::Ready(next)
            }
            Poll::Pending => {
                if !*this.busy {
                    *this.busy = true;
                    this.mailbox.set_busy();
                    if let Some(current) = current {
                        current.nudge();
                    }
                }
                Poll::Pending
            }
        }
    }
}

/// Answers a call as its callback says, and what the loop does next. A call that stops
/// the server is kept in `stopping`, to be answered once the exit is published.
#[inline]
fn answer<S: GenServer>(
    returned: Result<Reply<S>, ExitReason>,
    watch: Watch<S::Reply>,
    stopping: &mut Option<Stopping<S>>,
) -> Next<S::Continue> {
    match returned {
        Ok(Reply::Reply(answer)) => {
            watch.finish(Some(answer));
            Next::Wait
        }
        Ok(Reply::ReplyContinue(answer, next)) => {
            watch.finish(Some(answer));
            Next::Continue(next)
        }
        Ok(Reply::ReplyTimeout(answer, idle)) => {
            watch.finish(Some(answer));
            Next::Idle(idle)
        }
        Ok(Reply::NoReply) => {
            watch.finish(None);
            Next::Wait
        }
        Ok(Reply::NoReplyContinue(next)) => {
            watch.finish(None);
            Next::Continue(next)
        }
        Ok(Reply::NoReplyTimeout(idle)) => {
            watch.finish(None);
            Next::Idle(idle)
        }
        Ok(Reply::StopReply(reason, answer)) => {
            *stopping = Some((watch, Some(answer)));
            Next::Stop(reason)
        }
        Ok(Reply::Stop(reason)) | Err(reason) => {
            *stopping = Some((watch, None));
            Next::Stop(reason)
        }
    }
}

pin_project! {
    /// Runs `terminate`, catching panics; while it waits the server is busy, as in
    /// [`Handling`].
    struct Callback<'a, S: GenServer, F> {
        #[pin]
        inner: CatchUnwind<F>,
        mailbox: &'a Mailbox<Envelope<S>>,
        busy: bool,
    }
}

fn callback<S: GenServer, F>(mailbox: &Mailbox<Envelope<S>>, inner: F) -> Callback<'_, S, F> {
    Callback {
        inner: CatchUnwind::new(inner),
        mailbox,
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
                    this.mailbox.set_busy();
                }
                Poll::Pending
            }
        }
    }
}

/// The next message, or `None` if none came within `idle`. A message already queued wins
/// over an expired time-out, so a zero time-out fires only on an empty mailbox. Requests
/// for the state are answered on the way, so that they do not move the time-out.
async fn recv_within<S: GenServer>(
    mailbox: &Mailbox<Envelope<S>>,
    idle: Duration,
    // `&mut`, which is `Send` where `&S` is not: a server's state need not be `Sync`.
    state: &mut S,
) -> Option<Event<Envelope<S>>> {
    // Boxed: most servers never use an idle time-out.
    let mut sleep = Instant::now()
        .checked_add(idle)
        .map(|deadline| Box::pin(tokio::time::sleep_until(deadline)));
    std::future::poll_fn(move |cx| {
        while let Poll::Ready(event) = mailbox.poll_recv(cx) {
            match event {
                Event::Message(Envelope::GetState(to)) => introspect::answer_state(&*state, to),
                event => return Poll::Ready(Some(event)),
            }
        }
        match sleep.as_mut().map(|sleep| sleep.as_mut().poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(None),
            _ => Poll::Pending,
        }
    })
    .await
}

/// The call that stopped the server, and its answer if it gave one.
type Stopping<S> = (
    Watch<<S as GenServer>::Reply>,
    Option<<S as GenServer>::Reply>,
);
