//! What a supervisor knows of each child besides how to start it: its id, its type, when it
//! is restarted and how it is stopped.

use std::borrow::Cow;
use std::time::Duration;

use crate::exit::ExitReason;

/// A child's id within its supervisor. Elixir allows any term; bough uses strings.
pub type ChildId = Cow<'static, str>;

/// When a supervisor restarts a child that exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Restart {
    /// Always restarted (the default).
    #[default]
    Permanent,
    /// Restarted only after an abnormal exit: not after `normal`, `shutdown` or
    /// `{shutdown, _}`.
    Transient,
    /// Never restarted; a static supervisor also forgets its spec once it exits.
    Temporary,
}

impl Restart {
    /// Whether a child with this restart type is restarted after exiting with `reason`.
    pub fn restarts_after(self, reason: &ExitReason) -> bool {
        match self {
            Restart::Permanent => true,
            Restart::Transient => !reason.is_clean(),
            Restart::Temporary => false,
        }
    }
}

/// How a supervisor stops a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shutdown {
    /// Abort the child's task at once; `terminate` does not run (`:brutal_kill`).
    BrutalKill,
    /// Ask the child to stop, wait this long for it, then abort it (an integer, in ms).
    Timeout(Duration),
    /// Ask the child to stop and wait as long as it takes (`:infinity`); the default for
    /// supervisors.
    Infinity,
}

impl Shutdown {
    /// A time-out of `ms` milliseconds, like Elixir's `shutdown: 5000`.
    pub const fn millis(ms: u64) -> Shutdown {
        Shutdown::Timeout(Duration::from_millis(ms))
    }

    /// The default for a child of the given type: 5000 ms for a worker, infinity for a
    /// supervisor.
    pub const fn default_for(child_type: ChildType) -> Shutdown {
        match child_type {
            ChildType::Worker => Shutdown::millis(5000),
            ChildType::Supervisor => Shutdown::Infinity,
        }
    }
}

/// Whether a child is a worker or a supervisor (`type: :worker | :supervisor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ChildType {
    /// A worker, such as a GenServer (the default).
    #[default]
    Worker,
    /// A supervisor or a dynamic supervisor.
    Supervisor,
}
