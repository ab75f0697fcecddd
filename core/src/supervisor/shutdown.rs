//! Stopping children: one at a time (static supervisors, in reverse start order) or all
//! together (dynamic supervisors), each within its own `shutdown` budget.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use tokio::time::Instant;

use super::inbox::{Inbox, Requests};
use super::report;
use crate::child_spec::Shutdown;
use crate::exit::ExitReason;
use crate::pid::{Pid, PidMap};
use crate::process::life::Started;

/// Whether `reason` is what a child stopped with `shutdown` is expected to exit with.
fn expected(shutdown: Shutdown, reason: &ExitReason) -> bool {
    match shutdown {
        Shutdown::BrutalKill => matches!(reason, ExitReason::Killed),
        Shutdown::Timeout(_) => matches!(reason, ExitReason::Shutdown | ExitReason::Killed),
        Shutdown::Infinity => matches!(reason, ExitReason::Shutdown),
    }
}

/// Stops one child as its spec says and returns once its task has ended.
pub(crate) async fn one<R: Requests>(
    inbox: &mut Inbox<R>,
    sup: Pid,
    id: &str,
    mut child: Started,
) -> ExitReason {
    let pid = child.pid();
    let shutdown = child.shutdown();
    let deadline = child.begin_stop(ExitReason::Shutdown);
    let reason = match inbox.exit_of(pid, deadline).await {
        Some(reason) => reason,
        None => {
            child.control().kill(ExitReason::Killed);
            loop {
                if let Some(reason) = inbox.exit_of(pid, None).await {
                    break reason;
                }
            }
        }
    };
    if !expected(shutdown, &reason) {
        report::shutdown_error(sup, id, pid, &reason);
    }
    // The exit notice comes as the task ends; wait for the very end.
    child.ended(None).await;
    child.disarm();
    reason
}

/// Stops all `children` at once and returns once every task has ended. A child past its
/// own deadline is killed; the others keep their time.
pub(crate) async fn all<R: Requests>(
    inbox: &mut Inbox<R>,
    sup: Pid,
    children: impl IntoIterator<Item = Started>,
) {
    let mut live: PidMap<Started> = PidMap::default();
    let mut deadlines = BinaryHeap::new();
    for child in children {
        if let Some(deadline) = child.begin_stop(ExitReason::Shutdown) {
            deadlines.push(Reverse((deadline, child.pid())));
        }
        live.insert(child.pid(), child);
    }
    let mut ended = Vec::with_capacity(live.len());
    while !live.is_empty() {
        let next_deadline = deadlines.peek().map(|Reverse((at, _))| *at);
        match inbox.any_exit(next_deadline).await {
            Some((pid, reason)) => {
                if let Some(child) = live.remove(&pid) {
                    if !expected(child.shutdown(), &reason) {
                        report::shutdown_error(sup, "undefined", pid, &reason);
                    }
                    ended.push(child);
                }
            }
            None => {
                let now = Instant::now();
                while let Some(Reverse((at, pid))) = deadlines.peek().copied() {
                    if at > now {
                        break;
                    }
                    deadlines.pop();
                    if let Some(child) = live.get(&pid) {
                        child.control().kill(ExitReason::Killed);
                    }
                }
            }
        }
    }
    for mut child in ended {
        child.ended(None).await;
        child.disarm();
    }
}
