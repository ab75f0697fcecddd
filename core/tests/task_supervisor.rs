//! Task.Supervisor: item 64 of otp-semantics.md.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bough_core::prelude::*;
use bough_core::{Task, TaskError, TaskOptions, task_supervisor};
use tokio::time::Instant;

async fn tasks() -> TaskSupervisor {
    TaskSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap()
}

#[tokio::test]
async fn core_64_async_nolink_gives_results_and_crashes_as_values() {
    let sup = tasks().await;
    let sum = sup
        .async_nolink(async { (1..=4u32).sum::<u32>() })
        .await
        .unwrap();
    let crash = sup
        .async_nolink(async {
            tokio::task::yield_now().await;
            panic!("bad input");
        })
        .await
        .unwrap();
    let failing = sup
        .async_nolink(async { Err::<u32, _>("not found") })
        .await
        .unwrap();
    assert_eq!(sum.await, Ok(10));
    assert_eq!(
        crash.await,
        Err::<(), _>(ExitReason::Panic("bad input".into()))
    );
    assert_eq!(
        failing.await,
        Ok(Err("not found")),
        "an Err value is a result"
    );
    assert!(
        sup.is_alive(),
        "a crashed task does not take its supervisor down"
    );
    assert!(
        sup.children().await.unwrap().is_empty(),
        "temporary: forgotten"
    );
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn core_64_yield_waits_a_while_or_not_at_all() {
    let sup = tasks().await;
    let mut slow = sup
        .async_nolink(async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            "done"
        })
        .await
        .unwrap();
    assert_eq!(slow.try_yield(), None, "still running");
    assert_eq!(slow.yield_timeout(Duration::from_secs(1)).await, None);
    assert!(
        process::is_alive(slow.pid()),
        "a yield that times out leaves it running"
    );
    assert_eq!(
        slow.yield_timeout(Duration::from_secs(5)).await,
        Some(Ok("done"))
    );
    assert_eq!(slow.try_yield(), None, "a result is delivered once");

    let mut quick = sup.async_nolink(async { 7 }).await.unwrap();
    let down = process::monitor(quick.pid());
    down.await;
    assert_eq!(quick.try_yield(), Some(Ok(7)), "no wait once it ended");

    let late = sup
        .async_nolink(std::future::pending::<()>())
        .await
        .unwrap();
    let pid = late.pid();
    assert_eq!(
        late.await_timeout(Duration::from_secs(1)).await,
        Err(TaskError::Timeout)
    );
    assert!(
        process::is_alive(pid),
        "await_timeout does not stop the task"
    );
    sup.stop(ExitReason::Shutdown).await.unwrap();
    assert!(!process::is_alive(pid));
}

