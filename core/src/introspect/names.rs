//! The name of each named process, by pid, so that introspection can show it. Only named
//! processes are here: a name is added when the process takes it and removed just before
//! the registry releases it.

use std::sync::LazyLock;

use parking_lot::Mutex;

use crate::pid::{Pid, PidMap};
use crate::registry::Name;

const SHARDS: usize = 16;

static NAMES: LazyLock<[Mutex<PidMap<Name>>; SHARDS]> =
    LazyLock::new(|| std::array::from_fn(|_| Mutex::new(PidMap::default())));

fn shard(pid: Pid) -> &'static Mutex<PidMap<Name>> {
    &NAMES[(pid.as_raw() as usize) % SHARDS]
}

pub(crate) fn insert(pid: Pid, name: Name) {
    shard(pid).lock().insert(pid, name);
}

pub(crate) fn remove(pid: Pid) {
    let removed = shard(pid).lock().remove(&pid);
    // A registry key's last reference may drop a user's key type: outside the lock.
    drop(removed);
}

/// The name `pid` was started under, while it holds it.
pub(crate) fn get(pid: Pid) -> Option<Name> {
    shard(pid).lock().get(&pid).cloned()
}
