use bough::prelude::*;

#[gen_server]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }
}

fn main() {}
