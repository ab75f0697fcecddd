use bough::prelude::*;

supervisor! {
    pub Sup { strategy: one_for_one, strategy: one_for_all }
}

fn main() {}
