//! What every system's workloads share: the workload sizes of beam_bench.exs, reporting in
//! its format, and measuring.

use std::time::Duration;

/// Workload sizes at scale 1, as in `bench/compare/beam_bench.exs`.
pub struct Sizes {
    pub start_exit: usize,
    pub calls: usize,
    pub idle: usize,
    pub restarts: usize,
    pub race_rounds: usize,
    pub shutdown: usize,
    pub live: usize,
}

impl Sizes {
    /// Sizes at `scale` (1 is the BEAM script's; below 1 for a quick try).
    pub fn at_scale(scale: f64) -> Sizes {
        let n = |base: f64| ((base * scale) as usize).max(2) / 2 * 2;
        Sizes {
            start_exit: n(200_000.0),
            calls: n(1_000_000.0),
            idle: n(100_000.0),
            restarts: n(10_000.0),
            race_rounds: n(1_000.0),
            shutdown: n(100_000.0),
            live: n(100_000.0),
        }
    }
}

/// One result line, in the BEAM script's format.
pub fn report(workload: &str, system: &str, value: f64, unit: &str) {
    let value = if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    println!("workload={workload} system={system} value={value} unit={unit}");
}

/// How many concurrent callers W8 and W9 use: the `CALLERS` environment variable, as in
/// the BEAM script; 2 by default.
pub fn callers() -> usize {
    std::env::var("CALLERS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c| c > 0)
        .unwrap_or(2)
}

/// How many partitions W8 spreads starts over: one per core, as the BEAM script's one per
/// scheduler.
pub fn partitions() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

pub fn nanos_each(count: usize, elapsed: Duration) -> f64 {
    elapsed.as_nanos() as f64 / count as f64
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Resident memory of this process, in bytes.
pub fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages");
    pages * 4096
}

/// Yields until the condition holds, like the BEAM script's `wait_until` with
/// `Process.sleep(0)`. (A macro: async closures are not `Send` enough to spawn.)
#[macro_export]
macro_rules! wait_until {
    ($done:expr) => {
        while !$done {
            tokio::task::yield_now().await;
        }
    };
}
