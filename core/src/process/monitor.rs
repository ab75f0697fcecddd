//! Monitors: one-shot watchers of a process's exit.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use super::control::{self, ProcessRef, Watcher};
use crate::exit::ExitReason;
use crate::pid::Pid;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// The reference of a monitor made by a GenServer: Elixir's monitor `ref`, which its DOWN
/// notice carries. Made by [`gen_server::monitor`](crate::gen_server::monitor).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MonitorRef {
    pub(crate) id: u64,
    pub(crate) pid: Pid,
}

impl MonitorRef {
    /// The monitored process.
    pub fn pid(&self) -> Pid {
        self.pid
    }
}

impl fmt::Debug for MonitorRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Reference<{}.{}>", self.pid.as_raw(), self.id)
    }
}

/// A DOWN notice: `{:DOWN, ref, :process, pid, reason}`, what
/// [`GenServer::handle_down`](crate::GenServer::handle_down) receives.
#[derive(Debug, Clone, PartialEq)]
pub struct Down {
    /// The monitor that fired.
    pub monitor: MonitorRef,
    /// The process that exited.
    pub pid: Pid,
    /// Why it exited; [`ExitReason::NoProc`] if it was not alive when monitored.
    pub reason: ExitReason,
}

/// Where a [`Monitor`] future's answer lands.
pub(crate) struct MonitorSlot {
    state: Mutex<(Option<ExitReason>, Option<Waker>)>,
}

impl MonitorSlot {
    pub(crate) fn fire(&self, reason: ExitReason) {
        let waker = {
            let mut state = self.state.lock();
            state.0 = Some(reason);
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// A monitor of one process, from anywhere: a future that resolves, exactly once, to the
/// process's exit reason (Elixir's `Process.monitor/1` followed by a `receive` of its DOWN).
///
/// It resolves to [`ExitReason::NoProc`] at once if the process was not alive. Monitors
/// stack: two monitors of one process both resolve. By the time one resolves, the
/// process's registered names are free. Dropping it, or [`demonitor`](Monitor::demonitor),
/// cancels it.
///
/// ```
/// # use bough_core::prelude::*;
/// # struct Job;
/// # impl GenServer for Job {
/// #     type Args = (); type Call = Never; type Reply = Never; type Cast = Never;
/// #     type Info = Never; type Continue = Never;
/// #     async fn init(_: ()) -> Init<Self> { Init::Ok(Job) }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), bough_core::CallError> {
/// let job = gen_server::start_link::<Job>(()).await.unwrap();
/// let down = process::monitor(job.pid());
/// job.stop(ExitReason::shutdown_with("done")).await?;
/// assert_eq!(down.await, ExitReason::shutdown_with("done"));
/// assert_eq!(process::monitor(job.pid()).await, ExitReason::NoProc);
/// # Ok(()) }
/// ```
#[must_use = "a monitor does nothing unless awaited"]
pub struct Monitor {
    pid: Pid,
    id: u64,
    /// The process watched, until the monitor resolves or is cancelled.
    target: Option<ProcessRef>,
    slot: Arc<MonitorSlot>,
}

impl Monitor {
    /// Monitors the process `pid`.
    pub fn new(pid: Pid) -> Monitor {
        match control::lookup(pid) {
            Some(target) => Monitor::of(&target),
            None => Monitor::resolved(pid, ExitReason::NoProc),
        }
    }

    pub(crate) fn of(target: &ProcessRef) -> Monitor {
        let id = next_id();
        let slot = Arc::new(MonitorSlot {
            state: Mutex::new((None, None)),
        });
        match target.watch(id, Watcher::Future(slot.clone())) {
            Ok(()) => Monitor {
                pid: target.pid(),
                id,
                target: Some(target.clone()),
                slot,
            },
            Err((_, reason)) => Monitor::resolved(target.pid(), reason),
        }
    }

    fn resolved(pid: Pid, reason: ExitReason) -> Monitor {
        Monitor {
            pid,
            id: 0,
            target: None,
            slot: Arc::new(MonitorSlot {
                state: Mutex::new((Some(reason), None)),
            }),
        }
    }

    /// The monitored process.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Cancels the monitor (`Process.demonitor(ref, [:flush])`): it will not resolve.
    /// True if the process had not exited yet.
    pub fn demonitor(mut self) -> bool {
        self.cancel()
    }

    fn cancel(&mut self) -> bool {
        match self.target.take() {
            Some(target) => target.unwatch(self.id),
            None => false,
        }
    }

    /// The exit reason, if the process has exited; does not wait.
    pub fn try_reason(&self) -> Option<ExitReason> {
        self.slot.state.lock().0.clone()
    }
}

impl Future for Monitor {
    type Output = ExitReason;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ExitReason> {
        let this = self.get_mut();
        let mut state = this.slot.state.lock();
        if let Some(reason) = state.0.clone() {
            drop(state);
            this.target = None;
            return Poll::Ready(reason);
        }
        match &state.1 {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.1 = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("pid", &self.pid)
            .field("reason", &self.try_reason())
            .finish()
    }
}

/// Monitors `pid`: Elixir's `Process.monitor(pid)`, as a future of the exit reason.
pub fn monitor(pid: Pid) -> Monitor {
    Monitor::new(pid)
}

/// Makes the current process monitor `target`, its DOWN delivered as a message. `None` when
/// called outside a process.
pub(crate) fn monitor_from_process(target: Pid) -> Option<MonitorRef> {
    let me = control::current()?;
    let id = next_id();
    let monitor = MonitorRef { id, pid: target };
    me.want_down(id);
    let dead = match control::lookup(target) {
        Some(process) => match process.watch(id, Watcher::Process(me.clone())) {
            Ok(()) => None,
            Err((_, reason)) => Some(reason),
        },
        None => Some(ExitReason::NoProc),
    };
    if let Some(reason) = dead {
        Watcher::Process(me).fire(id, target, &reason);
    }
    Some(monitor)
}

/// Cancels a monitor made by the current process: no DOWN arrives for it afterwards.
pub(crate) fn demonitor_from_process(monitor: MonitorRef) -> bool {
    let wanted = control::current().is_some_and(|me| me.forget_down(monitor.id));
    if let Some(target) = control::lookup(monitor.pid) {
        target.unwatch(monitor.id);
    }
    wanted
}
