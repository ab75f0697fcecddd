//! Names and registries: Elixir's local names (`name: __MODULE__`), `{:via, Registry, {reg,
//! key}}`, and `Registry` itself, with unique or duplicate keys.
//!
//! A [`Name`] is given to a process when it starts. The name is taken before `init` runs,
//! atomically, so of any number of concurrent starts under one name exactly one starts and
//! every other one gets [`StartError::AlreadyStarted`]
//! with the winner's pid. The name is released when the process exits, before its supervisor
//! hears of the exit, so a restarted child can take the name again at once.
//!
//! Local names are strings in one table per program. A [`Registry`] is a table of your own,
//! keyed by any hashable type: per-user or per-tenant workers, without building strings.
//! A [`DuplicateRegistry`] lets many processes register under one key, each with a value:
//! the publish/subscribe of Elixir's `keys: :duplicate`.
//!
//! | Elixir                                          | bough                                      |
//! |-------------------------------------------------|--------------------------------------------|
//! | `Registry.start_link(keys: :unique)`            | [`Registry::new`] (no process needed)      |
//! | `Registry.start_link(keys: :duplicate)`         | [`DuplicateRegistry::new`]                 |
//! | `{:via, Registry, {reg, key}}`                  | [`Registry::name`]                         |
//! | `{:via, Registry, {reg, key, value}}`           | [`Registry::name_with_value`]              |
//! | `Registry.register(reg, key, value)`            | [`Registry::register`], [`DuplicateRegistry::register`] |
//! | `{:error, {:already_registered, pid}}`          | [`RegisterError::AlreadyRegistered`]       |
//! | `Registry.unregister(reg, key)`                 | [`Registry::unregister`], [`DuplicateRegistry::unregister`] |
//! | `Registry.lookup(reg, key)`                     | [`Registry::lookup`], [`DuplicateRegistry::lookup`] |
//! | `Registry.dispatch(reg, key, fun)`              | [`DuplicateRegistry::dispatch`]            |
//! | `Registry.keys(reg, pid)`                       | [`Registry::keys`], [`DuplicateRegistry::keys`] |
//! | `Registry.match(reg, key, pattern)`             | [`DuplicateRegistry::lookup_matching`]     |
//! | `Registry.count(reg)`                           | [`Registry::count`], [`DuplicateRegistry::count`] |
//! | `Registry.count_match(reg, key, pattern)`       | [`DuplicateRegistry::count_matching`]      |
//! | `Registry.select(reg, spec)`                    | [`Registry::select`], [`DuplicateRegistry::select`] |
//!
//! A process registers only itself, as in Elixir, and its entries go when it exits: before
//! its monitors fire and its links get its exit signal (Elixir 1.14 removes them only once
//! the registry has handled the exit, so right after a DOWN a lookup may still list the dead
//! process; bough never does).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use bough_core::{whereis, Name, Registry};
//!
//! let sessions: Registry<u64> = Registry::new();
//! let name: Name = sessions.name(42);
//! assert_eq!(name.to_string(), "{via, 42}");
//! assert_eq!(whereis(&name), None);
//! assert_eq!(whereis(&Name::local("nobody")), None);
//! # }
//! ```

use std::any::Any;
use std::borrow::{Borrow, Cow};
use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::fmt;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Arc, LazyLock};

use parking_lot::{Mutex, MutexGuard};

use crate::error::StartError;
use crate::pid::{Pid, PidMap};
use crate::process::control;

/// What the table holds for one name: the pid and the typed handle behind it.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) pid: Pid,
    pub(crate) handle: Arc<dyn Any + Send + Sync>,
    pub(crate) type_name: &'static str,
}

const SHARDS: usize = 16;

/// A registry a process has entries in: told when the process exits, so that its entries
/// go before its monitors fire.
pub(crate) trait Enrolled: Send + Sync + 'static {
    /// Removes every entry `pid` registered itself.
    fn release(&self, pid: Pid);
}

