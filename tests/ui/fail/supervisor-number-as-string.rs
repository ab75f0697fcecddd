use bough::prelude::*;

supervisor! {
    pub Sup { strategy: one_for_one, max_restarts: "3" }
}

fn main() {}
