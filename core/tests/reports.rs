//! Supervisor reports: the tracing events OTP's SASL reports map to.

mod common;

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use bough_core::prelude::*;
use common::{Args, Cast, Log, Probe, settle, wait_until};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

#[derive(Debug, Clone)]
struct Event {
    level: tracing::Level,
    target: String,
    fields: BTreeMap<String, String>,
}

impl Event {
    fn message(&self) -> &str {
        self.fields.get("message").map(String::as_str).unwrap_or("")
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Event>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Event {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            fields,
        });
    }
}

impl Capture {
    fn find(&self, message: &str) -> Vec<Event> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.message() == message)
            .cloned()
            .collect()
    }
}

#[tokio::test(start_paused = true)]
async fn supervisors_report_starts_exits_restarts_and_giving_up() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new().max_restarts(1))
        .await
        .unwrap();
    let spec = ChildSpec::worker::<Probe>(Args::new("a", &log))
        .id("loader")
        .name("reports_a");
    let pid = sup.start_child(spec).await.unwrap();

    let started = capture.find("child started");
    assert_eq!(started.len(), 1);
    assert_eq!(started[0].level, tracing::Level::DEBUG);
    assert_eq!(started[0].target, "bough::supervisor");
    assert_eq!(started[0].fields["supervisor"], sup.pid().to_string());
    assert_eq!(started[0].fields["child_id"], "loader");
    assert_eq!(started[0].fields["child"], pid.to_string());

    gen_server::cast::<Probe>("reports_a", Cast::Crash);
    wait_until(|| log.count("init a") == 2).await;
    let crashed = capture.find("child terminated");
    assert_eq!(crashed.len(), 1);
    assert_eq!(crashed[0].level, tracing::Level::ERROR);
    assert_eq!(crashed[0].fields["reason"], "a crashed");
    assert_eq!(crashed[0].fields["child"], pid.to_string());
    let restarted = capture.find("child restarted");
    assert_eq!(restarted.len(), 1);
    assert_eq!(restarted[0].level, tracing::Level::INFO);
    // The crash itself is also reported by the server, as OTP's gen_server does.
    let terminating = capture.find("GenServer terminating");
    assert_eq!(terminating[0].fields["reason"], "a crashed");

    gen_server::cast::<Probe>("reports_a", Cast::Crash);
    wait_until(|| !sup.is_alive()).await;
    let gave_up = capture.find("reached max restart intensity; shutting down");
    assert_eq!(gave_up.len(), 1);
    assert_eq!(gave_up[0].level, tracing::Level::ERROR);
    assert_eq!(gave_up[0].fields["child_id"], "loader");
}

#[tokio::test]
async fn clean_exits_are_reported_only_when_the_child_is_restarted() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    let transient = ChildSpec::worker::<Probe>(Args::new("t", &log))
        .restart(Restart::Transient)
        .name("reports_t");
    sup.start_child(transient).await.unwrap();
    gen_server::cast::<Probe>("reports_t", Cast::Stop(ExitReason::Normal));
    settle().await;
    assert!(
        capture.find("child terminated").is_empty(),
        "a transient child's normal exit is not reported"
    );

    let permanent = ChildSpec::worker::<Probe>(Args::new("p", &log)).name("reports_p");
    sup.start_child(permanent).await.unwrap();
    gen_server::cast::<Probe>("reports_p", Cast::Stop(ExitReason::Normal));
    wait_until(|| log.count("init p") == 2).await;
    let reported = capture.find("child terminated");
    assert_eq!(
        reported.len(),
        1,
        "a permanent child's exit is reported, since it is restarted"
    );
    assert_eq!(
        reported[0].level,
        tracing::Level::ERROR,
        "at error level, as OTP reports it"
    );
    assert!(
        capture.find("GenServer terminating").is_empty(),
        "clean exits are not crashes"
    );
}

/// Issue 12, fault 9: one target prefix for every report, so `bough=error` catches both a
/// server's crash report and its supervisor's.
#[tokio::test]
async fn fault_09_every_report_is_under_the_bough_target() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    let log = Log::new();
    let sup = DynamicSupervisor::start_link(DynamicSupervisorOptions::new())
        .await
        .unwrap();
    let crashing = ChildSpec::worker::<Probe>(Args::new("c", &log))
        .restart(Restart::Temporary)
        .name("reports_crash");
    sup.start_child(crashing).await.unwrap();
    gen_server::cast::<Probe>("reports_crash", Cast::Crash);
    wait_until(|| !capture.find("child terminated").is_empty()).await;
    let crash = capture.find("GenServer terminating");
    assert_eq!(crash.len(), 1);
    assert_eq!(crash[0].target, "bough::gen_server");
    assert_eq!(crash[0].level, tracing::Level::ERROR);
    for event in capture.0.lock().unwrap().iter() {
        assert!(event.target.starts_with("bough::"), "{event:?}");
    }
}
