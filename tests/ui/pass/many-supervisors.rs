//! Several supervisors in one invocation, nested, with private and public visibility.
use bough::prelude::*;

#[gen_server]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }
}

supervisor! {
    /// The root of the tree.
    pub Root { strategy: one_for_all, children: [Branch, Jobs, Worker { id: "root-worker" }] }

    pub(crate) Branch { strategy: rest_for_one, children: [Worker, Leaf] }

    Leaf { strategy: one_for_one, children: [] }

    #[allow(dead_code)]
    pub dynamic Jobs { }
}

fn main() {
    let (children, _) = Root::init(());
    assert_eq!(children.len(), 3);
    let _: fn() -> ChildSpec = || Leaf::child_spec(());
}
