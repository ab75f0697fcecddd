//! The tokio floor: what the machine does with no actor system at all. W1 is a bare
//! `tokio::spawn` + oneshot ack per worker under a task keeping a map of live workers (W8:
//! one such keeper per core); W2 and W9 a bare mpsc + oneshot round trip.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::common::{Sizes, callers, nanos_each, partitions, per_second, report};

enum Keeper {
    Start(oneshot::Sender<u64>),
    Exit(u64),
}

pub async fn run(workload: &str, sizes: &Sizes) -> bool {
    match workload {
        "dynamic_start_exit" => start_exit(sizes.start_exit).await,
        "call_roundtrip" => calls(sizes.calls).await,
        "start_exit_partitioned" => start_exit_partitioned(sizes.start_exit).await,
        "parallel_calls" => parallel_calls(sizes.calls).await,
        _ => return false,
    }
    true
}

/// A keeper task: starts a bare worker per request and keeps a map of the live ones.
struct Kept {
    tx: mpsc::UnboundedSender<Keeper>,
    live: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

fn keeper(ran: &Arc<AtomicUsize>) -> Kept {
    let (tx, mut rx) = mpsc::unbounded_channel::<Keeper>();
    let live = Arc::new(AtomicUsize::new(0));
    let task = {
        let (tx, ran, live) = (tx.clone(), ran.clone(), live.clone());
        tokio::spawn(async move {
            let mut workers = HashMap::new();
            let mut next = 0u64;
            while let Some(message) = rx.recv().await {
                match message {
                    Keeper::Start(reply) => {
                        next += 1;
                        let id = next;
                        let (ack, started) = oneshot::channel();
                        let (tx, ran) = (tx.clone(), ran.clone());
                        let worker = tokio::spawn(async move {
                            let _ = ack.send(());
                            ran.fetch_add(1, Ordering::Relaxed);
                            let _ = tx.send(Keeper::Exit(id));
                        });
                        let _ = started.await;
                        workers.insert(id, worker);
                        live.store(workers.len(), Ordering::Release);
                        let _ = reply.send(id);
                    }
                    Keeper::Exit(id) => {
                        workers.remove(&id);
                        live.store(workers.len(), Ordering::Release);
                    }
                }
            }
        })
    };
    Kept { tx, live, task }
}

async fn start_one(keeper: &Kept) {
    let (reply, started) = oneshot::channel();
    if keeper.tx.send(Keeper::Start(reply)).is_err() {
        panic!("the keeper stopped");
    }
    started.await.expect("started");
}

async fn start_exit(n: usize) {
    let ran = Arc::new(AtomicUsize::new(0));
    let keeper = Arc::new(keeper(&ran));
    let start = Instant::now();
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let keeper = keeper.clone();
            tokio::spawn(async move {
                for _ in 0..n / 2 {
                    start_one(&keeper).await;
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    crate::wait_until!(
        ran.load(Ordering::Relaxed) == n && keeper.live.load(Ordering::Acquire) == 0
    );
    report(
        "dynamic_start_exit",
        "floor",
        per_second(n, start.elapsed()),
        "workers/s",
    );
    keeper.task.abort();
}

/// W8: one keeper per core, `CALLERS` callers, each routing every start by its own key.
async fn start_exit_partitioned(n: usize) {
    let c = callers();
    let per_caller = n / c;
    let ran = Arc::new(AtomicUsize::new(0));
    let keepers: Arc<Vec<Kept>> = Arc::new((0..partitions()).map(|_| keeper(&ran)).collect());
    let start = Instant::now();
    let tasks: Vec<_> = (1..=c)
        .map(|key| {
            let keepers = keepers.clone();
            tokio::spawn(async move {
                for _ in 0..per_caller {
                    start_one(&keepers[key % keepers.len()]).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    crate::wait_until!(
        ran.load(Ordering::Relaxed) == per_caller * c
            && keepers.iter().all(|k| k.live.load(Ordering::Acquire) == 0)
    );
    report(
        "start_exit_partitioned",
        "floor",
        per_second(per_caller * c, start.elapsed()),
        "workers/s",
    );
    for keeper in keepers.iter() {
        keeper.task.abort();
    }
}

/// A bare server: answers every request on its channel.
fn server() -> mpsc::UnboundedSender<oneshot::Sender<()>> {
    let (tx, mut rx) = mpsc::unbounded_channel::<oneshot::Sender<()>>();
    tokio::spawn(async move {
        while let Some(reply) = rx.recv().await {
            let _ = reply.send(());
        }
    });
    tx
}

/// W9: `CALLERS` clients, each calling a bare server of its own.
async fn parallel_calls(n: usize) {
    let c = callers();
    let per_client = n / c;
    let servers: Vec<_> = (0..c).map(|_| server()).collect();
    let start = Instant::now();
    let clients: Vec<_> = servers
        .into_iter()
        .map(|tx| {
            tokio::spawn(async move {
                for _ in 0..per_client {
                    let (reply, answer) = oneshot::channel();
                    tx.send(reply).unwrap();
                    answer.await.unwrap();
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    report(
        "parallel_calls",
        "floor",
        per_second(per_client * c, start.elapsed()),
        "calls/s",
    );
}

async fn calls(n: usize) {
    let (tx, mut rx) = mpsc::unbounded_channel::<oneshot::Sender<()>>();
    tokio::spawn(async move {
        while let Some(reply) = rx.recv().await {
            let _ = reply.send(());
        }
    });
    let client = {
        let tx = tx.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            for _ in 0..n {
                let (reply, answer) = oneshot::channel();
                tx.send(reply).unwrap();
                answer.await.unwrap();
            }
            start.elapsed()
        })
    };
    report(
        "call_roundtrip",
        "floor",
        nanos_each(n, client.await.unwrap()),
        "ns/call",
    );
    let start = Instant::now();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let tx = tx.clone();
            tokio::spawn(async move {
                for _ in 0..n / 2 {
                    let (reply, answer) = oneshot::channel();
                    tx.send(reply).unwrap();
                    answer.await.unwrap();
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    report(
        "call_throughput_2_clients",
        "floor",
        per_second(n, start.elapsed()),
        "calls/s",
    );
}
