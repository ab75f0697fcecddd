//! The static supervisor process: its start, its restart strategies and its requests.

use std::collections::HashSet;
use std::mem;
use std::sync::Arc;

use tokio::time::Instant;

use super::core::{self, Core, Kind};
use super::inbox::{Requests, SupMsg};
use super::intensity::Intensity;
use super::{ChildCount, ChildInfo, ChildPid, Strategy, SupervisorOptions, report, shutdown};
use crate::child_spec::{ChildId, ChildSpec, ChildType, Restart, StartInfo};
use crate::error::{ChildError, StartError};
use crate::exit::ExitReason;
use crate::introspect::{ChildDetail, Children, Query, SupervisorInfo, SupervisorKind};
use crate::pid::Pid;
use crate::process::control::ProcessRef;
use crate::process::life::{Ack, Exit, Parent, Started, Starting};
use crate::process::mailbox::Mailbox;
use crate::registry::Name;
use crate::reply::ReplyTo;

pub(crate) enum StaticReq {
    WhichChildren(ReplyTo<Vec<ChildInfo>>),
    CountChildren(ReplyTo<ChildCount>),
    TerminateChild(ChildId, ReplyTo<Result<(), ChildError>>),
    RestartChild(ChildId, ReplyTo<Result<Option<Pid>, ChildError>>),
    DeleteChild(ChildId, ReplyTo<Result<(), ChildError>>),
    StartChild(ChildSpec, ReplyTo<Result<Option<PidInfo>, StartError>>),
    Describe(Query, ReplyTo<Children>),
}

/// A started child's pid and what its custom start function added.
pub(crate) type PidInfo = (Pid, Option<StartInfo>);

impl Requests for StaticReq {
    /// A static supervisor retries a failed restart by the child's id.
    type RetryKey = ChildId;
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
    /// Restarts of this child by the strategy, for introspection.
    restarts: u32,
}

impl Child {
    fn pid(&self) -> Option<Pid> {
        match &self.state {
            State::Running(started) => Some(started.pid()),
            State::Restarting | State::Stopped => None,
        }
    }
}

struct StaticSup {
    core: Core<StaticReq>,
    /// The supervisor itself, as its children's parent.
    me: ProcessRef,
    strategy: Strategy,
    /// In start order.
    children: Vec<Child>,
}

pub(crate) type Mb = Mailbox<SupMsg<StaticReq>>;

/// A static supervisor's `init`: its children and options, built in its own process at
/// every start and restart.
pub(crate) type Init = Box<dyn FnOnce() -> (Vec<ChildSpec>, SupervisorOptions) + Send>;

/// Takes the name and spawns the supervisor, whose task runs `init`, checks the specs and
/// options, and starts the children in order.
pub(crate) fn spawn(
    init: Init,
    name: Option<Name>,
    parent: Parent,
) -> Result<(Arc<Mb>, Starting), StartError> {
    core::spawn("Supervisor", name, parent, move |inbox, ack| async move {
        let checked = core::run_init(init).and_then(|(specs, options)| {
            let mut ids = HashSet::with_capacity(specs.len());
            if let Some(dup) = specs.iter().find(|spec| !ids.insert(&spec.id)) {
                return Err(StartError::DuplicateChildId(dup.id.clone()));
            }
            let intensity = Intensity::new(options.max_restarts, options.period)?;
            Ok((specs, options.strategy, intensity))
        });
        let (specs, strategy, intensity) = match checked {
            Ok(checked) => checked,
            Err(error) => return Exit::not_started(ExitReason::Shutdown, ack, error),
        };
        let sup = StaticSup {
            me: inbox.mailbox.clone(),
            core: Core::new(inbox, intensity),
            strategy,
            children: Vec::with_capacity(specs.len()),
        };
        sup.live(specs, ack).await
    })
}

impl Kind for StaticSup {
    type Req = StaticReq;

    fn core(&mut self) -> &mut Core<StaticReq> {
        &mut self.core
    }

    async fn on_exit(&mut self, pid: Pid, reason: ExitReason) -> Result<(), ExitReason> {
        let Some(at) = self.children.iter().position(|c| c.pid() == Some(pid)) else {
            return Ok(());
        };
        if let State::Running(started) = mem::replace(&mut self.children[at].state, State::Stopped)
        {
            self.core.linger(started.into_join());
        }
        let spec = &self.children[at].spec;
        let restart = spec.restart.restarts_after(&reason);
        report::child_exited(self.core.pid, &spec.id, pid, &reason, restart);
        if !restart {
            if spec.restart == Restart::Temporary {
                self.children.remove(at);
            }
            return Ok(());
        }
        self.restart(at).await
    }

    async fn on_retry(&mut self, id: ChildId) -> Result<(), ExitReason> {
        match self.position(&id) {
            Some(at) if matches!(self.children[at].state, State::Restarting) => {
                self.restart(at).await
            }
            _ => Ok(()),
        }
    }

