//! Cluster-wide names for bough: placeholder docs, rewritten below.

mod backend;
mod etcd;
mod names;

pub use backend::{BackendError, Claim, Fence, LeaseState, NameBackend, RemoteOwner};
pub use etcd::{ConnectError, EtcdBackend, EtcdConfigError, EtcdOptions};
pub use names::{ClusterNames, ClusterStartError, LocalOwner, NameLost, Owner};
