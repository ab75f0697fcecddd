//! Processes: pids, monitors, links, exit signals.
//!
//! Every GenServer, supervisor and dynamic supervisor is a process: one tokio task with a
//! [`Pid`](crate::Pid). This module is what Elixir's `Process` module and the process built-ins are:
//!
//! | Elixir / Erlang                           | bough                                           |
//! |-------------------------------------------|-------------------------------------------------|
//! | `self()`                                  | [`self_pid`], [`try_self_pid`]                  |
//! | `Process.alive?(pid)`                     | [`is_alive`]                                    |
//! | `Process.monitor(pid)` + `receive {:DOWN, ..}` | [`monitor`]`(pid).await` (a [`Monitor`])   |
//! | `Process.monitor(pid)` in a GenServer     | [`gen_server::monitor`](crate::gen_server::monitor) → [`GenServer::handle_down`](crate::GenServer::handle_down) |
//! | `Process.demonitor(ref, [:flush])`        | [`Monitor::demonitor`], [`gen_server::demonitor`](crate::gen_server::demonitor) |
//! | `Process.link(pid)` / `unlink(pid)`       | [`link`], [`unlink`]                            |
//! | `Process.exit(pid, reason)`               | [`exit`]                                        |
//! | `Process.exit(pid, :kill)`                | [`kill`]                                        |
//! | `Process.flag(:trap_exit, true)`          | [`trap_exit`]`(true)` → [`GenServer::handle_exit`](crate::GenServer::handle_exit) |
//! | `:erlang.system_info(:process_count)`     | [`process_count`]                               |
//!
//! # Exit signals
//!
//! When a process exits, every process linked to it gets an exit signal with its reason.
//! `start_link` called from inside a process links the new process to the caller, which
//! becomes its parent; a supervisor is the parent of its children. A process receiving an
//! exit signal follows OTP's rules:
//!
//! - [`kill`] cannot be trapped: the process ends at once with [`ExitReason::Killed`](crate::ExitReason::Killed), its
//!   `terminate` does not run, and its links get `Killed`.
//! - A signal from the process's parent is a request to stop: a GenServer runs `terminate`
//!   with the reason and exits with it; a supervisor stops its children in order first.
//! - Otherwise a process that traps exits ([`trap_exit`]) gets the signal as a message
//!   (a GenServer in `handle_exit`; supervisors always trap exits).
//! - Otherwise a [`Normal`](crate::ExitReason::Normal) signal is ignored (unless a process sends
//!   it to itself), and any other reason ends the process at once with that reason, without
//!   `terminate`.
//!
//! # Differences from OTP
//!
//! - A GenServer whose parent sends it an exit signal runs `terminate` whether or not it
//!   traps exits (OTP: only if it traps them), and stops even when the reason is `normal`
//!   (OTP: a non-trapping process ignores it and runs on, orphaned). Cleaning up and never
//!   leaving orphans is what Rust programs expect; a child that must not run `terminate`
//!   on shutdown can be given [`Shutdown::BrutalKill`](crate::Shutdown::BrutalKill).
//! - Ending a process "at once" aborts its task, which takes effect at its next `.await`:
//!   tokio cannot preempt code that never yields.
//! - A process that exits stops the processes it started with `start_link` (each within
//!   its shutdown time, 5 s for a server) and announces its own exit only once they have
//!   ended, so nothing it started outlives it. OTP sends them an exit signal and goes on.
//! - A killed supervisor's children get the `killed` exit signal, as in OTP, and its exit
//!   is announced only once all of them have ended (each within its own shutdown time).

pub(crate) mod control;
mod control_api;
pub(crate) mod life;
pub(crate) mod mailbox;
pub(crate) mod monitor;
pub(crate) mod scope;
mod table;

pub use control_api::{exit, is_alive, kill, link, trap_exit, unlink};
pub use life::process_count;
pub use monitor::{Down, Monitor, MonitorRef, monitor};
pub use scope::{self_pid, try_self_pid};

pub(crate) use scope::CatchUnwind;
