//! The seed example prints the transcript of the Elixir session, line for line.

use std::path::PathBuf;
use std::process::Command;

/// `cargo test` builds every example next to the test binaries' directory.
fn example_binary() -> PathBuf {
    let test_binary = std::env::current_exe().expect("test binary path");
    let profile_dir = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let example = profile_dir
        .join("examples")
        .join(format!("auth_loader{}", std::env::consts::EXE_SUFFIX));
    assert!(
        example.exists(),
        "{} is missing: run `cargo test --workspace` (which builds the examples) or `cargo build --example auth_loader`",
        example.display()
    );
    example
}

/// `#PID<0.42.0>` → `#PID<_>`, and the pids found, in order.
fn mask_pids(line: &str) -> (String, Vec<String>) {
    let mut masked = String::new();
    let mut pids = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("#PID<") {
        masked.push_str(&rest[..at]);
        let end = rest[at..].find('>').expect("closed pid") + at + 1;
        pids.push(rest[at..end].to_string());
        masked.push_str("#PID<_>");
        rest = &rest[end..];
    }
    masked.push_str(rest);
    (masked, pids)
}

#[test]
fn auth_loader_prints_the_seed_transcript() {
    let output = Command::new(example_binary())
        .output()
        .expect("run the example");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<(String, Vec<String>)> = stdout.lines().map(mask_pids).collect();
    let masked: Vec<&str> = lines.iter().map(|(line, _)| line.as_str()).collect();
    let url = "http://auth_service.some_cluster.data_center/rules";
    let worker = format!("worker #PID<_> started with {url}");
    let load = format!("load data from {url}");
    assert_eq!(
        masked,
        [
            "Ok(#PID<_>)",
            worker.as_str(),
            load.as_str(),
            "Ok(#PID<_>)",
            "save data [rule_1, rule_2, rule_3]",
            "work done",
            worker.as_str(),
            load.as_str(),
            "Ok(#PID<_>)",
            "save data [rule_1, rule_2, rule_3]",
            "work done",
            "ChildCount { specs: 0, active: 0, supervisors: 0, workers: 0 }",
        ]
    );
    // start_child answers with the pid of the worker that printed its start, and each
    // update starts a new worker: the first one was not restarted.
    assert_eq!(lines[1].1, lines[3].1);
    assert_eq!(lines[6].1, lines[8].1);
    assert_ne!(lines[1].1, lines[6].1);
    assert_ne!(
        lines[0].1, lines[1].1,
        "the service and its worker are different processes"
    );
}

#[test]
fn pids_are_masked_and_collected() {
    let (masked, pids) = mask_pids("a #PID<0.1.0> b #PID<0.22.0>");
    assert_eq!(masked, "a #PID<_> b #PID<_>");
    assert_eq!(pids, ["#PID<0.1.0>", "#PID<0.22.0>"]);
}
