use bough::prelude::*;

pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }

    async fn handle_cast(&self, _: u8) -> NoReply<Self> {
        NoReply::NoReply
    }
}

fn main() {}
