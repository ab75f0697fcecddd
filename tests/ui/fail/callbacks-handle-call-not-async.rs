use bough::prelude::*;

#[gen_server]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }

    fn handle_call(&mut self, n: u8, _from: ReplyTo<u8>) -> Reply<Self> {
        Reply::Reply(n)
    }
}

fn main() {}