/// The keys each process holds in one registry, for `keys(pid)` and for removing its
/// entries when it exits. Sharded by pid, apart from the keys' own shards.
struct PidIndex<K> {
    shards: [Mutex<PidMap<Vec<K>>>; SHARDS],
}

impl<K: Eq> PidIndex<K> {
    fn new() -> PidIndex<K> {
        PidIndex {
            shards: std::array::from_fn(|_| Mutex::new(PidMap::default())),
        }
    }

    fn shard(&self, pid: Pid) -> MutexGuard<'_, PidMap<Vec<K>>> {
        self.shards[(pid.as_raw() as usize) % SHARDS].lock()
    }

    fn add(&self, pid: Pid, key: K) {
        self.shard(pid).entry(pid).or_default().push(key);
    }

    fn remove<Q: Eq + ?Sized>(&self, pid: Pid, key: &Q)
    where
        K: Borrow<Q>,
    {
        let mut shard = self.shard(pid);
        if let Some(keys) = shard.get_mut(&pid) {
            if let Some(at) = keys.iter().position(|k| k.borrow() == key) {
                keys.swap_remove(at);
            }
            if keys.is_empty() {
                shard.remove(&pid);
            }
        }
    }

    fn take(&self, pid: Pid) -> Vec<K> {
        self.shard(pid).remove(&pid).unwrap_or_default()
    }

    fn get(&self, pid: Pid) -> Vec<K>
    where
        K: Clone,
    {
        self.shard(pid).get(&pid).cloned().unwrap_or_default()
    }
}

/// One unique key's holder and its value.
struct Held<V> {
    entry: Entry,
    value: V,
}

/// A sharded hash table of unique keys, so that registrations of unrelated names rarely
/// meet on one lock.
struct Table<K, V> {
    shards: [Mutex<HashMap<K, Held<V>>>; SHARDS],
    /// `None` for local names, which need no `keys(pid)`.
    index: Option<PidIndex<K>>,
    hasher: RandomState,
}

impl<K: Hash + Eq, V> Table<K, V> {
    fn new(indexed: bool) -> Table<K, V> {
        Table {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            index: indexed.then(PidIndex::new),
            hasher: RandomState::new(),
        }
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, HashMap<K, Held<V>>> {
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        self.shards[index].lock()
    }

    fn register(&self, key: K, entry: Entry, value: V) -> Result<(), Pid>
    where
        K: Clone,
    {
        let pid = entry.pid;
        let indexed = self.index.as_ref().map(|_| key.clone());
        match self.shard(&key).entry(key) {
            MapEntry::Occupied(taken) => return Err(taken.get().entry.pid),
            MapEntry::Vacant(free) => {
                free.insert(Held { entry, value });
            }
        }
        if let (Some(index), Some(key)) = (&self.index, indexed) {
            index.add(pid, key);
        }
        Ok(())
    }

    /// Frees `key` if `pid` holds it; true if it did.
    fn unregister<Q: Hash + Eq + ?Sized>(&self, key: &Q, pid: Pid) -> bool
    where
        K: Borrow<Q>,
    {
        let removed = {
            let mut shard = self.shard(key);
            // Only the owner may free a name: a successor may already hold it.
            if shard.get(key).is_some_and(|held| held.entry.pid == pid) {
                shard.remove(key)
            } else {
                None
            }
        };
        let freed = removed.is_some();
        // The value may be anything, even a handle whose drop does work: not under a lock.
        drop(removed);
        if freed && let Some(index) = &self.index {
            index.remove(pid, key);
        }
        freed
    }

    fn lookup<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<Entry>
    where
        K: Borrow<Q>,
    {
        self.shard(key).get(key).map(|held| held.entry.clone())
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().len()).sum()
    }
}

impl<K, V> Enrolled for Table<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    fn release(&self, pid: Pid) {
        if let Some(index) = &self.index {
            for key in index.take(pid) {
                let removed = {
                    let mut shard = self.shard(&key);
                    if shard.get(&key).is_some_and(|held| held.entry.pid == pid) {
                        shard.remove(&key)
                    } else {
                        None
                    }
                };
                drop(removed);
            }
        }
    }
}

