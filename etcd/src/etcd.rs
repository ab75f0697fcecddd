//! The etcd engine: names are keys created under the instance's lease.

use std::sync::Arc;
use std::time::Duration;

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, LeaseKeepAliveStream, LeaseKeeper, PutOptions, Txn,
    TxnOp, TxnOpResponse,
};
use tokio::sync::{Mutex, watch};
use tokio::time::{Instant, sleep, sleep_until, timeout};

use crate::backend::{BackendError, Claim, LeaseState, NameBackend, RemoteOwner};

/// The first line of every name's value: a key without it was not written by this crate.
const RECORD_TAG: &str = "bough-name/1";

/// How to reach etcd and how this instance holds its lease.
///
/// ```
/// use std::time::Duration;
/// use bough_etcd::EtcdOptions;
///
/// let options = EtcdOptions::new(["http://127.0.0.1:2379"], "auth-1")
///     .address("10.0.0.7:8080")
///     .ttl(Duration::from_secs(10));
/// assert_eq!(options.keep_alive_interval(), Duration::from_millis(2500));
/// ```
#[derive(Debug, Clone)]
pub struct EtcdOptions {
    endpoints: Vec<String>,
    instance: String,
    address: String,
    prefix: String,
    ttl: Duration,
    safety_margin: Option<Duration>,
    request_timeout: Duration,
}

impl EtcdOptions {
    /// Options for the instance `instance` (its id in the cluster: unique, such as a pod's
    /// name) reaching etcd at `endpoints` (`http://host:port`), with a 10 s lease, a
    /// quarter of it as safety margin, and 2 s request time-outs.
    pub fn new<E: Into<String>>(
        endpoints: impl IntoIterator<Item = E>,
        instance: impl Into<String>,
    ) -> EtcdOptions {
        EtcdOptions {
            endpoints: endpoints.into_iter().map(Into::into).collect(),
            instance: instance.into(),
            address: String::new(),
            prefix: "bough".to_string(),
            ttl: Duration::from_secs(10),
            safety_margin: None,
            request_timeout: Duration::from_secs(2),
        }
    }

    /// Where other instances can reach this one (shown to them in
    /// [`RemoteOwner::address`]); empty by default.
    #[must_use]
    pub fn address(mut self, address: impl Into<String>) -> EtcdOptions {
        self.address = address.into();
        self
    }

    /// The prefix of every key this crate writes (`PREFIX/names/NAME`); `bough` by default.
    /// Instances share names only if they share the prefix.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> EtcdOptions {
        self.prefix = prefix.into();
        self
    }

    /// The lease's time to live: how long the names of an instance that stopped answering
    /// stay taken. Whole seconds (etcd counts in seconds; a fraction is rounded up), and
    /// etcd raises a TTL below its minimum (about 2 s with its default timings) to it.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> EtcdOptions {
        self.ttl = ttl;
        self
    }

    /// How long before the lease could run out on etcd this instance counts it as lost and
    /// stops the children that hold names: room for its clock to run slower than etcd's
    /// and for the children to stop. A quarter of the TTL by default.
    #[must_use]
    pub fn safety_margin(mut self, margin: Duration) -> EtcdOptions {
        self.safety_margin = Some(margin);
        self
    }

    /// How long one request to etcd may take before the caller gets
    /// [`BackendError::Timeout`]; 2 s by default.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> EtcdOptions {
        self.request_timeout = timeout;
        self
    }

    /// The TTL asked of etcd, in whole seconds.
    fn ttl_seconds(&self) -> i64 {
        let seconds = self.ttl.as_secs() + u64::from(self.ttl.subsec_nanos() > 0);
        i64::try_from(seconds.max(1)).unwrap_or(i64::MAX)
    }

    /// The safety margin for a lease of `ttl`.
    fn margin_for(&self, ttl: Duration) -> Duration {
        self.safety_margin.unwrap_or(ttl / 4).min(ttl)
    }

    /// How often the lease is renewed: three tries fit before it counts as lost.
    pub fn keep_alive_interval(&self) -> Duration {
        let ttl = Duration::from_secs(self.ttl_seconds().unsigned_abs());
        (ttl - self.margin_for(ttl)) / 3
    }

    fn check(&self) -> Result<(), EtcdConfigError> {
        if self.endpoints.is_empty() {
            return Err(EtcdConfigError::NoEndpoints);
        }
        if self.instance.is_empty() || self.instance.contains('\n') {
            return Err(EtcdConfigError::Instance(self.instance.clone()));
        }
        if self.address.contains('\n') {
            return Err(EtcdConfigError::Address(self.address.clone()));
        }
        if self.safety_margin.is_some_and(|margin| margin >= self.ttl) {
            return Err(EtcdConfigError::Margin);
        }
        if self.request_timeout.is_zero() {
            return Err(EtcdConfigError::RequestTimeout);
        }
        Ok(())
    }
}

