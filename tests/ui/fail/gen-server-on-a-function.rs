use bough::prelude::*;

#[gen_server]
pub fn worker() {}

fn main() {}
