use bough::prelude::*;

supervisor! {
    pub Sup { strategy: one_for_al }
}

fn main() {}