/// Why [`EtcdBackend::connect`] refused its options.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EtcdConfigError {
    /// No endpoint was given.
    #[error("no etcd endpoint given")]
    NoEndpoints,
    /// The instance id is empty or spans lines.
    #[error("the instance id {0:?} must be one non-empty line")]
    Instance(String),
    /// The address spans lines.
    #[error("the address {0:?} must be one line")]
    Address(String),
    /// The safety margin is not shorter than the TTL.
    #[error("the safety margin must be shorter than the lease's TTL")]
    Margin,
    /// The request time-out is zero.
    #[error("the request time-out must not be zero")]
    RequestTimeout,
}

/// Why [`EtcdBackend::connect`] failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The options are invalid.
    #[error(transparent)]
    Config(#[from] EtcdConfigError),
    /// etcd granted no lease (it is unreachable, or refused).
    #[error("etcd granted no lease")]
    Lease(#[source] BackendError),
}

/// Names on etcd: a name is the key `PREFIX/names/NAME`, created only if absent, under
/// this instance's lease; its create revision is the fencing token.
///
/// [`connect`](EtcdBackend::connect) takes a lease and keeps it alive from a task of its
/// own until [`revoke`](NameBackend::revoke) or until the last clone is dropped (then the
/// lease runs out on etcd by itself). Cheap to clone.
#[derive(Clone)]
pub struct EtcdBackend {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    options: EtcdOptions,
    /// The lease held now, if any, and its generation.
    lease: watch::Receiver<Held>,
    state: watch::Receiver<LeaseState>,
    /// Closed when the backend is revoked or dropped: the keep-alive task ends.
    stop: watch::Sender<bool>,
    /// Serialises a revoke with itself.
    revoking: Mutex<()>,
}

#[derive(Clone, Copy)]
struct Held {
    id: i64,
    generation: u64,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

impl EtcdBackend {
    /// Connects to etcd and takes a lease for this instance. Fails if the options are
    /// invalid, or if etcd grants no lease within the request time-out.
    ///
    /// Needs a tokio runtime: the lease is kept alive from a task spawned on it.
    pub async fn connect(options: EtcdOptions) -> Result<EtcdBackend, ConnectError> {
        options.check()?;
        let connect = ConnectOptions::new().with_connect_timeout(options.request_timeout);
        let client = Client::connect(&options.endpoints, Some(connect))
            .await
            .map_err(|e| ConnectError::Lease(BackendError::engine(e)))?;
        let mut grant_client = client.clone();
        let first = grant(&mut grant_client, &options)
            .await
            .map_err(ConnectError::Lease)?;
        let (lease_tx, lease) = watch::channel(Held {
            id: first.id,
            generation: 1,
        });
        let (state_tx, state) = watch::channel(LeaseState::Connected { generation: 1 });
        let (stop, stop_rx) = watch::channel(false);
        let keeper = KeepAlive {
            client: client.clone(),
            options: options.clone(),
            lease: lease_tx,
            state: state_tx,
            stop: stop_rx,
        };
        tokio::spawn(keeper.run(first));
        Ok(EtcdBackend {
            inner: Arc::new(Inner {
                client,
                options,
                lease,
                state,
                stop,
                revoking: Mutex::new(()),
            }),
        })
    }

    /// The options it was connected with.
    pub fn options(&self) -> &EtcdOptions {
        &self.inner.options
    }

    /// The etcd key of `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}/names/{name}", self.inner.options.prefix)
    }

    fn record(&self) -> String {
        let options = &self.inner.options;
        format!("{RECORD_TAG}\n{}\n{}", options.instance, options.address)
    }

    /// The lease to take names under: the current one, unless it is lost or revoked.
    fn current_lease(&self) -> Result<Held, BackendError> {
        match *self.inner.state.borrow() {
            LeaseState::Closed => return Err(BackendError::Closed),
            LeaseState::Lost { .. } => return Err(BackendError::NoLease),
            LeaseState::Connected { .. } | LeaseState::Unreachable { .. } => {}
        }
        Ok(*self.inner.lease.borrow())
    }

    async fn request<T>(
        &self,
        call: impl Future<Output = Result<T, etcd_client::Error>>,
    ) -> Result<T, BackendError> {
        let limit = self.inner.options.request_timeout;
        match timeout(limit, call).await {
            Ok(answer) => answer.map_err(BackendError::engine),
            Err(_) => Err(BackendError::Timeout(limit)),
        }
    }
}

impl std::fmt::Debug for EtcdBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdBackend")
            .field("instance", &self.inner.options.instance)
            .field("endpoints", &self.inner.options.endpoints)
            .field("lease", &*self.inner.state.borrow())
            .finish()
    }
}

