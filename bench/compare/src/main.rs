//! bough against the Erlang VM, ractor, kameo and bare tokio.
//!
//! ```text
//! cargo run --release -- table [ROUNDS] [SCALE] [WORKLOAD...]  # every system, one table
//! CALLERS=4 cargo run --release -- table 3 1 start_exit_partitioned parallel_calls
//! cargo run --release -- sweep                    # W1 and W3 with 1k..1M live children, SVG
//! cargo run --release -- run SYSTEM WORKLOAD [SCALE]
//! ```
//!
//! Every measurement runs in a fresh process, so memory freed by one workload cannot hide
//! the cost of the next, and systems take turns round after round.

mod bough_impl;
mod common;
mod floor;
mod heap;
mod kameo_impl;
mod ractor_impl;
mod report;

use std::process::ExitCode;

use common::Sizes;

const SYSTEMS: [&str; 4] = ["bough", "ractor", "kameo", "floor"];

#[global_allocator]
static ALLOCATOR: heap::Counting = heap::Counting;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str);
    let number = |i: usize, default: usize| arg(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    match arg(0) {
        Some("run") => {
            let (Some(system), Some(workload)) = (arg(1), arg(2)) else {
                eprintln!("usage: compare run SYSTEM WORKLOAD [SCALE]");
                return ExitCode::FAILURE;
            };
            let sizes = Sizes::at_scale(arg(3).and_then(|a| a.parse().ok()).unwrap_or(1.0));
            let (system, workload) = (system.to_string(), workload.to_string());
            // The measuring code runs as a task, as the BEAM script's runs in a process: not on
            // the thread that blocks on the runtime, where every reply would cross threads.
            let ran = tokio::spawn(async move {
                match system.as_str() {
                    "bough" => bough_impl::run(&workload, &sizes).await,
                    "ractor" => ractor_impl::run(&workload, &sizes).await,
                    "kameo" => kameo_impl::run(&workload, &sizes).await,
                    "floor" => floor::run(&workload, &sizes).await,
                    _ => false,
                }
            })
            .await
            .expect("the measurement did not panic");
            // Exit code 3: this system has no form of this workload.
            if ran {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            }
        }
        Some("sweep-one") => {
            let (live, starts) = (number(1, 1000), number(2, 200_000));
            tokio::spawn(bough_impl::sweep(live, starts))
                .await
                .expect("the sweep did not panic");
            ExitCode::SUCCESS
        }
        Some("table") => report::table(
            number(1, 3),
            arg(2).and_then(|a| a.parse().ok()).unwrap_or(1.0),
            args.get(3..).unwrap_or_default(),
        ),
        Some("sweep") => report::sweep(),
        _ => {
            eprintln!(
                "usage: compare table [ROUNDS] [SCALE] [WORKLOAD...] | sweep | run SYSTEM WORKLOAD [SCALE]"
            );
            ExitCode::FAILURE
        }
    }
}
