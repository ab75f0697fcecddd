//! Names: items 47–51 of `docs/semantics.md`.

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use bough_core::prelude::*;
use common::{Args, Call, Cast, Log, Probe, settle, wait_until};

#[tokio::test]
async fn core_47_a_second_start_under_a_taken_name_gets_already_started() {
    let log = Log::new();
    let options = StartOptions::new().name("core_47");
    let first = gen_server::start_link_with::<Probe>(Args::new("a", &log), options.clone())
        .await
        .unwrap();
    let second = gen_server::start_link_with::<Probe>(Args::new("b", &log), options).await;
    assert_eq!(second.unwrap_err(), StartError::AlreadyStarted(first.pid()));
    assert_eq!(log.count("init b"), 0, "the loser's init never ran");
}

async fn race(round: usize, through: Option<&DynamicSupervisor>, log: &Log) -> (Pid, usize) {
    let name = Name::from(format!("core_48_race_{round}"));
    let barrier = Arc::new(tokio::sync::Barrier::new(64));
    let starts: Vec<_> = (0..64)
        .map(|_| {
            let (name, barrier, log, sup) =
                (name.clone(), barrier.clone(), log.clone(), through.cloned());
            tokio::spawn(async move {
                barrier.wait().await;
                let args = Args::new("racer", &log);
                match sup {
                    Some(sup) => {
                        sup.start_child(ChildSpec::worker::<Probe>(args).name(name))
                            .await
                    }
                    None => {
                        gen_server::start_link_with::<Probe>(args, StartOptions::new().name(name))
                            .await
                            .map(|server| server.pid())
                    }
                }
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut holders = HashSet::new();
    for start in starts {
        match start.await.unwrap() {
            Ok(pid) => winners.push(pid),
            Err(StartError::AlreadyStarted(pid)) => {
                holders.insert(pid);
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "round {round}: exactly one start wins");
    assert_eq!(
        holders,
        HashSet::from([winners[0]]),
        "round {round}: every loser names the winner"
    );
    (winners[0], 63)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_48_of_64_concurrent_starts_under_one_name_exactly_one_starts() {
    let log = Log::new();
    for round in 0..200 {
        let (pid, _) = race(round, None, &log).await;
        let server =
            Server::<Probe>::whereis(&Name::from(format!("core_48_race_{round}"))).unwrap();
        assert_eq!(server.pid(), pid);
        server.stop(ExitReason::Normal).await.unwrap();
    }
    assert_eq!(log.count("init racer"), 200, "init ran once per round");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_48_start_or_get_through_a_dynamic_supervisor_is_race_free() {
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    for round in 1000..1200 {
        let (pid, _) = race(round, Some(&sup), &log).await;
        sup.terminate_child(pid).await.unwrap();
    }
    assert_eq!(log.count("init racer"), 200);
    assert_eq!(sup.count_children().await.unwrap().active, 0);
}

#[tokio::test]
async fn core_49_a_name_is_released_when_its_process_exits() {
    let log = Log::new();
    let name = Name::local("core_49");
    // Stopped.
    let server =
        gen_server::start_link_with::<Probe>(Args::new("a", &log), StartOptions::new().name(&name))
            .await
            .unwrap();
    server.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(whereis(&name), None);
    // Crashed.
    let server =
        gen_server::start_link_with::<Probe>(Args::new("b", &log), StartOptions::new().name(&name))
            .await
            .unwrap();
    server.cast(Cast::Crash);
    wait_until(|| whereis(&name).is_none()).await;
    // Killed by its supervisor, and taken again by its restart.
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    let pid = sup
        .start_child(
            ChildSpec::worker::<Probe>(Args::new("c", &log))
                .name(&name)
                .shutdown(Shutdown::BrutalKill),
        )
        .await
        .unwrap();
    assert_eq!(whereis(&name), Some(pid));
    sup.terminate_child(pid).await.unwrap();
    assert_eq!(
        whereis(&name),
        None,
        "free as soon as terminate_child returns"
    );
    let again = sup
        .start_child(ChildSpec::worker::<Probe>(Args::new("d", &log)).name(&name))
        .await
        .unwrap();
    gen_server::cast::<Probe>(&name, Cast::Crash);
    wait_until(|| whereis(&name).is_some_and(|p| p != again)).await;
}

#[tokio::test]
async fn core_50_calls_and_casts_take_names_and_whereis_finds_them() {
    let log = Log::new();
    let server = gen_server::start_link_with::<Probe>(
        Args::new("a", &log),
        StartOptions::new().name("core_50"),
    )
    .await
    .unwrap();
    assert_eq!(whereis(&Name::local("core_50")), Some(server.pid()));
    assert_eq!(
        Server::<Probe>::whereis(&"core_50".into()),
        Some(server.clone())
    );
    assert_eq!(
        gen_server::call::<Probe>("core_50", Call::Ping)
            .await
            .unwrap(),
        "pong a"
    );
    gen_server::cast::<Probe>("core_50", Cast::Record("cast by name".into()));
    gen_server::send::<Probe>("core_50", "sent by name".into());
    settle().await;
    assert_eq!(log.entries()[1..], ["cast by name", "info sent by name"]);
    // Supervisors are found by name too.
    let sup = Supervisor::start_link(
        [],
        SupervisorOptions::new(Strategy::OneForOne).name("core_50_sup"),
    )
    .await
    .unwrap();
    assert_eq!(Supervisor::whereis(&"core_50_sup".into()), Some(sup));
    assert_eq!(
        DynamicSupervisor::whereis(&"core_50_sup".into()),
        None,
        "not a dynamic one"
    );
}

#[tokio::test]
async fn core_51_a_registry_names_processes_by_any_key() {
    let log = Log::new();
    let sessions: Registry<(u32, &'static str)> = Registry::new();
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    for user in 0..10 {
        let spec = ChildSpec::worker::<Probe>(Args::new("session", &log))
            .name(sessions.name((user, "eu")));
        sup.start_child(spec).await.unwrap();
    }
    assert_eq!(sessions.count(), 10);
    let again =
        ChildSpec::worker::<Probe>(Args::new("session", &log)).name(sessions.name((3, "eu")));
    let holder = sessions.whereis(&(3, "eu")).unwrap();
    assert_eq!(
        sup.start_child(again).await,
        Err(StartError::AlreadyStarted(holder))
    );
    let reply = gen_server::call::<Probe>(sessions.name((3, "eu")), Call::Ping)
        .await
        .unwrap();
    assert_eq!(reply, "pong session");
    sup.stop(ExitReason::Shutdown).await.unwrap();
    assert_eq!(sessions.count(), 0, "every name was released");
}
