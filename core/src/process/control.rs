//! The type-erased control of a process, which the registry, the supervisors, monitors and
//! links all hold, and the table that finds it by pid.

use std::any::Any;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::task::AbortHandle;

use super::life::Started;
use super::monitor::{Down, MonitorRef, MonitorSlot};
use crate::error::StartError;
use crate::exit::ExitReason;
use crate::introspect::StateError;
use crate::pid::Pid;
use crate::registry::Enrolled;
use crate::reply::ReplyTo;

/// What anyone may do to a process, whatever its message type. Implemented by its mailbox.
pub(crate) trait Control: Send + Sync + 'static {
    fn pid(&self) -> Pid;
    /// The type the process runs (a GenServer's type, "Supervisor", ...).
    fn type_name(&self) -> &'static str;
    /// The parent's stop request: handled before any queued message.
    fn stop(&self, reason: ExitReason);
    /// An exit signal from `from`, handled by OTP's rules (see `process::exit`).
    fn exit_signal(&self, from: Pid, signal: Signal);
    /// Ends the process with `reason` without running anything of it: its task is aborted.
    fn kill(&self, reason: ExitReason);
    /// A DOWN notice or a trapped exit signal, for the process to handle as a message.
    fn deliver(&self, message: SystemMsg);
    /// Adds a watcher fired when the process exits; gives it back with the reason if the
    /// process has already exited.
    fn watch(&self, id: u64, watcher: Watcher) -> Result<(), (Watcher, ExitReason)>;
    /// Removes a watcher; false when it fired (or is firing) already.
    fn unwatch(&self, id: u64) -> bool;
    /// This process wants the DOWN of its monitor `id`.
    fn want_down(&self, id: u64);
    /// This process no longer wants the DOWN of monitor `id`; true if it still did.
    fn forget_down(&self, id: u64) -> bool;
    fn link(&self, other: ProcessRef) -> Result<(), ProcessRef>;
    fn unlink(&self, pid: Pid);
    /// Sets whether exit signals arrive as messages; returns the previous setting.
    fn trap_exit(&self, on: bool) -> bool;
    /// What introspection reads of the process: its queue, whether it waits, its links.
    fn snapshot(&self) -> Snapshot;
    /// The exit reason once it is decided (the process may still be releasing things).
    fn exiting_reason(&self) -> Option<ExitReason>;
    /// The exit reason once the exit is published (names free, monitors firing).
    fn exit_reason(&self) -> Option<ExitReason>;
    /// Decides the exit reason unless it is decided already; returns the one that holds.
    fn decide_exit(&self, reason: ExitReason) -> ExitReason;
    fn set_abort(&self, abort: AbortHandle);
    /// The starter's wait for `init`: `Ok` once it succeeded; the error once the process
    /// exited without succeeding, its exit published.
    fn poll_start(&self, cx: &mut Context<'_>) -> Poll<Result<(), StartError>>;
    /// Keeps a child started with `start_link` from inside this process; gives it back if
    /// this process is exiting.
    fn adopt(&self, child: Started) -> Result<(), Started>;
    /// Takes back a child started with `start_link` from inside this process (a
    /// supervisor's custom start function does).
    fn take_child(&self, pid: Pid) -> Option<Started>;
    /// Takes a child handle dropped unfinished, to be reaped before this process's exit is
    /// announced; gives it back if this process has already exited.
    fn orphan(&self, child: Started) -> Result<(), Started>;
    /// The children this process must see end before its own exit is announced.
    fn take_orphans(&self) -> Vec<Started>;
    /// Keeps `registry` to be told when this process exits, once however often it is
    /// enrolled; false if the process is exiting.
    fn enroll(&self, registry: Arc<dyn Enrolled>) -> bool;
    /// Removes this process's entries from every registry it enrolled in: before `publish`,
    /// so that no monitor fires while they are still there.
    fn release_registries(&self);
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// One process, type-erased.
pub(crate) type ProcessRef = Arc<dyn Control>;

/// An exit signal: OTP's `exit(pid, reason)`, and what a linked process sends when it exits.
#[derive(Debug, Clone)]
pub(crate) enum Signal {
    /// `exit(pid, :kill)`: untrappable.
    Kill,
    /// `exit(pid, reason)`, sent by a live process (or from outside any).
    Exit(ExitReason),
    /// The sender exited with this reason and was linked to the receiver (or is its parent
    /// or child): the link is gone with it.
    Linked(ExitReason),
}

/// What the runtime sends a process as a message.
pub(crate) enum SystemMsg {
    Down(Down),
    /// A trapped exit signal: `{:EXIT, from, reason}`.
    Exit(Pid, ExitReason),
    /// `:sys.get_state`: a server answers it between messages; other processes drop it
    /// unanswered.
    GetState(ReplyTo<Result<String, StateError>>),
}

/// A process's mailbox as introspection sees it (see `introspect::process_info`).
pub(crate) struct Snapshot {
    pub(crate) parent: Option<Pid>,
    /// When the process was born, in nanoseconds of `introspect`'s clock.
    pub(crate) born: u64,
    pub(crate) message_queue_len: usize,
    /// Parked in its receive with nothing queued.
    pub(crate) waiting: bool,
    /// Its exit reason is decided.
    pub(crate) exiting: bool,
    pub(crate) trap_exit: bool,
    pub(crate) links: Vec<Pid>,
    /// How many monitors watch it.
    pub(crate) monitored_by: usize,
}

/// Someone to tell when a process exits.
pub(crate) enum Watcher {
    /// A [`Monitor`](super::Monitor) future, from anywhere.
    Future(Arc<MonitorSlot>),
    /// A process that monitors: it gets a DOWN message.
    Process(ProcessRef),
}

impl Watcher {
    pub(crate) fn fire(self, id: u64, pid: Pid, reason: &ExitReason) {
        match self {
            Watcher::Future(slot) => slot.fire(reason.clone()),
            Watcher::Process(watcher) => watcher.deliver(SystemMsg::Down(Down {
                monitor: MonitorRef { id, pid },
                pid,
                reason: reason.clone(),
            })),
        }
    }
}

pub(crate) use super::table::{insert, lookup, remove};

/// The process running this code.
pub(crate) fn current() -> Option<ProcessRef> {
    lookup(super::try_self_pid()?)
}