fn owner_of(key: &str, kv: &etcd_client::KeyValue) -> Result<RemoteOwner, BackendError> {
    let malformed = |reason| BackendError::Malformed {
        key: key.to_string(),
        reason,
    };
    let value = std::str::from_utf8(kv.value()).map_err(|_| malformed("not UTF-8"))?;
    let mut lines = value.splitn(3, '\n');
    if lines.next() != Some(RECORD_TAG) {
        return Err(malformed("no bough-name/1 tag"));
    }
    let instance = lines.next().ok_or_else(|| malformed("no instance"))?;
    let address = lines.next().unwrap_or("");
    let token = u64::try_from(kv.create_revision()).map_err(|_| malformed("bad revision"))?;
    Ok(RemoteOwner {
        instance: instance.to_string(),
        address: address.to_string(),
        token,
    })
}

impl NameBackend for EtcdBackend {
    async fn acquire(&self, name: &str) -> Result<Claim, BackendError> {
        let held = self.current_lease()?;
        let key = self.key(name);
        // One round trip: create if absent, else read who has it.
        let txn = Txn::new()
            .when([Compare::create_revision(key.as_str(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(
                key.as_str(),
                self.record(),
                Some(PutOptions::new().with_lease(held.id)),
            )])
            .or_else([TxnOp::get(key.as_str(), None)]);
        let mut client = self.inner.client.clone();
        let answer = self.request(client.txn(txn)).await?;
        if answer.succeeded() {
            let revision = answer.header().map_or(0, |header| header.revision());
            let token = u64::try_from(revision).map_err(|_| BackendError::Malformed {
                key,
                reason: "bad revision",
            })?;
            return Ok(Claim::Won {
                token,
                lease: held.generation,
            });
        }
        let kv = answer.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Get(mut get) => get.take_kvs().into_iter().next(),
            _ => None,
        });
        // Deleted between the compare and the read cannot happen inside one txn; a
        // missing key here means etcd answered something unexpected.
        let kv = kv.ok_or_else(|| BackendError::Malformed {
            key: key.clone(),
            reason: "txn failed but no key was read",
        })?;
        let owner = owner_of(&key, &kv)?;
        if kv.lease() == held.id {
            // Ours already, under this lease: a release after an exit has not gone
            // through yet. The name is still held, so its token stands.
            return Ok(Claim::Won {
                token: owner.token,
                lease: held.generation,
            });
        }
        Ok(Claim::Held(owner))
    }

