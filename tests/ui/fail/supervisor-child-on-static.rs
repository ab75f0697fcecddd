use bough::prelude::*;

supervisor! {
    pub dynamic JobSup {}
    pub Top { strategy: one_for_one, child: JobSup, partitions: 2 }
}

fn main() {}
