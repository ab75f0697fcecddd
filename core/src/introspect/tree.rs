//! Walking a supervision tree: what each supervisor knows of its children, recursively.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::info::{ProcessInfo, ProcessKind, info_of};
use super::state::StateError;
use crate::child::{ChildId, ChildType, Restart, Shutdown};
use crate::dynamic_supervisor::DynamicSupervisor;
use crate::error::CallError;
use crate::pid::Pid;
use crate::process::control;
use crate::supervisor::{ChildCount, ChildPid, Strategy, Supervisor};

/// The kind of a supervisor, with what sets it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SupervisorKind {
    /// A static [`Supervisor`] and its strategy.
    Static {
        /// How it restarts its children.
        strategy: Strategy,
    },
    /// A [`DynamicSupervisor`] (always one_for_one).
    Dynamic {
        /// Its `max_children`, if it has one.
        max_children: Option<usize>,
    },
}

/// A supervisor's settings and restart history: the part of OTP's supervisor state that
/// `:sys.get_state` shows, besides the children.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SupervisorInfo {
    /// Static or dynamic.
    pub kind: SupervisorKind,
    /// At most this many restarts...
    pub max_restarts: u32,
    /// ...within this period (`max_seconds`).
    pub period: Duration,
    /// The restarts within the period now: when this passes `max_restarts`, the
    /// supervisor gives up.
    pub recent_restarts: usize,
    /// Every restart since the supervisor started (each try of a failed restart counts).
    pub total_restarts: u64,
    /// What `count_children` answers.
    pub count: ChildCount,
}

/// One child as its supervisor knows it: `which_children`'s entry with the rest of its
/// spec and how often it was restarted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChildDetail {
    /// The child's id; `None` under a dynamic supervisor, as in `which_children`.
    pub id: Option<ChildId>,
    /// Its pid, or whether it is restarting or stopped.
    pub pid: ChildPid,
    /// Worker or supervisor.
    pub child_type: ChildType,
    /// When it is restarted.
    pub restart: Restart,
    /// How it is stopped.
    pub shutdown: Shutdown,
    /// How many times its supervisor has restarted it (tries included). Under a dynamic
    /// supervisor a restarted child keeps the count of the one it replaces.
    pub restarts: u32,
}

/// A page of a supervisor's children, with the supervisor's own info.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Children {
    /// The supervisor's settings and restart history.
    pub supervisor: SupervisorInfo,
    /// The index of the first child in this page.
    pub offset: usize,
    /// All children the supervisor has (running, restarting or, for a static
    /// supervisor, stopped).
    pub total: usize,
    /// The children of this page: a static supervisor's in start order; a dynamic
    /// supervisor's in no particular order, and children come and go between pages.
    pub children: Vec<ChildDetail>,
}

/// What a supervisor is asked.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Query {
    /// Children `offset..offset + limit`.
    Page { offset: usize, limit: usize },
    /// The child with this pid, if it is one.
    Child(Pid),
}

impl Query {
    /// The part of `0..total` this query asks for.
    pub(crate) fn range(self, total: usize) -> std::ops::Range<usize> {
        match self {
            Query::Page { offset, limit } => {
                let start = offset.min(total);
                start..start.saturating_add(limit).min(total)
            }
            Query::Child(_) => 0..total,
        }
    }
}

async fn describe(pid: Pid, query: Query) -> Result<Children, CallError> {
    if let Ok(sup) = Supervisor::from_pid(pid) {
        return sup.describe(query).await;
    }
    match DynamicSupervisor::from_pid(pid) {
        Ok(sup) => sup.describe(query).await,
        Err(CallError::WrongType { name, found, .. }) => Err(CallError::WrongType {
            name,
            expected: "Supervisor or DynamicSupervisor",
            found,
        }),
        Err(other) => Err(other),
    }
}

/// A supervisor's settings and restart history, asked of the supervisor itself. Fails with
/// [`CallError::NoProc`] if it is not running, [`CallError::WrongType`] if `pid` is no
/// supervisor.
pub async fn supervisor_info(pid: Pid) -> Result<SupervisorInfo, CallError> {
    Ok(describe(
        pid,
        Query::Page {
            offset: 0,
            limit: 0,
        },
    )
    .await?
    .supervisor)
}

