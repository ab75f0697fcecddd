//! The JSON the API answers: the introspection types, flattened for a script.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bough_core::introspect::{
    ChildDetail, Children, EventKind, Node, ProcessInfo, ProcessKind, ProcessStatus, Status,
    SupervisorInfo, SupervisorKind, TreeEvent,
};
use bough_core::{ChildPid, ChildType, Pid, Restart, Shutdown, Strategy};
use serde::Serialize;

/// A pid, both ways: `raw` for URLs and keys, `text` as Elixir prints it.
///
/// `raw` is [`Pid::as_raw`] as a string: a pid of a late generation is a number above
/// 2^53, which a JavaScript number would round.
#[derive(Serialize, PartialEq, Eq)]
pub(crate) struct PidJson {
    raw: String,
    text: String,
}

fn pid(pid: Pid) -> PidJson {
    PidJson {
        raw: pid.as_raw().to_string(),
        text: pid.to_string(),
    }
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

fn duration_millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn kind(kind: ProcessKind) -> &'static str {
    match kind {
        ProcessKind::Worker => "gen_server",
        ProcessKind::Supervisor => "supervisor",
        ProcessKind::Dynamic => "dynamic_supervisor",
        _ => "process",
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Waiting => "waiting",
        Status::Running => "running",
        Status::Exiting => "exiting",
        _ => "unknown",
    }
}

fn restart(restart: Restart) -> &'static str {
    match restart {
        Restart::Permanent => "permanent",
        Restart::Transient => "transient",
        Restart::Temporary => "temporary",
    }
}

fn shutdown(shutdown: Shutdown) -> String {
    match shutdown {
        Shutdown::BrutalKill => "brutal_kill".into(),
        Shutdown::Timeout(budget) => format!("{} ms", duration_millis(budget)),
        Shutdown::Infinity => "infinity".into(),
    }
}

fn strategy(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::OneForOne => "one_for_one",
        Strategy::OneForAll => "one_for_all",
        Strategy::RestForOne => "rest_for_one",
    }
}

#[derive(Serialize)]
pub(crate) struct InfoJson {
    pid: PidJson,
    name: Option<String>,
    #[serde(rename = "type")]
    type_name: &'static str,
    kind: &'static str,
    parent: Option<PidJson>,
    status: &'static str,
    message_queue_len: usize,
    started_at_ms: u64,
    trap_exit: bool,
    links: Vec<PidJson>,
    monitored_by: usize,
}

pub(crate) fn info(info: &ProcessInfo) -> InfoJson {
    InfoJson {
        pid: pid(info.pid),
        name: info.name.as_ref().map(ToString::to_string),
        type_name: info.type_name,
        kind: kind(info.kind),
        parent: info.parent.map(pid),
        status: status_word(info.status),
        message_queue_len: info.message_queue_len,
        started_at_ms: millis(info.started_at),
        trap_exit: info.trap_exit,
        links: info.links.iter().copied().map(pid).collect(),
        monitored_by: info.monitored_by,
    }
}

#[derive(Serialize)]
pub(crate) struct ChildJson {
    id: Option<String>,
    /// `running`, `restarting` or `undefined`, as `which_children` says.
    state: &'static str,
    child_type: &'static str,
    restart: &'static str,
    shutdown: String,
    restarts: u32,
}

pub(crate) fn child(detail: &ChildDetail) -> ChildJson {
    ChildJson {
        id: detail.id.as_ref().map(ToString::to_string),
        state: match detail.pid {
            ChildPid::Running(_) => "running",
            ChildPid::Restarting => "restarting",
            ChildPid::Undefined => "undefined",
        },
        child_type: match detail.child_type {
            ChildType::Worker => "worker",
            ChildType::Supervisor => "supervisor",
        },
        restart: restart(detail.restart),
        shutdown: shutdown(detail.shutdown),
        restarts: detail.restarts,
    }
}

#[derive(Serialize)]
pub(crate) struct CountJson {
    specs: usize,
    active: usize,
    supervisors: usize,
    workers: usize,
}

#[derive(Serialize)]
pub(crate) struct SupervisorJson {
    /// `one_for_one`, ... for a static supervisor; `dynamic` for a dynamic one.
    strategy: &'static str,
    dynamic: bool,
    max_children: Option<usize>,
    max_restarts: u32,
    period_ms: u64,
    recent_restarts: usize,
    total_restarts: u64,
    count: CountJson,
}

pub(crate) fn supervisor(info: &SupervisorInfo) -> SupervisorJson {
    let (strategy, dynamic, max_children) = match info.kind {
        SupervisorKind::Static { strategy: s } => (strategy(s), false, None),
        SupervisorKind::Dynamic { max_children } => ("one_for_one", true, max_children),
        _ => ("unknown", false, None),
    };
    SupervisorJson {
        strategy,
        dynamic,
        max_children,
        max_restarts: info.max_restarts,
        period_ms: duration_millis(info.period),
        recent_restarts: info.recent_restarts,
        total_restarts: info.total_restarts,
        count: CountJson {
            specs: info.count.specs,
            active: info.count.active,
            supervisors: info.count.supervisors,
            workers: info.count.workers,
        },
    }
}

