use bough::prelude::*;

#[gen_server(shutdown = 99999999999999999999999)]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }
}

fn main() {}
