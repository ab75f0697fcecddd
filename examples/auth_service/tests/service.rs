//! The auth-rules service, driven over HTTP on 127.0.0.1 with ephemeral ports. Its tree is
//! registered under fixed names, like the seed's modules, so these tests take turns.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bough::prelude::*;
use bough_auth_service::events::{EventListener, Reload};
use bough_auth_service::health;
use bough_auth_service::http::HttpServer;
use bough_auth_service::rules::view;
use bough_auth_service::service::{AuthDataLoaderSup, MyService, Settings};
use bough_auth_service::stand_in::{Mode, StandIn, rules};

/// One service at a time: its processes are registered under fixed names.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Waits for `done` for up to 10 s (the service works in its own tasks).
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never happened: {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

struct Running {
    tree: Supervisor,
    auth: StandIn,
    events: SocketAddr,
}

async fn start(timeout: Duration) -> Running {
    view().reset();
    let auth = StandIn::start(rules(1, &[("web", "orders")])).await;
    let tree = MyService::start(Settings {
        rules_url: auth.rules_url(),
        load_timeout: timeout,
        listen: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    let events = EventListener::address().await.unwrap();
    eventually("the first load", || view().version() == 1).await;
    Running { tree, auth, events }
}

impl Running {
    async fn stop(self) {
        self.tree.stop(ExitReason::Shutdown).await.unwrap();
        self.auth.stop().await;
    }
}

async fn no_loader_running() {
    let start = Instant::now();
    while AuthDataLoaderSup::count_children().await.unwrap().active > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "a loader kept running"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_the_rules_at_start_and_answers_questions() {
    let _turn = TURN.lock().await;
    let service = start(Duration::from_secs(2)).await;
    assert!(view().allows("web", "orders"));
    assert!(!view().allows("web", "payments"));
    // Over HTTP too.
    let url = format!(
        "http://{}/allowed?client=web&service=orders",
        service.events
    );
    let answer: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
    assert_eq!(answer["allowed"], true);
    assert_eq!(answer["version"], 1);
    no_loader_running().await;
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_when_the_auth_service_says_the_rules_changed() {
    let _turn = TURN.lock().await;
    let service = start(Duration::from_secs(2)).await;
    let answer = service
        .auth
        .change_rules(
            rules(2, &[("web", "orders"), ("web", "payments")]),
            service.events,
        )
        .await
        .unwrap();
    let reload: Reload = serde_json::from_str(&answer).unwrap();
    assert!(!reload.already_running);
    eventually("the reload", || view().version() == 2).await;
    assert!(view().allows("web", "payments"));
    no_loader_running().await;
    assert_eq!(service.auth.requests(), 2);
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_concurrent_events_start_one_load() {
    let _turn = TURN.lock().await;
    let service = start(Duration::from_secs(5)).await;
    service
        .auth
        .set_mode(Mode::Slow(Duration::from_millis(300), 1));
    let url = format!("http://{}/events/rules-changed", service.events);
    let mut posts = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let url = url.clone();
        posts.spawn(async move {
            let answer = reqwest::Client::new().post(url).send().await.unwrap();
            serde_json::from_str::<Reload>(&answer.text().await.unwrap()).unwrap()
        });
    }
    let answers: Vec<Reload> = posts.join_all().await;
    let started: Vec<&Reload> = answers.iter().filter(|a| !a.already_running).collect();
    assert_eq!(started.len(), 1, "exactly one event started a load");
    assert!(
        answers.iter().all(|a| a.loader == started[0].loader),
        "the others name the running loader"
    );
    no_loader_running().await;
    assert_eq!(
        service.auth.requests(),
        2,
        "one load at start, one for the fifty events"
    );
    service.stop().await;
}

/// A failing auth service crashes the loader; it is restarted at once, loads, and the
/// loaders' supervisor stays within its restart intensity.
async fn recovers_from(mode: Mode, timeout: Duration) {
    let _turn = TURN.lock().await;
    let service = start(timeout).await;
    let sup = AuthDataLoaderSup::whereis().unwrap();
    service.auth.set_mode(mode);
    let doc = rules(2, &[("web", "payments")]);
    service
        .auth
        .change_rules(doc, service.events)
        .await
        .unwrap();
    eventually("the recovery", || view().version() == 2).await;
    assert!(view().allows("web", "payments") && !view().allows("web", "orders"));
    assert_eq!(
        service.auth.requests(),
        3,
        "the first load, the failed one, its retry"
    );
    assert_eq!(
        AuthDataLoaderSup::whereis(),
        Some(sup),
        "within the restart intensity"
    );
    no_loader_running().await;
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_from_http_500() {
    recovers_from(Mode::Fail(1), Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_from_malformed_json() {
    recovers_from(Mode::Malformed(1), Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovers_from_a_response_slower_than_the_time_out() {
    recovers_from(
        Mode::Slow(Duration::from_secs(1), 1),
        Duration::from_millis(100),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth_service_that_stays_down_escalates_and_the_last_good_rules_stay() {
    let _turn = TURN.lock().await;
    let service = start(Duration::from_millis(200)).await;
    let first_sup = AuthDataLoaderSup::whereis().unwrap();
    let events = service.events;
    // Connections are refused from now on.
    let Running { tree, auth, .. } = service;
    auth.stop().await;

    // One event: the loader crashes 4 times in a row (3 restarts allowed), so the loaders'
    // supervisor gives up and exits with `shutdown`; MyService restarts it, empty.
    reqwest::Client::new()
        .post(format!("http://{events}/events/rules-changed"))
        .send()
        .await
        .unwrap();
    eventually("the loaders' supervisor was restarted", || {
        AuthDataLoaderSup::whereis().is_some_and(|sup| sup != first_sup)
    })
    .await;
    assert!(tree.is_alive());
    assert_eq!(view().version(), 1, "the last good rules are kept");
    assert!(view().allows("web", "orders"));

    // Three more such events within MyService's 5 seconds: it gives up too, the way OTP
    // escalates, and stops every process of the tree.
    for _ in 0..3 {
        let current = AuthDataLoaderSup::whereis();
        let _ = reqwest::Client::new()
            .post(format!("http://{events}/events/rules-changed"))
            .send()
            .await;
        eventually("the next escalation", || {
            AuthDataLoaderSup::whereis() != current || !tree.is_alive()
        })
        .await;
    }
    eventually("the tree gave up", || !tree.is_alive()).await;
    assert_eq!(MyService::whereis(), None);
    assert_eq!(
        view().version(),
        1,
        "readers still have the last good rules"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_cleanly_with_every_process_ended() {
    let _turn = TURN.lock().await;
    let service = start(Duration::from_secs(2)).await;
    let events = service.events;
    service.stop().await;
    assert_eq!(MyService::whereis(), None);
    assert_eq!(AuthDataLoaderSup::whereis(), None);
    assert!(EventListener::whereis().is_none());
    // The event listener's HTTP server went with it.
    assert!(
        reqwest::Client::new()
            .post(format!("http://{events}/events/rules-changed"))
            .send()
            .await
            .is_err()
    );
}

/// GETs `path` of the probes' server: its status and text.
async fn probe(ops: SocketAddr, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://{ops}{path}")).await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_liveness_and_readiness_and_stops_gracefully() {
    let _turn = TURN.lock().await;
    let service = start(Duration::from_secs(2)).await;
    let app = Application::new(service.tree.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ops = listener.local_addr().unwrap();
    let mut server = HttpServer::start(listener, health::router(app.clone()));

    assert_eq!(probe(ops, "/livez").await, (200, "live".into()));
    assert_eq!(probe(ops, "/readyz").await, (200, "ready".into()));

    // Without its rules store, the service must get no traffic.
    service.tree.terminate_child("RulesStore").await.unwrap();
    let (status, text) = probe(ops, "/readyz").await;
    assert_eq!(status, 503);
    assert!(
        text.contains("permanent child `RulesStore`") && text.contains("is not running"),
        "{text}"
    );
    service.tree.restart_child("RulesStore").await.unwrap();
    assert_eq!(probe(ops, "/readyz").await.0, 200);

    let report = app.stop(Duration::from_secs(10)).await;
    assert!(report.in_time(), "{report:?}");
    assert_eq!(
        report.drained, 1,
        "the loaders' supervisor refuses new loads"
    );
    assert!(!service.tree.is_alive());
    assert_eq!(
        probe(ops, "/livez").await,
        (503, "down: the root supervisor exited with shutdown".into())
    );
    assert_eq!(
        probe(ops, "/readyz").await,
        (
            503,
            "not ready: stopping; the root supervisor exited with shutdown".into()
        )
    );
    server.stop().await;
    service.auth.stop().await;
}
