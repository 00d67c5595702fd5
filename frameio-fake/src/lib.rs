//! An embedded fake Frame.io: the V4 API, S3-style upload and download storage
//! and webhook deliveries, served over real HTTP on 127.0.0.1 from inside the
//! test (or demo) process, on the current tokio runtime.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use frameio_fake::Fake;
//!
//! let fake = Fake::start().await?;
//! let account = fake.seed().account("Acme");
//! let project = account.workspace("Post").project("Launch");
//! let file = project.root().folder("Dailies").file("A001.mov", b"not really a movie".to_vec());
//!
//! let me: serde_json::Value = reqwest::Client::new()
//!     .get(format!("{}/v4/me", fake.base_url()))
//!     .bearer_auth(fake.token())
//!     .send()
//!     .await
//!     .unwrap()
//!     .json()
//!     .await
//!     .unwrap();
//! assert_eq!(me["data"]["email"], "user@fake.frame.io");
//! assert_eq!(fake.requests()[0].path, "/v4/me");
//! # let _ = file;
//! # Ok(()) }
//! ```
//!
//! What each module owns: `state` (the world and how it changes), `seed` (the
//! typed seeding API, [`Seed`]), `api` (routing by the operation table and the V4
//! handlers), `c2c` (the device API: pairing, tokens, heartbeats, assets, real-time uploads, the
//! realtime socket), `views` (records as the generated wire types), [`pagination`],
//! [`storage`] (pre-signed uploads, ranged downloads), [`webhooks`], [`faults`],
//! [`rate_limit`], [`record`] (the request log), `message` (the requests and
//! replies the handlers speak), `paths` (where storage lives on the server),
//! `pattern` (deterministic ids and seeded bytes) and `server` (the HTTP loop).
//!
//! **Paused clock.** Everything the fake waits for (fault delays, transcode delays,
//! webhook retries, URL expiry, rate-limit buckets) runs on tokio's clock, so a test
//! with `start_paused = true` can advance through it. Two things cannot follow a
//! paused clock: timestamps in bodies (`created_at`, `X-Frameio-Request-Timestamp`)
//! are wall-clock time, and a webhook subscriber's answer races the delivery
//! timeout, because tokio advances a paused clock whenever every task waits, even on
//! sockets; give paused tests a long [`DeliveryPolicy::timeout`].

pub mod faults;
pub mod pagination;
pub mod rate_limit;
pub mod record;

pub mod storage;
pub mod webhooks;

mod api;
mod c2c;
mod message;
mod paths;
mod pattern;
mod seed;
mod server;
mod state;
mod views;

use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::watch;

pub use c2c::{IssuedTokens, Pairing, SocketActivity};
pub use faults::{Fault, FaultKind, Target};
pub use pattern::patterned_bytes;
pub use rate_limit::RateLimits;
pub use record::{RecordedRequest, RecordedResponse};
pub use seed::{
    AccountSeed, Demo, DeviceSeed, FileSeed, FolderSeed, PartUrl, ProjectSeed, Seed, UploadSeed, WorkspaceSeed,
};
pub use webhooks::{Delivery, DeliveryPolicy};

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The operation name recorded for (and faults target) part uploads to the fake's storage.
pub const STORAGE_UPLOAD: &str = "storage.upload_part";
/// The operation name recorded for (and faults target) downloads from the fake's storage.
pub const STORAGE_DOWNLOAD: &str = "storage.download";

/// The operation name recorded for (and faults target) upgrades to the C2C realtime socket.
pub const C2C_SOCKET: &str = "c2c.socket";

/// The bearer token a fake accepts unless told otherwise.
pub const DEFAULT_TOKEN: &str = "fake-frameio-token";

/// Settings that can change while the fake runs.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub part_size: u64,
    pub max_file_size: u64,
    pub max_body: u64,
    pub record_body_limit: u64,
    pub transcode_delay: Option<Duration>,
    pub ignore_range: bool,
    pub delivery: DeliveryPolicy,
    /// How long a C2C socket may go without a heartbeat.
    pub socket_timeout: Duration,
}