static LOCAL: LazyLock<Table<Cow<'static, str>, ()>> = LazyLock::new(|| Table::new(false));

/// The name of a process: a local name, a key in a [`Registry`], or a partition of a
/// [`PartitionSupervisor`](crate::PartitionSupervisor).
///
/// `Name` converts from `&'static str` and `String`, so APIs that take `impl Into<Name>`
/// accept a plain string for a local name.
#[derive(Clone)]
pub struct Name(Repr);

#[derive(Clone)]
enum Repr {
    Local(Cow<'static, str>),
    Via(Arc<dyn Via>),
}

/// A key in some registry, with the registry erased: Erlang's `{:via, module, term}`.
pub(crate) trait Via: Send + Sync {
    fn register(&self, entry: Entry) -> Result<(), StartError>;
    fn unregister(&self, pid: Pid);
    fn lookup(&self) -> Option<Entry>;
    fn fmt_key(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

struct ViaKey<K, V> {
    table: Arc<Table<K, V>>,
    key: K,
    value: V,
}

impl<K, V> Via for ViaKey<K, V>
where
    K: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn register(&self, entry: Entry) -> Result<(), StartError> {
        self.table
            .register(self.key.clone(), entry, self.value.clone())
            .map_err(StartError::AlreadyStarted)
    }
    fn unregister(&self, pid: Pid) {
        self.table.unregister(&self.key, pid);
    }
    fn lookup(&self) -> Option<Entry> {
        self.table.lookup(&self.key)
    }
    fn fmt_key(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.key, f)
    }
}

impl Name {
    /// A local name, Elixir's `name: :my_server`.
    pub fn local(name: impl Into<Cow<'static, str>>) -> Name {
        Name(Repr::Local(name.into()))
    }

    /// A name resolved by `via`.
    pub(crate) fn via(via: Arc<dyn Via>) -> Name {
        Name(Repr::Via(via))
    }

    pub(crate) fn register(&self, entry: Entry) -> Result<(), StartError> {
        match &self.0 {
            Repr::Local(name) => LOCAL
                .register(name.clone(), entry, ())
                .map_err(StartError::AlreadyStarted),
            Repr::Via(via) => via.register(entry),
        }
    }

    pub(crate) fn unregister(&self, pid: Pid) {
        match &self.0 {
            Repr::Local(name) => {
                LOCAL.unregister(name.as_ref(), pid);
            }
            Repr::Via(via) => via.unregister(pid),
        }
    }

    pub(crate) fn lookup(&self) -> Option<Entry> {
        match &self.0 {
            Repr::Local(name) => LOCAL.lookup(name.as_ref()),
            Repr::Via(via) => via.lookup(),
        }
    }
}

impl From<&'static str> for Name {
    fn from(name: &'static str) -> Name {
        Name::local(name)
    }
}

impl From<String> for Name {
    fn from(name: String) -> Name {
        Name::local(name)
    }
}

impl From<&Name> for Name {
    fn from(name: &Name) -> Name {
        name.clone()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Local(name) => f.write_str(name),
            Repr::Via(via) => {
                f.write_str("{via, ")?;
                via.fmt_key(f)?;
                f.write_str("}")
            }
        }
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Local(name) => f.debug_tuple("Name").field(name).finish(),
            Repr::Via(via) => {
                f.write_str("Name(via ")?;
                via.fmt_key(f)?;
                f.write_str(")")
            }
        }
    }
}

/// The pid registered under `name`, if any: Elixir's `GenServer.whereis/1`.
pub fn whereis(name: &Name) -> Option<Pid> {
    name.lookup().map(|entry| entry.pid)
}

