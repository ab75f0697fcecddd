//! The seven workloads in bough, written as a user would.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use bough::prelude::*;

use crate::common::{Sizes, callers, median, nanos_each, per_second, report, rss};

const SYSTEM: &str = "bough";

/// W1, W7: a transient worker that does its work in `handle_continue` and stops normally.
#[gen_server(restart = "transient")]
pub struct Loader(Arc<AtomicUsize>);

#[gen_server]
impl GenServer for Loader {
    async fn init(counter: Arc<AtomicUsize>) -> Init<Self> {
        Init::Continue(Loader(counter), ())
    }

    async fn handle_continue(&mut self, _: ()) -> NoReply<Self> {
        self.0.fetch_add(1, Ordering::Relaxed);
        NoReply::Stop(ExitReason::Normal)
    }
}

pub enum Ask {
    Ping,
    Crash,
}

/// W2–W6: answers pings, crashes on request, counts its terminations.
#[gen_server]
pub struct Echo(Option<Arc<AtomicUsize>>);

#[gen_server]
impl GenServer for Echo {
    async fn init(terminated: Option<Arc<AtomicUsize>>) -> Init<Self> {
        Init::Ok(Echo(terminated))
    }

    async fn handle_call(&mut self, ask: Ask, _from: ReplyTo<()>) -> Reply<Self> {
        match ask {
            Ask::Ping => Reply::Reply(()),
            Ask::Crash => panic!("crash on purpose"),
        }
    }

    async fn terminate(&mut self, _: &ExitReason) {
        if let Some(terminated) = &self.0 {
            terminated.fetch_add(1, Ordering::Relaxed);
        }
    }
}

pub async fn run(workload: &str, sizes: &Sizes) -> bool {
    match workload {
        "dynamic_start_exit" => start_exit("dynamic_start_exit", 0, sizes.start_exit).await,
        "call_roundtrip" => calls(sizes.calls).await,
        "idle_memory" => idle_memory(sizes.idle).await,
        "restart_latency" => restart_latency(sizes.restarts).await,
        "named_start_race" => named_start_race(sizes.race_rounds).await,
        "tree_shutdown" => tree_shutdown(sizes.shutdown).await,
        "start_exit_with_100k_live" => {
            start_exit("start_exit_with_100k_live", sizes.live, sizes.start_exit).await
        }
        "start_exit_partitioned" => start_exit_partitioned(sizes.start_exit).await,
        "parallel_calls" => parallel_calls(sizes.calls).await,
        _ => return false,
    }
    true
}

async fn dynamic() -> DynamicSupervisor {
    DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap()
}

