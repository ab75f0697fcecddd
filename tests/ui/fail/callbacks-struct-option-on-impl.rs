use bough::prelude::*;

pub struct Worker;

#[gen_server(restart = "transient")]
impl GenServer for Worker {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }
}

fn main() {}
