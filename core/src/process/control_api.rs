//! The process built-ins: liveness, links, exit signals and trapping exits.

use super::control::{self, Signal};
use crate::error::CallError;
use crate::exit::ExitReason;
use crate::pid::Pid;

/// Whether the process `pid` is alive: Elixir's `Process.alive?/1`. Once it answers
/// `false`, the process's names are free.
pub fn is_alive(pid: Pid) -> bool {
    control::lookup(pid).is_some()
}

/// Sends the exit signal `reason` to `pid`: Elixir's `Process.exit(pid, reason)`. See the
/// [module docs](crate::process#exit-signals) for what the process does with it. A signal
/// to a dead pid is dropped. Outside a process, the signal comes from `#PID<0.0.0>`.
pub fn exit(pid: Pid, reason: ExitReason) {
    if let Some(target) = control::lookup(pid) {
        let from = super::try_self_pid().unwrap_or(Pid::from_raw(0));
        target.exit_signal(from, Signal::Exit(reason));
    }
}

/// Kills `pid`: Elixir's `Process.exit(pid, :kill)`. The process cannot trap it: it ends at
/// its next `.await` with [`ExitReason::Killed`], without running `terminate`, and its
/// links get `Killed`.
pub fn kill(pid: Pid) {
    if let Some(target) = control::lookup(pid) {
        target.exit_signal(Pid::from_raw(0), Signal::Kill);
    }
}

/// Links the current process and `pid`: Elixir's `Process.link/1`. When either exits, the
/// other gets an exit signal with its reason.
///
/// Fails with [`CallError::NoProc`] if `pid` is not alive, except that a process that traps
/// exits gets a trapped `NoProc` exit instead, as in OTP; with
/// [`CallError::NotAProcess`] when called outside a bough process.
pub fn link(pid: Pid) -> Result<(), CallError> {
    let me = control::current().ok_or(CallError::NotAProcess)?;
    if me.pid() == pid {
        return Ok(());
    }
    let Some(other) = control::lookup(pid) else {
        return dead_link(&me, pid);
    };
    if other.link(me.clone()).is_err() {
        return dead_link(&me, pid);
    }
    if me.link(other.clone()).is_err() {
        // We are exiting ourselves: the link goes with us.
        other.unlink(me.pid());
    }
    Ok(())
}

fn dead_link(me: &control::ProcessRef, pid: Pid) -> Result<(), CallError> {
    let trapping = me.trap_exit(true);
    me.trap_exit(trapping);
    if trapping {
        me.exit_signal(pid, Signal::Linked(ExitReason::NoProc));
        Ok(())
    } else {
        Err(CallError::NoProc)
    }
}

/// Removes the link between the current process and `pid`, if any: Elixir's
/// `Process.unlink/1`. Does nothing outside a process.
pub fn unlink(pid: Pid) {
    if let Some(me) = control::current() {
        me.unlink(pid);
        if let Some(other) = control::lookup(pid) {
            other.unlink(me.pid());
        }
    }
}

/// Sets whether the current process traps exits (Elixir's
/// `Process.flag(:trap_exit, on)`) and returns the previous setting. A GenServer that traps
/// exits gets exit signals from linked processes in
/// [`GenServer::handle_exit`](crate::GenServer::handle_exit).
///
/// Fails with [`CallError::NotAProcess`] when called outside a bough process.
pub fn trap_exit(on: bool) -> Result<bool, CallError> {
    let me = control::current().ok_or(CallError::NotAProcess)?;
    Ok(me.trap_exit(on))
}
