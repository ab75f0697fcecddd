//! Cluster-wide names against a real etcd on loopback: races between OS processes, an
//! owner paused past its lease, a graceful stop, and etcd going away.
//!
//! Without an `etcd` binary on PATH (or `BOUGH_ETCD_ENDPOINTS`), each test says it was
//! skipped and passes, unless `BOUGH_REQUIRE_ETCD=1`, as `.ci/run` sets.

// The tests send signals to the instance processes.
#![cfg(unix)]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bough::prelude::*;
use bough_etcd::{
    ClusterNames, ClusterStartError, EtcdBackend, EtcdOptions, Fence, LeaseState, NameLost, Owner,
};
use support::{Etcd, FencedResource, Node, NodeConfig, fenced_write, unique_prefix};
use tokio::io::AsyncBufReadExt;

const NAME: &str = "singleton";

/// A child that holds the name: at start it writes to the fenced resource with its token.
struct Holder;

impl GenServer for Holder {
    type Args = (Fence, Option<SocketAddr>);
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init((fence, resource): (Fence, Option<SocketAddr>)) -> Init<Self> {
        if let Some(resource) = resource {
            let answer = fenced_write(resource, fence.token()).await;
            println!("node: child wrote {answer} {}", fence.token());
        }
        Init::Ok(Holder)
    }
}

fn holder_spec(fence: Fence, resource: Option<SocketAddr>) -> ChildSpec {
    ChildSpec::worker::<Holder>((fence, resource))
}

/// Not a test: the instance process the other tests start (this binary again, with this
/// test selected and its configuration in the environment).
#[test]
#[ignore = "an instance process that the tests in this file start themselves"]
fn node() {
    let Ok(endpoint) = std::env::var("BOUGH_ETCD_NODE_ENDPOINT") else {
        eprintln!("node: started by the other tests of this file, with their environment");
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let instance = var("BOUGH_ETCD_NODE_INSTANCE");
    let prefix = var("BOUGH_ETCD_NODE_PREFIX");
    let ttl: u64 = var("BOUGH_ETCD_NODE_TTL")
        .parse()
        .expect("a TTL in seconds");
    let resource: Option<SocketAddr> = var("BOUGH_ETCD_NODE_RESOURCE").parse().ok();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let options = EtcdOptions::new([endpoint], instance.clone())
            .prefix(prefix)
            .address(format!("{instance}.test:1"))
            .ttl(Duration::from_secs(ttl))
            .request_timeout(Duration::from_secs(1));
        let backend = EtcdBackend::connect(options)
            .await
            .expect("connect to etcd");
        let names = ClusterNames::new(backend);
        let supervisor = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
            .await
            .expect("a dynamic supervisor");
        let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler");
        let on_sigterm = names.clone();
        tokio::spawn(async move {
            sigterm.recv().await;
            let closed = on_sigterm.close().await;
            println!("node: closed {closed:?}");
            std::process::exit(0);
        });
        println!("node: ready");
        let mut last: Option<Fence> = None;
        let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
        while let Ok(Some(command)) = lines.next_line().await {
            match command.as_str() {
                "start" => {
                    let answer = names
                        .start_child(&supervisor, NAME, move |fence| holder_spec(fence, resource))
                        .await;
                    match answer {
                        Ok(owner) => {
                            last = Some(owner.fence.clone());
                            let exited = process::monitor(owner.pid);
                            tokio::spawn(async move {
                                let reason = exited.await;
                                let lost = NameLost::of(&reason).map(|lost| lost.fence.token());
                                println!("node: child exited name_lost={lost:?}");
                            });
                            println!("node: won {}", owner.fence.token());
                        }
                        Err(ClusterStartError::AlreadyStarted(Owner::Remote(owner))) => {
                            println!(
                                "node: taken {} {} {}",
                                owner.instance, owner.address, owner.token
                            );
                        }
                        Err(ClusterStartError::AlreadyStarted(Owner::Local(owner))) => {
                            println!("node: local {}", owner.fence.token());
                        }
                        Err(ClusterStartError::Unavailable(error)) => {
                            println!("node: unavailable {error}");
                        }
                        Err(error) => println!("node: error {error}"),
                    }
                }
                // A write with the token this instance last won the name with, as its
                // code would make it while it still believes it owns the name.
                "write" => {
                    let (Some(resource), Some(fence)) = (resource, &last) else {
                        println!("node: write impossible");
                        continue;
                    };
                    let answer = fenced_write(resource, fence.token()).await;
                    println!("node: write {answer}");
                }
                other => println!("node: unknown command {other:?}"),
            }
        }
    });
}

fn token_of(line: &str, word: &str) -> u64 {
    line.strip_prefix(word)
        .and_then(|rest| rest.split_whitespace().last())
        .and_then(|token| token.parse().ok())
        .unwrap_or_else(|| panic!("expected `{word} ... TOKEN`, got {line:?}"))
}

