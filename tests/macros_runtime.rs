//! What `#[gen_server]` and `supervisor!` generate works at run time.

use std::time::Duration;

use bough::prelude::*;

#[gen_server(
    restart = "transient",
    shutdown = 250,
    id = "counter",
    name = "macros_runtime_counter"
)]
pub struct Counter {
    count: u64,
}

pub enum Request {
    Get,
}

pub struct Add(u64);
pub struct Tick;

#[gen_server]
impl GenServer for Counter {
    async fn init(start: u64) -> Init<Self> {
        Init::Ok(Counter { count: start })
    }

    async fn handle_call(&mut self, request: Request, _from: ReplyTo<u64>) -> Reply<Self> {
        match request {
            Request::Get => Reply::Reply(self.count),
        }
    }

    async fn handle_cast(&mut self, Add(n): Add) -> NoReply<Self> {
        self.count += n;
        NoReply::NoReply
    }

    async fn handle_info(&mut self, _: Tick) -> NoReply<Self> {
        self.count += 1;
        NoReply::NoReply
    }
}

#[gen_server(restart = "transient")]
pub struct Job;

pub struct Work;

#[gen_server]
impl GenServer for Job {
    async fn init(_: ()) -> Init<Self> {
        Init::Continue(Job, Work)
    }

    async fn handle_continue(&mut self, _: Work) -> NoReply<Self> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        NoReply::Stop(ExitReason::Normal)
    }
}

supervisor! {
    pub dynamic Jobs { max_children: 2 }
    pub Tree { strategy: one_for_one, max_restarts: 10, children: [Jobs, (Counter, 40)] }
}

#[test]
fn attribute_options_land_in_the_child_spec() {
    let spec = Counter::child_spec(0);
    assert_eq!(spec.child_id(), "counter");
    assert_eq!(spec.restart_type(), Restart::Transient);
    assert_eq!(spec.shutdown_type(), Shutdown::millis(250));
    assert_eq!(
        spec.registered_name().unwrap().to_string(),
        "macros_runtime_counter"
    );
    let job = Job::child_spec(());
    assert_eq!(
        job.child_id(),
        "Job",
        "the type's name, without its module path"
    );
    assert_eq!(job.shutdown_type(), Shutdown::millis(5000), "OTP's default");
    let jobs = Jobs::child_spec(());
    assert_eq!(jobs.child_type(), ChildType::Supervisor);
    assert_eq!(jobs.shutdown_type(), Shutdown::Infinity);
    assert_eq!(jobs.child_id(), concat!(module_path!(), "::Jobs"));
}

#[tokio::test(start_paused = true)]
async fn a_supervisor_tree_declared_with_the_macros_runs() {
    let tree = Tree::start_link().await.unwrap();
    assert_eq!(Tree::whereis(), Some(tree.clone()));
    assert_eq!(
        <Tree as SupervisorModule>::name().to_string(),
        concat!(module_path!(), "::Tree")
    );

    // The counter was started under its name with the tree's argument, 40.
    let counter = Counter::whereis().unwrap();
    counter.cast(Add(1));
    counter.send(Tick);
    assert_eq!(counter.call(Request::Get).await, Ok(42));

    // A transient job that stops normally is not restarted.
    Jobs::start_child(Job::child_spec(())).await.unwrap();
    Jobs::start_child(Job::child_spec(())).await.unwrap();
    assert_eq!(
        Jobs::start_child(Job::child_spec(())).await,
        Err(StartError::MaxChildren)
    );
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(Jobs::count_children().await.unwrap(), ChildCount::default());

    let count = Tree::count_children().await.unwrap();
    assert_eq!((count.specs, count.active, count.supervisors), (2, 2, 1));
    Tree::stop(ExitReason::Shutdown).await.unwrap();
    assert_eq!(Tree::whereis(), None);
    assert_eq!(Jobs::count_children().await, Err(CallError::NoProc));
}

#[gen_server(name = "macros_runtime_singleton")]
pub struct Singleton;

#[gen_server]
impl GenServer for Singleton {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Singleton)
    }
}

#[tokio::test]
async fn start_link_of_a_named_server_registers_its_name() {
    let first = Singleton::start_link(()).await.unwrap();
    assert_eq!(Singleton::whereis(), Some(first.clone()));
    assert_eq!(
        Singleton::start_link(()).await.unwrap_err(),
        StartError::AlreadyStarted(first.pid())
    );
    first.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(Singleton::whereis(), None);
}
