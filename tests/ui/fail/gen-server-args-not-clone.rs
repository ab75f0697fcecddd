use bough::prelude::*;

pub struct Socket;

#[gen_server]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(_socket: Socket) -> Init<Self> {
        Init::Ok(Worker)
    }
}

fn main() {}
