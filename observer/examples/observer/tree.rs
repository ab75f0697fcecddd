//! The tree of the observer example: the seed service (a dynamic supervisor of
//! short-lived loaders under `MyService`) grown a little, so that there is something to
//! watch. Shared with the observer's browser test, which drives this very tree.
//!
//! ```text
//! MyService (one_for_one)
//! ├── AuthDataLoaderSup (dynamic): transient loaders that come and go
//! ├── rules_cache: the loaded rules, its state shown
//! ├── Sessions (dynamic): one server per user, its state redacted; some crash
//! └── Pipeline (rest_for_one)
//!     ├── fetcher: crashes now and then, which restarts the parser too
//!     └── parser
//! ```

use std::time::Duration;

use bough::introspect::StateFormat;
use bough::prelude::*;

pub const RULES_URL: &str = "http://auth_service.some_cluster.data_center/rules";

supervisor! {
    /// `use DynamicSupervisor`: one loader per update of the rules.
    pub dynamic AuthDataLoaderSup { strategy: one_for_one }

    /// One session server per connected user.
    pub dynamic Sessions { strategy: one_for_one, max_restarts: 1000, max_seconds: 1 }

    /// The fetcher and the parser of a feed: the parser depends on the fetcher, so it is
    /// restarted with it.
    pub Pipeline {
        strategy: rest_for_one,
        max_restarts: 1000,
        max_seconds: 1,
        children: [Fetcher, Parser],
    }

    /// The service.
    pub MyService {
        strategy: one_for_one,
        max_restarts: 100,
        max_seconds: 1,
        children: [AuthDataLoaderSup, RulesCache, Sessions, Pipeline],
    }
}

impl AuthDataLoaderSup {
    /// Starts a loader of the rules, as the seed does.
    pub async fn start_child() -> Result<Pid, StartError> {
        let spec = AuthDataLoader::child_spec(RULES_URL.to_string());
        <Self as DynamicSupervisorModule>::start_child(spec).await
    }
}

/// The seed's loader: loads the rules in `handle_continue`, hands them to the cache, and
/// stops normally.
#[gen_server(restart = "transient")]
#[derive(Debug)]
pub struct AuthDataLoader {
    url: String,
}

pub struct DelayedInit;

#[gen_server]
impl GenServer for AuthDataLoader {
    const STATE: StateFormat<Self> = StateFormat::debug();

    async fn init(url: String) -> Init<Self> {
        Init::Continue(AuthDataLoader { url }, DelayedInit)
    }

    async fn handle_continue(&mut self, _: DelayedInit) -> NoReply<Self> {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let rules = ["rule_1", "rule_2", "rule_3"].map(String::from).to_vec();
        RulesCache::replace(self.url.clone(), rules);
        NoReply::Stop(ExitReason::Normal)
    }
}

/// The rules, as last loaded; its state is shown in the observer.
#[gen_server(name = "rules_cache")]
#[derive(Debug)]
pub struct RulesCache {
    source: Option<String>,
    rules: Vec<String>,
    version: u64,
}

#[gen_server]
impl GenServer for RulesCache {
    const STATE: StateFormat<Self> = StateFormat::debug();

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(RulesCache {
            source: None,
            rules: Vec::new(),
            version: 0,
        })
    }

    async fn handle_cast(&mut self, (source, rules): (String, Vec<String>)) -> NoReply<Self> {
        self.source = Some(source);
        self.rules = rules;
        self.version += 1;
        NoReply::NoReply
    }
}

impl RulesCache {
    /// Replaces the rules with those loaded from `source`.
    pub fn replace(source: String, rules: Vec<String>) {
        gen_server::cast::<RulesCache>("rules_cache", (source, rules));
    }
}

/// A user's session; its token stays out of the observer.
#[gen_server(restart = "transient")]
pub struct Session {
    user: u64,
    requests: u64,
    #[allow(dead_code)] // the point is that it is not shown
    token: String,
}

pub enum SessionMsg {
    Request,
    /// A request this session cannot survive: the stand-in for a bug.
    Poison,
}

