use bough::prelude::*;

#[gen_server(restart = "transient")]
pub struct Forgotten;

fn main() {}
