//! A process's mailbox: an unbounded multi-producer queue with room for one exit signal.
//!
//! Why not `tokio::sync::mpsc`: its unbounded channel allocates a 32-slot block when it is
//! created, so an idle process would pay for 32 messages it never received. This queue
//! allocates nothing until the first message arrives, and one lock per operation keeps it
//! simple enough to reason about: pushes, the parent's shutdown signal and closing all
//! serialize on the same mutex, so no message can slip in after the process exited.
//!
//! The lock is `parking_lot`'s: it spins before it sleeps. A supervisor's mailbox is pushed
//! by its callers and its children at once; a lock that puts a thread to sleep at the first
//! contention cost a fifth of the start rate of a dynamic supervisor on two cores.

use std::collections::VecDeque;
use std::task::{Context, Poll, Waker};

use crate::exit::ExitReason;
use crate::sync::{Mutex, MutexGuard};

pub(crate) struct Mailbox<M> {
    state: Mutex<State<M>>,
}

struct State<M> {
    queue: VecDeque<M>,
    waker: Option<Waker>,
    /// A stop request from the parent; it is handled before any queued message.
    signal: Option<ExitReason>,
    /// Set once when the process has exited: the mailbox is closed from then on.
    exit: Option<ExitReason>,
    /// The process is in a callback that is waiting on something (or has not started its
    /// loop yet), so a message may wait a while before it is handled.
    busy: bool,
}

/// A message that may need a word when it is dropped unread: a call tells its caller that
/// it will never be handled.
pub(crate) trait Letter {
    fn abandon(&self) {}
}

/// What a sender learns from a push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pushed {
    /// The process is in a callback that waits on something.
    pub(crate) busy: bool,
    /// Nothing was queued before this message.
    pub(crate) first: bool,
}

/// What a process finds in its mailbox.
pub(crate) enum Event<M> {
    Message(M),
    Signal(ExitReason),
}

impl<M> Mailbox<M> {
    pub(crate) fn new() -> Mailbox<M> {
        Mailbox {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                waker: None,
                signal: None,
                exit: None,
                busy: true,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<M>> {
        self.state.lock()
    }

    /// Queues a message and says how busy the process is; gives the message back if the
    /// process already exited.
    pub(crate) fn push(&self, message: M) -> Result<Pushed, M> {
        let (waker, pushed) = {
            let mut state = self.lock();
            if state.exit.is_some() {
                return Err(message);
            }
            let first = state.queue.is_empty();
            state.queue.push_back(message);
            let pushed = Pushed {
                busy: state.busy,
                first,
            };
            (state.waker.take(), pushed)
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(pushed)
    }

    /// Marks the process busy and shows `each` every message that is already waiting.
    pub(crate) fn set_busy(&self, mut each: impl FnMut(&M)) {
        let mut state = self.lock();
        state.busy = true;
        state.queue.iter().for_each(&mut each);
    }

    /// Marks the process as handling messages promptly again.
    pub(crate) fn set_idle(&self) {
        self.lock().busy = false;
    }

    /// Asks the process to stop with `reason`. The first signal wins; later ones and
    /// signals to an exited process are ignored.
    pub(crate) fn signal(&self, reason: ExitReason) {
        let waker = {
            let mut state = self.lock();
            if state.exit.is_some() || state.signal.is_some() {
                return;
            }
            state.signal = Some(reason);
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Event<M>> {
        // Each message costs task budget, as with tokio's channels, so a process that always
        // has mail (a supervisor retrying a restart, a busy server) still yields.
        let coop = std::task::ready!(tokio::task::coop::poll_proceed(cx));
        let mut state = self.lock();
        if let Some(reason) = state.signal.take() {
            coop.made_progress();
            return Poll::Ready(Event::Signal(reason));
        }
        if let Some(message) = state.queue.pop_front() {
            coop.made_progress();
            return Poll::Ready(Event::Message(message));
        }
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    pub(crate) async fn recv(&self) -> Event<M> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Takes a waiting stop signal, leaving queued messages in place.
    pub(crate) fn take_signal(&self) -> Option<ExitReason> {
        self.lock().signal.take()
    }

    /// Closes the mailbox with the process's exit reason and drops what was still queued.
    /// Returns false if it was already closed.
    pub(crate) fn close(&self, reason: ExitReason) -> bool
    where
        M: Letter,
    {
        let dropped = {
            let mut state = self.lock();
            if state.exit.is_some() {
                return false;
            }
            state.exit = Some(reason);
            state.signal = None;
            state.waker = None;
            std::mem::take(&mut state.queue)
        };
        // Dropping pending calls fails their callers; do it outside the lock.
        dropped.iter().for_each(Letter::abandon);
        drop(dropped);
        true
    }

    pub(crate) fn exit_reason(&self) -> Option<ExitReason> {
        self.lock().exit.clone()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().exit.is_some()
    }
}

#[cfg(all(test, loom))]
#[path = "loom_mailbox.rs"]
mod loom_model;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    impl Letter for i32 {}

    #[tokio::test]
    async fn signal_overtakes_queued_messages() {
        let mb = Mailbox::new();
        mb.push(1).unwrap();
        mb.push(2).unwrap();
        mb.signal(ExitReason::Shutdown);
        mb.signal(ExitReason::Killed);
        assert!(matches!(
            mb.recv().await,
            Event::Signal(ExitReason::Shutdown)
        ));
        assert!(matches!(mb.recv().await, Event::Message(1)));
        assert!(matches!(mb.recv().await, Event::Message(2)));
        assert!(mb.take_signal().is_none());
    }

    #[tokio::test]
    async fn closed_mailbox_refuses_and_remembers_reason() {
        let mb = Mailbox::new();
        let pushed = mb.push(1).unwrap();
        assert!(pushed.busy, "busy until the process says otherwise");
        assert!(pushed.first);
        mb.set_idle();
        assert_eq!(
            mb.push(1),
            Ok(Pushed {
                busy: false,
                first: false
            })
        );
        let mut seen = 0;
        mb.set_busy(|_| seen += 1);
        assert_eq!(seen, 2);
        assert!(mb.close(ExitReason::Normal));
        assert!(!mb.close(ExitReason::Killed));
        assert_eq!(mb.push(2), Err(2));
        assert_eq!(mb.exit_reason(), Some(ExitReason::Normal));
        assert!(mb.is_closed());
    }

    #[tokio::test]
    async fn a_busy_receiver_yields_to_other_tasks() {
        let mb = Arc::new(Mailbox::new());
        let other_ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        tokio::spawn({
            let other_ran = other_ran.clone();
            async move { other_ran.store(true, std::sync::atomic::Ordering::SeqCst) }
        });
        // Always one message waiting: without budgeting this loop would never yield.
        mb.push(0).unwrap();
        for n in 1.. {
            mb.push(n).unwrap();
            mb.recv().await;
            if other_ran.load(std::sync::atomic::Ordering::SeqCst) {
                assert!(n <= 1000, "yielded only after {n} messages");
                return;
            }
        }
    }

    #[tokio::test]
    async fn receiver_is_woken_by_a_push_from_another_task() {
        let mb = Arc::new(Mailbox::new());
        let rx = tokio::spawn({
            let mb = mb.clone();
            async move {
                match mb.recv().await {
                    Event::Message(m) => m,
                    Event::Signal(_) => 0,
                }
            }
        });
        tokio::task::yield_now().await;
        mb.push(42).unwrap();
        assert_eq!(rx.await.unwrap(), 42);
    }
}
