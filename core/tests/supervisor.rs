//! Static supervisor semantics: items 19–35 of `docs/semantics.md`.

mod common;

use std::time::Duration;

use bough_core::prelude::*;
use bough_core::{ChildInfo, ChildPid};
use common::{Args, Call, Cast, Log, OnInit, Probe, alive_tasks, child_pid, settle, wait_until};
use tokio::time::Instant;

fn opts(strategy: Strategy) -> SupervisorOptions {
    SupervisorOptions::new(strategy)
}

fn crash(name: &'static str) {
    gen_server::cast::<Probe>(name, Cast::Crash);
}

#[tokio::test]
async fn core_19_child_spec_defaults_follow_otp() {
    let log = Log::new();
    let spec = ChildSpec::worker::<Probe>(Args::new("a", &log));
    assert_eq!(
        spec.child_id(),
        "Probe",
        "id defaults to the type's own name"
    );
    assert_eq!(spec.restart_type(), Restart::Permanent);
    assert_eq!(spec.shutdown_type(), Shutdown::millis(5000));
    assert_eq!(spec.child_type(), ChildType::Worker);
    let sup = Supervisor::child_spec([], opts(Strategy::OneForOne));
    assert_eq!(sup.child_type(), ChildType::Supervisor);
    assert_eq!(sup.shutdown_type(), Shutdown::Infinity);
    let dynamic = DynamicSupervisor::child_spec(DynamicSupervisorOptions::new());
    assert_eq!(dynamic.child_type(), ChildType::Supervisor);
    assert_eq!(dynamic.shutdown_type(), Shutdown::Infinity);
}

#[tokio::test]
async fn core_20_spec_overrides_replace_the_defaults() {
    let log = Log::new();
    let spec = Probe::spec(Args::new("a", &log))
        .restart(Restart::Transient)
        .shutdown(Shutdown::BrutalKill)
        .id("custom")
        .name("core_20_named");
    assert_eq!(
        (spec.child_id(), spec.restart_type(), spec.shutdown_type()),
        ("custom", Restart::Transient, Shutdown::BrutalKill)
    );
    let sup = Supervisor::start_link([spec], opts(Strategy::OneForOne))
        .await
        .unwrap();
    assert!(whereis(&Name::local("core_20_named")).is_some());
    assert_eq!(
        child_pid(&sup, "custom").await,
        whereis(&Name::local("core_20_named"))
    );
}

#[tokio::test]
async fn core_21_restart_types_decide_what_comes_back() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [
            Probe::spec(Args::new("p", &log)).name("core_21_p"),
            Probe::spec(Args::new("t", &log))
                .name("core_21_t")
                .restart(Restart::Transient),
            Probe::spec(Args::new("x", &log))
                .name("core_21_x")
                .restart(Restart::Temporary),
        ],
        opts(Strategy::OneForOne).max_restarts(10),
    )
    .await
    .unwrap();
    // A permanent child is restarted even after a normal exit.
    gen_server::cast::<Probe>("core_21_p", Cast::Stop(ExitReason::Normal));
    wait_until(|| log.count("init p") == 2).await;
    // A transient child is not restarted after a clean exit, but is after a crash.
    gen_server::cast::<Probe>("core_21_t", Cast::Stop(ExitReason::Shutdown));
    settle().await;
    assert_eq!(child_pid(&sup, "t").await, None);
    assert!(sup.restart_child("t").await.unwrap().is_some());
    crash("core_21_t");
    wait_until(|| log.count("init t") == 3).await;
    // A temporary child is never restarted, and its spec is forgotten.
    crash("core_21_x");
    settle().await;
    assert_eq!(log.count("init x"), 1);
    let ids: Vec<_> = sup
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id.unwrap())
        .collect();
    assert_eq!(ids, ["t", "p"]);
}

#[tokio::test]
async fn core_22_children_start_one_at_a_time_in_list_order() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [
            Probe::spec(Args::new("a", &log).on_init(OnInit::Sleep(Duration::from_millis(5)))),
            Probe::spec(Args::new("b", &log).on_init(OnInit::Ignore)),
            Probe::spec(Args::new("c", &log).on_init(OnInit::Sleep(Duration::from_millis(1)))),
        ],
        opts(Strategy::OneForOne),
    )
    .await
    .unwrap();
    assert_eq!(
        log.entries(),
        ["init a", "init done a", "init b", "init c", "init done c"]
    );
    // `:ignore` keeps the spec without a pid.
    assert_eq!(child_pid(&sup, "b").await, None);
    assert_eq!(sup.count_children().await.unwrap().specs, 3);
}

