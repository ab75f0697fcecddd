//! PartitionSupervisor: item 63 of otp-semantics.md.

use std::collections::HashSet;

use bough_core::prelude::*;
use bough_core::{ByHash, PartitionKey};

/// A partition that knows its index.
struct Part(usize);

impl GenServer for Part {
    type Args = usize;
    type Call = ();
    type Reply = usize;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init(index: usize) -> Init<Self> {
        Init::Ok(Part(index))
    }

    async fn handle_call(&mut self, _: (), _: ReplyTo<usize>) -> Reply<Self> {
        Reply::Reply(self.0)
    }
}

/// An idle worker to start under dynamic partitions.
struct Idle;

impl GenServer for Idle {
    type Args = ();
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Idle)
    }
}

fn dynamic_partitions(n: usize) -> PartitionSupervisorOptions {
    PartitionSupervisorOptions::new(DynamicSupervisor::child_spec(
        DynamicSupervisorOptions::new(),
    ))
    .partitions(n)
}

async fn part_partitions(n: usize) -> PartitionSupervisor {
    let options =
        PartitionSupervisorOptions::per_partition(ChildSpec::worker::<Part>).partitions(n);
    PartitionSupervisor::start_link(options).await.unwrap()
}

#[tokio::test]
async fn core_63_integer_keys_route_to_the_remainder_of_their_absolute_value() {
    let parts = part_partitions(4).await;
    assert_eq!(parts.partitions(), 4);
    for (key, expected) in [
        (0i64, 0),
        (1, 1),
        (4, 0),
        (7, 3),
        (-5, 1),
        (-8, 0),
        (i64::MIN, 0),
    ] {
        assert_eq!(parts.partition(&key), expected, "key {key}");
        let answer = gen_server::call::<Part>(parts.name(&key), ())
            .await
            .unwrap();
        assert_eq!(answer, expected, "key {key} reached partition {answer}");
    }
    // By index: the keys 0..n name the partitions, whatever their integer type.
    for index in 0..4u8 {
        let server = parts.server::<Part, _>(&index).unwrap();
        assert_eq!(server.call(()).await.unwrap(), usize::from(index));
    }
    parts.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn core_63_other_keys_route_by_a_fixed_hash() {
    let parts = part_partitions(5).await;
    let mut reached = HashSet::new();
    for user in 0..200 {
        let key = format!("user-{user}");
        let expected = key.partition(5);
        assert_eq!(parts.partition(&key), expected);
        assert_eq!(
            parts.partition(key.as_str()),
            expected,
            "str and String agree"
        );
        let answer = parts
            .server::<Part, _>(&key)
            .unwrap()
            .call(())
            .await
            .unwrap();
        assert_eq!(answer, expected);
        reached.insert(answer);
    }
    assert_eq!(reached.len(), 5, "string keys reach every partition");
    // Any hashable key, through `ByHash`; the same key always goes to the same place.
    let key = ByHash(("tenant", 42u32));
    assert_eq!(
        parts.partition(&key),
        parts.partition(&ByHash(("tenant", 42u32)))
    );
    let me = Pid::from_raw(12345);
    assert_eq!(parts.partition(&me), me.partition(5));
    parts.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_63_children_start_through_the_partition_of_their_key() {
    let parts = PartitionSupervisor::start_link(dynamic_partitions(3))
        .await
        .unwrap();
    let callers: Vec<_> = (0..6u64)
        .map(|caller| {
            let parts = parts.clone();
            tokio::spawn(async move {
                let mut pids = Vec::new();
                for _ in 0..20 {
                    pids.push(
                        parts
                            .start_child(&caller, ChildSpec::worker::<Idle>(()))
                            .await
                            .unwrap(),
                    );
                }
                (caller, pids)
            })
        })
        .collect();
    for caller in callers {
        let (key, pids) = caller.await.unwrap();
        let under = parts.dynamic(&key).unwrap();
        let children: HashSet<Pid> = under
            .which_children()
            .await
            .unwrap()
            .iter()
            .filter_map(|c| c.pid.pid())
            .collect();
        assert!(
            pids.iter().all(|pid| children.contains(pid)),
            "caller {key}'s children are under partition {}",
            parts.partition(&key)
        );
    }
    for index in 0..3usize {
        let count = parts
            .dynamic(&index)
            .unwrap()
            .count_children()
            .await
            .unwrap();
        assert_eq!(count.active, 40, "two callers per partition, 20 each");
    }
    let partitions = parts.count_children().await.unwrap();
    assert_eq!(
        (partitions.specs, partitions.active, partitions.supervisors),
        (3, 3, 3)
    );
    let mut ids: Vec<_> = parts
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.id.unwrap().into_owned(), c.child_type))
        .collect();
    ids.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        ids,
        [
            ("0".to_string(), ChildType::Supervisor),
            ("1".to_string(), ChildType::Supervisor),
            ("2".to_string(), ChildType::Supervisor)
        ]
    );
    let everything: Vec<Pid> = (0..3usize)
        .map(|i| parts.dynamic(&i).unwrap().pid())
        .collect();
    parts.stop(ExitReason::Shutdown).await.unwrap();
    for pid in everything {
        assert!(
            !process::is_alive(pid),
            "a partition outlived its supervisor"
        );
    }
}

