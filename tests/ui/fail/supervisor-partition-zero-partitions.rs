use bough::prelude::*;

supervisor! {
    pub dynamic JobSup {}
    pub partition Jobs { child: JobSup, partitions: 0 }
}

fn main() {}
