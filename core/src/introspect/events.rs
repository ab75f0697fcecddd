//! Tree events: what supervisors report, for whoever subscribes. Supervisors publish only
//! while someone listens; otherwise each report costs one relaxed atomic load.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use tokio::sync::broadcast;

use crate::child::ChildId;
use crate::exit::ExitReason;
use crate::pid::Pid;

/// Events kept for a subscriber that has not read them yet; past this it lags.
const CAPACITY: usize = 4096;

/// Subscribers to every event in the low half, to notable ones in the high half: one load
/// tells a supervisor whether anyone listens.
static SUBSCRIBERS: AtomicU64 = AtomicU64::new(0);
const ALL: u64 = 1;
const NOTABLE: u64 = 1 << 32;

struct Channels {
    all: broadcast::Sender<TreeEvent>,
    notable: broadcast::Sender<TreeEvent>,
}

static CHANNELS: LazyLock<Channels> = LazyLock::new(|| Channels {
    all: broadcast::Sender::new(CAPACITY),
    notable: broadcast::Sender::new(CAPACITY),
});

/// One thing a supervisor did or saw: the events of OTP's supervisor reports.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TreeEvent {
    /// When it happened.
    pub at: SystemTime,
    /// The supervisor that reports it.
    pub supervisor: Pid,
    /// The id of the child it is about (a dynamic supervisor's children have their spec's
    /// id).
    pub child_id: ChildId,
    /// What happened.
    pub kind: EventKind,
}

/// What happened to a child.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum EventKind {
    /// The child started, at its supervisor's start or by `start_child` (a static
    /// supervisor also reports the starts of a restart, each followed by a
    /// [`Restarted`](EventKind::Restarted)).
    Started {
        /// Its pid.
        pid: Pid,
    },
    /// The child exited on its own (not stopped by its supervisor).
    Exited {
        /// The pid it had.
        pid: Pid,
        /// Why.
        reason: ExitReason,
        /// Whether the supervisor restarts it.
        restarting: bool,
    },
    /// The supervisor restarted the child.
    Restarted {
        /// Its new pid.
        pid: Pid,
    },
    /// A start or a restart failed; a failed restart is tried again.
    StartFailed {
        /// The error, as text.
        reason: String,
    },
    /// The child exited with an abnormal reason while its supervisor stopped it.
    ShutdownError {
        /// The pid it had.
        pid: Pid,
        /// Why.
        reason: ExitReason,
    },
    /// Too many restarts within the period: the supervisor stops all its children and
    /// exits with `reason`.
    IntensityReached {
        /// The supervisor's exit reason.
        reason: ExitReason,
    },
}

impl TreeEvent {
    /// Whether the event is one a person watching the tree wants to see: everything but
    /// starts and clean exits that are not restarted. These are the events OTP logs at
    /// error or info level; the others are its debug-level progress reports.
    pub fn is_notable(&self) -> bool {
        match &self.kind {
            EventKind::Started { .. } => false,
            EventKind::Exited {
                reason, restarting, ..
            } => *restarting || !reason.is_clean(),
            EventKind::Restarted { .. }
            | EventKind::StartFailed { .. }
            | EventKind::ShutdownError { .. }
            | EventKind::IntensityReached { .. } => true,
        }
    }
}

/// Which events a subscription gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EventFilter {
    /// Every event, starts and clean exits included: one per start and one per exit of
    /// every supervised process, which can be millions a second.
    All,
    /// Only [notable](TreeEvent::is_notable) events: crashes, restarts, failed starts,
    /// restart intensity reached. A busy tree whose children come and go cleanly sends
    /// none.
    #[default]
    Notable,
}

/// A subscription to the events of every supervisor of the program: OTP's supervisor
/// reports as values, for dashboards and tests. Made by [`subscribe`]; unsubscribes when
/// dropped.
#[derive(Debug)]
pub struct Events {
    rx: broadcast::Receiver<TreeEvent>,
    filter: EventFilter,
}

/// The subscriber fell behind and this many events were dropped for it; the next
/// [`Events::recv`] goes on with the oldest event still kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("fell behind: {0} tree events were dropped")]
pub struct Lagged(pub u64);

