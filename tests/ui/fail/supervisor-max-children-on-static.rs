use bough::prelude::*;

supervisor! {
    pub Sup { strategy: one_for_one, max_children: 10 }
}

fn main() {}
