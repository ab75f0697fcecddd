//! Partition supervisors: of dynamic supervisors (the documented use), of servers, with an
//! argument, and as a child of another supervisor.
use bough::prelude::*;

#[gen_server(restart = "temporary")]
pub struct Job;

#[gen_server]
impl GenServer for Job {
    async fn init(_: u64) -> Init<Self> {
        Init::Ok(Job)
    }
}

#[gen_server]
pub struct Counter(u64);

#[gen_server]
impl GenServer for Counter {
    async fn init(start: u64) -> Init<Self> {
        Init::Ok(Counter(start))
    }

    async fn handle_call(&mut self, add: u64, _from: ReplyTo<u64>) -> Reply<Self> {
        self.0 += add;
        Reply::Reply(self.0)
    }
}

supervisor! {
    pub dynamic JobSup { max_children: 1000 }

    /// `{PartitionSupervisor, child_spec: JobSup, name: Jobs, partitions: 4}`.
    pub partition Jobs { child: JobSup, partitions: 4, max_restarts: 10, max_seconds: 1 }

    /// One counter per partition, each starting from the argument.
    pub partition Counters(start: u64) { child: (Counter, start) { shutdown: 100 }, partitions: 3 }

    pub Top { strategy: one_for_one, children: [(Counters, 100)] }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let jobs = Jobs::start_link().await.unwrap();
    assert_eq!(jobs.partitions(), 4);
    for user in 0..20u64 {
        Jobs::start_child(&user, Job::child_spec(user)).await.unwrap();
    }
    assert_eq!(Jobs::dynamic(&1u64).unwrap().count_children().await.unwrap().active, 5);
    assert_eq!(Jobs::count_children().await.unwrap().supervisors, 4);
    Jobs::stop(ExitReason::Shutdown).await.unwrap();
    assert!(Jobs::whereis().is_none());

    let top = Top::start_link().await.unwrap();
    let counters = Counters::whereis().unwrap();
    assert_eq!(counters.partitions(), 3);
    let by_key = counters.server::<Counter, _>(&"some key").unwrap();
    assert_eq!(by_key.call(1).await.unwrap(), 101);
    assert_eq!(gen_server::call::<Counter>(counters.name(&"some key"), 1).await, Ok(102));
    top.stop(ExitReason::Shutdown).await.unwrap();
}