    async fn on_request(&mut self, request: StaticReq) {
        match request {
            StaticReq::WhichChildren(to) => to.reply(self.which_children()),
            StaticReq::CountChildren(to) => to.reply(self.count_children()),
            StaticReq::TerminateChild(id, to) => {
                let result = self.terminate_child(&id).await;
                to.reply(result);
            }
            StaticReq::RestartChild(id, to) => {
                let result = self.restart_child(&id).await;
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
            StaticReq::Describe(query, to) => to.reply(self.describe(query)),
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
}

impl StaticSup {
    /// The supervisor's `init` (start the children, in order), then its loop.
    async fn live(mut self, specs: Vec<ChildSpec>, ack: Ack) -> Exit {
        if let Err(error) = self.start_all(specs).await {
            self.terminate_all().await;
            return Exit::not_started(ExitReason::Shutdown, ack, error);
        }
        ack.started(&self.core.inbox.mailbox);
        core::run(self).await
    }

    async fn start_all(&mut self, specs: Vec<ChildSpec>) -> Result<(), StartError> {
        for spec in specs {
            match self.start_spec(&spec).await {
                Ok((state, _)) => {
                    if !matches!(state, State::Stopped) || spec.restart != Restart::Temporary {
                        self.children.push(Child {
                            spec,
                            state,
                            restarts: 0,
                        });
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
    async fn start_spec(&self, spec: &ChildSpec) -> Result<(State, Option<StartInfo>), StartError> {
        match spec.start(&self.me, None).await {
            Ok((started, info)) => {
                report::child_started(self.core.pid, &spec.id, started.pid());
                Ok((State::Running(started), info))
            }
            Err(StartError::Ignore) => Ok((State::Stopped, None)),
            Err(reason) => {
                report::start_error(self.core.pid, &spec.id, &reason);
                Err(reason)
            }
        }
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.children.iter().position(|child| child.spec.id == id)
    }

    /// Counts a restart of child `at` and restarts by the strategy.
    async fn restart(&mut self, at: usize) -> Result<(), ExitReason> {
        if !self.core.intensity.add_restart(Instant::now()) {
            let id = self.children[at].spec.id.clone();
            report::intensity_reached(self.core.pid, &id, &ExitReason::Shutdown);
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
            self.children[i].restarts = self.children[i].restarts.saturating_add(1);
            match self.start_spec(&self.children[i].spec).await {
                Ok((state, _)) => {
                    if let State::Running(started) = &state {
                        report::child_restarted(
                            self.core.pid,
                            &self.children[i].spec.id,
                            started.pid(),
                        );
                    }
                    self.children[i].state = state;
                }
                Err(_) => {
                    self.children[i].state = State::Restarting;
                    let id = self.children[i].spec.id.clone();
                    self.core.inbox.retry_later(id);
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
                let id = child.spec.id.clone();
                shutdown::one(&mut self.core.inbox, self.core.pid, &id, started).await;
            }
            State::Restarting | State::Stopped => {}
        }
    }

    async fn terminate_child(&mut self, id: &str) -> Result<(), ChildError> {
        let at = self.position(id).ok_or(ChildError::NotFound)?;
        self.terminate_at(at).await;
        if self.children[at].spec.restart == Restart::Temporary {
            self.children.remove(at);
        }
        Ok(())
    }

    async fn restart_child(&mut self, id: &str) -> Result<Option<Pid>, ChildError> {
        let at = self.position(id).ok_or(ChildError::NotFound)?;
        match self.children[at].state {
            State::Running(_) => Err(ChildError::Running),
            State::Restarting => Err(ChildError::Restarting),
            State::Stopped => {
                let (state, _) = self
                    .start_spec(&self.children[at].spec)
                    .await
                    .map_err(ChildError::Start)?;
                self.children[at].state = state;
                Ok(self.children[at].pid())
            }
        }
    }

    async fn start_child(&mut self, spec: ChildSpec) -> Result<Option<PidInfo>, StartError> {
        if let Some(at) = self.position(&spec.id) {
            return Err(match self.children[at].pid() {
                Some(pid) => StartError::AlreadyStarted(pid),
                None => StartError::AlreadyPresent,
            });
        }
        let (state, info) = self.start_spec(&spec).await?;
        let started = match &state {
            State::Running(started) => Some((started.pid(), info)),
            _ => None,
        };
        if started.is_some() || spec.restart != Restart::Temporary {
            self.children.push(Child {
                spec,
                state,
                restarts: 0,
            });
        }
        Ok(started)
    }

    fn which_children(&self) -> Vec<ChildInfo> {
        self.children
            .iter()
            .rev()
            .map(|child| ChildInfo {
                id: Some(child.spec.id.clone()),
                pid: match &child.state {
                    State::Running(started) => ChildPid::Running(started.pid()),
                    State::Restarting => ChildPid::Restarting,
                    State::Stopped => ChildPid::Undefined,
                },
                child_type: child.spec.child_type,
            })
            .collect()
    }

    fn describe(&self, query: Query) -> Children {
        let detail = |child: &Child| ChildDetail {
            id: Some(child.spec.id.clone()),
            pid: match &child.state {
                State::Running(started) => ChildPid::Running(started.pid()),
                State::Restarting => ChildPid::Restarting,
                State::Stopped => ChildPid::Undefined,
            },
            child_type: child.spec.child_type,
            restart: child.spec.restart,
            shutdown: child.spec.shutdown,
            restarts: child.restarts,
        };
        let range = query.range(self.children.len());
        let offset = range.start;
        let children = match query {
            Query::Child(pid) => self
                .children
                .iter()
                .filter(|child| child.pid() == Some(pid))
                .map(detail)
                .collect(),
            Query::Page { .. } => self.children[range].iter().map(detail).collect(),
        };
        let intensity = &self.core.intensity;
        Children {
            supervisor: SupervisorInfo {
                kind: SupervisorKind::Static {
                    strategy: self.strategy,
                },
                max_restarts: intensity.max_restarts(),
                period: intensity.period(),
                recent_restarts: intensity.recent(Instant::now()),
                total_restarts: intensity.total(),
                count: self.count_children(),
            },
            offset,
            total: self.children.len(),
            children,
        }
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
