//! A running application: a root supervisor, stopped in order on SIGTERM, with the
//! liveness and readiness answers an orchestrator (Kubernetes and the like) asks for.
//!
//! An OTP release stops on SIGTERM by stopping its applications, each one's supervision
//! tree in order; an application module's `prep_stop/1` runs before its tree stops and
//! `stop/1` after. [`Application`] is that for one root [`Supervisor`]:
//!
//! | OTP / Elixir                                  | bough                                          |
//! |-----------------------------------------------|------------------------------------------------|
//! | an application's top supervisor               | [`Application::new`]`(root)`                   |
//! | SIGTERM → `System.stop/0` (`init:stop/0`)     | [`Application::stop_on_signal`], [`shutdown_signal`] |
//! | `Application.stop/1`, its tree stopped in order | [`Application::stop`] → [`StopReport`]       |
//! | the `stop/1` callback, after the tree         | [`ApplicationBuilder::on_stop`]                |
//! | (none: health checks are an orchestrator's)   | [`Application::live`], [`Application::ready`]  |
//!
//! A stop, whatever starts it, goes in three steps within one budget:
//!
//! 1. **Drain.** The application reports itself not ready, and every
//!    [`DynamicSupervisor`](crate::DynamicSupervisor) of the tree (task and partition supervisors included) refuses
//!    new children with [`StartError::ShuttingDown`](crate::StartError::ShuttingDown):
//!    work that arrives now would only be stopped again. Children already running go on,
//!    and are still restarted.
//! 2. **The tree stops in order**, as [`Supervisor::stop`] does: children in reverse start
//!    order, each within its [`Shutdown`](crate::Shutdown), `terminate` run where OTP runs
//!    it. If the budget runs out first, the root is [killed](crate::process::kill), as OTP
//!    kills a supervisor: its children get the `Killed` exit signal, and a child
//!    supervisor still stops its own children in order before it exits. A worker already
//!    in its `terminate` is not cut short: it is killed when its own [`Shutdown`](crate::Shutdown)
//!    time-out, counted again from the kill, runs out. The stop returns once every task
//!    of the tree has ended: within the budget plus the longest such time-out, so keep
//!    both below the orchestrator's grace period.
//! 3. **The `on_stop` hooks** run, in the order they were given, within what is left of
//!    the budget: the place to release what the tree held outside the process, such as a
//!    lease on a cluster-wide name.
//!
//! # Health
//!
//! - **Live** while the root supervisor runs. A supervisor below that gave up was
//!   restarted by its parent, which is the tree healing itself; a root that gave up is
//!   gone, and only a restart of the program helps, which is what a failed liveness probe
//!   asks for.
//! - **Ready** when the application is not stopping, every *permanent* child of every
//!   supervisor in the tree runs (a failed restart waiting for its retry does not), every
//!   supervisor answered in time, and every [readiness check](ApplicationBuilder::readiness_check)
//!   passes. Temporary and transient children come and go with the work and do not count.
//!
//! ```
//! use std::time::Duration;
//! use bough_core::prelude::*;
//! use bough_core::Application;
//!
//! struct Cache;
//! impl GenServer for Cache {
//!     type Args = (); type Call = Never; type Reply = Never; type Cast = Never;
//!     type Info = Never; type Continue = Never;
//!     async fn init(_: ()) -> Init<Self> { Init::Ok(Cache) }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), StartError> {
//! let root = Supervisor::start_link(
//!     [ChildSpec::worker::<Cache>(()).id("cache")],
//!     SupervisorOptions::new(Strategy::OneForOne),
//! )
//! .await?;
//! let app = Application::builder(root)
//!     .on_stop("say goodbye", || async { println!("the tree has stopped") })
//!     .build();
//! assert!(app.live().is_live());
//! assert!(app.ready().await.is_ready());
//!
//! // In a service: `app.stop_on_signal(Duration::from_secs(20)).await?`.
//! let report = app.stop(Duration::from_secs(20)).await;
//! assert!(report.in_time());
//! assert!(!app.live().is_live());
//! # Ok(()) }
//! ```

mod health;
mod signal;
mod stop;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use crate::process::Monitor;
use crate::supervisor::Supervisor;

pub use health::{Liveness, NotReady, Readiness};
pub use signal::{ShutdownSignal, shutdown_signal};
pub use stop::StopReport;

/// How long [`Application::ready`] waits for each supervisor's answer.
pub const DEFAULT_READY_TIMEOUT: Duration = Duration::from_secs(1);

type Check = Box<dyn Fn() -> bool + Send + Sync>;
type Hook = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A running application: its root supervisor, how it stops and how healthy it is. Cheap
/// to clone: clones share one application (hand one to each HTTP handler).
#[derive(Clone)]
pub struct Application {
    inner: Arc<Inner>,
}

