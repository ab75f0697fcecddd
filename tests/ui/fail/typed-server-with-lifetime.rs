use bough::prelude::*;

pub struct Room<'a> {
    topic: &'a str,
}

#[gen_server]
impl<'a> Room<'a> {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Room { topic: "rust" })
    }

    #[call]
    async fn topic(&self) -> String {
        self.topic.to_string()
    }
}

fn main() {}