    async fn owner(&self, name: &str) -> Result<Option<RemoteOwner>, BackendError> {
        let key = self.key(name);
        let mut client = self.inner.client.clone();
        let mut answer = self.request(client.get(key.as_str(), None)).await?;
        answer
            .take_kvs()
            .first()
            .map(|kv| owner_of(&key, kv))
            .transpose()
    }

    async fn release(&self, name: &str, token: u64) -> Result<bool, BackendError> {
        let key = self.key(name);
        let revision = i64::try_from(token).map_err(|_| BackendError::Malformed {
            key: key.clone(),
            reason: "token out of range",
        })?;
        let txn = Txn::new()
            .when([Compare::create_revision(
                key.as_str(),
                CompareOp::Equal,
                revision,
            )])
            .and_then([TxnOp::delete(key.as_str(), None)]);
        let mut client = self.inner.client.clone();
        Ok(self.request(client.txn(txn)).await?.succeeded())
    }

    async fn revoke(&self) -> Result<(), BackendError> {
        let _one_at_a_time = self.inner.revoking.lock().await;
        if *self.inner.state.borrow() == LeaseState::Closed {
            return Ok(());
        }
        let held = *self.inner.lease.borrow();
        // Stop renewing first: a renewal racing the revoke would be refused anyway.
        self.inner.stop.send_replace(true);
        let mut client = self.inner.client.clone();
        let revoked = self.request(client.lease_revoke(held.id)).await;
        // Closed either way: a lease that could not be revoked runs out within its TTL.
        let mut state = self.inner.state.clone();
        let _ = state.wait_for(|state| *state == LeaseState::Closed).await;
        match revoked {
            Ok(_) => {
                tracing::info!(
                    target: "bough_etcd",
                    instance = %self.inner.options.instance,
                    "lease revoked: this instance's names are free"
                );
                Ok(())
            }
            Err(error) => Err(error),
        }
    }

    fn lease(&self) -> watch::Receiver<LeaseState> {
        self.inner.state.clone()
    }

    fn instance(&self) -> &str {
        &self.inner.options.instance
    }
}

/// A lease as granted: its id, and until when (at most) it holds, on this machine's
/// monotonic clock, minus the safety margin.
struct Granted {
    id: i64,
    holds_until: Instant,
}

/// Asks etcd for a lease. The deadline counts from before the request was sent: etcd's
/// own countdown starts later, when it receives it.
async fn grant(client: &mut Client, options: &EtcdOptions) -> Result<Granted, BackendError> {
    let sent = Instant::now();
    let answer = match timeout(
        options.request_timeout,
        client.lease_grant(options.ttl_seconds(), None),
    )
    .await
    {
        Ok(answer) => answer.map_err(BackendError::engine)?,
        Err(_) => return Err(BackendError::Timeout(options.request_timeout)),
    };
    let ttl = Duration::from_secs(answer.ttl().unsigned_abs());
    Ok(Granted {
        id: answer.id(),
        holds_until: sent + ttl - options.margin_for(ttl),
    })
}

/// The task that renews the lease, notices when it is lost, and asks for a new one.
struct KeepAlive {
    client: Client,
    options: EtcdOptions,
    lease: watch::Sender<Held>,
    state: watch::Sender<LeaseState>,
    stop: watch::Receiver<bool>,
}

/// How one renewal went.
enum Renewal {
    /// etcd renewed the lease for `ttl` from a moment after `sent`.
    Renewed {
        /// When the renewal was sent, on this machine's monotonic clock.
        sent: Instant,
        /// The TTL etcd gave the lease.
        ttl: Duration,
    },
    /// etcd no longer knows the lease: it ran out or was revoked.
    Gone,
}

