//! Runs the measurements in fresh processes and writes the table and the sweep.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use plotters::prelude::*;

use crate::SYSTEMS;

const WORKLOADS: [&str; 9] = [
    "dynamic_start_exit",
    "call_roundtrip",
    "idle_memory",
    "restart_latency",
    "named_start_race",
    "tree_shutdown",
    "start_exit_with_100k_live",
    "start_exit_partitioned",
    "parallel_calls",
];

/// The rows of the table: W2 gives two.
const ROWS: [&str; 10] = [
    "dynamic_start_exit",
    "call_roundtrip",
    "call_throughput_2_clients",
    "idle_memory",
    "restart_latency",
    "named_start_race",
    "tree_shutdown",
    "start_exit_with_100k_live",
    "start_exit_partitioned",
    "parallel_calls",
];

/// The rows whose callers come from `CALLERS`.
fn with_callers(row: &str) -> bool {
    matches!(row, "start_exit_partitioned" | "parallel_calls")
}

/// (workload, system) → values, one per round.
type Results = BTreeMap<(String, String), Vec<f64>>;

fn parse(output: &str, results: &mut Results, units: &mut BTreeMap<String, String>) {
    for line in output.lines() {
        let fields: BTreeMap<&str, &str> = line
            .split_whitespace()
            .filter_map(|field| field.split_once('='))
            .collect();
        if let (Some(w), Some(s), Some(v), Some(u)) = (
            fields.get("workload"),
            fields.get("system"),
            fields.get("value"),
            fields.get("unit"),
        ) && let Ok(value) = v.parse::<f64>()
        {
            results
                .entry((w.to_string(), s.to_string()))
                .or_default()
                .push(value);
            units.insert(w.to_string(), u.to_string());
        }
    }
}

fn beam_script() -> PathBuf {
    std::env::var_os("BEAM_BENCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("beam_bench.exs"))
}

fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    Some(
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

/// No single measurement may take longer: a hang in one system must not stall the table.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// Runs a measurement process for at most `LIMIT`: its exit code and standard output, or
/// `None` when it had to be killed.
fn run_limited(program: &std::path::Path, args: &[&str]) -> Option<(Option<i32>, String)> {
    use std::io::Read;
    let mut child = Command::new(program)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("start a measurement");
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for a measurement") {
            return Some((status.code(), reader.join().unwrap_or_default()));
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn lower_is_better(unit: &str) -> bool {
    matches!(unit, "ns/call" | "bytes/process" | "us")
}

fn cell(values: Option<&Vec<f64>>) -> String {
    match values {
        None => String::new(),
        Some(values) if values.is_empty() => String::new(),
        Some(values) => {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let median = sorted[sorted.len() / 2];
            format!(
                "{} ({}–{})",
                show(median),
                show(sorted[0]),
                show(sorted[sorted.len() - 1])
            )
        }
    }
}

fn show(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2}M", value / 1e6)
    } else if value >= 1e4 {
        format!("{:.0}k", value / 1e3)
    } else if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn median(values: Option<&Vec<f64>>) -> Option<f64> {
    let mut sorted = values?.clone();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    Some(sorted[sorted.len() / 2])
}

/// How many times better bough is than `other` (above 1: bough is better).
fn advantage(bough: f64, other: f64, unit: &str) -> f64 {
    if lower_is_better(unit) {
        other / bough
    } else {
        bough / other
    }
}

fn not_expressible(row: &str, system: &str) -> Option<&'static str> {
    match (system, row) {
        ("floor", r)
            if !r.starts_with("dynamic_start_exit")
                && !r.starts_with("call_")
                && !with_callers(r) =>
        {
            Some("—")
        }
        ("kameo", "named_start_race") => Some("n/a: names are registered after the spawn"),
        _ => None,
    }
}

/// Every workload (or only those named in `only`), every system, `rounds` times.
pub fn table(rounds: usize, scale: f64, only: &[String]) -> ExitCode {
    let me = std::env::current_exe().expect("own path");
    let workloads: Vec<&str> = WORKLOADS
        .into_iter()
        .filter(|w| only.is_empty() || only.iter().any(|o| o == w))
        .collect();
    if workloads.is_empty() {
        eprintln!("no such workload: {only:?}; the workloads are {WORKLOADS:?}");
        return ExitCode::FAILURE;
    }
    let mut results = Results::new();
    let mut units = BTreeMap::new();
    let script = beam_script();
    let beam = Command::new("elixir").arg("--version").output().is_ok() && script.exists();
    if !beam {
        println!(
            "beam: skipped (elixir not installed, or {} missing; apt-get install -y elixir)",
            script.display()
        );
    }
    for round in 1..=rounds {
        eprintln!("round {round} of {rounds}");
        if beam {
            eprintln!("  beam");
            let scale = scale.to_string();
            let mut args = vec![script.to_str().unwrap(), scale.as_str()];
            if !only.is_empty() {
                args.extend(workloads.iter().copied());
            }
            if let Some(output) = command_output("elixir", &args) {
                parse(&output, &mut results, &mut units);
            }
        }
        for &workload in &workloads {
            for system in SYSTEMS {
                eprintln!("  {system} {workload}");
                let scale = scale.to_string();
                match run_limited(&me, &["run", system, workload, &scale]) {
                    Some((Some(0), stdout)) => parse(&stdout, &mut results, &mut units),
                    Some((Some(3), _)) => {}
                    Some((code, _)) => eprintln!("  {system} {workload} failed ({code:?})"),
                    None => eprintln!("  {system} {workload} ran past {LIMIT:?}; killed"),
                }
            }
        }
    }
    print_table(&results, &units, rounds, scale, beam);
    ExitCode::SUCCESS
}

fn print_table(
    results: &Results,
    units: &BTreeMap<String, String>,
    rounds: usize,
    scale: f64,
    beam: bool,
) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = command_output("rustc", &["--version"]).unwrap_or_default();
    let elixir = command_output("elixir", &["--version"]).unwrap_or_default();
    let erlang = elixir
        .lines()
        .find(|l| l.starts_with("Erlang"))
        .unwrap_or("")
        .split('[')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let elixir = elixir
        .lines()
        .find(|l| l.starts_with("Elixir"))
        .unwrap_or("")
        .trim()
        .to_string();
    println!(
        "Machine: {cores} cores, {cpu}; {}; {elixir} on {erlang}.",
        rustc.trim()
    );
    println!(
        "Each cell: median (min–max) of {rounds} rounds at scale {scale}; every measurement in a fresh process."
    );
    println!("The last three columns say how many times better bough is (above 1: bough wins).");
    if !beam {
        println!("BEAM: skipped (elixir not installed).");
    }
    println!(
        "start_exit_partitioned and parallel_calls: {} callers (CALLERS), {} partitions (one per core).",
        crate::common::callers(),
        crate::common::partitions()
    );
    println!();
    println!(
        "| workload | unit | BEAM | bough | ractor | kameo | tokio floor | bough vs BEAM | bough vs best peer | bough vs floor |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in ROWS {
        let Some(unit) = units.get(row) else { continue };
        let get = |system: &str| results.get(&(row.to_string(), system.to_string()));
        let mut cells = vec![cell(get("beam"))];
        for system in SYSTEMS {
            cells.push(match not_expressible(row, system) {
                Some(why) if get(system).is_none() => why.to_string(),
                _ => cell(get(system)),
            });
        }
        let bough = median(get("bough"));
        let ratio = |other: Option<f64>| match (bough, other) {
            (Some(b), Some(o)) if o > 0.0 && b > 0.0 => format!("{:.2}×", advantage(b, o, unit)),
            _ => "—".to_string(),
        };
        let best_peer = ["ractor", "kameo"]
            .iter()
            .filter_map(|peer| median(get(peer)))
            .max_by(|a, b| {
                if lower_is_better(unit) {
                    b.total_cmp(a)
                } else {
                    a.total_cmp(b)
                }
            });
        println!(
            "| {row} | {unit} | {} | {} | {} | {} |",
            cells.join(" | "),
            ratio(median(get("beam"))),
            ratio(best_peer),
            ratio(median(get("floor"))),
        );
    }
}