#[tokio::test]
async fn core_23_a_failed_start_stops_the_started_children_in_reverse() {
    let log = Log::new();
    let result = Supervisor::start_link(
        [
            Probe::spec(Args::new("a", &log)),
            Probe::spec(Args::new("b", &log)),
            Probe::spec(Args::new("c", &log).on_init(OnInit::Stop(ExitReason::error("no db")))),
            Probe::spec(Args::new("d", &log)),
        ],
        opts(Strategy::OneForOne),
    )
    .await;
    assert_eq!(
        result.unwrap_err(),
        StartError::FailedToStartChild {
            id: "c".into(),
            reason: Box::new(StartError::Init(ExitReason::error("no db"))),
        }
    );
    assert_eq!(
        log.entries(),
        [
            "init a",
            "init b",
            "init c",
            "terminate b shutdown",
            "terminate a shutdown"
        ]
    );
    assert_eq!(alive_tasks(), 0);
}

#[tokio::test]
async fn core_24_duplicate_child_ids_fail_the_start_and_start_nothing() {
    let log = Log::new();
    let result = Supervisor::start_link(
        [
            Probe::spec(Args::new("a", &log)),
            Probe::spec(Args::new("b", &log)),
            Probe::spec(Args::new("a", &log)),
        ],
        opts(Strategy::OneForOne),
    )
    .await;
    assert_eq!(
        result.unwrap_err(),
        StartError::DuplicateChildId("a".into())
    );
    assert!(log.entries().is_empty());
}

async fn three(strategy: Strategy, test: &'static str, log: &Log) -> Supervisor {
    let names: [&'static str; 3] = match test {
        "25" => ["core_25_a", "core_25_b", "core_25_c"],
        "26" => ["core_26_a", "core_26_b", "core_26_c"],
        _ => ["core_27_a", "core_27_b", "core_27_c"],
    };
    Supervisor::start_link(
        [
            Probe::spec(Args::new("a", log)).name(names[0]),
            Probe::spec(Args::new("b", log)).name(names[1]),
            Probe::spec(Args::new("c", log)).name(names[2]),
        ],
        opts(strategy),
    )
    .await
    .unwrap()
}

async fn pids(sup: &Supervisor) -> Vec<Option<Pid>> {
    let mut pids = Vec::new();
    for id in ["a", "b", "c"] {
        pids.push(child_pid(sup, id).await);
    }
    pids
}

#[tokio::test]
async fn core_25_one_for_one_restarts_only_the_exited_child() {
    let log = Log::new();
    let sup = three(Strategy::OneForOne, "25", &log).await;
    let before = pids(&sup).await;
    log.clear();
    crash("core_25_b");
    wait_until(|| log.count("init b") == 1).await;
    let after = pids(&sup).await;
    assert_eq!(log.entries(), ["terminate b b crashed", "init b"]);
    assert_eq!((before[0], before[2]), (after[0], after[2]));
    assert_ne!(before[1], after[1]);
}

#[tokio::test]
async fn core_26_one_for_all_stops_the_others_in_reverse_then_starts_all_in_order() {
    let log = Log::new();
    let sup = three(Strategy::OneForAll, "26", &log).await;
    let before = pids(&sup).await;
    log.clear();
    crash("core_26_b");
    wait_until(|| log.count("init c") == 1).await;
    assert_eq!(
        log.entries(),
        [
            "terminate b b crashed",
            "terminate c shutdown",
            "terminate a shutdown",
            "init a",
            "init b",
            "init c"
        ]
    );
    let after = pids(&sup).await;
    assert!(
        before.iter().zip(&after).all(|(b, a)| b != a),
        "every child is new"
    );
}

