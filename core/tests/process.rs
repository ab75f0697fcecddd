//! Processes: monitors, links, exit signals, kill, timers, handles from pids, calling self
//! and custom start functions (items 52-61 of docs/semantics.md).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bough_core::prelude::*;
use bough_core::{StartInfo, Timeout, TimerRef};
use common::{Args, Call, Log, Probe, alive_tasks, settle};

/// A server that does what it is told to the process model, and logs what reaches it.
struct Node {
    tag: &'static str,
    log: Log,
    /// Monitors made with `gen_server::monitor`, by the pid they watch.
    monitors: Vec<MonitorRef>,
    kept: Option<ReplyTo<String>>,
}

#[derive(Clone)]
struct NodeArgs {
    tag: &'static str,
    log: Log,
    trap: bool,
    /// A child this node starts with `start_link` in its `init`, under a name.
    child: Option<(Args, &'static str)>,
}

impl NodeArgs {
    fn new(tag: &'static str, log: &Log) -> NodeArgs {
        NodeArgs {
            tag,
            log: log.clone(),
            trap: false,
            child: None,
        }
    }
    fn trapping(mut self) -> NodeArgs {
        self.trap = true;
        self
    }
    fn with_child(mut self, child: Args, name: &'static str) -> NodeArgs {
        self.child = Some((child, name));
        self
    }
}

enum Ask {
    Monitor(Pid),
    Link(Pid),
    Unlink(Pid),
    CallSelf,
    CallSelfByName(&'static str),
    StopSelf,
    /// Hands the call's `ReplyTo` to a task that never answers.
    HandOff,
    ExitSelfNormal,
    Idle(Duration),
    Child,
    /// Sleeps, then cancels every monitor.
    SleepThenDemonitor(Duration),
}

impl GenServer for Node {
    type Args = NodeArgs;
    type Call = Ask;
    type Reply = String;
    type Cast = ();
    type Info = String;
    type Continue = Never;

    async fn init(args: NodeArgs) -> Init<Self> {
        if args.trap {
            process::trap_exit(true).unwrap();
        }
        if let Some((child, name)) = args.child.clone() {
            gen_server::start_link_with::<Probe>(child, StartOptions::new().name(name))
                .await
                .unwrap();
        }
        args.log.push(format!("init {}", args.tag));
        Init::Ok(Node {
            tag: args.tag,
            log: args.log,
            monitors: Vec::new(),
            kept: None,
        })
    }

    async fn handle_call(&mut self, ask: Ask, from: ReplyTo<String>) -> Reply<Self> {
        match ask {
            Ask::Monitor(pid) => {
                self.monitors.push(gen_server::monitor(pid));
                Reply::Reply("monitoring".into())
            }
            Ask::Link(pid) => Reply::Reply(format!("{:?}", process::link(pid))),
            Ask::Unlink(pid) => {
                process::unlink(pid);
                Reply::Reply("unlinked".into())
            }
            Ask::CallSelf => {
                let me = Server::<Node>::current();
                Reply::Reply(format!("{:?}", me.call(Ask::Child).await))
            }
            Ask::CallSelfByName(name) => Reply::Reply(format!(
                "{:?}",
                gen_server::call::<Node>(name, Ask::Child).await
            )),
            Ask::StopSelf => {
                let me = Server::<Node>::current();
                Reply::Reply(format!("{:?}", me.stop(ExitReason::Normal).await))
            }
            Ask::HandOff => {
                tokio::spawn(async move {
                    let _from = from;
                    std::future::pending::<()>().await;
                });
                Reply::NoReply
            }
            Ask::ExitSelfNormal => {
                process::exit(self_pid(), ExitReason::Normal);
                self.kept = Some(from);
                Reply::NoReply
            }
            Ask::Idle(idle) => Reply::ReplyTimeout("idle".into(), idle),
            Ask::SleepThenDemonitor(duration) => {
                tokio::time::sleep(duration).await;
                let all: Vec<bool> = self.monitors.drain(..).map(gen_server::demonitor).collect();
                Reply::Reply(format!("{all:?}"))
            }
            Ask::Child => Reply::Reply("child".into()),
        }
    }

