use bough::prelude::*;

supervisor! {
    pub Sup { strategy: one_for_one, max_restarts: 5000000000, children: [] }
}

fn main() {}