/// A page of the children of the supervisor `pid`: `which_children` with each child's
/// restart type, shutdown and restart count, plus the supervisor's own info. Pages keep a
/// dynamic supervisor with a million children answering quickly.
///
/// ```
/// use bough_core::prelude::*;
/// use bough_core::introspect;
///
/// struct Worker;
/// impl GenServer for Worker {
///     type Args = (); type Call = Never; type Reply = Never; type Cast = Never;
///     type Info = Never; type Continue = Never;
///     async fn init(_: ()) -> Init<Self> { Init::Ok(Worker) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sup = Supervisor::start_link(
///     [ChildSpec::worker::<Worker>(()).id("a"), ChildSpec::worker::<Worker>(()).id("b")],
///     SupervisorOptions::new(Strategy::OneForAll),
/// )
/// .await
/// .unwrap();
/// let page = introspect::children(sup.pid(), 1, 10).await.unwrap();
/// assert_eq!(page.total, 2);
/// assert_eq!(page.children.len(), 1);
/// assert_eq!(page.children[0].id.as_deref(), Some("b"));
/// assert_eq!(page.children[0].restart, Restart::Permanent);
/// # }
/// ```
pub async fn children(pid: Pid, offset: usize, limit: usize) -> Result<Children, CallError> {
    describe(pid, Query::Page { offset, limit }).await
}

/// How much of a tree [`tree`] walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeOptions {
    max_children: usize,
    max_depth: usize,
}

impl TreeOptions {
    /// At most 100 children per supervisor, 32 levels deep.
    pub fn new() -> TreeOptions {
        TreeOptions {
            max_children: 100,
            max_depth: 32,
        }
    }

    /// At most this many children of each supervisor are walked; the others are counted
    /// in [`Node::omitted`].
    #[must_use]
    pub fn max_children(mut self, max_children: usize) -> TreeOptions {
        self.max_children = max_children;
        self
    }

    /// Supervisors deeper than this are listed without their children (the root is at
    /// depth 0).
    #[must_use]
    pub fn max_depth(mut self, max_depth: usize) -> TreeOptions {
        self.max_depth = max_depth;
        self
    }
}

impl Default for TreeOptions {
    fn default() -> Self {
        TreeOptions::new()
    }
}

/// One process of a tree, with what its supervisor knows of it and, for a supervisor,
/// its children.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Node {
    /// The process, if it runs.
    pub pid: Option<Pid>,
    /// How its supervisor knows it; `None` for the root of the walk.
    pub child: Option<ChildDetail>,
    /// What it is doing; `None` if it is not running (or exited during the walk).
    pub info: Option<ProcessInfo>,
    /// For a supervisor, its settings and restart history.
    pub supervisor: Option<SupervisorInfo>,
    /// For a supervisor, its children (at most [`TreeOptions::max_children`]).
    pub children: Vec<Node>,
    /// For a supervisor, how many children were left out of [`children`](Node::children).
    pub omitted: usize,
}

/// The tree below `root` (any supervisor, or any process), walked recursively: each
/// supervisor is asked for its children, and each process for its
/// [info](super::process_info). This is what OTP's observer draws, and what
/// `Supervisor.which_children/1` gives when applied all the way down.
///
/// Each supervisor answers for itself, one after the other, so the tree is not one
/// snapshot: a child can be restarted between two questions. A dynamic supervisor's
/// children beyond [`TreeOptions::max_children`] are counted, not walked.
///
/// ```
/// use bough_core::prelude::*;
/// use bough_core::introspect::{self, ProcessKind, TreeOptions};
///
/// struct Worker;
/// impl GenServer for Worker {
///     type Args = (); type Call = Never; type Reply = Never; type Cast = Never;
///     type Info = Never; type Continue = Never;
///     async fn init(_: ()) -> Init<Self> { Init::Ok(Worker) }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let root = Supervisor::start_link(
///     [
///         ChildSpec::worker::<Worker>(()).id("cache"),
///         DynamicSupervisor::child_spec(DynamicSupervisorOptions::new()).id("jobs"),
///     ],
///     SupervisorOptions::new(Strategy::OneForOne),
/// )
/// .await
/// .unwrap();
/// let tree = introspect::tree(root.pid(), TreeOptions::new()).await.unwrap();
/// let ids: Vec<_> = tree.children.iter().map(|n| n.child.as_ref().unwrap().id.clone()).collect();
/// assert_eq!(ids, [Some("cache".into()), Some("jobs".into())]);
/// let jobs = &tree.children[1];
/// assert_eq!(jobs.info.as_ref().unwrap().kind, ProcessKind::Dynamic);
/// assert_eq!(jobs.supervisor.as_ref().unwrap().count.active, 0);
/// # }
/// ```
pub async fn tree(root: Pid, options: TreeOptions) -> Result<Node, CallError> {
    let process = control::lookup(root).ok_or(CallError::NoProc)?;
    let info = info_of(&process);
    drop(process);
    Ok(walk(root, None, Some(info), options, 0).await)
}