/// The state a running fake shares between its connections and its handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub base_url: String,
    pub store: Mutex<state::Store>,
    config: Mutex<Config>,
    faults: Mutex<faults::Faults>,
    pub buckets: Mutex<rate_limit::Buckets>,
    pub signer: Mutex<storage::Signer>,
    log: Mutex<Vec<RecordedRequest>>,
    /// How many requests were recorded so far (the next one's `seq`).
    recorded: std::sync::atomic::AtomicU64,
    deliveries: Mutex<Vec<Delivery>>,
    pub tokens: Mutex<HashSet<String>>,
    pub c2c: Mutex<c2c::C2c>,
    pub connections: AtomicUsize,
    in_flight: watch::Sender<usize>,
    shutdown: watch::Sender<bool>,
    http: reqwest::Client,
}

/// A poisoned lock only means a panic elsewhere; the data is still usable.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub fn lock_store(&self) -> MutexGuard<'_, state::Store> {
        lock(&self.store)
    }

    pub fn lock_config(&self) -> MutexGuard<'_, Config> {
        lock(&self.config)
    }

    pub fn lock_faults(&self) -> MutexGuard<'_, faults::Faults> {
        lock(&self.faults)
    }

    /// Logs a request; returns its `seq`, for [`Self::answered`].
    pub fn record(&self, mut request: RecordedRequest) -> u64 {
        request.seq = self.recorded.fetch_add(1, Ordering::SeqCst);
        let seq = request.seq;
        lock(&self.log).push(request);
        seq
    }

    /// Attaches the answer to the logged request `seq` (if the log still has it).
    pub fn answered(&self, seq: u64, response: record::RecordedResponse) {
        if let Some(request) = lock(&self.log).iter_mut().rev().find(|r| r.seq == seq) {
            request.response = Some(response);
        }
    }

    /// Runs `task` until it ends or the fake is dropped.
    pub fn spawn(self: Arc<Self>, task: impl Future<Output = ()> + Send + 'static) {
        let mut shutdown = self.shutdown.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                () = task => {}
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
        });
    }

    /// Delivers `events` to the webhooks subscribed to them, and transcodes newly uploaded files.
    pub fn emit(self: &Arc<Self>, events: Vec<webhooks::Event>) {
        for event in events {
            if event.kind == "file.upload.completed" {
                let shared = Arc::clone(self);
                let file_id = event.resource_id.clone();
                let delay = self.lock_config().transcode_delay;
                if let Some(delay) = delay {
                    Arc::clone(self).spawn(async move {
                        tokio::time::sleep(delay).await;
                        let ready = shared.lock_store().transcode(&file_id);
                        shared.emit(ready);
                    });
                } else {
                    let ready = self.lock_store().transcode(&file_id);
                    self.emit(ready);
                }
            }
            let jobs: Vec<webhooks::Job> = self
                .lock_store()
                .webhooks
                .iter()
                .filter(|w| w.active && w.account_id == event.account_id && w.workspace_id == event.workspace_id)
                .filter(|w| w.events.iter().any(|e| e == event.kind))
                .map(|w| webhooks::Job {
                    webhook_id: w.id.clone(),
                    url: w.url.clone(),
                    secret: w.secret.clone(),
                    event: event.clone(),
                })
                .collect();
            let policy = self.lock_config().delivery;
            for job in jobs {
                self.in_flight.send_modify(|n| *n += 1);
                let shared = Arc::clone(self);
                let client = self.http.clone();
                Arc::clone(self).spawn(async move {
                    let recorder = Arc::clone(&shared);
                    webhooks::deliver(client, policy, job, move |d| lock(&recorder.deliveries).push(d)).await;
                    shared.in_flight.send_modify(|n| *n = n.saturating_sub(1));
                });
            }
        }
    }
}

/// How to start a [`Fake`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// use frameio_fake::{Fake, RateLimits};
///
/// let fake = Fake::builder()
///     .token("tok-for-this-test")
///     .part_size(1024)
///     .transcode_delay(Duration::from_secs(2))
///     .rate_limits(RateLimits::documented().enforced())
///     .start()
///     .await?;
/// assert_eq!(fake.token(), "tok-for-this-test");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FakeBuilder {
    token: String,
    config: Config,
    rate_limits: RateLimits,
    url_ttl: Duration,
    demo: bool,
    pairing: Pairing,
    client_secrets: Vec<String>,
}

