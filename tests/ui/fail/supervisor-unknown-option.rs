use bough::prelude::*;

supervisor! {
    pub Sup { strategy: one_for_one, max_restart: 3 }
}

fn main() {}
