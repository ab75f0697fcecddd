//! A soak of a whole tree: a top Supervisor over static and dynamic middle supervisors over
//! workers, hammered for N seconds by concurrent drivers that call, crash, panic, start,
//! terminate and race for names, kill middle supervisors (some with shutdown times their
//! slow children overrun) and stop them with errors so that the top restarts them.
//!
//! ```text
//! cargo run --release --example soak -- --seconds 60 [--seed 7] [--drivers 128]
//! ```
//!
//! Every 100,000 events it prints the rate, `process_count` and the resident set. At the
//! end it stops the tree and checks that `process_count` and tokio's alive task count are
//! back to where they started, that no name is left registered, and that the resident
//! set stayed flat (the mean of the last quarter of the samples against the first). It
//! exits non-zero on any violation, after saying what it saw.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bough::prelude::*;
use bough::process_count;
use tokio::runtime::Handle;
use tokio::time::Instant;

/// Workers per static middle supervisor.
const STATIC_WORKERS: usize = 8;
/// Names the drivers give dynamic children; both dynamic supervisors draw from one pool,
/// so starts race for names across supervisors as well as within one.
const DYNAMIC_NAMES: usize = 48;
const EVENTS_PER_REPORT: u64 = 100_000;
/// The message a worker panics with when told to; the panic hook keeps these quiet.
const TOLD_TO_PANIC: &str = "soak: told to panic";

struct Worker {
    /// How long `terminate` takes when the supervisor stops the worker.
    terminate_takes: Duration,
    /// The worker was told to exit (or panic): its `terminate` is quick, so that callers
    /// queued behind it learn of the exit at once.
    exiting: bool,
}

enum Cmd {
    Work(u64),
    Exit(ExitReason),
    Panic,
}

impl GenServer for Worker {
    /// How long `terminate` takes, in milliseconds.
    type Args = u64;
    type Call = Cmd;
    type Reply = u64;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init(terminate_ms: u64) -> Init<Self> {
        Init::Ok(Worker {
            terminate_takes: Duration::from_millis(terminate_ms),
            exiting: false,
        })
    }

    async fn handle_call(&mut self, cmd: Cmd, _from: ReplyTo<u64>) -> Reply<Self> {
        match cmd {
            Cmd::Work(n) => Reply::Reply(n.wrapping_add(1)),
            Cmd::Exit(reason) => {
                self.exiting = true;
                Reply::Stop(reason)
            }
            Cmd::Panic => {
                self.exiting = true;
                panic!("{TOLD_TO_PANIC}")
            }
        }
    }

    async fn terminate(&mut self, _reason: &ExitReason) {
        if !self.exiting && !self.terminate_takes.is_zero() {
            tokio::time::sleep(self.terminate_takes).await;
        }
    }
}

/// xorshift64*: the soak needs cheap, reproducible choices, not good randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn reason(&mut self) -> Option<ExitReason> {
        Some(match self.below(6) {
            0 => ExitReason::Normal,
            1 => ExitReason::Shutdown,
            2 => ExitReason::shutdown_with("soak"),
            3 => ExitReason::error("soak: told to fail"),
            4 => ExitReason::Killed,
            _ => return None, // a panic
        })
    }

    fn restart(&mut self) -> Restart {
        [Restart::Permanent, Restart::Transient, Restart::Temporary][self.below(3)]
    }

    /// Brutal kill, or a shutdown time that a slow `terminate` may overrun.
    fn worker_spec(&mut self, id: String, name: String) -> ChildSpec {
        let shutdown = if self.below(3) == 0 {
            Shutdown::BrutalKill
        } else {
            Shutdown::millis(20)
        };
        let terminate_ms = [0, 0, 0, 0, 0, 0, 5, 40][self.below(8)];
        ChildSpec::worker::<Worker>(terminate_ms)
            .id(id)
            .name(name)
            .restart(self.restart())
            .shutdown(shutdown)
    }
}

fn static_name(middle: usize, i: usize) -> String {
    format!("soak_s{middle}_w{i}")
}

fn dynamic_name(i: usize) -> String {
    format!("soak_d{i}")
}

/// The middle supervisors: (child id, registered name, dynamic?).
const MIDDLES: [(&str, &str, bool); 4] = [
    ("static_one_for_one", "soak_m0", false),
    ("static_rest_for_one", "soak_m1", false),
    ("dynamic_a", "soak_m2", true),
    ("dynamic_b", "soak_m3", true),
];