    async fn handle_info(&mut self, info: String) -> NoReply<Self> {
        self.log.push(format!("{} info {info}", self.tag));
        NoReply::NoReply
    }

    async fn handle_down(&mut self, down: Down) -> NoReply<Self> {
        assert_eq!(down.monitor.pid(), down.pid);
        self.log
            .push(format!("{} down {} {}", self.tag, down.pid, down.reason));
        NoReply::NoReply
    }

    async fn handle_exit(&mut self, pid: Pid, reason: ExitReason) -> NoReply<Self> {
        self.log.push(format!("{} exit {pid} {reason}", self.tag));
        NoReply::NoReply
    }

    async fn handle_timeout(&mut self) -> NoReply<Self> {
        self.log.push(format!("{} timeout", self.tag));
        NoReply::NoReply
    }

    async fn terminate(&mut self, reason: &ExitReason) {
        self.log.push(format!("terminate {} {reason}", self.tag));
    }
}

async fn node(args: NodeArgs) -> Server<Node> {
    gen_server::start_link::<Node>(args).await.unwrap()
}

async fn probe(tag: &'static str, log: &Log) -> Server<Probe> {
    gen_server::start_link::<Probe>(Args::new(tag, log))
        .await
        .unwrap()
}

// ---- 52: monitors -------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn core_52_a_monitor_resolves_once_with_the_reason_and_monitors_stack() {
    let log = Log::new();
    let p = probe("p", &log).await;
    let first = process::monitor(p.pid());
    let second = p.monitor();
    p.cast(common::Cast::Crash);
    assert_eq!(first.await, ExitReason::error("p crashed"));
    assert_eq!(second.await, ExitReason::error("p crashed"));
}

#[tokio::test(start_paused = true)]
async fn core_52_a_monitor_of_a_dead_pid_is_noproc_at_once() {
    let log = Log::new();
    let p = probe("p", &log).await;
    p.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(process::monitor(p.pid()).await, ExitReason::NoProc);
    assert_eq!(
        process::monitor(Pid::from_raw(u64::MAX)).await,
        ExitReason::NoProc
    );
}

#[tokio::test(start_paused = true)]
async fn core_52_demonitor_cancels_and_names_are_free_when_down_arrives() {
    let log = Log::new();
    let p = gen_server::start_link_with::<Probe>(
        Args::new("p", &log),
        StartOptions::new().name("core_52_named"),
    )
    .await
    .unwrap();
    let cancelled = p.monitor();
    assert!(cancelled.demonitor(), "the process was alive");
    let down = p.monitor();
    p.cast(common::Cast::Stop(ExitReason::Shutdown));
    assert_eq!(down.await, ExitReason::Shutdown);
    assert_eq!(whereis(&Name::local("core_52_named")), None);
    assert!(!process::is_alive(p.pid()));
    assert!(!p.is_alive());
    let again = gen_server::start_link_with::<Probe>(
        Args::new("p2", &log),
        StartOptions::new().name("core_52_named"),
    )
    .await;
    assert!(again.is_ok(), "the name is free to take again");
}

#[tokio::test(start_paused = true)]
async fn core_52_a_server_gets_each_down_in_handle_down() {
    let log = Log::new();
    let watcher = node(NodeArgs::new("w", &log)).await;
    let p = probe("p", &log).await;
    watcher.call(Ask::Monitor(p.pid())).await.unwrap();
    watcher.call(Ask::Monitor(p.pid())).await.unwrap();
    p.stop(ExitReason::shutdown_with("bye")).await.unwrap();
    watcher.call(Ask::Child).await.unwrap();
    let downs = format!("w down {} {{shutdown, \"bye\"}}", p.pid());
    assert_eq!(
        log.count(&downs),
        2,
        "two monitors, two DOWNs: {:?}",
        log.entries()
    );
    // A monitor of a dead process gives a DOWN with noproc.
    watcher.call(Ask::Monitor(p.pid())).await.unwrap();
    watcher.call(Ask::Child).await.unwrap();
    assert_eq!(log.count(&format!("w down {} noproc", p.pid())), 1);
}

#[tokio::test(start_paused = true)]
async fn core_52_demonitor_flushes_a_down_already_queued() {
    let log = Log::new();
    let watcher = node(NodeArgs::new("w", &log)).await;
    let p = probe("p", &log).await;
    watcher.call(Ask::Monitor(p.pid())).await.unwrap();
    // The DOWN is queued while the watcher sleeps, then it demonitors.
    let demonitor = tokio::spawn({
        let watcher = watcher.clone();
        async move {
            watcher
                .call(Ask::SleepThenDemonitor(Duration::from_millis(10)))
                .await
        }
    });
    settle().await;
    p.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(demonitor.await.unwrap().unwrap(), "[true]");
    watcher.call(Ask::Child).await.unwrap();
    assert!(
        !log.entries().iter().any(|e| e.contains("down")),
        "{:?}",
        log.entries()
    );
}

// ---- 53: a call monitors its server ---------------------------------------------------

#[tokio::test(start_paused = true)]
async fn core_53_a_call_fails_at_once_when_the_server_exits_whoever_holds_from() {
    let log = Log::new();
    let n = node(NodeArgs::new("n", &log)).await;
    let call = tokio::spawn({
        let n = n.clone();
        async move { n.call_timeout(Ask::HandOff, Timeout::Infinity).await }
    });
    settle().await;
    n.stop(ExitReason::error("gone")).await.unwrap();
    let started = tokio::time::Instant::now();
    let result = call.await.unwrap();
    assert_eq!(result, Err(CallError::Exited(ExitReason::error("gone"))));
    assert_eq!(started.elapsed(), Duration::ZERO, "at once");
}

// ---- 54, 55, 56: links and exit signals -----------------------------------------------

#[tokio::test(start_paused = true)]
async fn core_54_start_link_from_a_process_links_the_two() {
    let log = Log::new();
    let parent =
        node(NodeArgs::new("parent", &log).with_child(Args::new("child", &log), "core_54_child"))
            .await;
    let child = Server::<Probe>::whereis(&Name::local("core_54_child")).unwrap();
    let parent_down = parent.monitor();
    child.cast(common::Cast::Crash);
    assert_eq!(parent_down.await, ExitReason::error("child crashed"));
    assert!(
        !log.entries()
            .contains(&"terminate parent child crashed".to_string()),
        "a non-trapping process dies of the signal without terminate"
    );
}

#[tokio::test(start_paused = true)]
async fn core_54_a_parent_that_exits_stops_the_children_it_started() {
    let log = Log::new();
    let parent =
        node(NodeArgs::new("parent", &log).with_child(Args::new("child", &log), "core_54_child2"))
            .await;
    let before = alive_tasks();
    parent
        .stop(ExitReason::shutdown_with("done"))
        .await
        .unwrap();
    // The stop returns once the child, stopped by its parent's exit signal, has ended.
    assert_eq!(
        log.entries()
            .iter()
            .filter(|e| e.starts_with("terminate"))
            .cloned()
            .collect::<Vec<_>>(),
        [
            "terminate parent {shutdown, \"done\"}",
            "terminate child {shutdown, \"done\"}"
        ]
    );
    settle().await;
    assert_eq!(alive_tasks(), before - 2);
}

#[tokio::test(start_paused = true)]
async fn core_54_link_and_unlink() {
    let log = Log::new();
    let a = node(NodeArgs::new("a", &log)).await;
    let b = probe("b", &log).await;
    assert_eq!(a.call(Ask::Link(b.pid())).await.unwrap(), "Ok(())");
    let a_down = a.monitor();
    b.cast(common::Cast::Crash);
    assert_eq!(a_down.await, ExitReason::error("b crashed"));

    let a = node(NodeArgs::new("a2", &log)).await;
    let b = probe("b2", &log).await;
    a.call(Ask::Link(b.pid())).await.unwrap();
    a.call(Ask::Unlink(b.pid())).await.unwrap();
    b.cast(common::Cast::Crash);
    b.monitor().await;
    assert_eq!(
        a.call(Ask::Child).await.unwrap(),
        "child",
        "unlinked: unharmed"
    );
    // Linking to a dead pid fails with noproc (not trapping).
    assert_eq!(a.call(Ask::Link(b.pid())).await.unwrap(), "Err(NoProc)");
    assert_eq!(process::link(b.pid()), Err(CallError::NotAProcess));
}

#[tokio::test(start_paused = true)]
async fn core_55_a_normal_signal_is_ignored_and_others_kill_without_terminate() {
    let log = Log::new();
    let n = node(NodeArgs::new("n", &log)).await;
    process::exit(n.pid(), ExitReason::Normal);
    settle().await;
    assert!(
        n.is_alive(),
        "normal is ignored by a process that does not trap exits"
    );
    let down = n.monitor();
    process::exit(n.pid(), ExitReason::error("go"));
    assert_eq!(down.await, ExitReason::error("go"));
    assert!(!log.entries().iter().any(|e| e.starts_with("terminate")));
}

#[tokio::test(start_paused = true)]
async fn core_55_a_trapping_server_gets_exit_signals_as_messages() {
    let log = Log::new();
    let n = node(NodeArgs::new("n", &log).trapping()).await;
    let b = probe("b", &log).await;
    n.call(Ask::Link(b.pid())).await.unwrap();
    process::exit(n.pid(), ExitReason::error("from outside"));
    b.cast(common::Cast::Crash);
    b.monitor().await;
    n.call(Ask::Child).await.unwrap();
    assert!(
        log.entries()
            .contains(&"n exit #PID<0.0.0> from outside".to_string())
    );
    assert!(
        log.entries()
            .contains(&format!("n exit {} b crashed", b.pid())),
        "{:?}",
        log.entries()
    );
    assert!(n.is_alive());
    // Linking to a dead pid while trapping gives a noproc exit message.
    assert_eq!(n.call(Ask::Link(b.pid())).await.unwrap(), "Ok(())");
    n.call(Ask::Child).await.unwrap();
    assert!(
        log.entries()
            .contains(&format!("n exit {} noproc", b.pid()))
    );
}

#[tokio::test(start_paused = true)]
async fn core_55_a_process_that_exits_itself_normally_ends() {
    let log = Log::new();
    let n = node(NodeArgs::new("n", &log)).await;
    let result = n.call(Ask::ExitSelfNormal).await;
    assert_eq!(result, Err(CallError::Exited(ExitReason::Normal)));
    assert!(!n.is_alive());
}

#[tokio::test(start_paused = true)]
async fn core_56_kill_cannot_be_trapped_and_links_get_killed() {
    let log = Log::new();
    let n = node(NodeArgs::new("n", &log).trapping()).await;
    let watcher = node(NodeArgs::new("w", &log).trapping()).await;
    watcher.call(Ask::Link(n.pid())).await.unwrap();
    let down = n.monitor();
    process::kill(n.pid());
    assert_eq!(down.await, ExitReason::Killed);
    watcher.call(Ask::Child).await.unwrap();
    assert!(!log.entries().contains(&"terminate n killed".to_string()));
    assert!(
        log.entries()
            .contains(&format!("w exit {} killed", n.pid()))
    );
}

// ---- 57: a killed supervisor ---------------------------------------------------------

/// The middle supervisor runs out of shutdown time while one child's `terminate` never
/// ends: the middle is killed, and its children are still stopped and ended before the
/// top's stop returns (issue 12, fault 1).
#[tokio::test(start_paused = true)]
async fn core_57_stop_returns_only_when_every_task_below_has_ended() {
    for dynamic in [false, true] {
        let log = Log::new();
        let stuck = Args::new("stuck", &log).terminate_takes(Duration::MAX);
        let middle = if dynamic {
            DynamicSupervisor::child_spec(DynamicSupervisorOptions::new().name("core_57_mid"))
        } else {
            Supervisor::child_spec(
                [
                    Probe::spec(Args::new("w1", &log)),
                    Probe::spec(stuck.clone()).shutdown(Shutdown::millis(1000)),
                ],
                SupervisorOptions::new(Strategy::OneForOne).name("core_57_mid"),
            )
        }
        .shutdown(Shutdown::millis(100));
        let top = Supervisor::start_link([middle], SupervisorOptions::default())
            .await
            .unwrap();
        if dynamic {
            let mid = DynamicSupervisor::whereis(&Name::local("core_57_mid")).unwrap();
            mid.start_child(Probe::spec(Args::new("w1", &log)))
                .await
                .unwrap();
            mid.start_child(Probe::spec(stuck.clone()).shutdown(Shutdown::millis(1000)))
                .await
                .unwrap();
        }
        let tasks = alive_tasks();
        assert_eq!(tasks, 4);
        top.stop(ExitReason::Shutdown).await.unwrap();
        assert_eq!(alive_tasks(), 0, "dynamic: {dynamic}");
        assert_eq!(whereis(&Name::local("core_57_mid")), None);
        // Under a dynamic middle every child was asked to stop at once; under a static one
        // w1 was still waiting its turn when the middle was killed.
        let w1 = if dynamic {
            "terminate w1 shutdown"
        } else {
            "terminate w1 killed"
        };
        assert!(
            log.entries().contains(&w1.to_string()),
            "{:?}",
            log.entries()
        );
    }
}

// ---- 58: timers and idle time-outs ----------------------------------------------------

#[tokio::test(start_paused = true)]
async fn core_58_send_after_fires_once_and_cancel_tells_the_time_left() {
    let log = Log::new();
    let p = probe("p", &log).await;
    let timer = gen_server::send_after(&p, "late".to_string(), Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(40)).await;
    assert_eq!(timer.read(), Some(Duration::from_millis(60)));
    assert_eq!(timer.cancel(), Some(Duration::from_millis(60)));
    assert_eq!(timer.cancel(), None);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!log.entries().contains(&"info late".to_string()));

