//! Reply slots: the `from` of `handle_call`, and the caller's side of it.
//!
//! A slot holds one answer. The [`ReplyTo`] handed to `handle_call` can answer it, now or
//! later from anywhere (OTP's `GenServer.reply/2`); the server loop watches the slot
//! while the callback runs and answers it from `Reply::Reply`. The first answer wins.
//! When the loop is done and every `ReplyTo` is gone without an answer, the caller is
//! told at once.
//!
//! The slot can also *nudge* its caller: a caller waits without a timer while the server
//! answers promptly, and arms its time-out only when the server says the answer may take
//! a while (see `gen_server`). Registering a tokio timer per call would cost more than the
//! whole round trip.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

struct Slot<R> {
    state: Mutex<SlotState<R>>,
}

struct SlotState<R> {
    value: Option<R>,
    waker: Option<Waker>,
    /// Live `ReplyTo`s.
    repliers: u8,
    /// The server loop still runs the callback that got this call.
    watched: bool,
    answered: bool,
    caller_gone: bool,
    /// The answer may take a while: the caller should arm its time-out.
    nudged: bool,
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
/// Only the first answer to a call is delivered. If the server drops every `ReplyTo` of a
/// call without answering and goes on running, the caller gets
/// [`CallError::NoReply`](crate::CallError::NoReply) at once instead of waiting for its
/// time-out.
pub struct ReplyTo<R> {
    slot: Arc<Slot<R>>,
}

/// The server loop's view of a call it is handling.
pub(crate) struct Watch<R> {
    slot: Arc<Slot<R>>,
}

/// The caller's end of a call.
pub(crate) struct ReplyRx<R> {
    slot: Arc<Slot<R>>,
    done: bool,
}

/// The repliers all left without answering.
#[derive(Debug)]
pub(crate) struct Unanswered;

/// A new slot: its `ReplyTo` travels with the request, the caller keeps the `ReplyRx`.
pub(crate) fn slot<R>() -> (ReplyTo<R>, ReplyRx<R>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(SlotState {
            value: None,
            waker: None,
            repliers: 1,
            watched: false,
            answered: false,
            caller_gone: false,
            nudged: false,
        }),
    });
    (
        ReplyTo { slot: slot.clone() },
        ReplyRx { slot, done: false },
    )
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
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
        wake(waker);
    }

    /// Whether the caller is still waiting for an answer.
    pub fn is_waiting(&self) -> bool {
        let state = self.slot.lock();
        !state.answered && !state.caller_gone
    }

    /// Lets the server loop watch this call while its callback runs.
    pub(crate) fn watch(&self) -> Watch<R> {
        self.slot.lock().watched = true;
        Watch {
            slot: self.slot.clone(),
        }
    }

    /// Tells the caller the answer may take a while.
    pub(crate) fn nudge(&self) {
        nudge(&self.slot);
    }
}

fn nudge<R>(slot: &Slot<R>) {
    let waker = {
        let mut state = slot.lock();
        if state.answered || state.nudged {
            return;
        }
        state.nudged = true;
        state.waker.take()
    };
    wake(waker);
}

impl<R> Drop for ReplyTo<R> {
    fn drop(&mut self) {
        let waker = {
            let mut state = self.slot.lock();
            state.repliers -= 1;
            if state.repliers == 0 && !state.answered && !state.watched {
                state.waker.take()
            } else {
                None
            }
        };
        wake(waker);
    }
}

impl<R> fmt::Debug for ReplyTo<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplyTo")
            .field("waiting", &self.is_waiting())
            .finish()
    }
}

impl<R> Watch<R> {
    /// The callback may take a while.
    pub(crate) fn nudge(&self) {
        nudge(&self.slot);
    }

    /// The callback is done: answer with `answer` unless it was answered already. Without an
    /// answer, the caller either learns that nobody will answer, or, when a `ReplyTo` was
    /// kept for later, that it should arm its time-out.
    pub(crate) fn finish(self, answer: Option<R>) {
        let (waker, unwanted) = {
            let mut state = self.slot.lock();
            state.watched = false;
            if state.answered || state.caller_gone {
                (None, answer)
            } else if let Some(answer) = answer {
                state.answered = true;
                state.value = Some(answer);
                (state.waker.take(), None)
            } else if state.repliers == 0 {
                (state.waker.take(), None)
            } else if !state.nudged {
                state.nudged = true;
                (state.waker.take(), None)
            } else {
                (None, None)
            }
        };
        drop(unwanted);
        wake(waker);
    }
}

/// What a caller's poll finds.
pub(crate) enum Answer<R> {
    Value(R),
    Unanswered,
    /// No answer yet; `nudged` says whether the server expects to take a while.
    Pending {
        nudged: bool,
    },
}

impl<R> ReplyRx<R> {
    pub(crate) fn poll_answer(&mut self, cx: &mut Context<'_>) -> Answer<R> {
        let mut state = self.slot.lock();
        if let Some(value) = state.value.take() {
            self.done = true;
            return Answer::Value(value);
        }
        if state.answered || (state.repliers == 0 && !state.watched) {
            self.done = true;
            return Answer::Unanswered;
        }
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Answer::Pending {
            nudged: state.nudged,
        }
    }

    pub(crate) fn poll_reply(&mut self, cx: &mut Context<'_>) -> Poll<Result<R, Unanswered>> {
        match self.poll_answer(cx) {
            Answer::Value(value) => Poll::Ready(Ok(value)),
            Answer::Unanswered => Poll::Ready(Err(Unanswered)),
            Answer::Pending { .. } => Poll::Pending,
        }
    }

    pub(crate) async fn recv(&mut self) -> Result<R, Unanswered> {
        std::future::poll_fn(|cx| self.poll_reply(cx)).await
    }
}

impl<R> Drop for ReplyRx<R> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
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
    async fn the_watching_loop_answers_after_the_replyto_is_gone() {
        let (to, mut rx) = slot();
        let watch = to.watch();
        drop(to);
        watch.finish(Some(7));
        assert_eq!(rx.recv().await.unwrap(), 7);
    }

    #[tokio::test]
    async fn first_answer_wins() {
        let (to, mut rx) = slot();
        let watch = to.watch();
        to.reply(1);
        watch.finish(Some(2));
        assert_eq!(rx.recv().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn no_answer_and_no_replyto_fails_the_caller() {
        let (to, mut rx) = slot::<u8>();
        let watch = to.watch();
        drop(to);
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(matches!(
            rx.poll_answer(&mut cx),
            Answer::Pending { nudged: false }
        ));
        watch.finish(None);
        assert!(rx.recv().await.is_err());
    }

    #[tokio::test]
    async fn a_kept_replyto_nudges_the_caller_and_answers_later() {
        let (to, mut rx) = slot();
        let watch = to.watch();
        watch.finish(None);
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(matches!(
            rx.poll_answer(&mut cx),
            Answer::Pending { nudged: true }
        ));
        let task = tokio::spawn(async move {
            tokio::task::yield_now().await;
            to.reply("later");
        });
        assert_eq!(rx.recv().await.unwrap(), "later");
        task.await.unwrap();
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
    async fn a_plain_slot_fails_when_its_replyto_is_dropped() {
        let (to, mut rx) = slot::<u8>();
        drop(to);
        assert!(rx.recv().await.is_err());
    }
}
