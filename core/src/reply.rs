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
//! and uncontended locks cost twice as many atomic operations as these bits. Each change
//! of the word is one [`State`] method, and every decision reads a [`Snapshot`] through
//! named predicates. The answer itself is reached only through two `unsafe fn`s whose
//! contracts say which snapshot allows the access. Under `--cfg loom` the models in
//! `loom_reply.rs` run every interleaving of the slot's users.

use std::fmt;
use std::task::{Context, Poll};

use crate::sync::Ordering::{AcqRel, Acquire};
use crate::sync::{Arc, AtomicUsize, AtomicWaker, UnsafeCell};

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

/// The slot's state word. Every change is one read-modify-write that returns the state
/// it found, so that each party decides from the one step that ordered it among the others.
struct State(AtomicUsize);

/// One reading of the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Snapshot(usize);

impl Snapshot {
    /// A call that a server loop will watch and that has a `ReplyTo`.
    const WATCHED_CALL: Snapshot = Snapshot(REPLIER | WATCHED);
    /// A slot answered by its `ReplyTo` alone.
    const PLAIN: Snapshot = Snapshot(REPLIER);

    /// A replier has the right to write the answer (it may not be written yet).
    fn is_claimed(self) -> bool {
        self.0 & CLAIMED != 0
    }

    /// The answer is written and published.
    fn has_value(self) -> bool {
        self.0 & VALUE != 0
    }

    /// The caller stopped waiting.
    fn is_closed(self) -> bool {
        self.0 & CLOSED != 0
    }

    /// The server said the answer may take a while.
    fn is_nudged(self) -> bool {
        self.0 & NUDGED != 0
    }

    /// The server loop still watches the call.
    fn is_watched(self) -> bool {
        self.0 & WATCHED != 0
    }

    /// The `ReplyTo` still exists.
    fn has_replier(self) -> bool {
        self.0 & REPLIER != 0
    }

    /// An answer may still be written: nobody claimed the slot and the caller waits.
    fn is_open(self) -> bool {
        !self.is_claimed() && !self.is_closed()
    }

    /// Nobody answered and nobody is left who could: no claim, no `ReplyTo`, no watch.
    fn is_unanswerable(self) -> bool {
        !self.is_claimed() && !self.has_replier() && !self.is_watched()
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("claimed", &self.is_claimed())
            .field("value", &self.has_value())
            .field("closed", &self.is_closed())
            .field("nudged", &self.is_nudged())
            .field("watched", &self.is_watched())
            .field("replier", &self.has_replier())
            .finish()
    }
}

impl State {
    fn new(initial: Snapshot) -> State {
        State(AtomicUsize::new(initial.0))
    }

    /// Reads the word. Acquire: a snapshot with VALUE makes the answer's write visible.
    #[inline]
    fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// Asks for the right to write the answer. The right is the caller's if the returned
    /// (previous) state [`is_open`](Snapshot::is_open).
    fn claim(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(CLAIMED, AcqRel))
    }

    /// Publishes the answer that the claimer wrote (release), and with `unwatch` lets go
    /// of the watch in the same step.
    ///
    /// Only the claimer publishes, once, so VALUE is clear; with `unwatch` the caller is
    /// the call's [`Watch`], and WATCHED is set, because only the watch clears it on a
    /// call that was handled. Both bits are therefore flipped with one `fetch_xor`, with
    /// no compare-and-swap loop.
    fn publish(&self, unwatch: bool) -> Snapshot {
        let flip = if unwatch { VALUE | WATCHED } else { VALUE };
        let prev = Snapshot(self.0.fetch_xor(flip, AcqRel));
        debug_assert!(prev.is_claimed() && !prev.has_value(), "{prev:?}");
        debug_assert!(!unwatch || prev.is_watched(), "{prev:?}");
        prev
    }

    /// The caller stops waiting. Acquire: a previous state with VALUE makes the answer's
    /// write visible.
    fn close(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(CLOSED, AcqRel))
    }

    /// Marks the answer as one that may take a while.
    fn nudge(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(NUDGED, AcqRel))
    }

    /// The server loop lets go of the call (or will never handle it).
    fn unwatch(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!WATCHED, AcqRel))
    }

    /// The `ReplyTo` is gone.
    fn drop_replier(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!REPLIER, AcqRel))
    }
}

struct Slot<R> {
    state: State,
    value: UnsafeCell<Option<R>>,
    waker: AtomicWaker,
}

// SAFETY: `value` is written once, by the replier whose `State::claim` found the slot open,
// before it publishes VALUE (release); it is read or dropped only by the caller after it saw
// VALUE with acquire ordering, or by the slot's own drop when no one else holds it. So `R`
// moves between threads (hence `R: Send`) but is never shared (no `R: Sync` needed).
unsafe impl<R: Send> Send for Slot<R> {}
unsafe impl<R: Send> Sync for Slot<R> {}

