//! PartitionSupervisor: N copies of one child, and routing by key to one of them, so that
//! work OTP serializes through one process (a dynamic supervisor's starts, one server's
//! calls) spreads over as many processes as the machine has cores.
//!
//! | Elixir                                                              | bough                                           |
//! |---------------------------------------------------------------------|-------------------------------------------------|
//! | `PartitionSupervisor.start_link(child_spec: spec, name: n)`         | [`PartitionSupervisor::start_link`]`(`[`PartitionSupervisorOptions::new`]`(spec).name(n))` |
//! | `partitions: 8` (default: `System.schedulers_online()`)             | [`PartitionSupervisorOptions::partitions`] (default: [`std::thread::available_parallelism`]) |
//! | `with_arguments: fn args, partition -> ... end`                      | [`PartitionSupervisorOptions::per_partition`]   |
//! | `max_restarts:`, `max_seconds:`                                     | [`PartitionSupervisorOptions::max_restarts`], [`max_seconds`](PartitionSupervisorOptions::max_seconds) |
//! | `{:via, PartitionSupervisor, {name, key}}`                          | [`PartitionSupervisor::name`]`(&key)`, a [`Name`] |
//! | `DynamicSupervisor.start_child({:via, PartitionSupervisor, {name, key}}, spec)` | [`PartitionSupervisor::start_child`]`(&key, spec)`, or [`dynamic`](PartitionSupervisor::dynamic)`(&key)?.start_child(spec)` |
//! | `GenServer.call({:via, PartitionSupervisor, {name, key}}, request)` | [`gen_server::call`](crate::gen_server::call)`::<S>(partitions.name(&key), request)`, or [`server`](PartitionSupervisor::server) |
//! | `PartitionSupervisor.partitions(name)`                              | [`PartitionSupervisor::partitions`]             |
//! | `PartitionSupervisor.which_children(name)`                          | [`PartitionSupervisor::which_children`]         |
//! | `PartitionSupervisor.count_children(name)`                          | [`PartitionSupervisor::count_children`]         |
//! | `PartitionSupervisor.stop(name)`                                    | [`PartitionSupervisor::stop`]                   |
//! | `{PartitionSupervisor, opts}` in a children list                    | [`PartitionSupervisor::child_spec`]             |
//!
//! The documented use is many dynamic supervisors, so that starting children stops being
//! serialized through one:
//!
//! ```
//! use bough_core::prelude::*;
//!
//! struct Job;
//! impl GenServer for Job {
//!     type Args = u64; type Call = Never; type Reply = Never; type Cast = Never;
//!     type Info = Never; type Continue = ();
//!     async fn init(_: u64) -> Init<Self> { Init::Continue(Job, ()) }
//!     async fn handle_continue(&mut self, _: ()) -> NoReply<Self> {
//!         NoReply::Stop(ExitReason::Normal)
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let spec = DynamicSupervisor::child_spec(DynamicSupervisorOptions::new());
//! let jobs = PartitionSupervisor::start_link(PartitionSupervisorOptions::new(spec).partitions(4))
//!     .await?;
//! for user in 0..100u64 {
//!     // Each user's jobs start under one of the four dynamic supervisors, by the user's id.
//!     jobs.start_child(&user, ChildSpec::worker::<Job>(user).restart(Restart::Transient))
//!         .await?;
//! }
//! assert_eq!(jobs.count_children().await?.supervisors, 4);
//! jobs.stop(ExitReason::Shutdown).await?;
//! # Ok(()) }
//! ```
//!
//! # Routing
//!
//! An integer key goes to partition `rem(abs(key), partitions)`, as in Elixir, so the keys
//! `0..partitions` name each partition directly. Any other key ([`PartitionKey`]) goes by a
//! fixed hash: the same key reaches the same partition in every run of the program and on
//! every platform (the hash is bough's own, not the process-random one of `HashMap`). It is
//! not Erlang's `phash2`, so a string key may land on another partition number than it
//! would in Elixir.
//!
//! The partitions are children of a supervisor (one_for_one, ids `"0"`, `"1"`, ...). A
//! partition that exits is restarted as its spec says; a restarted dynamic supervisor comes
//! back empty, as in OTP. While a partition is down, its name resolves to its last pid,
//! which is dead, so calls fail with [`CallError::NoProc`] until the restart is done.
//!
//! Routing costs no message and no shared lock: each partition's current process sits in
//! a slot of its own, which only that partition's starts write.

