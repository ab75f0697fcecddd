//! Cluster-wide names for [bough](https://docs.rs/bough): one owner of a name across every
//! instance of a service, on etcd, with a fencing token.
//!
//! Inside one instance, starting a child under a name is start-or-get: a second start of
//! the same name returns the child that runs (`{:error, {:already_started, pid}}`). This
//! crate keeps that promise across instances. A name is a key that etcd creates only if
//! it is absent, under a lease of the starting instance:
//!
//! - the instance that creates the key starts the child, whose spec is built with the
//!   name's [`Fence`] (its fencing token: the key's create revision, larger for every later
//!   owner);
//! - every other caller gets [`ClusterStartError::AlreadyStarted`] with the owner:
//!   [`Owner::Remote`] (instance id, address, token) or, in the owning instance,
//!   [`Owner::Local`];
//! - callers in one instance share one campaign per name (one etcd request);
//! - the key is deleted when the child exits, and revoked with the lease by
//!   [`ClusterNames::close`], so that another instance can take over at once.
//!
//! ```no_run
//! use bough::prelude::*;
//! use bough_etcd::{ClusterNames, ClusterStartError, EtcdBackend, EtcdOptions, Fence, Owner};
//!
//! struct Loader;
//! impl GenServer for Loader {
//!     type Args = Fence;
//!     type Call = Never; type Reply = Never; type Cast = Never;
//!     type Info = Never; type Continue = Never;
//!     async fn init(fence: Fence) -> Init<Self> {
//!         // Hand `fence.token()` to every write the loader makes.
//!         Init::Ok(Loader)
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let options = EtcdOptions::new(["http://127.0.0.1:2379"], "auth-1").address("10.0.0.7:8080");
//! let names = ClusterNames::new(EtcdBackend::connect(options).await?);
//! let loaders = DynamicSupervisor::start_link(DynamicSupervisorOptions::new()).await?;
//! match names.start_child(&loaders, "auth-loader", ChildSpec::worker::<Loader>).await {
//!     Ok(owner) => println!("loading here, token {}", owner.fence.token()),
//!     Err(ClusterStartError::AlreadyStarted(Owner::Remote(owner))) => println!("loading in {owner}"),
//!     Err(ClusterStartError::AlreadyStarted(Owner::Local(owner))) => println!("loading here: {}", owner.pid),
//!     Err(error) => return Err(error.into()), // Unavailable: nothing was started
//! }
//! # Ok(()) }
//! ```
//!
//! # Under a partition: consistent, not available
//!
//! OTP's `:global` and Horde stay available during a partition and let two processes hold
//! one name, killing one when the partition heals. This crate does the opposite:
//!
//! - **A start that cannot reach etcd starts nothing.** It fails with
//!   [`ClusterStartError::Unavailable`], never on a guess. So does a start while the
//!   instance holds no lease.
//! - **An owner cut off from etcd stops its children.** The lease is renewed every third of
//!   (TTL − safety margin). If no renewal is answered for the TTL less the safety margin,
//!   counted on the monotonic clock from the moment the last answered renewal was *sent*
//!   (etcd's own countdown starts later), the instance counts the lease as lost and stops
//!   every child holding a name under it with the exit reason [`NameLost`]. etcd deletes
//!   the keys when the lease runs out, the margin later at the earliest; only then can
//!   another instance win the names. A new lease is asked for in the background; names are
//!   won again only by new starts.
//! - **What no timeout can cover is fenced.** A process paused for longer than its TTL (a
//!   stop-the-world pause, a frozen VM, SIGSTOP) cannot stop its children in time: when it
//!   resumes, another instance may own the name. Its child learns it within one renewal
//!   and is stopped, but writes it makes meanwhile carry its old token: a resource that
//!   keeps the largest token it has seen and refuses smaller ones stays safe.
//!
//! A child that traps exits gets [`NameLost`] in `handle_exit`; one that is still running
//! after [`ClusterNames::name_lost_grace`] is killed.
//!
//! # What a cluster-named child is
//!
//! It is started as [`Restart::Temporary`](bough_core::Restart::Temporary): a supervisor
//! never restarts it in place, since a restart would run without having won the name. The
//! next [`ClusterNames::start_child`] campaigns again, perhaps won by another instance.
//!
//! # Running under an orchestrator
//!
//! With [`bough_core::Application`], [`ClusterNames::is_connected`] is a readiness check,
//! and [`ClusterNames::close`] an `on_stop` hook: on SIGTERM the tree stops in order (each
//! child's exit frees its name), then the lease is revoked. The example
//! `cluster_auth_loader` of this package wires both.
//!
//! # A second engine
//!
//! [`ClusterNames`] uses etcd only through the [`NameBackend`] trait: acquire under the
//! instance's lease, read the owner, release, revoke, and the lease's state as it
//! changes. PostgreSQL, for one, can provide it with a table of leases renewed by the
//! instance and a sequence for the tokens.
//!
//! # Building
//!
//! `etcd-client` compiles etcd's protobuf files in its build script with `protoc`. In this
//! workspace, `.cargo/config.toml` points `PROTOC` at a stand-in that builds a protobuf
//! compiler written in Rust (protox); elsewhere, install `protoc` or set `PROTOC`.

#![warn(missing_docs)]

mod backend;
mod etcd;
mod names;

pub use backend::{BackendError, Claim, Fence, LeaseState, NameBackend, RemoteOwner};
pub use etcd::{ConnectError, EtcdBackend, EtcdConfigError, EtcdOptions};
pub use names::{ClusterNames, ClusterStartError, LocalOwner, NameLost, Owner};
