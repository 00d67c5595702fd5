//! The API client: [`Client`], configured with a [`ClientBuilder`].
//!
//! A `Client` is the generated `frameio_gen::v4::Client` (every operation,
//! reachable through `Deref`) with the crate's middleware installed around
//! each request; see [`Client`] for what that middleware does.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use frameio_gen::ClientInfo;
use reqwest::header::HeaderValue;

use crate::auth::{Credentials, TokenProvider};
use crate::error::{Error, Result};
use crate::middleware::{ApiProfile, Pipeline};
use crate::rate_limit::{RateLimitStatus, RateLimiting};
use crate::retry::RetryPolicy;
use crate::upload::Uploader;

/// Where the V4 API lives.
pub const DEFAULT_BASE_URL: &str = "https://api.frame.io";
/// The `User-Agent` sent unless [`ClientBuilder::user_agent`] says otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("frameio-rs/", env!("CARGO_PKG_VERSION"));
/// How long opening a connection may take, by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one attempt may take, by default, from sending to the end of the
/// response headers and body.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A Frame.io V4 API client. Cheap to clone: clones share the connection
/// pool, the rate limiter and the credentials.
///
/// Every generated operation is a method (through `Deref` to
/// [`frameio_gen::v4::Client`]): build the call, `send()` it, and `?` turns
/// its error into the crate's [`Error`]. Around each call the client
///
/// * authenticates: `Authorization: Bearer <token>` from the
///   [`Credentials`], plus `x-frameio-legacy-token-auth: true` for a legacy
///   developer token; after a 401 it asks the provider to
///   [`invalidate`](TokenProvider::invalidate) the token and retries once if
///   it then hands out a different one;
/// * paces calls to each operation's documented rate limit
///   ([`RateLimiting`]) and records the `x-ratelimit-*` headers of every
///   response ([`Client::last_rate_limit`]);
/// * retries under its [`RetryPolicy`]: a 429 always; a 408, 500, 502, 503,
///   504, timeout or lost connection only for GET, HEAD, PUT and DELETE (a
///   POST or PATCH may have been acted on); a connection that could not be
///   opened always. A request whose body cannot be replayed (a stream) is
///   never retried;
/// * traces one `frameio.request` span per call (operation, method, path
///   template, attempt, status, latency; never a token or query string);
/// * makes every error answer an [`ApiError`](crate::error::ApiError) with
///   its status, even when the body is not Frame.io's error envelope.
///
/// ```no_run
/// use std::time::Duration;
/// use frameio_ext::{Client, Credentials, RetryPolicy};
///
/// # async fn run() -> frameio_ext::Result<()> {
/// let client = Client::builder()
///     .credentials(Credentials::bearer(std::env::var("FRAMEIO_TOKEN").unwrap_or_default()))
///     .user_agent("dailies-sync/2.1")
///     .timeout(Duration::from_secs(30))
///     .retry_policy(RetryPolicy::new().max_attempts(6))
///     .build()?;
/// let accounts = client.accounts_index().send().await?;
/// println!("{} accounts; {:?}", accounts.data.len(), client.last_rate_limit());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    api: frameio_gen::v4::Client,
    pipeline: Arc<Pipeline>,
    uploader: Uploader,
}

impl Client {
    /// A builder with the defaults: `https://api.frame.io`, 10 s to connect,
    /// 60 s per attempt, [`RetryPolicy::new`], [`RateLimiting::new`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The generated client, with this client's middleware installed (also
    /// reachable through `Deref`).
    pub fn api(&self) -> &frameio_gen::v4::Client {
        &self.inner.api
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.inner.api.baseurl()
    }

    /// The uploader [`Client::uploads`] sends file bytes with.
    pub fn uploader(&self) -> &Uploader {
        &self.inner.uploader
    }

    /// What the most recent response carrying `x-ratelimit-*` headers said,
    /// and for which operation.
    pub fn last_rate_limit(&self) -> Option<RateLimitStatus> {
        self.inner.pipeline.last_rate_limit()
    }
}

impl Deref for Client {
    type Target = frameio_gen::v4::Client;