fn walk(
    pid: Pid,
    child: Option<ChildDetail>,
    info: Option<ProcessInfo>,
    options: TreeOptions,
    depth: usize,
) -> Pin<Box<dyn Future<Output = Node> + Send>> {
    Box::pin(async move {
        let mut node = Node {
            pid: Some(pid),
            child,
            info,
            supervisor: None,
            children: Vec::new(),
            omitted: 0,
        };
        let is_supervisor = node.info.as_ref().is_some_and(|i| i.kind.is_supervisor());
        if !is_supervisor {
            return node;
        }
        let limit = if depth < options.max_depth {
            options.max_children
        } else {
            0
        };
        let Ok(page) = describe(pid, Query::Page { offset: 0, limit }).await else {
            // It exited meanwhile.
            node.info = None;
            return node;
        };
        node.supervisor = Some(page.supervisor);
        node.omitted = page.total - page.children.len();
        for detail in page.children {
            let running = detail
                .pid
                .pid()
                .and_then(|pid| control::lookup(pid).map(|process| (pid, info_of(&process))));
            node.children.push(match running {
                Some((pid, info)) => walk(pid, Some(detail), Some(info), options, depth + 1).await,
                None => Node {
                    pid: None,
                    child: Some(detail),
                    info: None,
                    supervisor: None,
                    children: Vec::new(),
                    omitted: 0,
                },
            });
        }
        node
    })
}

/// Everything introspection knows of one process: Erlang's `:sys.get_status/1`, as a
/// struct.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProcessStatus {
    /// What it is and what it is doing.
    pub info: ProcessInfo,
    /// How its supervisor knows it, if its parent is a supervisor.
    pub child: Option<ChildDetail>,
    /// For a supervisor, its settings and restart history.
    pub supervisor: Option<SupervisorInfo>,
    /// For a server, its state as text if it shows it (see
    /// [`GenServer::STATE`](crate::GenServer::STATE)).
    pub state: Option<Result<String, StateError>>,
}

/// Everything introspection knows of `pid`: its [info](super::process_info), its entry in
/// its supervisor, and its state or supervisor info, waiting up to `timeout` for each
/// answer: `:sys.get_status/2`. Fails with [`CallError::NoProc`] if it is not running.
pub async fn get_status(pid: Pid, timeout: Duration) -> Result<ProcessStatus, CallError> {
    let process = control::lookup(pid).ok_or(CallError::NoProc)?;
    let info = info_of(&process);
    drop(process);
    let child = match info.parent {
        Some(parent) => {
            let asked = tokio::time::timeout(timeout, describe(parent, Query::Child(pid))).await;
            match asked {
                Ok(Ok(page)) => page.children.into_iter().next(),
                _ => None,
            }
        }
        None => None,
    };
    let (supervisor, state) = if info.kind == ProcessKind::Worker {
        let state = super::state::get_state_timeout(pid, timeout).await;
        (None, Some(state))
    } else {
        let asked = tokio::time::timeout(timeout, supervisor_info(pid)).await;
        (asked.ok().and_then(Result::ok), None)
    };
    Ok(ProcessStatus {
        info,
        child,
        supervisor,
        state,
    })
}
