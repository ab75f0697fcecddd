//! Reply slots: the `from` of `handle_call`, and the caller's side of it.
//!
//! A slot holds one answer. The [`ReplyTo`] handed to `handle_call` can answer it, now or
//! later from anywhere (OTP's `GenServer.reply/2`); the server loop watches the slot
//! while the callback runs and answers it from `Reply::Reply`. The first answer wins.
//! When the loop is done and the `ReplyTo` is gone without an answer, the caller is told
//! at once.
//!
//! The slot can also *nudge* its caller: a caller waits without a timer while the server
//! answers promptly, and arms its time-out only when the server says the answer may take
//! a while (see `gen_server`). Registering a tokio timer per call would cost more than the
//! whole round trip.
//!
//! The state is one atomic word, because every call crosses the slot four or five times
//! and uncontended locks cost twice as many atomic operations as these bits.

use std::cell::UnsafeCell;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

/// A replier has taken the right to write the answer.
const CLAIMED: usize = 1;
/// The answer is written and may be read by the caller.
const VALUE: usize = 1 << 1;
/// The caller stopped waiting.
const CLOSED: usize = 1 << 2;
/// The answer may take a while: the caller should arm its time-out.
const NUDGED: usize = 1 << 3;
/// The server loop still runs the callback that got this call (or will).
const WATCHED: usize = 1 << 4;
/// The `ReplyTo` exists.
const REPLIER: usize = 1 << 5;

struct Slot<R> {
    state: AtomicUsize,
    value: UnsafeCell<Option<R>>,
    waker: AtomicWaker,
}

// SAFETY: `value` is written once, by the replier that set CLAIMED, before it sets VALUE
// (release); it is read or dropped only by the caller after it saw VALUE (acquire), or by
// the slot's own drop when no one else holds it.
unsafe impl<R: Send> Send for Slot<R> {}
unsafe impl<R: Send> Sync for Slot<R> {}

impl<R> Slot<R> {
    /// Writes the answer unless one was written or the caller left; `also_clear` bits are
    /// cleared in the same step.
    fn answer(&self, answer: R, also_clear: usize) {
        let prev = self.state.fetch_or(CLAIMED, AcqRel);
        if prev & (CLAIMED | CLOSED) != 0 {
            if also_clear != 0 {
                self.state.fetch_and(!also_clear, AcqRel);
            }
            return;
        }
        // SAFETY: we set CLAIMED, so no other replier writes; the caller reads only after
        // VALUE.
        unsafe { *self.value.get() = Some(answer) };
        let _ = self
            .state
            .fetch_update(AcqRel, Acquire, |s| Some((s | VALUE) & !also_clear));
        self.waker.wake();
    }

    fn nudge(&self) {
        let prev = self.state.fetch_or(NUDGED, AcqRel);
        if prev & (NUDGED | CLAIMED) == 0 {
            self.waker.wake();
        }
    }
}

/// Where the reply to one call goes: the `from` argument of `handle_call`.
///
/// Return [`Reply::Reply`](crate::Reply::Reply) to answer at once and ignore this value, or
/// keep it, return [`Reply::NoReply`](crate::Reply::NoReply), and answer later with
/// [`ReplyTo::reply`] (OTP's `GenServer.reply(from, reply)`), from any task.
///
/// Only the first answer to a call is delivered. If the server drops the `ReplyTo` of a call
/// without answering and goes on running, the caller gets
/// [`CallError::NoReply`](crate::CallError::NoReply) at once instead of waiting for its
/// time-out.
pub struct ReplyTo<R> {
    slot: Arc<Slot<R>>,
}

/// The server loop's view of a call it is handling. Dropped unfinished (its process was
/// aborted mid-call), it lets the caller go, as `finish(None)` does.
pub(crate) struct Watch<R> {
    /// `None` once finished.
    slot: Option<Arc<Slot<R>>>,
}

/// The caller's end of a call.
pub(crate) struct ReplyRx<R> {
    slot: Arc<Slot<R>>,
    done: bool,
}

/// Nobody will answer.
#[derive(Debug)]
pub(crate) struct Unanswered;