fn tree(rng: &mut Rng) -> Vec<ChildSpec> {
    MIDDLES
        .iter()
        .enumerate()
        .map(|(m, &(id, name, dynamic))| {
            // Half the middles get a shutdown time that their slow children can overrun,
            // so that stopping them ends in a kill.
            let shutdown = if m % 2 == 1 {
                Shutdown::millis(30)
            } else {
                Shutdown::Infinity
            };
            let spec = if dynamic {
                DynamicSupervisor::child_spec(
                    DynamicSupervisorOptions::new()
                        .name(name)
                        .max_children(32)
                        .max_restarts(500)
                        .max_seconds(1),
                )
            } else {
                let strategy = if m == 0 {
                    Strategy::OneForOne
                } else {
                    Strategy::RestForOne
                };
                let workers: Vec<_> = (0..STATIC_WORKERS)
                    .map(|i| {
                        let (id, name) = (format!("w{i}"), static_name(m, i));
                        if i >= STATIC_WORKERS - 2 {
                            // The newest two overrun their 20 ms shutdown by far, and are
                            // stopped first: a middle with 30 ms to stop is killed while it
                            // is stopping the second of them, at every final stop.
                            ChildSpec::worker::<Worker>(5_000)
                                .id(id)
                                .name(name)
                                .shutdown(Shutdown::millis(20))
                        } else {
                            rng.worker_spec(id, name)
                        }
                    })
                    .collect();
                Supervisor::child_spec(
                    workers,
                    SupervisorOptions::new(strategy)
                        .name(name)
                        .max_restarts(500)
                        .max_seconds(1),
                )
            };
            spec.id(id).shutdown(shutdown)
        })
        .collect()
}

/// Every name the soak may register.
fn all_names() -> Vec<String> {
    let mut names = vec!["soak_top".to_string()];
    names.extend(MIDDLES.iter().map(|(_, name, _)| name.to_string()));
    for (m, &(_, _, dynamic)) in MIDDLES.iter().enumerate() {
        if !dynamic {
            names.extend((0..STATIC_WORKERS).map(|i| static_name(m, i)));
        }
    }
    names.extend((0..DYNAMIC_NAMES).map(dynamic_name));
    names
}

/// One event: a request to some process of the tree, whatever it answered.
async fn act(rng: &mut Rng, top: &Supervisor) {
    // A middle goes down once in a while, not so often that the tree is mostly restarting.
    if rng.below(2000) == 0 {
        return middle_down(rng, top).await;
    }
    let roll = rng.below(100);
    match roll {
        // Calls to static workers, which come and go.
        0..50 => {
            let name = static_name([0, 1][rng.below(2)], rng.below(STATIC_WORKERS));
            let _ = gen_server::call::<Worker>(Name::local(name), Cmd::Work(roll as u64)).await;
        }
        // Crashes and panics of static workers.
        50..55 => {
            let name = static_name([0, 1][rng.below(2)], rng.below(STATIC_WORKERS));
            let cmd = rng.reason().map_or(Cmd::Panic, Cmd::Exit);
            let _ = gen_server::call::<Worker>(Name::local(name), cmd).await;
        }
        // Dynamic starts, racing for names.
        55..72 => {
            let sup_name = MIDDLES[2 + rng.below(2)].1;
            let i = rng.below(DYNAMIC_NAMES);
            if let Some(sup) = DynamicSupervisor::whereis(&Name::local(sup_name)) {
                let spec = rng.worker_spec(format!("d{i}"), dynamic_name(i));
                let _ = sup.start_child(spec).await;
            }
        }
        // Dynamic terminates, by a pid that may be stale or belong to the other supervisor.
        72..80 => {
            let sup_name = MIDDLES[2 + rng.below(2)].1;
            let name = Name::local(dynamic_name(rng.below(DYNAMIC_NAMES)));
            if let (Some(sup), Some(pid)) = (
                DynamicSupervisor::whereis(&Name::local(sup_name)),
                whereis(&name),
            ) {
                let _ = sup.terminate_child(pid).await;
            }
        }
        // Calls to, crashes and panics of dynamic workers.
        80..92 => {
            let name = dynamic_name(rng.below(DYNAMIC_NAMES));
            let cmd = match rng.below(3) {
                0 => rng.reason().map_or(Cmd::Panic, Cmd::Exit),
                _ => Cmd::Work(roll as u64),
            };
            let _ = gen_server::call::<Worker>(Name::local(name), cmd).await;
        }
        // Questions to the middles.
        92..99 => {
            let (_, name, dynamic) = MIDDLES[rng.below(MIDDLES.len())];
            let name = Name::local(name);
            if dynamic {
                if let Some(sup) = DynamicSupervisor::whereis(&name) {
                    let _ = sup.which_children().await;
                }
            } else if let Some(sup) = Supervisor::whereis(&name) {
                let _ = sup.count_children().await;
            }
        }
        // Questions to the top.
        _ => {
            let _ = top.which_children().await;
        }
    }
}

