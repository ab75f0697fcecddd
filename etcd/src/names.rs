//! Start-or-get by cluster-wide name, on any [`NameBackend`].

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use bough_core::{ChildSpec, DynamicSupervisor, ExitReason, Pid, Restart, StartError, process};
use tokio::sync::watch;

use crate::backend::{BackendError, Claim, Fence, LeaseState, NameBackend, RemoteOwner};

/// A child that holds a cluster-wide name in this instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOwner {
    /// The child's pid.
    pub pid: Pid,
    /// The name and its fencing token, as the child's spec got them.
    pub fence: Fence,
}

/// Who holds a cluster-wide name: what [`ClusterNames::whereis`] answers, and what
/// [`ClusterStartError::AlreadyStarted`] carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// A child of this instance.
    Local(LocalOwner),
    /// Another instance.
    Remote(RemoteOwner),
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Owner::Local(local) => write!(f, "{} in this instance", local.pid),
            Owner::Remote(remote) => fmt::Display::fmt(remote, f),
        }
    }
}

/// Why [`ClusterNames::start_child`] started nothing.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterStartError {
    /// The name is held, here or in another instance: Elixir's
    /// `{:error, {:already_started, pid}}`.
    #[error("already started: {0}")]
    AlreadyStarted(Owner),
    /// The name backend could not be asked (unreachable, no lease, closed), so nothing was
    /// started: a duplicate is never started on a guess.
    #[error("the name backend is unavailable")]
    Unavailable(#[source] BackendError),
    /// The name was won, but the child did not start; the name was given up.
    #[error("the child did not start")]
    Start(#[source] StartError),
    /// The name is empty.
    #[error("a cluster-wide name must not be empty")]
    EmptyName,
}

/// The exit reason of a child stopped because its instance lost its name: the lease ran
/// out (etcd unreachable for longer than the TTL less the safety margin) or was revoked.
///
/// It is an abnormal reason ([`ExitReason::Error`]), reported as a crash: another instance
/// may own the name by now. [`NameLost::of`] recognises it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lost the cluster-wide name {fence}")]
pub struct NameLost {
    /// The name and the token the child held it with.
    pub fence: Fence,
}

impl NameLost {
    /// The `NameLost` inside `reason`, if the child stopped because its name was lost.
    pub fn of(reason: &ExitReason) -> Option<&NameLost> {
        match reason {
            ExitReason::Error(error) => error.downcast_ref::<NameLost>(),
            _ => None,
        }
    }
}

/// Cluster-wide names for the children of this instance: start-or-get across instances,
/// over a [`NameBackend`] ([`EtcdBackend`](crate::EtcdBackend)). Cheap to clone.
///
/// See the [crate docs](crate) for what it promises, under partitions too.
pub struct ClusterNames<B: NameBackend> {
    inner: Arc<Names<B>>,
}

impl<B: NameBackend> Clone for ClusterNames<B> {
    fn clone(&self) -> Self {
        ClusterNames {
            inner: self.inner.clone(),
        }
    }
}

impl<B: NameBackend> fmt::Debug for ClusterNames<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterNames")
            .field("instance", &self.inner.backend.instance())
            .field("lease", &*self.inner.lease.borrow())
            .field("local", &self.inner.table().len())
            .finish()
    }
}

struct Names<B> {
    backend: B,
    lease: watch::Receiver<LeaseState>,
    table: Mutex<Table>,
    /// In milliseconds.
    name_lost_grace: AtomicU64,
}

#[derive(Default)]
struct Table {
    slots: HashMap<Arc<str>, Slot>,
    closing: bool,
}

impl Table {
    fn len(&self) -> usize {
        self.slots.len()
    }
}

enum Slot {
    /// A start-or-get under way: its outcome, once known.
    Campaign(watch::Receiver<Option<Outcome>>),
    /// A child of ours holds the name.
    Owned(Held),
    /// The child that held the name exited, and the name is being given up: a new start
    /// waits, so that it never takes over a key that is about to be deleted. The error of
    /// the last try, if it failed.
    Releasing(watch::Receiver<Option<BackendError>>),
}

#[derive(Clone)]
struct Held {
    owner: LocalOwner,
    /// The lease generation the name is held under.
    generation: u64,
    supervisor: DynamicSupervisor,
}

type Outcome = Result<LocalOwner, ClusterStartError>;

