//! DynamicSupervisor semantics: items 37–46 of `docs/semantics.md`.

mod common;

use std::time::Duration;

use bough_core::ChildPid;
use bough_core::prelude::*;
use common::{Args, Call, Cast, Log, OnInit, Probe, alive_tasks, eventually, settle, wait_until};
use tokio::time::Instant;

async fn dynamic(options: DynamicSupervisorOptions) -> DynamicSupervisor {
    DynamicSupervisor::start_link(options).await.unwrap()
}

fn spec(tag: &'static str, log: &Log) -> ChildSpec {
    ChildSpec::worker::<Probe>(Args::new(tag, log))
}

#[tokio::test]
async fn core_37_a_dynamic_supervisor_starts_empty_with_otp_defaults() {
    let sup = dynamic(DynamicSupervisorOptions::new()).await;
    assert_eq!(sup.count_children().await.unwrap(), ChildCount::default());
    assert!(sup.which_children().await.unwrap().is_empty());
    assert_eq!(
        format!("{:?}", DynamicSupervisorOptions::new()),
        "DynamicSupervisorOptions { max_restarts: 3, period: 5s, max_children: None, extra_arguments: false, name: None }"
    );
}

#[tokio::test]
async fn core_38_start_child_answers_like_otp() {
    let log = Log::new();
    let sup = dynamic(DynamicSupervisorOptions::new()).await;
    let pid = sup.start_child(spec("a", &log)).await.unwrap();
    assert_eq!(
        sup.start_child(ChildSpec::worker::<Probe>(
            Args::new("b", &log).on_init(OnInit::Ignore)
        ))
        .await,
        Err(StartError::Ignore)
    );
    assert_eq!(
        sup.start_child(ChildSpec::worker::<Probe>(
            Args::new("c", &log).on_init(OnInit::Stop(ExitReason::error("bad url")))
        ))
        .await,
        Err(StartError::Init(ExitReason::error("bad url")))
    );
    let named = sup
        .start_child(spec("d", &log).name("core_38_d"))
        .await
        .unwrap();
    assert_eq!(
        sup.start_child(spec("e", &log).name("core_38_d")).await,
        Err(StartError::AlreadyStarted(named))
    );
    let count = sup.count_children().await.unwrap();
    assert_eq!(
        (count.specs, count.active),
        (2, 2),
        "ignored and failed children are not kept"
    );
    assert!(
        sup.which_children()
            .await
            .unwrap()
            .iter()
            .any(|c| c.pid == ChildPid::Running(pid))
    );
}

#[tokio::test(start_paused = true)]
async fn core_39_start_child_is_serialized_through_the_supervisor() {
    let log = Log::new();
    let sup = dynamic(DynamicSupervisorOptions::new()).await;
    let slow = ChildSpec::worker::<Probe>(
        Args::new("a", &log).on_init(OnInit::Sleep(Duration::from_secs(1))),
    );
    let t0 = Instant::now();
    let first = tokio::spawn({
        let sup = sup.clone();
        async move { sup.start_child(slow).await }
    });
    settle().await;
    assert_eq!(log.entries(), ["init a"], "the first init runs");
    // Everything else waits until the first init returned.
    let second = tokio::spawn({
        let (sup, log) = (sup.clone(), log.clone());
        async move { sup.start_child(spec("b", &log)).await }
    });
    let count = sup.count_children().await.unwrap();
    assert_eq!(t0.elapsed(), Duration::from_secs(1));
    assert_eq!(
        count.active, 1,
        "the count was taken after the first start, before the second"
    );
    first.await.unwrap().unwrap();
    second.await.unwrap().unwrap();
    assert_eq!(log.entries(), ["init a", "init done a", "init b"]);
}

#[tokio::test]
async fn core_40_max_children_is_checked_before_the_start() {
    let log = Log::new();
    let sup = dynamic(DynamicSupervisorOptions::new().max_children(2)).await;
    sup.start_child(spec("a", &log)).await.unwrap();
    let b = sup.start_child(spec("b", &log)).await.unwrap();
    let ignoring = ChildSpec::worker::<Probe>(Args::new("c", &log).on_init(OnInit::Ignore));
    assert_eq!(
        sup.start_child(ignoring).await,
        Err(StartError::MaxChildren)
    );
    assert_eq!(
        log.count("init c"),
        0,
        "a child over the limit is not even started"
    );
    sup.terminate_child(b).await.unwrap();
    sup.start_child(spec("d", &log)).await.unwrap();
}