impl Default for FakeBuilder {
    fn default() -> Self {
        Self {
            token: DEFAULT_TOKEN.to_string(),
            config: Config {
                part_size: 20 * 1024 * 1024,
                max_file_size: 512 * 1024 * 1024,
                max_body: 1024 * 1024,
                record_body_limit: 4 * 1024 * 1024,
                transcode_delay: None,
                ignore_range: false,
                delivery: DeliveryPolicy::default(),
                socket_timeout: c2c::DEFAULT_IDLE_TIMEOUT,
            },
            rate_limits: RateLimits::documented(),
            url_ttl: Duration::from_secs(3600),
            demo: false,
            pairing: Pairing::default(),
            client_secrets: Vec::new(),
        }
    }
}

impl FakeBuilder {
    /// The bearer token the fake accepts (default [`DEFAULT_TOKEN`]).
    pub fn token(mut self, token: &str) -> Self {
        self.token = token.to_string();
        self
    }

    /// The largest part a local upload is split into (default 20 MiB).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.config.part_size = bytes.max(1);
        self
    }

    /// The largest file a local upload may declare; the fake keeps every byte in
    /// memory (default 512 MiB).
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.config.max_file_size = bytes;
        self
    }

    /// The largest API request body read (default 1 MiB); a larger one is a 413.
    pub fn max_body(mut self, bytes: u64) -> Self {
        self.config.max_body = bytes;
        self
    }

    /// How much of each request body the log keeps (default 4 MiB).
    pub fn record_body_limit(mut self, bytes: u64) -> Self {
        self.config.record_body_limit = bytes;
        self
    }

    /// How long an uploaded file stays `uploaded` before it is `transcoded`
    /// (default: transcoded at once).
    pub fn transcode_delay(mut self, delay: Duration) -> Self {
        self.config.transcode_delay = Some(delay);
        self
    }

    /// Downloads answer 200 with the whole body, ignoring `Range` (default: honoured).
    pub fn ignore_range(mut self, ignore: bool) -> Self {
        self.config.ignore_range = ignore;
        self
    }

    /// Rate limits announced and, if enforced, applied.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// How webhooks are delivered (default: the documented retries and timeout).
    pub fn webhook_delivery(mut self, policy: DeliveryPolicy) -> Self {
        self.config.delivery = policy;
        self
    }

    /// How long pre-signed upload and download URLs stay valid (default 1 h, on tokio's clock).
    pub fn url_ttl(mut self, ttl: Duration) -> Self {
        self.url_ttl = ttl;
        self
    }

    /// C2C pairing: how long device codes last and the polling interval.
    pub fn c2c_pairing(mut self, pairing: Pairing) -> Self {
        self.pairing = pairing;
        self
    }

    /// Accepts this C2C `client_secret` (a device model's); once one is given, only
    /// the ones given are (default: any non-empty secret).
    pub fn c2c_client_secret(mut self, secret: &str) -> Self {
        self.client_secrets.push(secret.to_string());
        self
    }

    /// How long a C2C realtime socket may go without a heartbeat before the fake
    /// closes it (default 60 s, as Frame.io's; at most a day; tokio's clock).
    pub fn c2c_socket_timeout(mut self, timeout: Duration) -> Self {
        // Bounded, so that "now + timeout" cannot overflow the clock.
        self.config.socket_timeout = timeout.min(Duration::from_secs(24 * 3600));
        self
    }

    /// Seeds the [`Demo`] tree before serving.
    pub fn demo_data(mut self) -> Self {
        self.demo = true;
        self
    }

    /// Binds 127.0.0.1 on a free port and serves on the current tokio runtime.
    ///
    /// The workspace builds reqwest without a default TLS provider, so this
    /// makes `ring` the process's default rustls provider if none is set: the
    /// fake's webhook deliveries, and the `reqwest::Client`s a test builds,
    /// then work without more setup.
    pub async fn start(self) -> io::Result<Fake> {
        let _already_set = rustls::crypto::ring::default_provider().install_default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let http = reqwest::Client::builder().build().map_err(io::Error::other)?;
        let mut store = state::Store::new();
        let key = store.next_secret();
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            store: Mutex::new(store),
            config: Mutex::new(self.config),
            faults: Mutex::new(faults::Faults::default()),
            buckets: Mutex::new(rate_limit::Buckets::new(self.rate_limits)),
            signer: Mutex::new(storage::Signer::new(key, self.url_ttl)),
            log: Mutex::new(Vec::new()),
            recorded: std::sync::atomic::AtomicU64::new(0),
            deliveries: Mutex::new(Vec::new()),
            tokens: Mutex::new(HashSet::from([self.token.clone()])),
            c2c: Mutex::new(c2c::C2c::new(self.pairing, self.client_secrets)),
            connections: AtomicUsize::new(0),
            in_flight: watch::channel(0).0,
            shutdown: watch::channel(false).0,
            http,
        });
        Arc::clone(&shared).spawn(server::accept_loop(listener, Arc::clone(&shared)));
        let mut fake = Fake { addr, token: self.token, shared, demo: None };
        if self.demo {
            fake.demo = Some(fake.seed().demo());
        }
        Ok(fake)
    }
}

