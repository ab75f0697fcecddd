//! The runtime of [bough](https://docs.rs/bough): Elixir/OTP's `GenServer`, `Supervisor`
//! and `DynamicSupervisor` on tokio, with OTP's semantics.
//!
//! Most programs depend on `bough`, which re-exports this crate and adds the
//! `#[gen_server]` and `supervisor!` macros. This crate is the plain API underneath.
//!
//! ```
//! use bough_core::prelude::*;
//!
//! struct Greeter;
//!
//! impl GenServer for Greeter {
//!     type Args = ();
//!     type Call = String;
//!     type Reply = String;
//!     type Cast = Never;
//!     type Info = Never;
//!     type Continue = Never;
//!
//!     async fn init(_: ()) -> Init<Self> {
//!         Init::Ok(Greeter)
//!     }
//!
//!     async fn handle_call(&mut self, name: String, _from: ReplyTo<String>) -> Reply<Self> {
//!         Reply::Reply(format!("hello, {name}"))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sup = Supervisor::start_link(
//!     [ChildSpec::worker::<Greeter>(()).name("greeter")],
//!     SupervisorOptions::new(Strategy::OneForOne),
//! )
//! .await?;
//! let answer = gen_server::call::<Greeter>("greeter", "Joe".to_string()).await?;
//! assert_eq!(answer, "hello, Joe");
//! sup.stop(ExitReason::Normal).await?;
//! # Ok(()) }
//! ```
//!
//! # From OTP to bough
//!
//! | OTP / Elixir                                   | bough                                                   |
//! |------------------------------------------------|---------------------------------------------------------|
//! | `pid`, `self()`                                | [`Pid`], [`self_pid`]                                   |
//! | a pid from `start_child`, `self()` in a callback | [`Server::from_pid`], [`Server::current`], [`Supervisor::from_pid`], [`DynamicSupervisor::start_server`] |
//! | `Process.monitor/1`, `demonitor/2`, `{:DOWN, ..}` | [`process::monitor`] (a [`Monitor`] future), [`gen_server::monitor`] → [`GenServer::handle_down`] |
//! | `Process.link/1`, `unlink/1`, `start_link` from a process | [`process::link`], [`process::unlink`], [`gen_server::start_link`] |
//! | `Process.exit/2`, `:kill`, `Process.alive?/1` | [`process::exit`], [`process::kill`], [`process::is_alive`] |
//! | `Process.flag(:trap_exit, true)`, `{:EXIT, pid, reason}` | [`process::trap_exit`] → [`GenServer::handle_exit`] |
//! | `Process.send_after/3`, `cancel_timer/1`       | [`gen_server::send_after`] → [`TimerRef`]               |
//! | `{:noreply, state, timeout}` → `:timeout`      | [`NoReply::Timeout`] → [`GenServer::handle_timeout`]     |
//! | `:calling_self`                                | [`CallError::CallingSelf`]                              |
//! | child spec `start: {m, f, a}`                  | [`ChildSpec::from_fn`] → [`StartOk`]                    |
//! | exit reasons `:normal`, `:shutdown`, ...       | [`ExitReason`]                                          |
//! | `use GenServer` callbacks                      | [`GenServer`] (see [`gen_server`] for every call)       |
//! | `GenServer.start_link/3`                       | [`gen_server::start_link`], [`gen_server::start_link_with`] |
//! | `GenServer.call/3`, `cast/2`, `reply/2`, `stop/3` | [`Server::call`], [`Server::cast`], [`ReplyTo::reply`], [`Server::stop`] |
//! | `send(pid, msg)` → `handle_info`               | [`Server::send`]                                        |
//! | child spec map, `child_spec/1`                 | [`ChildSpec`], [`Child::child_spec`]                    |
//! | `restart:`, `shutdown:`, `type:`               | [`Restart`], [`Shutdown`], [`ChildType`]                |
//! | `Supervisor` and its functions                 | [`Supervisor`] (see [`supervisor`])                     |
//! | `DynamicSupervisor` and its functions          | [`DynamicSupervisor`] (see [`dynamic_supervisor`])      |
//! | `name: atom`, `GenServer.whereis/1`            | [`Name`], [`whereis`]                                   |
//! | `{:via, Registry, {reg, key}}`                 | [`Registry::name`]                                      |
//! | `PartitionSupervisor`, `{:via, PartitionSupervisor, {name, key}}` | [`PartitionSupervisor`], [`PartitionSupervisor::name`] (see [`partition_supervisor`]) |
//! | `Registry` with `keys: :duplicate`             | [`DuplicateRegistry`] (see [`registry`])                |
//! | `{:error, {:already_started, pid}}`            | [`StartError::AlreadyStarted`]                          |
//! | `exit(:noproc)` of a call                      | [`CallError::NoProc`]                                   |
//! | `:erlang.system_info(:process_count)`          | [`process_count`]                                       |
//! | `Task.Supervisor`, `Task.await`                | [`TaskSupervisor`], [`Task`] (see [`task_supervisor`])  |
//! | supervisor and crash reports (SASL)            | `tracing` events with targets `bough::supervisor`, `bough::gen_server`, and [`introspect::subscribe`] |
//! | `Process.info/1`, `:sys.get_state/1`, `:observer` | [`introspect`] (and the `bough-observer` crate)      |
//! | an application, stopped in order on SIGTERM    | [`Application`] (see [`application`]), with liveness and readiness |
//!
//! # Processes and tasks
//!
//! Every process is one tokio task. A start takes the name (if any), spawns the task, which
//! runs `init` (with `self_pid()` answering its pid, and panics caught), and returns once
//! `init` returned, as OTP's `start_link` does; a dynamic supervisor's `start_child` is
//! serialized as in OTP. Processes need a tokio runtime; any flavour works.
//!
//! No task outlives its supervisor: stopping a supervisor stops its children (and theirs)
//! and returns only when every one of their tasks has ended, however the supervisor ends
//! (even killed). The [`process`] module says how a process ends and what it tells whom.

