use bough::prelude::*;

pub struct Worker;

#[gen_server]
impl Worker {
    pub fn new() -> Self {
        Worker
    }
}

fn main() {}
