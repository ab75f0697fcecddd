//! A named server in the typed form: its client functions go by the name.
use bough::prelude::*;

pub struct Stats {
    hits: u64,
}

#[gen_server(name = "typed_named_stats")]
impl Stats {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Stats { hits: 0 })
    }

    #[call]
    pub async fn get(&self) -> u64 {
        self.hits
    }

    #[cast]
    pub async fn hit(&mut self, n: u64) {
        self.hits += n;
    }

    #[info]
    async fn reset(&mut self) {
        self.hits = 0;
    }
}

supervisor! {
    pub Service { strategy: one_for_one, children: [Stats] }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    assert_eq!(Stats::get().await, Err(CallError::NoProc));
    Service::start_link().await.unwrap();
    Stats::hit(2);
    assert_eq!(Stats::get().await, Ok(2));
    Stats::reset();
    assert_eq!(Stats::get().await, Ok(0));
    Service::stop(ExitReason::Shutdown).await.unwrap();
}
