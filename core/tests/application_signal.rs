//! SIGTERM stops an application. A test binary of its own: once a handler is installed,
//! SIGTERM no longer ends this process, which no other test should have to know.
#![cfg(unix)]

use std::time::Duration;

use bough_core::application::ShutdownSignal;
use bough_core::prelude::*;
use bough_core::{Application, shutdown_signal};

struct Worker;

impl GenServer for Worker {
    type Args = ();
    type Call = Never;
    type Reply = Never;
    type Cast = Never;
    type Info = Never;
    type Continue = Never;

    async fn init((): ()) -> Init<Self> {
        Init::Ok(Worker)
    }
}

fn send(signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn sigterm_stops_the_application_in_order() {
    // Installs tokio's handler before anything is sent, so a signal that arrives before
    // the application listens is not fatal, only missed (and sent again below).
    let _installed =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
    let root = Supervisor::start_link(
        [ChildSpec::worker::<Worker>(()).id("worker")],
        SupervisorOptions::new(Strategy::OneForOne),
    )
    .await
    .unwrap();
    let app = Application::new(root.clone());
    let stopping = tokio::spawn({
        let app = app.clone();
        async move { app.stop_on_signal(Duration::from_secs(10)).await }
    });
    while !app.is_stopping() {
        send("-TERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = stopping.await.unwrap().unwrap();
    assert!(report.in_time(), "{report:?}");
    assert_eq!(report.reason, ExitReason::Shutdown);
    assert!(!root.is_alive());

    // SIGINT (Ctrl-C) is the other way to ask.
    let _installed =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).unwrap();
    let waiting = tokio::spawn(shutdown_signal());
    let signal = loop {
        send("-INT");
        tokio::time::sleep(Duration::from_millis(20)).await;
        if waiting.is_finished() {
            break waiting.await.unwrap().unwrap();
        }
    };
    assert_eq!(signal, ShutdownSignal::Interrupt);
    assert_eq!(signal.to_string(), "SIGINT");
}
