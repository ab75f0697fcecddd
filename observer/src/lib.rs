//! See a [bough](https://docs.rs/bough) supervision tree live in the browser: Erlang's
//! `:observer.start()` for bough.
//!
//! One line in your program serves a page that draws the tree below a supervisor as a
//! picture and keeps it current: every supervisor and worker with its id, name and pid,
//! restarts flashing as they happen, the recent exits with their reasons, and a
//! process's info and state on a click.
//!
//! ```no_run
//! use bough_core::prelude::*;
//!
//! # struct Cache;
//! # impl GenServer for Cache {
//! #     type Args = (); type Call = Never; type Reply = Never; type Cast = Never;
//! #     type Info = Never; type Continue = Never;
//! #     async fn init(_: ()) -> Init<Self> { Init::Ok(Cache) }
//! # }
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let sup = Supervisor::start_link(
//!         [ChildSpec::worker::<Cache>(()).id("cache")],
//!         SupervisorOptions::new(Strategy::OneForOne),
//!     )
//!     .await?;
//!     let observer = bough_observer::serve(&sup).await?; // http://127.0.0.1:4040/
//!     println!("observer at {}", observer.url());
//!     // ... the program runs; the observer stops when `observer` is dropped.
//!     # Ok(())
//! }
//! ```
//!
//! The server listens on `127.0.0.1:4040` by default. It shows the state of any server
//! that opts in with [`GenServer::STATE`](bough_core::GenServer::STATE), and everything
//! it shows can be read by whoever reaches the port, so it binds to loopback unless
//! [`Observer::allow_remote`] is given, and answers only requests addressed to a loopback
//! host name (which keeps web pages from reaching it through DNS rebinding).
//!
//! # What the page does
//!
//! - The tree is drawn from the root to the right, one column per level. A static
//!   supervisor shows its children (up to [`Observer::max_children`], then a "more" node);
//!   a dynamic supervisor with more than 8 is drawn folded, with its counts, and opened it
//!   shows a dozen of them; a click on its "more" node pages through all of them in the
//!   side panel. A tree of 100,000 processes costs the page what one of 100 does.
//! - Crashes and restarts arrive as they happen (server-sent events from
//!   [`introspect::subscribe`](bough_core::introspect::subscribe)) and flash the node;
//!   the recent ones are listed with their reasons. The tree is polled every
//!   [`Observer::refresh`] (500 ms by default) while a page is open, and at once after
//!   each event.
//! - A click on a node shows [`introspect::get_status`](bough_core::introspect::get_status):
//!   its info, its supervisor's view of it, and its state.
//!
//! # The HTTP API
//!
//! The page uses a small JSON API, which scripts can use too. A pid is written as an object
//! with its `text` (`#PID<0.42.3>`) and its `raw` number ([`Pid::as_raw`]) as a string, so
//! that JavaScript reads it exactly; routes take that number (`42` for `#PID<0.42.0>`),
//! and the `#PID<..>` form too.
//!
//! | route                                      | answer                                        |
//! |--------------------------------------------|-----------------------------------------------|
//! | `GET /api/tree?max_children=N`             | the tree below the root ([`introspect::tree`](bough_core::introspect::tree)) |
//! | `GET /api/children/{pid}?offset=O&limit=L` | a page of a supervisor's children             |
//! | `GET /api/process/{pid}`                   | a process's status and state                  |
//! | `GET /api/events`                          | server-sent events: `tree` (the tree, when it changed) and `tree_event` (a crash, restart, ...) |
//!
//! # What it costs
//!
//! The observer runs on a thread of its own with its own single-threaded runtime, so its
//! tasks and timers never sit on your runtime's threads. Nothing is watched and nothing is
//! published while no page is open: an idle observer is a thread waiting on a socket.
//! With a page open, the tree is walked every [`Observer::refresh`] (each supervisor
//! answers a request for at most [`Observer::max_children`] children) and supervisors
//! publish their notable events. bough's `benches/observer_overhead.rs` measures a start
//! and exit (W1) and a call (W2) with a page open: both stay within noise of no observer at
//! all.

mod api;
mod json;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bough_core::{DynamicSupervisor, Name, Pid, Supervisor};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// The address the observer listens on unless told otherwise: `127.0.0.1:4040`.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 4040);

/// The process whose tree the observer shows: a supervisor (or any process), by pid or by
/// name. A name is looked up at each request, so a root that is restarted under its name
/// is followed.
#[derive(Debug, Clone)]
pub enum Root {
    /// This process.
    Pid(Pid),
    /// Whatever process holds this name.
    Name(Name),
}

impl Root {
    fn resolve(&self) -> Option<Pid> {
        match self {
            Root::Pid(pid) => Some(*pid),
            Root::Name(name) => bough_core::whereis(name),
        }
    }
}

impl From<Pid> for Root {
    fn from(pid: Pid) -> Root {
        Root::Pid(pid)
    }
}

impl From<&Supervisor> for Root {
    fn from(sup: &Supervisor) -> Root {
        Root::Pid(sup.pid())
    }
}

impl From<Supervisor> for Root {
    fn from(sup: Supervisor) -> Root {
        Root::Pid(sup.pid())
    }
}

impl From<&DynamicSupervisor> for Root {
    fn from(sup: &DynamicSupervisor) -> Root {
        Root::Pid(sup.pid())
    }
}

impl From<DynamicSupervisor> for Root {
    fn from(sup: DynamicSupervisor) -> Root {
        Root::Pid(sup.pid())
    }
}

impl From<Name> for Root {
    fn from(name: Name) -> Root {
        Root::Name(name)
    }
}

impl From<&'static str> for Root {
    fn from(name: &'static str) -> Root {
        Root::Name(Name::local(name))
    }
}

