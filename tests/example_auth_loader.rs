//! The seed example prints the transcript of the Elixir session, line for line.

mod support;

use support::{masked_lines, run_example};

#[test]
fn auth_loader_prints_the_seed_transcript() {
    let output = run_example("auth_loader");
    let lines = masked_lines(&output.stdout);
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