use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use parking_lot::Mutex;

use crate::child_spec::{ChildId, ChildSpec, ChildType, StartOk};
use crate::dynamic_supervisor::DynamicSupervisor;
use crate::error::{CallError, StartError};
use crate::exit::ExitReason;
use crate::gen_server::{GenServer, Server};
use crate::pid::Pid;
use crate::process::control;
use crate::process::monitor::Monitor;
use crate::registry::{Entry, Name, Registry, Via};
use crate::supervisor::{
    ChildCount, ChildInfo, DEFAULT_MAX_RESTARTS, DEFAULT_PERIOD, Strategy, Supervisor,
    SupervisorOptions,
};

/// A key that picks a partition: Elixir's `key` in `{:via, PartitionSupervisor, {name, key}}`.
///
/// Implemented for every integer type (`rem(abs(key), partitions)`), strings, [`Pid`]s,
/// references to keys, and any hashable value wrapped in [`ByHash`]. The partition of a
/// non-integer key comes from a fixed hash, the same in every run.
pub trait PartitionKey {
    /// The partition of this key among `partitions` (at least 1).
    fn partition(&self, partitions: usize) -> usize;
}

macro_rules! signed_keys {
    ($($t:ty),*) => {$(
        impl PartitionKey for $t {
            fn partition(&self, partitions: usize) -> usize {
                (self.unsigned_abs() as u128 % partitions as u128) as usize
            }
        }
    )*};
}

macro_rules! unsigned_keys {
    ($($t:ty),*) => {$(
        impl PartitionKey for $t {
            fn partition(&self, partitions: usize) -> usize {
                (*self as u128 % partitions as u128) as usize
            }
        }
    )*};
}

signed_keys!(i8, i16, i32, i64, i128, isize);
unsigned_keys!(u8, u16, u32, u64, u128, usize);

impl PartitionKey for str {
    fn partition(&self, partitions: usize) -> usize {
        by_hash(self, partitions)
    }
}

impl PartitionKey for String {
    fn partition(&self, partitions: usize) -> usize {
        by_hash(self.as_str(), partitions)
    }
}

/// A pid is not an integer in Elixir: it goes by the hash, as `self()` does there.
impl PartitionKey for Pid {
    fn partition(&self, partitions: usize) -> usize {
        by_hash(&self.as_raw(), partitions)
    }
}

impl<K: PartitionKey + ?Sized> PartitionKey for &K {
    fn partition(&self, partitions: usize) -> usize {
        (**self).partition(partitions)
    }
}

/// Any hashable key, routed by bough's fixed hash: `partitions.name(&ByHash((tenant, 7)))`.
///
/// The hash is as stable as the type's `Hash` implementation: integers, strings, tuples and
/// derived implementations feed it the same bytes in every run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByHash<T>(pub T);

impl<T: Hash> PartitionKey for ByHash<T> {
    fn partition(&self, partitions: usize) -> usize {
        by_hash(&self.0, partitions)
    }
}

fn by_hash<T: Hash + ?Sized>(key: &T, partitions: usize) -> usize {
    let mut hasher = StableHasher::default();
    key.hash(&mut hasher);
    (hasher.finish() % partitions as u64) as usize
}

/// FNV-1a over the bytes a key hashes to, integers taken little-endian whatever the
/// platform, then a final mix so that keys differing in one byte spread over all
/// partitions. Fixed: routing must not change between runs.
struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for StableHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u16(&mut self, n: u16) {
        self.write(&n.to_le_bytes());
    }

    fn write_u32(&mut self, n: u32) {
        self.write(&n.to_le_bytes());
    }

    fn write_u64(&mut self, n: u64) {
        self.write(&n.to_le_bytes());
    }

    fn write_u128(&mut self, n: u128) {
        self.write(&n.to_le_bytes());
    }

    fn write_usize(&mut self, n: usize) {
        // The same bytes on 32- and 64-bit platforms.
        self.write_u64(n as u64);
    }

    fn write_i16(&mut self, n: i16) {
        self.write_u16(n as u16);
    }

    fn write_i32(&mut self, n: i32) {
        self.write_u32(n as u32);
    }

    fn write_i64(&mut self, n: i64) {
        self.write_u64(n as u64);
    }

    fn write_i128(&mut self, n: i128) {
        self.write_u128(n as u128);
    }

    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as i64 as u64);
    }

    fn finish(&self) -> u64 {
        // MurmurHash3's finalizer.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// One partition's current process, on a cache line of its own: callers routed to
/// different partitions never touch the same line.
#[repr(align(128))]
struct Slot(Mutex<Option<Entry>>);

/// The name of one partition: resolved through its slot.
struct PartitionVia {
    slots: Arc<[Slot]>,
    index: usize,
}

impl Via for PartitionVia {
    fn register(&self, _: Entry) -> Result<(), StartError> {
        Err(StartError::InvalidOption(
            "a partition's name finds that partition; it cannot name a new process",
        ))
    }

    fn unregister(&self, _: Pid) {}

    fn lookup(&self) -> Option<Entry> {
        self.slots[self.index].0.lock().clone()
    }

    fn fmt_key(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "partition {}", self.index)
    }
}

