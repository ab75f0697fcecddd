//! The service's demonstration: `cargo run -p bough-auth-service` runs it all on 127.0.0.1
//! with a stand-in auth service: the first load, a reload on an event, a double event
//! answered by `already_started`, a failing auth service and the recovery, the liveness
//! and readiness probes, and a graceful stop with every process ended.
//!
//! With `--serve` (`cargo run -p bough-auth-service -- --serve`) it then keeps serving until
//! SIGTERM or Ctrl-C, and stops as it would under Kubernetes.

use std::time::Duration;

use bough::prelude::*;
use tracing::info;

use bough_auth_service::events::EventListener;
use bough_auth_service::health;
use bough_auth_service::http::HttpServer;
use bough_auth_service::rules::view;
use bough_auth_service::service::{MyService, Settings};
use bough_auth_service::stand_in::{Mode, StandIn, rules};

/// Waits until the rules reach `version` (the loads run in their own processes).
async fn wait_for_version(version: u64) {
    while view().version() < version {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn ask(client: &str, service: &str) {
    let rules = view().current();
    let verdict = if rules.allows(client, service) {
        "may"
    } else {
        "may not"
    };
    info!(version = rules.version, "{client} {verdict} call {service}");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_target(false)
        .compact()
        .init();
    // A bug that panics in a process is reported like any other crash: one event, no
    // backtrace on stderr.
    bough::report_panics_with_tracing();

    let auth = StandIn::start(rules(1, &[("web", "orders"), ("orders", "payments")])).await;
    info!(url = %auth.rules_url(), "stand-in auth service up");

    // The first load happens as the service starts.
    let tree = MyService::start(Settings {
        rules_url: auth.rules_url(),
        load_timeout: Duration::from_secs(2),
        listen: "127.0.0.1:0".parse()?,
    })
    .await?;
    let events = EventListener::address().await?;
    // The probes answer on a port of their own, outside the tree.
    let app = Application::new(tree);
    let ops = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let ops_address = ops.local_addr()?;
    let mut ops = HttpServer::start(ops, health::router(app.clone()));
    info!(address = %ops_address, "probes at /livez and /readyz");
    wait_for_version(1).await;
    ask("web", "orders");
    ask("web", "payments");

    // The auth service changes a rule and says so: the service reloads.
    info!("the auth service grants web access to payments");
    let answer = auth
        .change_rules(
            rules(
                2,
                &[
                    ("web", "orders"),
                    ("orders", "payments"),
                    ("web", "payments"),
                ],
            ),
            events,
        )
        .await?;
    info!(%answer, "event answered");
    wait_for_version(2).await;
    ask("web", "payments");

    // Two events while one load is under way: the second finds the loader running.
    info!("two events at once, while the auth service is slow");
    auth.set_mode(Mode::Slow(Duration::from_millis(500), 1));
    let doc = rules(3, &[("web", "orders"), ("web", "payments")]);
    let (first, second) = tokio::join!(auth.change_rules(doc, events), async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        auth.notify(events).await
    });
    info!(first = %first?, second = %second?, "both answered; one load ran");
    wait_for_version(3).await;

    // The auth service fails once: the loader crashes, is restarted, and loads.
    info!("the auth service fails once");
    auth.set_mode(Mode::Fail(1));
    auth.change_rules(rules(4, &[("web", "orders")]), events)
        .await?;
    wait_for_version(4).await;
    ask("orders", "payments");

    let readiness = app.ready().await;
    info!(live = %app.live(), ready = %readiness, "probed");

    // A graceful stop: new loads are refused, the tree stops in order, every process ends.
    let budget = Duration::from_secs(20);
    let report = if std::env::args().any(|arg| arg == "--serve") {
        info!("serving until SIGTERM or Ctrl-C");
        app.stop_on_signal(budget).await?
    } else {
        app.stop(budget).await
    };
    info!(elapsed = ?report.elapsed, in_time = report.in_time(), "the tree has stopped");
    ops.stop().await;
    auth.stop().await;
    info!(processes = bough::process_count(), "stopped");
    Ok(())
}