/// W1's per-start cost and W3's bytes per process as the supervisor grows.
pub fn sweep() -> ExitCode {
    let me = std::env::current_exe().expect("own path");
    let levels = [1_000usize, 10_000, 100_000, 1_000_000];
    let mut points = Vec::new();
    for live in levels {
        eprintln!("live {live}");
        // Five runs per level, each in a fresh process; the median of each figure.
        let mut starts = Vec::new();
        let mut bytes = Vec::new();
        for _ in 0..5 {
            let output = Command::new(&me)
                .args(["sweep-one", &live.to_string()])
                .output()
                .expect("run");
            let text = String::from_utf8_lossy(&output.stdout);
            for line in text.lines() {
                let field = |name: &str| {
                    line.split_whitespace()
                        .find_map(|f| f.strip_prefix(name))
                        .and_then(|v| v.parse::<f64>().ok())
                };
                if let (Some(s), Some(b)) = (field("ns_per_start="), field("bytes_per_process=")) {
                    starts.push(s);
                    bytes.push(b);
                }
            }
        }
        let start = median(Some(&starts)).unwrap_or(f64::NAN);
        let byte = median(Some(&bytes)).unwrap_or(f64::NAN);
        points.push((live, start, byte));
    }
    println!("| live children | ns per start (W1) | heap bytes per process (W3) |");
    println!("|---|---|---|");
    for (live, start, bytes) in &points {
        println!("| {live} | {start:.0} | {bytes:.0} |");
    }
    let spread = |values: Vec<f64>| {
        let max = values.iter().copied().fold(f64::MIN, f64::max);
        let min = values.iter().copied().fold(f64::MAX, f64::min);
        (max / min - 1.0) * 100.0
    };
    println!();
    println!(
        "Spread from 1k to 1M: per-start cost {:.0}%, bytes per process {:.0}%.",
        spread(points.iter().map(|p| p.1).collect()),
        spread(points.iter().map(|p| p.2).collect())
    );
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scaling.svg");
    match draw(&path, &points) {
        Ok(()) => println!("Plot: {}", path.display()),
        Err(error) => eprintln!("plot failed: {error}"),
    }
    ExitCode::SUCCESS
}

fn draw(path: &PathBuf, points: &[(usize, f64, f64)]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (960, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(480);
    let panels = [
        (
            left,
            "W1: cost of a start + exit (ns)",
            points.iter().map(|p| (p.0 as f64, p.1)).collect::<Vec<_>>(),
        ),
        (
            right,
            "W3: heap bytes per idle process",
            points.iter().map(|p| (p.0 as f64, p.2)).collect::<Vec<_>>(),
        ),
    ];
    for (area, title, series) in panels {
        let top = series.iter().map(|p| p.1).fold(0.0, f64::max) * 1.3;
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d((500f64..2_000_000f64).log_scale(), 0f64..top)?;
        chart
            .configure_mesh()
            .x_desc("live children under the supervisor")
            .x_label_formatter(&|x| show(*x))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .draw()?;
        chart.draw_series(LineSeries::new(series.clone(), &BLUE))?;
        chart.draw_series(series.iter().map(|p| Circle::new(*p, 4, BLUE.filled())))?;
    }
    root.present()?;
    Ok(())
}
