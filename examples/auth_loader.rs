//! The seed: a dynamic supervisor that starts a short-lived worker to load the auth rules,
//! once at start and again whenever `update_auth_rules()` is called.
//!
//! Run it with `cargo run --example auth_loader`. Its output follows the Elixir session
//! line for line (only the pids differ):
//!
//! ```text
//! Ok(#PID<0.1.0>)
//! worker #PID<0.3.0> started with http://auth_service.some_cluster.data_center/rules
//! load data from http://auth_service.some_cluster.data_center/rules
//! Ok(#PID<0.3.0>)
//! save data [rule_1, rule_2, rule_3]
//! work done
//! ...
//! ChildCount { specs: 0, active: 0, supervisors: 0, workers: 0 }
//! ```

use std::time::Duration;

use bough::prelude::*;

const AUTH_SERVICE_URL: &str = "http://auth_service.some_cluster.data_center/rules";

/// `AuthDataLoader`: does its work in `handle_continue`, then stops normally.
struct AuthDataLoader {
    url: String,
}

/// The `{:continue, :delayed_init}` term.
struct DelayedInit;

impl GenServer for AuthDataLoader {
    type Args = String;
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = DelayedInit;

    async fn init(url: String) -> Init<Self> {
        println!("worker {} started with {url}", self_pid());
        Init::Continue(AuthDataLoader { url }, DelayedInit)
    }

    async fn handle_continue(&mut self, _: DelayedInit) -> NoReply<Self> {
        let rules = load(&self.url).await;
        save(&rules);
        println!("work done");
        NoReply::Stop(ExitReason::Normal)
    }
}

async fn load(url: &str) -> Vec<&'static str> {
    println!("load data from {url}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    vec!["rule_1", "rule_2", "rule_3"]
}

fn save(rules: &[&str]) {
    println!("save data [{}]", rules.join(", "));
}

/// `AuthDataLoaderSup`: a dynamic supervisor registered under its own name.
struct AuthDataLoaderSup;

impl AuthDataLoaderSup {
    const NAME: &'static str = "AuthDataLoaderSup";

    fn child_spec() -> ChildSpec {
        DynamicSupervisor::child_spec(DynamicSupervisorOptions::new()).name(Self::NAME)
    }

    async fn start_child() -> Result<Pid, StartError> {
        let spec = ChildSpec::worker::<AuthDataLoader>(AUTH_SERVICE_URL.to_string())
            .restart(Restart::Transient);
        let sup = DynamicSupervisor::whereis(&Self::NAME.into())
            .ok_or(StartError::Supervisor(CallError::NoProc))?;
        sup.start_child(spec).await
    }
}

/// `MyService`: the top of the tree.
struct MyService;

impl MyService {
    async fn start() -> Result<Supervisor, StartError> {
        Supervisor::start_link(
            [AuthDataLoaderSup::child_spec()],
            SupervisorOptions::new(Strategy::OneForOne),
        )
        .await
    }

    async fn update_auth_rules() -> Result<Pid, StartError> {
        AuthDataLoaderSup::start_child().await
    }
}

// One thread, so the lines of the worker and of `main` interleave exactly as in the seed's
// iex session.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let service = MyService::start().await?;
    println!("{:?}", Ok::<_, StartError>(service.pid()));
    println!("{:?}", MyService::update_auth_rules().await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    println!("{:?}", MyService::update_auth_rules().await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sup = DynamicSupervisor::whereis(&AuthDataLoaderSup::NAME.into()).expect("running");
    println!("{:?}", sup.count_children().await?);
    service.stop(ExitReason::Shutdown).await?;
    Ok(())
}