impl<B: NameBackend> ClusterNames<B> {
    /// Cluster-wide names over `backend`. Needs a tokio runtime: a task watches the
    /// backend's lease, to stop the children of names that were lost.
    pub fn new(backend: B) -> ClusterNames<B> {
        let lease = backend.lease();
        let inner = Arc::new(Names {
            backend,
            lease: lease.clone(),
            table: Mutex::new(Table::default()),
            name_lost_grace: AtomicU64::new(5_000),
        });
        tokio::spawn(watch_lease(Arc::downgrade(&inner), lease));
        ClusterNames { inner }
    }

    /// Starts the child that `spec` builds under `supervisor`, if no instance of the
    /// cluster holds `name`, and holds the name while the child runs: a start-or-get
    /// across instances.
    ///
    /// - Callers in this instance share one campaign per name: while one runs, the others
    ///   wait for it and get the same answer (the winner's child as
    ///   [`AlreadyStarted`](ClusterStartError::AlreadyStarted)`(`[`Owner::Local`]`)`).
    /// - Winning the name, `spec` is called with its [`Fence`], for the child's `init`,
    ///   and the child is started as [`Restart::Temporary`]: it is never restarted in
    ///   place, since a new start must win the name again.
    /// - The name is given up when the child exits, and when the instance loses its lease
    ///   (the child is then stopped with [`NameLost`]).
    /// - If the backend cannot be asked, nothing starts:
    ///   [`Unavailable`](ClusterStartError::Unavailable).
    ///
    /// The campaign runs on a task of its own: dropping the returned future does not stop
    /// a start that has begun.
    pub async fn start_child<F>(
        &self,
        supervisor: &DynamicSupervisor,
        name: &str,
        spec: F,
    ) -> Result<LocalOwner, ClusterStartError>
    where
        F: FnOnce(Fence) -> ChildSpec + Send + 'static,
    {
        if name.is_empty() {
            return Err(ClusterStartError::EmptyName);
        }
        let (answer, outcome) = loop {
            let waiting = {
                let mut table = self.inner.table();
                if table.closing {
                    return Err(ClusterStartError::Unavailable(BackendError::Closed));
                }
                match table.slots.get(name) {
                    Some(Slot::Owned(held)) => {
                        return Err(ClusterStartError::AlreadyStarted(Owner::Local(
                            held.owner.clone(),
                        )));
                    }
                    Some(Slot::Campaign(outcome)) => Wait::Campaign(outcome.clone()),
                    Some(Slot::Releasing(released)) => {
                        if let Some(error) = released.borrow().clone() {
                            return Err(ClusterStartError::Unavailable(error));
                        }
                        Wait::Release(released.clone())
                    }
                    None => {
                        let (answer, outcome) = watch::channel(None);
                        table
                            .slots
                            .insert(Arc::from(name), Slot::Campaign(outcome.clone()));
                        break (answer, outcome);
                    }
                }
            };
            match waiting {
                Wait::Campaign(outcome) => {
                    // Another caller's campaign: its child is the one running now.
                    return match wait_outcome(outcome).await {
                        Ok(owner) => Err(ClusterStartError::AlreadyStarted(Owner::Local(owner))),
                        Err(error) => Err(error),
                    };
                }
                Wait::Release(mut released) => {
                    // Changes once the release went through (the sender is dropped) or
                    // failed (the error is set); look at the table again either way.
                    let _ = released.changed().await;
                }
            }
        };
        tokio::spawn(campaign(
            self.inner.clone(),
            Arc::from(name),
            supervisor.clone(),
            spec,
            answer,
        ));
        wait_outcome(outcome).await
    }

    /// Who holds `name`: a child of this instance, another instance, or nobody. Asks the
    /// backend unless a child of this instance holds it.
    pub async fn whereis(&self, name: &str) -> Result<Option<Owner>, BackendError> {
        if let Some(owner) = self.whereis_local(name) {
            return Ok(Some(Owner::Local(owner)));
        }
        let owner = self.inner.backend.owner(name).await?;
        Ok(owner
            .filter(|owner| owner.instance != self.inner.backend.instance())
            .map(Owner::Remote))
    }

    /// The child of this instance that holds `name`, if one does; does not ask the
    /// backend.
    pub fn whereis_local(&self, name: &str) -> Option<LocalOwner> {
        match self.inner.table().slots.get(name) {
            Some(Slot::Owned(held)) => Some(held.owner.clone()),
            _ => None,
        }
    }

    /// The names held by children of this instance, with their owners.
    pub fn which_names(&self) -> Vec<LocalOwner> {
        self.inner
            .table()
            .slots
            .values()
            .filter_map(|slot| match slot {
                Slot::Owned(held) => Some(held.owner.clone()),
                _ => None,
            })
            .collect()
    }

    /// Whether the instance holds its lease and reaches the backend: what a readiness
    /// probe asks.
    pub fn is_connected(&self) -> bool {
        self.inner.lease.borrow().is_connected()
    }

