//! Faults found by attacking bough (issue 12), each pinned by a test named after it.

mod common;

use std::time::Duration;

use bough_core::Timeout;
use bough_core::prelude::*;
use common::{Args, Call, Log, OnInit, Probe, alive_tasks, settle};

/// 1: a middle supervisor killed while it stops a child whose `terminate` never ends left
/// that child (and, for a dynamic middle, all its children) running with their names, so
/// the same tree could not start again.
#[tokio::test(start_paused = true)]
async fn fault_01_no_orphans_after_a_killed_middle_supervisor() {
    for dynamic in [false, true] {
        let log = Log::new();
        let worker = |i: usize| {
            let spec = Probe::spec(Args::new("w", &log)).id(format!("w{i}"));
            let spec = if i == 0 {
                // Stopped first by a static middle, and never done.
                spec.shutdown(Shutdown::millis(10_000))
            } else {
                spec
            };
            spec.name(format!("fault_01_{dynamic}_{i}"))
        };
        let stuck = |i: usize| {
            let mut spec = worker(i);
            spec = ChildSpec::worker::<Probe>(
                Args::new("stuck", &log).terminate_takes(Duration::from_secs(3600)),
            )
            .id(format!("w{i}"))
            .name(format!("fault_01_{dynamic}_{i}"))
            .shutdown(spec.shutdown_type());
            spec
        };
        let tree = || {
            let middle = if dynamic {
                DynamicSupervisor::child_spec(
                    DynamicSupervisorOptions::new().name(format!("fault_01_mid_{dynamic}")),
                )
            } else {
                let mut children = vec![stuck(0)];
                children.extend((1..100).map(worker));
                Supervisor::child_spec(children, SupervisorOptions::default())
            }
            .shutdown(Shutdown::millis(100));
            Supervisor::start_link([middle], SupervisorOptions::default())
        };
        for round in 0..2 {
            let top = tree()
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            if dynamic {
                let mid =
                    DynamicSupervisor::whereis(&Name::local(format!("fault_01_mid_{dynamic}")))
                        .unwrap();
                mid.start_child(stuck(0)).await.unwrap();
                for i in 1..100 {
                    mid.start_child(worker(i)).await.unwrap();
                }
            }
            assert_eq!(alive_tasks(), 102);
            top.stop(ExitReason::Shutdown).await.unwrap();
            assert_eq!(alive_tasks(), 0, "dynamic middle: {dynamic}, round {round}");
            for i in 0..100 {
                assert_eq!(
                    whereis(&Name::local(format!("fault_01_{dynamic}_{i}"))),
                    None
                );
            }
        }
    }
}

/// 2: `Duration::MAX` as a call time-out or a shutdown time panicked ("overflow when adding
/// duration to instant"). Any duration works; one too long to represent means "never".
#[tokio::test(start_paused = true)]
async fn fault_02_duration_max_works_everywhere() {
    let log = Log::new();
    let sup = Supervisor::start_link(
        [
            Probe::spec(Args::new("p", &log).terminate_takes(Duration::from_millis(10)))
                .shutdown(Shutdown::Timeout(Duration::MAX)),
        ],
        SupervisorOptions::default().period(Duration::MAX),
    )
    .await
    .unwrap();
    let p = Server::<Probe>::from_pid(common::child_pid(&sup, "p").await.unwrap()).unwrap();
    // Busy for a while, so the call's timer is armed.
    let busy = tokio::spawn({
        let p = p.clone();
        async move { p.call(Call::Sleep(Duration::from_millis(50))).await }
    });
    settle().await;
    let answer = p.call_timeout(Call::Ping, Duration::MAX).await;
    assert_eq!(answer, Ok("pong p".to_string()));
    busy.await.unwrap().unwrap();
    assert_eq!(
        p.stop_timeout(ExitReason::Normal, Duration::MAX).await,
        Ok(())
    );
    sup.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(alive_tasks(), 0);
}

/// 3: a call behind a long queue of quick messages (none of which awaits) missed its
/// time-out and returned `Ok` seconds later. The call is now armed as it is queued.
#[test]
fn fault_03_a_call_times_out_behind_a_queue_of_quick_messages() {
    for flavor in ["current_thread", "multi_thread"] {
        let runtime = match flavor {
            "current_thread" => tokio::runtime::Builder::new_current_thread(),
            _ => tokio::runtime::Builder::new_multi_thread(),
        }
        .enable_all()
        .build()
        .unwrap();
        runtime.block_on(async {
            let log = Log::new();
            let p = gen_server::start_link::<Probe>(Args::new("p", &log))
                .await
                .unwrap();
            // 300 messages of 1 ms each: the call cannot be answered within 20 ms.
            for _ in 0..300 {
                p.cast(common::Cast::Block(Duration::from_millis(1)));
            }
            let answer = p.call_timeout(Call::Ping, Duration::from_millis(20)).await;
            assert_eq!(answer, Err(CallError::Timeout), "{flavor}");
            p.stop(ExitReason::Normal).await.unwrap();
        });
    }
}

