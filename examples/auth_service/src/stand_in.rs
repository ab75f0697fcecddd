//! A stand-in for the auth service, on 127.0.0.1: serves the rules as JSON, can be told to
//! fail in each way a real one fails, and pushes "rules changed" to its subscriber.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;

use crate::http::HttpServer;
use crate::rules::{Rule, RulesDoc};

/// How the stand-in answers `GET /rules`. Each failing mode lasts for the given number of
/// requests, then the stand-in serves again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Serve,
    /// HTTP 500.
    Fail(usize),
    /// A body that is not JSON.
    #[allow(dead_code)] // used by the tests
    Malformed(usize),
    /// The rules, but only after this long.
    Slow(Duration, usize),
}

impl Mode {
    /// This mode after one more request.
    fn used(self) -> Mode {
        match self {
            Mode::Fail(n) if n > 1 => Mode::Fail(n - 1),
            Mode::Malformed(n) if n > 1 => Mode::Malformed(n - 1),
            Mode::Slow(delay, n) if n > 1 => Mode::Slow(delay, n - 1),
            _ => Mode::Serve,
        }
    }
}

struct Inner {
    doc: Mutex<RulesDoc>,
    mode: Mutex<Mode>,
    requests: AtomicUsize,
}

pub struct StandIn {
    pub address: SocketAddr,
    inner: Arc<Inner>,
    server: HttpServer,
    http: reqwest::Client,
}

pub fn rules(version: u64, pairs: &[(&str, &str)]) -> RulesDoc {
    RulesDoc {
        version,
        rules: pairs
            .iter()
            .map(|(client, service)| Rule {
                client: client.to_string(),
                service: service.to_string(),
            })
            .collect(),
    }
}

async fn serve_rules(State(inner): State<Arc<Inner>>) -> Response {
    inner.requests.fetch_add(1, Ordering::SeqCst);
    let mode = {
        let mut mode = inner.mode.lock().unwrap();
        let now = mode.clone();
        *mode = now.clone().used();
        now
    };
    match mode {
        Mode::Serve => {}
        Mode::Fail(_) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "rules database unavailable",
            )
                .into_response();
        }
        Mode::Malformed(_) => {
            return (StatusCode::OK, "{\"version\": 7, \"rules\": [oops").into_response();
        }
        Mode::Slow(delay, _) => tokio::time::sleep(delay).await,
    }
    let doc = inner.doc.lock().unwrap().clone();
    axum::Json(doc).into_response()
}

impl StandIn {
    /// Starts serving `doc` at `http://127.0.0.1:<free port>/rules`.
    pub async fn start(doc: RulesDoc) -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on loopback");
        let address = listener.local_addr().unwrap();
        let inner = Arc::new(Inner {
            doc: Mutex::new(doc),
            mode: Mutex::new(Mode::Serve),
            requests: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/rules", get(serve_rules))
            .with_state(inner.clone());
        let server = HttpServer::start(listener, app);
        StandIn {
            address,
            inner,
            server,
            http: reqwest::Client::new(),
        }
    }

    pub fn rules_url(&self) -> String {
        format!("http://{}/rules", self.address)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.inner.mode.lock().unwrap() = mode;
    }

    /// How many times the rules were asked for.
    #[allow(dead_code)] // used by the tests
    pub fn requests(&self) -> usize {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// Changes the rules and tells the service at `events` (its event listener) about it.
    pub async fn change_rules(
        &self,
        doc: RulesDoc,
        events: SocketAddr,
    ) -> Result<String, reqwest::Error> {
        *self.inner.doc.lock().unwrap() = doc;
        self.notify(events).await
    }

    /// Sends "rules changed" to the service at `events`; the answer's body.
    pub async fn notify(&self, events: SocketAddr) -> Result<String, reqwest::Error> {
        let url = format!("http://{events}/events/rules-changed");
        self.http
            .post(url)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await
    }

    /// Stops serving; the port refuses connections from then on.
    pub async fn stop(mut self) {
        self.server.stop().await;
    }
}
