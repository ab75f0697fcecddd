//! The static supervisor process: its start, its loop, and its restart strategies.

use std::collections::HashSet;
use std::mem;
use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::inbox::{Inbox, RetryKey, SupMsg};
use super::intensity::Intensity;
use super::{ChildCount, ChildInfo, ChildPid, Strategy, SupervisorOptions, report, shutdown};
use crate::child_spec::{ChildId, ChildSpec, ChildType, Restart};
use crate::error::{ChildError, StartError};
use crate::exit::ExitReason;
use crate::mailbox::{Event, Mailbox};
use crate::pid::Pid;
use crate::process::{self, Birth, Exit, Link, Started, Starting};
use crate::registry::Registration;
use crate::reply::ReplyTo;

pub(crate) enum StaticReq {
    WhichChildren(ReplyTo<Vec<ChildInfo>>),
    CountChildren(ReplyTo<ChildCount>),
    TerminateChild(ChildId, ReplyTo<Result<(), ChildError>>),
    RestartChild(ChildId, ReplyTo<Result<Option<Pid>, ChildError>>),
    DeleteChild(ChildId, ReplyTo<Result<(), ChildError>>),
    StartChild(ChildSpec, ReplyTo<Result<Option<Pid>, StartError>>),
}

enum State {
    Running(Started),
    /// A restart failed; a retry is queued.
    Restarting,
    Stopped,
}

struct Child {
    spec: ChildSpec,
    state: State,
}

impl Child {
    fn pid(&self) -> Option<Pid> {
        match &self.state {
            State::Running(started) => Some(started.pid),
            State::Restarting | State::Stopped => None,
        }
    }
}

struct StaticSup {
    pid: Pid,
    strategy: Strategy,
    intensity: Intensity,
    /// In start order.
    children: Vec<Child>,
    inbox: Inbox<StaticReq>,
    /// Tasks of exited children that were still winding down when their exit arrived.
    lingering: Vec<JoinHandle<()>>,
}

/// A supervisor dropped while children still run was killed (its task aborted): its
/// children go with it, as linked processes die with a killed supervisor in OTP.
impl Drop for StaticSup {
    fn drop(&mut self) {
        for child in &self.children {
            if let State::Running(started) = &child.state {
                started.join.abort();
            }
        }
    }
}

type Mb = Mailbox<SupMsg<StaticReq>>;

/// Takes the name and spawns the supervisor, whose task then starts its children in order.
pub(crate) fn spawn(
    specs: Vec<ChildSpec>,
    options: SupervisorOptions,
    parent: Option<Arc<dyn Link>>,
) -> Result<(Arc<Mb>, Starting), StartError> {
    let mut ids = HashSet::with_capacity(specs.len());
    if let Some(dup) = specs.iter().find(|spec| !ids.insert(&spec.id)) {
        return Err(StartError::DuplicateChildId(dup.id.clone()));
    }
    let pid = Pid::next();
    let mailbox: Arc<Mb> = Arc::new(Mailbox::new());
    let registration = match options.name {
        Some(name) => Some(
            Registration::take(name, pid, mailbox.clone(), "Supervisor")
                .map_err(StartError::AlreadyStarted)?,
        ),
        None => None,
    };
    let sup = StaticSup {
        pid,
        strategy: options.strategy,
        intensity: Intensity::new(options.max_restarts, options.period),
        children: Vec::with_capacity(specs.len()),
        inbox: Inbox::new(mailbox.clone()),
        lingering: Vec::new(),
    };
    let starting = process::start(
        Birth::new(pid, registration),
        mailbox.clone(),
        parent,
        |ack| sup.live(specs, ack),
    );
    Ok((mailbox, starting))
}

impl StaticSup {
    /// The supervisor's `init` (start the children, in order), then its loop.
    async fn live(mut self, specs: Vec<ChildSpec>, ack: ReplyTo<Result<(), StartError>>) -> Exit {
        if let Err(error) = self.start_all(specs).await {
            self.terminate_all().await;
            self.inbox.close(ExitReason::Shutdown);
            return Exit::not_started(ack, error);
        }
        ack.reply(Ok(()));
        self.run().await
    }

    async fn start_all(&mut self, specs: Vec<ChildSpec>) -> Result<(), StartError> {
        for spec in specs {
            match self.start_spec(&spec).await {
                Ok(state) => {
                    if !matches!(state, State::Stopped) || spec.restart != Restart::Temporary {
                        self.children.push(Child { spec, state });
                    }
                }
                Err(reason) => {
                    return Err(StartError::FailedToStartChild {
                        id: spec.id,
                        reason: Box::new(reason),
                    });
                }
            }
        }
        Ok(())
    }