/// A running fake Frame.io; dropping it stops the server and everything it runs.
#[derive(Debug)]
pub struct Fake {
    addr: SocketAddr,
    token: String,
    shared: Arc<Shared>,
    demo: Option<Demo>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.shared.shutdown.send_replace(true);
    }
}

impl Fake {
    /// How to start a fake with settings of its own.
    pub fn builder() -> FakeBuilder {
        FakeBuilder::default()
    }

    /// A fake with the default settings and nothing in it.
    pub async fn start() -> io::Result<Self> {
        Self::builder().start().await
    }

    /// A fake with the [`Demo`] tree seeded ([`Fake::demo`] has its ids).
    pub async fn with_demo_data() -> io::Result<Self> {
        Self::builder().demo_data().start().await
    }

    /// `http://127.0.0.1:<port>`, the base URL of the API and of its storage.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The socket address the fake listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bearer token the fake accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Accepts another bearer token.
    pub fn accept_token(&self, token: &str) {
        lock(&self.shared.tokens).insert(token.to_string());
    }

    /// Stops accepting a token: requests with it get 401 from now on.
    pub fn revoke_token(&self, token: &str) {
        lock(&self.shared.tokens).remove(token);
    }

    /// The ids of the demo tree, if it was seeded.
    pub fn demo(&self) -> Option<&Demo> {
        self.demo.as_ref()
    }

