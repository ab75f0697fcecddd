//! The monitors example prints the transcript in its docs: a worker's crash seen through
//! its monitor and replaced, a linked helper's exit trapped, a timer and an idle time-out,
//! and nothing left running after the stop.

mod support;

use support::{documented_transcript, masked_lines, run_example};

#[test]
fn monitors_prints_its_documented_transcript() {
    let output = run_example("monitors");
    let lines = masked_lines(&output.stdout);
    let masked: Vec<&str> = lines.iter().map(|(line, _)| line.as_str()).collect();
    assert_eq!(
        masked,
        documented_transcript(include_str!("../examples/monitors.rs"))
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot square 13"));
}
