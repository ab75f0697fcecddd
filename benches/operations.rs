//! The cost of each basic operation, on a single-threaded runtime so the numbers are the
//! operation's own and not the scheduler's: `cargo bench -p bough-benches`.
//!
//! The comparison with the Erlang VM, ractor, kameo and bare tokio lives in `bench/compare`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bough::prelude::*;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;

/// A transient worker that does its work in `handle_continue` and stops normally.
#[gen_server(restart = "transient")]
struct Loader(Arc<AtomicU64>);

#[gen_server]
impl GenServer for Loader {
    async fn init(done: Arc<AtomicU64>) -> Init<Self> {
        Init::Continue(Loader(done), ())
    }

    async fn handle_continue(&mut self, _: ()) -> NoReply<Self> {
        self.0.fetch_add(1, Ordering::Relaxed);
        NoReply::Stop(ExitReason::Normal)
    }
}

/// Answers pings, crashes on request.
#[gen_server]
struct Echo;

enum Ask {
    Ping,
    Crash,
}

#[gen_server]
impl GenServer for Echo {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Echo)
    }

    async fn handle_call(&mut self, ask: Ask, _from: ReplyTo<()>) -> Reply<Self> {
        match ask {
            Ask::Ping => Reply::Reply(()),
            Ask::Crash => panic!("crash on purpose"),
        }
    }

    async fn handle_cast(&mut self, _: u64) -> NoReply<Self> {
        NoReply::NoReply
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn operations(c: &mut Criterion) {
    // Panics are the point of the restart benchmark; keep them off the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let rt = runtime();

    let sup = rt
        .block_on(DynamicSupervisor::start_link(
            DynamicSupervisorOptions::new(),
        ))
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    c.bench_function(
        "start_child: transient worker, through a dynamic supervisor",
        |b| {
            b.to_async(&rt).iter(|| async {
                sup.start_child(Loader::child_spec(done.clone()))
                    .await
                    .unwrap();
            })
        },
    );

    let echo = rt.block_on(gen_server::start_link::<Echo>(())).unwrap();
    c.bench_function("call: round trip", |b| {
        b.to_async(&rt)
            .iter(|| async { echo.call(Ask::Ping).await.unwrap() })
    });

    c.bench_function("cast: 100 casts, then a call that waits for them", |b| {
        b.to_async(&rt).iter(|| async {
            for n in 0..100 {
                echo.cast(n);
            }
            echo.call(Ask::Ping).await.unwrap();
        })
    });

    c.bench_function("terminate_child: idle server, by pid", |b| {
        b.to_async(&rt).iter_custom(|iterations| {
            let sup = sup.clone();
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let pid = sup
                        .start_child(ChildSpec::worker::<Echo>(()))
                        .await
                        .unwrap();
                    let start = Instant::now();
                    sup.terminate_child(pid).await.unwrap();
                    total += start.elapsed();
                }
                total
            }
        })
    });

    let restarts = rt
        .block_on(Supervisor::start_link(
            [Echo::child_spec(()).name("bench_echo")],
            SupervisorOptions::new(Strategy::OneForOne).max_restarts(u32::MAX),
        ))
        .unwrap();
    c.bench_function(
        "restart: crash a permanent server, until its replacement answers",
        |b| {
            b.to_async(&rt).iter_batched(
                || (),
                |()| async {
                    let _ = gen_server::call::<Echo>("bench_echo", Ask::Crash).await;
                    while gen_server::call::<Echo>("bench_echo", Ask::Ping)
                        .await
                        .is_err()
                    {
                        tokio::task::yield_now().await;
                    }
                },
                BatchSize::SmallInput,
            )
        },
    );
    rt.block_on(restarts.stop(ExitReason::Shutdown)).unwrap();
    let _ = std::panic::take_hook();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = operations
}
criterion_main!(benches);
