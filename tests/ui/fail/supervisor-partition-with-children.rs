use bough::prelude::*;

supervisor! {
    pub dynamic JobSup {}
    pub partition Jobs { child: JobSup, children: [JobSup] }
}

fn main() {}