    /// The lease's state now; [`lease_changes`](ClusterNames::lease_changes) follows it.
    pub fn lease_state(&self) -> LeaseState {
        *self.inner.lease.borrow()
    }

    /// The lease's state, as it changes.
    pub fn lease_changes(&self) -> watch::Receiver<LeaseState> {
        self.inner.lease.clone()
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.inner.backend
    }

    /// Stops gracefully: takes no more starts ([`Unavailable`](ClusterStartError::Unavailable)
    /// with [`BackendError::Closed`]), stops every child holding a name through its
    /// supervisor (as `terminate_child` does), then revokes the lease, so that other
    /// instances can take the names at once. Call it after the tree stopped, or instead.
    pub async fn close(&self) -> Result<(), BackendError> {
        let owners: Vec<Held> = {
            let mut table = self.inner.table();
            table.closing = true;
            table
                .slots
                .values()
                .filter_map(|slot| match slot {
                    Slot::Owned(held) => Some(held.clone()),
                    _ => None,
                })
                .collect()
        };
        for held in owners {
            // A child that already exited is fine: its name goes with the lease.
            let _ = held.supervisor.terminate_child(held.owner.pid).await;
        }
        self.inner.backend.revoke().await
    }

    /// How long a child that traps exits may take to stop after it was told its name was
    /// lost, before it is killed; 5 s by default (a worker's default shutdown time).
    #[must_use]
    pub fn name_lost_grace(self, grace: Duration) -> ClusterNames<B> {
        let millis = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        self.inner.name_lost_grace.store(millis, Ordering::Relaxed);
        self
    }
}

enum Wait {
    Campaign(watch::Receiver<Option<Outcome>>),
    Release(watch::Receiver<Option<BackendError>>),
}

/// The outcome of a campaign, once it is known.
async fn wait_outcome(mut outcome: watch::Receiver<Option<Outcome>>) -> Outcome {
    match outcome.wait_for(Option::is_some).await {
        Ok(answer) => answer
            .clone()
            .unwrap_or(Err(ClusterStartError::Unavailable(BackendError::Closed))),
        // The campaign's task ended without an answer: the runtime is shutting down.
        Err(_) => Err(ClusterStartError::Unavailable(BackendError::Closed)),
    }
}

