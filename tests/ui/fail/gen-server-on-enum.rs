use bough::prelude::*;

#[gen_server]
pub enum Machine {
    Idle,
    Busy,
}

fn main() {}