/// A slot for a call that a server loop will watch: if it is dropped unhandled, the
/// mailbox must [`abandon`](ReplyTo::abandon) it first.
pub(crate) fn call_slot<R>() -> (ReplyTo<R>, ReplyRx<R>) {
    new_slot(REPLIER | WATCHED)
}

/// A slot answered by its `ReplyTo` alone (supervisor requests, stop).
pub(crate) fn slot<R>() -> (ReplyTo<R>, ReplyRx<R>) {
    new_slot(REPLIER)
}

fn new_slot<R>(state: usize) -> (ReplyTo<R>, ReplyRx<R>) {
    let slot = Arc::new(Slot {
        state: AtomicUsize::new(state),
        value: UnsafeCell::new(None),
        waker: AtomicWaker::new(),
    });
    (
        ReplyTo { slot: slot.clone() },
        ReplyRx { slot, done: false },
    )
}

impl<R> ReplyTo<R> {
    /// Sends the reply. Does nothing if the call was already answered or its caller gave up
    /// (timed out or was cancelled): a late reply never reaches a later call.
    pub fn reply(self, reply: R) {
        self.slot.answer(reply, 0);
    }

    /// Whether the caller is still waiting for an answer.
    pub fn is_waiting(&self) -> bool {
        self.slot.state.load(Acquire) & (CLAIMED | CLOSED) == 0
    }

    /// Lets the server loop watch this call while its callback runs.
    pub(crate) fn watch(&self) -> Watch<R> {
        Watch {
            slot: Some(self.slot.clone()),
        }
    }

    /// Tells the caller the answer may take a while.
    pub(crate) fn nudge(&self) {
        self.slot.nudge();
    }

    /// The call will never be handled (its server exited with it still queued).
    pub(crate) fn abandon(&self) {
        self.slot.state.fetch_and(!WATCHED, AcqRel);
    }
}

impl<R> Drop for ReplyTo<R> {
    fn drop(&mut self) {
        let prev = self.slot.state.fetch_and(!REPLIER, AcqRel);
        if prev & (CLAIMED | WATCHED) == 0 {
            self.slot.waker.wake();
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

impl<R> Watch<R> {
    /// The callback may take a while.
    pub(crate) fn nudge(&self) {
        if let Some(slot) = &self.slot {
            slot.nudge();
        }
    }

    /// The callback is done: answer with `answer` unless it was answered already. Without an
    /// answer, the caller either learns that nobody will answer, or, when the `ReplyTo` was
    /// kept for later, that it should arm its time-out.
    pub(crate) fn finish(mut self, answer: Option<R>) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        match answer {
            Some(answer) => slot.answer(answer, WATCHED),
            None => unwatch(&slot),
        }
    }
}

impl<R> Drop for Watch<R> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            unwatch(&slot);
        }
    }
}

