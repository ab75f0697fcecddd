//! The typed form of `#[gen_server]` (one handler per request, typed client functions) and
//! `supervisor!` with an argument work at run time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bough::prelude::*;

/// A chat room: members, and the messages posted since each joined.
pub struct Room {
    topic: String,
    members: Vec<String>,
    posts: Vec<String>,
    /// Callers of `next_post` waiting for a post.
    waiting: Vec<TypedReplyTo<String>>,
    ticks: u32,
}

#[gen_server(restart = "transient")]
impl Room {
    async fn init(topic: String) -> Init<Self> {
        Init::Ok(Room {
            topic,
            members: Vec::new(),
            posts: Vec::new(),
            waiting: Vec::new(),
            ticks: 0,
        })
    }

    /// Joins the room; answers who is in it.
    #[call]
    pub async fn join(&mut self, user: String) -> Vec<String> {
        self.members.push(user);
        self.members.clone()
    }

    /// The room's topic, answered without touching the state.
    #[call]
    pub fn topic(&self) -> String {
        self.topic.clone()
    }

    /// Answers with the next post, whenever it comes.
    #[call]
    pub async fn next_post(&mut self, from: TypedReplyTo<String>) {
        self.waiting.push(from);
    }

    /// Posts a message to everyone waiting for one.
    #[cast]
    pub async fn post(&mut self, from: String, text: String) {
        let post = format!("{from}: {text}");
        for waiting in self.waiting.drain(..) {
            waiting.reply(post.clone());
        }
        self.posts.push(post);
    }

    /// How many posts, and ticks, so far.
    #[call(timeout = 1000)]
    pub async fn stats(&mut self) -> (usize, u32) {
        (self.posts.len(), self.ticks)
    }

    /// Closes the room: a clean stop, so a transient room is not restarted.
    #[cast]
    pub async fn close(&mut self) -> NoReply<Self> {
        NoReply::Stop(ExitReason::Normal)
    }

    #[info]
    async fn tick(&mut self, by: u32) {
        self.ticks += by;
    }

    async fn terminate(&mut self, _reason: &ExitReason) {
        self.members.clear();
    }

    /// A helper of the server's own; it stays an ordinary method.
    pub fn describe(topic: &str) -> String {
        format!("room {topic}")
    }
}

#[tokio::test]
async fn typed_calls_casts_and_infos_reach_their_handlers() {
    let room = Room::start_link("rust".to_string()).await.unwrap();
    assert_eq!(
        Room::join(&room, "joe".to_string()).await,
        Ok(vec!["joe".to_string()])
    );
    assert_eq!(
        Room::join(&room, "mike".to_string()).await.unwrap(),
        ["joe", "mike"]
    );
    assert_eq!(Room::topic(&room).await.unwrap(), "rust");
    Room::post(&room, "joe".to_string(), "hello".to_string());
    Room::tick(&room, 2);
    assert_eq!(Room::stats(&room).await, Ok((1, 2)));
    assert_eq!(Room::describe("rust"), "room rust");

    Room::close(&room);
    assert_eq!(
        Room::topic(&room).await,
        Err(CallError::Exited(ExitReason::Normal)),
        "the room stopped on `close`, queued before the call"
    );
    assert_eq!(Room::topic(&room).await, Err(CallError::NoProc));
}

#[tokio::test]
async fn a_deferred_answer_comes_from_a_later_message() {
    let room = Room::start_link("news".to_string()).await.unwrap();
    // `join!` polls the call first, so it is queued before the post.
    let (answer, ()) = tokio::join!(Room::next_post(&room), async {
        Room::post(&room, "ann".to_string(), "extra!".to_string());
    });
    assert_eq!(answer, Ok("ann: extra!".to_string()));
    room.stop(ExitReason::Normal).await.unwrap();
}

#[tokio::test]
async fn a_deferred_call_fails_when_its_server_stops_without_answering() {
    let room = Room::start_link("quiet".to_string()).await.unwrap();
    let (answer, ()) = tokio::join!(Room::next_post(&room), async {
        room.stop(ExitReason::Normal).await.unwrap();
    });
    assert_eq!(answer, Err(CallError::Exited(ExitReason::Normal)));
}

/// A server registered under a name: its client functions go by the name.
pub struct Stats {
    hits: u64,
}

#[gen_server(name = "macros_typed_stats")]
impl Stats {
    async fn init(start: u64) -> Init<Self> {
        Init::Ok(Stats { hits: start })
    }

    #[call]
    pub async fn get(&mut self) -> u64 {
        self.hits
    }

    #[cast]
    pub async fn hit(&mut self) {
        self.hits += 1;
    }
}

#[tokio::test]
async fn a_named_server_is_called_by_its_name() {
    assert_eq!(Stats::get().await, Err(CallError::NoProc));
    let stats = Stats::start_link(10).await.unwrap();
    Stats::hit();
    Stats::hit();
    assert_eq!(Stats::get().await, Ok(12));
    assert_eq!(Stats::whereis(), Some(stats.clone()));
    stats.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(Stats::get().await, Err(CallError::NoProc));
}

