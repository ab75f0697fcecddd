use bough::prelude::*;

supervisor! {
    pub Sup { strategy: one_for_one, max_seconds: 2min, children: [] }
}

fn main() {}