/// Why [`Registry::register`] or [`DuplicateRegistry::register`] did not register.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// The unique key is held by this process (`{:error, {:already_registered, pid}}`);
    /// it may be the caller itself.
    #[error("already registered by {0}")]
    AlreadyRegistered(Pid),
    /// A process registers only itself, and this was called outside a bough process.
    #[error("register called outside a bough process")]
    NotAProcess,
    /// The calling process is exiting: its entries are being removed.
    #[error("the registering process is exiting")]
    Exiting,
}

/// The calling process, enrolled in `registry` so that its entries go when it exits.
fn enroll(registry: Arc<dyn Enrolled>) -> Result<control::ProcessRef, RegisterError> {
    let me = control::current().ok_or(RegisterError::NotAProcess)?;
    if me.enroll(registry) {
        Ok(me)
    } else {
        Err(RegisterError::Exiting)
    }
}

/// A registry of unique keys: Elixir's `Registry` with `keys: :unique`, used through
/// [`Registry::name`] like `{:via, Registry, {registry, key}}`, or by a process registering
/// itself with [`register`](Registry::register). Each key has one process and a value of
/// type `V` (none by default).
///
/// It needs no process of its own: create one, keep it (it is a cheap handle; clones share
/// the table) and name processes with it.
///
/// ```
/// # use bough_core::prelude::*;
/// # use bough_core::RegisterError;
/// # struct Session;
/// # impl GenServer for Session {
/// #     type Args = (Registry<u64, &'static str>, u64); type Call = Never; type Reply = Never;
/// #     type Cast = Never; type Info = Never; type Continue = Never;
/// #     async fn init((sessions, user): Self::Args) -> Init<Self> {
/// #         match sessions.register(user, "web") {
/// #             Ok(()) => Init::Ok(Session),
/// #             Err(RegisterError::AlreadyRegistered(_)) => Init::Ignore,
/// #             Err(other) => Init::Stop(ExitReason::error(other)),
/// #         }
/// #     }
/// # }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sessions: Registry<u64, &'static str> = Registry::new();
/// // The session registers itself in `init`: `Registry.register(sessions, user, "web")`.
/// let session = gen_server::start_link::<Session>((sessions.clone(), 7)).await.unwrap();
/// assert_eq!(sessions.lookup(&7), Some((session.pid(), "web")));
/// assert_eq!(sessions.keys(session.pid()), [7]);
/// session.stop(ExitReason::Normal).await.unwrap();
/// assert_eq!(sessions.lookup(&7), None);
/// # }
/// ```
pub struct Registry<K, V = ()> {
    table: Arc<Table<K, V>>,
}