/// A middle stopped with an error (the top restarts it), or terminated by the top (killed
/// when its shutdown time runs out) and restarted.
async fn middle_down(rng: &mut Rng, top: &Supervisor) {
    let (id, name, dynamic) = MIDDLES[rng.below(MIDDLES.len())];
    if rng.below(2) == 0 {
        let name = Name::local(name);
        let reason = ExitReason::error("soak: middle told to fail");
        if dynamic {
            if let Some(sup) = DynamicSupervisor::whereis(&name) {
                let _ = sup.stop(reason).await;
            }
        } else if let Some(sup) = Supervisor::whereis(&name) {
            let _ = sup.stop(reason).await;
        }
    } else {
        let _ = top.terminate_child(id).await;
        // Once `terminate_child` returned, nothing of the old middle may hold a name.
        if let Err(ChildError::Start(StartError::FailedToStartChild { id: child, reason })) =
            top.restart_child(id).await
            && let StartError::AlreadyStarted(pid) = *reason
        {
            let mut orphans = ORPHANS.lock().unwrap_or_else(|p| p.into_inner());
            orphans.0 += 1;
            orphans.1.get_or_insert_with(|| {
                format!("{id} after terminate_child: its child {child} is still running as {pid}")
            });
        }
    }
}

/// Restarts of a terminated middle that failed because a process of the old middle still
/// held its name: how many, and the first.
static ORPHANS: Mutex<(u64, Option<String>)> = Mutex::new((0, None));

