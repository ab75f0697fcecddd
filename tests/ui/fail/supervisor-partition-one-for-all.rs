use bough::prelude::*;

supervisor! {
    pub dynamic JobSup {}
    pub partition Jobs { strategy: one_for_all, child: JobSup }
}

fn main() {}