impl KeepAlive {
    async fn run(mut self, first: Granted) {
        let mut granted = first;
        let mut generation = 1;
        loop {
            if self.keep(&granted, generation).await.is_err() {
                self.state.send_replace(LeaseState::Closed);
                return;
            }
            tracing::warn!(
                target: "bough_etcd",
                instance = %self.options.instance,
                generation,
                "lease lost: the children holding this instance's names are stopped"
            );
            self.state.send_replace(LeaseState::Lost { generation });
            match self.regrant().await {
                Some(next) => granted = next,
                None => {
                    self.state.send_replace(LeaseState::Closed);
                    return;
                }
            }
            generation += 1;
            self.lease.send_replace(Held {
                id: granted.id,
                generation,
            });
            self.state
                .send_replace(LeaseState::Connected { generation });
            tracing::info!(
                target: "bough_etcd",
                instance = %self.options.instance,
                generation,
                "new lease granted"
            );
        }
    }

    /// Renews `granted` until it is lost (`Ok`) or the backend stops (`Err`).
    async fn keep(&mut self, granted: &Granted, generation: u64) -> Result<(), ()> {
        let interval = self.options.keep_alive_interval();
        let mut holds_until = granted.holds_until;
        let mut stream: Option<(LeaseKeeper, LeaseKeepAliveStream)> = None;
        let mut next = Instant::now() + interval;
        loop {
            let mut client = self.client.clone();
            let limit = self.options.request_timeout.min(interval);
            let renew = async {
                sleep_until(next).await;
                timeout(limit, renew(&mut client, &mut stream, granted.id)).await
            };
            tokio::select! {
                biased;
                _ = self.stop.wait_for(|stop| *stop) => return Err(()),
                () = sleep_until(holds_until) => return Ok(()),
                outcome = renew => match outcome {
                    Ok(Ok(Renewal::Renewed { sent, ttl })) => {
                        holds_until = sent + ttl - self.options.margin_for(ttl);
                        self.state.send_if_modified(|state| {
                            let connected = LeaseState::Connected { generation };
                            let changed = *state != connected;
                            *state = connected;
                            changed
                        });
                        next = Instant::now() + interval;
                    }
                    Ok(Ok(Renewal::Gone)) => return Ok(()),
                    Ok(Err(_)) | Err(_) => {
                        // A broken stream is opened again on the next try.
                        stream = None;
                        let left = holds_until.saturating_duration_since(Instant::now());
                        self.state.send_if_modified(|state| {
                            if matches!(state, LeaseState::Connected { .. }) {
                                *state = LeaseState::Unreachable { generation, left };
                                true
                            } else {
                                false
                            }
                        });
                        // Try again soon, not at once: etcd may be down for a while.
                        next = Instant::now() + interval / 2;
                    }
                }
            }
        }
    }

    /// Asks for a new lease until one is granted (`Some`) or the backend stops (`None`).
    async fn regrant(&mut self) -> Option<Granted> {
        let retry = self.options.keep_alive_interval();
        loop {
            let mut client = self.client.clone();
            let granted = tokio::select! {
                biased;
                _ = self.stop.wait_for(|stop| *stop) => return None,
                granted = grant(&mut client, &self.options) => granted,
            };
            if let Ok(granted) = granted {
                return Some(granted);
            }
            tokio::select! {
                _ = self.stop.wait_for(|stop| *stop) => return None,
                () = sleep(retry) => {}
            }
        }
    }
}

/// One renewal on the keep-alive stream, opened first if needed.
async fn renew(
    client: &mut Client,
    stream: &mut Option<(LeaseKeeper, LeaseKeepAliveStream)>,
    id: i64,
) -> Result<Renewal, etcd_client::Error> {
    let sent = Instant::now();
    let (keeper, answers) = match stream {
        Some(open) => open,
        None => stream.insert(client.lease_keep_alive(id).await?),
    };
    keeper.keep_alive().await?;
    let answer = answers.message().await?.ok_or_else(|| {
        etcd_client::Error::LeaseKeepAliveError("the keep-alive stream ended".to_string())
    })?;
    if answer.ttl() <= 0 {
        return Ok(Renewal::Gone);
    }
    Ok(Renewal::Renewed {
        sent,
        ttl: Duration::from_secs(answer.ttl().unsigned_abs()),
    })
}
