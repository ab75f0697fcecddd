use bough::prelude::*;

#[gen_server]
pub struct Loader;

#[gen_server]
impl GenServer for Loader {
    async fn init(_url: String) -> Init<Self> {
        Init::Ok(Loader)
    }
}

supervisor! {
    pub Sup { strategy: one_for_one, children: [Loader] }
}

fn main() {}
