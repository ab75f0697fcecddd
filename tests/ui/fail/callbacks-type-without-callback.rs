use bough::prelude::*;

pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    type Cast = String;

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }
}

fn main() {}
