//! Introspection (item 62 of otp-semantics.md): `Process.info`, `:sys.get_state`,
//! `:sys.get_status`, the tree as the observer walks it, and supervisor events.

mod common;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bough_core::ChildPid;
use bough_core::introspect::{
    self, ChildDetail, EventFilter, EventKind, Events, ProcessKind, StateError, StateFormat,
    Status, SupervisorKind, TreeEvent, TreeOptions,
};
use bough_core::prelude::*;
use common::{settle, wait_until};
use tokio::sync::{Mutex as AsyncMutex, oneshot};

/// A server that shows its state, can be held inside a callback, and crashes on request.
#[derive(Debug)]
struct Holder {
    tag: &'static str,
    handled: u32,
    #[allow(dead_code)] // read through `Debug`
    idle_timeouts: Arc<AtomicU32>,
}

enum Msg {
    /// Waits inside the callback until the sender is dropped or fires.
    Hold(Gate),
    Bump,
    Crash,
    /// Asks for an idle time-out.
    IdleFor(Duration),
}

impl GenServer for Holder {
    type Args = (&'static str, Arc<AtomicU32>);
    type Call = ();
    type Reply = u32;
    type Cast = Msg;
    type Info = Never;
    type Continue = Never;
    const STATE: StateFormat<Self> = StateFormat::debug();

    async fn init((tag, idle_timeouts): Self::Args) -> Init<Self> {
        Init::Ok(Holder {
            tag,
            handled: 0,
            idle_timeouts,
        })
    }

    async fn handle_call(&mut self, _: (), _: ReplyTo<u32>) -> Reply<Self> {
        Reply::Reply(self.handled)
    }

    async fn handle_cast(&mut self, msg: Msg) -> NoReply<Self> {
        self.handled += 1;
        match msg {
            Msg::Hold(gate) => {
                let rx = gate.lock().await.take();
                if let Some(rx) = rx {
                    let _ = rx.await;
                }
                NoReply::NoReply
            }
            Msg::Bump => NoReply::NoReply,
            Msg::Crash => panic!("{} crashed on purpose", self.tag),
            Msg::IdleFor(idle) => NoReply::Timeout(idle),
        }
    }

    async fn handle_timeout(&mut self) -> NoReply<Self> {
        self.idle_timeouts.fetch_add(1, Ordering::SeqCst);
        NoReply::NoReply
    }
}

fn holder(tag: &'static str) -> ChildSpec {
    ChildSpec::worker::<Holder>((tag, Arc::new(AtomicU32::new(0)))).id(tag)
}

/// A server that keeps its state to itself (the default).
struct Secret;

impl GenServer for Secret {
    type Args = ();
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Secret)
    }
}

/// A server whose state formatter panics.
struct BadFormat;

impl GenServer for BadFormat {
    type Args = ();
    type Call = ();
    type Reply = ();
    type Cast = Never;
    type Info = Never;
    type Continue = Never;
    const STATE: StateFormat<Self> = StateFormat::with(|_, _| panic!("no formatting today"));

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(BadFormat)
    }

    async fn handle_call(&mut self, _: (), _: ReplyTo<()>) -> Reply<Self> {
        Reply::Reply(())
    }
}

/// A server that shows part of its state.
struct Session {
    user: &'static str,
    #[allow(dead_code)] // never shown, which is the point
    token: &'static str,
}

impl GenServer for Session {
    type Args = ();
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;
    const STATE: StateFormat<Self> = StateFormat::with(|session, f| {
        write!(
            f,
            "Session {{ user: {:?}, token: <redacted> }}",
            session.user
        )
    });

    async fn init(_: ()) -> Init<Self> {
        Init::Ok(Session {
            user: "joe",
            token: "s3cret",
        })
    }
}

/// Where a held callback waits.
type Gate = Arc<AsyncMutex<Option<oneshot::Receiver<()>>>>;

fn gate() -> (oneshot::Sender<()>, Gate) {
    let (tx, rx) = oneshot::channel();
    (tx, Arc::new(AsyncMutex::new(Some(rx))))
}

fn opts(strategy: Strategy) -> SupervisorOptions {
    SupervisorOptions::new(strategy)
}

fn info(pid: Pid) -> introspect::ProcessInfo {
    introspect::process_info(pid).expect("the process is alive")
}