#[tokio::test]
async fn core_27_rest_for_one_restarts_the_exited_child_and_those_after_it() {
    let log = Log::new();
    let sup = three(Strategy::RestForOne, "27", &log).await;
    let before = pids(&sup).await;
    log.clear();
    crash("core_27_b");
    wait_until(|| log.count("init c") == 1).await;
    assert_eq!(
        log.entries(),
        [
            "terminate b b crashed",
            "terminate c shutdown",
            "init b",
            "init c"
        ]
    );
    let after = pids(&sup).await;
    assert_eq!(before[0], after[0], "a child started before is untouched");
    assert_ne!(before[1], after[1]);
    assert_ne!(before[2], after[2]);
}

#[tokio::test(start_paused = true)]
async fn core_28_the_fourth_restart_within_5_s_shuts_the_supervisor_down() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [
            Probe::spec(Args::new("a", &log)).name("core_28_a"),
            Probe::spec(Args::new("b", &log)).name("core_28_b"),
        ],
        opts(Strategy::OneForOne),
    )
    .await
    .unwrap();
    for n in 1..=3 {
        crash("core_28_a");
        wait_until(|| log.count("init a") == n + 1).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
    // 4.5 s after the first crash: the fourth restart in the window is one too many.
    crash("core_28_a");
    wait_until(|| !sup.is_alive()).await;
    assert_eq!(log.count("init a"), 4);
    assert_eq!(
        log.entries().last().unwrap(),
        "terminate b shutdown",
        "children stopped first"
    );
    assert_eq!(sup.count_children().await, Err(CallError::NoProc));
}

#[tokio::test(start_paused = true)]
async fn core_28_restarts_spread_beyond_the_window_are_allowed() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [Probe::spec(Args::new("a", &log)).name("core_28_spread")],
        opts(Strategy::OneForOne).max_restarts(3).max_seconds(5),
    )
    .await
    .unwrap();
    for n in 1..=10 {
        crash("core_28_spread");
        wait_until(|| log.count("init a") == n + 1).await;
        // Four restarts in any 5 s never happen: one every 2 s is 3 per window at most.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    assert!(sup.is_alive());
}

#[tokio::test(start_paused = true)]
async fn core_29_a_failing_restart_is_retried_and_each_try_counts() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [Probe::spec(Args::new("a", &log).on_init(OnInit::OkOnce)).name("core_29_a")],
        opts(Strategy::OneForOne),
    )
    .await
    .unwrap();
    crash("core_29_a");
    wait_until(|| !sup.is_alive()).await;
    // One start, then exactly 3 restart attempts, as OTP does with the defaults.
    assert_eq!(log.count("init a"), 4);
}

