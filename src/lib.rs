#![doc = include_str!("../README.md")]
//!
//! # The API
//!
//! - The [`gen_server`](mod@gen_server) module: the `GenServer` trait, its result types,
//!   `Server` handles and the `GenServer.*` functions, with a table from Elixir to bough.
//! - The [`supervisor`](mod@supervisor) module: `Supervisor`, strategies, intensity, child
//!   management.
//! - The [`dynamic_supervisor`] module: `DynamicSupervisor`.
//! - The [`partition_supervisor`] module: `PartitionSupervisor`, N copies of one child and
//!   routing by key.
//! - The [`task_supervisor`] module: `TaskSupervisor` and `Task` handles.
//! - Names and registries: [`Name`], [`Registry`], [`DuplicateRegistry`], [`whereis`] (see
//!   [`registry`]).
//! - The [`introspect`] module: `Process.info`, `:sys.get_state`, the tree below a
//!   supervisor and its events as they happen (which `bough-observer` draws in a browser).
//! - The macros: [`#[gen_server]`](macro@gen_server) and [`supervisor!`](macro@supervisor).
//! - Errors: [`StartError`], [`CallError`] and [`ChildError`], and [`Error`], which holds
//!   any of them so that a program can `?` through all three.
//! - Crash reports: [`report_panics_with_tracing`].
//!
//! `use bough::prelude::*;` brings in what most programs use, [`Error`] included.

pub use bough_core::*;
pub use bough_macros::{gen_server, supervisor};

/// What most programs import: `use bough::prelude::*;`.
pub mod prelude {
    pub use bough_core::prelude::*;
    pub use bough_macros::{gen_server, supervisor};
}

#[doc(hidden)]
pub mod __private {
    //! What generated code uses, and the only way it reaches the runtime. Not public API:
    //! it changes without notice.
    pub use bough_core::__private::*;
    pub use bough_core::gen_server::{call, call_timeout, cast, send};
    pub use bough_core::{
        CallError, Child, ChildSpec, Dest, DynamicSupervisor, DynamicSupervisorModule,
        DynamicSupervisorOptions, GenServer, GenServerModule, Init, Name, Never, NoReply,
        PartitionSupervisor, PartitionSupervisorModule, PartitionSupervisorOptions, Reply, ReplyTo,
        Restart, Shutdown, StartError, StartLink, StartLinkArg, Strategy, Supervisor,
        SupervisorModule, SupervisorOptions, Timeout,
    };
}