/// The server loop lets go of a call it did not answer.
fn unwatch<R>(slot: &Slot<R>) {
    let prev = slot.state.fetch_and(!WATCHED, AcqRel);
    if prev & CLAIMED != 0 {
        return;
    }
    if prev & REPLIER == 0 {
        slot.waker.wake();
    } else {
        slot.nudge();
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
    fn settle(&mut self, state: usize) -> Option<Answer<R>> {
        if state & VALUE != 0 {
            self.done = true;
            // SAFETY: VALUE was set after the write (acquire above); only the caller reads.
            let value = unsafe { (*self.slot.value.get()).take() };
            return Some(value.map_or(Answer::Unanswered, Answer::Value));
        }
        if state & (CLAIMED | REPLIER | WATCHED) == 0 {
            self.done = true;
            return Some(Answer::Unanswered);
        }
        None
    }

    pub(crate) fn poll_answer(&mut self, cx: &mut Context<'_>) -> Answer<R> {
        if let Some(answer) = self.settle(self.slot.state.load(Acquire)) {
            return answer;
        }
        self.slot.waker.register(cx.waker());
        let state = self.slot.state.load(Acquire);
        self.settle(state).unwrap_or(Answer::Pending {
            nudged: state & NUDGED != 0,
        })
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
        let prev = self.slot.state.fetch_or(CLOSED, AcqRel);
        if prev & VALUE != 0 {
            // SAFETY: the answer is complete and the caller is its only reader. Free it now
            // rather than when the last replier lets go of the slot.
            drop(unsafe { (*self.slot.value.get()).take() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll<R>(rx: &mut ReplyRx<R>) -> Answer<R> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        rx.poll_answer(&mut cx)
    }

    #[tokio::test]
    async fn the_watching_loop_answers_after_the_replyto_is_gone() {
        let (to, mut rx) = call_slot();
        let watch = to.watch();
        drop(to);
        assert!(matches!(poll(&mut rx), Answer::Pending { nudged: false }));
        watch.finish(Some(7));
        assert_eq!(rx.recv().await.unwrap(), 7);
    }

    #[tokio::test]
    async fn first_answer_wins() {
        let (to, mut rx) = call_slot();
        let watch = to.watch();
        to.reply(1);
        watch.finish(Some(2));
        assert_eq!(rx.recv().await.unwrap(), 1);
    }

    #[tokio::test]
    async fn no_answer_and_no_replyto_fails_the_caller() {
        let (to, mut rx) = call_slot::<u8>();
        let watch = to.watch();
        drop(to);
        watch.finish(None);
        assert!(rx.recv().await.is_err());
    }

    #[tokio::test]
    async fn a_watch_dropped_unfinished_fails_the_caller_in_either_drop_order() {
        let (to, mut rx) = call_slot::<u8>();
        let watch = to.watch();
        drop(to);
        drop(watch);
        assert!(rx.recv().await.is_err());

        let (to, mut rx) = call_slot::<u8>();
        let watch = to.watch();
        drop(watch);
        assert!(matches!(poll(&mut rx), Answer::Pending { nudged: true }));
        drop(to);
        assert!(rx.recv().await.is_err());
    }

    #[tokio::test]
    async fn an_abandoned_call_fails_its_caller_when_dropped() {
        let (to, mut rx) = call_slot::<u8>();
        to.abandon();
        drop(to);
        assert!(rx.recv().await.is_err());
    }

    #[tokio::test]
    async fn a_kept_replyto_nudges_the_caller_and_answers_later() {
        let (to, mut rx) = call_slot();
        let watch = to.watch();
        watch.finish(None);
        assert!(matches!(poll(&mut rx), Answer::Pending { nudged: true }));
        let task = tokio::spawn(async move {
            tokio::task::yield_now().await;
            to.reply("later");
        });
        assert_eq!(rx.recv().await.unwrap(), "later");
        task.await.unwrap();
    }

    #[tokio::test]
    async fn a_kept_replyto_dropped_later_fails_the_caller() {
        let (to, mut rx) = call_slot::<u8>();
        to.watch().finish(None);
        let task = tokio::spawn(async move {
            tokio::task::yield_now().await;
            drop(to);
        });
        assert!(rx.recv().await.is_err());
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
    async fn an_unread_answer_is_freed_with_the_caller() {
        let (to, rx) = slot::<Arc<()>>();
        let value = Arc::new(());
        to.reply(value.clone());
        drop(rx);
        assert_eq!(Arc::strong_count(&value), 1);
    }

    #[tokio::test]
    async fn a_plain_slot_fails_when_its_replyto_is_dropped() {
        let (to, mut rx) = slot::<u8>();
        drop(to);
        assert!(rx.recv().await.is_err());
    }

    #[test]
    fn racing_repliers_and_callers_never_lose_or_duplicate_an_answer() {
        for _ in 0..2000 {
            let (to, mut rx) = call_slot::<Box<u32>>();
            let watch = to.watch();
            let a = std::thread::spawn(move || to.reply(Box::new(1)));
            let b = std::thread::spawn(move || watch.finish(Some(Box::new(2))));
            let got = loop {
                match poll(&mut rx) {
                    Answer::Value(v) => break *v,
                    Answer::Unanswered => panic!("answered twice, yet unanswered"),
                    Answer::Pending { .. } => std::thread::yield_now(),
                }
            };
            assert!(got == 1 || got == 2);
            a.join().unwrap();
            b.join().unwrap();
        }
    }
}
