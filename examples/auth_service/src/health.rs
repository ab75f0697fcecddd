//! What an orchestrator asks the service, on a port of its own: `GET /livez` (is the tree
//! alive, or must the container be restarted?) and `GET /readyz` (may it get traffic?).
//! Both answer 200 or 503 with the reason as plain text. The server runs outside the
//! tree, so it answers "not ready: stopping" while the tree shuts down, and "down" after.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use bough::Application;

/// The probes' routes, answered from `app`.
pub fn router(app: Application) -> Router {
    Router::new()
        .route("/livez", get(live))
        .route("/readyz", get(ready))
        .with_state(app)
}

async fn live(State(app): State<Application>) -> (StatusCode, String) {
    let liveness = app.live();
    (status(liveness.is_live()), liveness.to_string())
}

async fn ready(State(app): State<Application>) -> (StatusCode, String) {
    let readiness = app.ready().await;
    (status(readiness.is_ready()), readiness.to_string())
}

fn status(ok: bool) -> StatusCode {
    if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}
