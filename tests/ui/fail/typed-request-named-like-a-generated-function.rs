use bough::prelude::*;

pub struct Room {
    members: Vec<String>,
}

#[gen_server]
impl Room {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Room { members: Vec::new() })
    }

    #[call]
    async fn whereis(&self) -> usize {
        self.members.len()
    }
}

fn main() {}
