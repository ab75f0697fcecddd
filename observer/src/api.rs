//! The routes: the page, the JSON API and the event stream.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bough_core::CallError;
use bough_core::introspect::{self, EventFilter, TreeOptions};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::{Root, json};

const INDEX_HTML: &str = include_str!("../assets/index.html");
const OBSERVER_JS: &str = include_str!("../assets/observer.js");
const OBSERVER_CSS: &str = include_str!("../assets/observer.css");

/// How long a request waits for a process's answer (its state, its supervisor's view).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// The most children one page request may ask for.
const MAX_PAGE: usize = 1000;

pub(crate) struct Shared {
    pub(crate) root: Root,
    pub(crate) max_children: usize,
    pub(crate) refresh: Duration,
    /// Refuse requests addressed to a host name that is not loopback's.
    pub(crate) check_host: bool,
    /// Closes when the observer stops.
    pub(crate) closing: watch::Receiver<()>,
}

type App = Arc<Shared>;

pub(crate) fn router(shared: App) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/observer.js",
            get(|| async { asset(OBSERVER_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/observer.css",
            get(|| async { asset(OBSERVER_CSS, "text/css; charset=utf-8") }),
        )
        .route("/api/tree", get(tree))
        .route("/api/children/{pid}", get(children))
        .route("/api/process/{pid}", get(process))
        .route("/api/events", get(events))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            loopback_host,
        ))
        .with_state(shared)
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

/// A loopback observer answers only requests addressed to a loopback name: a web page
/// whose domain was made to resolve to 127.0.0.1 (DNS rebinding) names its own domain.
async fn loopback_host(State(app): State<App>, request: Request, next: Next) -> Response {
    if app.check_host {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .unwrap_or("");
        if !is_loopback_host(host) {
            return error(
                StatusCode::FORBIDDEN,
                format!(
                    "host `{host}` is not a loopback name: open the observer at 127.0.0.1, \
                     localhost or [::1]"
                ),
            );
        }
    }
    next.run(request).await
}

fn is_loopback_host(host: &str) -> bool {
    // `name:port`, `[v6]:port`, or either without the port.
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn error(status: StatusCode, message: String) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

fn call_error(error: CallError) -> Response {
    let status = match error {
        CallError::NoProc | CallError::Exited(_) => StatusCode::NOT_FOUND,
        CallError::WrongType { .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    self::error(status, error.to_string())
}

fn not_a_pid(text: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        format!("`{text}` is not a pid: write 42 or #PID<0.42.0>"),
    )
}

#[derive(Deserialize)]
struct TreeQuery {
    max_children: Option<usize>,
}

async fn tree(State(app): State<App>, Query(query): Query<TreeQuery>) -> Response {
    let max_children = query.max_children.unwrap_or(app.max_children).min(MAX_PAGE);
    match walk(&app, max_children).await {
        Ok(tree) => axum::Json(json::tree(&tree)).into_response(),
        Err(error) => call_error(error),
    }
}

async fn walk(app: &Shared, max_children: usize) -> Result<introspect::Node, CallError> {
    let root = app.root.resolve().ok_or(CallError::NoProc)?;
    let options = TreeOptions::new().max_children(max_children);
    tokio::time::timeout(ANSWER_TIMEOUT, introspect::tree(root, options))
        .await
        .unwrap_or(Err(CallError::Timeout))
}

#[derive(Deserialize)]
struct PageQuery {
    offset: Option<usize>,
    limit: Option<usize>,
}

async fn children(Path(pid): Path<String>, Query(query): Query<PageQuery>) -> Response {
    let Some(pid) = crate::parse_pid(&pid) else {
        return not_a_pid(&pid);
    };
    let offset = query.offset.unwrap_or(0);
    let limit = query.limit.unwrap_or(100).min(MAX_PAGE);
    let asked = tokio::time::timeout(ANSWER_TIMEOUT, introspect::children(pid, offset, limit))
        .await
        .unwrap_or(Err(CallError::Timeout));
    match asked {
        Ok(page) => axum::Json(json::page(&page)).into_response(),
        Err(error) => call_error(error),
    }
}

async fn process(Path(pid): Path<String>) -> Response {
    let Some(pid) = crate::parse_pid(&pid) else {
        return not_a_pid(&pid);
    };
    match introspect::get_status(pid, ANSWER_TIMEOUT).await {
        Ok(status) => axum::Json(json::status(&status)).into_response(),
        Err(error) => call_error(error),
    }
}

/// The event stream of one page: the tree whenever it changed (polled every `refresh`,
/// and soon after each event), and each notable event as it happens.
async fn events(State(app): State<App>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let (tx, rx) = mpsc::channel::<Event>(64);
    tokio::spawn(feed(app, tx));
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Feeds one page until it goes away or the observer stops. The tree is walked on a task
/// of its own, so that a supervisor slow to answer (busy starting a child) never holds
/// back the events.
async fn feed(app: App, tx: mpsc::Sender<Event>) {
    // Subscribed before the first tree is sent, so that nothing falls between the two.
    let mut events = introspect::subscribe(EventFilter::Notable);
    let mut closing = app.closing.clone();
    let mut ticks = tokio::time::interval(app.refresh);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut last_tree = String::new();
    // After an event, the tree is looked at again soon: a restarted child has a new pid.
    let mut soon: Option<Instant> = None;
    let mut walking: Option<JoinHandle<String>> = None;
    loop {
        let walk_now = tokio::select! {
            _ = ticks.tick(), if walking.is_none() => true,
            () = sleep_until_some(soon), if soon.is_some() && walking.is_none() => {
                soon = None;
                true
            }
            walked = join(&mut walking), if walking.is_some() => {
                walking = None;
                if let Some(tree) = walked.filter(|tree| *tree != last_tree) {
                    let event = Event::default().event("tree").data(&tree);
                    last_tree = tree;
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
                false
            }
            received = events.recv() => {
                let event = match received {
                    Ok(event) => Event::default()
                        .event("tree_event")
                        .json_data(json::event(&event)),
                    Err(lagged) => Event::default()
                        .event("lagged")
                        .json_data(serde_json::json!({ "dropped": lagged.0 })),
                };
                if let Ok(event) = event
                    && tx.send(event).await.is_err()
                {
                    return;
                }
                soon.get_or_insert_with(|| Instant::now() + Duration::from_millis(30));
                false
            }
            _ = closing.changed() => return,
            () = tx.closed() => return,
        };
        if walk_now {
            walking = Some(tokio::spawn(tree_json(app.clone())));
        }
    }
}

/// The tree as the page gets it, or what stands in its way.
async fn tree_json(app: App) -> String {
    let json = match walk(&app, app.max_children).await {
        Ok(tree) => serde_json::to_string(&json::tree(&tree)),
        Err(error) => serde_json::to_string(&serde_json::json!({ "error": error.to_string() })),
    };
    json.unwrap_or_default()
}

async fn sleep_until_some(at: Option<Instant>) {
    tokio::time::sleep_until(at.unwrap_or_else(Instant::now)).await;
}

/// The walk's outcome, `None` if it panicked or was cancelled.
async fn join(walking: &mut Option<JoinHandle<String>>) -> Option<String> {
    match walking.as_mut() {
        Some(task) => task.await.ok(),
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_pass_the_host_check() {
        for host in [
            "127.0.0.1:4040",
            "127.0.0.1",
            "localhost:4040",
            "LOCALHOST",
            "[::1]:4040",
            "[::1]",
            "127.1.2.3:80",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example:4040",
            "10.0.0.1:4040",
            "[2001:db8::1]:4040",
            "localhost.evil.example",
            "0.0.0.0:4040",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
