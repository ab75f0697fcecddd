//! The dynamic supervisor process.

use std::any::Any;
use std::collections::HashMap;
use std::mem;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::DynamicSupervisorOptions;
use crate::child_spec::{ChildSpec, ChildType};
use crate::error::{ChildError, StartError};
use crate::exit::ExitReason;
use crate::mailbox::{Event, Mailbox};
use crate::pid::{Pid, PidMap};
use crate::process::{self, Birth, Exit, Link, Started, Starting};
use crate::registry::Registration;
use crate::reply::ReplyTo;
use crate::supervisor::{
    ChildCount, ChildInfo, ChildPid, Inbox, Intensity, RetryKey, SupMsg, report, shutdown_all,
    shutdown_one,
};

pub(crate) enum DynReq {
    StartChild(ChildSpec, ReplyTo<Result<Pid, StartError>>),
    TerminateChild(Pid, ReplyTo<Result<(), ChildError>>),
    WhichChildren(ReplyTo<Vec<ChildInfo>>),
    CountChildren(ReplyTo<ChildCount>),
}

struct Running {
    spec: ChildSpec,
    started: Started,
}

struct DynSup {
    pid: Pid,
    intensity: Intensity,
    max_children: usize,
    extra: Option<Arc<dyn Any + Send + Sync>>,
    link: Arc<dyn Link>,
    children: PidMap<Running>,
    /// Children whose restart failed, waiting for their retry.
    restarting: HashMap<u64, ChildSpec>,
    next_slot: u64,
    supervisors: usize,
    inbox: Inbox<DynReq>,
    lingering: Vec<JoinHandle<()>>,
}

/// A supervisor dropped while children still run was killed (its task aborted): its
/// children go with it, as linked processes die with a killed supervisor in OTP.
impl Drop for DynSup {
    fn drop(&mut self) {
        for child in self.children.values() {
            child.started.join.abort();
        }
    }
}

type Mb = Mailbox<SupMsg<DynReq>>;

/// Takes the name and spawns the supervisor, which starts with no children.
pub(crate) fn spawn(
    options: DynamicSupervisorOptions,
    parent: Option<Arc<dyn Link>>,
) -> Result<(Arc<Mb>, Starting), StartError> {
    let pid = Pid::next();
    let mailbox: Arc<Mb> = Arc::new(Mailbox::new());
    let registration = match options.name {
        Some(name) => Some(
            Registration::take(name, pid, mailbox.clone(), "DynamicSupervisor")
                .map_err(StartError::AlreadyStarted)?,
        ),
        None => None,
    };
    let inbox = Inbox::new(mailbox.clone());
    let sup = DynSup {
        pid,
        intensity: Intensity::new(
            options.max_restarts.unwrap_or(3),
            options.period.unwrap_or(Duration::from_secs(5)),
        ),
        max_children: options.max_children.unwrap_or(usize::MAX),
        extra: options.extra,
        link: inbox.link(),
        children: PidMap::default(),
        restarting: HashMap::new(),
        next_slot: 0,
        supervisors: 0,
        inbox,
        lingering: Vec::new(),
    };
    let starting = process::start(
        Birth::new(pid, registration),
        mailbox.clone(),
        parent,
        |ack| async move {
            ack.reply(Ok(()));
            sup.run().await
        },
    );
    Ok((mailbox, starting))
}

impl DynSup {
    async fn run(mut self) -> Exit {
        let (reason, waiter) = loop {
            let outcome = match self.inbox.next().await {
                Event::Signal(reason) => break (reason, None),
                Event::Message(SupMsg::Stop(reason, to)) => break (reason, Some(to)),
                Event::Message(SupMsg::Exit(pid, reason)) => self.on_exit(pid, reason).await,
                Event::Message(SupMsg::Retry(RetryKey::Slot(slot))) => self.retry(slot).await,
                Event::Message(SupMsg::Retry(RetryKey::Id(_))) => Ok(()),
                Event::Message(SupMsg::Request(request)) => {
                    self.on_request(request).await;
                    Ok(())
                }
            };
            if let Err(give_up) = outcome {
                break (give_up, None);
            }
        };
        let children = mem::take(&mut self.children)
            .into_values()
            .map(|child| (child.started, child.spec.shutdown));
        shutdown_all(&mut self.inbox, self.pid, children).await;
        for join in mem::take(&mut self.lingering) {
            let _ = join.await;
        }
        self.inbox.close(reason.clone());
        Exit::new(reason, waiter)
    }

    fn count(&self) -> usize {
        self.children.len() + self.restarting.len()
    }