/// What routing needs: the slots and a name for each partition.
struct Table {
    slots: Arc<[Slot]>,
    names: Box<[Name]>,
}

/// Each running partition supervisor's table, by the pid of its supervisor, for
/// [`PartitionSupervisor::whereis`]. The supervisor registers itself from its partitions'
/// starts, so the entry goes when it exits.
static TABLES: LazyLock<Registry<Pid, Arc<Table>>> = LazyLock::new(Registry::new);

/// The options of a partition supervisor: the child spec of every partition, how many
/// partitions, and the intensity of the supervisor above them (OTP's defaults: 3 restarts
/// in 5 seconds).
#[derive(Clone)]
pub struct PartitionSupervisorOptions {
    spec: Arc<dyn Fn(usize) -> ChildSpec + Send + Sync>,
    partitions: Option<usize>,
    max_restarts: u32,
    period: Duration,
    name: Option<Name>,
}

impl PartitionSupervisorOptions {
    /// Partitions that all start from `spec` (`child_spec:`).
    ///
    /// The partitions start without the spec's name ([`ChildSpec::name`], or the name of a
    /// supervisor declared with `supervisor!`): N processes cannot share one name, and each
    /// partition is found through the partition supervisor. A name inside the options of
    /// [`DynamicSupervisor::child_spec`] cannot be taken out: every partition after the
    /// first fails to start with [`StartError::AlreadyStarted`].
    pub fn new(spec: ChildSpec) -> PartitionSupervisorOptions {
        PartitionSupervisorOptions::per_partition(move |_| spec.clone())
    }

    /// Partitions whose spec depends on the partition's index, from 0: Elixir's
    /// `with_arguments`, which passes the partition to each child's start arguments.
    pub fn per_partition(
        spec: impl Fn(usize) -> ChildSpec + Send + Sync + 'static,
    ) -> PartitionSupervisorOptions {
        PartitionSupervisorOptions {
            spec: Arc::new(spec),
            partitions: None,
            max_restarts: DEFAULT_MAX_RESTARTS,
            period: DEFAULT_PERIOD,
            name: None,
        }
    }

    /// How many partitions (`partitions:`); by default as many as
    /// [`std::thread::available_parallelism`], Elixir's `System.schedulers_online()`.
    #[must_use]
    pub fn partitions(mut self, partitions: usize) -> Self {
        self.partitions = Some(partitions);
        self
    }

    /// At most this many restarts of partitions within the period (`max_restarts:`).
    #[must_use]
    pub fn max_restarts(mut self, max_restarts: u32) -> Self {
        self.max_restarts = max_restarts;
        self
    }

    /// The period of the intensity, in seconds (`max_seconds:`).
    #[must_use]
    pub fn max_seconds(self, seconds: u64) -> Self {
        self.period(Duration::from_secs(seconds))
    }

    /// The period of the intensity, at any precision.
    #[must_use]
    pub fn period(mut self, period: Duration) -> Self {
        self.period = period;
        self
    }

    /// Registers the partition supervisor under `name` (`name:`), to find it again with
    /// [`PartitionSupervisor::whereis`].
    #[must_use]
    pub fn name(mut self, name: impl Into<Name>) -> Self {
        self.name = Some(name.into());
        self
    }

