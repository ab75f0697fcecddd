use bough::prelude::*;

pub struct Room {
    members: Vec<String>,
}

#[gen_server]
impl Room {
    #[cast]
    async fn join(&mut self, user: String) {
        self.members.push(user);
    }
}

fn main() {}
