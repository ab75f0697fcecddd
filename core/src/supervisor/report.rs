//! Supervisor reports, as `tracing` events: OTP's progress and error reports.
//!
//! Every event bough emits has a target under `bough`, so one filter (`bough=error`, or
//! `bough=debug` for everything) catches them all:
//!
//! | target             | level | message                                              | fields |
//! |--------------------|-------|------------------------------------------------------|--------|
//! | `bough::supervisor`| DEBUG | `child started`                                      | supervisor, child_id, child |
//! | `bough::supervisor`| ERROR | `child terminated` (an exit the supervisor acts on: any abnormal one, and a clean one it restarts, as OTP reports) | supervisor, child_id, child, reason |
//! | `bough::supervisor`| INFO  | `child restarted`                                    | supervisor, child_id, child |
//! | `bough::supervisor`| ERROR | `child failed to start`                              | supervisor, child_id, reason |
//! | `bough::supervisor`| ERROR | `child exited abnormally during shutdown`            | supervisor, child_id, child, reason |
//! | `bough::supervisor`| ERROR | `reached max restart intensity; shutting down`       | supervisor, child_id, reason |
//! | `bough::gen_server`| ERROR | `GenServer terminating` (an abnormal exit)           | server, pid, reason |
//! | `bough::gen_server`| WARN  | an info, trapped exit or idle time-out with no callback for it | server, pid |
//!
//! `supervisor`, `child` and `pid` are pids, `child_id` the child's id (`undefined` under a
//! dynamic supervisor's shutdown), `server` the server's type.
//!
//! The same reports go, as values, to whoever subscribes with
//! [`introspect::subscribe`](crate::introspect::subscribe).

use crate::exit::ExitReason;
use crate::introspect::events::{self, EventKind};
use crate::pid::Pid;

const TARGET: &str = "bough::supervisor";

pub(crate) fn child_started(sup: Pid, id: &str, child: Pid) {
    tracing::debug!(target: TARGET, supervisor = %sup, child_id = id, child = %child, "child started");
    if events::listening(false) {
        events::publish(sup, id, EventKind::Started { pid: child });
    }
}

/// OTP reports every exit it acts on, at error level: abnormal ones, and a clean exit it
/// restarts (a permanent child's); a transient or temporary child's clean exit not at all.
pub(crate) fn child_exited(sup: Pid, id: &str, child: Pid, reason: &ExitReason, restarting: bool) {
    let notable = !reason.is_clean() || restarting;
    if notable {
        tracing::error!(target: TARGET, supervisor = %sup, child_id = id, child = %child, %reason, "child terminated");
    }
    if events::listening(notable) {
        let reason = reason.clone();
        events::publish(
            sup,
            id,
            EventKind::Exited {
                pid: child,
                reason,
                restarting,
            },
        );
    }
}

pub(crate) fn child_restarted(sup: Pid, id: &str, child: Pid) {
    tracing::info!(target: TARGET, supervisor = %sup, child_id = id, child = %child, "child restarted");
    if events::listening(true) {
        events::publish(sup, id, EventKind::Restarted { pid: child });
    }
}

pub(crate) fn start_error(sup: Pid, id: &str, reason: &dyn std::fmt::Display) {
    tracing::error!(target: TARGET, supervisor = %sup, child_id = id, %reason, "child failed to start");
    if events::listening(true) {
        let reason = reason.to_string();
        events::publish(sup, id, EventKind::StartFailed { reason });
    }
}

pub(crate) fn shutdown_error(sup: Pid, id: &str, child: Pid, reason: &ExitReason) {
    tracing::error!(target: TARGET, supervisor = %sup, child_id = id, child = %child, %reason, "child exited abnormally during shutdown");
    if events::listening(true) {
        let reason = reason.clone();
        events::publish(sup, id, EventKind::ShutdownError { pid: child, reason });
    }
}

pub(crate) fn intensity_reached(sup: Pid, id: &str, reason: &ExitReason) {
    tracing::error!(target: TARGET, supervisor = %sup, child_id = id, %reason, "reached max restart intensity; shutting down");
    if events::listening(true) {
        let reason = reason.clone();
        events::publish(sup, id, EventKind::IntensityReached { reason });
    }
}