/// Why the observer could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ObserverError {
    /// The address is not a loopback address and [`Observer::allow_remote`] was not given.
    #[error(
        "{0} is reachable from other machines, and the observer shows process state: bind to \
         127.0.0.1 or [::1], or call `.allow_remote()` to bind there on purpose"
    )]
    NotLoopback(SocketAddr),
    /// The address could not be bound (taken, or not allowed).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// What the system said.
        source: io::Error,
    },
    /// The observer's thread or its runtime could not be started.
    #[error("cannot start the observer's thread: {0}")]
    Runtime(io::Error),
}

/// How the observer runs: its address, and how much of the tree it sends.
///
/// ```no_run
/// # async fn run(sup: bough_core::Supervisor) -> Result<(), bough_observer::ObserverError> {
/// use std::time::Duration;
/// use bough_observer::Observer;
///
/// let observer = Observer::new(&sup)
///     .port(0) // any free port
///     .max_children(20)
///     .refresh(Duration::from_secs(1))
///     .start()
///     .await?;
/// println!("{}", observer.url());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Observer {
    root: Root,
    addr: SocketAddr,
    allow_remote: bool,
    max_children: usize,
    refresh: Duration,
}

impl Observer {
    /// An observer of the tree below `root`, on [`DEFAULT_ADDR`].
    pub fn new(root: impl Into<Root>) -> Observer {
        Observer {
            root: root.into(),
            addr: DEFAULT_ADDR,
            allow_remote: false,
            max_children: 50,
            refresh: Duration::from_millis(500),
        }
    }

    /// Listens on `addr`. One that other machines can reach also needs
    /// [`allow_remote`](Observer::allow_remote).
    #[must_use]
    pub fn addr(mut self, addr: impl Into<SocketAddr>) -> Observer {
        self.addr = addr.into();
        self
    }

    /// Listens on this port of the same address (0: any free port; see
    /// [`Running::url`]).
    #[must_use]
    pub fn port(mut self, port: u16) -> Observer {
        self.addr.set_port(port);
        self
    }

    /// Allows an address other machines can reach, and requests addressed to any host
    /// name. Whoever reaches the port sees every process and the state of the servers that
    /// show it: put the observer behind something that checks who asks.
    #[must_use]
    pub fn allow_remote(mut self) -> Observer {
        self.allow_remote = true;
        self
    }

    /// At most this many children of each supervisor are sent with the tree (50 by
    /// default); the others are counted, and pages of them are a request away.
    #[must_use]
    pub fn max_children(mut self, max_children: usize) -> Observer {
        self.max_children = max_children;
        self
    }

    /// How often an open page's tree is refreshed (500 ms by default); events arrive at
    /// once whatever this is.
    #[must_use]
    pub fn refresh(mut self, every: Duration) -> Observer {
        self.refresh = every.max(Duration::from_millis(10));
        self
    }

    /// Binds the address and serves the page until the returned handle is dropped or
    /// [shut down](Running::shutdown).
    ///
    /// The observer runs on a thread of its own (`bough-observer`, with a single-threaded
    /// tokio runtime), like Erlang's observer in a process of its own: its timers and
    /// tasks stay off your runtime, whose processes only answer its questions (a page
    /// polls the tree every [`refresh`](Observer::refresh)). It works from any runtime.
    pub async fn start(self) -> Result<Running, ObserverError> {
        if !self.allow_remote && !self.addr.ip().is_loopback() {
            return Err(ObserverError::NotLoopback(self.addr));
        }
        let bind_error = |source| ObserverError::Bind {
            addr: self.addr,
            source,
        };
        let listener = std::net::TcpListener::bind(self.addr).map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(ObserverError::Runtime)?;
        let listener = {
            let _entered = runtime.enter();
            TcpListener::from_std(listener).map_err(bind_error)?
        };
        // Closed when the handle goes: event streams end with it, so that the graceful
        // shutdown, which waits for open responses, finishes.
        let (stop, closing) = watch::channel(());
        let app = api::router(Arc::new(api::Shared {
            root: self.root,
            max_children: self.max_children,
            refresh: self.refresh,
            check_host: !self.allow_remote,
            closing: closing.clone(),
        }));
        let (done, finished) = oneshot::channel();
        std::thread::Builder::new()
            .name("bough-observer".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let mut closing = closing;
                    let shutdown = async move { while closing.changed().await.is_ok() {} };
                    // axum retries failed accepts itself; the server ends only when asked.
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(shutdown)
                        .await;
                });
                drop(runtime);
                let _ = done.send(());
            })
            .map_err(ObserverError::Runtime)?;
        Ok(Running {
            addr,
            stop: Some(stop),
            finished: Some(finished),
        })
    }
}

