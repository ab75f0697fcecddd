use bough::prelude::*;

supervisor! {
    pub dynamic Jobs { strategy: one_for_all }
}

fn main() {}
