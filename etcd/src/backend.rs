//! What a coordination engine must provide to hold cluster-wide names: the
//! [`NameBackend`] trait, and the types it speaks.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// Who runs the process registered under a name in another instance (or in this one, as
/// the engine sees it): Elixir's `{:error, {:already_started, pid}}`, with what stands in
/// for a pid across machines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoteOwner {
    /// The owning instance's id (the `instance` of [`EtcdOptions::new`](crate::EtcdOptions::new)).
    pub instance: String,
    /// Where the owner can be reached, as it advertised itself
    /// ([`EtcdOptions::address`](crate::EtcdOptions::address)); empty if it gave none.
    pub address: String,
    /// The owner's fencing token (see [`Fence`]).
    pub token: u64,
}

impl fmt::Display for RemoteOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "instance `{}`", self.instance)?;
        if !self.address.is_empty() {
            write!(f, " at {}", self.address)?;
        }
        write!(f, " (token {})", self.token)
    }
}

/// The fencing token of one ownership of a name, handed to the child's spec when this
/// instance wins the name.
///
/// Every time a name is taken, anywhere in the cluster, its token is larger than any token
/// the name had before (with etcd: the revision at which the key was created). A process
/// that lost its name without knowing it yet (paused, cut off from etcd) still carries its
/// old token: a resource that must never see two owners at once keeps the largest token it
/// has seen and refuses writes that carry a smaller one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fence {
    name: Arc<str>,
    token: u64,
}

impl Fence {
    /// A fence for `name` with `token`; backends make these.
    pub fn new(name: impl Into<Arc<str>>, token: u64) -> Fence {
        Fence {
            name: name.into(),
            token,
        }
    }

    /// The cluster-wide name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fencing token: larger for every later owner of the name.
    pub fn token(&self) -> u64 {
        self.token
    }
}

impl fmt::Display for Fence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` (token {})", self.name, self.token)
    }
}

/// The answer of [`NameBackend::acquire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The name is this instance's under the lease of generation `lease`, with this token.
    Won {
        /// The fencing token.
        token: u64,
        /// The lease generation the name is held under ([`LeaseState::generation`]).
        lease: u64,
    },
    /// Another instance holds the name.
    Held(RemoteOwner),
}

/// Where an instance stands with its engine: its lease, and whether it can renew it.
///
/// Each lease the instance is granted has a generation, 1 for the first and one more for
/// each new lease after a loss. A name is held under one generation: once the state shows
/// another generation (or none), every name held under the old one is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// The lease of this generation is held, and its last renewal was answered.
    Connected {
        /// The lease generation.
        generation: u64,
    },
    /// Renewals of the lease are failing. It still holds (no other instance can take its
    /// names) for at most `left` after the state changed, then it is lost.
    Unreachable {
        /// The lease generation.
        generation: u64,
        /// How long the lease was known to hold at most, when renewals began to fail.
        left: Duration,
    },
    /// No lease: the last one (of this generation) ran out or the engine refused to renew
    /// it; its names are lost. A new lease is being asked for.
    Lost {
        /// The generation that was lost.
        generation: u64,
    },
    /// The lease was given up ([`NameBackend::revoke`]); nothing more is asked of the
    /// engine.
    Closed,
}

impl LeaseState {
    /// The generation of the lease held now, if one is (connected or not).
    pub fn generation(&self) -> Option<u64> {
        match *self {
            LeaseState::Connected { generation } | LeaseState::Unreachable { generation, .. } => {
                Some(generation)
            }
            LeaseState::Lost { .. } | LeaseState::Closed => None,
        }
    }

    /// Whether a lease is held and its last renewal was answered: what a readiness probe
    /// asks.
    pub fn is_connected(&self) -> bool {
        matches!(self, LeaseState::Connected { .. })
    }
}

/// Why the engine could not answer. Every variant means "unknown": the caller cannot tell
/// whether a name is held, so it must not act as if it were free.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The engine did not answer within the request time-out.
    #[error("the name backend did not answer within {0:?}")]
    Timeout(Duration),
    /// The instance holds no lease now (the last one was lost and no new one was granted
    /// yet), so it cannot hold names.
    #[error("this instance holds no lease (lost, and not granted again yet)")]
    NoLease,
    /// The lease was revoked by [`NameBackend::revoke`]: the instance is stopping.
    #[error("the name backend was closed")]
    Closed,
    /// A name's record is not one this crate wrote.
    #[error("the record of `{key}` is not a bough name: {reason}")]
    Malformed {
        /// The record's key in the engine.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The engine (or the connection to it) failed; the engine's error is the source.
    #[error("the name backend failed")]
    Engine(#[source] Arc<dyn StdError + Send + Sync>),
}

impl BackendError {
    /// An engine error.
    pub fn engine(error: impl StdError + Send + Sync + 'static) -> BackendError {
        BackendError::Engine(Arc::new(error))
    }
}

/// A coordination engine that holds names for instances, each instance under a lease of
/// its own: etcd ([`EtcdBackend`](crate::EtcdBackend)) now; the trait is kept small so that
/// another engine (PostgreSQL, with a table of leases renewed by the instance and a
/// sequence for tokens) can follow.
///
/// What [`ClusterNames`](crate::ClusterNames) relies on:
///
/// - [`acquire`](NameBackend::acquire) is atomic across the cluster: of all instances that
///   ask for a free name, exactly one gets [`Claim::Won`]; the others get the winner. A
///   name already held under this instance's current lease is won again with its token.
/// - Tokens grow: a name's token is larger than every token it had before.
/// - A name lives as long as the lease it was taken under, at most; the engine drops it
///   when the lease runs out, without being asked.
/// - [`lease`](NameBackend::lease) reports a lease as lost no later than the engine
///   itself can drop it (it counts down from the last renewal that was *sent* before an
///   answer, minus a safety margin, on a monotonic clock).
pub trait NameBackend: Send + Sync + 'static {
    /// Takes `name` for this instance, under its current lease, if no instance holds it.
    fn acquire(&self, name: &str) -> impl Future<Output = Result<Claim, BackendError>> + Send;

    /// Who holds `name`, if anyone.
    fn owner(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<RemoteOwner>, BackendError>> + Send;

    /// Gives `name` up if it is still held with `token`; true if it was.
    fn release(
        &self,
        name: &str,
        token: u64,
    ) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// Gives the lease up, and with it every name held under it, so that other instances
    /// can take them at once; then stops renewing. Later acquires fail with
    /// [`BackendError::Closed`].
    fn revoke(&self) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// The lease's state, as it changes.
    fn lease(&self) -> watch::Receiver<LeaseState>;

    /// This instance's id, as other instances see it in [`RemoteOwner::instance`].
    fn instance(&self) -> &str;
}
