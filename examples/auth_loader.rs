//! The seed: a dynamic supervisor that starts a short-lived worker to load the auth rules,
//! once at start and again whenever `update_auth_rules()` is called. The three Elixir
//! modules of the lesson become three Rust items of the same shape.
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
//! worker #PID<0.3.1> started with http://auth_service.some_cluster.data_center/rules
//! load data from http://auth_service.some_cluster.data_center/rules
//! Ok(#PID<0.3.1>)
//! save data [rule_1, rule_2, rule_3]
//! work done
//! ChildCount { specs: 0, active: 0, supervisors: 0, workers: 0 }
//! ```

use std::time::Duration;

use bough::prelude::*;

supervisor! {
    /// `use DynamicSupervisor`, started with `name: __MODULE__` and `strategy: :one_for_one`.
    pub dynamic AuthDataLoaderSup { strategy: one_for_one }
}

impl AuthDataLoaderSup {
    /// `def start_child()`: builds the spec and hands it to the generated `start_child/1`.
    pub async fn start_child() -> Result<Pid, StartError> {
        let url = "http://auth_service.some_cluster.data_center/rules".to_string();
        let spec = AuthDataLoader::child_spec(url);
        <Self as DynamicSupervisorModule>::start_child(spec).await
    }
}

/// `use GenServer, restart: :transient`.
#[gen_server(restart = "transient")]
pub struct AuthDataLoader {
    url: String,
}

/// The `{:continue, :delayed_init}` term.
pub struct DelayedInit;

#[gen_server]
impl GenServer for AuthDataLoader {
    async fn init(url: String) -> Init<Self> {
        println!("worker {} started with {url}", self_pid());
        Init::Continue(AuthDataLoader { url }, DelayedInit)
    }

    async fn handle_continue(&mut self, _: DelayedInit) -> NoReply<Self> {
        save(load(&self.url).await);
        println!("work done");
        NoReply::Stop(ExitReason::Normal)
    }
}

async fn load(url: &str) -> Vec<&'static str> {
    println!("load data from {url}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    vec!["rule_1", "rule_2", "rule_3"]
}

fn save(data: Vec<&str>) {
    println!("save data [{}]", data.join(", "));
}

supervisor! {
    /// `Supervisor.start_link([AuthDataLoaderSup], strategy: :one_for_one)`.
    pub MyService { strategy: one_for_one, children: [AuthDataLoaderSup] }
}

impl MyService {
    pub async fn start() -> Result<Pid, StartError> {
        Self::start_link().await.map(|supervisor| supervisor.pid())
    }

    pub async fn update_auth_rules() -> Result<Pid, StartError> {
        AuthDataLoaderSup::start_child().await
    }
}

// The iex session, one thread, so that the worker's lines and ours interleave as they did
// there: `start_child` returns right after `init`, while the loading goes on.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), bough::Error> {
    println!("{:?}", MyService::start().await);
    println!("{:?}", MyService::update_auth_rules().await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    println!("{:?}", MyService::update_auth_rules().await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // The transient workers stopped normally, so none was restarted. Each `?` turns the
    // call's `CallError` into a `bough::Error`, the one error type of a whole program.
    println!("{:?}", AuthDataLoaderSup::count_children().await?);
    MyService::stop(ExitReason::Shutdown).await?;
    Ok(())
}