    async fn start_spec(&self, spec: &ChildSpec) -> Result<Started, StartError> {
        spec.start(self.link.clone(), self.extra.clone())?
            .wait()
            .await
    }

    fn insert(&mut self, spec: ChildSpec, started: Started) -> Pid {
        let pid = started.pid;
        if spec.child_type == ChildType::Supervisor {
            self.supervisors += 1;
        }
        self.children.insert(pid, Running { spec, started });
        pid
    }

    fn remove(&mut self, pid: Pid) -> Option<Running> {
        let child = self.children.remove(&pid)?;
        if child.spec.child_type == ChildType::Supervisor {
            self.supervisors -= 1;
        }
        Some(child)
    }

    fn linger(&mut self, join: JoinHandle<()>) {
        if !join.is_finished() {
            if self.lingering.len() >= 64 {
                self.lingering.retain(|join| !join.is_finished());
            }
            self.lingering.push(join);
        }
    }

    async fn on_request(&mut self, request: DynReq) {
        match request {
            DynReq::StartChild(spec, to) => {
                let result = if self.count() >= self.max_children {
                    Err(StartError::MaxChildren)
                } else {
                    match self.start_spec(&spec).await {
                        Ok(started) => {
                            report::child_started(self.pid, &spec.id, started.pid);
                            Ok(self.insert(spec, started))
                        }
                        Err(reason) => {
                            if !matches!(reason, StartError::Ignore | StartError::AlreadyStarted(_))
                            {
                                report::start_error(self.pid, &spec.id, &reason);
                            }
                            Err(reason)
                        }
                    }
                };
                to.reply(result);
            }
            DynReq::TerminateChild(pid, to) => {
                let result = match self.remove(pid) {
                    None => Err(ChildError::NotFound),
                    Some(child) => {
                        let shutdown = child.spec.shutdown;
                        shutdown_one(
                            &mut self.inbox,
                            self.pid,
                            &child.spec.id,
                            child.started,
                            shutdown,
                        )
                        .await;
                        Ok(())
                    }
                };
                to.reply(result);
            }
            DynReq::WhichChildren(to) => {
                let running = self.children.values().map(|child| ChildInfo {
                    id: None,
                    pid: ChildPid::Running(child.started.pid),
                    child_type: child.spec.child_type,
                });
                let restarting = self.restarting.values().map(|spec| ChildInfo {
                    id: None,
                    pid: ChildPid::Restarting,
                    child_type: spec.child_type,
                });
                to.reply(running.chain(restarting).collect());
            }
            DynReq::CountChildren(to) => {
                let specs = self.count();
                let restarting_supervisors = self
                    .restarting
                    .values()
                    .filter(|spec| spec.child_type == ChildType::Supervisor)
                    .count();
                let supervisors = self.supervisors + restarting_supervisors;
                to.reply(ChildCount {
                    specs,
                    active: self.children.len(),
                    supervisors,
                    workers: specs - supervisors,
                });
            }
        }
    }

    async fn on_exit(&mut self, pid: Pid, reason: ExitReason) -> Result<(), ExitReason> {
        let Some(child) = self.remove(pid) else {
            return Ok(());
        };
        self.linger(child.started.join);
        let restart = child.spec.restart.restarts_after(&reason);
        report::child_exited(self.pid, &child.spec.id, pid, &reason, restart);
        if !restart {
            return Ok(());
        }
        self.restart(child.spec).await
    }

    async fn retry(&mut self, slot: u64) -> Result<(), ExitReason> {
        match self.restarting.remove(&slot) {
            Some(spec) => self.restart(spec).await,
            None => Ok(()),
        }
    }

    async fn restart(&mut self, spec: ChildSpec) -> Result<(), ExitReason> {
        if !self.intensity.add_restart(Instant::now()) {
            report::intensity_reached(self.pid, &spec.id, &ExitReason::Shutdown);
            return Err(ExitReason::Shutdown);
        }
        match self.start_spec(&spec).await {
            Ok(started) => {
                report::child_restarted(self.pid, &spec.id, started.pid);
                self.insert(spec, started);
            }
            // A child that ignores its restart is done, as in OTP.
            Err(StartError::Ignore) => {}
            Err(reason) => {
                report::start_error(self.pid, &spec.id, &reason);
                let slot = self.next_slot;
                self.next_slot += 1;
                self.restarting.insert(slot, spec);
                let _ = self.inbox.mailbox.push(SupMsg::Retry(RetryKey::Slot(slot)));
            }
        }
        Ok(())
    }
}
