use bough::prelude::*;

supervisor! {
    pub Sup { strategy: one_for_one, max_seconds: 0, children: [] }
}

fn main() {}
