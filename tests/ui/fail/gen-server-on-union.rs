use bough::prelude::*;

#[gen_server]
pub union Bits {
    a: u32,
    b: f32,
}

fn main() {}
