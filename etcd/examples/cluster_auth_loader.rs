//! The seed, grown to a cluster: three instances of the auth service share one etcd, and a
//! reload event that reaches all of them at once starts exactly one load.
//!
//! Each instance is what one machine (or pod) would run: an [`Application`] whose root
//! supervisor holds the loaders' dynamic supervisor, a lease of its own on etcd, a
//! readiness check that is false while that lease cannot be renewed, and, when it stops,
//! a revoke of the lease after its tree stopped, so that the other instances can take its
//! names at once. Here the three run in one process to keep the example short; in a
//! service, each calls `app.stop_on_signal(budget)` so that SIGTERM does the same.
//!
//! Run it against an etcd on loopback:
//!
//! ```text
//! etcd --data-dir /tmp/bough-etcd &
//! BOUGH_ETCD_ENDPOINTS=http://127.0.0.1:2379 cargo run -p bough-etcd --example cluster_auth_loader
//! ```
//!
//! Which instance wins a round differs from run to run; the shape does not:
//!
//! ```text
//! instance-1: ready
//! instance-2: ready
//! instance-3: ready
//! round 1: reload in every instance at once
//! worker #PID<0.12.0> of instance-2 started with http://auth_service.some_cluster.data_center/rules (token 8)
//! load data from http://auth_service.some_cluster.data_center/rules
//! instance-1: already loading in instance `instance-2` at 127.0.0.1:4002 (token 8)
//! instance-2: loading, token 8
//! instance-3: already loading in instance `instance-2` at 127.0.0.1:4002 (token 8)
//! save data [rule_1, rule_2, rule_3]
//! work done
//! round 2: reload in every instance at once
//! ...
//! instance-1 stopped: in time, lease revoked
//! ```

use std::time::Duration;

use bough::Application;
use bough::prelude::*;
use bough_etcd::{ClusterNames, ClusterStartError, EtcdBackend, EtcdOptions, Fence, Owner};

const URL: &str = "http://auth_service.some_cluster.data_center/rules";

/// `use GenServer, restart: :transient`, now with the fencing token its name was won
/// with: a store of rules that checks tokens would refuse the save of a loader whose
/// instance lost the name meanwhile.
struct AuthDataLoader {
    url: String,
}

struct DelayedInit;

impl GenServer for AuthDataLoader {
    type Args = (String, Fence, String);
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = DelayedInit;

    async fn init((url, fence, instance): (String, Fence, String)) -> Init<Self> {
        println!(
            "worker {} of {instance} started with {url} (token {})",
            self_pid(),
            fence.token()
        );
        Init::Continue(AuthDataLoader { url }, DelayedInit)
    }

    async fn handle_continue(&mut self, _: DelayedInit) -> NoReply<Self> {
        println!("load data from {}", self.url);
        tokio::time::sleep(Duration::from_millis(500)).await;
        println!("save data [rule_1, rule_2, rule_3]");
        println!("work done");
        NoReply::Stop(ExitReason::Normal)
    }
}

/// One instance of the service. Cheap to clone: the clones share it.
#[derive(Clone)]
struct Instance {
    id: String,
    app: Application,
    loaders: DynamicSupervisor,
    names: ClusterNames<EtcdBackend>,
}

impl Instance {
    async fn start(n: u16, endpoints: &[String]) -> Result<Instance, Box<dyn std::error::Error>> {
        let id = format!("instance-{n}");
        let options = EtcdOptions::new(endpoints.iter().cloned(), id.clone())
            // What another instance would call to reach this one.
            .address(format!("127.0.0.1:{}", 4000 + n))
            .prefix("bough-example/auth")
            .ttl(Duration::from_secs(5));
        let names = ClusterNames::new(EtcdBackend::connect(options).await?);
        let root = Supervisor::start_link(
            [DynamicSupervisor::child_spec(DynamicSupervisorOptions::new()).id("loaders")],
            SupervisorOptions::new(Strategy::OneForOne),
        )
        .await?;
        let loaders = match root.which_children().await?.first().map(|child| child.pid) {
            Some(ChildPid::Running(pid)) => DynamicSupervisor::from_pid(pid)?,
            other => {
                return Err(format!("the loaders' supervisor is not running: {other:?}").into());
            }
        };
        let connected = names.clone();
        let revoke = names.clone();
        let app = Application::builder(root)
            .readiness_check("etcd lease", move || connected.is_connected())
            .on_stop("revoke the etcd lease", move || async move {
                if let Err(error) = revoke.close().await {
                    eprintln!("revoke failed (the lease runs out by itself): {error}");
                }
            })
            .build();
        Ok(Instance {
            id,
            app,
            loaders,
            names,
        })
    }

    /// `update_auth_rules()`: start-or-get of the one loader of the cluster.
    async fn update_auth_rules(&self) -> String {
        let instance = self.id.clone();
        let started = self
            .names
            .start_child(&self.loaders, "auth-loader", move |fence| {
                ChildSpec::worker::<AuthDataLoader>((URL.to_string(), fence, instance))
            })
            .await;
        match started {
            Ok(owner) => format!("loading, token {}", owner.fence.token()),
            Err(ClusterStartError::AlreadyStarted(Owner::Remote(owner))) => {
                format!("already loading in {owner}")
            }
            Err(ClusterStartError::AlreadyStarted(Owner::Local(owner))) => {
                format!("already loading here, token {}", owner.fence.token())
            }
            Err(error) => format!("no reload: {error}"),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoints: Vec<String> = std::env::var("BOUGH_ETCD_ENDPOINTS")
        .map_err(|_| "set BOUGH_ETCD_ENDPOINTS to etcd's client URL, e.g. http://127.0.0.1:2379")?
        .split(',')
        .map(str::to_string)
        .collect();
    let mut instances = Vec::new();
    for n in 1..=3 {
        instances.push(Instance::start(n, &endpoints).await?);
    }
    for instance in &instances {
        println!("{}: {}", instance.id, instance.app.ready().await);
    }
    for round in 1..=2 {
        println!("round {round}: reload in every instance at once");
        let answers = reload_everywhere(&instances).await;
        for (instance, answer) in instances.iter().zip(answers) {
            println!("{}: {answer}", instance.id);
        }
        // Let the load finish: its name goes with it.
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    for instance in &instances {
        let report = instance.app.stop(Duration::from_secs(5)).await;
        let in_time = if report.in_time() { "in time" } else { "late" };
        println!("{} stopped: {in_time}, lease revoked", instance.id);
    }
    Ok(())
}

/// Every instance's `update_auth_rules()`, run at the same time, as a reload event
/// broadcast to the whole cluster would.
async fn reload_everywhere(instances: &[Instance]) -> Vec<String> {
    let mut reloads = tokio::task::JoinSet::new();
    for (i, instance) in instances.iter().cloned().enumerate() {
        reloads.spawn(async move { (i, instance.update_auth_rules().await) });
    }
    let mut answers = vec![String::new(); instances.len()];
    while let Some(Ok((i, answer))) = reloads.join_next().await {
        answers[i] = answer;
    }
    answers
}
