//! The dynamic supervisor process.

use std::any::Any;
use std::mem;
use std::sync::Arc;

use tokio::time::Instant;

use super::DynamicSupervisorOptions;
use crate::child_spec::{ChildSpec, ChildType, StartInfo};
use crate::error::{ChildError, StartError};
use crate::exit::ExitReason;
use crate::introspect::{ChildDetail, Children, Query, SupervisorInfo, SupervisorKind};
use crate::pid::{Pid, PidMap};
use crate::process::control::ProcessRef;
use crate::process::life::{Exit, Parent, Parts, Started, Starting};
use crate::process::mailbox::Mailbox;
use crate::registry::Name;
use crate::reply::ReplyTo;
use crate::supervisor::core::{self, Core, Kind};
use crate::supervisor::{
    ChildCount, ChildInfo, ChildPid, DEFAULT_MAX_RESTARTS, DEFAULT_PERIOD, Intensity, Requests,
    SupMsg, report, shutdown_all, shutdown_one,
};

pub(crate) enum DynReq {
    StartChild(
        ChildSpec,
        ReplyTo<Result<(Pid, Option<StartInfo>), StartError>>,
    ),
    TerminateChild(Pid, ReplyTo<Result<(), ChildError>>),
    WhichChildren(ReplyTo<Vec<ChildInfo>>),
    CountChildren(ReplyTo<ChildCount>),
    Describe(Query, ReplyTo<Children>),
    /// Refuse new children from now on: the application is stopping.
    Drain(ReplyTo<()>),
}

impl Requests for DynReq {
    /// A dynamic supervisor keeps a child whose restart failed under its last pid, as OTP
    /// does, and retries by that pid.
    type RetryKey = Pid;
}

/// A running child. Its handle is kept as [`Parts`], without the pid (the key) and the
/// shutdown (in the spec), so that an entry with its key fits in 128 bytes; `DynSup`'s drop
/// turns every one left back into a `Started`.
struct Running {
    spec: ChildSpec,
    parts: Parts,
}

struct DynSup {
    core: Core<DynReq>,
    me: ProcessRef,
    max_children: usize,
    extra: Option<Arc<dyn Any + Send + Sync>>,
    children: PidMap<Running>,
    /// Children whose restart failed, by their last pid, waiting for their retry.
    restarting: PidMap<ChildSpec>,
    supervisors: usize,
    /// How often each restarted child (by its pid, or its last pid while it waits for a
    /// retry) has been restarted; children never restarted are not here, so the common
    /// start and exit never touch it.
    restarts: PidMap<u32>,
    /// New children are refused: the application is stopping. Restarts go on.
    draining: bool,
}

pub(crate) type Mb = Mailbox<SupMsg<DynReq>>;

/// A dynamic supervisor's `init`: its options, built in its own process at every start and
/// restart.
pub(crate) type Init = Box<dyn FnOnce() -> DynamicSupervisorOptions + Send>;

/// Takes the name and spawns the supervisor, whose task runs `init` and checks the options;
/// it starts with no children.
pub(crate) fn spawn(
    init: Init,
    name: Option<Name>,
    parent: Parent,
) -> Result<(Arc<Mb>, Starting), StartError> {
    core::spawn(
        "DynamicSupervisor",
        name,
        parent,
        move |inbox, ack| async move {
            let checked = core::run_init(init).and_then(|options| {
                let intensity = Intensity::new(
                    options.max_restarts.unwrap_or(DEFAULT_MAX_RESTARTS),
                    options.period.unwrap_or(DEFAULT_PERIOD),
                )?;
                Ok((options, intensity))
            });
            let (options, intensity) = match checked {
                Ok(checked) => checked,
                Err(error) => return Exit::not_started(ExitReason::Shutdown, ack, error),
            };
            let sup = DynSup {
                me: inbox.mailbox.clone(),
                core: Core::new(inbox, intensity),
                max_children: options.max_children.unwrap_or(usize::MAX),
                extra: options.extra,
                children: PidMap::default(),
                restarting: PidMap::default(),
                supervisors: 0,
                restarts: PidMap::default(),
                draining: false,
            };
            ack.started(&sup.core.inbox.mailbox);
            core::run(sup).await
        },
    )
}

impl Kind for DynSup {
    type Req = DynReq;

    fn core(&mut self) -> &mut Core<DynReq> {
        &mut self.core
    }

    async fn on_exit(&mut self, pid: Pid, reason: ExitReason) -> Result<(), ExitReason> {
        let Some((spec, started)) = self.remove(pid) else {
            return Ok(());
        };
        self.core.linger(started.into_join());
        let restart = spec.restart.restarts_after(&reason);
        report::child_exited(self.core.pid, &spec.id, pid, &reason, restart);
        if !restart {
            self.forget_restarts(pid);
            return Ok(());
        }
        self.restart(pid, spec).await
    }

