//! Exit reasons: why a process stopped.

use std::any::Any;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// Why a process exited: Elixir's exit reason.
///
/// | Elixir                   | bough                                   | clean? |
/// |--------------------------|-----------------------------------------|--------|
/// | `:normal`                | [`ExitReason::Normal`]                  | yes    |
/// | `:shutdown`              | [`ExitReason::Shutdown`]                | yes    |
/// | `{:shutdown, term}`      | [`ExitReason::ShutdownWith`]            | yes    |
/// | `:kill` / `:killed`      | [`ExitReason::Killed`]                  | no     |
/// | `:noproc`                | [`ExitReason::NoProc`]                  | no     |
/// | a raise                  | [`ExitReason::Panic`] (a panic)         | no     |
/// | any other term           | [`ExitReason::Error`]                   | no     |
///
/// Clean exits ([`is_clean`](ExitReason::is_clean)) are not reported as crashes and do not
/// make a [`Restart::Transient`](crate::Restart::Transient) child restart.
///
/// ```
/// # use bough_core::ExitReason;
/// let reason = ExitReason::error("rules service answered 500");
/// assert!(!reason.is_clean());
/// assert_eq!(reason.to_string(), "rules service answered 500");
/// assert!(ExitReason::shutdown_with("reloaded").is_clean());
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum ExitReason {
    /// The process finished its work: `:normal`.
    Normal,
    /// The process was asked to stop, usually by its supervisor: `:shutdown`.
    Shutdown,
    /// A clean stop carrying a value: `{:shutdown, term}`.
    ShutdownWith(Arc<dyn fmt::Debug + Send + Sync>),
    /// The process was aborted without running `terminate`: `:killed`.
    Killed,
    /// The process did not exist: `:noproc`, what a monitor of a dead pid reports.
    NoProc,
    /// A callback panicked; the panic message.
    Panic(Arc<str>),
    /// Any other abnormal reason.
    Error(Arc<dyn StdError + Send + Sync>),
}

impl ExitReason {
    /// `{:shutdown, value}`: a clean stop that carries a value for whoever looks at it.
    pub fn shutdown_with(value: impl fmt::Debug + Send + Sync + 'static) -> ExitReason {
        ExitReason::ShutdownWith(Arc::new(value))
    }

    /// An abnormal exit with the given error (anything from a message to an I/O error).
    pub fn error(error: impl Into<Box<dyn StdError + Send + Sync>>) -> ExitReason {
        ExitReason::Error(Arc::from(error.into()))
    }

    /// Whether this is a clean exit: `Normal`, `Shutdown` or `ShutdownWith`.
    pub fn is_clean(&self) -> bool {
        matches!(
            self,
            ExitReason::Normal | ExitReason::Shutdown | ExitReason::ShutdownWith(_)
        )
    }

    /// Whether this is `Normal`.
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Normal)
    }

    /// The reason for a caught panic payload.
    pub(crate) fn from_panic(payload: Box<dyn Any + Send>) -> ExitReason {
        let message: Arc<str> = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Arc::from(*s)
        } else if let Some(s) = payload.downcast_ref::<String>() {
            Arc::from(s.as_str())
        } else {
            Arc::from("Box<dyn Any>")
        };
        ExitReason::Panic(message)
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Shutdown => f.write_str("shutdown"),
            ExitReason::ShutdownWith(value) => write!(f, "{{shutdown, {value:?}}}"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::NoProc => f.write_str("noproc"),
            ExitReason::Panic(message) => write!(f, "panic: {message}"),
            ExitReason::Error(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl fmt::Debug for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("Normal"),
            ExitReason::Shutdown => f.write_str("Shutdown"),
            ExitReason::ShutdownWith(value) => f.debug_tuple("ShutdownWith").field(value).finish(),
            ExitReason::Killed => f.write_str("Killed"),
            ExitReason::NoProc => f.write_str("NoProc"),
            ExitReason::Panic(message) => f.debug_tuple("Panic").field(message).finish(),
            ExitReason::Error(error) => f.debug_tuple("Error").field(error).finish(),
        }
    }
}

/// Reasons compare by kind and by their text, so tests can write
/// `assert_eq!(reason, ExitReason::error("boom"))`.
impl PartialEq for ExitReason {
    fn eq(&self, other: &ExitReason) -> bool {
        match (self, other) {
            (ExitReason::Normal, ExitReason::Normal)
            | (ExitReason::Shutdown, ExitReason::Shutdown)
            | (ExitReason::Killed, ExitReason::Killed)
            | (ExitReason::NoProc, ExitReason::NoProc) => true,
            (ExitReason::ShutdownWith(a), ExitReason::ShutdownWith(b)) => {
                format!("{a:?}") == format!("{b:?}")
            }
            (ExitReason::Panic(a), ExitReason::Panic(b)) => a == b,
            (ExitReason::Error(a), ExitReason::Error(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_reasons_are_normal_and_shutdowns() {
        assert!(ExitReason::Normal.is_clean());
        assert!(ExitReason::Shutdown.is_clean());
        assert!(ExitReason::shutdown_with(42).is_clean());
        assert!(!ExitReason::Killed.is_clean());
        assert!(!ExitReason::Panic("x".into()).is_clean());
        assert!(!ExitReason::error("x").is_clean());
    }

    #[test]
    fn panic_payloads_become_messages() {
        let r = ExitReason::from_panic(Box::new("static"));
        assert_eq!(r, ExitReason::Panic("static".into()));
        let r = ExitReason::from_panic(Box::new(String::from("owned")));
        assert_eq!(r.to_string(), "panic: owned");
        let r = ExitReason::from_panic(Box::new(5u8));
        assert_eq!(r.to_string(), "panic: Box<dyn Any>");
    }

    #[test]
    fn display_follows_elixir() {
        assert_eq!(
            ExitReason::shutdown_with("bye").to_string(),
            "{shutdown, \"bye\"}"
        );
        assert_eq!(ExitReason::Killed.to_string(), "killed");
    }
}
