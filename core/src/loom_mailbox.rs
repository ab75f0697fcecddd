//! loom models of the mailbox's exit and busy state: pushes, the parent's signal, the
//! process's receive loop, its busy flag and its exit, in every interleaving (bounded by
//! `LOOM_MAX_PREEMPTIONS`). Run with
//! `RUSTFLAGS="--cfg loom" cargo test -p bough-core --release --lib loom`.
//!
//! A process that waits in `recv` must be woken by each push and signal (loom reports a
//! deadlock otherwise); every message is refused, handled or abandoned, exactly one of them;
//! and a call pushed while its server turns busy is seen as busy (or queued behind two
//! messages) by its caller, or nudged. A starter waiting for `init` is woken by its answer
//! or by the exit, and gets exactly one of them.

use std::task::{Context, Poll, Waker};

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

use super::{Event, Letter, Mailbox};
use crate::error::StartError;
use crate::exit::ExitReason;
use crate::pid::Pid;
use crate::process::control::{Control, SystemMsg};

/// A message that records whether the mailbox abandoned it, or nudged it.
struct Note {
    id: usize,
    abandoned: Arc<AtomicUsize>,
}

impl Letter for Note {
    fn abandon(&self) {
        let before = self.abandoned.fetch_or(bit(self.id), SeqCst);
        assert_eq!(before & bit(self.id), 0, "note {} abandoned twice", self.id);
    }

    fn nudge(&self) {
        // Nudges are recorded above the abandon bits.
        self.abandoned.fetch_or(bit(self.id + 8), SeqCst);
    }

    fn system(_: SystemMsg) -> Option<Note> {
        None
    }
}

fn mailbox<M>() -> Mailbox<M> {
    Mailbox::new(Pid::from_raw(1), "Note", None)
}

/// The process exits with `reason`: decided, then published.
fn close(mailbox: &Mailbox<Note>, reason: ExitReason) -> ExitReason {
    mailbox.decide_exit(reason.clone());
    mailbox.publish(reason, None)
}

fn bit(id: usize) -> usize {
    1 << id
}

fn note(id: usize, abandoned: &Arc<AtomicUsize>) -> Note {
    Note {
        id,
        abandoned: abandoned.clone(),
    }
}

#[test]
fn loom_pushes_signal_and_exit_lose_no_message() {
    loom::model(|| {
        let mailbox = Arc::new(mailbox());
        let abandoned = Arc::new(AtomicUsize::new(0));
        let sender = {
            let (mailbox, abandoned) = (mailbox.clone(), abandoned.clone());
            thread::spawn(move || {
                let (mut accepted, mut refused) = (0, 0);
                for id in 0..2 {
                    match mailbox.push(note(id, &abandoned)) {
                        Ok(_) => accepted |= bit(id),
                        Err(back) => refused |= bit(back.id),
                    }
                }
                (accepted, refused)
            })
        };
        let parent = {
            let mailbox = mailbox.clone();
            thread::spawn(move || mailbox.stop(ExitReason::Shutdown))
        };
        // The process: handle messages until the parent's signal, then exit with it.
        let mut handled = Vec::new();
        let reason = loop {
            match block_on(mailbox.recv()) {
                Event::Message(note) => handled.push(note.id),
                Event::Signal(reason) => break reason,
            }
        };
        assert_eq!(close(&mailbox, reason), ExitReason::Shutdown);
        let (accepted, refused) = sender.join().unwrap();
        parent.join().unwrap();

        assert!(
            handled.is_sorted(),
            "one sender's messages out of order: {handled:?}"
        );
        let handled = handled.iter().fold(0, |set, &id| set | bit(id));
        let abandoned = abandoned.load(SeqCst) & 0xff;
        assert_eq!(accepted & refused, 0);
        assert_eq!(
            accepted | refused,
            0b11,
            "a push neither accepted nor refused"
        );
        assert_eq!(
            handled & abandoned,
            0,
            "a handled message was also abandoned"
        );
        assert_eq!(
            handled | abandoned,
            accepted,
            "an accepted message was lost"
        );
        assert_eq!(mailbox.exit_reason(), Some(ExitReason::Shutdown));
        assert!(mailbox.is_closed());
    });
}

