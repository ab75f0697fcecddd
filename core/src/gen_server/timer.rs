//! Timers: `Process.send_after/3` and `Process.cancel_timer/1`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::Instant;

use super::{Dest, GenServer, Server};
use crate::registry::Name;

const PENDING: u8 = 0;
const FIRED: u8 = 1;
const CANCELLED: u8 = 2;

struct Shared {
    /// `None`: too far away to represent, so it never fires.
    deadline: Option<Instant>,
    state: AtomicU8,
}

impl Shared {
    fn settle(&self, to: u8) -> bool {
        self.state
            .compare_exchange(PENDING, to, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn left(&self) -> Duration {
        match self.deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        }
    }
}

/// A timer started by [`send_after`]: Elixir's timer reference.
pub struct TimerRef {
    shared: Arc<Shared>,
    task: AbortHandle,
}

impl TimerRef {
    /// Cancels the timer (`Process.cancel_timer/1`): the time that was left, or `None` if
    /// it already fired, was cancelled, or its server (a timer sent to a server handle)
    /// exited.
    pub fn cancel(&self) -> Option<Duration> {
        if self.shared.settle(CANCELLED) {
            self.task.abort();
            Some(self.shared.left())
        } else {
            None
        }
    }

    /// The time left before the timer fires (`Process.read_timer/1`), or `None` if it is
    /// no longer pending.
    pub fn read(&self) -> Option<Duration> {
        (self.shared.state.load(Ordering::Acquire) == PENDING).then(|| self.shared.left())
    }
}

impl fmt::Debug for TimerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimerRef")
            .field("left", &self.read())
            .finish()
    }
}

/// Sends `message` to a server's [`GenServer::handle_info`] after `after`:
/// `Process.send_after(dest, message, ms)`.
///
/// Addressed to a server handle, the message goes to that process only, and the timer is
/// cancelled if it exits first (even if another process takes its name). Addressed to a
/// name, the name is looked up when the timer fires, so a restarted server gets it. Any
/// duration works; one too long to represent never fires.
///
/// Dropping the [`TimerRef`] does not cancel the timer.
///
/// ```
/// # use bough_core::prelude::*;
/// # use std::time::Duration;
/// struct Ticker(u32);
/// impl GenServer for Ticker {
///     type Args = (); type Call = (); type Reply = u32; type Cast = Never;
///     type Info = &'static str; type Continue = Never;
///     async fn init(_: ()) -> Init<Self> {
///         gen_server::send_after(&Server::<Ticker>::current(), "tick", Duration::from_millis(10));
///         Init::Ok(Ticker(0))
///     }
///     async fn handle_info(&mut self, _: &'static str) -> NoReply<Self> {
///         self.0 += 1;
///         NoReply::NoReply
///     }
///     async fn handle_call(&mut self, _: (), _: ReplyTo<u32>) -> Reply<Self> {
///         Reply::Reply(self.0)
///     }
/// }
/// # #[tokio::main(flavor = "current_thread", start_paused = true)] async fn main() {
/// let ticker = gen_server::start_link::<Ticker>(()).await.unwrap();
/// tokio::time::sleep(Duration::from_millis(20)).await;
/// assert_eq!(ticker.call(()).await, Ok(1));
/// # }
/// ```
pub fn send_after<'a, S: GenServer>(
    dest: impl Into<Dest<'a, S>>,
    message: S::Info,
    after: Duration,
) -> TimerRef {
    let shared = Arc::new(Shared {
        deadline: Instant::now().checked_add(after),
        state: AtomicU8::new(PENDING),
    });
    let task = match dest.into() {
        Dest::Server(server) => tokio::spawn(to_server(server.clone(), message, shared.clone())),
        Dest::Name(name) => tokio::spawn(to_name::<S>(name, message, shared.clone())),
    };
    TimerRef {
        shared,
        task: task.abort_handle(),
    }
}

async fn expiry(shared: &Shared) {
    match shared.deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

async fn to_server<S: GenServer>(server: Server<S>, message: S::Info, shared: Arc<Shared>) {
    let down = server.monitor();
    tokio::select! {
        () = expiry(&shared) => {
            if shared.settle(FIRED) {
                server.send(message);
            }
        }
        _ = down => {
            // The server is gone: the timer is cancelled with it, as OTP's is.
            shared.settle(CANCELLED);
        }
    }
}

async fn to_name<S: GenServer>(name: Name, message: S::Info, shared: Arc<Shared>) {
    expiry(&shared).await;
    if shared.settle(FIRED)
        && let Some(server) = Server::<S>::whereis(&name)
    {
        server.send(message);
    }
}
