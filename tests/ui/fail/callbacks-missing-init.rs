use bough::prelude::*;

#[gen_server]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn handle_cast(&mut self, _: u8) -> NoReply<Self> {
        NoReply::NoReply
    }
}

fn main() {}
