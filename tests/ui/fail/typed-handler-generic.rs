use bough::prelude::*;

pub struct Room {
    members: Vec<String>,
}

#[gen_server]
impl Room {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Room { members: Vec::new() })
    }

    #[cast]
    async fn join<U: ToString + Send + 'static>(&mut self, user: U) {
        self.members.push(user.to_string());
    }
}

fn main() {}
