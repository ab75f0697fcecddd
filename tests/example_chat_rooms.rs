//! The chat-room example prints the transcript in its docs: typed calls and casts, rooms
//! opened once each, and a poisoned room restarted empty under a new pid.

mod support;

use support::{documented_transcript, masked_lines, run_example};

const SOURCE: &str = include_str!("../examples/chat_rooms.rs");

#[test]
fn chat_rooms_prints_its_documented_transcript() {
    let output = run_example("chat_rooms");
    let lines = masked_lines(&output.stdout);
    let masked: Vec<&str> = lines.iter().map(|(line, _)| line.as_str()).collect();
    assert_eq!(masked, documented_transcript(SOURCE));

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
    let transcript = documented_transcript(SOURCE);
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