impl<K, V> Registry<K, V>
where
    K: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// An empty registry.
    pub fn new() -> Registry<K, V> {
        Registry {
            table: Arc::new(Table::new(true)),
        }
    }

    /// The name of `key` in this registry, to start a process under it or to find one
    /// (`{:via, Registry, {registry, key}}`); the process's value is `V::default()`.
    pub fn name(&self, key: K) -> Name
    where
        V: Default,
    {
        self.name_with_value(key, V::default())
    }

    /// The name of `key`, registering the process that starts under it with `value`
    /// (`{:via, Registry, {registry, key, value}}`).
    pub fn name_with_value(&self, key: K, value: V) -> Name {
        Name::via(Arc::new(ViaKey {
            table: self.table.clone(),
            key,
            value,
        }))
    }

    /// Registers the calling process under `key` with `value`: Elixir's
    /// `Registry.register/3` on a unique registry. The entry goes when the process exits
    /// (before its monitors fire) or calls [`unregister`](Registry::unregister). Calls
    /// and casts by [`name`](Registry::name) reach it, as they reach a process started
    /// under that name.
    ///
    /// Fails with [`RegisterError::AlreadyRegistered`] and the holder's pid when the key is
    /// taken (by this process too), and with [`RegisterError::NotAProcess`] outside a bough
    /// process.
    pub fn register(&self, key: K, value: V) -> Result<(), RegisterError> {
        let me = enroll(self.table.clone())?;
        let entry = Entry {
            pid: me.pid(),
            type_name: me.type_name(),
            handle: me.into_any(),
        };
        self.table
            .register(key, entry, value)
            .map_err(RegisterError::AlreadyRegistered)
    }

    /// Removes the calling process's entry under `key`, if it has one: Elixir's
    /// `Registry.unregister/2`. Does nothing outside a process.
    pub fn unregister<Q: Hash + Eq + ?Sized>(&self, key: &Q)
    where
        K: Borrow<Q>,
    {
        if let Some(pid) = crate::process::try_self_pid() {
            self.table.unregister(key, pid);
        }
    }

    /// The pid registered under `key`, if any.
    pub fn whereis<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<Pid>
    where
        K: Borrow<Q>,
    {
        self.table.lookup(key).map(|entry| entry.pid)
    }

    /// The pid registered under `key` and its value: Elixir's `Registry.lookup/2`.
    pub fn lookup<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<(Pid, V)>
    where
        K: Borrow<Q>,
    {
        self.table
            .shard(key)
            .get(key)
            .map(|held| (held.entry.pid, held.value.clone()))
    }

    /// The keys `pid` holds in this registry: Elixir's `Registry.keys/2`.
    pub fn keys(&self, pid: Pid) -> Vec<K> {
        self.table
            .index
            .as_ref()
            .map_or_else(Vec::new, |i| i.get(pid))
    }

    /// How many keys are registered: `Registry.count/1`.
    pub fn count(&self) -> usize {
        self.table.len()
    }

    /// Every entry for which `filter` answers true, as `(key, pid, value)`: Elixir's
    /// `Registry.select/2` with the match spec written as a closure. Visits the whole
    /// registry, one shard at a time, so it is a snapshot of each shard, not of the whole.
    /// `filter` runs while a shard is locked, as a match spec runs inside ETS: it must not
    /// use this registry.
    pub fn select(&self, mut filter: impl FnMut(&K, Pid, &V) -> bool) -> Vec<(K, Pid, V)> {
        let mut found = Vec::new();
        for shard in &self.table.shards {
            for (key, held) in shard.lock().iter() {
                if filter(key, held.entry.pid, &held.value) {
                    found.push((key.clone(), held.entry.pid, held.value.clone()));
                }
            }
        }
        found
    }
}

impl<K, V> Default for Registry<K, V>
where
    K: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn default() -> Self {
        Registry::new()
    }
}

impl<K, V> Clone for Registry<K, V> {
    fn clone(&self) -> Self {
        Registry {
            table: self.table.clone(),
        }
    }
}

impl<K, V> fmt::Debug for Registry<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

/// The entries of one key of a duplicate registry: each process's values, in the order it
/// registered them.
type Values<V> = PidMap<Vec<V>>;

/// A sharded table of duplicate keys.
struct DupTable<K, V> {
    shards: [Mutex<HashMap<K, Values<V>>>; SHARDS],
    index: PidIndex<K>,
    hasher: RandomState,
}

impl<K: Hash + Eq, V> DupTable<K, V> {
    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, HashMap<K, Values<V>>> {
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        self.shards[index].lock()
    }

    /// Removes every value `pid` has under `key`; true if it had any.
    fn remove<Q: Hash + Eq + ?Sized>(&self, key: &Q, pid: Pid) -> bool
    where
        K: Borrow<Q>,
    {
        let removed = {
            let mut shard = self.shard(key);
            let Some(values) = shard.get_mut(key) else {
                return false;
            };
            let removed = values.remove(&pid);
            if values.is_empty() {
                shard.remove(key);
            }
            removed
        };
        let had = removed.is_some();
        drop(removed);
        had
    }
}

impl<K, V> Enrolled for DupTable<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    fn release(&self, pid: Pid) {
        for key in self.index.take(pid) {
            self.remove(&key, pid);
        }
    }
}

