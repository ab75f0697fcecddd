//! Running an example and reading its output, for the tests that check an example prints
//! what its docs say.
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs the example `name`, which `cargo test` builds next to the test binaries.
pub fn run_example(name: &str) -> Output {
    let test_binary = std::env::current_exe().expect("test binary path");
    let profile_dir = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let example = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        example.exists(),
        "{} is missing: run `cargo test --workspace` (which builds the examples) or `cargo build --example {name}`",
        example.display()
    );
    let output = Command::new(example).output().expect("run the example");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `#PID<0.42.0>` → `#PID<_>`, and the pids found, in order.
pub fn mask_pids(line: &str) -> (String, Vec<String>) {
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

/// Each line of `stdout`, pids masked, with the pids it held.
pub fn masked_lines(stdout: &[u8]) -> Vec<(String, Vec<String>)> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(mask_pids)
        .collect()
}

/// The transcript an example's docs give, between the ```text fences, pids masked.
pub fn documented_transcript(source: &str) -> Vec<String> {
    let block = source
        .split("//! ```text\n")
        .nth(1)
        .and_then(|rest| rest.split("//! ```").next())
        .expect("the example documents its output");
    block
        .lines()
        .map(|line| mask_pids(line.trim_start_matches("//!").trim_start()).0)
        .collect()
}

#[test]
fn pids_are_masked_and_collected() {
    let (masked, pids) = mask_pids("a #PID<0.1.0> b #PID<0.22.0>");
    assert_eq!(masked, "a #PID<_> b #PID<_>");
    assert_eq!(pids, ["#PID<0.1.0>", "#PID<0.22.0>"]);
}