    fn deref(&self) -> &Self::Target {
        &self.inner.api
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field("credentials", self.inner.pipeline.credentials())
            .finish_non_exhaustive()
    }
}

/// Configures a [`Client`]; from [`Client::builder`].
///
/// Only the credentials are required.
#[derive(Debug)]
pub struct ClientBuilder {
    base_url: String,
    credentials: Option<Credentials>,
    user_agent: String,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    rate_limiting: RateLimiting,
    http_client: Option<reqwest::Client>,
    uploader: Option<Uploader>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            credentials: None,
            user_agent: DEFAULT_USER_AGENT.to_string(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::new(),
            rate_limiting: RateLimiting::new(),
            http_client: None,
            uploader: None,
        }
    }
}

impl ClientBuilder {
    /// Where the API lives (scheme, host, optional port and path stem).
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

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

    /// The `User-Agent` header, replacing `frameio-rs/<version>`; name your
    /// application so Frame.io can tell its traffic apart.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// How long opening a connection may take. Not applied to a client given
    /// to [`http_client`](Self::http_client), which keeps its own.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long each attempt may take, response body included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When and how long to retry.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Client-side pacing to the documented rate limits (on by default).
    pub fn rate_limiting(mut self, rate_limiting: RateLimiting) -> Self {
        self.rate_limiting = rate_limiting;
        self
    }

    /// The `reqwest::Client` to send with, for proxies, custom TLS roots or a
    /// shared connection pool. Its default headers and timeouts stay; this
    /// builder's user agent and per-attempt timeout are set on each request.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// The [`Uploader`] that sends file bytes to storage (concurrency, buffers,
    /// part retries); [`Uploader::builder`]'s defaults otherwise.
    pub fn uploader(mut self, uploader: Uploader) -> Self {
        self.uploader = Some(uploader);
        self
    }

    /// The client; fails if no credentials were given, or if the base URL or
    /// user agent is invalid.
    pub fn build(self) -> Result<Client> {
        let Parts { base_url, http, pipeline, uploader } = self.into_parts(ApiProfile::default())?;
        let hooks = frameio_gen::Hooks::new(Arc::clone(&pipeline) as Arc<dyn frameio_gen::Middleware>);
        let api = frameio_gen::v4::Client::new_with_client(&base_url, http, hooks);
        Ok(Client { inner: Arc::new(Inner { api, pipeline, uploader }) })
    }

    /// The checked configuration and the middleware for an API with
    /// `profile`: what [`build`](Self::build) and the C2C client's builder
    /// make their generated clients from.
    pub(crate) fn into_parts(self, profile: ApiProfile) -> Result<Parts> {
        let credentials = self.credentials.ok_or_else(|| {
            Error::Config("no credentials: call `credentials(...)` (or `bearer_token`) on the builder".to_string())
        })?;
        let base_url = self.base_url.trim_end_matches('/');
        match reqwest::Url::parse(base_url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.query().is_none() => {}
            _ => return Err(Error::Config(format!("the base URL {base_url:?} is not an http(s) URL without a query"))),
        }
        let user_agent = HeaderValue::try_from(self.user_agent.as_str())
            .map_err(|_| Error::Config(format!("the user agent {:?} is not a valid header value", self.user_agent)))?;
        let http = match self.http_client {
            Some(http) => http,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .build()
                .map_err(|e| Error::Config(format!("the HTTP client could not be set up: {e}")))?,
        };
        let pipeline = Pipeline::new(credentials, user_agent, self.timeout, self.retry, self.rate_limiting);
        let uploader = match self.uploader {
            Some(uploader) => uploader,
            None => Uploader::builder()
                .build()
                .map_err(|e| Error::Config(format!("the uploader could not be set up: {e}")))?,
        };
        Ok(Parts { base_url: base_url.to_string(), http, pipeline: Arc::new(pipeline.with_profile(profile)), uploader })
    }
}

/// What a generated client is built from (see [`ClientBuilder::into_parts`]).
pub(crate) struct Parts {
    pub(crate) base_url: String,
    pub(crate) http: reqwest::Client,
    pub(crate) pipeline: Arc<Pipeline>,
    pub(crate) uploader: Uploader,
}
