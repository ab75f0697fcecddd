use bough::prelude::*;

supervisor! {
    pub Sup { strategy: "rest_for_one" }
}

fn main() {}