/// Starts an observer of the tree below `root` on [`DEFAULT_ADDR`]
/// (`http://127.0.0.1:4040/`): `Observer::new(root).start()`.
pub async fn serve(root: impl Into<Root>) -> Result<Running, ObserverError> {
    Observer::new(root).start().await
}

/// A running observer. Dropping it stops the server; open pages stop updating.
#[must_use = "the observer stops when this handle is dropped"]
pub struct Running {
    addr: SocketAddr,
    stop: Option<watch::Sender<()>>,
    /// Answered when the observer's thread has let go of everything.
    finished: Option<oneshot::Receiver<()>>,
}

impl Running {
    /// The address it listens on (with the port the system chose, if it was 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The page's address, such as `http://127.0.0.1:4040/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Stops the server and waits until it has let go of the port and closed every
    /// connection (open event streams end at once).
    pub async fn shutdown(mut self) {
        self.stop.take();
        if let Some(finished) = self.finished.take() {
            let _ = finished.await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // Dropping the sender closes the channel: the server winds down on its own thread.
        self.stop.take();
    }
}

impl fmt::Debug for Running {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Running").field("addr", &self.addr).finish()
    }
}

/// Reads a pid as the API writes it: its number (`42`, or `12884901930` for
/// `#PID<0.42.3>`), `<0.42.3>` or `#PID<0.42.3>`.
pub fn parse_pid(text: &str) -> Option<Pid> {
    let text = text.trim();
    let inner = text
        .strip_prefix("#PID<")
        .or_else(|| text.strip_prefix('<'))
        .and_then(|rest| rest.strip_suffix('>'));
    let Some(inner) = inner else {
        return text.parse().ok().map(Pid::from_raw);
    };
    let mut parts = inner.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("0"), Some(index), Some(generation), None) => {
            let index: u32 = index.parse().ok()?;
            let generation: u32 = generation.parse().ok()?;
            Some(Pid::from_raw(
                u64::from(generation) << 32 | u64::from(index),
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pids_are_read_in_every_form_the_api_writes() {
        for text in ["42", "<0.42.0>", "#PID<0.42.0>", " 42 "] {
            assert_eq!(parse_pid(text), Some(Pid::from_raw(42)), "{text}");
        }
        let later = Pid::from_raw(3 << 32 | 42);
        assert_eq!(later.to_string(), "#PID<0.42.3>");
        for text in ["12884901930", "<0.42.3>", "#PID<0.42.3>"] {
            assert_eq!(parse_pid(text), Some(later), "{text}");
        }
        for text in [
            "",
            "x",
            "<0.42>",
            "#PID<1.42.0>",
            "-1",
            "#PID<0.42.0",
            "<0.4.2.0>",
            "<0.4294967296.0>",
            "<0.42.-1>",
        ] {
            assert_eq!(parse_pid(text), None, "{text}");
        }
    }

    #[tokio::test]
    async fn a_remote_address_needs_to_be_allowed() {
        let addr: SocketAddr = "0.0.0.0:0".parse().unwrap();
        let refused = Observer::new(Pid::from_raw(1)).addr(addr).start().await;
        assert!(matches!(refused, Err(ObserverError::NotLoopback(a)) if a == addr));
        let message = refused.unwrap_err().to_string();
        assert!(message.contains("allow_remote"), "{message}");
        let allowed = Observer::new(Pid::from_raw(1))
            .addr(addr)
            .allow_remote()
            .start()
            .await
            .unwrap();
        assert_ne!(allowed.local_addr().port(), 0);
        allowed.shutdown().await;
    }

    #[tokio::test]
    async fn a_taken_port_is_a_bind_error() {
        let first = Observer::new(Pid::from_raw(1))
            .port(0)
            .start()
            .await
            .unwrap();
        let taken = Observer::new(Pid::from_raw(1))
            .addr(first.local_addr())
            .start()
            .await;
        assert!(
            matches!(taken, Err(ObserverError::Bind { addr, .. }) if addr == first.local_addr())
        );
        assert!(first.url().starts_with("http://127.0.0.1:"));
    }
}
