use bough::prelude::*;

pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(&mut self, _: ()) -> Init<Self> {
        Init::Ok(Worker)
    }
}

fn main() {}