/// 5: a child whose state panics when dropped, stopped by a brutal kill or after its
/// shutdown time, made its supervisor wait forever.
#[tokio::test(start_paused = true)]
async fn fault_05_a_panic_in_a_killed_childs_drop_still_ends_it() {
    for shutdown in [Shutdown::BrutalKill, Shutdown::millis(10)] {
        let log = Log::new();
        let child = ChildSpec::worker::<Probe>(
            Args::new("bomb", &log)
                .panic_on_drop()
                .terminate_takes(Duration::from_secs(60)),
        )
        .shutdown(shutdown);
        let sup = Supervisor::start_link([child.clone()], SupervisorOptions::default())
            .await
            .unwrap();
        sup.stop(ExitReason::Shutdown).await.unwrap();
        let dynamic = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
            .await
            .unwrap();
        dynamic.start_child(child).await.unwrap();
        dynamic.stop(ExitReason::Shutdown).await.unwrap();
        assert_eq!(alive_tasks(), 0);
    }
    // A panicking drop after a normal stop, too.
    let log = Log::new();
    let p = gen_server::start_link::<Probe>(Args::new("bomb", &log).panic_on_drop())
        .await
        .unwrap();
    assert_eq!(p.stop(ExitReason::Normal).await, Ok(()));
}

/// 6: a call whose `ReplyTo` was handed to another task never learned that the server
/// exited. (The same fault with `Timeout::Infinity` is core_53 in tests/process.rs.)
#[tokio::test(start_paused = true)]
async fn fault_06_a_call_learns_of_the_exit_whoever_holds_its_reply_to() {
    let log = Log::new();
    let p = gen_server::start_link::<Probe>(Args::new("p", &log))
        .await
        .unwrap();
    let waiting = tokio::spawn({
        let p = p.clone();
        async move {
            p.call_timeout(Call::HandOff, Timeout::After(Duration::from_secs(3600)))
                .await
        }
    });
    settle().await;
    p.stop(ExitReason::error("gone")).await.unwrap();
    let started = tokio::time::Instant::now();
    assert_eq!(
        waiting.await.unwrap(),
        Err(CallError::Exited(ExitReason::error("gone")))
    );
    assert_eq!(started.elapsed(), Duration::ZERO);
}

/// 8: a zero time-out now fails unless the answer is there at once, as OTP's `after 0`.
#[tokio::test(start_paused = true)]
async fn fault_08_a_zero_call_time_out_is_otps() {
    let log = Log::new();
    let p = gen_server::start_link::<Probe>(Args::new("p", &log))
        .await
        .unwrap();
    assert_eq!(
        p.call_timeout(Call::Ping, Duration::ZERO).await,
        Err(CallError::Timeout)
    );
    settle().await;
    assert_eq!(
        p.call(Call::Ping).await,
        Ok("pong p".to_string()),
        "still runs"
    );
}

/// 10: under a DynamicSupervisor, a child whose restart keeps failing could not be
/// terminated: OTP keeps it under its last pid and terminates it.
#[tokio::test(start_paused = true)]
async fn fault_10_a_child_waiting_to_restart_can_be_terminated() {
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new().max_restarts(u32::MAX))
        .await
        .unwrap();
    let pid = sup
        .start_child(Probe::spec(Args::new("once", &log).on_init(OnInit::OkOnce)))
        .await
        .unwrap();
    let other = sup
        .start_child(Probe::spec(Args::new("other", &log)))
        .await
        .unwrap();
    Server::<Probe>::from_pid(pid)
        .unwrap()
        .cast(common::Cast::Crash);
    settle().await;
    let restarting = sup.which_children().await.unwrap();
    assert!(restarting.iter().any(|c| c.pid == ChildPid::Restarting));
    assert_eq!(sup.terminate_child(pid).await, Ok(()));
    let count = sup.count_children().await.unwrap();
    assert_eq!((count.specs, count.active), (1, 1));
    assert_eq!(sup.terminate_child(pid).await, Err(ChildError::NotFound));
    assert!(process::is_alive(other));
}

/// 11: invalid supervisor options were accepted (a zero period, whose intensity could
/// never trip). OTP refuses `{:invalid_period, 0}`.
#[tokio::test(start_paused = true)]
async fn fault_11_a_zero_period_is_refused() {
    let zero = SupervisorOptions::default().max_seconds(0);
    assert!(matches!(
        Supervisor::start_link([], zero.clone()).await,
        Err(StartError::InvalidOption(_))
    ));
    assert!(matches!(
        DynamicSupervisor::start_link(DynamicSupervisorOptions::new().max_seconds(0)).await,
        Err(StartError::InvalidOption(_))
    ));
    let nested = Supervisor::start_link(
        [Supervisor::child_spec([], zero).id("inner")],
        SupervisorOptions::default(),
    )
    .await;
    assert!(matches!(
        nested,
        Err(StartError::FailedToStartChild { reason, .. }) if matches!(*reason, StartError::InvalidOption(_))
    ));
    assert_eq!(
        StartError::InvalidOption("x").to_string(),
        "invalid supervisor option: x"
    );
}

/// 12: two named DynamicSupervisors under one supervisor failed with a duplicate id; as
/// in Elixir, a named one takes its id from its name.
#[tokio::test(start_paused = true)]
async fn fault_12_a_named_supervisors_default_id_is_its_name() {
    let a = DynamicSupervisor::child_spec(DynamicSupervisorOptions::new().name("fault_12_a"));
    let b = DynamicSupervisor::child_spec(DynamicSupervisorOptions::new().name("fault_12_b"));
    let c = Supervisor::child_spec([], SupervisorOptions::default().name("fault_12_c"));
    assert_eq!(a.child_id(), "fault_12_a");
    assert_eq!(c.child_id(), "fault_12_c");
    let unnamed = DynamicSupervisor::child_spec(DynamicSupervisorOptions::new());
    assert_eq!(unnamed.child_id(), "DynamicSupervisor");
    let sup = Supervisor::start_link([a, b, c], SupervisorOptions::default())
        .await
        .unwrap();
    assert_eq!(sup.count_children().await.unwrap().supervisors, 3);
    sup.stop(ExitReason::Normal).await.unwrap();
}