    async fn on_retry(&mut self, last_pid: Pid) -> Result<(), ExitReason> {
        match self.restarting.remove(&last_pid) {
            Some(spec) => self.restart(last_pid, spec).await,
            None => Ok(()),
        }
    }

    async fn on_request(&mut self, request: DynReq) {
        match request {
            DynReq::StartChild(spec, to) => {
                let result = self.start_child(spec).await;
                to.reply(result);
            }
            DynReq::TerminateChild(pid, to) => {
                let result = self.terminate_child(pid).await;
                to.reply(result);
            }
            DynReq::WhichChildren(to) => to.reply(self.which_children()),
            DynReq::CountChildren(to) => to.reply(self.count_children()),
            DynReq::Describe(query, to) => to.reply(self.describe(query)),
            DynReq::Drain(to) => {
                self.draining = true;
                to.reply(());
            }
        }
    }

    async fn terminate_all(&mut self) {
        self.restarts.clear();
        // Every handle is whole again before the first child is asked to stop.
        let children: Vec<Started> = mem::take(&mut self.children)
            .into_iter()
            .map(|(pid, child)| child.into_started(pid))
            .collect();
        shutdown_all(&mut self.core.inbox, self.core.pid, children).await;
    }
}

// Every insert and remove moves an entry: past 128 bytes that is a `memcpy` call.
#[cfg(not(loom))]
const _: () = assert!(mem::size_of::<(Pid, Running)>() <= 128);

impl Running {
    fn into_started(self, pid: Pid) -> Started {
        Started::from_parts(pid, self.parts, self.spec.shutdown)
    }
}

impl Drop for DynSup {
    /// The supervisor's task ended without `terminate_all` (it was aborted): its children
    /// are dropped as `Started` handles, which makes them orphans of this process.
    fn drop(&mut self) {
        for (pid, child) in self.children.drain() {
            drop(child.into_started(pid));
        }
    }
}

impl DynSup {
    fn count(&self) -> usize {
        self.children.len() + self.restarting.len()
    }

    fn insert(&mut self, spec: ChildSpec, started: Started) -> Pid {
        let pid = started.pid();
        if spec.child_type == ChildType::Supervisor {
            self.supervisors += 1;
        }
        let parts = started.into_parts();
        self.children.insert(pid, Running { spec, parts });
        pid
    }

    fn remove(&mut self, pid: Pid) -> Option<(ChildSpec, Started)> {
        let child = self.children.remove(&pid)?;
        if child.spec.child_type == ChildType::Supervisor {
            self.supervisors -= 1;
        }
        let started = Started::from_parts(pid, child.parts, child.spec.shutdown);
        Some((child.spec, started))
    }

    async fn start_child(
        &mut self,
        spec: ChildSpec,
    ) -> Result<(Pid, Option<StartInfo>), StartError> {
        if self.draining {
            return Err(StartError::ShuttingDown);
        }
        if self.count() >= self.max_children {
            return Err(StartError::MaxChildren);
        }
        match spec.start(&self.me, self.extra.clone()).await {
            Ok((started, info)) => {
                report::child_started(self.core.pid, &spec.id, started.pid());
                Ok((self.insert(spec, started), info))
            }
            Err(reason) => {
                if !matches!(reason, StartError::Ignore | StartError::AlreadyStarted(_)) {
                    report::start_error(self.core.pid, &spec.id, &reason);
                }
                Err(reason)
            }
        }
    }

    async fn terminate_child(&mut self, pid: Pid) -> Result<(), ChildError> {
        // A child waiting for a retry of its restart is known by its last pid: terminating
        // it forgets it, as OTP does.
        if self.restarting.remove(&pid).is_some() {
            self.forget_restarts(pid);
            return Ok(());
        }
        let (spec, started) = self.remove(pid).ok_or(ChildError::NotFound)?;
        self.forget_restarts(pid);
        shutdown_one(&mut self.core.inbox, self.core.pid, &spec.id, started).await;
        Ok(())
    }

    fn which_children(&self) -> Vec<ChildInfo> {
        let running = self.children.iter().map(|(pid, child)| ChildInfo {
            id: None,
            pid: ChildPid::Running(*pid),
            child_type: child.spec.child_type,
        });
        let restarting = self.restarting.values().map(|spec| ChildInfo {
            id: None,
            pid: ChildPid::Restarting,
            child_type: spec.child_type,
        });
        running.chain(restarting).collect()
    }