    fn count(&self) -> usize {
        self.partitions.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        })
    }

    /// The partitions' specs, the routing table they fill, and the supervisor's options.
    fn build(&self) -> Result<(Vec<ChildSpec>, Arc<Table>, SupervisorOptions), StartError> {
        let n = self.count();
        if n == 0 {
            return Err(StartError::InvalidOption(
                "a partition supervisor needs at least one partition",
            ));
        }
        let slots: Arc<[Slot]> = (0..n).map(|_| Slot(Mutex::new(None))).collect();
        let names = (0..n)
            .map(|index| {
                Name::via(Arc::new(PartitionVia {
                    slots: slots.clone(),
                    index,
                }))
            })
            .collect();
        let table = Arc::new(Table { slots, names });
        let mut specs = Vec::with_capacity(n);
        for index in 0..n {
            let mut spec = (self.spec)(index);
            // N processes cannot share one name: each partition is found through its slot.
            spec.name = None;
            specs.push(partition(index, spec, table.clone()));
        }
        let mut options = SupervisorOptions::new(Strategy::OneForOne)
            .max_restarts(self.max_restarts)
            .period(self.period);
        if let Some(name) = &self.name {
            options = options.name(name.clone());
        }
        Ok((specs, table, options))
    }
}

impl fmt::Debug for PartitionSupervisorOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionSupervisorOptions")
            .field("partitions", &self.count())
            .field("max_restarts", &self.max_restarts)
            .field("period", &self.period)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The spec of partition `index`: starts `spec` and records the new process in the
/// partition's slot before the supervisor takes it as its child.
fn partition(index: usize, spec: ChildSpec, table: Arc<Table>) -> ChildSpec {
    let (restart, shutdown, child_type) =
        (spec.restart_type(), spec.shutdown_type(), spec.child_type());
    ChildSpec::from_fn(ChildId::from(index.to_string()), child_type, move || {
        let (spec, table) = (spec.clone(), table.clone());
        async move {
            // A custom start runs inside the supervisor, as OTP's does.
            let sup = control::current().ok_or(StartError::InvalidOption(
                "a partition starts only under its partition supervisor",
            ))?;
            // Also answers AlreadyRegistered for every partition after the first: fine.
            let _ = TABLES.register(sup.pid(), table.clone());
            let (started, info) = spec.start(&sup, None).await?;
            let pid = started.pid();
            let entry = Entry {
                pid,
                handle: started.control().clone().into_any(),
                type_name: started.control().type_name(),
            };
            *table.slots[index].0.lock() = Some(entry);
            // Handed to the supervisor, which takes it back as this spec's child.
            if let Err(started) = sup.adopt(started) {
                started.kill();
                return Err(StartError::Init(ExitReason::Shutdown));
            }
            Ok(StartOk { pid, info })
        }
    })
    .restart(restart)
    .shutdown(shutdown)
}

/// A running partition supervisor: a supervisor of N partitions of one child spec, and the
/// routing of keys to them. Cheap to clone.
///
/// See the [module docs](crate::partition_supervisor) for the mapping from Elixir.
#[derive(Clone)]
pub struct PartitionSupervisor {
    sup: Supervisor,
    table: Arc<Table>,
}

impl PartitionSupervisor {
    /// Starts the supervisor and its partitions, in order; returns once all have started.
    /// Fails with [`StartError::InvalidOption`] for zero partitions, and as
    /// [`Supervisor::start_link`] does when a partition fails to start.
    ///
    /// Called from inside a bough process, it links the supervisor to the caller, its
    /// parent.
    pub async fn start_link(
        options: PartitionSupervisorOptions,
    ) -> Result<PartitionSupervisor, StartError> {
        let (specs, table, options) = options.build()?;
        let sup = Supervisor::start_link(specs, options).await?;
        Ok(PartitionSupervisor { sup, table })
    }

    /// A child spec that starts a partition supervisor under another supervisor: type
    /// supervisor, shutdown infinity, id its name if it has one, "PartitionSupervisor"
    /// otherwise. Find it with [`whereis`](PartitionSupervisor::whereis). Each start,
    /// restarts included, makes fresh partitions; invalid options fail the start.
    pub fn child_spec(options: PartitionSupervisorOptions) -> ChildSpec {
        let id = options.name.as_ref().map_or_else(
            || ChildId::from("PartitionSupervisor"),
            |name| name.to_string().into(),
        );
        ChildSpec::from_start(id, ChildType::Supervisor, move |ctx| {
            let (specs, _, options) = options.build()?;
            Supervisor::child_spec(specs, options).spawn(ctx)
        })
    }

    /// The partition supervisor registered under `name`, if one is.
    pub fn whereis(name: &Name) -> Option<PartitionSupervisor> {
        let sup = Supervisor::whereis(name)?;
        let (_, table) = TABLES.lookup(&sup.pid())?;
        Some(PartitionSupervisor { sup, table })
    }