    /// Seeds the fake's world, bypassing the API (no webhooks fire, nothing is recorded).
    pub fn seed(&self) -> Seed<'_> {
        Seed::new(&self.shared)
    }

    /// Queues a fault for the next request(s) matching `target`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// use frameio_fake::{Fake, Fault, Target};
    ///
    /// let fake = Fake::start().await?;
    /// fake.fault(Target::operation("users_show"), Fault::status(503).times(2));
    /// let status = |fake: &Fake| {
    ///     let request = reqwest::Client::new().get(format!("{}/v4/me", fake.base_url())).bearer_auth(fake.token());
    ///     async move { request.send().await.unwrap().status().as_u16() }
    /// };
    /// assert_eq!([status(&fake).await, status(&fake).await, status(&fake).await], [503, 503, 200]);
    /// # Ok(()) }
    /// ```
    pub fn fault(&self, target: Target, fault: Fault) {
        self.shared.lock_faults().push(target, fault);
    }

    /// How many scripted faults are still waiting for a request.
    pub fn pending_faults(&self) -> usize {
        self.shared.lock_faults().pending()
    }

    /// Drops every scripted fault not yet used.
    pub fn clear_faults(&self) {
        self.shared.lock_faults().clear();
    }

    /// How many TCP connections the fake has accepted.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Every request so far, in the order their bodies were read.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.log).clone()
    }

    /// The requests routed to `operation` (e.g. `files_show`, [`STORAGE_UPLOAD`]).
    pub fn requests_to(&self, operation: &str) -> Vec<RecordedRequest> {
        lock(&self.shared.log).iter().filter(|r| r.operation == Some(operation)).cloned().collect()
    }

    /// Forgets the requests recorded so far.
    pub fn clear_requests(&self) {
        lock(&self.shared.log).clear();
    }

    /// Every webhook delivery attempt so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.shared.deliveries).clone()
    }

    /// Waits until no webhook delivery (or retry) is in flight.
    pub async fn webhooks_settled(&self) {
        let mut in_flight = self.shared.in_flight.subscribe();
        let _ = in_flight.wait_for(|n| *n == 0).await;
    }

    /// The stored bytes of a file (uploaded or seeded), if it has any.
    pub fn file_bytes(&self, file_id: &str) -> Option<Bytes> {
        self.file_bytes_range(file_id, 0..u64::MAX)
    }

    /// Bytes `range` of a file's stored content (clamped to its size), if it has any;
    /// for a huge file seeded by size, only this range is generated.
    pub fn file_bytes_range(&self, file_id: &str, range: std::ops::Range<u64>) -> Option<Bytes> {
        let store = self.shared.lock_store();
        let file = store.assets.get(file_id)?.file()?;
        let (start, end) = (range.start.min(file.size), range.end.min(file.size));
        match &file.content {
            state::Content::None => None,
            state::Content::Bytes(bytes) => Some(bytes.slice(start as usize..end.max(start) as usize)),
            state::Content::Pattern { seed } => Some(Bytes::from(patterned_bytes(*seed, start..end))),
        }
    }

    /// A file's `status` (`created`, `uploaded`, `transcoded`), if the file exists.
    pub fn file_status(&self, file_id: &str) -> Option<&'static str> {
        let store = self.shared.lock_store();
        Some(views::status_name(store.assets.get(file_id)?.file()?.status))
    }

    /// Downloads answer 200 with the whole body, ignoring `Range`, while `ignore` is true.
    pub fn set_ignore_range(&self, ignore: bool) {
        self.shared.lock_config().ignore_range = ignore;
    }

    /// Changes how long uploaded files wait before they are transcoded (`None`: at once).
    pub fn set_transcode_delay(&self, delay: Option<Duration>) {
        self.shared.lock_config().transcode_delay = delay;
    }

    /// Pairs a pending C2C device code with a project, as a user entering `user_code`
    /// in Frame.io does; the device's next poll gets its tokens. False if no code has it.
    pub fn pair_device(&self, user_code: &str, project_id: &str) -> bool {
        lock(&self.shared.c2c).decide(user_code, Some(project_id.to_string()))
    }

    /// Denies a pending C2C device code (`access_denied` on the next poll).
    pub fn deny_device(&self, user_code: &str) -> bool {
        lock(&self.shared.c2c).decide(user_code, None)
    }

    /// A C2C device's live tokens, as the fake issued them last (after a pairing, a
    /// refresh or [`Seed::device`]); `None` once revoked.
    pub fn device_tokens(&self, device_id: &str) -> Option<IssuedTokens> {
        lock(&self.shared.c2c).tokens_of(device_id)
    }

    /// What C2C device `device_id`'s realtime sockets (`/devices/websocket`) did:
    /// sessions opened, channels joined now (the device is online while one is),
    /// heartbeats answered.
    pub fn device_socket(&self, device_id: &str) -> SocketActivity {
        lock(&self.shared.c2c).socket_activity(device_id)
    }

    /// Pauses C2C device `device_id`, as the C2C Connections panel does: its
    /// connection information says `paused`, creating an asset is `409 Channel
    /// Paused`, and its joined realtime sockets get `status_updated` `"paused"`.
    /// `false` if there is no such device.
    pub fn pause_device(&self, device_id: &str) -> bool {
        lock(&self.shared.c2c).set_paused(device_id, true)
    }

    /// Resumes a device [`Fake::pause_device`] paused (`status_updated` `"resumed"`).
    pub fn resume_device(&self, device_id: &str) -> bool {
        lock(&self.shared.c2c).set_paused(device_id, false)
    }

    /// The user codes of the C2C pairings waiting for [`Fake::pair_device`].
    pub fn pending_pairings(&self) -> Vec<String> {
        c2c::pending_user_codes(&lock(&self.shared.c2c))
    }

    /// Changes how long pre-signed URLs issued from now on stay valid.
    pub fn set_url_ttl(&self, ttl: Duration) {
        lock(&self.shared.signer).set_ttl(ttl);
    }

    /// Replaces the rate-limit configuration and empties every bucket.
    pub fn set_rate_limits(&self, limits: RateLimits) {
        lock(&self.shared.buckets).set_config(limits);
    }
}