    /// Starts one child; `Stopped` when its `init` returned `Ignore`.
    async fn start_spec(&self, spec: &ChildSpec) -> Result<State, StartError> {
        let started = match spec.start(self.inbox.link(), None) {
            Ok(starting) => starting.wait().await,
            Err(error) => Err(error),
        };
        match started {
            Ok(started) => {
                report::child_started(self.pid, &spec.id, started.pid);
                Ok(State::Running(started))
            }
            Err(StartError::Ignore) => Ok(State::Stopped),
            Err(reason) => {
                report::start_error(self.pid, &spec.id, &reason);
                Err(reason)
            }
        }
    }

    async fn run(mut self) -> Exit {
        let (reason, waiter) = loop {
            let outcome = match self.inbox.next().await {
                Event::Signal(reason) => break (reason, None),
                Event::Message(SupMsg::Stop(reason, to)) => break (reason, Some(to)),
                Event::Message(SupMsg::Exit(pid, reason)) => self.on_exit(pid, reason).await,
                Event::Message(SupMsg::Retry(RetryKey::Id(id))) => self.retry(&id).await,
                Event::Message(SupMsg::Retry(RetryKey::Slot(_))) => Ok(()),
                Event::Message(SupMsg::Request(request)) => {
                    self.on_request(request).await;
                    Ok(())
                }
            };
            if let Err(give_up) = outcome {
                break (give_up, None);
            }
        };
        self.terminate_all().await;
        for join in mem::take(&mut self.lingering) {
            let _ = join.await;
        }
        self.inbox.close(reason.clone());
        Exit::new(reason, waiter)
    }

    fn linger(&mut self, join: JoinHandle<()>) {
        if !join.is_finished() {
            if self.lingering.len() >= 64 {
                self.lingering.retain(|join| !join.is_finished());
            }
            self.lingering.push(join);
        }
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.children.iter().position(|child| child.spec.id == id)
    }

    /// Handles a child's exit; `Err(shutdown)` when the supervisor must give up.
    async fn on_exit(&mut self, pid: Pid, reason: ExitReason) -> Result<(), ExitReason> {
        let Some(at) = self.children.iter().position(|c| c.pid() == Some(pid)) else {
            return Ok(());
        };
        if let State::Running(started) = mem::replace(&mut self.children[at].state, State::Stopped)
        {
            self.linger(started.join);
        }
        let spec = &self.children[at].spec;
        let restart = spec.restart.restarts_after(&reason);
        report::child_exited(self.pid, &spec.id, pid, &reason, restart);
        if !restart {
            if spec.restart == Restart::Temporary {
                self.children.remove(at);
            }
            return Ok(());
        }
        self.restart(at).await
    }

    async fn retry(&mut self, id: &str) -> Result<(), ExitReason> {
        match self.position(id) {
            Some(at) if matches!(self.children[at].state, State::Restarting) => {
                self.restart(at).await
            }
            _ => Ok(()),
        }
    }

    /// Counts a restart of child `at` and restarts by the strategy.
    async fn restart(&mut self, at: usize) -> Result<(), ExitReason> {
        if !self.intensity.add_restart(Instant::now()) {
            let id = self.children[at].spec.id.clone();
            report::intensity_reached(self.pid, &id, &ExitReason::Shutdown);
            return Err(ExitReason::Shutdown);
        }
        let first = match self.strategy {
            Strategy::OneForOne => {
                self.children[at].state = State::Stopped;
                return self.restart_range(at, at + 1).await;
            }
            Strategy::OneForAll => 0,
            Strategy::RestForOne => at,
        };
        // Stop the others of the group, newest first; temporary ones are dropped for good.
        let mut i = self.children.len();
        while i > first {
            i -= 1;
            self.terminate_at(i).await;
            if self.children[i].spec.restart == Restart::Temporary {
                self.children.remove(i);
            }
        }
        let at_or_after = self.children.len().min(first);
        self.restart_range(at_or_after, self.children.len()).await
    }

