//! Names: Elixir's local names (`name: __MODULE__`) and `{:via, Registry, {reg, key}}`.
//!
//! A [`Name`] is given to a process when it starts. The name is taken before `init` runs,
//! atomically, so of any number of concurrent starts under one name exactly one starts and
//! every other one gets [`StartError::AlreadyStarted`](crate::StartError::AlreadyStarted)
//! with the winner's pid. The name is released when the process exits, before its supervisor
//! hears of the exit, so a restarted child can take the name again at once.
//!
//! Local names are strings in one table per program. A [`Registry`] is a table of your own,
//! keyed by any hashable type: per-user or per-tenant workers, without building strings.
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

use crate::pid::Pid;

/// What the table holds for one name: the pid and the typed handle behind it.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) pid: Pid,
    pub(crate) handle: Arc<dyn Any + Send + Sync>,
    pub(crate) type_name: &'static str,
}

const SHARDS: usize = 16;

/// A sharded hash table, so that registrations of unrelated names rarely meet on one lock.
struct Table<K> {
    shards: [Mutex<HashMap<K, Entry>>; SHARDS],
    hasher: RandomState,
}

impl<K: Hash + Eq> Table<K> {
    fn new() -> Table<K> {
        Table {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            hasher: RandomState::new(),
        }
    }

    fn shard<Q: Hash + ?Sized>(&self, key: &Q) -> MutexGuard<'_, HashMap<K, Entry>> {
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        self.shards[index].lock()
    }

    fn register(&self, key: K, entry: Entry) -> Result<(), Pid> {
        match self.shard(&key).entry(key) {
            MapEntry::Occupied(taken) => Err(taken.get().pid),
            MapEntry::Vacant(free) => {
                free.insert(entry);
                Ok(())
            }
        }
    }

    fn unregister<Q: Hash + Eq + ?Sized>(&self, key: &Q, pid: Pid)
    where
        K: Borrow<Q>,
    {
        let mut shard = self.shard(key);
        // Only the owner may free a name: a successor may already hold it.
        if shard.get(key).is_some_and(|entry| entry.pid == pid) {
            shard.remove(key);
        }
    }

    fn lookup<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<Entry>
    where
        K: Borrow<Q>,
    {
        self.shard(key).get(key).cloned()
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().len()).sum()
    }
}

static LOCAL: LazyLock<Table<Cow<'static, str>>> = LazyLock::new(Table::new);

/// The name of a process: a local name or a key in a [`Registry`].
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

/// A key in some registry, with the registry erased.
trait Via: Send + Sync {
    fn register(&self, entry: Entry) -> Result<(), Pid>;
    fn unregister(&self, pid: Pid);
    fn lookup(&self) -> Option<Entry>;
    fn fmt_key(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

struct ViaKey<K> {
    table: Arc<Table<K>>,
    key: K,
}

impl<K: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static> Via for ViaKey<K> {
    fn register(&self, entry: Entry) -> Result<(), Pid> {
        self.table.register(self.key.clone(), entry)
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

    pub(crate) fn register(&self, entry: Entry) -> Result<(), Pid> {
        match &self.0 {
            Repr::Local(name) => LOCAL.register(name.clone(), entry),
            Repr::Via(via) => via.register(entry),
        }
    }

    pub(crate) fn unregister(&self, pid: Pid) {
        match &self.0 {
            Repr::Local(name) => LOCAL.unregister(name.as_ref(), pid),
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

/// A registry of unique keys: Elixir's `Registry` with `keys: :unique`, used through
/// [`Registry::name`] like `{:via, Registry, {registry, key}}`.
///
/// It needs no process of its own: create one, keep it (it is a cheap handle; clones share
/// the table) and name processes with it.
pub struct Registry<K> {
    table: Arc<Table<K>>,
}

impl<K: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static> Registry<K> {
    /// An empty registry.
    pub fn new() -> Registry<K> {
        Registry {
            table: Arc::new(Table::new()),
        }
    }

    /// The name of `key` in this registry, to start a process under it or to find one.
    pub fn name(&self, key: K) -> Name {
        Name(Repr::Via(Arc::new(ViaKey {
            table: self.table.clone(),
            key,
        })))
    }

    /// The pid registered under `key`, if any: `Registry.lookup/2`.
    pub fn whereis<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<Pid>
    where
        K: Borrow<Q>,
    {
        self.table.lookup(key).map(|entry| entry.pid)
    }

    /// How many keys are registered: `Registry.count/1`.
    pub fn count(&self) -> usize {
        self.table.len()
    }
}

impl<K: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static> Default for Registry<K> {
    fn default() -> Self {
        Registry::new()
    }
}

impl<K> Clone for Registry<K> {
    fn clone(&self) -> Self {
        Registry {
            table: self.table.clone(),
        }
    }
}

impl<K> fmt::Debug for Registry<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

/// A name held by a running process; released when the process exits.
pub(crate) struct Registration {
    name: Name,
    pid: Pid,
}

impl Registration {
    /// Takes `name` for `pid`, or says which pid holds it.
    pub(crate) fn take(
        name: Name,
        pid: Pid,
        handle: Arc<dyn Any + Send + Sync>,
        type_name: &'static str,
    ) -> Result<Registration, Pid> {
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
            Some(Pid::from_raw(1))
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
        assert!(b.name((1, "x")).register(entry(10)).is_ok());
        assert_eq!(format!("{:?}", a.name((1, "x"))), "Name(via (1, \"x\"))");
    }
}
