use bough::prelude::*;

#[gen_server]
pub struct Counter {
    count: u64,
}

pub struct Increment;
pub struct Reset;

#[gen_server]
impl GenServer for Counter {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Counter { count: 0 })
    }

    async fn handle_cast(&mut self, _: Increment) -> NoReply<Self> {
        self.count += 1;
        NoReply::NoReply
    }

    async fn handle_cast(&mut self, _: Reset) -> NoReply<Self> {
        self.count = 0;
        NoReply::NoReply
    }
}

fn main() {}