#[tokio::test(start_paused = true)]
async fn core_30_a_supervisor_that_gives_up_escalates_to_its_parent() {
    let log = Log::new();
    let inner = Supervisor::child_spec(
        [Probe::spec(Args::new("w", &log)).name("core_30_w")],
        opts(Strategy::OneForOne).max_restarts(1),
    )
    .id("inner");
    let top = Supervisor::start_link([inner], opts(Strategy::OneForOne).max_restarts(1))
        .await
        .unwrap();
    let first_inner = child_pid(&top, "inner").await.unwrap();
    // Two crashes exceed the inner supervisor's intensity: it exits with shutdown...
    crash("core_30_w");
    wait_until(|| log.count("init w") == 2).await;
    crash("core_30_w");
    // ...and the top supervisor restarts it (a permanent child), with a fresh worker.
    wait_until(|| log.count("init w") == 3).await;
    let second_inner = child_pid(&top, "inner").await.unwrap();
    assert_ne!(first_inner, second_inner);
    // Doing it again exceeds the top supervisor's own intensity: the whole tree goes.
    crash("core_30_w");
    wait_until(|| log.count("init w") == 4).await;
    crash("core_30_w");
    wait_until(|| !top.is_alive()).await;
    assert_eq!(alive_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn core_30_a_transient_supervisor_that_gives_up_is_not_restarted() {
    let log = Log::new();
    let inner = Supervisor::child_spec(
        [Probe::spec(Args::new("w", &log)).name("core_30_t")],
        opts(Strategy::OneForOne).max_restarts(0),
    )
    .id("inner")
    .restart(Restart::Transient);
    let top = Supervisor::start_link([inner], opts(Strategy::OneForOne))
        .await
        .unwrap();
    crash("core_30_t");
    wait_until(|| log.count("terminate w w crashed") == 1).await;
    settle().await;
    assert!(top.is_alive());
    assert_eq!(
        child_pid(&top, "inner").await,
        None,
        "shutdown is a clean exit"
    );
    assert_eq!(log.count("init w"), 1);
}

#[tokio::test(start_paused = true)]
async fn core_31_shutdown_stops_children_in_reverse_each_by_its_shutdown() {
    let log = Log::new();
    let slow = Duration::from_secs(60);
    let sup = Supervisor::start_link(
        [
            Probe::spec(Args::new("inf", &log).terminate_takes(Duration::from_secs(30)))
                .shutdown(Shutdown::Infinity),
            Probe::spec(Args::new("slow", &log).terminate_takes(slow))
                .shutdown(Shutdown::millis(2000)),
            Probe::spec(Args::new("kill", &log).terminate_takes(slow))
                .shutdown(Shutdown::BrutalKill),
            Probe::spec(Args::new("ok", &log).terminate_takes(Duration::from_millis(10))),
        ],
        opts(Strategy::OneForOne),
    )
    .await
    .unwrap();
    log.clear();
    let t0 = Instant::now();
    sup.stop(ExitReason::Shutdown).await.unwrap();
    // ok: 10 ms; kill: at once, no terminate; slow: killed after its 2000 ms; inf: its 30 s.
    assert_eq!(t0.elapsed(), Duration::from_millis(10 + 2000 + 30_000));
    assert_eq!(
        log.entries(),
        ["terminate ok shutdown", "terminate inf shutdown"]
    );
    assert_eq!(alive_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn core_32_no_child_outlives_its_supervisor() {
    let log = Log::new();
    let inner = Supervisor::child_spec(
        [
            Probe::spec(Args::new("i1", &log)),
            Probe::spec(Args::new("i2", &log).terminate_takes(Duration::from_millis(100))),
        ],
        opts(Strategy::OneForAll),
    )
    .id("inner");
    let dynamic =
        DynamicSupervisor::child_spec(DynamicSupervisorOptions::new().name("core_32_dyn"))
            .id("dyn");
    let top = Supervisor::start_link(
        [Probe::spec(Args::new("w", &log)), inner, dynamic],
        opts(Strategy::RestForOne),
    )
    .await
    .unwrap();
    let dyn_sup = DynamicSupervisor::whereis(&Name::local("core_32_dyn")).unwrap();
    for n in 0..5 {
        dyn_sup
            .start_child(ChildSpec::worker::<Probe>(Args::new(
                ["d0", "d1", "d2", "d3", "d4"][n],
                &log,
            )))
            .await
            .unwrap();
    }
    // top, w, inner and its two, the dynamic supervisor and its five
    assert_eq!(alive_tasks(), 1 + 1 + 1 + 2 + 1 + 5);
    top.stop(ExitReason::Shutdown).await.unwrap();
    assert_eq!(
        alive_tasks(),
        0,
        "every task of the tree has ended when stop returns"
    );
    let terminated = log
        .entries()
        .iter()
        .filter(|e| e.starts_with("terminate"))
        .count();
    assert_eq!(terminated, 8, "every terminate ran");
}

#[tokio::test]
async fn core_33_which_children_lists_newest_first_and_count_children_counts() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [
            Probe::spec(Args::new("a", &log)),
            Supervisor::child_spec([], opts(Strategy::OneForOne)).id("s"),
            Probe::spec(Args::new("b", &log).on_init(OnInit::Ignore)),
        ],
        opts(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let children = sup.which_children().await.unwrap();
    let shape: Vec<(String, bool, ChildType)> = children
        .iter()
        .map(
            |ChildInfo {
                 id,
                 pid,
                 child_type,
             }| {
                (
                    id.clone().unwrap().into_owned(),
                    matches!(pid, ChildPid::Running(_)),
                    *child_type,
                )
            },
        )
        .collect();
    assert_eq!(
        shape,
        [
            ("b".to_string(), false, ChildType::Worker),
            ("s".to_string(), true, ChildType::Supervisor),
            ("a".to_string(), true, ChildType::Worker),
        ]
    );
    assert_eq!(children[0].pid, ChildPid::Undefined);
    let count = sup.count_children().await.unwrap();
    assert_eq!(
        count,
        bough_core::ChildCount {
            specs: 3,
            active: 2,
            supervisors: 1,
            workers: 2
        }
    );
}

#[tokio::test]
async fn core_34_terminate_restart_and_delete_child() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [
            Probe::spec(Args::new("a", &log)),
            Probe::spec(Args::new("tmp", &log)).restart(Restart::Temporary),
        ],
        opts(Strategy::OneForOne),
    )
    .await
    .unwrap();
    assert_eq!(sup.restart_child("a").await, Err(ChildError::Running));
    assert_eq!(sup.delete_child("a").await, Err(ChildError::Running));
    assert_eq!(sup.terminate_child("a").await, Ok(()));
    assert_eq!(log.entries().last().unwrap(), "terminate a shutdown");
    assert_eq!(
        sup.terminate_child("a").await,
        Ok(()),
        "terminating a stopped child is ok"
    );
    assert_eq!(child_pid(&sup, "a").await, None);
    let pid = sup.restart_child("a").await.unwrap().unwrap();
    assert_eq!(child_pid(&sup, "a").await, Some(pid));
    sup.terminate_child("a").await.unwrap();
    assert_eq!(sup.delete_child("a").await, Ok(()));
    assert_eq!(sup.delete_child("a").await, Err(ChildError::NotFound));
    assert_eq!(sup.restart_child("a").await, Err(ChildError::NotFound));
    assert_eq!(sup.terminate_child("a").await, Err(ChildError::NotFound));
    // A temporary child's spec goes with it.
    assert_eq!(sup.terminate_child("tmp").await, Ok(()));
    assert_eq!(sup.restart_child("tmp").await, Err(ChildError::NotFound));
    assert_eq!(sup.count_children().await.unwrap().specs, 0);
}

#[tokio::test(start_paused = true)]
async fn core_34_a_child_being_restarted_cannot_be_restarted_or_deleted() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [Probe::spec(Args::new("a", &log).on_init(OnInit::OkOnce)).name("core_34_r")],
        // Every failed try is retried at once and counts: allow plenty to look at it meanwhile.
        opts(Strategy::OneForOne).max_restarts(100_000),
    )
    .await
    .unwrap();
    crash("core_34_r");
    wait_until(|| log.count("init a") >= 3).await;
    assert_eq!(child_pid(&sup, "a").await, None);
    let children = sup.which_children().await.unwrap();
    assert_eq!(children[0].pid, ChildPid::Restarting);
    assert_eq!(sup.restart_child("a").await, Err(ChildError::Restarting));
    assert_eq!(sup.delete_child("a").await, Err(ChildError::Restarting));
    // Terminating it stops the retries.
    sup.terminate_child("a").await.unwrap();
    let tries = log.count("init a");
    settle().await;
    assert_eq!(log.count("init a"), tries);
    assert_eq!(sup.delete_child("a").await, Ok(()));
}

