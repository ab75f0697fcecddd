//! A chat service, as a template for the typed form of `#[gen_server]`: rooms started on
//! demand under a dynamic supervisor, each registered under its name in a `Registry`
//! ("start it, or get the one already running"), typed calls and casts with their client
//! functions, a named statistics server reached by its name, and a poison message that
//! crashes a room, which its supervisor restarts.
//!
//! Run it with `cargo run --example chat_rooms`. It prints (pids differ; the panic message
//! of the poisoned room goes to stderr):
//!
//! ```text
//! ChatService started
//! room rust opened as #PID<0.4.0>
//! joe joined rust: ["joe"]
//! mike joined rust: ["joe", "mike"]
//! [rust] joe: hello
//! [rust] mike: hi joe
//! history of rust: ["joe: hello", "mike: hi joe"]
//! room elixir opened as #PID<0.5.0>
//! ann joined elixir: ["ann"]
//! rooms running: 2, posts so far: 2
//! room rust crashed: panic: room rust swallowed a poison message
//! room rust opened as #PID<0.4.1>
//! a call queued behind the poison: Err(Exited(Panic("room rust swallowed a poison message")))
//! history of rust after its restart: []
//! rooms running: 2, posts so far: 2
//! ChatService stopped
//! ```

use std::sync::LazyLock;
use std::time::Duration;

use bough::prelude::*;

/// The rooms' names: `{:via, Registry, {ChatRooms, "rust"}}` in Elixir.
static ROOM_NAMES: LazyLock<Registry<String>> = LazyLock::new(Registry::new);

/// One chat room: who joined, and what was said.
pub struct Room {
    name: String,
    members: Vec<String>,
    history: Vec<String>,
}

// Transient: a room that crashes is restarted (with its name, empty); one that stops
// normally is not.
#[gen_server(restart = "transient")]
impl Room {
    async fn init(name: String) -> Init<Self> {
        println!("room {name} opened as {}", self_pid());
        Init::Ok(Room {
            name,
            members: Vec::new(),
            history: Vec::new(),
        })
    }

    /// Joins the room; answers who is in it.
    #[call]
    pub async fn join(&mut self, user: String) -> Vec<String> {
        self.members.push(user);
        self.members.clone()
    }

    /// What was said in the room, oldest first.
    #[call]
    pub fn history(&self) -> Vec<String> {
        self.history.clone()
    }

    /// Says something in the room.
    #[cast]
    pub async fn post(&mut self, from: String, text: String) {
        println!("[{}] {from}: {text}", self.name);
        self.history.push(format!("{from}: {text}"));
        Stats::posted();
    }

    /// A message no room survives: the stand-in for a bug.
    #[cast]
    pub async fn poison(&mut self) {
        panic!("room {} swallowed a poison message", self.name);
    }

    async fn terminate(&mut self, reason: &ExitReason) {
        if !reason.is_clean() {
            println!("room {} crashed: {reason}", self.name);
        }
    }
}

/// Counts the posts of every room; registered under a name, so its client functions need
/// no handle: `Stats::posts().await`.
pub struct Stats {
    posts: u64,
}

#[gen_server(name = "chat_stats")]
impl Stats {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Stats { posts: 0 })
    }

    /// One more post.
    #[cast]
    pub fn posted(&mut self) {
        self.posts += 1;
    }

    /// How many posts so far.
    #[call]
    pub fn posts(&self) -> u64 {
        self.posts
    }
}

supervisor! {
    /// The rooms, started on demand.
    pub dynamic ChatRooms { max_children: 1000 }

    /// The service: the statistics, then the rooms.
    pub ChatService { strategy: one_for_one, children: [Stats, ChatRooms] }
}

impl ChatRooms {
    /// The room called `room`, started if it is not running: the name to reach it by.
    /// `start_child` is serialized by the supervisor, so two users opening one room at
    /// once get the same room.
    pub async fn open(room: &str) -> Result<Name, StartError> {
        let name = ROOM_NAMES.name(room.to_string());
        if whereis(&name).is_some() {
            return Ok(name);
        }
        let spec = Room::child_spec(room.to_string()).name(name.clone());
        match <Self as DynamicSupervisorModule>::start_child(spec).await {
            Ok(_) | Err(StartError::AlreadyStarted(_)) => Ok(name),
            Err(error) => Err(error),
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ChatService::start_link().await?;
    println!("ChatService started");

    let rust = ChatRooms::open("rust").await?;
    println!(
        "joe joined rust: {:?}",
        Room::join(&rust, "joe".into()).await?
    );
    // Opening it again finds the running room.
    let again = ChatRooms::open("rust").await?;
    println!(
        "mike joined rust: {:?}",
        Room::join(&again, "mike".into()).await?
    );
    Room::post(&rust, "joe".into(), "hello".into());
    Room::post(&rust, "mike".into(), "hi joe".into());
    println!("history of rust: {:?}", Room::history(&rust).await?);

    let elixir = ChatRooms::open("elixir").await?;
    println!(
        "ann joined elixir: {:?}",
        Room::join(&elixir, "ann".into()).await?
    );
    report().await?;

    // The poison crashes the room; the call queued behind it fails with the crash, and the
    // supervisor starts the room again under its name, empty.
    Room::poison(&rust);
    let queued = Room::history(&rust).await;
    let history = loop {
        match Room::history(&rust).await {
            Ok(history) => break history,
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    };
    println!("a call queued behind the poison: {queued:?}");
    println!("history of rust after its restart: {history:?}");
    report().await?;

    ChatService::stop(ExitReason::Shutdown).await?;
    println!("ChatService stopped");
    Ok(())
}

async fn report() -> Result<(), CallError> {
    let rooms = ChatRooms::count_children().await?.active;
    println!(
        "rooms running: {rooms}, posts so far: {}",
        Stats::posts().await?
    );
    Ok(())
}
