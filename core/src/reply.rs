//! Reply slots: the `from` of `handle_call`, and the caller's side of it.
//!
//! A slot is shared by the caller and by up to two repliers: the server loop (which answers
//! for `Reply::Reply`) and the [`ReplyTo`] handed to `handle_call` (which a server may keep
//! to answer later, OTP's `{:noreply, state}` + `GenServer.reply/2`). The first answer wins.
//! When every replier is gone without answering, the caller is told at once.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

struct Slot<R> {
    state: Mutex<SlotState<R>>,
}

struct SlotState<R> {
    value: Option<R>,
    waker: Option<Waker>,
    repliers: u8,
    answered: bool,
    caller_gone: bool,
}

impl<R> Slot<R> {
    fn lock(&self) -> MutexGuard<'_, SlotState<R>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Where the reply to one call goes: the `from` argument of `handle_call`.
///
/// Return [`Reply::Reply`](crate::Reply::Reply) to answer at once and ignore this value, or
/// keep it, return [`Reply::NoReply`](crate::Reply::NoReply), and answer later with
/// [`ReplyTo::reply`] (OTP's `GenServer.reply(from, reply)`), from any task.
///
/// Only the first answer to a call is delivered. If every `ReplyTo` of a call is dropped
/// without an answer while the server lives, the caller gets
/// [`CallError::NoReply`](crate::CallError::NoReply) at once instead of waiting for its
/// time-out.
pub struct ReplyTo<R> {
    slot: Arc<Slot<R>>,
}

/// The caller's end of a call.
pub(crate) struct ReplyRx<R> {
    slot: Arc<Slot<R>>,
}

/// The repliers all left without answering.
#[derive(Debug)]
pub(crate) struct Unanswered;

pub(crate) fn slot<R>() -> (ReplyTo<R>, ReplyRx<R>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(SlotState {
            value: None,
            waker: None,
            repliers: 1,
            answered: false,
            caller_gone: false,
        }),
    });
    (ReplyTo { slot: slot.clone() }, ReplyRx { slot })
}

impl<R> ReplyTo<R> {
    /// Sends the reply. Does nothing if the call was already answered or its caller gave up
    /// (timed out or was cancelled): a late reply never reaches a later call.
    pub fn reply(self, reply: R) {
        let (waker, unwanted) = {
            let mut state = self.slot.lock();
            if state.answered || state.caller_gone {
                (None, Some(reply))
            } else {
                state.answered = true;
                state.value = Some(reply);
                (state.waker.take(), None)
            }
        };
        drop(unwanted);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the caller is still waiting for an answer.
    pub fn is_waiting(&self) -> bool {
        let state = self.slot.lock();
        !state.answered && !state.caller_gone
    }

    /// A second replier for the server loop.
    pub(crate) fn share(&self) -> ReplyTo<R> {
        self.slot.lock().repliers += 1;
        ReplyTo {
            slot: self.slot.clone(),
        }
    }
}

impl<R> Drop for ReplyTo<R> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.slot.lock();
            state.repliers -= 1;
            if state.repliers == 0 && !state.answered {
                state.waker.take()
            } else {
                None
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<R> fmt::Debug for ReplyTo<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyTo")
            .field("waiting", &self.is_waiting())
            .finish()
    }
}

impl<R> ReplyRx<R> {
    pub(crate) fn poll_reply(&self, cx: &mut Context<'_>) -> Poll<Result<R, Unanswered>> {
        let mut state = self.slot.lock();
        if let Some(value) = state.value.take() {
            return Poll::Ready(Ok(value));
        }
        if state.repliers == 0 || state.answered {
            return Poll::Ready(Err(Unanswered));
        }
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    pub(crate) async fn recv(&self) -> Result<R, Unanswered> {
        std::future::poll_fn(|cx| self.poll_reply(cx)).await
    }
}

impl<R> Drop for ReplyRx<R> {
    fn drop(&mut self) {
        let unwanted = {
            let mut state = self.slot.lock();
            state.caller_gone = true;
            state.waker = None;
            state.value.take()
        };
        drop(unwanted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn first_reply_wins() {
        let (to, rx) = slot();
        let shared = to.share();
        to.reply(1);
        shared.reply(2);
        assert_eq!(rx.recv().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn all_repliers_dropped_fails_the_caller() {
        let (to, rx) = slot::<u8>();
        let shared = to.share();
        drop(to);
        assert!(shared.is_waiting());
        drop(shared);
        assert!(rx.recv().await.is_err());
    }

    #[tokio::test]
    async fn late_reply_after_caller_left_is_dropped() {
        let (to, rx) = slot::<Arc<()>>();
        drop(rx);
        assert!(!to.is_waiting());
        let value = Arc::new(());
        to.reply(value.clone());
        assert_eq!(
            Arc::strong_count(&value),
            1,
            "the late reply was freed at once"
        );
    }

    #[tokio::test]
    async fn reply_from_another_task_wakes_the_caller() {
        let (to, rx) = slot();
        let task = tokio::spawn(async move {
            tokio::task::yield_now().await;
            to.reply("later");
        });
        assert_eq!(rx.recv().await.unwrap(), "later");
        task.await.unwrap();
    }
}
