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
    async fn wait(&mut self, from: TypedReplyTo<usize>) {
        from.reply(self.members.len());
    }
}

fn main() {}
