//! What the static and the dynamic supervisor share: the process prologue, the loop,
//! requests from handles, and the children that have exited but whose tasks are still
//! winding down.

use std::future::Future;
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::inbox::{Inbox, Requests, SupMsg};
use super::intensity::Intensity;
use crate::error::{CallError, StartError};
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::control::{Control, ProcessRef};
use crate::process::life::{self, Ack, Exit, Parent, Spec, Starting};
use crate::process::mailbox::{Event, Mailbox};
use crate::process::monitor::Monitor;
use crate::registry::Name;
use crate::reply::{self, ReplyTo};

/// The parts of a supervisor that do not depend on its kind.
pub(crate) struct Core<R: Requests> {
    pub(crate) pid: Pid,
    pub(crate) inbox: Inbox<R>,
    pub(crate) intensity: Intensity,
    /// Tasks of exited children that were still winding down when their exit arrived.
    lingering: Vec<JoinHandle<()>>,
}

impl<R: Requests> Core<R> {
    pub(crate) fn new(inbox: Inbox<R>, intensity: Intensity) -> Core<R> {
        Core {
            pid: inbox.mailbox.pid(),
            inbox,
            intensity,
            lingering: Vec::new(),
        }
    }

    /// Keeps the task of a child that exited, to wait for its very end when the
    /// supervisor stops.
    pub(crate) fn linger(&mut self, join: Option<JoinHandle<()>>) {
        let Some(join) = join.filter(|join| !join.is_finished()) else {
            return;
        };
        if self.lingering.len() >= 64 {
            self.lingering.retain(|join| !join.is_finished());
        }
        self.lingering.push(join);
    }
}

/// A kind of supervisor: what it does with each message.
pub(crate) trait Kind: Send + Sized + 'static {
    type Req: Requests;

    fn core(&mut self) -> &mut Core<Self::Req>;

    /// Handles a child's exit; `Err(shutdown)` when the supervisor must give up.
    fn on_exit(
        &mut self,
        pid: Pid,
        reason: ExitReason,
    ) -> impl Future<Output = Result<(), ExitReason>> + Send;

    fn on_retry(
        &mut self,
        key: <Self::Req as Requests>::RetryKey,
    ) -> impl Future<Output = Result<(), ExitReason>> + Send;

    fn on_request(&mut self, request: Self::Req) -> impl Future<Output = ()> + Send;

    /// Stops every child, as a supervisor that exits does.
    fn terminate_all(&mut self) -> impl Future<Output = ()> + Send;
}

/// A supervisor's mailbox and its start in progress.
pub(crate) type Spawned<R> = (Arc<Mailbox<SupMsg<R>>>, Starting);

/// Takes the name and spawns a supervisor process; `body`, in the new process, runs the
/// supervisor's `init`, builds its core and answers the starter.
pub(crate) fn spawn<R, F>(
    type_name: &'static str,
    name: Option<Name>,
    parent: Parent,
    body: impl FnOnce(Inbox<R>, Ack) -> F,
) -> Result<Spawned<R>, StartError>
where
    R: Requests,
    F: Future<Output = Exit> + Send + 'static,
{
    let spec = Spec {
        type_name,
        name,
        parent,
        trap_exit: true,
    };
    life::spawn(spec, move |mailbox, ack| body(Inbox::new(mailbox), ack))
}

/// The supervisor loop, then the stop of every child.
pub(crate) async fn run<K: Kind>(mut sup: K) -> Exit {
    let (reason, waiter) = loop {
        let outcome = match sup.core().inbox.next().await {
            Event::Signal(reason) => break (reason, None),
            Event::Message(SupMsg::Stop(reason, to)) => break (reason, Some(to)),
            Event::Message(SupMsg::Exit(pid, reason)) => sup.on_exit(pid, reason).await,
            Event::Message(SupMsg::Retry(key)) => sup.on_retry(key).await,
            Event::Message(SupMsg::Request(request)) => {
                sup.on_request(request).await;
                Ok(())
            }
        };
        if let Err(give_up) = outcome {
            break (give_up, None);
        }
    };
    sup.terminate_all().await;
    for join in std::mem::take(&mut sup.core().lingering) {
        let _ = join.await;
    }
    // Decided before the requests set aside are dropped, so their callers learn the reason.
    let reason = sup.core().inbox.mailbox.decide_exit(reason);
    Exit::new(reason, waiter)
}

/// Runs a supervisor's `init` inside its process: a panic in it fails the start, as a
/// raise in OTP's `init/1` does, instead of crashing whoever started the supervisor.
pub(crate) fn run_init<T>(init: impl FnOnce() -> T) -> Result<T, StartError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(init))
        .map_err(|payload| StartError::Init(ExitReason::from_panic(payload)))
}

/// Sends a request to a supervisor and waits for the answer.
pub(crate) fn request<R: Requests, T>(
    mailbox: &Arc<Mailbox<SupMsg<R>>>,
    make: impl FnOnce(ReplyTo<T>) -> R,
) -> impl Future<Output = Result<T, CallError>> {
    // Not an `async fn`: the answer goes through one layer of futures less.
    ask(mailbox, |to| SupMsg::Request(make(to)))
}

/// Stops a supervisor and waits until it and everything below it have ended.
pub(crate) async fn stop<R: Requests>(
    mailbox: &Arc<Mailbox<SupMsg<R>>>,
    reason: ExitReason,
) -> Result<(), CallError> {
    if crate::process::try_self_pid() == Some(mailbox.pid()) {
        return Err(CallError::CallingSelf);
    }
    ask(mailbox, |to| SupMsg::Stop(reason, to)).await
}

// An `async` block rather than an `async fn`, which would keep `make` (a whole child spec,
// for a start) twice in its future.
#[allow(clippy::manual_async_fn)]
fn ask<R: Requests, T>(
    mailbox: &Arc<Mailbox<SupMsg<R>>>,
    make: impl FnOnce(ReplyTo<T>) -> SupMsg<R>,
) -> impl Future<Output = Result<T, CallError>> {
    async move {
        let (to, mut rx) = reply::slot();
        if mailbox.push(make(to)).is_err() {
            return Err(CallError::NoProc);
        }
        match rx.recv().await {
            Ok(answer) => Ok(answer),
            Err(_) if mailbox.exiting_reason().is_some() => {
                // Report the exit once it is published: the supervisor's names are free by
                // then.
                let process: ProcessRef = mailbox.clone();
                Err(CallError::Exited(Monitor::of(&process).await))
            }
            Err(_) => Err(CallError::NoReply),
        }
    }
}