    /// Starts the stopped children in `from..to`, in order. On a failure the failed child is
    /// marked restarting and a retry is queued; the ones after it stay stopped.
    async fn restart_range(&mut self, from: usize, to: usize) -> Result<(), ExitReason> {
        for i in from..to {
            if !matches!(self.children[i].state, State::Stopped | State::Restarting) {
                continue;
            }
            match self.start_spec(&self.children[i].spec).await {
                Ok(state) => {
                    if let State::Running(started) = &state {
                        report::child_restarted(self.pid, &self.children[i].spec.id, started.pid);
                    }
                    self.children[i].state = state;
                }
                Err(_) => {
                    self.children[i].state = State::Restarting;
                    let id = self.children[i].spec.id.clone();
                    let _ = self.inbox.mailbox.push(SupMsg::Retry(RetryKey::Id(id)));
                    return Ok(());
                }
            }
        }
        Ok(())
    }

    /// Stops child `at` if it runs and leaves it stopped.
    async fn terminate_at(&mut self, at: usize) {
        let child = &mut self.children[at];
        match mem::replace(&mut child.state, State::Stopped) {
            State::Running(started) => {
                let (id, shutdown) = (child.spec.id.clone(), child.spec.shutdown);
                shutdown::one(&mut self.inbox, self.pid, &id, started, shutdown).await;
            }
            State::Restarting | State::Stopped => {}
        }
    }

    /// Stops every child, newest first; temporary children are forgotten.
    async fn terminate_all(&mut self) {
        for at in (0..self.children.len()).rev() {
            self.terminate_at(at).await;
        }
        self.children
            .retain(|child| child.spec.restart != Restart::Temporary);
    }

    async fn on_request(&mut self, request: StaticReq) {
        match request {
            StaticReq::WhichChildren(to) => to.reply(self.which_children()),
            StaticReq::CountChildren(to) => to.reply(self.count_children()),
            StaticReq::TerminateChild(id, to) => {
                let result = match self.position(&id) {
                    None => Err(ChildError::NotFound),
                    Some(at) => {
                        self.terminate_at(at).await;
                        if self.children[at].spec.restart == Restart::Temporary {
                            self.children.remove(at);
                        }
                        Ok(())
                    }
                };
                to.reply(result);
            }
            StaticReq::RestartChild(id, to) => {
                let result = match self.position(&id) {
                    None => Err(ChildError::NotFound),
                    Some(at) => match self.children[at].state {
                        State::Running(_) => Err(ChildError::Running),
                        State::Restarting => Err(ChildError::Restarting),
                        State::Stopped => match self.start_spec(&self.children[at].spec).await {
                            Ok(state) => {
                                let pid = match &state {
                                    State::Running(started) => Some(started.pid),
                                    _ => None,
                                };
                                self.children[at].state = state;
                                Ok(pid)
                            }
                            Err(reason) => Err(ChildError::Start(reason)),
                        },
                    },
                };
                to.reply(result);
            }
            StaticReq::DeleteChild(id, to) => {
                let result = match self.position(&id) {
                    None => Err(ChildError::NotFound),
                    Some(at) => match self.children[at].state {
                        State::Running(_) => Err(ChildError::Running),
                        State::Restarting => Err(ChildError::Restarting),
                        State::Stopped => {
                            self.children.remove(at);
                            Ok(())
                        }
                    },
                };
                to.reply(result);
            }
            StaticReq::StartChild(spec, to) => {
                let result = self.start_child(spec).await;
                to.reply(result);
            }
        }
    }

    async fn start_child(&mut self, spec: ChildSpec) -> Result<Option<Pid>, StartError> {
        if let Some(at) = self.position(&spec.id) {
            return Err(match self.children[at].pid() {
                Some(pid) => StartError::AlreadyStarted(pid),
                None => StartError::AlreadyPresent,
            });
        }
        let state = self.start_spec(&spec).await?;
        let pid = match &state {
            State::Running(started) => Some(started.pid),
            _ => None,
        };
        if pid.is_some() || spec.restart != Restart::Temporary {
            self.children.push(Child { spec, state });
        }
        Ok(pid)
    }

    fn which_children(&self) -> Vec<ChildInfo> {
        self.children
            .iter()
            .rev()
            .map(|child| ChildInfo {
                id: Some(child.spec.id.clone()),
                pid: match &child.state {
                    State::Running(started) => ChildPid::Running(started.pid),
                    State::Restarting => ChildPid::Restarting,
                    State::Stopped => ChildPid::Undefined,
                },
                child_type: child.spec.child_type,
            })
            .collect()
    }

    fn count_children(&self) -> ChildCount {
        let mut count = ChildCount {
            specs: self.children.len(),
            ..ChildCount::default()
        };
        for child in &self.children {
            if child.pid().is_some() {
                count.active += 1;
            }
            match child.spec.child_type {
                ChildType::Worker => count.workers += 1,
                ChildType::Supervisor => count.supervisors += 1,
            }
        }
        count
    }
}