#[tokio::test(start_paused = true)]
async fn core_64_task_shutdown_says_how_the_task_ended() {
    let sup = tasks().await;
    let forever = sup
        .async_nolink(std::future::pending::<u8>())
        .await
        .unwrap();
    let pid = forever.pid();
    assert_eq!(forever.shutdown(Shutdown::millis(100)).await, None);
    assert!(!process::is_alive(pid));

    let finished = sup.async_nolink(async { 1u8 }).await.unwrap();
    process::monitor(finished.pid()).await;
    assert_eq!(finished.shutdown(Shutdown::BrutalKill).await, Some(Ok(1)));

    let crashed = sup.async_nolink(async { panic!("early") }).await.unwrap();
    process::monitor(crashed.pid()).await;
    assert_eq!(
        crashed.shutdown(Shutdown::BrutalKill).await,
        Some(Err::<(), _>(ExitReason::Panic("early".into())))
    );

    // A task that traps exits and ignores the shutdown is killed after the time-out.
    let stubborn = sup
        .async_nolink(async {
            process::trap_exit(true).unwrap();
            std::future::pending::<()>().await;
        })
        .await
        .unwrap();
    let (pid, t0) = (stubborn.pid(), Instant::now());
    tokio::task::yield_now().await;
    let down = process::monitor(pid);
    assert_eq!(stubborn.shutdown(Shutdown::millis(300)).await, None);
    assert_eq!(t0.elapsed(), Duration::from_millis(300));
    assert_eq!(down.await, ExitReason::Killed);
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn core_64_start_child_runs_fire_and_forget_work() {
    let sup = tasks().await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let gate = Arc::new(tokio::sync::Notify::new());
    let pid = sup
        .start_child({
            let gate = gate.clone();
            async move {
                gate.notified().await;
                let _ = tx.send(process::self_pid());
            }
        })
        .await
        .unwrap();
    assert_eq!(sup.children().await.unwrap(), [pid]);
    gate.notify_one();
    assert_eq!(
        rx.await.unwrap(),
        pid,
        "the work runs as the task's process"
    );
    process::monitor(pid).await;
    assert!(sup.children().await.unwrap().is_empty());

    let full = TaskSupervisor::start_link(DynamicSupervisorOptions::new().max_children(1))
        .await
        .unwrap();
    full.start_child(std::future::pending::<()>())
        .await
        .unwrap();
    assert_eq!(
        full.start_child(async {}).await,
        Err(StartError::MaxChildren)
    );
    full.stop(ExitReason::Shutdown).await.unwrap();
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn core_64_a_transient_task_is_restarted_after_a_crash() {
    let sup = tasks().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    sup.start_child_with(TaskOptions::new().restart(Restart::Transient), {
        let runs = runs.clone();
        move || {
            let (runs, tx) = (runs.clone(), tx.clone());
            async move {
                if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("first run fails");
                }
                tx.send(process::self_pid()).unwrap();
            }
        }
    })
    .await
    .unwrap();
    let second = rx.recv().await.unwrap();
    process::monitor(second).await;
    assert_eq!(runs.load(Ordering::SeqCst), 2, "restarted once, then done");
    assert!(
        sup.children().await.unwrap().is_empty(),
        "a clean end is final"
    );
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn core_64_tasks_shut_down_with_their_supervisor() {
    let sup = tasks().await;
    let t0 = Instant::now();
    // Does not trap exits: ends at once.
    let plain = sup.start_child(std::future::pending::<()>()).await.unwrap();
    let plain_down = process::monitor(plain);
    // Traps exits and cleans up: gets the shutdown as a signal from its supervisor.
    let seen = Arc::new(Mutex::new(None));
    let tidy = sup
        .start_child({
            let seen = seen.clone();
            async move {
                process::trap_exit(true).unwrap();
                let signal = task_supervisor::exit_signal().await.unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await; // cleaning up
                *seen.lock().unwrap() = Some(signal);
            }
        })
        .await
        .unwrap();
    let tidy_down = process::monitor(tidy);
    // Traps exits and ignores them: killed after its shutdown time.
    let stubborn = sup
        .start_child_with(
            TaskOptions::new().shutdown(Shutdown::millis(2000)),
            || async {
                process::trap_exit(true).unwrap();
                std::future::pending::<()>().await;
            },
        )
        .await
        .unwrap();
    let stubborn_down = process::monitor(stubborn);
    tokio::task::yield_now().await;

    sup.stop(ExitReason::Shutdown).await.unwrap();
    assert_eq!(
        t0.elapsed(),
        Duration::from_millis(2000),
        "the stubborn one's time"
    );
    assert_eq!(plain_down.await, ExitReason::Shutdown);
    assert_eq!(
        tidy_down.await,
        ExitReason::Normal,
        "it chose its own way out"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        Some((sup.pid(), ExitReason::Shutdown))
    );
    assert_eq!(stubborn_down.await, ExitReason::Killed);
}

/// A server that starts tasks.
struct Caller {
    tasks: TaskSupervisor,
    exits: Arc<Mutex<Vec<ExitReason>>>,
    held: Vec<Task<()>>,
}

enum Ask {
    /// Runs a crashing task with async_nolink and answers what its await gave.
    NoLinkCrash,
    /// Starts a linked task that crashes soon.
    LinkCrash,
    /// Starts a linked task that never ends; answers its pid.
    LinkForever,
    /// Starts a linked task, awaits its result.
    LinkValue,
    Crash,
}

impl GenServer for Caller {
    type Args = (TaskSupervisor, bool, Arc<Mutex<Vec<ExitReason>>>);
    type Call = Ask;
    type Reply = String;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init((tasks, trap, exits): Self::Args) -> Init<Self> {
        process::trap_exit(trap).unwrap();
        Init::Ok(Caller {
            tasks,
            exits,
            held: Vec::new(),
        })
    }

    async fn handle_call(&mut self, ask: Ask, _: ReplyTo<String>) -> Reply<Self> {
        match ask {
            Ask::NoLinkCrash => {
                let task = self
                    .tasks
                    .async_nolink(async { panic!("task crashed") })
                    .await
                    .unwrap();
                Reply::Reply(format!("{:?}", task.await))
            }
            Ask::LinkCrash => {
                let task = self
                    .tasks
                    .async_link(async {
                        tokio::task::yield_now().await;
                        panic!("linked task crashed");
                    })
                    .await
                    .unwrap();
                let pid = task.pid();
                self.held.push(task);
                Reply::Reply(pid.as_raw().to_string())
            }
            Ask::LinkForever => {
                let task = self
                    .tasks
                    .async_link(std::future::pending::<()>())
                    .await
                    .unwrap();
                let pid = task.pid();
                self.held.push(task);
                Reply::Reply(pid.as_raw().to_string())
            }
            Ask::LinkValue => {
                let task = self.tasks.async_link(async { 6 * 7 }).await.unwrap();
                Reply::Reply(format!("{:?}", task.await))
            }
            Ask::Crash => panic!("caller crashed"),
        }
    }

    async fn handle_exit(&mut self, _: Pid, reason: ExitReason) -> NoReply<Self> {
        self.exits.lock().unwrap().push(reason);
        NoReply::NoReply
    }
}

async fn caller(
    tasks: &TaskSupervisor,
    trap: bool,
) -> (Server<Caller>, Arc<Mutex<Vec<ExitReason>>>) {
    let exits = Arc::new(Mutex::new(Vec::new()));
    let server = gen_server::start_link::<Caller>((tasks.clone(), trap, exits.clone()))
        .await
        .unwrap();
    (server, exits)
}

#[tokio::test]
async fn core_64_a_crash_of_an_async_nolink_task_leaves_its_caller_alone() {
    let sup = tasks().await;
    let (server, _) = caller(&sup, false).await;
    let answer = server.call(Ask::NoLinkCrash).await.unwrap();
    assert_eq!(answer, r#"Err(Panic("task crashed"))"#);
    assert!(server.is_alive());
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn core_64_a_crash_of_a_linked_task_takes_its_caller_down() {
    let sup = tasks().await;
    let (server, _) = caller(&sup, false).await;
    let down = server.monitor();
    server.call(Ask::LinkCrash).await.unwrap();
    assert_eq!(down.await, ExitReason::Panic("linked task crashed".into()));

    // A caller that traps exits gets the crash as a message and lives on.
    let (trapping, exits) = caller(&sup, true).await;
    let answer = trapping.call(Ask::LinkCrash).await.unwrap();
    let task = Pid::from_raw(answer.parse().unwrap());
    assert_eq!(
        process::monitor(task).await,
        ExitReason::Panic("linked task crashed".into())
    );
    // The trapped exit reaches the caller as a message, handled in its turn.
    let crashed = ExitReason::Panic("linked task crashed".into());
    while !exits.lock().unwrap().contains(&crashed) {
        assert_eq!(trapping.call(Ask::LinkValue).await.unwrap(), "Ok(42)");
    }
    assert!(trapping.is_alive());
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn core_64_the_crash_of_the_caller_takes_its_linked_task_down() {
    let sup = tasks().await;
    let (server, _) = caller(&sup, false).await;
    let task = Pid::from_raw(
        server
            .call(Ask::LinkForever)
            .await
            .unwrap()
            .parse()
            .unwrap(),
    );
    let task_down = process::monitor(task);
    assert!(process::is_alive(task));
    let _ = server.call(Ask::Crash).await;
    assert_eq!(task_down.await, ExitReason::Panic("caller crashed".into()));
    assert!(sup.children().await.unwrap().is_empty());
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn core_64_exit_signal_is_for_tasks() {
    assert_eq!(
        task_supervisor::exit_signal().await,
        Err(CallError::NotAProcess)
    );
    let sup = tasks().await;
    struct Plain;
    impl GenServer for Plain {
        type Args = ();
        type Call = ();
        type Reply = String;
        type Cast = Never;
        type Info = Never;
        type Continue = Never;
        async fn init(_: ()) -> Init<Self> {
            Init::Ok(Plain)
        }
        async fn handle_call(&mut self, _: (), _: ReplyTo<String>) -> Reply<Self> {
            Reply::Reply(format!("{:?}", task_supervisor::exit_signal().await))
        }
    }
    let plain = gen_server::start_link::<Plain>(()).await.unwrap();
    assert!(plain.call(()).await.unwrap().contains("WrongType"));
    // Outside a process, async_link has nothing to link and behaves as async_nolink.
    let crash = sup.async_link(async { panic!("alone") }).await.unwrap();
    assert_eq!(crash.await, Err::<(), _>(ExitReason::Panic("alone".into())));
    sup.stop(ExitReason::Shutdown).await.unwrap();
}