    /// How many partitions there are: `PartitionSupervisor.partitions/1`.
    pub fn partitions(&self) -> usize {
        self.table.slots.len()
    }

    /// The partition `key` goes to.
    pub fn partition<K: PartitionKey + ?Sized>(&self, key: &K) -> usize {
        key.partition(self.partitions())
    }

    /// The name of the partition `key` goes to: `{:via, PartitionSupervisor, {name, key}}`.
    /// Calls, casts and `whereis` accept it like any name; starting a process under it
    /// fails with [`StartError::InvalidOption`].
    pub fn name<K: PartitionKey + ?Sized>(&self, key: &K) -> Name {
        self.table.names[self.partition(key)].clone()
    }

    /// The dynamic supervisor of the partition `key` goes to. Fails with
    /// [`CallError::NoProc`] while that partition is down, and with
    /// [`CallError::WrongType`] when the partitions are not dynamic supervisors.
    pub fn dynamic<K: PartitionKey + ?Sized>(
        &self,
        key: &K,
    ) -> Result<DynamicSupervisor, CallError> {
        let name = &self.table.names[self.partition(key)];
        match DynamicSupervisor::whereis(name) {
            Some(sup) => Ok(sup),
            None => DynamicSupervisor::from_pid(name.lookup().ok_or(CallError::NoProc)?.pid),
        }
    }

    /// The server of type `S` that the partition `key` goes to is. Fails with
    /// [`CallError::NoProc`] while that partition is down, and with
    /// [`CallError::WrongType`] when the partitions are not servers of type `S`.
    pub fn server<S: GenServer, K: PartitionKey + ?Sized>(
        &self,
        key: &K,
    ) -> Result<Server<S>, CallError> {
        Server::lookup(&self.table.names[self.partition(key)])
    }

    /// Starts a child under the dynamic supervisor of the partition `key` goes to:
    /// `DynamicSupervisor.start_child({:via, PartitionSupervisor, {name, key}}, spec)`.
    /// Only that partition serializes the start; the others go on starting theirs.
    pub async fn start_child<K: PartitionKey + ?Sized>(
        &self,
        key: &K,
        spec: ChildSpec,
    ) -> Result<Pid, StartError> {
        self.dynamic(key)?.start_child(spec).await
    }

    /// The partitions, as the supervisor above them lists them: ids `"0"`, `"1"`, ...
    /// (`PartitionSupervisor.which_children/1`).
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.sup.which_children().await
    }

    /// Counts the partitions (`PartitionSupervisor.count_children/1`). To count what runs
    /// under dynamic partitions, ask each: `partitions.dynamic(&i)?.count_children()` for
    /// `i` in `0..partitions.partitions()`.
    pub async fn count_children(&self) -> Result<ChildCount, CallError> {
        self.sup.count_children().await
    }

    /// Stops every partition, newest first, then the supervisor; returns once everything
    /// below it has ended.
    pub async fn stop(&self, reason: ExitReason) -> Result<(), CallError> {
        self.sup.stop(reason).await
    }

    /// The pid of the supervisor above the partitions.
    pub fn pid(&self) -> Pid {
        self.sup.pid()
    }

    /// Whether the supervisor still runs.
    pub fn is_alive(&self) -> bool {
        self.sup.is_alive()
    }

    /// A monitor of the supervisor: a future of its exit reason.
    pub fn monitor(&self) -> Monitor {
        self.sup.monitor()
    }

    /// The supervisor above the partitions.
    pub fn supervisor(&self) -> &Supervisor {
        &self.sup
    }
}

impl PartialEq for PartitionSupervisor {
    fn eq(&self, other: &Self) -> bool {
        self.pid() == other.pid()
    }
}

impl Eq for PartitionSupervisor {}

impl fmt::Debug for PartitionSupervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PartitionSupervisor({}, {} partitions)",
            self.pid(),
            self.partitions()
        )
    }
}

/// A partition supervisor registered under its own name: what `supervisor!` implements
/// for a `partition` supervisor (`supervisor! { pub partition Jobs { child: JobSupervisor,
/// partitions: 8 } }`), Elixir's `{PartitionSupervisor, child_spec: ..., name: Jobs}`.
///
/// Its [`Child::Arg`](crate::Child::Arg) is the argument it was declared with (`()`
/// without one); `init` receives it at every start and restart.
pub trait PartitionSupervisorModule: crate::Child + Sized {
    /// The name the partition supervisor registers under.
    fn name() -> Name;

