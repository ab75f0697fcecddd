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

pub struct Typed;

#[gen_server(crate = "my_bough", name = "renamed_crate_typed")]
impl Typed {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Typed)
    }

    #[call]
    pub async fn ping(&self) -> u8 {
        1
    }

    #[cast]
    pub fn poke(&mut self) {}
}

supervisor! {
    pub Sup { crate: "my_bough", strategy: one_for_one, children: [Worker, Typed] }
    pub dynamic Dyn { crate: "::my_bough" }
    pub WithArg(size: u8) { crate: "my_bough", strategy: one_for_one, children: [(Worker2, size)] }
}

#[gen_server(crate = "my_bough")]
pub struct Worker2;

#[gen_server(crate = "my_bough")]
impl GenServer for Worker2 {
    async fn init(_: u8) -> Init<Self> {
        Init::Ok(Worker2)
    }
}

fn main() {
    let _ = Sup::init(());
    let _ = Dyn::init(());
    let _ = WithArg::init(3);
    let _ = Typed::ping();
    Typed::poke();
}
