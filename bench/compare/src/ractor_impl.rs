//! The workloads in ractor, with supervision as ractor users write it: a supervisor actor
//! that spawns linked children and restarts them from `handle_supervisor_evt`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ractor::rpc::CallResult;
use ractor::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SpawnErr,
    SupervisionEvent,
};

use crate::common::{Sizes, callers, median, nanos_each, partitions, per_second, report, rss};

const SYSTEM: &str = "ractor";

/// W1, W7: does its work in `post_start` (ractor's `handle_continue`) and stops normally.
struct Loader;

impl Actor for Loader {
    type Msg = ();
    type State = Arc<AtomicUsize>;
    type Arguments = Arc<AtomicUsize>;

    async fn pre_start(
        &self,
        _: ActorRef<()>,
        ran: Arc<AtomicUsize>,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(ran)
    }

    async fn post_start(
        &self,
        myself: ActorRef<()>,
        ran: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        ran.fetch_add(1, Ordering::Relaxed);
        myself.stop(None);
        Ok(())
    }
}

enum Ask {
    Ping(RpcReplyPort<()>),
    /// Panics; the reply port is dropped with the failed actor.
    Crash(#[allow(dead_code)] RpcReplyPort<()>),
}

/// W2–W6: answers pings, crashes on request, counts its stops.
struct Echo;

impl Actor for Echo {
    type Msg = Ask;
    type State = Option<Arc<AtomicUsize>>;
    type Arguments = Option<Arc<AtomicUsize>>;

    async fn pre_start(
        &self,
        _: ActorRef<Ask>,
        stopped: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(stopped)
    }

