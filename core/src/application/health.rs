//! Liveness and readiness, read off the tree.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Application;
use crate::child::{ChildId, ChildType, Restart};
use crate::error::CallError;
use crate::exit::ExitReason;
use crate::introspect::{self, Children};
use crate::pid::Pid;
use crate::supervisor::ChildPid;

/// Whether an application is live: what a liveness probe answers.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Liveness {
    /// The root supervisor runs.
    Live,
    /// The root supervisor exited, for this reason: it gave up (`Shutdown` after too many
    /// restarts) or was stopped.
    Down(ExitReason),
}

impl Liveness {
    /// Whether the root supervisor runs.
    pub fn is_live(&self) -> bool {
        matches!(self, Liveness::Live)
    }
}

impl fmt::Display for Liveness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Liveness::Live => f.write_str("live"),
            Liveness::Down(reason) => write!(f, "down: the root supervisor exited with {reason}"),
        }
    }
}

/// Whether an application is ready, and if not, every reason found.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    reasons: Vec<NotReady>,
}

impl Readiness {
    /// Whether nothing keeps the application from being ready.
    pub fn is_ready(&self) -> bool {
        self.reasons.is_empty()
    }

    /// What keeps it from being ready; empty when it is.
    pub fn reasons(&self) -> &[NotReady] {
        &self.reasons
    }
}

impl fmt::Display for Readiness {
    /// `ready`, or `not ready: ` and each reason, separated by `; `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((first, rest)) = self.reasons.split_first() else {
            return f.write_str("ready");
        };
        write!(f, "not ready: {first}")?;
        for reason in rest {
            write!(f, "; {reason}")?;
        }
        Ok(())
    }
}

/// One reason an application is not ready.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NotReady {
    /// A stop has begun.
    Stopping,
    /// The root supervisor exited, for this reason.
    Down(ExitReason),
    /// A permanent child does not run: its restart failed and waits for a retry
    /// ([`ChildPid::Restarting`]), or it was terminated ([`ChildPid::Undefined`]).
    ChildNotRunning {
        /// Its supervisor.
        supervisor: Pid,
        /// Its id; `None` under a dynamic supervisor.
        id: Option<ChildId>,
        /// What `which_children` says of it.
        pid: ChildPid,
    },
    /// A supervisor did not answer within the probe's time-out: it may be stuck in a long
    /// restart or in a child's `init`.
    Unresponsive(Pid),
    /// A [readiness check](super::ApplicationBuilder::readiness_check) failed; its name.
    Check(String),
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReady::Stopping => f.write_str("stopping"),
            NotReady::Down(reason) => write!(f, "the root supervisor exited with {reason}"),
            NotReady::ChildNotRunning {
                supervisor,
                id,
                pid,
            } => {
                let state = match pid {
                    ChildPid::Restarting => "is restarting",
                    _ => "is not running",
                };
                match id {
                    Some(id) => write!(f, "permanent child `{id}` of {supervisor} {state}"),
                    None => write!(f, "a permanent child of {supervisor} {state}"),
                }
            }
            NotReady::Unresponsive(pid) => write!(f, "supervisor {pid} did not answer in time"),
            NotReady::Check(name) => write!(f, "check `{name}` failed"),
        }
    }
}

pub(super) async fn readiness(app: &Application, timeout: Duration) -> Readiness {
    let mut reasons = Vec::new();
    let inner = &app.inner;
    if inner.stopping.load(Ordering::Acquire) {
        reasons.push(NotReady::Stopping);
    }
    match app.live() {
        Liveness::Down(reason) => reasons.push(NotReady::Down(reason)),
        Liveness::Live => walk(inner.root.pid(), timeout, &mut reasons).await,
    }
    for (name, check) in &inner.checks {
        if !check() {
            reasons.push(NotReady::Check(name.clone()));
        }
    }
    Readiness { reasons }
}

/// Checks the permanent children of the supervisor `pid`, then walks into its child
/// supervisors.
fn walk<'a>(
    pid: Pid,
    timeout: Duration,
    reasons: &'a mut Vec<NotReady>,
) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        let Some(page) = ask(pid, timeout, reasons).await else {
            return;
        };
        for child in page.children {
            match child.pid {
                ChildPid::Running(child_pid) if child.child_type == ChildType::Supervisor => {
                    walk(child_pid, timeout, reasons).await;
                }
                ChildPid::Running(_) => {}
                state if child.restart == Restart::Permanent => {
                    reasons.push(NotReady::ChildNotRunning {
                        supervisor: pid,
                        id: child.id,
                        pid: state,
                    });
                }
                _ => {}
            }
        }
    })
}

/// The children of `pid` worth looking at, given `timeout` to answer; an unresponsive
/// supervisor is a reason not to be ready.
async fn ask(pid: Pid, timeout: Duration, reasons: &mut Vec<NotReady>) -> Option<Children> {
    match tokio::time::timeout(timeout, children_worth_reading(pid)).await {
        Ok(Ok(page)) => Some(page),
        // It exited between two questions: its own supervisor's answer, or the root's
        // liveness, says so.
        Ok(Err(CallError::NoProc | CallError::Exited(_))) => None,
        Ok(Err(_)) | Err(_) => {
            reasons.push(NotReady::Unresponsive(pid));
            None
        }
    }
}

/// The children of the supervisor `pid` that a walk of the tree must see: all of a static
/// supervisor's; a dynamic supervisor's only when some are supervisors or some do not run,
/// so that a pool of a million running workers is counted, not listed.
pub(super) async fn children_worth_reading(pid: Pid) -> Result<Children, CallError> {
    let info = introspect::supervisor_info(pid).await?;
    let count = info.count;
    let dynamic = matches!(info.kind, introspect::SupervisorKind::Dynamic { .. });
    let limit = if dynamic && count.supervisors == 0 && count.active == count.specs {
        0
    } else {
        usize::MAX
    };
    introspect::children(pid, 0, limit).await
}
