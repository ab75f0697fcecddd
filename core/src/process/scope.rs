//! Which process is running: `self_pid()`, set around every poll of a process's task, and
//! panics caught as exit reasons.

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::exit::ExitReason;
use crate::pid::Pid;

thread_local! {
    /// The pid of the process being polled on this thread. A plain cell, set around each
    /// poll: tokio's `task_local!` does the same with a `RefCell` and costs a fifth of a call.
    static CURRENT: Cell<Option<Pid>> = const { Cell::new(None) };
}

/// Puts the previous pid back, even when the poll panics.
pub(crate) struct Restore(Option<Pid>);

impl Drop for Restore {
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

/// Runs the code until the returned guard drops as process `pid`.
#[inline]
pub(crate) fn enter(pid: Pid) -> Restore {
    Restore(CURRENT.with(|current| current.replace(Some(pid))))
}

pin_project! {
    /// Runs `inner` as process `pid`: `self_pid()` answers `pid` while it is polled and
    /// while it is dropped.
    pub(crate) struct Scoped<F> {
        pid: Pid,
        #[pin]
        inner: Option<F>,
    }

    impl<F> PinnedDrop for Scoped<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            let _restore = enter(*this.pid);
            this.inner.set(None);
        }
    }
}

impl<F> Scoped<F> {
    pub(crate) fn new(pid: Pid, inner: F) -> Scoped<F> {
        Scoped {
            pid,
            inner: Some(inner),
        }
    }

    /// Drops `inner` now, as the process. A panic while dropping it (a `Drop` of the
    /// server's state) is caught: the process is ending anyway, and its end must still be
    /// announced.
    pub(crate) fn clear(self: Pin<&mut Self>) {
        let mut this = self.project();
        let _restore = enter(*this.pid);
        let _ = catch_unwind(AssertUnwindSafe(|| this.inner.set(None)));
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    // Always inlined into the process task's poll, whatever the inliner makes of the
    // prologue around it: left out of line it was a call on every message a server handled.
    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _restore = enter(*this.pid);
        match this.inner.as_pin_mut() {
            Some(inner) => inner.poll(cx),
            // Polled after completion: futures may not be, and ours never are.
            None => Poll::Pending,
        }
    }
}

/// The pid of the process running this code: Elixir's `self()`.
///
/// Works in every callback of a GenServer, `init` included.
///
/// # Panics
///
/// Panics when called outside a bough process, like `tokio::spawn` outside a runtime.
/// Use [`try_self_pid`] where that can happen.
pub fn self_pid() -> Pid {
    try_self_pid().expect("bough::self_pid() called outside a bough process")
}

/// The pid of the process running this code, or `None` outside a bough process.
#[inline]
pub fn try_self_pid() -> Option<Pid> {
    CURRENT.try_with(Cell::get).ok().flatten()
}

pin_project! {
    /// Turns a panic while polling `inner` into an exit reason.
    pub(crate) struct CatchUnwind<F> {
        #[pin]
        inner: F,
    }
}

impl<F> CatchUnwind<F> {
    pub(crate) fn new(inner: F) -> CatchUnwind<F> {
        CatchUnwind { inner }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ExitReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        catch_poll(self.project().inner, cx)
    }
}

/// Polls `inner`, turning a panic into an exit reason.
///
/// Never inlined: a panic is caught in the frame that holds the catch, and the unwinder reads
/// that frame's table of landing pads from the start to find it. Inlined into a server's
/// loop, that table is the whole loop's, and reading it cost each crash about 11,000
/// instructions (a crash and restart 56k instead of 44k); a frame of its own costs each
/// callback poll a call.
#[inline(never)]
pub(crate) fn catch_poll<F: Future>(
    inner: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, ExitReason>> {
    match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
        Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
        Ok(Poll::Pending) => Poll::Pending,
        Err(payload) => Poll::Ready(Err(ExitReason::from_panic(payload))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn catch_unwind_turns_panics_into_reasons() {
        let ok = CatchUnwind::new(async { 5 }).await;
        assert_eq!(ok.unwrap(), 5);
        let failed = CatchUnwind::new(async { panic!("boom") }).await;
        assert_eq!(failed.unwrap_err(), ExitReason::Panic("boom".into()));
    }

    #[tokio::test]
    async fn self_pid_holds_while_a_process_body_is_dropped() {
        struct Check(Pid);
        impl Drop for Check {
            fn drop(&mut self) {
                assert_eq!(try_self_pid(), Some(self.0));
            }
        }
        let pid = Pid::from_raw(1001);
        let body = Scoped::new(pid, async move {
            let _check = Check(pid);
            std::future::pending::<()>().await;
        });
        let mut body = Box::pin(body);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(body.as_mut().poll(&mut cx).is_pending());
        assert_eq!(try_self_pid(), None);
        drop(body);
        assert_eq!(try_self_pid(), None);
    }

    #[tokio::test]
    async fn self_pid_is_scoped_to_the_process() {
        assert_eq!(try_self_pid(), None);
        let pid = Pid::from_raw(1002);
        let seen = Scoped::new(pid, async { self_pid() }).await;
        assert_eq!(seen, pid);
        assert_eq!(try_self_pid(), None);
    }

    #[tokio::test]
    async fn a_panic_in_a_drop_is_caught_by_clear() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("drop bomb");
            }
        }
        let body = Scoped::new(Pid::from_raw(1003), async move {
            let _bomb = Bomb;
            std::future::pending::<()>().await;
        });
        let mut body = Box::pin(body);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(body.as_mut().poll(&mut cx).is_pending());
        body.as_mut().clear();
    }
}