#[tokio::test]
async fn process_info_tells_name_type_parent_queue_and_status() {
    let before = std::time::SystemTime::now();
    let sup = Supervisor::start_link(
        [holder("info_a").name("introspect_info_a")],
        opts(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let server = Server::<Holder>::whereis(&Name::local("introspect_info_a")).unwrap();
    assert_eq!(server.call(()).await, Ok(0));

    let idle = info(server.pid());
    assert_eq!(idle.pid, server.pid());
    assert_eq!(
        idle.name.as_ref().map(ToString::to_string).as_deref(),
        Some("introspect_info_a")
    );
    assert_eq!(idle.type_name, std::any::type_name::<Holder>());
    assert_eq!(idle.kind, ProcessKind::Worker);
    assert_eq!(idle.parent, Some(sup.pid()));
    assert_eq!(idle.status, Status::Waiting);
    assert_eq!(idle.message_queue_len, 0);
    assert!(!idle.trap_exit);
    // Start times come from a coarse clock (a tick is at most a few ms).
    let tick = Duration::from_millis(50);
    assert!(idle.started_at + tick >= before);
    assert!(idle.started_at <= std::time::SystemTime::now() + tick);

    // Held inside a callback, with three messages behind it.
    let (release, held) = gate();
    server.cast(Msg::Hold(held));
    // Inside the callback: the queue is empty and the server is not waiting for mail.
    wait_until(|| {
        let info = info(server.pid());
        info.status == Status::Running && info.message_queue_len == 0
    })
    .await;
    for _ in 0..3 {
        server.cast(Msg::Bump);
    }
    let busy = info(server.pid());
    assert_eq!(busy.status, Status::Running);
    assert_eq!(busy.message_queue_len, 3);

    drop(release);
    wait_until(|| info(server.pid()).message_queue_len == 0).await;
    assert_eq!(server.call(()).await, Ok(4), "the hold and three bumps");
    assert_eq!(info(server.pid()).status, Status::Waiting);

    let sup_info = info(sup.pid());
    assert_eq!(sup_info.kind, ProcessKind::Supervisor);
    assert_eq!(sup_info.type_name, "Supervisor");
    assert!(sup_info.trap_exit);
    assert!(
        sup_info.started_at <= idle.started_at,
        "the parent starts first"
    );
    assert!(sup_info.name.is_none());
    sup.stop(ExitReason::Shutdown).await.unwrap();
    assert!(introspect::process_info(server.pid()).is_none());
}

#[tokio::test]
async fn process_info_sees_links_monitors_and_releases_the_name() {
    let dynamic = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    assert_eq!(info(dynamic.pid()).kind, ProcessKind::Dynamic);
    let named = Name::local("introspect_links");
    let server = gen_server::start_link_with::<Holder>(
        ("links", Arc::new(AtomicU32::new(0))),
        StartOptions::new().name(named.clone()),
    )
    .await
    .unwrap();
    let monitor = server.monitor();
    assert_eq!(info(server.pid()).monitored_by, 1);
    assert_eq!(
        info(server.pid()).parent,
        None,
        "started outside any process"
    );
    drop(monitor);

    server.stop(ExitReason::Normal).await.unwrap();
    assert!(introspect::process_info(server.pid()).is_none());
    // The name is free and the new holder is the one shown under it.
    let again = gen_server::start_link_with::<Holder>(
        ("links", Arc::new(AtomicU32::new(0))),
        StartOptions::new().name(named),
    )
    .await
    .unwrap();
    assert_eq!(
        info(again.pid())
            .name
            .map(|name| name.to_string())
            .as_deref(),
        Some("introspect_links")
    );
    again.stop(ExitReason::Normal).await.unwrap();
}

#[tokio::test]
async fn get_state_shows_only_what_the_server_opts_into() {
    let holder = gen_server::start_link::<Holder>(("state", Arc::new(AtomicU32::new(0))))
        .await
        .unwrap();
    holder.cast(Msg::Bump);
    let state = introspect::get_state(holder.pid()).await.unwrap();
    assert!(
        state.starts_with("Holder {\n    tag: \"state\",\n    handled: 1,"),
        "{state}"
    );

    let secret = gen_server::start_link::<Secret>(()).await.unwrap();
    assert_eq!(
        introspect::get_state(secret.pid()).await,
        Err(StateError::Hidden)
    );
    let session = gen_server::start_link::<Session>(()).await.unwrap();
    assert_eq!(
        introspect::get_state(session.pid()).await.unwrap(),
        "Session { user: \"joe\", token: <redacted> }"
    );

    let bad = gen_server::start_link::<BadFormat>(()).await.unwrap();
    assert_eq!(
        introspect::get_state(bad.pid()).await,
        Err(StateError::FormatPanicked("no formatting today".into()))
    );
    assert_eq!(bad.call(()).await, Ok(()), "the server runs on");

    assert_eq!(
        introspect::get_state(Pid::from_raw(u64::MAX)).await,
        Err(StateError::NoProc)
    );
    for pid in [holder.pid(), secret.pid(), session.pid(), bad.pid()] {
        process::kill(pid);
    }
}

#[tokio::test(start_paused = true)]
async fn get_state_waits_behind_a_busy_callback_and_times_out() {
    let server = gen_server::start_link::<Holder>(("busy", Arc::new(AtomicU32::new(0))))
        .await
        .unwrap();
    let (release, held) = gate();
    server.cast(Msg::Hold(held));
    settle().await;
    assert_eq!(
        introspect::get_state_timeout(server.pid(), Duration::from_secs(1)).await,
        Err(StateError::Timeout)
    );
    let asked = tokio::spawn(introspect::get_state(server.pid()));
    settle().await;
    drop(release);
    let state = asked.await.unwrap().unwrap();
    assert!(state.contains("handled: 1"), "{state}");
    server.stop(ExitReason::Normal).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn get_state_does_not_move_an_idle_time_out() {
    let timeouts = Arc::new(AtomicU32::new(0));
    let server = gen_server::start_link::<Holder>(("idle", timeouts.clone()))
        .await
        .unwrap();
    server.cast(Msg::IdleFor(Duration::from_secs(10)));
    settle().await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    introspect::get_state(server.pid()).await.unwrap();
    assert_eq!(timeouts.load(Ordering::SeqCst), 0);
    // Due at 10 s from the cast, not 10 s from the question.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(timeouts.load(Ordering::SeqCst), 1);
    server.stop(ExitReason::Normal).await.unwrap();
}

#[tokio::test]
async fn get_state_of_a_server_that_exits_with_the_question_queued_fails() {
    let server = gen_server::start_link::<Holder>(("exits", Arc::new(AtomicU32::new(0))))
        .await
        .unwrap();
    let (release, held) = gate();
    server.cast(Msg::Hold(held));
    server.cast(Msg::Crash);
    let asked = tokio::spawn(introspect::get_state(server.pid()));
    settle().await;
    drop(release);
    assert_eq!(asked.await.unwrap(), Err(StateError::Exited));
}

fn ids(node: &introspect::Node) -> Vec<Option<String>> {
    node.children
        .iter()
        .map(|child| {
            child
                .child
                .as_ref()
                .and_then(|c| c.id.as_deref().map(str::to_string))
        })
        .collect()
}

#[tokio::test]
async fn the_tree_walks_static_and_dynamic_supervisors_recursively() {
    let jobs = DynamicSupervisorOptions::new()
        .name("introspect_tree_jobs")
        .max_children(1000);
    let inner = Supervisor::child_spec(
        [holder("leaf_a"), holder("leaf_b")],
        opts(Strategy::RestForOne),
    )
    .id("inner");
    let root = Supervisor::start_link(
        [
            holder("cache").restart(Restart::Transient),
            inner,
            DynamicSupervisor::child_spec(jobs),
        ],
        opts(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let jobs = DynamicSupervisor::whereis(&Name::local("introspect_tree_jobs")).unwrap();
    for n in 0..5 {
        jobs.start_child(ChildSpec::worker::<Holder>((
            ["j0", "j1", "j2", "j3", "j4"][n],
            Arc::new(AtomicU32::new(0)),
        )))
        .await
        .unwrap();
    }

    let tree = introspect::tree(root.pid(), TreeOptions::new().max_children(3))
        .await
        .unwrap();
    assert_eq!(tree.pid, Some(root.pid()));
    assert!(tree.child.is_none(), "the root has no supervisor here");
    assert_eq!(
        tree.supervisor.as_ref().unwrap().kind,
        SupervisorKind::Static {
            strategy: Strategy::OneForOne
        }
    );
    assert_eq!(
        ids(&tree),
        [
            Some("cache".to_string()),
            Some("inner".to_string()),
            Some("introspect_tree_jobs".to_string())
        ]
    );
    let cache = &tree.children[0];
    let detail = cache.child.as_ref().unwrap();
    assert_eq!(detail.restart, Restart::Transient);
    assert_eq!(detail.shutdown, Shutdown::millis(5000));
    assert_eq!(detail.child_type, ChildType::Worker);
    assert_eq!(detail.restarts, 0);
    assert_eq!(
        cache.info.as_ref().unwrap().kind,
        ProcessKind::Worker,
        "{cache:?}"
    );
    assert!(cache.supervisor.is_none());

    let inner = &tree.children[1];
    assert_eq!(
        ids(inner),
        [Some("leaf_a".to_string()), Some("leaf_b".to_string())]
    );
    assert_eq!(inner.omitted, 0);

    let jobs_node = &tree.children[2];
    assert_eq!(jobs_node.pid, Some(jobs.pid()));
    let jobs_info = jobs_node.supervisor.as_ref().unwrap();
    assert_eq!(
        jobs_info.kind,
        SupervisorKind::Dynamic {
            max_children: Some(1000)
        }
    );
    assert_eq!(jobs_info.count.active, 5);
    assert_eq!(jobs_node.children.len(), 3, "at most max_children walked");
    assert_eq!(jobs_node.omitted, 2);
    assert!(jobs_node.children.iter().all(|c| {
        c.child.as_ref().unwrap().id.is_none()
            && c.info.as_ref().unwrap().parent == Some(jobs.pid())
    }));

    let shallow = introspect::tree(root.pid(), TreeOptions::new().max_depth(0))
        .await
        .unwrap();
    assert!(shallow.children.is_empty());
    assert_eq!(shallow.omitted, 3);

    // A tree can start anywhere, even at a worker.
    let leaf_pid = inner.children[0].pid.unwrap();
    let leaf = introspect::tree(leaf_pid, TreeOptions::new())
        .await
        .unwrap();
    assert!(leaf.children.is_empty() && leaf.supervisor.is_none());
    root.stop(ExitReason::Shutdown).await.unwrap();
    assert_eq!(
        introspect::tree(root.pid(), TreeOptions::new()).await.err(),
        Some(CallError::NoProc)
    );
}

#[tokio::test]
async fn children_come_in_pages_and_non_supervisors_are_refused() {
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    let mut started = Vec::new();
    for _ in 0..10 {
        started.push(
            sup.start_child(ChildSpec::worker::<Secret>(()))
                .await
                .unwrap(),
        );
    }
    let mut seen = Vec::new();
    for offset in [0, 4, 8] {
        let page = introspect::children(sup.pid(), offset, 4).await.unwrap();
        assert_eq!(page.total, 10);
        assert_eq!(page.offset, offset);
        seen.extend(page.children.iter().map(|c| c.pid.pid().unwrap()));
    }
    seen.sort();
    started.sort();
    assert_eq!(seen, started, "the pages cover every child once");
    let past = introspect::children(sup.pid(), 50, 4).await.unwrap();
    assert_eq!((past.offset, past.children.len()), (10, 0));

    let worker = started[0];
    assert!(matches!(
        introspect::children(worker, 0, 1).await,
        Err(CallError::WrongType { .. })
    ));
    assert_eq!(
        introspect::supervisor_info(Pid::from_raw(u64::MAX)).await,
        Err(CallError::NoProc)
    );
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

fn detail_of(page: &introspect::Children, id: &str) -> ChildDetail {
    page.children
        .iter()
        .find(|c| c.id.as_deref() == Some(id))
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn supervisors_count_restarts_per_child_and_in_total() {
    let sup = Supervisor::start_link(
        [
            holder("first").name("introspect_restart_first"),
            holder("second").name("introspect_restart_second"),
        ],
        opts(Strategy::RestForOne).max_restarts(10),
    )
    .await
    .unwrap();
    let first = Server::<Holder>::whereis(&Name::local("introspect_restart_first")).unwrap();
    first.cast(Msg::Crash);
    wait_until(|| !first.is_alive()).await;
    // The restart of `first` restarts `second` after it, as rest_for_one does.
    let page = loop {
        let page = introspect::children(sup.pid(), 0, 10).await.unwrap();
        if page.children.iter().all(|c| c.restarts == 1) {
            break page;
        }
        settle().await;
    };
    assert_eq!(detail_of(&page, "first").restarts, 1);
    assert_eq!(detail_of(&page, "second").restarts, 1);
    assert_eq!(page.supervisor.total_restarts, 1);
    assert_eq!(page.supervisor.recent_restarts, 1);
    assert_eq!(page.supervisor.max_restarts, 10);
    assert_eq!(page.supervisor.period, Duration::from_secs(5));

    let second = Server::<Holder>::whereis(&Name::local("introspect_restart_second")).unwrap();
    second.cast(Msg::Crash);
    wait_until(|| !second.is_alive()).await;
    let page = loop {
        let page = introspect::children(sup.pid(), 0, 10).await.unwrap();
        if detail_of(&page, "second").restarts == 2 {
            break page;
        }
        settle().await;
    };
    assert_eq!(detail_of(&page, "first").restarts, 1);
    assert_eq!(page.supervisor.total_restarts, 2);

    // A child's status names its supervisor's view of it.
    let second = Server::<Holder>::whereis(&Name::local("introspect_restart_second")).unwrap();
    let status = introspect::get_status(second.pid(), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(status.info.pid, second.pid());
    let child = status.child.unwrap();
    assert_eq!(
        (child.id.as_deref(), child.pid, child.restarts),
        (Some("second"), ChildPid::Running(second.pid()), 2)
    );
    assert!(status.supervisor.is_none());
    assert!(status.state.unwrap().unwrap().contains("tag: \"second\""));

    let status = introspect::get_status(sup.pid(), Duration::from_secs(5))
        .await
        .unwrap();
    assert!(status.child.is_none() && status.state.is_none());
    assert_eq!(status.supervisor.unwrap().total_restarts, 2);
    let text = introspect::get_state(sup.pid()).await.unwrap();
    assert!(text.contains("total_restarts: 2"), "{text}");
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test]
async fn a_dynamic_child_keeps_its_restart_count_across_restarts() {
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new().max_restarts(10))
        .await
        .unwrap();
    let mut pid = sup
        .start_child(ChildSpec::worker::<Holder>((
            "dyn",
            Arc::new(AtomicU32::new(0)),
        )))
        .await
        .unwrap();
    let other = sup
        .start_child(ChildSpec::worker::<Secret>(()))
        .await
        .unwrap();
    for round in 1..=3 {
        Server::<Holder>::from_pid(pid).unwrap().cast(Msg::Crash);
        let new_pid = loop {
            let page = introspect::children(sup.pid(), 0, 10).await.unwrap();
            let replaced = page
                .children
                .iter()
                .filter_map(|c| c.pid.pid())
                .find(|&p| p != pid && p != other);
            if let Some(new_pid) = replaced {
                let detail = page
                    .children
                    .iter()
                    .find(|c| c.pid == ChildPid::Running(new_pid))
                    .unwrap();
                assert_eq!(detail.restarts, round);
                break new_pid;
            }
            settle().await;
        };
        pid = new_pid;
    }
    let page = introspect::children(sup.pid(), 0, 10).await.unwrap();
    let never = page
        .children
        .iter()
        .find(|c| c.pid == ChildPid::Running(other))
        .unwrap();
    assert_eq!(never.restarts, 0);
    assert_eq!(page.supervisor.total_restarts, 3);
    // Terminated, the child and its count are gone.
    sup.terminate_child(pid).await.unwrap();
    assert_eq!(
        introspect::children(sup.pid(), 0, 10).await.unwrap().total,
        1
    );
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

/// The events of one supervisor, from a subscription shared with other tests.
async fn next_of(events: &mut Events, sup: Pid) -> TreeEvent {
    loop {
        let event = events.recv().await.expect("no lag in a test");
        if event.supervisor == sup {
            return event;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_get_crashes_restarts_and_intensity_as_they_happen() {
    let mut notable = introspect::subscribe(EventFilter::Notable);
    let mut all = introspect::subscribe(EventFilter::All);
    assert_eq!(all.filter(), EventFilter::All);
    let sup = Supervisor::start_link(
        [holder("evt").name("introspect_events")],
        opts(Strategy::OneForOne).max_restarts(1),
    )
    .await
    .unwrap();
    let first = Server::<Holder>::whereis(&Name::local("introspect_events")).unwrap();

    let started = next_of(&mut all, sup.pid()).await;
    assert_eq!(started.child_id, "evt");
    assert!(matches!(started.kind, EventKind::Started { pid } if pid == first.pid()));
    assert!(!started.is_notable());

    first.cast(Msg::Crash);
    let crash = next_of(&mut notable, sup.pid()).await;
    match &crash.kind {
        EventKind::Exited {
            pid,
            reason,
            restarting,
        } => {
            assert_eq!(*pid, first.pid());
            assert_eq!(reason.to_string(), "panic: evt crashed on purpose");
            assert!(restarting);
        }
        other => panic!("expected the crash, got {other:?}"),
    }
    let restarted = next_of(&mut notable, sup.pid()).await;
    let EventKind::Restarted { pid: second } = restarted.kind else {
        panic!("expected the restart, got {restarted:?}");
    };
    assert!(restarted.at >= crash.at);
    // Everything, in order: the start of the replacement comes with its restart.
    let kinds: Vec<&'static str> = [
        next_of(&mut all, sup.pid()).await,
        next_of(&mut all, sup.pid()).await,
        next_of(&mut all, sup.pid()).await,
    ]
    .iter()
    .map(|e| match e.kind {
        EventKind::Exited { .. } => "exited",
        EventKind::Started { .. } => "started",
        EventKind::Restarted { .. } => "restarted",
        _ => "other",
    })
    .collect();
    assert_eq!(kinds, ["exited", "started", "restarted"]);

    let monitor = sup.monitor();
    Server::<Holder>::from_pid(second).unwrap().cast(Msg::Crash);
    let crash = next_of(&mut notable, sup.pid()).await;
    assert!(matches!(crash.kind, EventKind::Exited { pid, .. } if pid == second));
    let gave_up = next_of(&mut notable, sup.pid()).await;
    assert!(
        matches!(&gave_up.kind, EventKind::IntensityReached { reason } if *reason == ExitReason::Shutdown),
        "{gave_up:?}"
    );
    assert_eq!(monitor.await, ExitReason::Shutdown);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notable_subscribers_see_no_clean_exits_and_failed_starts_are_told() {
    struct Refuses;
    impl GenServer for Refuses {
        type Args = ();
        type Call = Never;
        type Reply = Never;
        type Cast = Never;
        type Info = Never;
        type Continue = Never;
        async fn init(_: ()) -> Init<Self> {
            Init::Stop(ExitReason::error("no database"))
        }
    }
    let mut notable = introspect::subscribe(EventFilter::default());
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    let done = sup
        .start_child(
            ChildSpec::worker::<Holder>(("clean", Arc::new(AtomicU32::new(0))))
                .restart(Restart::Transient),
        )
        .await
        .unwrap();
    Server::<Holder>::from_pid(done)
        .unwrap()
        .stop(ExitReason::Normal)
        .await
        .unwrap();
    assert!(
        sup.start_child(ChildSpec::worker::<Refuses>(()).id("refuses"))
            .await
            .is_err()
    );
    // The clean exit was not sent: the failed start is the first event of this supervisor.
    let failed = next_of(&mut notable, sup.pid()).await;
    assert_eq!(failed.child_id, "refuses");
    assert!(
        matches!(&failed.kind, EventKind::StartFailed { reason } if reason.contains("no database")),
        "{failed:?}"
    );
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_falls_behind_is_told_how_far() {
    let mut all = introspect::subscribe(EventFilter::All);
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    for _ in 0..5000 {
        sup.start_child(ChildSpec::worker::<Secret>(()))
            .await
            .unwrap();
    }
    let lagged = loop {
        match all.try_recv() {
            Some(Err(lagged)) => break lagged,
            Some(Ok(_)) => {}
            None => panic!("5000 starts and no lag"),
        }
    };
    assert!(lagged.0 >= 5000 - 4096, "{lagged}");
    sup.stop(ExitReason::Shutdown).await.unwrap();
}

/// `StateFormat` is `Copy` and says whether it shows anything.
#[test]
fn state_formats_say_whether_they_show() {
    assert!(!<Secret as GenServer>::STATE.is_shown());
    assert!(<Holder as GenServer>::STATE.is_shown());
    let format = <Session as GenServer>::STATE;
    let copy = format;
    assert_eq!(format!("{copy:?}"), "StateFormat(shown)");
    struct Plain;
    impl fmt::Debug for Plain {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("plain")
        }
    }
    assert_eq!(
        format!("{:?}", StateFormat::<Plain>::hidden()),
        "StateFormat(hidden)"
    );
}