#[test]
fn loom_the_first_signal_wins_and_signals_after_the_exit_are_ignored() {
    loom::model(|| {
        let mailbox = Arc::new(mailbox::<Note>());
        let signals: Vec<_> = [ExitReason::Shutdown, ExitReason::Killed]
            .into_iter()
            .map(|reason| {
                let mailbox = mailbox.clone();
                thread::spawn(move || mailbox.stop(reason))
            })
            .collect();
        let Event::Signal(first) = block_on(mailbox.recv()) else {
            panic!("no message was sent");
        };
        assert_eq!(close(&mailbox, first.clone()), first);
        // Whichever signal came second, it came too late: the exit reason stays.
        signals.into_iter().for_each(|s| s.join().unwrap());
        assert!(mailbox.take_signal().is_none());
        assert_eq!(close(&mailbox, ExitReason::Normal), first);
        assert_eq!(mailbox.exit_reason(), Some(first));
    });
}

#[test]
fn loom_a_message_pushed_while_the_process_turns_busy_is_seen_busy_or_shown() {
    loom::model(|| {
        let mailbox = Arc::new(mailbox());
        let abandoned = Arc::new(AtomicUsize::new(0));
        let senders: Vec<_> = (0..3)
            .map(|id| {
                let (mailbox, abandoned) = (mailbox.clone(), abandoned.clone());
                // A call arms its time-out when the server is busy, or when two messages are
                // handled before it (the one being handled counts).
                thread::spawn(move || {
                    mailbox
                        .push(note(id, &abandoned))
                        .ok()
                        .map(|p| p.busy || p.ahead >= 2)
                })
            })
            .collect();
        // The process: idle, takes what is there, then its callback waits on something.
        mailbox.set_idle();
        let mut current = 0;
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(Event::Message(note)) = mailbox.poll_recv(&mut cx) {
            current = bit(note.id);
        }
        mailbox.set_busy();
        let senders: Vec<_> = senders
            .into_iter()
            .map(|sender| sender.join().unwrap().expect("the mailbox is open"))
            .collect();
        let shown = abandoned.load(SeqCst) >> 8;
        for (id, armed) in senders.into_iter().enumerate() {
            let busy = armed;
            // A caller that saw the process idle waits without a timer: the process must
            // be handling its call, or show it the call when it turns busy.
            assert!(
                busy || (current | shown) & bit(id) != 0,
                "message {id} was missed: current {current:b}, shown {shown:b}"
            );
        }
        close(&mailbox, ExitReason::Normal);
        assert_eq!(abandoned.load(SeqCst) & 0xff & current, 0);
    });
}

#[test]
fn loom_a_starter_is_woken_by_the_answer_or_the_exit_and_gets_the_right_one() {
    loom::model(|| {
        for outcome in 0..3 {
            let mailbox = Arc::new(mailbox::<Note>());
            // The process: `init` succeeds (and the process exits later), fails, or the
            // process is killed before it answers.
            let process = {
                let mailbox = mailbox.clone();
                thread::spawn(move || match outcome {
                    0 => {
                        mailbox.started();
                        close(&mailbox, ExitReason::Normal);
                    }
                    1 => {
                        mailbox.decide_exit(ExitReason::Shutdown);
                        mailbox.publish(ExitReason::Shutdown, Some(StartError::Ignore));
                    }
                    _ => {
                        mailbox.kill(ExitReason::Killed);
                        mailbox.publish(ExitReason::Killed, None);
                    }
                })
            };
            let answer = block_on(std::future::poll_fn(|cx| mailbox.poll_start(cx)));
            process.join().unwrap();
            match (outcome, answer) {
                (0, Ok(())) | (1, Err(StartError::Ignore)) => {}
                (2, Err(StartError::Init(ExitReason::Killed))) => {}
                (outcome, answer) => panic!("outcome {outcome} answered {answer:?}"),
            }
            if outcome > 0 {
                assert!(mailbox.is_closed(), "a failed start is seen once published");
            }
        }
    });
}