    let timer = gen_server::send_after(&p, "on time".to_string(), Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(100)).await;
    settle().await;
    assert_eq!(log.count("info on time"), 1);
    assert_eq!(timer.cancel(), None, "already fired");
}

#[tokio::test(start_paused = true)]
async fn core_58_a_timer_to_a_pid_dies_with_it_and_one_to_a_name_follows_the_name() {
    let log = Log::new();
    let name = Name::local("core_58_timer");
    let first = gen_server::start_link_with::<Probe>(
        Args::new("first", &log),
        StartOptions::new().name(name.clone()),
    )
    .await
    .unwrap();
    let by_pid: TimerRef =
        gen_server::send_after(&first, "to pid".to_string(), Duration::from_millis(50));
    let by_name =
        gen_server::send_after::<Probe>(&name, "to name".to_string(), Duration::from_millis(50));
    first.stop(ExitReason::Normal).await.unwrap();
    settle().await;
    assert_eq!(by_pid.read(), None, "cancelled with its process");
    let _second = gen_server::start_link_with::<Probe>(
        Args::new("second", &log),
        StartOptions::new().name(name.clone()),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    settle().await;
    assert_eq!(log.count("info to pid"), 0);
    assert_eq!(log.count("info to name"), 1);
    assert_eq!(by_name.read(), None);
    // A timer too far away to represent never fires, and cancels fine.
    let never = gen_server::send_after::<Probe>(&name, "never".into(), Duration::MAX);
    assert_eq!(never.cancel(), Some(Duration::MAX));
}

#[tokio::test(start_paused = true)]
async fn core_58_an_idle_time_out_fires_unless_a_message_comes() {
    let log = Log::new();
    let n = node(NodeArgs::new("n", &log)).await;
    n.call(Ask::Idle(Duration::from_millis(100))).await.unwrap();
    tokio::time::sleep(Duration::from_millis(99)).await;
    settle().await;
    assert_eq!(log.count("n timeout"), 0);
    tokio::time::sleep(Duration::from_millis(1)).await;
    settle().await;
    assert_eq!(log.count("n timeout"), 1);
    // Any message cancels it.
    n.call(Ask::Idle(Duration::from_millis(100))).await.unwrap();
    n.send("poke".into());
    tokio::time::sleep(Duration::from_millis(200)).await;
    settle().await;
    assert_eq!(log.count("n timeout"), 1);
    assert_eq!(log.count("n info poke"), 1);
}

#[tokio::test(start_paused = true)]
async fn core_58_a_zero_idle_time_out_fires_only_on_an_empty_mailbox() {
    let log = Log::new();
    let n = node(NodeArgs::new("n", &log)).await;
    let mut idle = std::pin::pin!(n.call(Ask::Idle(Duration::ZERO)));
    // Sent first, then the message queued behind it.
    std::future::poll_fn(|cx| {
        let _ = idle.as_mut().poll(cx);
        std::task::Poll::Ready(())
    })
    .await;
    n.send("queued".into());
    idle.await.unwrap();
    settle().await;
    assert_eq!(log.count("n info queued"), 1);
    assert_eq!(log.count("n timeout"), 0, "a queued message wins");
    n.call(Ask::Idle(Duration::ZERO)).await.unwrap();
    settle().await;
    assert_eq!(log.count("n timeout"), 1);
}

// ---- 59: calling self ------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn core_59_a_server_that_calls_or_stops_itself_fails_at_once() {
    let log = Log::new();
    let n = gen_server::start_link_with::<Node>(
        NodeArgs::new("n", &log),
        StartOptions::new().name("core_59_self"),
    )
    .await
    .unwrap();
    let started = tokio::time::Instant::now();
    assert_eq!(n.call(Ask::CallSelf).await.unwrap(), "Err(CallingSelf)");
    assert_eq!(
        n.call(Ask::CallSelfByName("core_59_self")).await.unwrap(),
        "Err(CallingSelf)"
    );
    assert_eq!(n.call(Ask::StopSelf).await.unwrap(), "Err(CallingSelf)");
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert!(n.is_alive());
}

