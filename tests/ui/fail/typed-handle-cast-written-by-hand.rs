use bough::prelude::*;

pub struct Room {
    members: Vec<String>,
}

#[gen_server]
impl Room {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Room { members: Vec::new() })
    }

    async fn handle_cast(&mut self, user: String) -> NoReply<Self> {
        self.members.push(user);
        NoReply::NoReply
    }
}

fn main() {}