/// Subscribes to the events of every supervisor: each event that happens after this
/// returns is received, up to 4096 unread ones (then the subscriber [lags](Lagged)).
///
/// While no one subscribes, supervisors publish nothing and pay one atomic load per
/// report.
///
/// ```
/// use bough_core::prelude::*;
/// use bough_core::introspect::{self, EventFilter, EventKind};
///
/// struct Fragile;
/// impl GenServer for Fragile {
///     type Args = (); type Call = Never; type Reply = Never; type Cast = ();
///     type Info = Never; type Continue = Never;
///     async fn init(_: ()) -> Init<Self> { Init::Ok(Fragile) }
///     async fn handle_cast(&mut self, _: ()) -> NoReply<Self> { panic!("broken") }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut events = introspect::subscribe(EventFilter::Notable);
/// let sup = Supervisor::start_link(
///     [ChildSpec::worker::<Fragile>(()).id("fragile").name("fragile")],
///     SupervisorOptions::new(Strategy::OneForOne),
/// )
/// .await
/// .unwrap();
/// gen_server::cast::<Fragile>("fragile", ());
/// let crash = events.recv().await.unwrap();
/// assert_eq!(crash.child_id, "fragile");
/// assert!(matches!(crash.kind, EventKind::Exited { restarting: true, .. }));
/// let restart = events.recv().await.unwrap();
/// assert!(matches!(restart.kind, EventKind::Restarted { .. }));
/// # }
/// ```
pub fn subscribe(filter: EventFilter) -> Events {
    let (sender, count) = match filter {
        EventFilter::All => (&CHANNELS.all, ALL),
        EventFilter::Notable => (&CHANNELS.notable, NOTABLE),
    };
    let rx = sender.subscribe();
    SUBSCRIBERS.fetch_add(count, Ordering::AcqRel);
    Events { rx, filter }
}

impl Events {
    /// The next event, once there is one.
    pub async fn recv(&mut self) -> Result<TreeEvent, Lagged> {
        match self.rx.recv().await {
            Ok(event) => Ok(event),
            Err(broadcast::error::RecvError::Lagged(n)) => Err(Lagged(n)),
            Err(broadcast::error::RecvError::Closed) => {
                unreachable!("the senders are statics and never dropped")
            }
        }
    }

    /// The next event if one is waiting, without waiting.
    pub fn try_recv(&mut self) -> Option<Result<TreeEvent, Lagged>> {
        match self.rx.try_recv() {
            Ok(event) => Some(Ok(event)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Err(Lagged(n))),
            Err(_) => None,
        }
    }

    /// Which events this subscription gets.
    pub fn filter(&self) -> EventFilter {
        self.filter
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        let count = match self.filter {
            EventFilter::All => ALL,
            EventFilter::Notable => NOTABLE,
        };
        SUBSCRIBERS.fetch_sub(count, Ordering::AcqRel);
    }
}

/// Whether anyone listens for events that are notable or not. Relaxed: a subscriber that
/// caused an event (through a message, a lock, a spawn) is seen by the load that event's
/// report makes.
#[inline]
pub(crate) fn listening(notable: bool) -> bool {
    let subscribers = SUBSCRIBERS.load(Ordering::Relaxed);
    if notable {
        subscribers != 0
    } else {
        subscribers & (NOTABLE - 1) != 0
    }
}

/// Sends an event to the subscribers that want it. Called only after [`listening`].
#[cold]
pub(crate) fn publish(supervisor: Pid, child_id: &str, kind: EventKind) {
    let event = TreeEvent {
        at: SystemTime::now(),
        supervisor,
        child_id: ChildId::from(child_id.to_owned()),
        kind,
    };
    let subscribers = SUBSCRIBERS.load(Ordering::Relaxed);
    if event.is_notable() && subscribers >= NOTABLE {
        // An error only says that the last subscriber just left.
        let _ = CHANNELS.notable.send(event.clone());
    }
    if subscribers & (NOTABLE - 1) != 0 {
        let _ = CHANNELS.all.send(event);
    }
}
