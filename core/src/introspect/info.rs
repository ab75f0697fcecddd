//! `Process.info/1`: what a process is and what it is doing, read off its mailbox.

use std::sync::Arc;
use std::time::SystemTime;

use crate::pid::Pid;
use crate::process::control::{self, ProcessRef};
use crate::registry::Name;

/// What kind of process a pid is.
// The variants are not named `GenServer` and `DynamicSupervisor`: a second public item of
// a name makes compiler errors spell the first in full (`bough::GenServer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProcessKind {
    /// A worker: a [`GenServer`](crate::GenServer).
    Worker,
    /// A static [`Supervisor`](crate::Supervisor).
    Supervisor,
    /// A [`DynamicSupervisor`](crate::DynamicSupervisor).
    Dynamic,
}

impl ProcessKind {
    /// Whether this is one of the two kinds of supervisor.
    pub fn is_supervisor(self) -> bool {
        matches!(self, ProcessKind::Supervisor | ProcessKind::Dynamic)
    }
}

/// What a process is doing: Erlang's `Process.info(pid, :status)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Status {
    /// Parked in its receive with an empty mailbox (`:waiting`).
    Waiting,
    /// Handling a message (or starting, or waiting inside a callback), or about to handle
    /// the messages queued for it (`:running` and `:runnable`).
    Running,
    /// Its exit reason is decided and it is releasing what it holds (`:exiting`).
    Exiting,
}

/// One process as [`process_info`] sees it: Erlang's `Process.info/1`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// The process.
    pub pid: Pid,
    /// The name it was started under, if any (`:registered_name`).
    pub name: Option<Name>,
    /// The type it runs: a GenServer's type (`std::any::type_name`), `"Supervisor"` or
    /// `"DynamicSupervisor"` (OTP's `:initial_call` module).
    pub type_name: &'static str,
    /// What kind of process it is.
    pub kind: ProcessKind,
    /// The process that started it with a link and stops it: its supervisor, or the
    /// process that called `start_link` (`:parent` in `:sys.get_status`).
    pub parent: Option<Pid>,
    /// Waiting, running or exiting (`:status`).
    pub status: Status,
    /// Messages queued and not yet handled (`:message_queue_len`).
    pub message_queue_len: usize,
    /// When its start began, before `init` ran (to a few milliseconds: it is read off a
    /// coarse clock, which is cheap enough for every start).
    pub started_at: SystemTime,
    /// Whether it traps exits (`:trap_exit`); supervisors always do.
    pub trap_exit: bool,
    /// The processes linked to it with [`process::link`](crate::process::link) (`:links`,
    /// less its parent and children, which bough keeps apart).
    pub links: Vec<Pid>,
    /// How many monitors watch it (the length of `:monitored_by`).
    pub monitored_by: usize,
}

/// What `pid` is and what it is doing, read at once without disturbing it: Erlang's
/// `Process.info(pid)` (`:registered_name`, `:status`, `:message_queue_len`, `:links`,
/// `:trap_exit`, ...). `None` if no process has that pid.
///
/// ```
/// use bough_core::prelude::*;
/// use bough_core::introspect::{self, ProcessKind, Status};
///
/// struct Idle;
/// impl GenServer for Idle {
///     type Args = (); type Call = (); type Reply = (); type Cast = Never;
///     type Info = Never; type Continue = Never;
///     async fn init(_: ()) -> Init<Self> { Init::Ok(Idle) }
///     async fn handle_call(&mut self, _: (), _: ReplyTo<()>) -> Reply<Self> { Reply::Reply(()) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let server = gen_server::start_link_with::<Idle>((), StartOptions::new().name("idle"))
///     .await
///     .unwrap();
/// server.call(()).await.unwrap(); // once it answered, it waits for the next message
/// let info = introspect::process_info(server.pid()).unwrap();
/// assert_eq!(info.name.map(|name| name.to_string()).as_deref(), Some("idle"));
/// assert_eq!(info.kind, ProcessKind::Worker);
/// assert_eq!(info.message_queue_len, 0);
/// assert_eq!(info.status, Status::Waiting);
/// # }
/// ```
pub fn process_info(pid: Pid) -> Option<ProcessInfo> {
    control::lookup(pid).map(|process| info_of(&process))
}

pub(crate) fn info_of(process: &ProcessRef) -> ProcessInfo {
    let pid = process.pid();
    let snapshot = process.snapshot();
    let status = if snapshot.exiting {
        Status::Exiting
    } else if snapshot.waiting {
        Status::Waiting
    } else {
        Status::Running
    };
    let parent = snapshot.parent;
    ProcessInfo {
        pid,
        name: super::names::get(pid),
        type_name: process.type_name(),
        kind: kind_of(process),
        parent,
        status,
        message_queue_len: snapshot.message_queue_len,
        started_at: super::clock::wall(snapshot.born),
        trap_exit: snapshot.trap_exit,
        links: snapshot.links,
        monitored_by: snapshot.monitored_by,
    }
}

pub(crate) fn kind_of(process: &ProcessRef) -> ProcessKind {
    let any = Arc::clone(process).into_any();
    if crate::supervisor::is_static(&*any) {
        ProcessKind::Supervisor
    } else if crate::dynamic_supervisor::is_dynamic(&*any) {
        ProcessKind::Dynamic
    } else {
        ProcessKind::Worker
    }
}
