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
    async fn join(&mut self, user: String) -> usize {
        self.members.push(user);
        self.members.len()
    }

    #[cast]
    async fn join(&mut self, user: String) {
        self.members.push(user);
    }
}

fn main() {}