    fn count_children(&self) -> ChildCount {
        let specs = self.count();
        let restarting_supervisors = self
            .restarting
            .values()
            .filter(|spec| spec.child_type == ChildType::Supervisor)
            .count();
        let supervisors = self.supervisors + restarting_supervisors;
        ChildCount {
            specs,
            active: self.children.len(),
            supervisors,
            workers: specs - supervisors,
        }
    }

    /// Restarts a child that exited with pid `last_pid`.
    async fn restart(&mut self, last_pid: Pid, spec: ChildSpec) -> Result<(), ExitReason> {
        if !self.core.intensity.add_restart(Instant::now()) {
            report::intensity_reached(self.core.pid, &spec.id, &ExitReason::Shutdown);
            return Err(ExitReason::Shutdown);
        }
        let restarts = self.forget_restarts(last_pid).saturating_add(1);
        match spec.start(&self.me, self.extra.clone()).await {
            Ok((started, _)) => {
                report::child_restarted(self.core.pid, &spec.id, started.pid());
                let pid = self.insert(spec, started);
                self.restarts.insert(pid, restarts);
            }
            // A child that ignores its restart is done, as in OTP.
            Err(StartError::Ignore) => {}
            Err(reason) => {
                report::start_error(self.core.pid, &spec.id, &reason);
                self.restarting.insert(last_pid, spec);
                self.restarts.insert(last_pid, restarts);
                self.core.inbox.retry_later(last_pid);
            }
        }
        Ok(())
    }

    /// Takes the restart count of a child that is gone.
    fn forget_restarts(&mut self, pid: Pid) -> u32 {
        if self.restarts.is_empty() {
            return 0;
        }
        self.restarts.remove(&pid).unwrap_or(0)
    }

    fn describe(&self, query: Query) -> Children {
        let restarts = |pid: Pid| self.restarts.get(&pid).copied().unwrap_or(0);
        let running = |(pid, child): (&Pid, &Running)| ChildDetail {
            id: None,
            pid: ChildPid::Running(*pid),
            child_type: child.spec.child_type,
            restart: child.spec.restart,
            shutdown: child.spec.shutdown,
            restarts: restarts(*pid),
        };
        let restarting = |(last_pid, spec): (&Pid, &ChildSpec)| ChildDetail {
            id: None,
            pid: ChildPid::Restarting,
            child_type: spec.child_type,
            restart: spec.restart,
            shutdown: spec.shutdown,
            restarts: restarts(*last_pid),
        };
        let total = self.count();
        let range = query.range(total);
        let offset = range.start;
        let children = match query {
            Query::Child(pid) => self
                .children
                .get_key_value(&pid)
                .map(running)
                .into_iter()
                .collect(),
            Query::Page { .. } => self
                .children
                .iter()
                .map(running)
                .chain(self.restarting.iter().map(restarting))
                .skip(range.start)
                .take(range.len())
                .collect(),
        };
        let intensity = &self.core.intensity;
        Children {
            supervisor: SupervisorInfo {
                kind: SupervisorKind::Dynamic {
                    max_children: (self.max_children != usize::MAX).then_some(self.max_children),
                },
                max_restarts: intensity.max_restarts(),
                period: intensity.period(),
                recent_restarts: intensity.recent(Instant::now()),
                total_restarts: intensity.total(),
                count: self.count_children(),
            },
            offset,
            total,
            children,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::prelude::*;

    struct Idle;

    impl GenServer for Idle {
        type Args = ();
        type Call = Never;
        type Reply = Never;
        type Cast = Never;
        type Info = Never;
        type Continue = Never;

        async fn init(_: ()) -> Init<Self> {
            Init::Ok(Idle)
        }
    }

    fn alive_tasks() -> usize {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    }

    /// The children's handles are kept in parts: a supervisor aborted without its
    /// `terminate_all` must still make them whole, so that they end with it.
    #[tokio::test(start_paused = true)]
    async fn an_aborted_dynamic_supervisor_takes_its_children_with_it() {
        let dynamic = DynamicSupervisor::child_spec(
            DynamicSupervisorOptions::new().name("an_aborted_dynamic_supervisor"),
        )
        .id("dyn")
        .shutdown(Shutdown::BrutalKill);
        let top = Supervisor::start_link([dynamic], SupervisorOptions::new(Strategy::OneForOne))
            .await
            .unwrap();
        let sup =
            DynamicSupervisor::whereis(&Name::local("an_aborted_dynamic_supervisor")).unwrap();
        for _ in 0..3 {
            sup.start_child(ChildSpec::worker::<Idle>(()))
                .await
                .unwrap();
        }
        assert_eq!(alive_tasks(), 1 + 1 + 3);
        top.terminate_child("dyn").await.unwrap();
        assert_eq!(alive_tasks(), 1, "only the top supervisor is left");
        top.stop(ExitReason::Normal).await.unwrap();
    }
}