/// A registry of duplicate keys: Elixir's `Registry` with `keys: :duplicate`. Any number
/// of processes register under one key, each with a value (a process may register under
/// a key more than once); [`dispatch`](DuplicateRegistry::dispatch) reaches every entry of
/// a key, which makes it a publish/subscribe hub.
///
/// Store in the value whatever a publisher needs to reach the subscriber, such as its
/// [`Server`](crate::Server) handle. Entries go when their process exits, before its
/// monitors fire: a publisher never sees a subscriber whose DOWN has been delivered.
///
/// ```
/// # use bough_core::prelude::*;
/// # use bough_core::DuplicateRegistry;
/// struct Subscriber(Vec<String>);
///
/// impl GenServer for Subscriber {
///     type Args = DuplicateRegistry<&'static str, Server<Subscriber>>;
///     type Call = ();
///     type Reply = Vec<String>;
///     type Cast = String;
///     type Info = Never;
///     type Continue = Never;
///
///     async fn init(topics: Self::Args) -> Init<Self> {
///         // `Registry.register(topics, "news", self())`, with a typed handle as the value.
///         topics.register("news", Server::current()).unwrap();
///         Init::Ok(Subscriber(Vec::new()))
///     }
///
///     async fn handle_cast(&mut self, item: String) -> NoReply<Self> {
///         self.0.push(item);
///         NoReply::NoReply
///     }
///
///     async fn handle_call(&mut self, _: (), _: ReplyTo<Vec<String>>) -> Reply<Self> {
///         Reply::Reply(self.0.clone())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let topics = DuplicateRegistry::new();
/// let a = gen_server::start_link::<Subscriber>(topics.clone()).await.unwrap();
/// let b = gen_server::start_link::<Subscriber>(topics.clone()).await.unwrap();
/// let reached = topics.dispatch("news", |subscribers| {
///     for (_, subscriber) in subscribers {
///         subscriber.cast("bough 0.2 is out".to_string());
///     }
/// });
/// assert_eq!(reached, 2);
/// assert_eq!(a.call(()).await.unwrap(), ["bough 0.2 is out"]);
/// assert_eq!(b.call(()).await.unwrap(), ["bough 0.2 is out"]);
/// b.stop(ExitReason::Normal).await.unwrap();
/// assert_eq!(topics.count(), 1, "b's entry went with it");
/// # }
/// ```
pub struct DuplicateRegistry<K, V = ()> {
    table: Arc<DupTable<K, V>>,
}

