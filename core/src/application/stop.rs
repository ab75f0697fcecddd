//! Stopping an application: drain, stop the tree in order, run the hooks.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use super::{Application, health};
use crate::child::ChildType;
use crate::dynamic_supervisor::DynamicSupervisor;
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process;
use crate::supervisor::ChildPid;

/// How an application's stop went.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StopReport {
    /// From the start of the stop to the end of the last hook.
    pub elapsed: Duration,
    /// The dynamic supervisors that were told to refuse new children.
    pub drained: usize,
    /// Whether the tree stopped in order within the budget; if not, the root was killed.
    pub tree_in_time: bool,
    /// How the root supervisor exited.
    pub reason: ExitReason,
    /// The `on_stop` hooks that did not finish within the budget, by name.
    pub hooks_timed_out: Vec<String>,
}

impl StopReport {
    /// Whether everything was done within the budget: the tree stopped in order and every
    /// hook finished.
    pub fn in_time(&self) -> bool {
        self.tree_in_time && self.hooks_timed_out.is_empty()
    }
}

pub(super) async fn run(app: &Application, budget: Duration) -> StopReport {
    let start = Instant::now();
    let deadline = start + budget;
    let inner = &app.inner;
    let root = inner.root.pid();

    let mut drained = 0;
    let _ = tokio::time::timeout_at(deadline, drain(root, &mut drained)).await;

    let stop = inner.root.stop(ExitReason::Shutdown);
    let tree_in_time = tokio::time::timeout_at(deadline, stop).await.is_ok();
    if !tree_in_time {
        tracing::warn!(
            target: "bough::application",
            ?budget,
            "the tree did not stop within the budget: killing the root supervisor"
        );
        process::kill(root);
    }
    // Resolves once the root and everything below it have ended, however it stopped.
    let reason = process::monitor(root).await;
    let reason = match reason {
        // The root had ended before `monitor` looked: its own monitor saw why.
        ExitReason::NoProc => inner.down.try_reason().unwrap_or(reason),
        reason => reason,
    };

    let hooks = std::mem::take(&mut *inner.hooks.lock());
    let mut hooks_timed_out = Vec::new();
    for (name, hook) in hooks {
        if tokio::time::timeout_at(deadline, hook()).await.is_err() {
            tracing::warn!(target: "bough::application", hook = %name, "an on_stop hook ran out of time");
            hooks_timed_out.push(name);
        }
    }
    StopReport {
        elapsed: start.elapsed(),
        drained,
        tree_in_time,
        reason,
        hooks_timed_out,
    }
}

/// Tells every dynamic supervisor at or below `pid` to refuse new children.
fn drain<'a>(pid: Pid, drained: &'a mut usize) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
    Box::pin(async move {
        // Drained before its children are read, so that a child supervisor it starts
        // meanwhile is among them.
        if let Ok(sup) = DynamicSupervisor::from_pid(pid)
            && sup.drain().await.is_ok()
        {
            *drained += 1;
        }
        let Ok(page) = health::children_worth_reading(pid).await else {
            return;
        };
        for child in page.children {
            if let (ChildType::Supervisor, ChildPid::Running(child)) = (child.child_type, child.pid)
            {
                drain(child, drained).await;
            }
        }
    })
}
