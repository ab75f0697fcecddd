//! Stopping children: one at a time (static supervisors, in reverse start order) or all
//! together (dynamic supervisors), each within its own `shutdown` budget.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::inbox::Inbox;
use super::report;
use crate::child_spec::Shutdown;
use crate::exit::ExitReason;
use crate::pid::{Pid, PidMap};
use crate::process::Started;

/// Whether `reason` is what a child stopped with `shutdown` is expected to exit with.
fn expected(shutdown: Shutdown, reason: &ExitReason) -> bool {
    match shutdown {
        Shutdown::BrutalKill => matches!(reason, ExitReason::Killed),
        Shutdown::Timeout(_) => matches!(reason, ExitReason::Shutdown | ExitReason::Killed),
        Shutdown::Infinity => matches!(reason, ExitReason::Shutdown),
    }
}

fn begin(child: &Started, shutdown: Shutdown) -> Option<Instant> {
    match shutdown {
        Shutdown::BrutalKill => {
            child.join.abort();
            None
        }
        Shutdown::Timeout(budget) => {
            child.control.signal(ExitReason::Shutdown);
            Some(Instant::now() + budget)
        }
        Shutdown::Infinity => {
            child.control.signal(ExitReason::Shutdown);
            None
        }
    }
}

/// Stops one child as its spec says and returns once its task has ended.
pub(crate) async fn one<R: Send + 'static>(
    inbox: &mut Inbox<R>,
    sup: Pid,
    id: &str,
    child: Started,
    shutdown: Shutdown,
) -> ExitReason {
    let deadline = begin(&child, shutdown);
    let reason = match inbox.exit_of(child.pid, deadline).await {
        Some(reason) => reason,
        None => {
            child.join.abort();
            loop {
                if let Some(reason) = inbox.exit_of(child.pid, None).await {
                    break reason;
                }
            }
        }
    };
    if !expected(shutdown, &reason) {
        report::shutdown_error(sup, id, child.pid, &reason);
    }
    // The exit notice comes as the task ends; wait for the very end.
    let _ = child.join.await;
    reason
}

/// Stops all `children` at once and returns once every task has ended. A child past its
/// own deadline is aborted; the others keep their time.
pub(crate) async fn all<R: Send + 'static>(
    inbox: &mut Inbox<R>,
    sup: Pid,
    children: impl IntoIterator<Item = (Started, Shutdown)>,
) {
    let mut live: PidMap<(JoinHandle<()>, Shutdown)> = PidMap::default();
    let mut deadlines = BinaryHeap::new();
    for (child, shutdown) in children {
        if let Some(deadline) = begin(&child, shutdown) {
            deadlines.push(Reverse((deadline, child.pid)));
        }
        live.insert(child.pid, (child.join, shutdown));
    }
    let mut ended = Vec::with_capacity(live.len());
    while !live.is_empty() {
        let next_deadline = deadlines.peek().map(|Reverse((at, _))| *at);
        match inbox.any_exit(next_deadline).await {
            Some((pid, reason)) => {
                if let Some((join, shutdown)) = live.remove(&pid) {
                    if !expected(shutdown, &reason) {
                        report::shutdown_error(sup, "undefined", pid, &reason);
                    }
                    ended.push(join);
                }
            }
            None => {
                let now = Instant::now();
                while let Some(Reverse((at, pid))) = deadlines.peek().copied() {
                    if at > now {
                        break;
                    }
                    deadlines.pop();
                    if let Some((join, _)) = live.get(&pid) {
                        join.abort();
                    }
                }
            }
        }
    }
    for join in ended {
        let _ = join.await;
    }
}
