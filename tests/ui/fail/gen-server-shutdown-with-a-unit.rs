use bough::prelude::*;

#[gen_server(shutdown = 5s)]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }
}

fn main() {}