struct Inner {
    root: Supervisor,
    /// Resolves when the root exits: liveness reads it without waiting.
    down: Monitor,
    checks: Vec<(String, Check)>,
    hooks: parking_lot::Mutex<Vec<(String, Hook)>>,
    stopping: AtomicBool,
    /// The report, once the stop has ended.
    stopped: watch::Sender<Option<StopReport>>,
}

/// Builds an [`Application`]: its readiness checks and its `on_stop` hooks.
#[must_use = "an application builder does nothing until `build` is called"]
pub struct ApplicationBuilder {
    root: Supervisor,
    checks: Vec<(String, Check)>,
    hooks: Vec<(String, Hook)>,
}

impl ApplicationBuilder {
    /// Adds a check that must pass for the application to be ready, such as "the
    /// connection to the name backend is up". It is called at every readiness probe, so it
    /// must be quick and must not block; its name is what a failed probe reports.
    pub fn readiness_check(
        mut self,
        name: impl Into<String>,
        check: impl Fn() -> bool + Send + Sync + 'static,
    ) -> Self {
        self.checks.push((name.into(), Box::new(check)));
        self
    }

    /// Adds a hook run once the tree has stopped (OTP's `stop/1` callback), within what is
    /// left of the stop's budget; hooks run one after the other, in the order given. A
    /// hook that does not finish in time is dropped and named in the [`StopReport`].
    pub fn on_stop<F, Fut>(mut self, name: impl Into<String>, hook: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hooks
            .push((name.into(), Box::new(move || Box::pin(hook()) as _)));
        self
    }

    /// The application.
    pub fn build(self) -> Application {
        Application {
            inner: Arc::new(Inner {
                down: self.root.monitor(),
                root: self.root,
                checks: self.checks,
                hooks: parking_lot::Mutex::new(self.hooks),
                stopping: AtomicBool::new(false),
                stopped: watch::Sender::new(None),
            }),
        }
    }
}

impl Application {
    /// An application of this root supervisor, with no checks or hooks.
    pub fn new(root: Supervisor) -> Application {
        Application::builder(root).build()
    }

    /// Starts building an application of this root supervisor.
    pub fn builder(root: Supervisor) -> ApplicationBuilder {
        ApplicationBuilder {
            root,
            checks: Vec::new(),
            hooks: Vec::new(),
        }
    }

    /// The root supervisor.
    pub fn root(&self) -> &Supervisor {
        &self.inner.root
    }

    /// Whether a stop has begun.
    pub fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Acquire)
    }

    /// Whether the application is live: its root supervisor runs. Answers at once.
    pub fn live(&self) -> Liveness {
        match self.inner.down.try_reason() {
            None => Liveness::Live,
            Some(reason) => Liveness::Down(reason),
        }
    }

    /// Whether the application is ready (see the [module](self) for what that means),
    /// giving each supervisor [`DEFAULT_READY_TIMEOUT`] to answer.
    pub async fn ready(&self) -> Readiness {
        self.ready_within(DEFAULT_READY_TIMEOUT).await
    }

    /// [`ready`](Application::ready), giving each supervisor `timeout` to answer; one that
    /// does not is reported as [`NotReady::Unresponsive`].
    pub async fn ready_within(&self, timeout: Duration) -> Readiness {
        health::readiness(self, timeout).await
    }

    /// Stops the application within `budget`: drains the tree, stops it in order, then
    /// runs the `on_stop` hooks (see the [module](self)). Returns once the tree has ended
    /// and the hooks have run or run out of time.
    ///
    /// The stop runs on a task of its own: it goes on if this future is dropped, and a
    /// process of the tree may ask for it (that process is stopped with the rest, so it
    /// does not see the report). Calls after the first, and calls made while it runs, wait
    /// for the same stop, whatever their budget, and get its report.
    pub async fn stop(&self, budget: Duration) -> StopReport {
        let mut stopped = self.inner.stopped.subscribe();
        if !self.inner.stopping.swap(true, Ordering::AcqRel) {
            let app = self.clone();
            tokio::spawn(async move {
                let report = stop::run(&app, budget).await;
                app.inner.stopped.send_replace(Some(report));
            });
        }
        let report = stopped
            .wait_for(Option::is_some)
            .await
            .expect("the application holds the sender");
        report.clone().expect("waited for a report")
    }

    /// Waits for SIGTERM or SIGINT (Ctrl-C), then [stops](Application::stop) within
    /// `budget`: what a service's `main` ends with. Give a budget below the orchestrator's
    /// grace period (Kubernetes' `terminationGracePeriodSeconds`, 30 s by default), which
    /// ends in SIGKILL. Fails only if the signal handlers cannot be installed.
    pub async fn stop_on_signal(&self, budget: Duration) -> std::io::Result<StopReport> {
        let signal = shutdown_signal().await?;
        tracing::info!(target: "bough::application", %signal, "stopping the application");
        Ok(self.stop(budget).await)
    }
}

impl fmt::Debug for Application {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Application")
            .field("root", &self.inner.root)
            .field("stopping", &self.is_stopping())
            .finish_non_exhaustive()
    }
}
