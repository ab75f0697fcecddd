//! The typed form: one handler per request, each with its own answer type.
#![deny(unused_variables, unused_mut, unreachable_patterns, unused_qualifications)]

use bough::prelude::*;

pub struct Room {
    members: Vec<String>,
    waiting: Vec<TypedReplyTo<usize>>,
}

pub struct Load;

#[gen_server(restart = "transient", shutdown = 1000, id = "room")]
impl Room {
    async fn init(members: Vec<String>) -> Init<Self> {
        Init::Continue(Room { members, waiting: Vec::new() }, Load)
    }

    /// Joins; answers the members.
    #[call]
    pub async fn join(&mut self, user: String) -> Vec<String> {
        self.members.push(user);
        self.members.clone()
    }

    /// A plain `fn` handler that only reads the state.
    #[call(timeout = "infinity")]
    pub fn count(&self) -> usize {
        self.members.len()
    }

    /// Answers later, once someone joins.
    #[call(timeout = 10000)]
    pub async fn wait_for_someone(&mut self, from: TypedReplyTo<usize>) {
        self.waiting.push(from);
    }

    /// Arguments bound by patterns, one of them named `server`.
    #[cast]
    pub async fn rename(&mut self, (old, new): (String, String), server: bool) {
        let _ = server;
        for member in &mut self.members {
            if *member == old {
                *member = new.clone();
            }
        }
    }

    /// Stops the room when it is empty.
    #[cast]
    pub async fn leave(&mut self, user: String) -> NoReply<Self> {
        self.members.retain(|m| *m != user);
        if self.members.is_empty() {
            NoReply::Stop(ExitReason::Normal)
        } else {
            NoReply::NoReply
        }
    }

    #[info]
    async fn wake(&mut self) {
        let count = self.members.len();
        for waiting in self.waiting.drain(..) {
            waiting.reply(count);
        }
    }

    async fn handle_continue(&mut self, _: Load) -> NoReply<Self> {
        NoReply::NoReply
    }

    async fn terminate(&mut self, _reason: &ExitReason) {}

    /// An ordinary function of the server type.
    pub fn empty() -> Vec<String> {
        Vec::new()
    }
}

supervisor! {
    pub Rooms { strategy: one_for_one, children: [(Room, Room::empty())] }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let room = Room::start_link(Room::empty()).await.unwrap();
    let members: Result<Vec<String>, CallError> = Room::join(&room, "joe".to_string()).await;
    assert_eq!(members.unwrap(), ["joe"]);
    Room::rename(&room, ("joe".to_string(), "mike".to_string()), true);
    let (count, ()) = tokio::join!(Room::wait_for_someone(&room), async { Room::wake(&room) });
    assert_eq!(count, Ok(1));
    assert_eq!(Room::count(&room).await, Ok(1));
    Room::leave(&room, "mike".to_string());
    assert_eq!(Room::child_spec(Vec::new()).child_id(), "room");
}
