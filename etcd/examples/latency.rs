//! How long a cluster-wide start-or-get takes on loopback, next to a local one: the
//! figures in the README. Needs an etcd:
//!
//! ```text
//! etcd --data-dir /tmp/bough-etcd &
//! BOUGH_ETCD_ENDPOINTS=http://127.0.0.1:2379 cargo run --release -p bough-etcd --example latency
//! ```
//!
//! - **local start-or-get**: `DynamicSupervisor::start_child` of a locally named child
//!   that is not running (a start), then of one that is (`AlreadyStarted`);
//! - **acquire**: [`ClusterNames::start_child`] of a free name (one etcd transaction, then
//!   the local start), and of a name another instance holds (one transaction);
//! - **takeover**: the owner's graceful stop ([`ClusterNames::close`]: its child stopped,
//!   its lease revoked) until another instance has started the child in its place.

use std::time::{Duration, Instant};

use bough::prelude::*;
use bough_etcd::{ClusterNames, EtcdBackend, EtcdOptions, Fence};

struct Idle;

impl GenServer for Idle {
    type Args = Fence;
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init(_: Fence) -> Init<Self> {
        Init::Ok(Idle)
    }
}

struct LocalIdle;

impl GenServer for LocalIdle {
    type Args = ();
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init((): ()) -> Init<Self> {
        Init::Ok(LocalIdle)
    }
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<44} n={:<5} median {:>9.1?}  p99 {:>9.1?}",
        samples.len(),
        at(0.5),
        at(0.99)
    );
}

async fn names(endpoints: &[String], instance: &str, prefix: &str) -> ClusterNames<EtcdBackend> {
    let options = EtcdOptions::new(endpoints.iter().cloned(), instance)
        .prefix(prefix)
        .ttl(Duration::from_secs(10));
    ClusterNames::new(
        EtcdBackend::connect(options)
            .await
            .expect("connect to etcd"),
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoints: Vec<String> = std::env::var("BOUGH_ETCD_ENDPOINTS")
        .map_err(|_| "set BOUGH_ETCD_ENDPOINTS to etcd's client URL, e.g. http://127.0.0.1:2379")?
        .split(',')
        .map(str::to_string)
        .collect();
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(300);
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new()).await?;

    let (mut start, mut get) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let spec = || ChildSpec::worker::<LocalIdle>(()).name("local-idle");
        let t = Instant::now();
        let pid = sup.start_child(spec()).await?;
        start.push(t.elapsed());
        let t = Instant::now();
        let again = sup.start_child(spec()).await;
        get.push(t.elapsed());
        assert!(matches!(again, Err(StartError::AlreadyStarted(p)) if p == pid));
        sup.terminate_child(pid).await?;
    }
    report("local start-or-get, start", start);
    report("local start-or-get, already started", get);

    let prefix = format!("bough-latency/{}", std::process::id());
    let a = names(&endpoints, "a", &prefix).await;
    let b = names(&endpoints, "b", &prefix).await;
    let (mut won, mut held) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let name = format!("name-{i}");
        let t = Instant::now();
        let owner = a
            .start_child(&sup, &name, ChildSpec::worker::<Idle>)
            .await?;
        won.push(t.elapsed());
        let t = Instant::now();
        let lost = b.start_child(&sup, &name, ChildSpec::worker::<Idle>).await;
        held.push(t.elapsed());
        assert!(lost.is_err());
        sup.terminate_child(owner.pid).await?;
    }
    report("cluster acquire, free name (won)", won);
    report("cluster acquire, held elsewhere (already started)", held);

    let mut takeover = Vec::new();
    for i in 0..runs.min(100) {
        let prefix = format!("{prefix}/takeover-{i}");
        let owner = names(&endpoints, "owner", &prefix).await;
        let heir = names(&endpoints, "heir", &prefix).await;
        owner
            .start_child(&sup, "job", ChildSpec::worker::<Idle>)
            .await?;
        let t = Instant::now();
        owner.close().await?;
        heir.start_child(&sup, "job", ChildSpec::worker::<Idle>)
            .await?;
        takeover.push(t.elapsed());
        heir.close().await?;
    }
    report("takeover after a graceful stop (revoke)", takeover);
    sup.stop(ExitReason::Shutdown).await?;
    Ok(())
}