// ---- 60: handles from pids -------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn core_60_a_pid_becomes_a_checked_handle_and_dead_pids_drop_messages() {
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    let pid = sup
        .start_child(ChildSpec::worker::<Probe>(Args::new("c", &log)))
        .await
        .unwrap();
    let server = Server::<Probe>::from_pid(pid).unwrap();
    assert_eq!(server.call(Call::Ping).await.unwrap(), "pong c");
    assert!(matches!(
        Server::<Node>::from_pid(pid),
        Err(CallError::WrongType { .. })
    ));
    assert_eq!(
        Server::<Probe>::from_pid(sup.pid())
            .unwrap_err()
            .to_string(),
        format!(
            "`{}` names a `DynamicSupervisor`, not a `{}`",
            sup.pid(),
            std::any::type_name::<Probe>()
        )
    );
    assert_eq!(DynamicSupervisor::from_pid(sup.pid()), Ok(sup.clone()));
    assert!(Supervisor::from_pid(sup.pid()).is_err());
    let typed = sup
        .start_server::<Probe>(ChildSpec::worker::<Probe>(Args::new("typed", &log)))
        .await
        .unwrap();
    assert_eq!(typed.call(Call::Ping).await.unwrap(), "pong typed");
    assert_eq!(
        sup.start_server::<Node>(ChildSpec::worker::<Probe>(Args::new("x", &log)))
            .await
            .map(|_| ()),
        Err(StartError::WrongType {
            expected: std::any::type_name::<Node>(),
            found: std::any::type_name::<Probe>(),
        })
    );
    // A message to a dead pid is dropped, even when a successor took its name.
    sup.terminate_child(pid).await.unwrap();
    assert!(!process::is_alive(pid));
    server.send("lost".into());
    assert_eq!(
        Server::<Probe>::from_pid(pid).unwrap_err(),
        CallError::NoProc
    );
    settle().await;
    assert_eq!(log.count("info lost"), 0);
}