#[tokio::test]
async fn core_41_extra_arguments_are_prepended() {
    struct Conn(&'static str, u32);
    impl GenServer for Conn {
        type Args = (&'static str, u32);
        type Call = ();
        type Reply = String;
        type Cast = Never;
        type Info = Never;
        type Continue = Never;
        async fn init((pool, n): (&'static str, u32)) -> Init<Self> {
            Init::Ok(Conn(pool, n))
        }
        async fn handle_call(&mut self, _: (), _: ReplyTo<String>) -> Reply<Self> {
            Reply::Reply(format!("{} {}", self.0, self.1))
        }
    }
    let sup = dynamic(DynamicSupervisorOptions::new().extra_arguments("pool-1")).await;
    sup.start_child(ChildSpec::worker_with_extra::<Conn, &'static str, u32>(7).name("core_41"))
        .await
        .unwrap();
    assert_eq!(
        gen_server::call::<Conn>("core_41", ()).await.unwrap(),
        "pool-1 7"
    );

    let plain = dynamic(DynamicSupervisorOptions::new()).await;
    assert_eq!(
        plain
            .start_child(ChildSpec::worker_with_extra::<Conn, &'static str, u32>(7))
            .await,
        Err(StartError::BadExtraArguments { expected: "&str" })
    );
}

#[tokio::test]
async fn core_42_terminate_child_by_pid() {
    let log = Log::new();
    let sup = dynamic(DynamicSupervisorOptions::new()).await;
    let pid = sup.start_child(spec("a", &log)).await.unwrap();
    assert_eq!(sup.terminate_child(pid).await, Ok(()));
    assert_eq!(log.entries().last().unwrap(), "terminate a shutdown");
    assert_eq!(sup.terminate_child(pid).await, Err(ChildError::NotFound));
    assert_eq!(
        sup.count_children().await.unwrap().specs,
        0,
        "a terminated child is not restarted"
    );
}

#[tokio::test]
async fn core_43_which_children_has_no_ids_and_count_children_counts_types() {
    let log = Log::new();
    let sup = dynamic(DynamicSupervisorOptions::new()).await;
    let a = sup.start_child(spec("a", &log)).await.unwrap();
    let s = sup
        .start_child(DynamicSupervisor::child_spec(
            DynamicSupervisorOptions::new(),
        ))
        .await
        .unwrap();
    let mut children = sup.which_children().await.unwrap();
    children.sort_by_key(|c| c.pid.pid());
    // Pids are not in start order (a new process may take a slot freed by an older one).
    let mut expected = vec![
        ChildInfo {
            id: None,
            pid: ChildPid::Running(a),
            child_type: ChildType::Worker,
        },
        ChildInfo {
            id: None,
            pid: ChildPid::Running(s),
            child_type: ChildType::Supervisor,
        },
    ];
    expected.sort_by_key(|c| c.pid.pid());
    assert_eq!(children, expected);
    assert_eq!(
        sup.count_children().await.unwrap(),
        ChildCount {
            specs: 2,
            active: 2,
            supervisors: 1,
            workers: 1
        }
    );
}

#[tokio::test]
async fn core_44_exits_are_handled_by_restart_type() {
    let log = Log::new();
    let sup = dynamic(DynamicSupervisorOptions::new().max_restarts(10)).await;
    sup.start_child(
        spec("tmp", &log)
            .name("core_44_tmp")
            .restart(Restart::Temporary),
    )
    .await
    .unwrap();
    sup.start_child(
        spec("tr", &log)
            .name("core_44_tr")
            .restart(Restart::Transient),
    )
    .await
    .unwrap();
    sup.start_child(
        spec("tr2", &log)
            .name("core_44_tr2")
            .restart(Restart::Transient),
    )
    .await
    .unwrap();
    sup.start_child(spec("perm", &log).name("core_44_perm"))
        .await
        .unwrap();

    gen_server::cast::<Probe>("core_44_tmp", Cast::Crash);
    gen_server::cast::<Probe>("core_44_tr", Cast::Stop(ExitReason::Normal));
    gen_server::cast::<Probe>("core_44_tr2", Cast::Crash);
    gen_server::cast::<Probe>("core_44_perm", Cast::Stop(ExitReason::Normal));
    wait_until(|| log.count("init tr2") == 2 && log.count("init perm") == 2).await;
    settle().await;
    assert_eq!(log.count("init tmp"), 1, "temporary: removed");
    assert_eq!(
        log.count("init tr"),
        1,
        "transient with a clean exit: removed"
    );
    let count = sup.count_children().await.unwrap();
    assert_eq!(
        count.active, 2,
        "the crashed transient and the permanent came back"
    );
    // Restarted with the same arguments, under the same name.
    assert_eq!(
        gen_server::call::<Probe>("core_44_tr2", Call::Ping)
            .await
            .unwrap(),
        "pong tr2"
    );
}

#[tokio::test(start_paused = true)]
async fn core_45_too_many_restarts_stop_every_child_and_the_supervisor() {
    let log = Log::new();
    let sup = dynamic(DynamicSupervisorOptions::new()).await;
    sup.start_child(spec("bystander", &log)).await.unwrap();
    sup.start_child(spec("a", &log).name("core_45_a"))
        .await
        .unwrap();
    for n in 1..=3 {
        gen_server::cast::<Probe>("core_45_a", Cast::Crash);
        wait_until(|| log.count("init a") == n + 1).await;
    }
    gen_server::cast::<Probe>("core_45_a", Cast::Crash);
    wait_until(|| !sup.is_alive()).await;
    assert_eq!(
        log.entries().last().unwrap(),
        "terminate bystander shutdown"
    );
    assert_eq!(alive_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn core_46_children_stop_together_each_within_its_own_shutdown() {
    let log = Log::new();
    let sup = dynamic(DynamicSupervisorOptions::new()).await;
    let tags = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"];
    for tag in tags {
        let args = Args::new(tag, &log).terminate_takes(Duration::from_secs(1));
        sup.start_child(ChildSpec::worker::<Probe>(args))
            .await
            .unwrap();
    }
    let stuck = Args::new("stuck", &log).terminate_takes(Duration::from_secs(3600));
    sup.start_child(ChildSpec::worker::<Probe>(stuck).shutdown(Shutdown::millis(2000)))
        .await
        .unwrap();
    let killed = Args::new("killed", &log).terminate_takes(Duration::from_secs(3600));
    sup.start_child(ChildSpec::worker::<Probe>(killed).shutdown(Shutdown::BrutalKill))
        .await
        .unwrap();
    log.clear();
    let t0 = Instant::now();
    sup.stop(ExitReason::Shutdown).await.unwrap();
    assert_eq!(
        t0.elapsed(),
        Duration::from_secs(2),
        "1 s together, not 10 s in a row; stuck killed at 2 s"
    );
    assert_eq!(log.entries().len(), 10);
    assert_eq!(alive_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_restarted_dynamic_supervisor_comes_back_empty() {
    let log = Log::new();
    let top = Supervisor::start_link(
        [
            DynamicSupervisor::child_spec(DynamicSupervisorOptions::new().name("dyn_restart"))
                .id("dyn"),
        ],
        SupervisorOptions::new(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let first = DynamicSupervisor::whereis(&Name::local("dyn_restart")).unwrap();
    first.start_child(spec("a", &log)).await.unwrap();
    first.stop(ExitReason::error("crash")).await.unwrap();
    wait_until(|| {
        DynamicSupervisor::whereis(&Name::local("dyn_restart")).is_some_and(|s| s != first)
    })
    .await;
    let second = DynamicSupervisor::whereis(&Name::local("dyn_restart")).unwrap();
    assert_eq!(second.count_children().await.unwrap().specs, 0);
    top.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_thousand_children_runs_every_terminate_and_leaves_no_task() {
    let log = Log::new();
    let sup = dynamic(DynamicSupervisorOptions::new()).await;
    for _ in 0..1000 {
        sup.start_child(spec("x", &log)).await.unwrap();
    }
    sup.stop(ExitReason::Shutdown).await.unwrap();
    assert_eq!(log.count("terminate x shutdown"), 1000);
    // Every child task was awaited before `stop` returned. The supervisor's own task has
    // finished too, but on another worker thread tokio may still be unlisting it.
    eventually(|| alive_tasks() == 0).await;
}
