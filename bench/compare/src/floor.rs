//! The tokio floor: what the machine does with no actor system at all. W1 is a bare
//! `tokio::spawn` + oneshot ack per worker under a task keeping a map of live workers; W2 a
//! bare mpsc + oneshot round trip.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::common::{Sizes, nanos_each, per_second, report};

enum Keeper {
    Start(oneshot::Sender<u64>),
    Exit(u64),
}

pub async fn run(workload: &str, sizes: &Sizes) -> bool {
    match workload {
        "dynamic_start_exit" => start_exit(sizes.start_exit).await,
        "call_roundtrip" => calls(sizes.calls).await,
        _ => return false,
    }
    true
}

async fn start_exit(n: usize) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Keeper>();
    let ran = Arc::new(AtomicUsize::new(0));
    let live = Arc::new(AtomicUsize::new(0));
    let keeper = {
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
    let start = Instant::now();
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let tx = tx.clone();
            tokio::spawn(async move {
                for _ in 0..n / 2 {
                    let (reply, started) = oneshot::channel();
                    if tx.send(Keeper::Start(reply)).is_err() {
                        panic!("the keeper stopped");
                    }
                    started.await.expect("started");
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    crate::wait_until!(ran.load(Ordering::Relaxed) == n && live.load(Ordering::Acquire) == 0);
    report(
        "dynamic_start_exit",
        "floor",
        per_second(n, start.elapsed()),
        "workers/s",
    );
    keeper.abort();
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