// ---- 61: custom start functions --------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn core_61_custom_start_functions() {
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    let custom = |args: Args, info: bool| {
        ChildSpec::from_fn("custom", ChildType::Worker, move || {
            let args = args.clone();
            async move {
                let server = gen_server::start_link::<Probe>(args).await?;
                Ok(if info {
                    StartOk::with_info(server.pid(), 42u32)
                } else {
                    StartOk::pid(server.pid())
                })
            }
        })
        .restart(Restart::Transient)
    };
    let (pid, info): (Pid, Option<StartInfo>) = sup
        .start_child_with_info(custom(Args::new("a", &log), true))
        .await
        .unwrap();
    assert_eq!(info.unwrap().downcast_ref::<u32>(), Some(&42));
    let b = sup
        .start_child(custom(Args::new("b", &log), false))
        .await
        .unwrap();
    assert_eq!(sup.count_children().await.unwrap().active, 2);
    // The supervisor restarts a custom child through its function, and stops it.
    let a = Server::<Probe>::from_pid(pid).unwrap();
    a.cast(common::Cast::Crash);
    a.monitor().await;
    settle().await;
    assert_eq!(log.count("init a"), 2);
    sup.terminate_child(b).await.unwrap();
    assert_eq!(log.count("terminate b shutdown"), 1);
    // Ignore and errors come through without anything started.
    let ignore = ChildSpec::from_fn("i", ChildType::Worker, || async { Err(StartError::Ignore) });
    assert_eq!(sup.start_child(ignore).await, Err(StartError::Ignore));
    let fail = ChildSpec::from_fn("f", ChildType::Worker, || async {
        Err(StartError::Init(ExitReason::error("no")))
    });
    assert_eq!(
        Supervisor::start_link([fail], SupervisorOptions::default())
            .await
            .unwrap_err(),
        StartError::FailedToStartChild {
            id: "f".into(),
            reason: Box::new(StartError::Init(ExitReason::error("no")))
        }
    );
    // A process the function did not start is adopted: linked, seen exiting, stopped.
    let stranger = probe("stranger", &log).await;
    let pid = stranger.pid();
    let adopt = ChildSpec::from_fn("s", ChildType::Worker, move || async move {
        Ok(StartOk::pid(pid))
    })
    .restart(Restart::Temporary);
    assert_eq!(sup.start_child(adopt).await, Ok(pid));
    sup.terminate_child(pid).await.unwrap();
    assert!(!stranger.is_alive());
    sup.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(alive_tasks(), 0);
}

