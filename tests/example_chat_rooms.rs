//! The chat-room example prints the transcript in its docs: typed calls and casts, rooms
//! opened once each, and a poisoned room restarted empty under a new pid.

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
        .join(format!("chat_rooms{}", std::env::consts::EXE_SUFFIX));
    assert!(
        example.exists(),
        "{} is missing: run `cargo test --workspace` (which builds the examples) or `cargo build --example chat_rooms`",
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

/// The transcript in the example's docs, between the ```text fences.
fn documented_transcript() -> Vec<String> {
    let source = include_str!("../examples/chat_rooms.rs");
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
fn chat_rooms_prints_its_documented_transcript() {
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
    assert_eq!(masked, documented_transcript());

    let opened: Vec<&Vec<String>> = lines
        .iter()
        .filter(|(line, _)| line.starts_with("room rust opened"))
        .map(|(_, pids)| pids)
        .collect();
    assert_eq!(
        opened.len(),
        2,
        "opened at start, then once more by the restart"
    );
    assert_ne!(opened[0], opened[1], "the restarted room is a new process");
    // The panic of the poisoned room is on stderr, not mixed into the transcript.
    assert!(String::from_utf8_lossy(&output.stderr).contains("swallowed a poison message"));
}

#[test]
fn the_documented_transcript_is_read_whole() {
    let transcript = documented_transcript();
    assert_eq!(
        transcript.first().map(String::as_str),
        Some("ChatService started")
    );
    assert_eq!(
        transcript.last().map(String::as_str),
        Some("ChatService stopped")
    );
    assert_eq!(transcript.len(), 16);
}