#![warn(missing_docs)]

pub mod application;
mod child;
mod child_spec;
pub mod dynamic_supervisor;
mod error;
mod exit;
pub mod gen_server;
pub mod introspect;
mod module;
mod panic_hook;
pub mod partition_supervisor;
mod pid;
pub mod process;
pub mod registry;
mod reply;
pub mod supervisor;
mod sync;
pub mod task_supervisor;

pub use application::{Application, ApplicationBuilder, shutdown_signal};
pub use child::{ChildId, ChildType, Restart, Shutdown};
pub use child_spec::{Child, ChildSpec, StartInfo, StartOk};
pub use dynamic_supervisor::{DynamicSupervisor, DynamicSupervisorOptions};
pub use error::{CallError, ChildError, Error, StartError};
pub use exit::ExitReason;
pub use gen_server::{
    Call, DEFAULT_CALL_TIMEOUT, Dest, GenServer, Init, Never, NoReply, Reply, Server, StartOptions,
    Timeout, TimerRef,
};
pub use module::{
    DynamicSupervisorModule, GenServerModule, StartLink, StartLinkArg, SupervisorModule,
    TypedReplyTo,
};
pub use panic_hook::report_panics_with_tracing;
pub use partition_supervisor::{
    ByHash, PartitionKey, PartitionSupervisor, PartitionSupervisorModule,
    PartitionSupervisorOptions,
};
pub use pid::Pid;
pub use process::{Down, Monitor, MonitorRef, process_count, self_pid, try_self_pid};
pub use registry::{DuplicateRegistry, Name, RegisterError, Registry, whereis};
pub use reply::ReplyTo;
pub use supervisor::{ChildCount, ChildInfo, ChildPid, Strategy, Supervisor, SupervisorOptions};
pub use task_supervisor::{Task, TaskError, TaskOptions, TaskSupervisor};

/// What most programs import: `use bough_core::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Application, CallError, Child, ChildCount, ChildError, ChildInfo, ChildPid, ChildSpec,
        ChildType, Down, DuplicateRegistry, DynamicSupervisor, DynamicSupervisorModule,
        DynamicSupervisorOptions, Error, ExitReason, GenServer, GenServerModule, Init, Monitor,
        MonitorRef, Name, Never, NoReply, PartitionSupervisor, PartitionSupervisorModule,
        PartitionSupervisorOptions, Pid, Registry, Reply, ReplyTo, Restart, Server, Shutdown,
        StartError, StartLink, StartLinkArg, StartOk, StartOptions, Strategy, Supervisor,
        SupervisorModule, SupervisorOptions, TaskSupervisor, TypedReplyTo, self_pid, whereis,
    };
    pub use crate::{gen_server, introspect, process};
}

/// What the code that `bough`'s macros generate uses. Not public API: it changes without
/// notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::module::private::*;
    pub use crate::partition_supervisor::private::*;
}
