//! A crate that reaches bough under another name points the macros at it.
extern crate bough as my_bough;

use my_bough::prelude::*;

#[gen_server(crate = "my_bough", restart = "temporary")]
pub struct Worker;

#[gen_server(crate = "my_bough")]
impl GenServer for Worker {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Worker)
    }
}

supervisor! {
    pub Sup { crate: "my_bough", strategy: one_for_one, children: [Worker] }
    pub dynamic Dyn { crate: "::my_bough" }
}

fn main() {
    let _ = Sup::init();
    let _ = Dyn::init();
}