    async fn handle(
        &self,
        _: ActorRef<Ask>,
        ask: Ask,
        _: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match ask {
            Ask::Ping(reply) => {
                let _ = reply.send(());
            }
            Ask::Crash(_) => panic!("crash on purpose"),
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _: ActorRef<Ask>,
        stopped: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(stopped) = stopped {
            stopped.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// What the supervisor restarts a child with.
#[derive(Clone)]
enum Spec {
    /// A transient loader: forgotten when it stops normally.
    Loader(Arc<AtomicUsize>),
    /// A permanent echo, optionally named: restarted when it fails.
    Echo(Option<String>, Option<Arc<AtomicUsize>>),
}

enum SupMsg {
    Start(Spec, RpcReplyPort<Result<ActorId, ActorId>>),
    Terminate(ActorId, RpcReplyPort<()>),
    Count(RpcReplyPort<usize>),
}

/// A dynamic supervisor, as ractor users write one.
struct Sup;

struct SupState {
    children: HashMap<ActorId, (ActorCell, Spec)>,
}

async fn start_spec(myself: &ActorRef<SupMsg>, spec: &Spec) -> Result<ActorCell, SpawnErr> {
    let cell = myself.get_cell();
    Ok(match spec.clone() {
        Spec::Loader(ran) => Actor::spawn_linked(None, Loader, ran, cell)
            .await?
            .0
            .get_cell(),
        Spec::Echo(name, stopped) => Actor::spawn_linked(name, Echo, stopped, cell)
            .await?
            .0
            .get_cell(),
    })
}

impl Actor for Sup {
    type Msg = SupMsg;
    type State = SupState;
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<SupMsg>, _: ()) -> Result<SupState, ActorProcessingErr> {
        Ok(SupState {
            children: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<SupMsg>,
        message: SupMsg,
        state: &mut SupState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SupMsg::Start(spec, reply) => {
                let result = match start_spec(&myself, &spec).await {
                    Ok(cell) => {
                        let id = cell.get_id();
                        state.children.insert(id, (cell, spec));
                        Ok(id)
                    }
                    Err(SpawnErr::ActorAlreadyRegistered(name)) => {
                        Err(ractor::registry::where_is(name)
                            .expect("the holder runs")
                            .get_id())
                    }
                    Err(other) => return Err(other.into()),
                };
                let _ = reply.send(result);
            }
            SupMsg::Terminate(id, reply) => {
                if let Some((cell, _)) = state.children.remove(&id) {
                    let _ = cell.stop_and_wait(None, None).await;
                }
                let _ = reply.send(());
            }
            SupMsg::Count(reply) => {
                let _ = reply.send(state.children.len());
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<SupMsg>,
        event: SupervisionEvent,
        state: &mut SupState,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                state.children.remove(&cell.get_id());
            }
            SupervisionEvent::ActorFailed(cell, _) => {
                if let Some((_, spec)) = state.children.remove(&cell.get_id()) {
                    // Transient and permanent children are restarted after a failure.
                    let cell = start_spec(&myself, &spec).await?;
                    state.children.insert(cell.get_id(), (cell, spec));
                }
            }
            _ => {}
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        myself: ActorRef<SupMsg>,
        _: &mut SupState,
    ) -> Result<(), ActorProcessingErr> {
        myself.stop_children_and_wait(None, None).await;
        Ok(())
    }
}

async fn sup() -> ActorRef<SupMsg> {
    Actor::spawn(None, Sup, ())
        .await
        .expect("supervisor starts")
        .0
}

async fn start(sup: &ActorRef<SupMsg>, spec: Spec) -> Result<ActorId, ActorId> {
    match sup.call(|reply| SupMsg::Start(spec, reply), None).await {
        Ok(CallResult::Success(result)) => result,
        _ => panic!("the supervisor did not answer"),
    }
}

async fn count(sup: &ActorRef<SupMsg>) -> usize {
    match sup.call(SupMsg::Count, None).await {
        Ok(CallResult::Success(count)) => count,
        _ => panic!("the supervisor did not answer"),
    }
}

async fn ping(echo: &ActorRef<Ask>) -> bool {
    matches!(
        echo.call(Ask::Ping, None).await,
        Ok(CallResult::Success(()))
    )
}

/// Whether `echo` answers within a second: a ref looked up just as its actor dies can take
/// the message and never answer, which once stalled the restart workload for good.
async fn ping_within_a_second(echo: &ActorRef<Ask>) -> bool {
    matches!(
        echo.call(Ask::Ping, Some(Duration::from_secs(1))).await,
        Ok(CallResult::Success(()))
    )
}

pub async fn run(workload: &str, sizes: &Sizes) -> bool {
    match workload {
        "dynamic_start_exit" => start_exit("dynamic_start_exit", 0, sizes.start_exit).await,
        "call_roundtrip" => calls(sizes.calls).await,
        "idle_memory" => idle_memory(sizes.idle).await,
        "restart_latency" => restart_latency(sizes.restarts).await,
        "named_start_race" => named_start_race(sizes.race_rounds).await,
        "tree_shutdown" => tree_shutdown(sizes.shutdown).await,
        "start_exit_with_100k_live" => {
            start_exit("start_exit_with_100k_live", sizes.live, sizes.start_exit).await
        }
        "start_exit_partitioned" => start_exit_partitioned(sizes.start_exit).await,
        "parallel_calls" => parallel_calls(sizes.calls).await,
        _ => return false,
    }
    true
}

async fn start_exit(workload: &str, live: usize, n: usize) {
    let sup = sup().await;
    for _ in 0..live {
        start(&sup, Spec::Echo(None, None)).await.unwrap();
    }
    let ran = Arc::new(AtomicUsize::new(0));
    let begin = Instant::now();
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (sup, ran) = (sup.clone(), ran.clone());
            tokio::spawn(async move {
                for _ in 0..n / 2 {
                    start(&sup, Spec::Loader(ran.clone())).await.unwrap();
                }
            })
        })
        .collect();
    for caller in callers {
        caller.await.unwrap();
    }
    crate::wait_until!(ran.load(Ordering::Relaxed) == n && count(&sup).await == live);
    report(
        workload,
        SYSTEM,
        per_second(n, begin.elapsed()),
        "workers/s",
    );
    let _ = sup.stop_and_wait(None, None).await;
}

async fn calls(n: usize) {
    let (echo, _) = Actor::spawn(None, Echo, None).await.unwrap();
    let client = {
        let echo = echo.clone();
        tokio::spawn(async move {
            let begin = Instant::now();
            for _ in 0..n {
                assert!(ping(&echo).await);
            }
            begin.elapsed()
        })
    };
    report(
        "call_roundtrip",
        SYSTEM,
        nanos_each(n, client.await.unwrap()),
        "ns/call",
    );
    let begin = Instant::now();
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let echo = echo.clone();
            tokio::spawn(async move {
                for _ in 0..n / 2 {
                    assert!(ping(&echo).await);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    report(
        "call_throughput_2_clients",
        SYSTEM,
        per_second(n, begin.elapsed()),
        "calls/s",
    );
    let _ = echo.stop_and_wait(None, None).await;
}

/// W8: one supervisor per core (ractor has no partition supervisor: a plain list of them),
/// `CALLERS` callers, each routing every start by its own key.
async fn start_exit_partitioned(n: usize) {
    let c = callers();
    let per_caller = n / c;
    let mut sups = Vec::new();
    for _ in 0..partitions() {
        sups.push(sup().await);
    }
    let sups = Arc::new(sups);
    let ran = Arc::new(AtomicUsize::new(0));
    let begin = Instant::now();
    let tasks: Vec<_> = (1..=c)
        .map(|key| {
            let (sups, ran) = (sups.clone(), ran.clone());
            tokio::spawn(async move {
                for _ in 0..per_caller {
                    let sup = &sups[key % sups.len()];
                    start(sup, Spec::Loader(ran.clone())).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    crate::wait_until!(ran.load(Ordering::Relaxed) == per_caller * c && all_idle(&sups).await);
    report(
        "start_exit_partitioned",
        SYSTEM,
        per_second(per_caller * c, begin.elapsed()),
        "workers/s",
    );
    for sup in sups.iter() {
        let _ = sup.stop_and_wait(None, None).await;
    }
}

async fn all_idle(sups: &[ActorRef<SupMsg>]) -> bool {
    for sup in sups {
        if count(sup).await != 0 {
            return false;
        }
    }
    true
}

/// W9: `CALLERS` clients, each calling an actor of its own.
async fn parallel_calls(n: usize) {
    let c = callers();
    let per_client = n / c;
    let mut echoes = Vec::with_capacity(c);
    for _ in 0..c {
        echoes.push(Actor::spawn(None, Echo, None).await.unwrap().0);
    }
    let begin = Instant::now();
    let clients: Vec<_> = echoes
        .iter()
        .map(|echo| {
            let echo = echo.clone();
            tokio::spawn(async move {
                for _ in 0..per_client {
                    assert!(ping(&echo).await);
                }
            })
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    report(
        "parallel_calls",
        SYSTEM,
        per_second(per_client * c, begin.elapsed()),
        "calls/s",
    );
    for echo in echoes {
        let _ = echo.stop_and_wait(None, None).await;
    }
}

async fn idle_memory(n: usize) {
    let sup = sup().await;
    let before = rss();
    for _ in 0..n {
        start(&sup, Spec::Echo(None, None)).await.unwrap();
    }
    let after = rss();
    report(
        "idle_memory",
        SYSTEM,
        after.saturating_sub(before) as f64 / n as f64,
        "bytes/process",
    );
    let _ = sup.stop_and_wait(None, None).await;
}

async fn restart_latency(rounds: usize) {
    std::panic::set_hook(Box::new(|_| {}));
    let sup = sup().await;
    let name = "bench_echo_ractor";
    start(&sup, Spec::Echo(Some(name.to_string()), None))
        .await
        .unwrap();
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let begin = Instant::now();
        if let Some(echo) = ActorRef::<Ask>::where_is(name) {
            let _ = echo.call(Ask::Crash, Some(Duration::from_secs(5))).await;
        }
        loop {
            match ActorRef::<Ask>::where_is(name) {
                Some(echo) if ping_within_a_second(&echo).await => break,
                _ => tokio::task::yield_now().await,
            }
        }
        samples.push(begin.elapsed());
    }
    report(
        "restart_latency",
        SYSTEM,
        median(samples).as_nanos() as f64 / 1000.0,
        "us",
    );
    let _ = sup.stop_and_wait(None, None).await;
}

async fn named_start_race(rounds: usize) {
    let sup = sup().await;
    let begin = Instant::now();
    for round in 0..rounds {
        let name = format!("ractor_race_{round}");
        let starts: Vec<_> = (0..64)
            .map(|_| {
                let (sup, name) = (sup.clone(), name.clone());
                tokio::spawn(async move { start(&sup, Spec::Echo(Some(name), None)).await })
            })
            .collect();
        let mut winners = Vec::new();
        let mut losers = Vec::new();
        for start in starts {
            match start.await.unwrap() {
                Ok(id) => winners.push(id),
                Err(holder) => losers.push(holder),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one start wins");
        assert!(
            losers.iter().all(|id| *id == winners[0]),
            "round {round}: losers see the winner"
        );
        let id = winners[0];
        let _ = sup.call(|reply| SupMsg::Terminate(id, reply), None).await;
    }
    report(
        "named_start_race",
        SYSTEM,
        per_second(rounds, begin.elapsed()),
        "rounds/s",
    );
    let _ = sup.stop_and_wait(None, None).await;
}

async fn tree_shutdown(n: usize) {
    let stopped = Arc::new(AtomicUsize::new(0));
    let sup = sup().await;
    for _ in 0..n {
        start(&sup, Spec::Echo(None, Some(stopped.clone())))
            .await
            .unwrap();
    }
    let begin = Instant::now();
    let _ = sup.stop_and_wait(None, None).await;
    let elapsed = begin.elapsed();
    assert_eq!(stopped.load(Ordering::Relaxed), n, "every post_stop ran");
    report(
        "tree_shutdown",
        SYSTEM,
        per_second(n, elapsed),
        "children/s",
    );
}
