use bough::prelude::*;

supervisor! {
    pub partition Jobs { partitions: 4 }
}

fn main() {}