#[gen_server]
impl GenServer for Session {
    const STATE: StateFormat<Self> = StateFormat::with(|session, f| {
        f.debug_struct("Session")
            .field("user", &session.user)
            .field("requests", &session.requests)
            .field("token", &"<redacted>")
            .finish()
    });

    async fn init(user: u64) -> Init<Self> {
        Init::Ok(Session {
            user,
            requests: 0,
            token: format!("token-{user:08x}"),
        })
    }

    async fn handle_cast(&mut self, message: SessionMsg) -> NoReply<Self> {
        match message {
            SessionMsg::Request => {
                self.requests += 1;
                NoReply::NoReply
            }
            SessionMsg::Poison => panic!("session of user {} hit a bug", self.user),
        }
    }
}

/// Fetches the feed; crashes when the feed is unreachable.
#[gen_server(name = "fetcher")]
#[derive(Debug)]
pub struct Fetcher {
    fetched: u64,
}

pub enum FetcherMsg {
    Fetch,
    Unreachable,
}

#[gen_server]
impl GenServer for Fetcher {
    const STATE: StateFormat<Self> = StateFormat::debug();

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Fetcher { fetched: 0 })
    }

    async fn handle_cast(&mut self, message: FetcherMsg) -> NoReply<Self> {
        match message {
            FetcherMsg::Fetch => {
                self.fetched += 1;
                NoReply::NoReply
            }
            FetcherMsg::Unreachable => NoReply::Stop(ExitReason::error("feed unreachable")),
        }
    }
}

/// Parses what the fetcher fetched.
#[gen_server(name = "parser")]
#[derive(Debug)]
pub struct Parser {
    parsed: u64,
}

#[gen_server]
impl GenServer for Parser {
    const STATE: StateFormat<Self> = StateFormat::debug();

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Parser { parsed: 0 })
    }

    async fn handle_cast(&mut self, _: ()) -> NoReply<Self> {
        self.parsed += 1;
        NoReply::NoReply
    }
}

/// Starts the service with `sessions` sessions.
pub async fn start(sessions: u64) -> Result<Supervisor, StartError> {
    let service = MyService::start_link().await?;
    for user in 0..sessions {
        Sessions::start_child(Session::child_spec(user)).await?;
    }
    AuthDataLoaderSup::start_child().await?;
    Ok(service)
}

/// Makes the fetcher crash with "feed unreachable"; the pipeline restarts it and the parser.
pub fn crash_fetcher() {
    gen_server::cast::<Fetcher>("fetcher", FetcherMsg::Unreachable);
}

/// Poisons one session (the `n`th one the supervisor lists), which then crashes and is
/// restarted; `None` when there are no sessions.
pub async fn crash_a_session(n: usize) -> Option<Pid> {
    let children = Sessions::which_children().await.ok()?;
    let pid = children
        .iter()
        .filter_map(|child| child.pid.pid())
        .nth(n % children.len().max(1))?;
    Server::<Session>::from_pid(pid)
        .ok()?
        .cast(SessionMsg::Poison);
    Some(pid)
}

/// The example's load, until it is dropped: requests to sessions and the pipeline all the
/// time, a reload of the rules every 3 s, and a crash every 2 s, of the fetcher or of a
/// session in turn.
pub async fn load() {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    for round in 0u64.. {
        tick.tick().await;
        gen_server::cast::<Fetcher>("fetcher", FetcherMsg::Fetch);
        gen_server::cast::<Parser>("parser", ());
        if let Ok(children) = Sessions::which_children().await {
            for child in children.iter().skip((round as usize * 7) % 50).take(20) {
                if let Some(session) = child
                    .pid
                    .pid()
                    .and_then(|pid| Server::<Session>::from_pid(pid).ok())
                {
                    session.cast(SessionMsg::Request);
                }
            }
        }
        if round % 30 == 15 {
            let _ = AuthDataLoaderSup::start_child().await;
        }
        if round % 20 == 10 {
            if round % 40 == 10 {
                crash_fetcher();
            } else {
                crash_a_session(round as usize).await;
            }
        }
    }
}