/// Which middles are registered right now, e.g. `m0+ m1- m2+ m3+`: a middle that stays
/// down while the top restarts it shows the tree has stopped doing work.
fn middles_up() -> String {
    MIDDLES
        .iter()
        .enumerate()
        .map(|(m, (_, name, _))| {
            let up = whereis(&Name::local(*name)).is_some();
            format!("m{m}{}", if up { '+' } else { '-' })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Resident set in bytes, from /proc/self/statm (4 KiB pages).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

struct Args {
    seconds: u64,
    seed: u64,
    drivers: usize,
}

fn args() -> Result<Args, String> {
    let mut parsed = Args {
        seconds: 60,
        seed: 0x5eed,
        drivers: 128,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        let number = value
            .parse::<u64>()
            .map_err(|_| format!("`{flag}` takes a whole number, not `{value}`"))?;
        match flag.as_str() {
            "--seconds" => parsed.seconds = number,
            "--seed" => parsed.seed = number.max(1),
            "--drivers" => parsed.drivers = usize::try_from(number.max(1)).unwrap_or(1),
            _ => {
                return Err(format!(
                    "unknown option `{flag}`; accepted: --seconds N, --seed N, --drivers N"
                ));
            }
        }
    }
    Ok(parsed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = match args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("soak: {message}");
            std::process::exit(2);
        }
    };
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let told =
            info.payload().downcast_ref::<String>().map(String::as_str) == Some(TOLD_TO_PANIC);
        if !told {
            default_hook(info);
        }
    }));

    let processes_before = process_count();
    let tasks_before = Handle::current().metrics().num_alive_tasks();
    let mut rng = Rng(args.seed);
    let top = Supervisor::start_link(
        tree(&mut rng),
        SupervisorOptions::new(Strategy::OneForOne)
            .name("soak_top")
            .max_restarts(1_000_000)
            .max_seconds(1),
    )
    .await
    .expect("the tree starts");
    println!(
        "soak: {} s, seed {}, {} drivers; {} processes, {:.1} MiB resident at start",
        args.seconds,
        args.seed,
        args.drivers,
        process_count(),
        mib(rss_bytes() as f64)
    );

    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.seconds);
    let events = Arc::new(AtomicU64::new(0));
    let stuck = Arc::new(AtomicBool::new(false));
    let mut samples: Vec<u64> = Vec::new();
    let drivers: Vec<_> = (0..args.drivers)
        .map(|d| {
            let (top, events, stuck) = (top.clone(), events.clone(), stuck.clone());
            let mut rng = Rng(args.seed.wrapping_mul(d as u64 + 2) | 1);
            tokio::spawn(async move {
                while Instant::now() < deadline && !stuck.load(Ordering::Relaxed) {
                    if tokio::time::timeout(Duration::from_secs(10), act(&mut rng, &top))
                        .await
                        .is_err()
                    {
                        eprintln!("soak: VIOLATION: one request took over 10 s");
                        stuck.store(true, Ordering::Relaxed);
                    }
                    events.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    let mut next_report = EVENTS_PER_REPORT;
    let mut last = (start, 0);
    let mut max_processes = 0;
    while drivers.iter().any(|d| !d.is_finished()) {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let count = events.load(Ordering::Relaxed);
        max_processes = max_processes.max(process_count());
        if count >= next_report {
            next_report = (count / EVENTS_PER_REPORT + 1) * EVENTS_PER_REPORT;
            let now = Instant::now();
            let rate = (count - last.1) as f64 / (now - last.0).as_secs_f64();
            let rss = rss_bytes();
            samples.push(rss);
            println!(
                "{:>10} events  {:>9.0} events/s  process_count {:>4}  rss {:>7.1} MiB  {}",
                count,
                rate,
                process_count(),
                mib(rss as f64),
                middles_up()
            );
            last = (now, count);
        }
    }
    let mut violations = Vec::new();
    for driver in drivers {
        if let Err(error) = driver.await {
            violations.push(format!("a driver failed: {error}"));
        }
    }
    if let (count @ 1.., Some(first)) = &*ORPHANS.lock().unwrap_or_else(|p| p.into_inner()) {
        violations.push(format!(
            "{count} restarts of a terminated middle failed: a process of the old one still \
             held a name (first: {first})"
        ));
    }
    if stuck.load(Ordering::Relaxed) {
        violations.push("a request took over 10 s".to_string());
    }
    let elapsed = start.elapsed().as_secs_f64();
    let total = events.load(Ordering::Relaxed);
    println!(
        "soak: {total} events in {elapsed:.1} s ({:.0} events/s), at most {max_processes} processes",
        total as f64 / elapsed
    );

    let stopping = Instant::now();
    match tokio::time::timeout(Duration::from_secs(60), top.stop(ExitReason::Normal)).await {
        Ok(Ok(())) => println!(
            "soak: the tree stopped in {:.1} ms",
            stopping.elapsed().as_secs_f64() * 1e3
        ),
        Ok(Err(error)) => violations.push(format!("stopping the tree failed: {error}")),
        Err(_) => violations.push("stopping the tree took over 60 s".to_string()),
    }

    // What is left right after the stop returned, and again a while later: a stop returns
    // only once every process below the top has ended, its name freed and its task joined.
    // The top's own task answers the stop just before it returns, so it alone may still be
    // finishing; it must be gone within 100 ms.
    let leftovers = || {
        let names: Vec<_> = all_names()
            .into_iter()
            .filter(|name| whereis(&Name::local(name.clone())).is_some())
            .collect();
        (
            process_count(),
            Handle::current().metrics().num_alive_tasks(),
            names,
        )
    };
    let (processes, tasks, names) = leftovers();
    let finishing = Instant::now();
    while Handle::current().metrics().num_alive_tasks() > tasks_before
        && finishing.elapsed() < Duration::from_millis(100)
    {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let tasks_soon = Handle::current().metrics().num_alive_tasks();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (processes_later, tasks_later, names_later) = leftovers();
    println!(
        "soak: after the stop: process_count {processes} (2 s later {processes_later}), alive \
         tasks {tasks} ({tasks_soon} within 100 ms, {tasks_later} 2 s later; {tasks_before} \
         at start), {} names registered ({} 2 s later)",
        names.len(),
        names_later.len()
    );
    if processes != processes_before || processes_later != processes_before {
        violations.push(format!(
            "process_count {processes_before} at start, {processes} right after the stop, \
             {processes_later} 2 s later"
        ));
    }
    if tasks > tasks_before + 1 || tasks_soon != tasks_before || tasks_later != tasks_before {
        violations.push(format!(
            "alive tasks {tasks_before} at start, {tasks} right after the stop, {tasks_soon} \
             100 ms later, {tasks_later} 2 s later"
        ));
    }
    if !names.is_empty() || !names_later.is_empty() {
        violations.push(format!(
            "names still registered right after the stop: {names:?}; 2 s later: {names_later:?}"
        ));
    }

    if samples.len() >= 4 {
        let quarter = samples.len() / 4;
        let mean = |s: &[u64]| s.iter().sum::<u64>() as f64 / s.len() as f64;
        let first = mean(&samples[..quarter]);
        let last = mean(&samples[samples.len() - quarter..]);
        println!(
            "soak: rss first quarter {:.1} MiB, last quarter {:.1} MiB ({:+.1}%), {} samples",
            mib(first),
            mib(last),
            (last / first - 1.0) * 100.0,
            samples.len()
        );
        // Flat: allocator noise stays within a quarter and a few MiB.
        if last > first * 1.25 + 4.0 * 1024.0 * 1024.0 {
            violations.push(format!(
                "rss grew from {:.1} MiB to {:.1} MiB",
                mib(first),
                mib(last)
            ));
        }
    } else {
        println!(
            "soak: too few samples ({}) to judge the resident set",
            samples.len()
        );
    }

    if violations.is_empty() {
        println!("soak: OK");
    } else {
        for violation in &violations {
            eprintln!("soak: VIOLATION: {violation}");
        }
        std::process::exit(1);
    }
}
