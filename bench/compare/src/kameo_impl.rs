//! The workloads in kameo, with kameo's own supervision (`Actor::supervise`).
//!
//! Facts that shape them: a supervised child's `spawn` returns before its `on_start` ran, so
//! the supervisor waits for the child to have started, to match OTP's `start_child`
//! (`wait_for_startup` for idle children; a loader that stops at once signals its start
//! itself, since `wait_for_startup` on an actor that already stopped never returns, as in
//! kameo 0.19); kameo stops an
//! actor when its last `ActorRef` is dropped, so the supervisor keeps idle children's refs;
//! and a kameo name is registered after the spawn, so W5's atomic start-or-get has no kameo
//! form.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kameo::error::Infallible;
use kameo::prelude::*;
use kameo::supervision::RestartPolicy;

use crate::common::{Sizes, callers, median, nanos_each, partitions, per_second, report, rss};

const SYSTEM: &str = "kameo";

/// W1, W7: sends itself its work from `on_start` (kameo has no `handle_continue`), does it as
/// its first message, and stops.
#[derive(Clone)]
struct Loader {
    ran: Arc<AtomicUsize>,
    left: Arc<AtomicUsize>,
    started: Arc<tokio::sync::Notify>,
}

struct Work;

impl Actor for Loader {
    type Args = Self;
    type Error = Infallible;

    async fn on_start(loader: Self, actor_ref: ActorRef<Self>) -> Result<Self, Infallible> {
        let _ = actor_ref.tell(Work).try_send();
        loader.started.notify_one();
        Ok(loader)
    }

