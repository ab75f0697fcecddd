use bough::prelude::*;

pub struct Config {
    pub size: u32,
}

#[gen_server]
pub struct Worker;

#[gen_server]
impl GenServer for Worker {
    async fn init(_: u32) -> Init<Self> {
        Init::Ok(Worker)
    }
}

supervisor! {
    pub Sup(config: Config) { strategy: one_for_one, children: [(Worker, config.size)] }
}

fn main() {}
