use bough::prelude::*;

supervisor! {
    pub dynamic JobSup {}
    pub partition Jobs { child: JobSup, partiton: 4 }
}

fn main() {}
