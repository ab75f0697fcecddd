use bough::prelude::*;

#[gen_server]
pub struct Room {
    members: Vec<String>,
}

#[gen_server]
impl GenServer for Room {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Room { members: Vec::new() })
    }

    #[cast]
    async fn join(&mut self, user: String) {
        self.members.push(user);
    }
}

fn main() {}
