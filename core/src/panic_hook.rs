//! Crash reports through `tracing` instead of the standard panic output.
//!
//! In bough a panic in a callback is an ordinary crash: the process exits with the panic
//! message as its reason and its supervisor reports and restarts it. Rust's default panic
//! hook still prints every such panic to stderr, with a full backtrace when
//! `RUST_BACKTRACE` is set, which is slow and buries the supervisor's own reports.

use std::panic::{self, PanicHookInfo};
use std::sync::Once;

use crate::pid::Pid;
use crate::process::try_self_pid;

/// The `tracing` target of the crash events, for filters such as `bough::panic=error`.
const TARGET: &str = "bough::panic";

/// Reports panics inside bough processes as one `tracing` event each, instead of the
/// default panic output: call it once at the start of `main`.
///
/// ```
/// #[tokio::main]
/// async fn main() {
///     bough_core::report_panics_with_tracing();
///     // ... start the supervision tree
/// }
/// ```
///
/// It installs a panic hook. A panic in a bough process (where
/// [`try_self_pid`](crate::try_self_pid) answers) becomes one `ERROR` event with target
/// `bough::panic` and the fields `pid`, `message` and `location`, and
/// nothing is printed to stderr: no backtrace is captured, whatever `RUST_BACKTRACE` says.
/// The crash itself is unchanged: the process still exits with
/// [`ExitReason::Panic`](crate::ExitReason::Panic), and its supervisor still reports it
/// (target `bough::supervisor`). Any other panic, in `main` or in a plain tokio task, goes
/// to the hook that was installed before, the default one unless you set your own.
///
/// Calling it again does nothing. A hook set later with [`std::panic::set_hook`] replaces
/// this one.
pub fn report_panics_with_tracing() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| match try_self_pid() {
            Some(pid) => report(pid, info),
            None => previous(info),
        }));
    });
}

fn report(pid: Pid, info: &PanicHookInfo<'_>) {
    // A panic with a formatted message carries a `String`, `panic!("literal")` a `&str`;
    // anything else was raised with `panic_any`.
    let message = info.payload_as_str().unwrap_or("Box<dyn Any>");
    match info.location() {
        Some(location) => tracing::error!(
            target: TARGET,
            %pid,
            message,
            %location,
            "process panicked"
        ),
        None => tracing::error!(target: TARGET, %pid, message, "process panicked"),
    }
}
