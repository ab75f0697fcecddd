use bough::prelude::*;

supervisor! {
    pub dynamic Sup { max_restarts: 3u32 }
}

fn main() {}