// ---- 9 of issue 11: names are free once an exit is seen ---------------------------------

#[test]
fn a_stop_reply_reaches_the_caller_only_once_the_name_is_free() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let log = Log::new();
        let name = Name::local("stop_reply_name_free");
        for _ in 0..200 {
            let p = gen_server::start_link_with::<Probe>(
                Args::new("p", &log),
                StartOptions::new().name(name.clone()),
            )
            .await
            .unwrap();
            let answer = p.call(Call::StopReply(ExitReason::Normal)).await;
            assert_eq!(answer, Ok("bye p".to_string()));
            assert_eq!(whereis(&name), None);
            assert_eq!(
                gen_server::call::<Probe>(&name, Call::Ping).await,
                Err(CallError::NoProc)
            );
            assert!(!p.is_alive());
        }
    });
}

#[tokio::test(start_paused = true)]
async fn killed_mid_start_leaves_nothing() {
    let flag = Arc::new(AtomicBool::new(false));
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    let slow = ChildSpec::worker::<Probe>(
        Args::new("slow", &log).on_init(common::OnInit::Sleep(Duration::from_secs(10))),
    );
    let start = tokio::spawn({
        let sup = sup.clone();
        async move { sup.start_child(slow).await }
    });
    settle().await;
    process::kill(sup.pid());
    assert!(matches!(
        start.await.unwrap(),
        Err(StartError::Supervisor(_))
    ));
    flag.store(true, Ordering::SeqCst);
    settle().await;
    assert_eq!(alive_tasks(), 0);
}
