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
use crate::process::life::{self, Exit, Parent, Spec, Starting};
use crate::process::mailbox::{Event, Letter, Mailbox};
use crate::process::{self, CatchUnwind, Down};
use crate::registry::Name;
use crate::reply::{ReplyTo, Watch};

pub(crate) enum Envelope<S: GenServer> {
    Call(S::Call, ReplyTo<S::Reply>),
    Cast(S::Cast),
    Info(S::Info),
    Stop(ExitReason, ReplyTo<()>),
    Down(Down),
    Exit(Pid, ExitReason),
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
            SystemMsg::Down(down) => Envelope::Down(down),
            SystemMsg::Exit(pid, reason) => Envelope::Exit(pid, reason),
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

/// A new process: `init`, its answer to the starter, then the server loop.
async fn live<S: GenServer>(
    args: S::Args,
    mailbox: Arc<Mailbox<Envelope<S>>>,
    ack: ReplyTo<Result<(), StartError>>,
) -> Exit {
    let (state, next) = match CatchUnwind::new(S::init(args)).await {
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
    ack.reply(Ok(()));
    run(state, mailbox, next).await
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

pin_project! {
    /// Runs one callback, catching panics. If the callback has to wait, the server is busy:
    /// the call at the head of the queue (and the call being handled) is nudged to arm its
    /// time-out, and callers that come meanwhile arm theirs at once.
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
                    this.mailbox.set_busy();
                    if let Some(current) = this.current {
                        current.nudge();
                    }
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

/// The server loop: one message at a time, continues first, then `terminate`.
async fn run<S: GenServer>(
    mut state: S,
    mailbox: Arc<Mailbox<Envelope<S>>>,
    mut next: Next<S::Continue>,
) -> Exit {
    // The call that stopped the server, answered (or failed) once the exit is published,
    // so that its caller finds the name free.
    let mut stopping: Option<Stopping<S>> = None;
    let mut waiter = None;
    mailbox.set_idle();
    let reason = loop {
        let event = match next {
            Next::Stop(reason) => break reason,
            Next::Continue(continuation) => {
                next =
                    self::next(callback(&mailbox, None, state.handle_continue(continuation)).await);
                continue;
            }
            Next::Wait => mailbox.recv().await,
            // Boxed, like the rare callbacks below: every server's task would otherwise hold
            // room for these futures.
            Next::Idle(idle) => match Box::pin(recv_within(&mailbox, idle, &mut state)).await {
                Some(event) => event,
                None => {
                    next = self::next(
                        Box::pin(callback(&mailbox, None, state.handle_timeout())).await,
                    );
                    continue;
                }
            },
        };
        next = match event {
            Event::Signal(reason) => break reason,
            Event::Message(Envelope::Call(request, from)) => {
                let watch = from.watch();
                let result =
                    callback(&mailbox, Some(&watch), state.handle_call(request, from)).await;
                match result {
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
                        stopping = Some((watch, Some(answer)));
                        Next::Stop(reason)
                    }
                    Ok(Reply::Stop(reason)) | Err(reason) => {
                        stopping = Some((watch, None));
                        Next::Stop(reason)
                    }
                }
            }
            Event::Message(Envelope::Cast(message)) => {
                self::next(callback(&mailbox, None, state.handle_cast(message)).await)
            }
            Event::Message(Envelope::Info(message)) => {
                self::next(callback(&mailbox, None, state.handle_info(message)).await)
            }
            Event::Message(Envelope::Down(down)) => {
                // A DOWN of a monitor cancelled meanwhile is flushed.
                if mailbox.forget_down(down.monitor.id) {
                    self::next(Box::pin(callback(&mailbox, None, state.handle_down(down))).await)
                } else {
                    Next::Wait
                }
            }
            Event::Message(Envelope::Exit(pid, reason)) => {
                self::next(Box::pin(callback(&mailbox, None, state.handle_exit(pid, reason))).await)
            }
            Event::Message(Envelope::Stop(reason, to)) => {
                waiter = Some(to);
                Next::Stop(reason)
            }
            Event::Message(Envelope::GetState(to)) => {
                introspect::answer_state(&state, to);
                Next::Wait
            }
        };
    };
    // A panic in terminate replaces the reason, as an exception in OTP's terminate does.
    let reason = match callback(&mailbox, None, state.terminate(&reason)).await {
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
