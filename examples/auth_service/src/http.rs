//! An HTTP server on a task, stopped gracefully (requests in flight finish) and awaited, or
//! aborted when dropped: the event listener and the stand-in auth service both run one.

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct HttpServer {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves `app` on `listener` until stopped.
    pub fn start(listener: TcpListener, app: Router) -> HttpServer {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await;
        });
        HttpServer {
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops accepting, lets requests in flight finish, and waits for the server's task.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for HttpServer {
    /// Dropped without `stop` (its owner was killed): the server goes at once.
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
