//! loom models of the reply slot: every interleaving of its users, bounded by
//! `LOOM_MAX_PREEMPTIONS`. Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p bough-core --release --lib loom`.
//!
//! Each model checks that the caller settles (loom reports a deadlock if it waits for a
//! wake that never comes), that it gets exactly one answer or learns that none will come,
//! and that every answer is dropped exactly once (loom also fails on a leaked `Arc`, which
//! is how a slot left behind would show).

use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::sync::{Arc, Mutex};
use loom::thread;

use super::{Answer, ReplyRx, ReplyTo, call_slot, slot};

/// An answer that counts its drops.
struct Token {
    id: usize,
    drops: Arc<AtomicUsize>,
}

impl Drop for Token {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({})", self.id)
    }
}

/// Hands out tokens and checks at the end that each was dropped once.
struct Ledger {
    made: usize,
    drops: Arc<AtomicUsize>,
}

impl Ledger {
    fn new() -> Ledger {
        Ledger {
            made: 0,
            drops: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn token(&mut self, id: usize) -> Token {
        self.made += 1;
        Token {
            id,
            drops: self.drops.clone(),
        }
    }

    /// Call once every handle and every thread is gone.
    fn assert_all_dropped_once(&self) {
        assert_eq!(
            self.drops.load(SeqCst),
            self.made,
            "answers lost or dropped twice"
        );
    }
}

/// What a caller that waits without a timer sees first, as `Call` does: it stops waiting
/// for a wake-up once the server says the answer may take a while (it arms its time-out
/// then).
#[derive(Debug)]
enum Seen<R> {
    Value(R),
    Unanswered,
    Nudged,
}

fn settle_or_nudge<R>(rx: &mut ReplyRx<R>) -> Seen<R> {
    block_on(poll_fn(|cx| match rx.poll_answer(cx) {
        Answer::Value(value) => Poll::Ready(Seen::Value(value)),
        Answer::Unanswered => Poll::Ready(Seen::Unanswered),
        Answer::Pending { nudged: true } => Poll::Ready(Seen::Nudged),
        Answer::Pending { nudged: false } => Poll::Pending,
    }))
}

/// Polls once, as a caller whose time-out fires right after sending does, and drops
/// whatever it got.
fn poll_once<R>(rx: &mut ReplyRx<R>) {
    let mut cx = Context::from_waker(Waker::noop());
    drop(rx.poll_answer(&mut cx));
}

#[test]
fn loom_reply_and_finish_race_deliver_exactly_one_answer() {
    loom::model(|| {
        let mut ledger = Ledger::new();
        let (to, mut rx) = call_slot();
        let watch = to.watch();
        let (early, late) = (ledger.token(1), ledger.token(2));
        let replier = thread::spawn(move || to.reply(early));
        let server = thread::spawn(move || watch.finish(Some(late)));
        let got = block_on(rx.recv()).expect("one of the two answers arrives");
        assert!(got.id == 1 || got.id == 2, "{got:?}");
        drop(got);
        replier.join().unwrap();
        server.join().unwrap();
        drop(rx);
        ledger.assert_all_dropped_once();
    });
}

#[test]
fn loom_a_replyto_dropped_during_the_callback_fails_the_caller() {
    loom::model(|| {
        let (to, mut rx) = call_slot::<Token>();
        let watch = to.watch();
        let holder = thread::spawn(move || drop(to));
        let server = thread::spawn(move || watch.finish(None));
        assert!(block_on(rx.recv()).is_err());
        holder.join().unwrap();
        server.join().unwrap();
    });
}

#[test]
fn loom_a_watch_dropped_unfinished_fails_the_caller_in_either_order() {
    loom::model(|| {
        let (to, mut rx) = call_slot::<Token>();
        let watch = to.watch();
        // The server's task is aborted mid-call while the callback's `ReplyTo` is dropped.
        let aborted = thread::spawn(move || drop(watch));
        let holder = thread::spawn(move || drop(to));
        assert!(block_on(rx.recv()).is_err());
        aborted.join().unwrap();
        holder.join().unwrap();
    });
}

#[test]
fn loom_a_caller_that_times_out_frees_every_answer_once() {
    loom::model(|| {
        let mut ledger = Ledger::new();
        let (to, mut rx) = call_slot();
        let watch = to.watch();
        let (early, late) = (ledger.token(1), ledger.token(2));
        let replier = thread::spawn(move || to.reply(early));
        let server = thread::spawn(move || watch.finish(Some(late)));
        poll_once(&mut rx);
        drop(rx);
        replier.join().unwrap();
        server.join().unwrap();
        ledger.assert_all_dropped_once();
    });
}

#[test]
fn loom_a_caller_dropped_unpolled_races_an_answer_and_an_aborted_server() {
    loom::model(|| {
        let mut ledger = Ledger::new();
        let (to, rx) = call_slot();
        let watch = to.watch();
        let answer = ledger.token(1);
        let replier = thread::spawn(move || to.reply(answer));
        let aborted = thread::spawn(move || drop(watch));
        drop(rx);
        replier.join().unwrap();
        aborted.join().unwrap();
        ledger.assert_all_dropped_once();
    });
}

#[test]
fn loom_a_server_that_exits_with_the_call_queued_fails_the_caller() {
    loom::model(|| {
        let (to, mut rx) = call_slot::<Token>();
        // The mailbox closes with the call still queued: it abandons the call and drops it.
        let exiting = thread::spawn(move || {
            to.abandon();
            drop(to);
        });
        assert!(matches!(settle_or_nudge(&mut rx), Seen::Unanswered));
        exiting.join().unwrap();
    });
}

#[test]
fn loom_a_slow_callback_nudges_its_caller_then_answers() {
    loom::model(|| {
        let mut ledger = Ledger::new();
        let (to, mut rx) = call_slot();
        let answer = ledger.token(1);
        let server = thread::spawn(move || {
            let watch = to.watch();
            watch.nudge();
            watch.finish(Some(answer));
            drop(to);
        });
        let got = match settle_or_nudge(&mut rx) {
            Seen::Value(got) => got,
            Seen::Nudged => block_on(rx.recv()).expect("the answer follows the nudge"),
            Seen::Unanswered => panic!("an answered call failed"),
        };
        assert_eq!(got.id, 1);
        drop(got);
        server.join().unwrap();
        drop(rx);
        ledger.assert_all_dropped_once();
    });
}

#[test]
fn loom_a_kept_replyto_nudges_the_caller_and_answers_later() {
    loom::model(|| {
        let mut ledger = Ledger::new();
        let (to, mut rx) = call_slot();
        let answer = ledger.token(1);
        let server = thread::spawn(move || {
            to.watch().finish(None);
            // `handle_call` kept `from` and hands it to another task, which answers.
            thread::spawn(move || to.reply(answer))
        });
        // A caller waiting without a timer must hear of the delay, or get the answer.
        let got = match settle_or_nudge(&mut rx) {
            Seen::Value(got) => got,
            Seen::Nudged => block_on(rx.recv()).expect("the kept ReplyTo answers"),
            Seen::Unanswered => panic!("an answered call failed"),
        };
        assert_eq!(got.id, 1);
        drop(got);
        server.join().unwrap().join().unwrap();
        drop(rx);
        ledger.assert_all_dropped_once();
    });
}

#[test]
fn loom_a_kept_replyto_that_never_answers_lets_the_caller_time_out() {
    loom::model(|| {
        let (to, mut rx) = call_slot::<Token>();
        let server = thread::spawn(move || {
            to.watch().finish(None);
            drop(to);
        });
        // Nudged: the caller arms its timer, which fires. Unanswered: the drop came first.
        match settle_or_nudge(&mut rx) {
            Seen::Nudged | Seen::Unanswered => {}
            Seen::Value(got) => panic!("nobody answered, yet the caller got {got:?}"),
        }
        drop(rx);
        server.join().unwrap();
    });
}

#[test]
fn loom_a_queued_call_is_nudged_by_a_busy_server_or_answered() {
    loom::model(|| {
        let mut ledger = Ledger::new();
        let (to, mut rx) = call_slot();
        // The mailbox's queue: `set_busy` nudges what is queued under the lock that the
        // server loop takes to pop the call.
        let queue = Arc::new(Mutex::new(Some(to)));
        let busy = {
            let queue = queue.clone();
            thread::spawn(move || {
                if let Some(to) = queue.lock().unwrap().as_ref() {
                    to.nudge();
                }
            })
        };
        let answer = ledger.token(1);
        let server = thread::spawn(move || {
            let from: ReplyTo<Token> = queue.lock().unwrap().take().expect("queued");
            let watch = from.watch();
            drop(from);
            watch.finish(Some(answer));
        });
        let got = match settle_or_nudge(&mut rx) {
            Seen::Value(got) => got,
            Seen::Nudged => block_on(rx.recv()).expect("the server answers"),
            Seen::Unanswered => panic!("an answered call failed"),
        };
        assert_eq!(got.id, 1);
        drop(got);
        busy.join().unwrap();
        server.join().unwrap();
        drop(rx);
        ledger.assert_all_dropped_once();
    });
}

#[test]
fn loom_a_plain_slot_is_answered_or_fails_when_its_replyto_goes() {
    loom::model(|| {
        let mut ledger = Ledger::new();
        let (answered, mut answered_rx) = slot();
        let (dropped, mut dropped_rx) = slot::<Token>();
        let answer = ledger.token(1);
        let replier = thread::spawn(move || {
            answered.reply(answer);
            drop(dropped);
        });
        assert_eq!(block_on(answered_rx.recv()).expect("answered").id, 1);
        assert!(block_on(dropped_rx.recv()).is_err());
        replier.join().unwrap();
        drop(answered_rx);
        ledger.assert_all_dropped_once();
    });
}
