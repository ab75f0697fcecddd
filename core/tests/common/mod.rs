//! A configurable server that records what happens to it, shared by the core tests.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bough_core::prelude::*;

/// What happened, in order, across all probes of one test.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn new() -> Log {
        Log::default()
    }
    pub fn push(&self, entry: impl Into<String>) {
        self.0.lock().unwrap().push(entry.into());
    }
    pub fn entries(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    pub fn count(&self, entry: &str) -> usize {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| *e == entry)
            .count()
    }
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// How a probe's `init` behaves.
#[derive(Clone, Debug)]
pub enum OnInit {
    Ok,
    Continue,
    Ignore,
    Stop(ExitReason),
    Panic,
    Sleep(Duration),
    /// The first init succeeds; every later one (a restart) fails.
    OkOnce,
}

#[derive(Clone)]
pub struct Args {
    pub tag: &'static str,
    pub log: Log,
    pub on_init: OnInit,
    /// How long `terminate` takes.
    pub terminate_takes: Duration,
    /// The server's state panics when it is dropped.
    pub panic_on_drop: bool,
}

impl Args {
    pub fn new(tag: &'static str, log: &Log) -> Args {
        Args {
            tag,
            log: log.clone(),
            on_init: OnInit::Ok,
            terminate_takes: Duration::ZERO,
            panic_on_drop: false,
        }
    }
    pub fn panic_on_drop(mut self) -> Args {
        self.panic_on_drop = true;
        self
    }
    pub fn on_init(mut self, on_init: OnInit) -> Args {
        self.on_init = on_init;
        self
    }
    pub fn terminate_takes(mut self, duration: Duration) -> Args {
        self.terminate_takes = duration;
        self
    }
}

pub struct Probe {
    args: Args,
    kept: Vec<ReplyTo<String>>,
}

pub enum Call {
    Ping,
    /// Answer later, through `Release`.
    Hold,
    Release(String),
    Panic,
    Stop(ExitReason),
    StopReply(ExitReason),
    Sleep(Duration),
    /// Hands `from` to a task that keeps it and never answers.
    HandOff,
}

pub enum Cast {
    Record(String),
    Crash,
    Stop(ExitReason),
    /// Blocks the thread this long: a quick message that never yields.
    Block(Duration),
}

impl Drop for Probe {
    fn drop(&mut self) {
        if self.args.panic_on_drop && !std::thread::panicking() {
            panic!("{} panicked when dropped", self.args.tag);
        }
    }
}

impl Probe {
    pub fn spec(args: Args) -> ChildSpec {
        ChildSpec::worker::<Probe>(args.clone()).id(args.tag)
    }
}

impl GenServer for Probe {
    type Args = Args;
    type Call = Call;
    type Reply = String;
    type Cast = Cast;
    type Info = String;
    type Continue = ();

    async fn init(args: Args) -> Init<Self> {
        args.log.push(format!("init {}", args.tag));
        let on_init = args.on_init.clone();
        let probe = Probe {
            args,
            kept: Vec::new(),
        };
        match on_init {
            OnInit::Ok => Init::Ok(probe),
            OnInit::Continue => Init::Continue(probe, ()),
            OnInit::Ignore => Init::Ignore,
            OnInit::Stop(reason) => Init::Stop(reason),
            OnInit::Panic => panic!("init of {} panicked", probe.args.tag),
            OnInit::OkOnce if probe.args.log.count(&format!("init {}", probe.args.tag)) > 1 => {
                Init::Stop(ExitReason::error("restart refused"))
            }
            OnInit::OkOnce => Init::Ok(probe),
            OnInit::Sleep(duration) => {
                tokio::time::sleep(duration).await;
                probe.args.log.push(format!("init done {}", probe.args.tag));
                Init::Ok(probe)
            }
        }
    }

    async fn handle_call(&mut self, call: Call, from: ReplyTo<String>) -> Reply<Self> {
        match call {
            Call::Ping => Reply::Reply(format!("pong {}", self.args.tag)),
            Call::Hold => {
                self.kept.push(from);
                Reply::NoReply
            }
            Call::Release(answer) => {
                for kept in self.kept.drain(..) {
                    kept.reply(answer.clone());
                }
                Reply::Reply("released".into())
            }
            Call::Panic => panic!("{} panicked in a call", self.args.tag),
            Call::Stop(reason) => Reply::Stop(reason),
            Call::StopReply(reason) => Reply::StopReply(reason, format!("bye {}", self.args.tag)),
            Call::Sleep(duration) => {
                tokio::time::sleep(duration).await;
                Reply::Reply("slept".into())
            }
            Call::HandOff => {
                tokio::spawn(async move {
                    let _from = from;
                    std::future::pending::<()>().await;
                });
                Reply::NoReply
            }
        }
    }

    async fn handle_cast(&mut self, cast: Cast) -> NoReply<Self> {
        match cast {
            Cast::Record(entry) => {
                self.args.log.push(entry);
                NoReply::NoReply
            }
            Cast::Crash => NoReply::Stop(ExitReason::error(format!("{} crashed", self.args.tag))),
            Cast::Stop(reason) => NoReply::Stop(reason),
            Cast::Block(duration) => {
                std::thread::sleep(duration);
                NoReply::NoReply
            }
        }
    }

    async fn handle_info(&mut self, info: String) -> NoReply<Self> {
        self.args.log.push(format!("info {info}"));
        NoReply::NoReply
    }

    async fn handle_continue(&mut self, _: ()) -> NoReply<Self> {
        self.args.log.push(format!("continue {}", self.args.tag));
        NoReply::NoReply
    }

    async fn terminate(&mut self, reason: &ExitReason) {
        if !self.args.terminate_takes.is_zero() {
            tokio::time::sleep(self.args.terminate_takes).await;
        }
        self.args
            .log
            .push(format!("terminate {} {reason}", self.args.tag));
    }
}

/// How many tasks are alive on this test's runtime.
pub fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Lets every ready task run (on the paused current-thread runtime, time does not move).
pub async fn settle() {
    for _ in 0..64 {
        tokio::task::yield_now().await;
    }
}

/// Yields until `done()` holds; fails the test if it never does.
pub async fn wait_until(mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never held");
}

/// On a multi-threaded runtime: waits up to 10 s of real time for `done()` to hold, since
/// yielding proves nothing when the OS has put the other worker thread aside.
pub async fn eventually(mut done: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "condition never held"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The pid of child `id` of `sup`.
pub async fn child_pid(sup: &Supervisor, id: &str) -> Option<Pid> {
    sup.which_children()
        .await
        .unwrap()
        .into_iter()
        .find(|child| child.id.as_deref() == Some(id))
        .and_then(|child| child.pid.pid())
}
