//! One instance against a real etcd on loopback: concurrent local callers share one
//! campaign, a child's exit frees its name, `close` hands names over at once. Skipped
//! without etcd, unless `BOUGH_REQUIRE_ETCD=1`.

mod support;

use std::time::Duration;

use bough::prelude::*;
use bough_etcd::{
    BackendError, ClusterNames, ClusterStartError, ConnectError, EtcdBackend, EtcdConfigError,
    EtcdOptions, Fence, Owner,
};
use support::{Etcd, unique_prefix};

/// Holds a name until told to stop; the token its spec got is its state.
struct Holder(u64);

impl GenServer for Holder {
    type Args = Fence;
    type Call = ();
    type Reply = u64;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init(fence: Fence) -> Init<Self> {
        Init::Ok(Holder(fence.token()))
    }

    async fn handle_call(&mut self, (): (), _from: ReplyTo<u64>) -> Reply<Self> {
        Reply::Reply(self.0)
    }
}

async fn names(etcd: &Etcd, prefix: &str, instance: &str) -> ClusterNames<EtcdBackend> {
    let options = EtcdOptions::new([etcd.endpoint.clone()], instance)
        .prefix(prefix)
        .ttl(Duration::from_secs(10));
    ClusterNames::new(EtcdBackend::connect(options).await.expect("connect"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_callers_share_one_campaign_and_the_name_goes_with_the_child() {
    let Some(etcd) = Etcd::any("local") else {
        return;
    };
    let prefix = unique_prefix("local");
    let names = names(&etcd, &prefix, "only").await;
    let supervisor = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .expect("a dynamic supervisor");
    let callers: Vec<_> = (0..8)
        .map(|_| {
            let names = names.clone();
            let supervisor = supervisor.clone();
            tokio::spawn(async move {
                names
                    .start_child(&supervisor, "loader", ChildSpec::worker::<Holder>)
                    .await
            })
        })
        .collect();
    let mut started = Vec::new();
    let mut shared = Vec::new();
    for caller in callers {
        match caller.await.expect("a caller") {
            Ok(owner) => started.push(owner),
            Err(ClusterStartError::AlreadyStarted(Owner::Local(owner))) => shared.push(owner),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(started.len(), 1, "one start");
    assert!(shared.iter().all(|owner| *owner == started[0]));
    let owner = started.remove(0);
    assert_eq!(supervisor.count_children().await.expect("count").active, 1);
    let server = Server::<Holder>::from_pid(owner.pid).expect("a Holder");
    assert_eq!(server.call(()).await, Ok(owner.fence.token()));
    assert_eq!(
        names.whereis("loader").await.expect("etcd answers"),
        Some(Owner::Local(owner.clone()))
    );
    // Another instance sees this one as the owner.
    let other = names_other(&etcd, &prefix).await;
    match other.whereis("loader").await.expect("etcd answers") {
        Some(Owner::Remote(remote)) => {
            assert_eq!(remote.instance, "only");
            assert_eq!(remote.token, owner.fence.token());
        }
        found => panic!("expected a remote owner, got {found:?}"),
    }

    // The child exits: its name is free again, and the next start gets a larger token.
    server.stop(ExitReason::Normal).await.expect("stop");
    let again = loop {
        match names
            .start_child(&supervisor, "loader", ChildSpec::worker::<Holder>)
            .await
        {
            Ok(owner) => break owner,
            // The exit is seen a moment later: the old child may still be listed.
            Err(ClusterStartError::AlreadyStarted(Owner::Local(old))) if old == owner => {
                tokio::task::yield_now().await;
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
    };
    assert!(again.fence.token() > owner.fence.token());
    supervisor.stop(ExitReason::Shutdown).await.expect("stop");
}

async fn names_other(etcd: &Etcd, prefix: &str) -> ClusterNames<EtcdBackend> {
    names(etcd, prefix, "other").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_stops_the_owners_and_frees_their_names_at_once() {
    let Some(etcd) = Etcd::any("close") else {
        return;
    };
    let prefix = unique_prefix("close");
    let first = names(&etcd, &prefix, "first").await;
    let second = names_other(&etcd, &prefix).await;
    let supervisor = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .expect("a dynamic supervisor");
    let owner = first
        .start_child(&supervisor, "job", ChildSpec::worker::<Holder>)
        .await
        .expect("free");
    assert!(matches!(
        second
            .start_child(&supervisor, "job", ChildSpec::worker::<Holder>)
            .await,
        Err(ClusterStartError::AlreadyStarted(Owner::Remote(_)))
    ));
    first.close().await.expect("revoked");
    assert!(!process::is_alive(owner.pid));
    assert!(!first.is_connected());
    assert!(matches!(
        first
            .start_child(&supervisor, "job", ChildSpec::worker::<Holder>)
            .await,
        Err(ClusterStartError::Unavailable(BackendError::Closed))
    ));
    // The lease (TTL 10 s) was revoked, not left to run out: the name is free now.
    let taken = second
        .start_child(&supervisor, "job", ChildSpec::worker::<Holder>)
        .await
        .expect("free at once");
    assert!(taken.fence.token() > owner.fence.token());
    supervisor.stop(ExitReason::Shutdown).await.expect("stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_that_fails_to_start_gives_its_name_back() {
    let Some(etcd) = Etcd::any("failed_start") else {
        return;
    };
    let names = names(&etcd, &unique_prefix("failed_start"), "only").await;
    let supervisor = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .expect("a dynamic supervisor");
    let failed = names
        .start_child(&supervisor, "job", |_fence| {
            ChildSpec::from_fn("fails", ChildType::Worker, || async {
                Err(StartError::Init(ExitReason::error("no rules service")))
            })
        })
        .await;
    assert!(matches!(
        failed,
        Err(ClusterStartError::Start(StartError::Init(_)))
    ));
    assert!(matches!(
        names
            .start_child(&supervisor, "", ChildSpec::worker::<Holder>)
            .await,
        Err(ClusterStartError::EmptyName)
    ));
    // The start waits for the release of the failed campaign's key, then wins.
    let owner = names
        .start_child(&supervisor, "job", ChildSpec::worker::<Holder>)
        .await
        .expect("the name was given back");
    assert_eq!(names.which_names(), vec![owner]);
    supervisor.stop(ExitReason::Shutdown).await.expect("stop");
}

#[tokio::test]
async fn bad_options_and_names_are_typed_errors() {
    let refused = |options| async move {
        match EtcdBackend::connect(options).await {
            Err(ConnectError::Config(error)) => error,
            other => panic!("expected a config error, got {other:?}"),
        }
    };
    let none: [&str; 0] = [];
    assert_eq!(
        refused(EtcdOptions::new(none, "a")).await,
        EtcdConfigError::NoEndpoints
    );
    assert_eq!(
        refused(EtcdOptions::new(["http://127.0.0.1:1"], "")).await,
        EtcdConfigError::Instance(String::new())
    );
    assert_eq!(
        refused(EtcdOptions::new(["http://127.0.0.1:1"], "a").address("x\ny")).await,
        EtcdConfigError::Address("x\ny".into())
    );
    assert_eq!(
        refused(
            EtcdOptions::new(["http://127.0.0.1:1"], "a")
                .ttl(Duration::from_secs(2))
                .safety_margin(Duration::from_secs(2))
        )
        .await,
        EtcdConfigError::Margin
    );
    // Nothing listens on port 1: no lease, a typed error within the request time-out.
    let unreachable =
        EtcdOptions::new(["http://127.0.0.1:1"], "a").request_timeout(Duration::from_millis(300));
    assert!(matches!(
        EtcdBackend::connect(unreachable).await,
        Err(ConnectError::Lease(_))
    ));
}
