//! Supervisor reports, as `tracing` events: OTP's progress and error reports.
//!
//! Every event has the target `bough::supervisor` and the fields `supervisor` (its pid),
//! `child_id`, `child` (the child's pid) and `reason` where they apply.

use crate::exit::ExitReason;
use crate::pid::Pid;

const TARGET: &str = "bough::supervisor";

pub(crate) fn child_started(sup: Pid, id: &str, child: Pid) {
    tracing::debug!(target: TARGET, supervisor = %sup, child_id = id, child = %child, "child started");
}

/// OTP reports every exit it acts on: abnormal ones as errors, a permanent child's clean
/// exit as well (it is restarted), a transient or temporary child's clean exit not at all.
pub(crate) fn child_exited(sup: Pid, id: &str, child: Pid, reason: &ExitReason, restarting: bool) {
    if !reason.is_clean() {
        tracing::error!(target: TARGET, supervisor = %sup, child_id = id, child = %child, %reason, "child terminated");
    } else if restarting {
        tracing::info!(target: TARGET, supervisor = %sup, child_id = id, child = %child, %reason, "child terminated");
    }
}

pub(crate) fn child_restarted(sup: Pid, id: &str, child: Pid) {
    tracing::info!(target: TARGET, supervisor = %sup, child_id = id, child = %child, "child restarted");
}

pub(crate) fn start_error(sup: Pid, id: &str, reason: &dyn std::fmt::Display) {
    tracing::error!(target: TARGET, supervisor = %sup, child_id = id, %reason, "child failed to start");
}

pub(crate) fn shutdown_error(sup: Pid, id: &str, child: Pid, reason: &ExitReason) {
    tracing::error!(target: TARGET, supervisor = %sup, child_id = id, child = %child, %reason, "child exited abnormally during shutdown");
}

pub(crate) fn intensity_reached(sup: Pid, id: &str, reason: &ExitReason) {
    tracing::error!(target: TARGET, supervisor = %sup, child_id = id, %reason, "reached max restart intensity; shutting down");
}
