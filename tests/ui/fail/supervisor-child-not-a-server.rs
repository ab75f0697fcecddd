use bough::prelude::*;

pub struct Config;

supervisor! {
    pub Sup { strategy: one_for_one, children: [Config] }
}

fn main() {}