    /// The partitions' spec and the options. Runs at every start, restarts included.
    fn init(arg: Self::Arg) -> PartitionSupervisorOptions;

    /// The running partition supervisor.
    fn whereis() -> Option<PartitionSupervisor> {
        PartitionSupervisor::whereis(&Self::name())
    }

    /// The dynamic supervisor of the partition `key` goes to (see
    /// [`PartitionSupervisor::dynamic`]).
    fn dynamic<K: PartitionKey + ?Sized>(key: &K) -> Result<DynamicSupervisor, CallError> {
        Self::whereis().ok_or(CallError::NoProc)?.dynamic(key)
    }

    /// `DynamicSupervisor.start_child({:via, PartitionSupervisor, {__MODULE__, key}}, spec)`.
    fn start_child<K: PartitionKey + Sync + ?Sized>(
        key: &K,
        spec: ChildSpec,
    ) -> impl Future<Output = Result<Pid, StartError>> + Send {
        async move {
            let partitions = Self::whereis().ok_or(StartError::Supervisor(CallError::NoProc))?;
            partitions.start_child(key, spec).await
        }
    }

    /// `PartitionSupervisor.which_children(__MODULE__)`.
    fn which_children() -> impl Future<Output = Result<Vec<ChildInfo>, CallError>> + Send {
        async {
            Self::whereis()
                .ok_or(CallError::NoProc)?
                .which_children()
                .await
        }
    }

    /// `PartitionSupervisor.count_children(__MODULE__)`.
    fn count_children() -> impl Future<Output = Result<ChildCount, CallError>> + Send {
        async {
            Self::whereis()
                .ok_or(CallError::NoProc)?
                .count_children()
                .await
        }
    }

    /// `PartitionSupervisor.stop(__MODULE__, reason)`.
    fn stop(reason: ExitReason) -> impl Future<Output = Result<(), CallError>> + Send {
        async move { Self::whereis().ok_or(CallError::NoProc)?.stop(reason).await }
    }
}

/// What only generated code uses. Not public API: it changes without notice.
pub mod private {
    use super::*;
    use crate::module::private::SupervisorArg;

    /// The child spec of a [`PartitionSupervisorModule`], for its generated
    /// [`Child::child_spec`](crate::Child::child_spec): each start, restarts included, runs
    /// `init(arg)` again with a clone of `arg`.
    pub fn partition_supervisor_module_spec<S>(arg: S::Arg) -> ChildSpec
    where
        S: PartitionSupervisorModule,
        S::Arg: SupervisorArg,
    {
        let name = S::name();
        ChildSpec::from_start(name.to_string(), ChildType::Supervisor, move |mut ctx| {
            let mut spec = PartitionSupervisor::child_spec(S::init(arg.clone()));
            spec.name = ctx.name.take();
            spec.spawn(ctx)
        })
        .name(name)
    }

    /// [`StartLink::start_link`](crate::StartLink::start_link) and
    /// [`StartLinkArg::start_link`](crate::StartLinkArg::start_link) of a partition
    /// supervisor.
    pub async fn start_partition_supervisor_module<S: PartitionSupervisorModule>(
        arg: S::Arg,
    ) -> Result<PartitionSupervisor, StartError> {
        PartitionSupervisor::start_link(S::init(arg).name(S::name())).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_go_to_the_remainder_of_their_absolute_value() {
        assert_eq!(7u8.partition(4), 3);
        assert_eq!((-7i32).partition(4), 3);
        assert_eq!(i64::MIN.partition(10), 8);
        assert_eq!(u128::MAX.partition(7), (u128::MAX % 7) as usize);
        for i in 0..16usize {
            assert_eq!(i.partition(16), i, "keys below n name their partition");
        }
    }

    #[test]
    fn the_hash_is_fixed_and_spreads() {
        // Pinned, as computed by hand from FNV-1a over "alice" and str's 0xff terminator,
        // then Murmur3's finalizer: a change here re-routes every string key of every program.
        let mut hasher = StableHasher::default();
        "alice".hash(&mut hasher);
        assert_eq!(hasher.finish(), 0xd383_fecd_4b07_888b);
        assert_eq!(
            "alice".partition(10),
            (0xd383_fecd_4b07_888b_u64 % 10) as usize
        );
        assert_eq!(Pid::from_raw(1).partition(8), by_hash(&1u64, 8));
        let mut counts = [0usize; 8];
        for user in 0..8000 {
            counts[format!("user-{user}").partition(8)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
    }
}
