//! The event source: an HTTP endpoint on which the auth service says "rules changed", and on
//! which clients may ask "is client X allowed to call service Y". It is a process of the
//! tree: its HTTP server task ends when the process does.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::{get, post};
use bough::prelude::*;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tracing::info;

use crate::http::HttpServer;
use crate::rules::view;
use crate::service::MyService;

#[gen_server(name = "event_listener")]
pub struct EventListener {
    address: SocketAddr,
    server: HttpServer,
}

/// What a "rules changed" event answers.
#[derive(Debug, Serialize, Deserialize)]
pub struct Reload {
    pub loader: String,
    pub already_running: bool,
}

#[derive(Deserialize)]
struct Question {
    client: String,
    service: String,
}

#[derive(Serialize)]
struct Answer {
    allowed: bool,
    version: u64,
}

async fn rules_changed() -> Result<axum::Json<Reload>, (StatusCode, String)> {
    match MyService::update_auth_rules().await {
        Ok(pid) => Ok(axum::Json(Reload {
            loader: pid.to_string(),
            already_running: false,
        })),
        Err(StartError::AlreadyStarted(pid)) => {
            info!(loader = %pid, "a load is already running");
            Ok(axum::Json(Reload {
                loader: pid.to_string(),
                already_running: true,
            }))
        }
        Err(error) => Err((StatusCode::SERVICE_UNAVAILABLE, error.to_string())),
    }
}

async fn allowed(Query(question): Query<Question>) -> axum::Json<Answer> {
    let rules = view().current();
    axum::Json(Answer {
        allowed: rules.allows(&question.client, &question.service),
        version: rules.version,
    })
}

#[gen_server]
impl GenServer for EventListener {
    async fn init(address: SocketAddr) -> Init<Self> {
        let listener = match TcpListener::bind(address).await {
            Ok(listener) => listener,
            Err(error) => return Init::Stop(ExitReason::error(error)),
        };
        let address = listener
            .local_addr()
            .expect("a bound socket has an address");
        let app = Router::new()
            .route("/events/rules-changed", post(rules_changed))
            .route("/allowed", get(allowed));
        let server = HttpServer::start(listener, app);
        info!(pid = %self_pid(), %address, "listening for events");
        Init::Ok(EventListener { address, server })
    }

    async fn handle_call(&mut self, _: (), _from: ReplyTo<SocketAddr>) -> Reply<Self> {
        Reply::Reply(self.address)
    }

    async fn terminate(&mut self, _: &ExitReason) {
        // Requests in flight finish; a killed listener's server is aborted when dropped.
        self.server.stop().await;
    }
}

impl EventListener {
    /// Where to send events.
    pub async fn address() -> Result<SocketAddr, CallError> {
        gen_server::call::<EventListener>("event_listener", ()).await
    }
}
