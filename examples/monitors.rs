//! Monitors, links, exit signals and timers, as a template: a coordinator keeps a pool of
//! workers, monitors each one and replaces the one that dies; it traps exits and links a
//! helper, so the helper's crash reaches it as a message instead of taking it down; a
//! timer addressed by name ticks, and an idle time-out ends the coordinator when nothing
//! more happens, which the caller sees through a monitor.
//!
//! Run it with `cargo run --example monitors`. It prints (a worker's panic message also
//! goes to stderr):
//!
//! ```text
//! coordinator: 3 workers monitored, helper linked
//! square 2 = Ok(4)
//! square 3 = Ok(9)
//! square 13 = Err("worker 3 crashed: panic: worker 3 cannot square 13")
//! worker 3 is down (panic: worker 3 cannot square 13); worker 4 takes its place
//! square 4 = Ok(16)
//! tick: 3 workers; asking the helper to give up
//! helper exited: helper gave up
//! idle for 200 ms: done
//! coordinator exited: normal
//! process_count after stop: 0
//! ```

use std::time::Duration;

use bough::prelude::*;

/// A worker of the pool: squares numbers, and crashes on 13 (the stand-in for a bug).
pub struct Worker {
    id: u32,
}

// Temporary: the coordinator, not the supervisor, decides what replaces a worker.
#[gen_server(restart = "temporary")]
impl Worker {
    async fn init(id: u32) -> Init<Self> {
        Init::Ok(Worker { id })
    }

    /// `n * n`.
    #[call]
    pub fn square(&self, n: u64) -> u64 {
        if n == 13 {
            panic!("worker {} cannot square 13", self.id);
        }
        n * n
    }
}

/// Linked to the coordinator; gives up when told to.
pub struct Helper;

#[gen_server]
impl Helper {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Helper)
    }

    /// Stops with an error: the coordinator gets the exit signal.
    #[cast]
    pub fn give_up(&mut self) -> NoReply<Self> {
        NoReply::Stop(ExitReason::error("helper gave up"))
    }
}

supervisor! {
    /// The pool's workers, started on demand by the coordinator.
    pub dynamic Pool { strategy: one_for_one }

    /// The pool first, then the coordinator that fills it.
    pub Demo { strategy: rest_for_one, children: [Pool, (Coordinator, 3)] }
}

/// Keeps `size` workers running, hands them jobs in turn, and watches them and its helper.
/// Transient: when it is done (it stops itself, `normal`), it is not restarted.
#[gen_server(name = "coordinator", restart = "transient")]
pub struct Coordinator {
    workers: Vec<(u32, Server<Worker>)>,
    next_id: u32,
    turn: usize,
    helper: Server<Helper>,
}

/// The coordinator's timer message.
pub struct Tick;

#[gen_server]
impl GenServer for Coordinator {
    async fn init(size: u32) -> Init<Self> {
        // Exit signals from linked processes (the helper) arrive in `handle_exit`.
        process::trap_exit(true).expect("init runs in the coordinator's process");
        // Started from inside this process, the helper is linked to it.
        let helper = Helper::start_link(()).await.expect("the helper starts");
        let mut coordinator = Coordinator {
            workers: Vec::new(),
            next_id: 0,
            turn: 0,
            helper,
        };
        for _ in 0..size {
            coordinator.add_worker().await;
        }
        println!("coordinator: {size} workers monitored, helper linked");
        Init::Ok(coordinator)
    }

    async fn handle_call(&mut self, n: u64, _from: ReplyTo<Result<u64, String>>) -> Reply<Self> {
        let (id, worker) = &self.workers[self.turn % self.workers.len()];
        self.turn += 1;
        let answer = Worker::square(worker, n)
            .await
            .map_err(|error| match error {
                CallError::Exited(reason) => format!("worker {id} crashed: {reason}"),
                other => other.to_string(),
            });
        // Printed here rather than by the caller, so it comes before the DOWN it causes.
        println!("square {n} = {answer:?}");
        Reply::Reply(answer)
    }

    async fn handle_info(&mut self, _: Tick) -> NoReply<Self> {
        println!(
            "tick: {} workers; asking the helper to give up",
            self.workers.len()
        );
        Helper::give_up(&self.helper);
        NoReply::NoReply
    }

    async fn handle_down(&mut self, down: Down) -> NoReply<Self> {
        let Some(at) = self.workers.iter().position(|(_, w)| w.pid() == down.pid) else {
            return NoReply::NoReply;
        };
        let (id, _) = self.workers.remove(at);
        let next = self.add_worker().await;
        println!(
            "worker {id} is down ({}); worker {next} takes its place",
            down.reason
        );
        NoReply::NoReply
    }

    async fn handle_exit(&mut self, pid: Pid, reason: ExitReason) -> NoReply<Self> {
        if pid == self.helper.pid() {
            println!("helper exited: {reason}");
            // Nothing else is expected now: say so if nothing comes within 200 ms.
            return NoReply::Timeout(Duration::from_millis(200));
        }
        NoReply::NoReply
    }

    async fn handle_timeout(&mut self) -> NoReply<Self> {
        println!("idle for 200 ms: done");
        NoReply::Stop(ExitReason::Normal)
    }
}

impl Coordinator {
    /// Starts a worker under the pool and monitors it; its id.
    async fn add_worker(&mut self) -> u32 {
        self.next_id += 1;
        let id = self.next_id;
        let worker = Pool::start_server::<Worker>(Worker::child_spec(id))
            .await
            .expect("a worker starts");
        gen_server::monitor(worker.pid());
        self.workers.push((id, worker));
        id
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let demo = Demo::start_link().await?;
    for n in [2, 3, 13, 4] {
        // The coordinator prints each answer; a crash is an `Err` answer, not a failed call.
        let _answer = gen_server::call::<Coordinator>("coordinator", n).await?;
    }
    // A timer addressed by name: whatever process has the name when it fires gets it.
    let _timer =
        gen_server::send_after::<Coordinator>("coordinator", Tick, Duration::from_millis(50));
    let coordinator = whereis(&Name::local("coordinator")).expect("the coordinator runs");
    let reason = process::monitor(coordinator).await;
    println!("coordinator exited: {reason}");
    demo.stop(ExitReason::Shutdown).await?;
    println!("process_count after stop: {}", process::process_count());
    Ok(())
}
