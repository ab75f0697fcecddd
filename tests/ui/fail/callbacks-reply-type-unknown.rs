use bough::prelude::*;

pub struct Worker;
pub type From = ReplyTo<u8>;

#[gen_server]
impl GenServer for Worker {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }

    async fn handle_call(&mut self, n: u8, _from: From) -> Reply<Self> {
        Reply::Reply(n)
    }
}

fn main() {}
