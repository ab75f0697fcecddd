use bough::prelude::*;

#[gen_server]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(_: u32) -> Init<Self> {
        Init::Ok(Worker)
    }
}

supervisor! {
    pub Sup(u32) { strategy: one_for_one, children: [] }
}

fn main() {}