#[derive(Serialize)]
pub(crate) struct NodeJson {
    pid: Option<PidJson>,
    child: Option<ChildJson>,
    info: Option<InfoJson>,
    supervisor: Option<SupervisorJson>,
    children: Vec<NodeJson>,
    omitted: usize,
}

pub(crate) fn node(node: &Node) -> NodeJson {
    NodeJson {
        pid: node.pid.map(pid),
        child: node.child.as_ref().map(child),
        info: node.info.as_ref().map(info),
        supervisor: node.supervisor.as_ref().map(supervisor),
        children: node.children.iter().map(self::node).collect(),
        omitted: node.omitted,
    }
}

/// The tree, with what the page shows above it.
#[derive(Serialize)]
pub(crate) struct TreeJson {
    root: NodeJson,
    process_count: usize,
}

pub(crate) fn tree(root: &Node) -> TreeJson {
    TreeJson {
        root: node(root),
        process_count: bough_core::process_count(),
    }
}

#[derive(Serialize)]
pub(crate) struct PageJson {
    supervisor: SupervisorJson,
    offset: usize,
    total: usize,
    children: Vec<PageChildJson>,
}

#[derive(Serialize)]
pub(crate) struct PageChildJson {
    pid: Option<PidJson>,
    child: ChildJson,
    info: Option<InfoJson>,
}

pub(crate) fn page(page: &Children) -> PageJson {
    PageJson {
        supervisor: supervisor(&page.supervisor),
        offset: page.offset,
        total: page.total,
        children: page
            .children
            .iter()
            .map(|detail| PageChildJson {
                pid: detail.pid.pid().map(pid),
                child: child(detail),
                info: detail
                    .pid
                    .pid()
                    .and_then(bough_core::introspect::process_info)
                    .as_ref()
                    .map(info),
            })
            .collect(),
    }
}

#[derive(Serialize)]
pub(crate) struct StatusJson {
    info: InfoJson,
    child: Option<ChildJson>,
    supervisor: Option<SupervisorJson>,
    /// The state as text, if the server shows it.
    state: Option<String>,
    /// Why there is no state, for a server that has one.
    state_error: Option<String>,
}

/// The most of a state the page is sent: a state of megabytes would freeze it.
const MAX_STATE: usize = 64 * 1024;

pub(crate) fn status(status: &ProcessStatus) -> StatusJson {
    let (state, state_error) = match &status.state {
        None => (None, None),
        Some(Ok(text)) => (Some(truncate(text, MAX_STATE)), None),
        Some(Err(error)) => (None, Some(error.to_string())),
    };
    StatusJson {
        info: info(&status.info),
        child: status.child.as_ref().map(child),
        supervisor: status.supervisor.as_ref().map(supervisor),
        state,
        state_error,
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}\n… ({} more bytes)", &text[..end], text.len() - end)
}

#[derive(Serialize)]
pub(crate) struct EventJson {
    at_ms: u64,
    supervisor: PidJson,
    child_id: String,
    /// `started`, `exited`, `restarted`, `start_failed`, `shutdown_error` or
    /// `intensity_reached`.
    kind: &'static str,
    pid: Option<PidJson>,
    reason: Option<String>,
    restarting: Option<bool>,
    /// Abnormal: a crash, a failed start, the intensity reached.
    abnormal: bool,
}

pub(crate) fn event(event: &TreeEvent) -> EventJson {
    let (kind, child, reason, restarting, abnormal) = match &event.kind {
        EventKind::Started { pid } => ("started", Some(*pid), None, None, false),
        EventKind::Exited {
            pid,
            reason,
            restarting,
        } => (
            "exited",
            Some(*pid),
            Some(reason.to_string()),
            Some(*restarting),
            !reason.is_clean(),
        ),
        EventKind::Restarted { pid } => ("restarted", Some(*pid), None, None, false),
        EventKind::StartFailed { reason } => {
            ("start_failed", None, Some(reason.clone()), None, true)
        }
        EventKind::ShutdownError { pid, reason } => (
            "shutdown_error",
            Some(*pid),
            Some(reason.to_string()),
            None,
            true,
        ),
        EventKind::IntensityReached { reason } => (
            "intensity_reached",
            None,
            Some(reason.to_string()),
            None,
            true,
        ),
        _ => ("other", None, None, None, false),
    };
    EventJson {
        at_ms: millis(event.at),
        supervisor: pid(event.supervisor),
        child_id: event.child_id.to_string(),
        kind,
        pid: child.map(pid),
        reason,
        restarting,
        abnormal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_states_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate("ééééé", 3);
        assert_eq!(cut, "é\n… (8 more bytes)");
    }

    #[test]
    fn pids_are_written_both_ways() {
        let json = serde_json::to_value(pid(Pid::from_raw(7))).unwrap();
        assert_eq!(json, serde_json::json!({"raw": "7", "text": "#PID<0.7.0>"}));
    }
}