/// Asks `node` to start until it wins the name (bounded), and returns its token.
async fn start_until_won(node: &mut Node, within: Duration, every: Duration) -> Option<u64> {
    let give_up = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < give_up {
        let answer = node.ask("start").await;
        if answer.starts_with("won ") {
            return Some(token_of(&answer, "won"));
        }
        assert!(
            answer.starts_with("taken ") || answer.starts_with("unavailable "),
            "{answer}"
        );
        tokio::time::sleep(every).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_racing_for_a_name_start_it_once() {
    let Some(etcd) = Etcd::any("race") else {
        return;
    };
    let prefix = unique_prefix("race");
    const K: usize = 5;
    let mut nodes = Vec::new();
    for i in 0..K {
        nodes.push(
            Node::spawn(NodeConfig {
                endpoint: &etcd.endpoint,
                prefix: &prefix,
                instance: &format!("racer-{i}"),
                ttl_secs: 5,
                resource: None,
            })
            .await,
        );
    }
    // Every node is ready; tell them all to go before reading any answer.
    for node in &mut nodes {
        node.send("start").await;
    }
    let mut answers = Vec::new();
    for node in &mut nodes {
        answers.push((node.instance.clone(), node.answer().await));
    }
    let winners: Vec<_> = answers
        .iter()
        .filter(|(_, answer)| answer.starts_with("won "))
        .collect();
    assert_eq!(winners.len(), 1, "exactly one start: {answers:?}");
    let (winner, won) = winners[0];
    let token = token_of(won, "won");
    for (instance, answer) in &answers {
        if instance != winner {
            assert_eq!(
                answer,
                &format!("taken {winner} {winner}.test:1 {token}"),
                "every loser sees the same owner and token"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_paused_past_its_lease_loses_the_name_and_its_token_is_refused() {
    let Some(etcd) = Etcd::any("paused") else {
        return;
    };
    let prefix = unique_prefix("paused");
    let resource = FencedResource::start().await;
    let config = |instance| NodeConfig {
        endpoint: &etcd.endpoint,
        prefix: &prefix,
        instance,
        ttl_secs: 2,
        resource: Some(resource.address),
    };
    let mut first = Node::spawn(config("first")).await;
    let mut second = Node::spawn(config("second")).await;
    let first_token = token_of(&first.ask("start").await, "won");
    assert_eq!(
        second.ask("start").await,
        format!("taken first first.test:1 {first_token}")
    );

    first.signal(libc::SIGSTOP);
    // The lease runs out on etcd 2 s after the paused owner's last renewal.
    let second_token = start_until_won(
        &mut second,
        Duration::from_secs(15),
        Duration::from_millis(200),
    )
    .await
    .expect("the second instance takes the name once the first's lease ran out");
    assert!(second_token > first_token, "{second_token} > {first_token}");

    first.signal(libc::SIGCONT);
    // What the first instance's code would still write, believing it owns the name.
    assert_eq!(first.ask("write").await, "write refused");
    assert_eq!(
        first.wait_for("child exited").await,
        format!("child exited name_lost=Some({first_token})")
    );
    let writes = resource.writes();
    assert!(writes.contains(&(first_token, true)), "{writes:?}");
    assert!(writes.contains(&(second_token, true)), "{writes:?}");
    assert!(writes.contains(&(first_token, false)), "{writes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_revokes_the_lease_and_another_instance_owns_the_name_within_a_second() {
    let Some(etcd) = Etcd::any("sigterm") else {
        return;
    };
    let prefix = unique_prefix("sigterm");
    // A TTL well above the bound: only a revoke frees the name within it.
    let config = |instance| NodeConfig {
        endpoint: &etcd.endpoint,
        prefix: &prefix,
        instance,
        ttl_secs: 10,
        resource: None,
    };
    let mut first = Node::spawn(config("first")).await;
    let mut second = Node::spawn(config("second")).await;
    let first_token = token_of(&first.ask("start").await, "won");
    assert!(second.ask("start").await.starts_with("taken first "));

    let sent = tokio::time::Instant::now();
    first.signal(libc::SIGTERM);
    let second_token = start_until_won(
        &mut second,
        Duration::from_secs(1),
        Duration::from_millis(20),
    )
    .await
    .unwrap_or_else(|| panic!("no takeover within 1 s of SIGTERM"));
    assert!(sent.elapsed() <= Duration::from_secs(1));
    assert!(second_token > first_token);
    assert_eq!(first.wait_for("closed").await, "closed Ok(())");
    assert!(first.wait_exit().await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_etcd_gone_starts_are_unavailable_and_the_owner_stops_after_the_ttl() {
    let Some(mut etcd) = Etcd::own("etcd_gone") else {
        return;
    };
    let options = EtcdOptions::new([etcd.endpoint.clone()], "lonely")
        .prefix(unique_prefix("etcd_gone"))
        .ttl(Duration::from_secs(2))
        .request_timeout(Duration::from_millis(500));
    let names = ClusterNames::new(EtcdBackend::connect(options).await.expect("connect"));
    let supervisor = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .expect("a dynamic supervisor");
    let owner = names
        .start_child(&supervisor, NAME, |fence| holder_spec(fence, None))
        .await
        .expect("the name is free");
    let exited = process::monitor(owner.pid);
    assert!(names.is_connected());

    etcd.stop();
    match names
        .start_child(&supervisor, "another", |fence| holder_spec(fence, None))
        .await
    {
        Err(ClusterStartError::Unavailable(_)) => {}
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(names.whereis("another").await.is_err());
    // Bounded so that a regression fails rather than hangs; the lease counts as lost
    // 1.5 s (TTL less the margin) after its last renewal.
    let reason = tokio::time::timeout(Duration::from_secs(10), exited)
        .await
        .expect("the owner's child stops once the lease may have run out");
    assert_eq!(
        NameLost::of(&reason).map(|lost| &lost.fence),
        Some(&owner.fence)
    );
    assert!(!names.is_connected());
    assert!(matches!(
        names.lease_state(),
        LeaseState::Lost { generation: 1 }
    ));
    assert_eq!(names.whereis_local(NAME), None);
    supervisor.stop(ExitReason::Shutdown).await.expect("stop");
}
