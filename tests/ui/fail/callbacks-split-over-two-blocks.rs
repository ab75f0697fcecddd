use bough::prelude::*;

#[gen_server]
pub struct Counter {
    count: u64,
}

#[gen_server]
impl GenServer for Counter {
    async fn init(start: u64) -> Init<Self> {
        Init::Ok(Counter { count: start })
    }
}

#[gen_server]
impl GenServer for Counter {
    async fn handle_cast(&mut self, n: u64) -> NoReply<Self> {
        self.count += n;
        NoReply::NoReply
    }
}

fn main() {}
