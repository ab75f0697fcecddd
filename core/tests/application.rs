//! An application: drained, stopped in order within a budget, hooks after; liveness and
//! readiness read off the tree.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bough_core::application::{Liveness, NotReady};
use bough_core::prelude::*;
use bough_core::{Application, ChildPid};
use tokio::time::Instant;

type Log = Arc<Mutex<Vec<String>>>;

/// A worker that logs its `terminate`, which takes `linger`.
struct Worker {
    name: &'static str,
    log: Log,
    linger: Duration,
}

impl GenServer for Worker {
    type Args = (&'static str, Log, Duration);
    type Call = Never;
    type Reply = Never;
    type Cast = ();
    type Info = Never;
    type Continue = Never;

    async fn init((name, log, linger): Self::Args) -> Init<Self> {
        Init::Ok(Worker { name, log, linger })
    }

    async fn handle_cast(&mut self, (): ()) -> NoReply<Self> {
        panic!("{} was told to crash", self.name);
    }

    async fn terminate(&mut self, _: &ExitReason) {
        tokio::time::sleep(self.linger).await;
        self.log
            .lock()
            .unwrap()
            .push(format!("terminate {}", self.name));
    }
}

fn worker(name: &'static str, log: &Log, linger: Duration) -> ChildSpec {
    ChildSpec::worker::<Worker>((name, log.clone(), linger))
        .id(name)
        .shutdown(Shutdown::Timeout(Duration::from_secs(60)))
}

/// A worker whose `init` takes ten seconds.
struct Slow;

impl GenServer for Slow {
    type Args = ();
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init((): ()) -> Init<Self> {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Init::Ok(Slow)
    }
}

fn jobs() -> ChildSpec {
    DynamicSupervisor::child_spec(DynamicSupervisorOptions::new()).id("jobs")
}

async fn child(sup: &Supervisor, id: &str) -> Pid {
    let children = sup.which_children().await.unwrap();
    children
        .iter()
        .find(|child| child.id.as_deref() == Some(id))
        .and_then(|child| child.pid.pid())
        .unwrap()
}

async fn jobs_of(root: &Supervisor) -> DynamicSupervisor {
    DynamicSupervisor::from_pid(child(root, "jobs").await).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_stop_drains_stops_the_tree_in_order_then_runs_the_hooks() {
    let log = Log::default();
    let root = Supervisor::start_link(
        [
            worker("first", &log, Duration::ZERO),
            jobs(),
            worker("last", &log, Duration::from_secs(2)),
        ],
        SupervisorOptions::new(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let jobs = jobs_of(&root).await;
    let job = jobs
        .start_child(worker("job", &log, Duration::ZERO).restart(Restart::Temporary))
        .await
        .unwrap();
    let hook_log = log.clone();
    let hook_root = root.clone();
    let app = Application::builder(root.clone())
        .on_stop("revoke", move || async move {
            assert!(!hook_root.is_alive(), "hooks run after the tree has ended");
            hook_log.lock().unwrap().push("revoke".into());
        })
        .build();

    let start = Instant::now();
    let stopping = tokio::spawn({
        let app = app.clone();
        async move { app.stop(Duration::from_secs(30)).await }
    });
    // "last" takes two seconds to terminate; meanwhile the tree refuses new work.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(app.is_stopping());
    assert_eq!(
        jobs.start_child(worker("late", &log, Duration::ZERO).restart(Restart::Temporary))
            .await,
        Err(StartError::ShuttingDown)
    );
    assert!(process::is_alive(job), "running children are not touched");
    assert!(app.live().is_live(), "live until the root has ended");
    assert_eq!(app.ready().await.reasons()[0], NotReady::Stopping);

    let report = stopping.await.unwrap();
    assert!(report.in_time(), "{report:?}");
    assert_eq!(report.drained, 1);
    assert_eq!(report.reason, ExitReason::Shutdown);
    assert_eq!(report.elapsed, start.elapsed());
    assert_eq!(
        *log.lock().unwrap(),
        [
            "terminate last",
            "terminate job",
            "terminate first",
            "revoke"
        ]
    );
    assert!(!process::is_alive(job) && !jobs.is_alive() && !root.is_alive());
    assert_eq!(app.live(), Liveness::Down(ExitReason::Shutdown));

    // A second stop waits for nothing and reports the same stop.
    assert_eq!(app.stop(Duration::from_secs(30)).await, report);
    assert_eq!(log.lock().unwrap().len(), 4, "hooks run once");
}

#[tokio::test(start_paused = true)]
async fn a_tree_that_overruns_its_budget_is_killed_and_every_task_ends() {
    let log = Log::default();
    let root = Supervisor::start_link(
        [
            worker("quick", &log, Duration::ZERO),
            worker("stubborn", &log, Duration::from_secs(50))
                .shutdown(Shutdown::Timeout(Duration::from_secs(10))),
        ],
        SupervisorOptions::new(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let children: Vec<Pid> = root
        .which_children()
        .await
        .unwrap()
        .iter()
        .filter_map(|child| child.pid.pid())
        .collect();
    let hook_ran = Arc::new(AtomicBool::new(false));
    let ran = hook_ran.clone();
    let app = Application::builder(root.clone())
        .on_stop("instant", move || async move {
            ran.store(true, Ordering::SeqCst)
        })
        .on_stop("slow", || tokio::time::sleep(Duration::from_millis(1)))
        .build();

    let start = Instant::now();
    let report = app.stop(Duration::from_secs(5)).await;
    assert!(!report.tree_in_time);
    assert_eq!(report.reason, ExitReason::Killed);
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(15),
        "killed at 5 s, the root gives the worker in its terminate its 10 s again"
    );
    assert!(
        hook_ran.load(Ordering::SeqCst),
        "a hook that needs no time still runs"
    );
    assert_eq!(report.hooks_timed_out, ["slow"]);
    assert!(!report.in_time());
    assert!(children.iter().all(|&pid| !process::is_alive(pid)));
    assert_eq!(
        *log.lock().unwrap(),
        ["terminate quick"],
        "the stubborn worker's terminate was cut short"
    );
}

#[tokio::test(start_paused = true)]
async fn ready_when_every_permanent_child_runs_and_every_check_passes() {
    let connected = Arc::new(AtomicBool::new(true));
    let log = Log::default();
    let root = Supervisor::start_link(
        [
            worker("db", &log, Duration::ZERO),
            worker("cache", &log, Duration::ZERO).restart(Restart::Transient),
            jobs(),
        ],
        SupervisorOptions::new(Strategy::OneForOne).max_restarts(1),
    )
    .await
    .unwrap();
    let check = connected.clone();
    let app = Application::builder(root.clone())
        .readiness_check("etcd", move || check.load(Ordering::SeqCst))
        .build();
    let ready = app.ready().await;
    assert!(ready.is_ready(), "{ready}");
    assert_eq!(ready.to_string(), "ready");

    // A transient child that stops for good does not count.
    root.terminate_child("cache").await.unwrap();
    assert!(app.ready().await.is_ready());

    // A permanent child that does not run does, and so does a failed check.
    root.terminate_child("db").await.unwrap();
    connected.store(false, Ordering::SeqCst);
    let ready = app.ready().await;
    assert_eq!(
        ready.reasons(),
        [
            NotReady::ChildNotRunning {
                supervisor: root.pid(),
                id: Some("db".into()),
                pid: ChildPid::Undefined,
            },
            NotReady::Check("etcd".into()),
        ]
    );
    assert_eq!(
        ready.to_string(),
        format!(
            "not ready: permanent child `db` of {} is not running; check `etcd` failed",
            root.pid()
        )
    );
    assert!(app.live().is_live());
    root.restart_child("db").await.unwrap();
    connected.store(true, Ordering::SeqCst);
    assert!(app.ready().await.is_ready());

    // Two crashes within the period: the root gives up, and the application is down.
    for _ in 0..2 {
        let db = child(&root, "db").await;
        Server::<Worker>::from_pid(db).unwrap().cast(());
        process::monitor(db).await;
    }
    root.monitor().await;
    assert_eq!(app.live(), Liveness::Down(ExitReason::Shutdown));
    assert_eq!(
        app.live().to_string(),
        "down: the root supervisor exited with shutdown"
    );
    assert_eq!(
        app.ready().await.reasons(),
        [NotReady::Down(ExitReason::Shutdown)]
    );
    let report = app.stop(Duration::from_secs(5)).await;
    assert!(report.tree_in_time, "stopping a dead tree is quick");
    assert_eq!(report.reason, ExitReason::Shutdown);
    assert_eq!(
        app.ready().await.reasons(),
        [NotReady::Stopping, NotReady::Down(ExitReason::Shutdown)]
    );
}

#[tokio::test(start_paused = true)]
async fn a_supervisor_deep_in_the_tree_is_walked_and_a_busy_one_is_unresponsive() {
    let log = Log::default();
    let inner = Supervisor::child_spec(
        [worker("db", &log, Duration::ZERO)],
        SupervisorOptions::new(Strategy::OneForOne),
    )
    .id("inner");
    let root = Supervisor::start_link([inner, jobs()], SupervisorOptions::new(Strategy::OneForOne))
        .await
        .unwrap();
    let app = Application::new(root.clone());
    let inner = Supervisor::from_pid(child(&root, "inner").await).unwrap();
    inner.terminate_child("db").await.unwrap();

    // The dynamic supervisor is busy starting a child whose init takes ten seconds.
    let jobs = jobs_of(&root).await;
    let starting = tokio::spawn({
        let jobs = jobs.clone();
        async move { jobs.start_child(ChildSpec::worker::<Slow>(())).await }
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    let ready = app.ready_within(Duration::from_millis(100)).await;
    assert_eq!(
        ready.reasons(),
        [
            NotReady::ChildNotRunning {
                supervisor: inner.pid(),
                id: Some("db".into()),
                pid: ChildPid::Undefined,
            },
            NotReady::Unresponsive(jobs.pid()),
        ]
    );
    starting.await.unwrap().unwrap();
    let report = app.stop(Duration::from_secs(5)).await;
    assert!(report.in_time(), "{report:?}");
    assert_eq!(report.drained, 1);
}

/// A server that asks its own application to stop.
struct Stopper;

impl GenServer for Stopper {
    type Args = ();
    type Call = Never;
    type Reply = Never;
    type Cast = Application;
    type Info = Never;
    type Continue = Never;

    async fn init((): ()) -> Init<Self> {
        Init::Ok(Stopper)
    }

    async fn handle_cast(&mut self, app: Application) -> NoReply<Self> {
        app.stop(Duration::from_secs(30)).await;
        unreachable!("the stop ends this process before it ends");
    }
}

#[tokio::test(start_paused = true)]
async fn a_process_of_the_tree_may_ask_for_the_stop() {
    let root = Supervisor::start_link(
        [ChildSpec::worker::<Stopper>(())
            .id("stopper")
            .shutdown(Shutdown::Timeout(Duration::from_secs(1)))],
        SupervisorOptions::new(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let app = Application::new(root.clone());
    let stopper = child(&root, "stopper").await;
    let start = Instant::now();
    Server::<Stopper>::from_pid(stopper)
        .unwrap()
        .cast(app.clone());
    process::monitor(stopper).await;
    let report = app.stop(Duration::from_secs(60)).await;
    assert!(report.in_time(), "{report:?}");
    assert_eq!(report.reason, ExitReason::Shutdown);
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(1),
        "the stopper, busy waiting for the stop, was killed at its shutdown time-out"
    );
    assert!(!root.is_alive());
}
