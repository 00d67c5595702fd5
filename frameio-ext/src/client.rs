//! The V4 API client: [`Client`], configured with a [`ClientBuilder`].
//!
//! Every operation of the API is a method of [`Client`] (generated from the
//! spec, see [`ops`](crate::ops)) that returns a call builder; `.send().await`
//! (or just `.await`) sends it through the client's transport (credentials,
//! pacing, retries) and returns [`Result`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::{Credentials, TokenProvider};
use crate::config::{Config, config_setters};
use crate::error::{Error, Result};
use crate::rate_limit::{RateLimitStatus, RateLimiting};
use crate::retry::RetryPolicy;
use crate::transport::{ApiProfile, Transport};
use crate::upload::Uploader;

pub use crate::config::{DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_USER_AGENT};

/// How long one attempt may take, by default, from sending to the end of the
/// response headers and body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A Frame.io V4 API client. Cheap to clone: clones share the connection
/// pool, the rate limiter and the credentials.
///
/// Every operation is a method that returns a call builder: set its
/// parameters, then `.send().await` (or `.await`) it. Around each call the
/// client
///
/// * authenticates: `Authorization: Bearer <token>` from the
///   [`Credentials`], plus `x-frameio-legacy-token-auth: true` for a legacy
///   developer token; after a 401 it asks the provider to
///   [`invalidate`](TokenProvider::invalidate) the token and retries once if
///   it then hands out a different one;
/// * paces calls to each operation's rate limit, learnt from the server's
///   `x-ratelimit-*` headers ([`RateLimiting`]), and records the last ones
///   ([`Client::last_rate_limit`]);
/// * retries under its [`RetryPolicy`] (see [`retry`](crate::retry)): a 429
///   always; a 408, 5xx, timeout or lost connection only for calls that are
///   safe to repeat; a connection that could not be opened always;
/// * traces one `frameio.request` span per call (operation, method, path
///   template, attempt, status, latency; never a token or query string);
/// * makes every error answer an [`ApiError`](crate::error::ApiError) with
///   its status, envelope, request id, rate-limit headers and attempt count.
///
/// ```no_run
/// use std::time::Duration;
/// use frameio_ext::{Client, RetryPolicy};
///
/// # async fn run() -> frameio_ext::Result<()> {
/// let client = Client::builder()
///     .bearer_token(std::env::var("FRAMEIO_TOKEN").unwrap_or_default())
///     .user_agent("dailies-sync/2.1")
///     .timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::api().max_attempts(6))
///     .build()?;
/// let accounts = client.accounts_index().await?;
/// println!("{} accounts; {:?}", accounts.data.len(), client.last_rate_limit());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    api: frameio_gen::v4::Client,
    transport: Arc<Transport>,
    uploader: Uploader,
}

impl Client {
    /// A builder with the defaults: `https://api.frame.io`, 10 s to connect,
    /// 60 s per attempt, [`RetryPolicy::api`], [`RateLimiting::new`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        frameio_gen::ClientInfo::baseurl(&self.inner.api)
    }

    /// The uploader file bytes are sent with.
    pub fn uploader(&self) -> &Uploader {
        &self.inner.uploader
    }

    /// What the most recent response carrying `x-ratelimit-*` headers said,
    /// and for which operation.
    pub fn last_rate_limit(&self) -> Option<RateLimitStatus> {
        self.inner.transport.last_rate_limit()
    }

    /// The generated client the call builders wrap.
    pub(crate) fn raw(&self) -> &frameio_gen::v4::Client {
        &self.inner.api
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field("credentials", self.inner.transport.credentials())
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]; from [`Client::builder`]. Only the credentials
/// are required.
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    config: Config,
    credentials: Option<Credentials>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self { config: Config::new(DEFAULT_TIMEOUT, RetryPolicy::api(), RateLimiting::new()), credentials: None }
    }
}

impl ClientBuilder {
    config_setters!();

    /// How requests authenticate (required).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Shorthand for `credentials(Credentials::bearer(token))`.
    pub fn bearer_token(self, token: impl Into<String>) -> Self {
        self.credentials(Credentials::bearer(token))
    }

    /// Shorthand for `credentials(Credentials::provider(provider))`.
    pub fn token_provider(self, provider: impl TokenProvider) -> Self {
        self.credentials(Credentials::provider(provider))
    }

    /// The client; fails if no credentials were given, or if the base URL or
    /// user agent is invalid.
    pub fn build(self) -> Result<Client> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::Config("no credentials: call `credentials(...)` (or `bearer_token`) on the builder".to_string())
        })?;
        let base_url = self.config.checked_base_url()?;
        let transport = Arc::new(Transport::new(
            credentials,
            self.config.user_agent()?,
            self.config.timeout,
            self.config.retry,
            self.config.rate_limiting,
            ApiProfile::default(),
        ));
        let hooks = frameio_gen::Hooks::new(Arc::clone(&transport) as Arc<dyn frameio_gen::Middleware>);
        let api = frameio_gen::v4::Client::new_with_client(&base_url, self.config.http()?, hooks);
        Ok(Client { inner: Arc::new(Inner { api, transport, uploader: self.config.uploader()? }) })
    }
}