/// W1 (with `live` = 0) and W7: `n` transient workers started by 2 callers, with `live` idle
/// children already under the supervisor; done when all ran and left.
async fn start_exit(workload: &str, live: usize, n: usize) {
    let sup = dynamic().await;
    for _ in 0..live {
        sup.start_child(Echo::child_spec(None)).await.unwrap();
    }
    let elapsed = start_and_exit(&sup, n, live).await;
    report(workload, SYSTEM, per_second(n, elapsed), "workers/s");
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

/// `n` transient workers started by 2 callers under `sup`, which also has `live` idle
/// children: the time until all of them ran and left.
async fn start_and_exit(sup: &DynamicSupervisor, n: usize, live: usize) -> std::time::Duration {
    let ran = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (sup, ran) = (sup.clone(), ran.clone());
            tokio::spawn(async move {
                for _ in 0..n / 2 {
                    sup.start_child(Loader::child_spec(ran.clone()))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    crate::wait_until!(
        ran.load(Ordering::Relaxed) == n && sup.count_children().await.unwrap().active == live
    );
    start.elapsed()
}

/// W2: sequential calls from one client task, then from 2 concurrent clients.
async fn calls(n: usize) {
    let server = gen_server::start_link::<Echo>(None).await.unwrap();
    let client = {
        let server = server.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            for _ in 0..n {
                server.call(Ask::Ping).await.unwrap();
            }
            start.elapsed()
        })
    };
    report(
        "call_roundtrip",
        SYSTEM,
        nanos_each(n, client.await.unwrap()),
        "ns/call",
    );
    let start = Instant::now();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move {
                for _ in 0..n / 2 {
                    server.call(Ask::Ping).await.unwrap();
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
        per_second(n, start.elapsed()),
        "calls/s",
    );
    server.stop(ExitReason::Normal).await.unwrap();
}

/// W8: W1 through a partition supervisor of dynamic supervisors (one partition per core),
/// with `CALLERS` callers, each routing every start by its own key.
async fn start_exit_partitioned(n: usize) {
    let c = callers();
    let per_caller = n / c;
    let spec = DynamicSupervisor::child_spec(DynamicSupervisorOptions::new());
    let parts = PartitionSupervisor::start_link(PartitionSupervisorOptions::new(spec))
        .await
        .unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (1..=c)
        .map(|key| {
            let (parts, ran) = (parts.clone(), ran.clone());
            tokio::spawn(async move {
                for _ in 0..per_caller {
                    parts
                        .start_child(&key, Loader::child_spec(ran.clone()))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    crate::wait_until!(
        ran.load(Ordering::Relaxed) == per_caller * c && partitions_idle(&parts).await
    );
    report(
        "start_exit_partitioned",
        SYSTEM,
        per_second(per_caller * c, start.elapsed()),
        "workers/s",
    );
    parts.stop(ExitReason::Shutdown).await.unwrap();
}

async fn partitions_idle(parts: &PartitionSupervisor) -> bool {
    for index in 0..parts.partitions() {
        let partition = parts.dynamic(&index).unwrap();
        if partition.count_children().await.unwrap().active != 0 {
            return false;
        }
    }
    true
}

/// W9: `CALLERS` clients, each calling a server of its own.
async fn parallel_calls(n: usize) {
    let c = callers();
    let per_client = n / c;
    let mut servers = Vec::with_capacity(c);
    for _ in 0..c {
        servers.push(gen_server::start_link::<Echo>(None).await.unwrap());
    }
    let start = Instant::now();
    let clients: Vec<_> = servers
        .iter()
        .map(|server| {
            let server = server.clone();
            tokio::spawn(async move {
                for _ in 0..per_client {
                    server.call(Ask::Ping).await.unwrap();
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
        per_second(per_client * c, start.elapsed()),
        "calls/s",
    );
    for server in servers {
        server.stop(ExitReason::Normal).await.unwrap();
    }
}

/// W3: bytes of resident memory per idle supervised server.
async fn idle_memory(n: usize) {
    let sup = dynamic().await;
    let before = rss();
    for _ in 0..n {
        sup.start_child(Echo::child_spec(None)).await.unwrap();
    }
    let after = rss();
    report(
        "idle_memory",
        SYSTEM,
        (after.saturating_sub(before)) as f64 / n as f64,
        "bytes/process",
    );
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

/// W4: a permanent server crashes on a call; the time until its replacement answers a call
/// by name.
async fn restart_latency(rounds: usize) {
    std::panic::set_hook(Box::new(|_| {}));
    let sup = Supervisor::start_link(
        [Echo::child_spec(None).name("bench_echo")],
        SupervisorOptions::new(Strategy::OneForOne)
            .max_restarts(u32::try_from(rounds * 2).unwrap_or(u32::MAX))
            .max_seconds(1),
    )
    .await
    .unwrap();
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let start = Instant::now();
        let _ = gen_server::call::<Echo>("bench_echo", Ask::Crash).await;
        while gen_server::call::<Echo>("bench_echo", Ask::Ping)
            .await
            .is_err()
        {
            tokio::task::yield_now().await;
        }
        samples.push(start.elapsed());
    }
    report(
        "restart_latency",
        SYSTEM,
        median(samples).as_nanos() as f64 / 1000.0,
        "us",
    );
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

/// W5: rounds of 64 concurrent starts of one named child through a dynamic supervisor.
async fn named_start_race(rounds: usize) {
    let sup = dynamic().await;
    let start = Instant::now();
    for round in 0..rounds {
        let name = Name::from(format!("race_{round}"));
        let starts: Vec<_> = (0..64)
            .map(|_| {
                let (sup, name) = (sup.clone(), name.clone());
                tokio::spawn(
                    async move { sup.start_child(Echo::child_spec(None).name(name)).await },
                )
            })
            .collect();
        let mut winners = Vec::new();
        let mut losers = Vec::new();
        for start in starts {
            match start.await.unwrap() {
                Ok(pid) => winners.push(pid),
                Err(StartError::AlreadyStarted(pid)) => losers.push(pid),
                Err(other) => panic!("round {round}: {other}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one start wins");
        assert!(
            losers.iter().all(|pid| *pid == winners[0]),
            "round {round}: losers see the winner"
        );
        assert_eq!(losers.len(), 63);
        sup.terminate_child(winners[0]).await.unwrap();
    }
    report(
        "named_start_race",
        SYSTEM,
        per_second(rounds, start.elapsed()),
        "rounds/s",
    );
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

/// W6: a dynamic supervisor with `n` idle children is stopped; every `terminate` must run.
async fn tree_shutdown(n: usize) {
    let terminated = Arc::new(AtomicUsize::new(0));
    let sup = dynamic().await;
    for _ in 0..n {
        sup.start_child(Echo::child_spec(Some(terminated.clone())))
            .await
            .unwrap();
    }
    let start = Instant::now();
    sup.stop(ExitReason::Shutdown).await.unwrap();
    let elapsed = start.elapsed();
    assert_eq!(terminated.load(Ordering::Relaxed), n, "every terminate ran");
    report(
        "tree_shutdown",
        SYSTEM,
        per_second(n, elapsed),
        "children/s",
    );
}

/// The scaling sweep: per-start cost, and heap bytes per process, with `live` children.
///
/// Heap bytes in use are counted by the allocator: exact at any size, where a resident-memory
/// delta over a thousand processes measures the allocator's page steps more than them.
pub async fn sweep(live: usize, starts: usize) {
    let sup = dynamic().await;
    crate::heap::count(true);
    let before = crate::heap::in_use();
    for _ in 0..live {
        sup.start_child(Echo::child_spec(None)).await.unwrap();
    }
    let bytes = crate::heap::in_use().saturating_sub(before) as f64 / live as f64;
    crate::heap::count(false);
    // Three batches of starts; the median batch.
    let mut batches = Vec::new();
    for _ in 0..3 {
        batches.push(start_and_exit(&sup, starts, live).await);
    }
    let per_start = nanos_each(starts, median(batches));
    println!(
        "sweep live={live} system={SYSTEM} ns_per_start={per_start:.0} bytes_per_process={bytes:.0}"
    );
    sup.stop(ExitReason::Shutdown).await.unwrap();
}
