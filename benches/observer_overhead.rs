//! What an open observer page costs the program it watches: W1 (a start and an exit
//! through a dynamic supervisor) and W2 (a call round trip) with no observer, then with an
//! observer serving an open page (an event stream read on another thread, as a browser
//! would). `cargo bench -p bough-benches --bench observer_overhead`.
//!
//! Like `benches/operations.rs`, the program runs on a single-threaded runtime. The
//! observer runs on its own thread; what lands on the program's thread is the supervisors
//! and servers answering its questions every 500 ms.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bough::prelude::*;
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;

/// W1's worker: does its work in `handle_continue` and stops normally.
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

/// W2's server.
#[gen_server]
struct Echo;

#[gen_server]
impl GenServer for Echo {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Echo)
    }

    async fn handle_call(&mut self, _: (), _from: ReplyTo<()>) -> Reply<Self> {
        Reply::Reply(())
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A page left open: reads the event stream on its own thread until told to stop.
struct Page {
    open: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Page {
    fn open(url: String) -> Page {
        let open = Arc::new(AtomicBool::new(true));
        let bytes = Arc::new(AtomicU64::new(0));
        let thread = std::thread::spawn({
            let (open, bytes) = (open.clone(), bytes.clone());
            move || {
                let rt = runtime();
                rt.block_on(async move {
                    let mut stream = reqwest::get(format!("{url}api/events")).await.unwrap();
                    while open.load(Ordering::Relaxed) {
                        let chunk =
                            tokio::time::timeout(Duration::from_millis(100), stream.chunk()).await;
                        if let Ok(Ok(Some(chunk))) = chunk {
                            bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                        }
                    }
                });
            }
        });
        Page {
            open,
            bytes,
            thread: Some(thread),
        }
    }

    fn close(mut self) -> u64 {
        self.open.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        self.bytes.load(Ordering::Relaxed)
    }
}

/// W1 and W2 on the tree the observer watches.
fn w1_w2(
    c: &mut Criterion,
    rt: &Runtime,
    jobs: &DynamicSupervisor,
    echo: &Server<Echo>,
    label: &str,
) {
    let done = Arc::new(AtomicU64::new(0));
    c.bench_function(&format!("W1 start_child + exit, {label}"), |b| {
        b.to_async(rt).iter(|| async {
            jobs.start_child(Loader::child_spec(done.clone()))
                .await
                .unwrap();
        })
    });
    c.bench_function(&format!("W2 call round trip, {label}"), |b| {
        b.to_async(rt)
            .iter(|| async { echo.call(()).await.unwrap() })
    });
}

fn overhead(c: &mut Criterion) {
    let rt = runtime();
    let root = rt
        .block_on(Supervisor::start_link(
            [
                DynamicSupervisor::child_spec(DynamicSupervisorOptions::new().name("bench_jobs")),
                Echo::child_spec(()).name("bench_echo"),
            ],
            SupervisorOptions::new(Strategy::OneForOne),
        ))
        .unwrap();
    let jobs = DynamicSupervisor::whereis(&Name::local("bench_jobs")).unwrap();
    let echo = Server::<Echo>::whereis(&Name::local("bench_echo")).unwrap();

    w1_w2(c, &rt, &jobs, &echo, "no observer");

    let observer = rt
        .block_on(bough_observer::Observer::new(&root).port(0).start())
        .unwrap();
    w1_w2(c, &rt, &jobs, &echo, "observer, no page");

    let page = Page::open(observer.url());
    w1_w2(c, &rt, &jobs, &echo, "observer with a page open");
    let read = page.close();
    assert!(
        read > 0,
        "the page read nothing: the observer was not serving it"
    );
    rt.block_on(async {
        observer.shutdown().await;
        root.stop(ExitReason::Shutdown).await.unwrap();
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = overhead
}
criterion_main!(benches);