impl<R> Slot<R> {
    /// Writes the answer.
    ///
    /// # Safety
    ///
    /// The caller holds the right to write: its own [`State::claim`] returned an
    /// [open](Snapshot::is_open) state, and it has not published yet. Then no other replier
    /// writes (they found the slot claimed), and the caller does not read (VALUE is clear).
    unsafe fn write_value(&self, answer: R) {
        // SAFETY: by the contract, this is the only access to the value at this time.
        self.value
            .with_mut(|value| unsafe { *value = Some(answer) });
    }

    /// Takes the answer out; `None` if it was taken already.
    ///
    /// # Safety
    ///
    /// The caller is the slot's only reader, the [`ReplyRx`], and saw VALUE in a snapshot
    /// read with acquire ordering ([`State::load`] or [`State::close`]). The write happened
    /// before that snapshot, and no one writes after VALUE, so nothing else touches the
    /// value now.
    unsafe fn take_value(&self) -> Option<R> {
        // SAFETY: by the contract, this is the only access to the value at this time.
        self.value.with_mut(|value| unsafe { (*value).take() })
    }

    /// Writes the answer unless one was written or the caller left; with `unwatch` the
    /// server loop lets go of the call in the same step.
    fn answer(&self, answer: R, unwatch: bool) {
        let prev = self.state.claim();
        if !prev.is_open() {
            // Whoever claimed wakes the caller; a caller that left needs no wake.
            if unwatch {
                self.state.unwatch();
            }
            return;
        }
        // SAFETY: `claim` just above found the slot open, so the right to write is ours
        // alone, and we publish only below.
        unsafe { self.write_value(answer) };
        self.state.publish(unwatch);
        self.waker.wake();
    }

    fn nudge(&self) {
        let prev = self.state.nudge();
        // A second nudge changes nothing; after a claim the claimer's wake comes anyway.
        if !prev.is_nudged() && !prev.is_claimed() {
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
    new_slot(Snapshot::WATCHED_CALL)
}

/// A slot answered by its `ReplyTo` alone (supervisor requests, stop).
pub(crate) fn slot<R>() -> (ReplyTo<R>, ReplyRx<R>) {
    new_slot(Snapshot::PLAIN)
}

fn new_slot<R>(state: Snapshot) -> (ReplyTo<R>, ReplyRx<R>) {
    let slot = Arc::new(Slot {
        state: State::new(state),
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
        self.slot.answer(reply, false);
    }

    /// Whether the caller is still waiting for an answer.
    pub fn is_waiting(&self) -> bool {
        self.slot.state.load().is_open()
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
        self.slot.state.unwatch();
    }
}

impl<R> Drop for ReplyTo<R> {
    fn drop(&mut self) {
        let prev = self.slot.state.drop_replier();
        // With a claim, the claimer wakes the caller; with a watch, the loop does when done.
        if !prev.is_claimed() && !prev.is_watched() {
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
            Some(answer) => slot.answer(answer, true),
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
    let prev = slot.state.unwatch();
    if prev.is_claimed() {
        return;
    }
    if !prev.has_replier() {
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
    /// Reads the slot once: the answer, or that none will come, or else the state to wait
    /// in. The load and the read of the answer stay together here, so that the acquire that
    /// makes the read sound is next to it.
    #[inline]
    fn try_settle(&mut self) -> Result<Answer<R>, Snapshot> {
        let state = self.slot.state.load();
        if state.has_value() {
            self.done = true;
            // SAFETY: `state` was loaded with acquire ordering just above and has VALUE;
            // this `ReplyRx` is the slot's only reader.
            let value = unsafe { self.slot.take_value() };
            return Ok(value.map_or(Answer::Unanswered, Answer::Value));
        }
        if state.is_unanswerable() {
            self.done = true;
            return Ok(Answer::Unanswered);
        }
        Err(state)
    }

    #[inline]
    pub(crate) fn poll_answer(&mut self, cx: &mut Context<'_>) -> Answer<R> {
        if let Ok(answer) = self.try_settle() {
            return answer;
        }
        // Register, then look again: a change made before the registration is seen by the
        // second look, one made after it wakes the new waker.
        self.slot.waker.register(cx.waker());
        match self.try_settle() {
            Ok(answer) => answer,
            Err(state) => Answer::Pending {
                nudged: state.is_nudged(),
            },
        }
    }

    #[inline]
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
        let prev = self.slot.state.close();
        if prev.has_value() {
            // SAFETY: `close` just above read VALUE with acquire ordering; this `ReplyRx` is
            // the slot's only reader. Free the answer now rather than when the last replier
            // lets go of the slot.
            drop(unsafe { self.slot.take_value() });
        }
    }
}

#[cfg(all(test, loom))]
#[path = "loom_reply.rs"]
mod loom_model;

#[cfg(all(test, not(loom)))]
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