    async fn on_stop(
        &mut self,
        _: WeakActorRef<Self>,
        _: ActorStopReason,
    ) -> Result<(), Infallible> {
        self.left.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

impl Message<Work> for Loader {
    type Reply = ();

    async fn handle(&mut self, _: Work, ctx: &mut Context<Self, ()>) {
        self.ran.fetch_add(1, Ordering::Relaxed);
        ctx.stop();
    }
}

/// W2–W6: answers pings, crashes on request, counts its stops.
#[derive(Clone)]
struct Echo {
    stopped: Option<Arc<AtomicUsize>>,
}

struct Ping;
struct Crash;

impl Actor for Echo {
    type Args = Self;
    type Error = Infallible;

    async fn on_start(echo: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(echo)
    }

    async fn on_stop(
        &mut self,
        _: WeakActorRef<Self>,
        _: ActorStopReason,
    ) -> Result<(), Infallible> {
        if let Some(stopped) = &self.stopped {
            stopped.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

impl Message<Ping> for Echo {
    type Reply = ();

    async fn handle(&mut self, _: Ping, _: &mut Context<Self, ()>) {}
}

impl Message<Crash> for Echo {
    type Reply = ();

    async fn handle(&mut self, _: Crash, _: &mut Context<Self, ()>) {
        panic!("crash on purpose");
    }
}

/// A supervisor actor starting supervised children on request, keeping idle ones referenced.
struct Sup {
    echoes: Vec<ActorRef<Echo>>,
}

impl Actor for Sup {
    type Args = ();
    type Error = Infallible;

    async fn on_start(_: (), _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(Sup { echoes: Vec::new() })
    }
}

struct StartLoader(Loader);
struct StartEcho(Echo);

impl Message<StartLoader> for Sup {
    type Reply = ();

    async fn handle(&mut self, StartLoader(loader): StartLoader, ctx: &mut Context<Self, ()>) {
        let started = loader.started.clone();
        Loader::supervise(ctx.actor_ref(), loader)
            .restart_policy(RestartPolicy::Transient)
            .spawn()
            .await;
        started.notified().await;
    }
}

impl Message<StartEcho> for Sup {
    type Reply = ActorRef<Echo>;

    async fn handle(
        &mut self,
        StartEcho(echo): StartEcho,
        ctx: &mut Context<Self, ActorRef<Echo>>,
    ) -> ActorRef<Echo> {
        let child = Echo::supervise(ctx.actor_ref(), echo)
            .restart_policy(RestartPolicy::Permanent)
            .restart_limit(u32::MAX, Duration::from_secs(1))
            .spawn()
            .await;
        child.wait_for_startup().await;
        self.echoes.push(child.clone());
        child
    }
}

pub async fn run(workload: &str, sizes: &Sizes) -> bool {
    match workload {
        "dynamic_start_exit" => start_exit("dynamic_start_exit", 0, sizes.start_exit).await,
        "call_roundtrip" => calls(sizes.calls).await,
        "idle_memory" => idle_memory(sizes.idle).await,
        "restart_latency" => restart_latency(sizes.restarts).await,
        "tree_shutdown" => tree_shutdown(sizes.shutdown).await,
        "start_exit_with_100k_live" => {
            start_exit("start_exit_with_100k_live", sizes.live, sizes.start_exit).await
        }
        "start_exit_partitioned" => start_exit_partitioned(sizes.start_exit).await,
        "parallel_calls" => parallel_calls(sizes.calls).await,
        // A kameo name is registered after the spawn: there is no atomic start-or-get.
        _ => return false,
    }
    true
}

fn no_stop() -> Echo {
    Echo { stopped: None }
}

async fn start_exit(workload: &str, live: usize, n: usize) {
    let sup = Sup::spawn(());
    for _ in 0..live {
        sup.ask(StartEcho(no_stop())).await.unwrap();
    }
    let ran = Arc::new(AtomicUsize::new(0));
    let left = Arc::new(AtomicUsize::new(0));
    let begin = Instant::now();
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (sup, ran, left) = (sup.clone(), ran.clone(), left.clone());
            tokio::spawn(async move {
                for _ in 0..n / 2 {
                    let loader = Loader {
                        ran: ran.clone(),
                        left: left.clone(),
                        started: Arc::new(tokio::sync::Notify::new()),
                    };
                    sup.ask(StartLoader(loader)).await.unwrap();
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    crate::wait_until!(ran.load(Ordering::Relaxed) == n && left.load(Ordering::Relaxed) == n);
    report(
        workload,
        SYSTEM,
        per_second(n, begin.elapsed()),
        "workers/s",
    );
    let _ = sup.stop_gracefully().await;
    sup.wait_for_shutdown().await;
}

async fn calls(n: usize) {
    let echo = Echo::spawn(no_stop());
    let client = {
        let echo = echo.clone();
        tokio::spawn(async move {
            let begin = Instant::now();
            for _ in 0..n {
                echo.ask(Ping).await.unwrap();
            }
            begin.elapsed()
        })
    };
    report(
        "call_roundtrip",
        SYSTEM,
        nanos_each(n, client.await.unwrap()),
        "ns/call",
    );
    let begin = Instant::now();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let echo = echo.clone();
            tokio::spawn(async move {
                for _ in 0..n / 2 {
                    echo.ask(Ping).await.unwrap();
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    report(
        "call_throughput_2_clients",
        SYSTEM,
        per_second(n, begin.elapsed()),
        "calls/s",
    );
}

/// W8: one supervisor per core (kameo has no partition supervisor: a plain list of them),
/// `CALLERS` callers, each routing every start by its own key.
async fn start_exit_partitioned(n: usize) {
    let c = callers();
    let per_caller = n / c;
    let sups: Arc<Vec<ActorRef<Sup>>> =
        Arc::new((0..partitions()).map(|_| Sup::spawn(())).collect());
    let ran = Arc::new(AtomicUsize::new(0));
    let left = Arc::new(AtomicUsize::new(0));
    let begin = Instant::now();
    let tasks: Vec<_> = (1..=c)
        .map(|key| {
            let (sups, ran, left) = (sups.clone(), ran.clone(), left.clone());
            tokio::spawn(async move {
                for _ in 0..per_caller {
                    let loader = Loader {
                        ran: ran.clone(),
                        left: left.clone(),
                        started: Arc::new(tokio::sync::Notify::new()),
                    };
                    sups[key % sups.len()]
                        .ask(StartLoader(loader))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let total = per_caller * c;
    crate::wait_until!(
        ran.load(Ordering::Relaxed) == total && left.load(Ordering::Relaxed) == total
    );
    report(
        "start_exit_partitioned",
        SYSTEM,
        per_second(total, begin.elapsed()),
        "workers/s",
    );
    for sup in sups.iter() {
        let _ = sup.stop_gracefully().await;
        sup.wait_for_shutdown().await;
    }
}

/// W9: `CALLERS` clients, each asking an actor of its own.
async fn parallel_calls(n: usize) {
    let c = callers();
    let per_client = n / c;
    let echoes: Vec<_> = (0..c).map(|_| Echo::spawn(no_stop())).collect();
    let begin = Instant::now();
    let clients: Vec<_> = echoes
        .iter()
        .map(|echo| {
            let echo = echo.clone();
            tokio::spawn(async move {
                for _ in 0..per_client {
                    echo.ask(Ping).await.unwrap();
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    report(
        "parallel_calls",
        SYSTEM,
        per_second(per_client * c, begin.elapsed()),
        "calls/s",
    );
}

async fn idle_memory(n: usize) {
    let sup = Sup::spawn(());
    let before = rss();
    for _ in 0..n {
        sup.ask(StartEcho(no_stop())).await.unwrap();
    }
    let after = rss();
    report(
        "idle_memory",
        SYSTEM,
        after.saturating_sub(before) as f64 / n as f64,
        "bytes/process",
    );
}

async fn restart_latency(rounds: usize) {
    std::panic::set_hook(Box::new(|_| {}));
    let sup = Sup::spawn(());
    // A supervised child keeps its `ActorRef` across restarts.
    let echo = sup.ask(StartEcho(no_stop())).await.unwrap();
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let begin = Instant::now();
        let _ = echo.ask(Crash).await;
        while echo.ask(Ping).await.is_err() {
            tokio::task::yield_now().await;
        }
        samples.push(begin.elapsed());
    }
    report(
        "restart_latency",
        SYSTEM,
        median(samples).as_nanos() as f64 / 1000.0,
        "us",
    );
}

async fn tree_shutdown(n: usize) {
    let stopped = Arc::new(AtomicUsize::new(0));
    let sup = Sup::spawn(());
    for _ in 0..n {
        sup.ask(StartEcho(Echo {
            stopped: Some(stopped.clone()),
        }))
        .await
        .unwrap();
    }
    let begin = Instant::now();
    let _ = sup.stop_gracefully().await;
    sup.wait_for_shutdown().await;
    crate::wait_until!(stopped.load(Ordering::Relaxed) == n);
    report(
        "tree_shutdown",
        SYSTEM,
        per_second(n, begin.elapsed()),
        "children/s",
    );
}
