//! Registries of unique and duplicate keys: item 65 of otp-semantics.md.

use std::sync::{Arc, Mutex};

use bough_core::prelude::*;
use bough_core::{DuplicateRegistry, RegisterError};

type Topics = DuplicateRegistry<&'static str, u32>;
type Owners = Registry<&'static str, u32>;
/// Where a late registration's answer lands.
type Answer = Arc<Mutex<Option<Result<(), RegisterError>>>>;
/// At each DOWN: the reason, the entries still listed, the key still owned, the keys left.
type Seen = Arc<Mutex<Vec<(ExitReason, usize, bool, usize)>>>;

/// What a member does when called.
enum Act {
    Subscribe(&'static str, u32),
    Unsubscribe(&'static str),
    Own(&'static str, u32),
    Disown(&'static str),
    Panic,
    Stop(ExitReason),
    Messages,
}

#[derive(Clone)]
struct MemberArgs {
    topics: Topics,
    owners: Owners,
    /// Tries to register from its state's `Drop`, while it exits; the answer lands here.
    late: Option<Answer>,
}

struct Member {
    args: MemberArgs,
    messages: Vec<String>,
}

impl Drop for Member {
    fn drop(&mut self) {
        if let Some(late) = &self.args.late {
            *late.lock().unwrap() = Some(self.args.topics.register("late", 0));
        }
    }
}

impl GenServer for Member {
    type Args = MemberArgs;
    type Call = Act;
    type Reply = Result<Vec<String>, RegisterError>;
    type Cast = String;
    type Info = Never;
    type Continue = Never;

    async fn init(args: MemberArgs) -> Init<Self> {
        Init::Ok(Member {
            args,
            messages: Vec::new(),
        })
    }

    async fn handle_call(&mut self, act: Act, _: ReplyTo<Self::Reply>) -> Reply<Self> {
        let answer = match act {
            Act::Subscribe(topic, value) => self.args.topics.register(topic, value),
            Act::Unsubscribe(topic) => {
                self.args.topics.unregister(topic);
                Ok(())
            }
            Act::Own(key, value) => self.args.owners.register(key, value),
            Act::Disown(key) => {
                self.args.owners.unregister(key);
                Ok(())
            }
            Act::Panic => panic!("member panicked"),
            Act::Stop(reason) => return Reply::Stop(reason),
            Act::Messages => return Reply::Reply(Ok(self.messages.clone())),
        };
        Reply::Reply(answer.map(|()| Vec::new()))
    }

    async fn handle_cast(&mut self, message: String) -> NoReply<Self> {
        self.messages.push(message);
        NoReply::NoReply
    }
}

fn args(topics: &Topics, owners: &Owners) -> MemberArgs {
    MemberArgs {
        topics: topics.clone(),
        owners: owners.clone(),
        late: None,
    }
}

async fn member(topics: &Topics, owners: &Owners) -> Server<Member> {
    gen_server::start_link::<Member>(args(topics, owners))
        .await
        .unwrap()
}

async fn act(member: &Server<Member>, act: Act) -> Result<(), RegisterError> {
    member.call(act).await.unwrap().map(drop)
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

#[tokio::test]
async fn core_65_many_processes_register_under_one_key_each_with_a_value() {
    let (topics, owners) = (Topics::new(), Owners::new());
    let a = member(&topics, &owners).await;
    let b = member(&topics, &owners).await;
    act(&a, Act::Subscribe("news", 1)).await.unwrap();
    act(&a, Act::Subscribe("news", 2)).await.unwrap();
    act(&a, Act::Subscribe("sport", 3)).await.unwrap();
    act(&b, Act::Subscribe("news", 4)).await.unwrap();

    assert_eq!(
        sorted(topics.lookup("news")),
        sorted(vec![(a.pid(), 1), (a.pid(), 2), (b.pid(), 4)]),
        "a process may register under a key more than once"
    );
    assert_eq!(sorted(topics.keys(a.pid())), ["news", "sport"]);
    assert_eq!(topics.keys(b.pid()), ["news"]);
    assert_eq!(topics.count(), 4);
    assert_eq!(topics.count_matching("news", |v| *v % 2 == 0), 2);
    assert_eq!(
        sorted(topics.lookup_matching("news", |v| *v > 1)),
        sorted(vec![(a.pid(), 2), (b.pid(), 4)])
    );
    assert_eq!(
        topics.select(|key, pid, _| *key == "sport" && pid == a.pid()),
        [("sport", a.pid(), 3)]
    );

    act(&a, Act::Unsubscribe("news")).await.unwrap();
    assert_eq!(
        topics.lookup("news"),
        [(b.pid(), 4)],
        "both of a's entries went"
    );
    assert_eq!(topics.keys(a.pid()), ["sport"]);
    act(&b, Act::Unsubscribe("news")).await.unwrap();
    assert!(topics.lookup("news").is_empty());
    assert_eq!(topics.count(), 1);
}

#[tokio::test]
async fn core_65_dispatch_reaches_every_entry_and_skips_processes_that_exited() {
    let (topics, owners) = (Topics::new(), Owners::new());
    let mut members = Vec::new();
    for value in 0..5 {
        let m = member(&topics, &owners).await;
        act(&m, Act::Subscribe("news", value)).await.unwrap();
        members.push(m);
    }
    let publish = |text: &'static str| {
        topics.dispatch("news", |entries| {
            for (pid, value) in entries {
                Server::<Member>::from_pid(*pid)
                    .unwrap()
                    .cast(format!("{text} for {value}"));
            }
        })
    };
    assert_eq!(publish("first"), 5);
    // Subscribers leave in every way a process can: they all drop out of the next dispatch.
    members[0].stop(ExitReason::Normal).await.unwrap();
    let _ = members[1].call(Act::Panic).await;
    process::kill(members[2].pid());
    let _ = members[3].call(Act::Stop(ExitReason::error("gone"))).await;
    for m in &members[..4] {
        m.monitor().await;
    }
    assert_eq!(publish("second"), 1);
    let kept = members[4].call(Act::Messages).await.unwrap().unwrap();
    assert_eq!(kept, ["first for 4", "second for 4"]);
    assert_eq!(topics.dispatch("nobody", |_| panic!("not called")), 0);
}

/// Watches members die and records, at each DOWN, whether the registries still list them.
struct Watcher {
    topics: Topics,
    owners: Owners,
    seen: Seen,
}

impl GenServer for Watcher {
    type Args = (
        Topics,
        Owners,
        Arc<Mutex<Vec<(ExitReason, usize, bool, usize)>>>,
    );
    /// A process to monitor; `None` only lets earlier messages be handled first.
    type Call = Option<Pid>;
    type Reply = ();
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init((topics, owners, seen): Self::Args) -> Init<Self> {
        Init::Ok(Watcher {
            topics,
            owners,
            seen,
        })
    }

    async fn handle_call(&mut self, pid: Option<Pid>, _: ReplyTo<()>) -> Reply<Self> {
        if let Some(pid) = pid {
            gen_server::monitor(pid);
        }
        Reply::Reply(())
    }

    async fn handle_down(&mut self, down: Down) -> NoReply<Self> {
        let listed = self
            .topics
            .lookup("news")
            .iter()
            .filter(|(pid, _)| *pid == down.pid)
            .count();
        let owns = self.owners.whereis("owned") == Some(down.pid);
        let keys = self.topics.keys(down.pid).len() + self.owners.keys(down.pid).len();
        self.seen
            .lock()
            .unwrap()
            .push((down.reason, listed, owns, keys));
        NoReply::NoReply
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_65_entries_are_gone_before_the_monitors_of_the_process_fire() {
    let (topics, owners) = (Topics::new(), Owners::new());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let watcher = gen_server::start_link::<Watcher>((topics.clone(), owners.clone(), seen.clone()))
        .await
        .unwrap();
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    let endings = 5;
    for round in 0..100 {
        let spec = ChildSpec::worker::<Member>(args(&topics, &owners)).restart(Restart::Temporary);
        let m = sup.start_server::<Member>(spec).await.unwrap();
        act(&m, Act::Subscribe("news", round)).await.unwrap();
        act(&m, Act::Own("owned", round)).await.unwrap();
        watcher.call(Some(m.pid())).await.unwrap();
        let down = process::monitor(m.pid());
        match round % endings {
            0 => m.stop(ExitReason::Normal).await.unwrap(),
            1 => {
                let _ = m.call(Act::Panic).await;
            }
            2 => process::kill(m.pid()),
            3 => sup.terminate_child(m.pid()).await.unwrap(),
            _ => process::exit(m.pid(), ExitReason::error("told to go")),
        }
        down.await;
        // The monitor future of this test fired too: the entries must be gone already.
        assert!(topics.lookup("news").is_empty(), "round {round}");
        assert_eq!(owners.whereis("owned"), None, "round {round}");
    }
    // The last DOWN may still be on its way to the watcher while this test's monitor has fired.
    while seen.lock().unwrap().len() < 100 {
        watcher.call(None).await.unwrap();
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 100);
    for (reason, listed, owns, keys) in &seen {
        assert_eq!(
            (*listed, *owns, *keys),
            (0, false, 0),
            "the DOWN ({reason}) came while the registries still listed the process"
        );
    }
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn core_65_unique_keys_answer_already_registered_with_the_holder() {
    let (topics, owners) = (Topics::new(), Owners::new());
    let a = member(&topics, &owners).await;
    let b = member(&topics, &owners).await;
    act(&a, Act::Own("lead", 1)).await.unwrap();
    assert_eq!(
        act(&b, Act::Own("lead", 2)).await,
        Err(RegisterError::AlreadyRegistered(a.pid()))
    );
    assert_eq!(
        act(&a, Act::Own("lead", 3)).await,
        Err(RegisterError::AlreadyRegistered(a.pid())),
        "a unique key is held once, even by its holder"
    );
    assert_eq!(owners.lookup("lead"), Some((a.pid(), 1)));
    // A key taken by `register` is a name like any other: calls reach its holder.
    let by_name = gen_server::call::<Member>(owners.name("lead"), Act::Messages).await;
    assert_eq!(by_name.unwrap(), Ok(Vec::new()));

    act(&b, Act::Disown("lead")).await.unwrap();
    assert_eq!(
        owners.whereis("lead"),
        Some(a.pid()),
        "only the holder frees a key"
    );
    act(&a, Act::Disown("lead")).await.unwrap();
    act(&b, Act::Own("lead", 2)).await.unwrap();
    assert_eq!(owners.lookup("lead"), Some((b.pid(), 2)));
    assert_eq!(owners.keys(b.pid()), ["lead"]);
    assert!(owners.keys(a.pid()).is_empty());
}

#[tokio::test]
async fn core_65_a_name_taken_at_start_carries_its_value_and_is_listed_in_keys() {
    let (topics, owners) = (Topics::new(), Owners::new());
    let started = gen_server::start_link_with::<Member>(
        args(&topics, &owners),
        StartOptions::new().name(owners.name_with_value("named", 7)),
    )
    .await
    .unwrap();
    assert_eq!(owners.lookup("named"), Some((started.pid(), 7)));
    assert_eq!(owners.keys(started.pid()), ["named"]);
    assert_eq!(owners.count(), 1);
    assert_eq!(
        owners.select(|_, _, value| *value == 7),
        [("named", started.pid(), 7)]
    );
    started.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(owners.lookup("named"), None);
    assert!(owners.keys(started.pid()).is_empty());
}

#[tokio::test]
async fn core_65_an_exiting_process_cannot_register_and_outsiders_never_can() {
    let (topics, owners) = (Topics::new(), Owners::new());
    let late = Arc::new(Mutex::new(None));
    let m = gen_server::start_link::<Member>(MemberArgs {
        late: Some(late.clone()),
        ..args(&topics, &owners)
    })
    .await
    .unwrap();
    m.stop(ExitReason::Normal).await.unwrap();
    assert_eq!(*late.lock().unwrap(), Some(Err(RegisterError::Exiting)));
    assert!(topics.lookup("late").is_empty());
    assert_eq!(topics.register("news", 1), Err(RegisterError::NotAProcess));
    assert_eq!(owners.register("x", 1), Err(RegisterError::NotAProcess));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn core_65_concurrent_subscribers_leave_nothing_behind() {
    let (topics, owners) = (Topics::new(), Owners::new());
    let workers: Vec<_> = (0..8u32)
        .map(|w| {
            let (topics, owners) = (topics.clone(), owners.clone());
            tokio::spawn(async move {
                for round in 0..50 {
                    let m = member(&topics, &owners).await;
                    act(&m, Act::Subscribe("shared", w)).await.unwrap();
                    act(
                        &m,
                        Act::Subscribe(if round % 2 == 0 { "even" } else { "odd" }, w),
                    )
                    .await
                    .unwrap();
                    if round % 3 == 0 {
                        act(&m, Act::Unsubscribe("shared")).await.unwrap();
                    }
                    m.stop(ExitReason::Normal).await.unwrap();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    assert_eq!(topics.count(), 0);
    assert!(topics.select(|_, _, _| true).is_empty());
}
