//! Looking inside a running program: what each process is doing, a server's state, the
//! whole supervision tree, and its events as they happen. This is what Erlang's `:sys`
//! module, `Process.info/1` and the observer give, and what
//! [bough-observer](https://docs.rs/bough-observer) draws in a browser.
//!
//! | Erlang / Elixir                                    | bough                                        |
//! |----------------------------------------------------|----------------------------------------------|
//! | `Process.info(pid)`                                | [`process_info`] → [`ProcessInfo`]           |
//! | `Process.info(pid, :message_queue_len)`            | [`ProcessInfo::message_queue_len`]           |
//! | `Process.info(pid, :registered_name)`              | [`ProcessInfo::name`]                        |
//! | `Process.info(pid, :status)`                       | [`ProcessInfo::status`] ([`Status`])         |
//! | `:sys.get_state(pid)`                              | [`get_state`], [`get_state_timeout`]         |
//! | `format_status/1` callback                         | [`GenServer::STATE`](crate::GenServer::STATE) ([`StateFormat`]) |
//! | `:sys.get_status(pid)`                             | [`get_status`] → [`ProcessStatus`]           |
//! | `Supervisor.which_children/1`, all the way down    | [`tree`] → [`Node`]; one level: [`children`] |
//! | `Supervisor.count_children/1` + intensity state    | [`supervisor_info`] → [`SupervisorInfo`]     |
//! | the observer's Applications tab                    | [`tree`], drawn by bough-observer            |
//! | supervisor reports (SASL), a `:logger` handler     | [`subscribe`] → [`Events`] of [`TreeEvent`]  |
//!
//! Reading is cheap and never stops a process: [`process_info`] takes the process's
//! mailbox lock for a moment. [`get_state`] and the supervisor queries are answered by the
//! process itself between two messages, like OTP's system messages, so they wait behind
//! its queue.
//!
//! # Costs when no one looks
//!
//! A process records when it started (eight bytes, which fit in its control block's
//! allocation) and a named process's name is kept by pid; supervisors keep a restart count
//! per restarted child. Supervisors publish [events](subscribe) only while someone
//! subscribes: otherwise each report costs one atomic load.

pub(crate) mod clock;
pub(crate) mod events;
mod info;
pub(crate) mod names;
mod state;
mod tree;

pub use events::{EventFilter, EventKind, Events, Lagged, TreeEvent, subscribe};
pub use info::{ProcessInfo, ProcessKind, Status, process_info};
pub use state::{DEFAULT_STATE_TIMEOUT, StateError, StateFormat, get_state, get_state_timeout};
pub use tree::{
    ChildDetail, Children, Node, ProcessStatus, SupervisorInfo, SupervisorKind, TreeOptions,
    children, get_status, supervisor_info, tree,
};

pub(crate) use state::answer as answer_state;
pub(crate) use tree::Query;
