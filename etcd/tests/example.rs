//! The multi-instance example against a real etcd: in each round of concurrent reloads,
//! exactly one load starts, and every other instance names its owner and token. Skipped
//! without etcd, unless `BOUGH_REQUIRE_ETCD=1`.

mod support;

use std::process::Command;

use support::Etcd;

#[test]
fn concurrent_reloads_across_instances_start_one_load_per_round() {
    let Some(etcd) = Etcd::any("example") else {
        return;
    };
    let test_binary = std::env::current_exe().expect("test binary path");
    let example = test_binary
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("examples")
        .join(format!(
            "cluster_auth_loader{}",
            std::env::consts::EXE_SUFFIX
        ));
    assert!(
        example.exists(),
        "{} is missing: run `cargo test -p bough-etcd` (which builds the examples) or `cargo build -p bough-etcd --example cluster_auth_loader`",
        example.display()
    );
    let output = Command::new(example)
        .env("BOUGH_ETCD_ENDPOINTS", &etcd.endpoint)
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        &lines[..3],
        [
            "instance-1: ready",
            "instance-2: ready",
            "instance-3: ready"
        ]
    );
    let rounds: Vec<&str> = stdout.split("round ").skip(1).collect();
    assert_eq!(rounds.len(), 2, "{stdout}");
    for round in rounds {
        let loads = round.matches("load data from ").count();
        assert_eq!(loads, 1, "one load per round:\n{round}");
        let winners: Vec<&str> = round
            .lines()
            .filter_map(|line| line.split_once(": loading, token ").map(|(who, _)| who))
            .collect();
        assert_eq!(winners.len(), 1, "{round}");
        let token = round
            .lines()
            .find_map(|line| line.split_once(": loading, token ").map(|(_, t)| t))
            .expect("the winner's token");
        let port = 4000
            + winners[0]
                .trim_start_matches("instance-")
                .parse::<u16>()
                .expect("n");
        let loser_line = format!(
            "already loading in instance `{}` at 127.0.0.1:{port} (token {token})",
            winners[0]
        );
        let losers = round
            .lines()
            .filter(|line| line.ends_with(&loser_line))
            .count();
        assert_eq!(losers, 2, "every other instance names the owner:\n{round}");
        assert!(
            round.contains(&format!("of {} started with", winners[0])),
            "{round}"
        );
    }
    for n in 1..=3 {
        assert!(
            stdout.contains(&format!("instance-{n} stopped: in time, lease revoked")),
            "{stdout}"
        );
    }
}