impl<K, V> DuplicateRegistry<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// An empty registry.
    pub fn new() -> DuplicateRegistry<K, V> {
        DuplicateRegistry {
            table: Arc::new(DupTable {
                shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
                index: PidIndex::new(),
                hasher: RandomState::new(),
            }),
        }
    }

    /// Registers the calling process under `key` with `value`, beside any other entries of
    /// the key (its own included): Elixir's `Registry.register/3` on a duplicate registry.
    /// The entry goes when the process exits (before its monitors fire) or calls
    /// [`unregister`](DuplicateRegistry::unregister).
    ///
    /// Fails with [`RegisterError::NotAProcess`] outside a bough process.
    pub fn register(&self, key: K, value: V) -> Result<(), RegisterError> {
        let pid = enroll(self.table.clone())?.pid();
        let first = {
            let mut shard = self.table.shard(&key);
            let values = shard
                .entry(key.clone())
                .or_default()
                .entry(pid)
                .or_default();
            values.push(value);
            values.len() == 1
        };
        if first {
            self.table.index.add(pid, key);
        }
        Ok(())
    }

    /// Removes every entry of the calling process under `key`: Elixir's
    /// `Registry.unregister/2`. Does nothing outside a process.
    pub fn unregister<Q: Hash + Eq + ?Sized>(&self, key: &Q)
    where
        K: Borrow<Q>,
    {
        if let Some(pid) = crate::process::try_self_pid()
            && self.table.remove(key, pid)
        {
            self.table.index.remove(pid, key);
        }
    }

    /// Every entry under `key`, as `(pid, value)`, in no particular order: Elixir's
    /// `Registry.lookup/2`.
    pub fn lookup<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Vec<(Pid, V)>
    where
        K: Borrow<Q>,
    {
        self.lookup_matching(key, |_| true)
    }

    /// The entries under `key` whose value `filter` accepts: Elixir's `Registry.match/3`,
    /// with the pattern written as a closure. `filter` runs while the key's shard is locked:
    /// it must not use this registry.
    pub fn lookup_matching<Q: Hash + Eq + ?Sized>(
        &self,
        key: &Q,
        mut filter: impl FnMut(&V) -> bool,
    ) -> Vec<(Pid, V)>
    where
        K: Borrow<Q>,
    {
        let shard = self.table.shard(key);
        let Some(values) = shard.get(key) else {
            return Vec::new();
        };
        values
            .iter()
            .flat_map(|(pid, values)| values.iter().map(move |value| (*pid, value)))
            .filter(|(_, value)| filter(value))
            .map(|(pid, value)| (pid, value.clone()))
            .collect()
    }

    /// Calls `send` with every entry under `key` (`(pid, value)`, in no particular order),
    /// unless there are none: Elixir's `Registry.dispatch/3`. Returns how many entries it
    /// was given.
    ///
    /// `send` gets a snapshot, taken under a lock that is released before `send` runs, so
    /// it may register, unregister or dispatch again. An entry whose process exits after
    /// the snapshot may still be in it; messages to it are dropped, as messages to a dead
    /// process always are.
    pub fn dispatch<Q: Hash + Eq + ?Sized>(&self, key: &Q, send: impl FnOnce(&[(Pid, V)])) -> usize
    where
        K: Borrow<Q>,
    {
        let entries = self.lookup(key);
        if !entries.is_empty() {
            send(&entries);
        }
        entries.len()
    }

    /// The keys `pid` has entries under: Elixir's `Registry.keys/2`. Each key once, however
    /// many entries the process has under it.
    pub fn keys(&self, pid: Pid) -> Vec<K> {
        self.table.index.get(pid)
    }

    /// How many entries there are, under all keys: `Registry.count/1`.
    pub fn count(&self) -> usize {
        self.table
            .shards
            .iter()
            .map(|shard| {
                shard
                    .lock()
                    .values()
                    .flat_map(|v| v.values())
                    .map(Vec::len)
                    .sum::<usize>()
            })
            .sum()
    }

    /// How many entries under `key` have a value `filter` accepts: Elixir's
    /// `Registry.count_match/3`. `filter` runs while the key's shard is locked: it must not
    /// use this registry.
    pub fn count_matching<Q: Hash + Eq + ?Sized>(
        &self,
        key: &Q,
        mut filter: impl FnMut(&V) -> bool,
    ) -> usize
    where
        K: Borrow<Q>,
    {
        let shard = self.table.shard(key);
        shard.get(key).map_or(0, |values| {
            values.values().flatten().filter(|v| filter(v)).count()
        })
    }

    /// Every entry for which `filter` answers true, as `(key, pid, value)`: Elixir's
    /// `Registry.select/2` with the match spec written as a closure. A snapshot of each
    /// shard in turn, not of the whole registry. `filter` runs while a shard is locked: it
    /// must not use this registry.
    pub fn select(&self, mut filter: impl FnMut(&K, Pid, &V) -> bool) -> Vec<(K, Pid, V)> {
        let mut found = Vec::new();
        for shard in &self.table.shards {
            for (key, values) in shard.lock().iter() {
                for (pid, values) in values {
                    for value in values {
                        if filter(key, *pid, value) {
                            found.push((key.clone(), *pid, value.clone()));
                        }
                    }
                }
            }
        }
        found
    }
}

impl<K, V> Default for DuplicateRegistry<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    fn default() -> Self {
        DuplicateRegistry::new()
    }
}

impl<K, V> Clone for DuplicateRegistry<K, V> {
    fn clone(&self) -> Self {
        DuplicateRegistry {
            table: self.table.clone(),
        }
    }
}