#[tokio::test]
async fn core_35_start_child_adds_a_child_at_the_end() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [Probe::spec(Args::new("a", &log))],
        opts(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let pid = sup
        .start_child(Probe::spec(Args::new("b", &log)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(child_pid(&sup, "b").await, Some(pid));
    assert_eq!(
        sup.start_child(Probe::spec(Args::new("b", &log))).await,
        Err(StartError::AlreadyStarted(pid))
    );
    sup.terminate_child("b").await.unwrap();
    assert_eq!(
        sup.start_child(Probe::spec(Args::new("b", &log))).await,
        Err(StartError::AlreadyPresent)
    );
    assert_eq!(
        sup.start_child(Probe::spec(Args::new("c", &log).on_init(OnInit::Ignore)))
            .await,
        Ok(None),
        "{{:ok, :undefined}}, and the spec is kept"
    );
    assert_eq!(sup.count_children().await.unwrap().specs, 3);
    let failed = sup
        .start_child(Probe::spec(
            Args::new("d", &log).on_init(OnInit::Stop(ExitReason::error("no"))),
        ))
        .await;
    assert_eq!(failed, Err(StartError::Init(ExitReason::error("no"))));
    assert_eq!(
        sup.count_children().await.unwrap().specs,
        3,
        "a failed child is not added"
    );
    // Children are still called through their names and pids.
    let _ = Call::Ping;
}

/// Item 57: a killed supervisor's children get the `killed` exit signal through their link
/// instead of being aborted: a worker runs `terminate(killed)`, a child supervisor shuts its
/// own children down in order, and the kill is over only when nothing of the subtree runs.
#[tokio::test(start_paused = true)]
async fn core_57_a_killed_supervisor_sends_its_children_killed() {
    let log = Log::new();
    let inner = Supervisor::child_spec(
        [
            Probe::spec(Args::new("i1", &log)),
            DynamicSupervisor::child_spec(
                DynamicSupervisorOptions::new().name("core_57_killed_dyn"),
            )
            .id("dyn"),
        ],
        opts(Strategy::OneForOne),
    )
    .id("inner")
    .shutdown(Shutdown::BrutalKill);
    let top = Supervisor::start_link([inner], opts(Strategy::OneForOne))
        .await
        .unwrap();
    let dynamic = DynamicSupervisor::whereis(&Name::local("core_57_killed_dyn")).unwrap();
    for tag in ["d1", "d2", "d3"] {
        dynamic
            .start_child(ChildSpec::worker::<Probe>(Args::new(tag, &log)))
            .await
            .unwrap();
    }
    assert_eq!(alive_tasks(), 1 + 1 + 1 + 1 + 3);
    top.terminate_child("inner").await.unwrap();
    assert_eq!(alive_tasks(), 1, "only the top supervisor is left");
    let mut ends: Vec<String> = log
        .entries()
        .into_iter()
        .filter(|e| e.starts_with("terminate"))
        .collect();
    ends.sort();
    assert_eq!(
        ends,
        [
            "terminate d1 shutdown",
            "terminate d2 shutdown",
            "terminate d3 shutdown",
            "terminate i1 killed"
        ]
    );
    top.stop(ExitReason::Normal).await.unwrap();
}

/// A brutal kill aborts the child's task mid-call. In order: the waiting caller learns
/// `killed` (not "no reply"), the state is dropped while the name is still held, and the
/// name is released; `terminate` does not run.
#[tokio::test(start_paused = true)]
async fn a_brutal_kill_fails_the_caller_then_drops_the_state_then_frees_the_name() {
    use std::sync::{Arc, Mutex};

    #[derive(Default, Debug, PartialEq)]
    struct Seen {
        name_held_at_drop: Option<bool>,
        terminated: bool,
    }
    struct Stuck(Arc<Mutex<Seen>>);
    impl Drop for Stuck {
        fn drop(&mut self) {
            let held = whereis(&Name::local("core_stuck")).is_some();
            self.0.lock().unwrap().name_held_at_drop = Some(held);
        }
    }
    impl GenServer for Stuck {
        type Args = Arc<Mutex<Seen>>;
        type Call = ();
        type Reply = ();
        type Cast = Never;
        type Info = Never;
        type Continue = Never;
        async fn init(seen: Arc<Mutex<Seen>>) -> Init<Self> {
            Init::Ok(Stuck(seen))
        }
        async fn handle_call(&mut self, _: (), _: ReplyTo<()>) -> Reply<Self> {
            std::future::pending().await
        }
        async fn terminate(&mut self, _: &ExitReason) {
            self.0.lock().unwrap().terminated = true;
        }
    }

    let seen = Arc::new(Mutex::new(Seen::default()));
    let sup = Supervisor::start_link(
        [ChildSpec::worker::<Stuck>(seen.clone())
            .id("stuck")
            .name("core_stuck")
            .shutdown(Shutdown::BrutalKill)],
        opts(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let caller = tokio::spawn(gen_server::call::<Stuck>("core_stuck", ()));
    settle().await;
    sup.terminate_child("stuck").await.unwrap();
    assert_eq!(
        caller.await.unwrap(),
        Err(CallError::Exited(ExitReason::Killed))
    );
    assert_eq!(
        *seen.lock().unwrap(),
        Seen {
            name_held_at_drop: Some(true),
            terminated: false
        }
    );
    assert!(whereis(&Name::local("core_stuck")).is_none());
    assert_eq!(alive_tasks(), 1, "only the supervisor is left");
    sup.stop(ExitReason::Shutdown).await.unwrap();
}