/// A generic server in the typed form.
pub struct Stack<T> {
    items: Vec<T>,
}

#[gen_server]
impl<T: Clone + Send + Sync + 'static> Stack<T> {
    async fn init(items: Vec<T>) -> Init<Self> {
        Init::Ok(Stack { items })
    }

    #[call]
    pub async fn pop(&mut self) -> Option<T> {
        self.items.pop()
    }

    #[cast]
    pub async fn push(&mut self, item: T) {
        self.items.push(item);
    }
}

#[tokio::test]
async fn a_generic_typed_server_runs() {
    let stack = Stack::start_link(vec![1u8]).await.unwrap();
    Stack::push(&stack, 2);
    assert_eq!(Stack::pop(&stack).await, Ok(Some(2)));
    assert_eq!(Stack::pop(&stack).await, Ok(Some(1)));
    assert_eq!(Stack::pop(&stack).await, Ok(None));
    let names = Stack::<String>::start_link(vec!["a".to_string()])
        .await
        .unwrap();
    assert_eq!(Stack::pop(&names).await, Ok(Some("a".to_string())));
}

/// How many times `Pool`'s `init` ran.
static POOL_INITS: AtomicUsize = AtomicUsize::new(0);

#[derive(Clone)]
pub struct PoolConfig {
    size: u64,
}

fn counted(config: &PoolConfig) -> u64 {
    POOL_INITS.fetch_add(1, Ordering::SeqCst);
    config.size
}

/// A worker that crashes on request, registered under a name.
pub struct Member {
    size: u64,
}

#[gen_server(name = "macros_typed_member")]
impl Member {
    async fn init(size: u64) -> Init<Self> {
        Init::Ok(Member { size })
    }

    #[call]
    pub async fn size(&self) -> u64 {
        self.size
    }

    #[cast]
    pub async fn crash(&mut self) {
        panic!("asked to crash");
    }
}

supervisor! {
    /// Builds its child from its argument at every start: `init(config)`.
    pub Pool(config: PoolConfig) {
        strategy: one_for_one,
        max_restarts: 0,
        children: [(Member, counted(&config))],
    }

    /// The top of the tree: restarts `Pool` when it gives up.
    pub PoolTop(config: Arc<PoolConfig>) {
        strategy: one_for_one,
        max_restarts: 5,
        children: [(Pool, (*config).clone())],
    }
}

#[tokio::test(start_paused = true)]
async fn a_supervisor_runs_init_with_its_argument_at_every_restart() {
    let top = PoolTop::start_link(Arc::new(PoolConfig { size: 7 }))
        .await
        .unwrap();
    assert_eq!(POOL_INITS.load(Ordering::SeqCst), 1);
    assert_eq!(Member::size().await, Ok(7));

    // The member crashes; `Pool` allows no restart, so it exits, and `PoolTop` restarts
    // it: `Pool`'s `init` runs again, with the same argument.
    let old_pool = Pool::whereis().unwrap().pid();
    Member::crash();
    loop {
        tokio::time::sleep(Duration::from_millis(1)).await;
        if Pool::whereis().is_some_and(|pool| pool.pid() != old_pool)
            && Member::size().await.is_ok()
        {
            break;
        }
    }
    assert_eq!(POOL_INITS.load(Ordering::SeqCst), 2);
    assert_eq!(Member::size().await, Ok(7));
    top.stop(ExitReason::Shutdown).await.unwrap();
    assert_eq!(Member::size().await, Err(CallError::NoProc));
}

/// The pid `Checked`'s `init` ran as.
static CHECKED_INIT_PID: std::sync::Mutex<Option<Pid>> = std::sync::Mutex::new(None);

fn checked(fail: bool) {
    *CHECKED_INIT_PID.lock().unwrap() = bough::try_self_pid();
    assert!(!fail, "a bug in the supervisor's init");
}

/// A child with nothing to do.
pub struct Quiet;

#[gen_server]
impl Quiet {
    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Quiet)
    }
}

supervisor! {
    /// Records where its `init` runs, and panics in it when told.
    pub Checked(fail: bool) {
        strategy: one_for_one,
        children: [(Quiet, checked(fail))],
    }
}

/// As OTP runs `init/1` in the new supervisor process: `self_pid()` there is the
/// supervisor's, and a panic in it fails the start instead of crashing the starter.
#[tokio::test(start_paused = true)]
async fn a_supervisors_init_runs_in_its_own_process() {
    let checked = Checked::start_link(false).await.unwrap();
    assert_eq!(*CHECKED_INIT_PID.lock().unwrap(), Some(checked.pid()));
    checked.stop(ExitReason::Normal).await.unwrap();

    let failed = Checked::start_link(true).await;
    assert!(
        matches!(&failed, Err(StartError::Init(ExitReason::Panic(message))) if message.contains("a bug")),
        "{failed:?}"
    );
    assert!(Checked::whereis().is_none(), "its name is free");
}