impl<K, V> fmt::Debug for DuplicateRegistry<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DuplicateRegistry").finish_non_exhaustive()
    }
}

/// A name held by a running process; released when the process exits.
pub(crate) struct Registration {
    name: Name,
    pid: Pid,
}

impl Registration {
    /// Takes `name` for `pid`, or says why not: which pid holds it, or that the name
    /// cannot name a new process.
    pub(crate) fn take(
        name: Name,
        pid: Pid,
        handle: Arc<dyn Any + Send + Sync>,
        type_name: &'static str,
    ) -> Result<Registration, StartError> {
        name.register(Entry {
            pid,
            handle,
            type_name,
        })?;
        Ok(Registration { name, pid })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.name.unregister(self.pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pid: u64) -> Entry {
        Entry {
            pid: Pid::from_raw(pid),
            handle: Arc::new(()),
            type_name: "()",
        }
    }

    #[test]
    fn a_name_has_one_owner_until_released() {
        let name = Name::local("registry-test-owner");
        let reg = Registration::take(name.clone(), Pid::from_raw(1), Arc::new(()), "()").unwrap();
        assert_eq!(
            Registration::take(name.clone(), Pid::from_raw(2), Arc::new(()), "()").err(),
            Some(StartError::AlreadyStarted(Pid::from_raw(1)))
        );
        assert_eq!(whereis(&name), Some(Pid::from_raw(1)));
        drop(reg);
        assert_eq!(whereis(&name), None);
    }

    #[test]
    fn only_the_owner_unregisters() {
        let name = Name::local("registry-test-successor");
        name.register(entry(5)).unwrap();
        name.unregister(Pid::from_raw(4));
        assert_eq!(whereis(&name), Some(Pid::from_raw(5)));
        name.unregister(Pid::from_raw(5));
        assert_eq!(whereis(&name), None);
    }

    #[test]
    fn registries_are_separate_tables_keyed_by_any_type() {
        let a: Registry<(u32, &'static str)> = Registry::new();
        let b: Registry<(u32, &'static str)> = Registry::new();
        a.name((1, "x")).register(entry(9)).unwrap();
        assert_eq!(a.whereis(&(1, "x")), Some(Pid::from_raw(9)));
        assert_eq!(b.whereis(&(1, "x")), None);
        assert_eq!(a.count(), 1);
        assert_eq!(a.keys(Pid::from_raw(9)), [(1, "x")]);
        assert!(b.name((1, "x")).register(entry(10)).is_ok());
        assert_eq!(format!("{:?}", a.name((1, "x"))), "Name(via (1, \"x\"))");
    }

    #[test]
    fn releasing_a_pid_frees_only_its_own_keys() {
        let reg: Registry<u8, u8> = Registry::new();
        reg.name_with_value(1, 10).register(entry(1)).unwrap();
        reg.name_with_value(2, 20).register(entry(1)).unwrap();
        reg.name_with_value(3, 30).register(entry(2)).unwrap();
        let mut keys = reg.keys(Pid::from_raw(1));
        keys.sort();
        assert_eq!(keys, [1, 2]);
        reg.table.release(Pid::from_raw(1));
        assert_eq!(reg.lookup(&1), None);
        assert_eq!(reg.lookup(&2), None);
        assert_eq!(reg.lookup(&3), Some((Pid::from_raw(2), 30)));
        assert!(reg.keys(Pid::from_raw(1)).is_empty());
    }

    #[test]
    fn outside_a_process_nothing_registers() {
        let unique: Registry<u8> = Registry::new();
        assert_eq!(unique.register(1, ()), Err(RegisterError::NotAProcess));
        let duplicate: DuplicateRegistry<u8> = DuplicateRegistry::new();
        assert_eq!(duplicate.register(1, ()), Err(RegisterError::NotAProcess));
        assert_eq!(duplicate.count(), 0);
        assert_eq!(duplicate.dispatch(&1, |_| panic!("no entries")), 0);
    }
}
