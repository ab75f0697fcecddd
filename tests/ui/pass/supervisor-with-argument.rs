//! Supervisors declared with an argument, which `init` gets at every start.
use std::sync::Arc;

use bough::prelude::*;

#[derive(Clone)]
pub struct Config {
    pub url: String,
}

#[gen_server]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(_url: String) -> Init<Self> {
        Init::Ok(Worker)
    }
}

#[gen_server]
pub struct Job;

#[gen_server]
impl GenServer for Job {
    async fn init(_: (Arc<str>, u32)) -> Init<Self> {
        Init::Ok(Job)
    }
}

supervisor! {
    /// `init(config)` builds the children from the argument.
    pub Service(config: Config) {
        strategy: one_for_all,
        children: [
            (Worker, config.url.clone()) { id: "first" },
            (Worker, config.url) { id: "second" },
            (Jobs, Arc::from("jobs")),
        ],
    }

    /// A dynamic supervisor whose extra arguments come from its argument.
    pub dynamic Jobs(prefix: Arc<str>) { max_children: 10, extra_arguments: prefix }

    /// Several values travel as one argument, destructured.
    pub Pair((left, right): (u32, u32)) {
        strategy: one_for_one,
        children: [(Worker, format!("{left}-{right}"))],
    }

    /// The top, with a supervisor child that takes an argument.
    pub Top {
        strategy: one_for_one,
        children: [(Service, Config { url: "http://rules".into() }), (Pair, (1, 2))],
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let top: Supervisor = Top::start_link().await.unwrap();
    assert_eq!(Service::count_children().await.unwrap().active, 3);
    let jobs: DynamicSupervisor = Jobs::whereis().unwrap();
    assert_eq!(jobs.count_children().await.unwrap().active, 0);
    top.stop(ExitReason::Shutdown).await.unwrap();
    let alone = Service::start_link(Config { url: "x".into() }).await.unwrap();
    alone.stop(ExitReason::Shutdown).await.unwrap();
    assert_eq!(<Service as Child>::child_spec(Config { url: "y".into() }).child_type(), ChildType::Supervisor);
}
