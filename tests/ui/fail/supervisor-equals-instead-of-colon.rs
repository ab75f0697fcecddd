use bough::prelude::*;

supervisor! {
    pub Sup { strategy = one_for_one }
}

fn main() {}