#[tokio::test]
async fn core_63_a_killed_partition_comes_back_empty_and_routing_follows_it() {
    let parts = PartitionSupervisor::start_link(dynamic_partitions(2))
        .await
        .unwrap();
    for _ in 0..5 {
        parts
            .start_child(&1, ChildSpec::worker::<Idle>(()))
            .await
            .unwrap();
    }
    let old = parts.dynamic(&1).unwrap();
    let other = parts.dynamic(&0).unwrap();
    assert_eq!(old.count_children().await.unwrap().active, 5);
    let child = old.which_children().await.unwrap()[0].pid.pid().unwrap();
    let child_down = process::monitor(child);
    process::kill(old.pid());
    assert_eq!(old.monitor().await, ExitReason::Killed);
    assert_eq!(
        child_down.await,
        ExitReason::Killed,
        "its children went with it"
    );
    // Until its restart is done, the partition's name still finds the dead process.
    let new = loop {
        match parts.dynamic(&1) {
            Ok(new) if new.pid() != old.pid() => break new,
            _ => tokio::task::yield_now().await,
        }
    };
    assert_eq!(new.count_children().await.unwrap().active, 0, "back empty");
    assert_eq!(whereis(&parts.name(&1)), Some(new.pid()));
    assert_eq!(
        parts.dynamic(&0).unwrap(),
        other,
        "the other partition ran on"
    );
    parts
        .start_child(&1, ChildSpec::worker::<Idle>(()))
        .await
        .unwrap();
    parts.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn core_63_mistakes_are_errors() {
    assert_eq!(
        PartitionSupervisor::start_link(dynamic_partitions(0))
            .await
            .unwrap_err(),
        StartError::InvalidOption("a partition supervisor needs at least one partition")
    );
    // Partitions cannot share a name: each starts without the spec's.
    let named = PartitionSupervisorOptions::new(ChildSpec::worker::<Idle>(()).name("core_63_one"))
        .partitions(2);
    let named = PartitionSupervisor::start_link(named).await.unwrap();
    assert_eq!(whereis(&Name::local("core_63_one")), None);
    assert_ne!(whereis(&named.name(&0)), whereis(&named.name(&1)));
    named.stop(ExitReason::Shutdown).await.unwrap();
    let parts = part_partitions(2).await;
    assert!(matches!(
        parts.dynamic(&0),
        Err(CallError::WrongType {
            expected: "DynamicSupervisor",
            ..
        })
    ));
    assert!(matches!(
        parts.server::<Idle, _>(&0),
        Err(CallError::WrongType { .. })
    ));
    // A partition's name finds the partition; it cannot name a new process.
    let start = gen_server::start_link_with::<Idle>((), StartOptions::new().name(parts.name(&0)));
    assert!(matches!(start.await, Err(StartError::InvalidOption(_))));
    assert_eq!(parts.name(&3).to_string(), "{via, partition 1}");
    parts.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn core_63_under_a_supervisor_found_by_name_with_one_partition_per_core() {
    let default = PartitionSupervisorOptions::new(DynamicSupervisor::child_spec(
        DynamicSupervisorOptions::new(),
    ))
    .name("core_63_jobs");
    let top = Supervisor::start_link(
        [PartitionSupervisor::child_spec(default)],
        SupervisorOptions::new(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let count = top.count_children().await.unwrap();
    assert_eq!((count.active, count.supervisors), (1, 1));
    let jobs = PartitionSupervisor::whereis(&Name::local("core_63_jobs")).unwrap();
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(jobs.partitions(), cores);
    let pid = jobs
        .start_child(&"some user", ChildSpec::worker::<Idle>(()))
        .await
        .unwrap();
    let partition = jobs.dynamic(&"some user").unwrap();
    assert_eq!(
        partition.which_children().await.unwrap()[0].pid.pid(),
        Some(pid)
    );
    assert_eq!(PartitionSupervisor::whereis(&Name::local("nobody")), None);
    top.stop(ExitReason::Shutdown).await.unwrap();
    assert!(!process::is_alive(pid));
    assert_eq!(
        PartitionSupervisor::whereis(&Name::local("core_63_jobs")),
        None
    );
}
