use bough::prelude::*;

#[gen_server(shutdown = "5000")]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }
}

fn main() {}
