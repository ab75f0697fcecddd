use bough::prelude::*;

#[gen_server]
pub struct Borrowing<'a> {
    text: &'a str,
}

fn main() {}