impl<B> Names<B> {
    fn table(&self) -> MutexGuard<'_, Table> {
        // Nothing panics while holding the lock; a poisoned table is still consistent.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One campaign for `name`: ask the backend, start the child if the name was won, record
/// the outcome in the table, then answer every caller waiting on it.
async fn campaign<B: NameBackend, F>(
    names: Arc<Names<B>>,
    name: Arc<str>,
    supervisor: DynamicSupervisor,
    spec: F,
    answer: watch::Sender<Option<Outcome>>,
) where
    F: FnOnce(Fence) -> ChildSpec + Send + 'static,
{
    let outcome = match names.backend.acquire(&name).await {
        Err(error) => Err(ClusterStartError::Unavailable(error)),
        Ok(Claim::Held(owner)) => Err(ClusterStartError::AlreadyStarted(Owner::Remote(owner))),
        Ok(Claim::Won { token, lease }) => {
            let fence = Fence::new(name.clone(), token);
            let spec = spec(fence.clone()).restart(Restart::Temporary);
            match supervisor.start_child(spec).await {
                Ok(pid) => {
                    tracing::info!(
                        target: "bough_etcd",
                        instance = %names.backend.instance(),
                        name = %name,
                        token,
                        %pid,
                        "took the cluster-wide name"
                    );
                    let owner = LocalOwner { pid, fence };
                    names.table().slots.insert(
                        name.clone(),
                        Slot::Owned(Held {
                            owner: owner.clone(),
                            generation: lease,
                            supervisor: supervisor.clone(),
                        }),
                    );
                    tokio::spawn(hold(names.clone(), name.clone(), owner.clone(), lease));
                    // The lease may have been lost while the child started.
                    reap(&names, *names.lease.borrow());
                    Ok(owner)
                }
                Err(error) => {
                    let status = releasing(&mut names.table(), &name);
                    tokio::spawn(give_up(names.clone(), name.clone(), token, lease, status));
                    Err(ClusterStartError::Start(error))
                }
            }
        }
    };
    if outcome.is_err() {
        let mut table = names.table();
        if let Entry::Occupied(slot) = table.slots.entry(name.clone())
            && matches!(slot.get(), Slot::Campaign(_))
        {
            slot.remove();
        }
    }
    answer.send_replace(Some(outcome));
}

/// Waits for the child holding `name` to exit, then gives the name up.
async fn hold<B: NameBackend>(names: Arc<Names<B>>, name: Arc<str>, owner: LocalOwner, lease: u64) {
    let reason = process::monitor(owner.pid).await;
    let status = {
        let mut table = names.table();
        match table.slots.get(&name) {
            Some(Slot::Owned(held)) if held.owner.pid == owner.pid => {
                Some(releasing(&mut table, &name))
            }
            _ => None,
        }
    };
    tracing::debug!(
        target: "bough_etcd",
        name = %name,
        pid = %owner.pid,
        %reason,
        "the child holding a cluster-wide name exited"
    );
    if let Some(status) = status {
        give_up(names, name, owner.fence.token(), lease, status).await;
    }
}

/// Marks `name` as being given up, in the same critical section that saw its holder go,
/// so that no start slips in between.
fn releasing(table: &mut Table, name: &Arc<str>) -> watch::Sender<Option<BackendError>> {
    let (status, released) = watch::channel(None);
    table.slots.insert(name.clone(), Slot::Releasing(released));
    status
}

/// Deletes the key of `name` if it still has `token`, trying again while the lease of
/// generation `lease` holds (once it is gone, so is the key). Starts for `name` in this
/// instance wait meanwhile (see [`releasing`]).
async fn give_up<B: NameBackend>(
    names: Arc<Names<B>>,
    name: Arc<str>,
    token: u64,
    lease: u64,
    status: watch::Sender<Option<BackendError>>,
) {
    let retry = Duration::from_millis(200);
    loop {
        match names.backend.release(&name, token).await {
            Ok(_) => break,
            Err(error) => {
                if names.lease.borrow().generation() != Some(lease) {
                    break;
                }
                tracing::debug!(target: "bough_etcd", name = %name, %error, "release failed; trying again");
                status.send_replace(Some(error));
                tokio::time::sleep(retry).await;
            }
        }
    }
    let mut table = names.table();
    if matches!(table.slots.get(&name), Some(Slot::Releasing(_))) {
        table.slots.remove(&name);
    }
    // Dropping `status` wakes the starts that wait.
}

/// Follows the lease: when a generation is lost, so are the names held under it.
async fn watch_lease<B: NameBackend>(
    names: Weak<Names<B>>,
    mut lease: watch::Receiver<LeaseState>,
) {
    loop {
        let state = *lease.borrow_and_update();
        let Some(strong) = names.upgrade() else {
            return;
        };
        reap(&strong, state);
        drop(strong);
        if state == LeaseState::Closed || lease.changed().await.is_err() {
            return;
        }
    }
}

/// Stops every child holding a name under a lease generation other than the live one.
fn reap<B: NameBackend>(names: &Arc<Names<B>>, state: LeaseState) {
    let live = state.generation();
    let lost: Vec<(Arc<str>, Held)> = {
        let mut table = names.table();
        let lost: Vec<Arc<str>> = table
            .slots
            .iter()
            .filter_map(|(name, slot)| match slot {
                Slot::Owned(held) if Some(held.generation) != live => Some(name.clone()),
                _ => None,
            })
            .collect();
        lost.into_iter()
            .filter_map(|name| match table.slots.remove(&name) {
                Some(Slot::Owned(held)) => Some((name, held)),
                _ => None,
            })
            .collect()
    };
    for (name, held) in lost {
        if state == LeaseState::Closed {
            // A revoke: the tree is stopping, or `close` stops the children itself.
            tracing::info!(target: "bough_etcd", name = %name, pid = %held.owner.pid, "lease revoked while a child held a name");
        }
        let grace = Duration::from_millis(names.name_lost_grace.load(Ordering::Relaxed));
        tokio::spawn(stop_lost(held, grace));
    }
}

/// Stops a child whose name was lost, with [`NameLost`]: an exit signal, which ends a
/// child that does not trap exits at once; one that traps them gets it in `handle_exit`
/// and is killed if it still runs after `grace`.
async fn stop_lost(held: Held, grace: Duration) {
    let pid = held.owner.pid;
    tracing::warn!(
        target: "bough_etcd",
        name = %held.owner.fence.name(),
        token = held.owner.fence.token(),
        %pid,
        "name lost: stopping the child that held it"
    );
    let exited = process::monitor(pid);
    process::exit(
        pid,
        ExitReason::error(NameLost {
            fence: held.owner.fence.clone(),
        }),
    );
    if tokio::time::timeout(grace, exited).await.is_err() {
        tracing::warn!(target: "bough_etcd", %pid, "the child ignored losing its name; killing it");
        process::kill(pid);
    }
}
