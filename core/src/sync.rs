//! The synchronization primitives of the lock-free and locked parts of the runtime, in one
//! place, so that a `--cfg loom` build can swap them for loom's and model-check that code
//! (`RUSTFLAGS="--cfg loom" cargo test -p bough-core --release --lib loom`).
//!
//! A normal build re-exports std, parking_lot and atomic-waker as they are: the shim costs
//! nothing. Under loom the same names are loom's types, wrapped where their API differs, so
//! that the code using them compiles unchanged both ways. [`UnsafeCell`] follows loom's
//! closure API (`with_mut`) in both builds, because that is how loom sees each access to
//! the cell.
//!
//! Only code that a loom model drives uses this module; the rest of the runtime keeps std's
//! and tokio's types, which loom has no need to see. loom is a dev-dependency, so only the
//! crate's own test build swaps the types (`all(test, loom)`, as tokio does): a `--cfg loom`
//! build of a program that depends on bough keeps the real ones.

#[cfg(not(all(test, loom)))]
mod imp {
    pub(crate) use atomic_waker::AtomicWaker;
    pub(crate) use parking_lot::{Mutex, MutexGuard};
    pub(crate) use std::sync::Arc;
    pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

    /// `std::cell::UnsafeCell` behind loom's closure API.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// Runs `f` with a pointer for writing the value.
        #[inline(always)]
        pub(crate) fn with_mut<F, R>(&self, f: F) -> R
        where
            F: FnOnce(*mut T) -> R,
        {
            f(self.0.get())
        }
    }
}

#[cfg(all(test, loom))]
mod imp {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
    pub(crate) use loom::sync::{Arc, MutexGuard};

    use std::sync::PoisonError;
    use std::task::Waker;

    /// loom's mutex with parking_lot's API: `lock` returns the guard, and a panic while the
    /// lock is held does not poison it.
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// loom's atomic waker with atomic-waker's API.
    pub(crate) struct AtomicWaker(loom::future::AtomicWaker);

    impl AtomicWaker {
        pub(crate) fn new() -> AtomicWaker {
            AtomicWaker(loom::future::AtomicWaker::new())
        }

        pub(crate) fn register(&self, waker: &Waker) {
            self.0.register_by_ref(waker);
        }

        pub(crate) fn wake(&self) {
            self.0.wake();
        }
    }
}

pub(crate) use imp::*;
