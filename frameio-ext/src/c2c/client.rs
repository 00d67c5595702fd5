//! The C2C client: [`C2cClient`], configured with a [`C2cClientBuilder`].
//!
//! A `C2cClient` has a method for every operation of the device API (see
//! [`ops`](super::ops)), sent through the same transport as the V4
//! [`Client`](crate::Client)'s (credentials, retries, tracing, error
//! envelopes) and built from the same configuration, adapted to the device API:
//!
//! * every call carries `x-client-version` ("Your device must supply its
//!   current firmware version with the `x-client-version` HTTP header whenever
//!   you call an endpoint at `https://api.frame.io`" — Integration
//!   Architecture > Firmware Versions), unless the call set it itself;
//! * the `/v2/auth/...` calls authenticate with the device's client id and
//!   secret in their form body, so they carry no bearer token, and a client
//!   built without credentials can still make them (to pair the device);
//! * the token call may take 2 minutes ("Authorization Refresh: 2 minutes to
//!   account for potential backend processing" — Handle Errors > Request
//!   Timeouts), every other call 15 s by default ("Default: 15 seconds for
//!   basic requests");
//! * each device code request goes out on a connection of its own, as the
//!   guide asks (Handle Errors > SlowDown);
//! * asset creation is never repeated by the middleware: its `offset` must be
//!   recomputed for each attempt, which [`C2cClient::create_asset`] does;
//! * C2C has no documented per-operation rate limits, so there is no pacing
//!   (a 429 is still retried).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use frameio_gen::Operation;
use futures::future::BoxFuture;
use reqwest::header::HeaderValue;

use super::errors;
use crate::auth::{AccessToken, AuthError, Credentials, TokenProvider};
use crate::config::{Config, config_setters};
use crate::error::{Error, Result};
use crate::rate_limit::RateLimiting;
use crate::retry::RetryPolicy;
use crate::transport::{ApiProfile, OperationPolicy, Transport};
use crate::upload::Uploader;

/// The header that names the device's firmware version.
pub const CLIENT_VERSION_HEADER: &str = "x-client-version";
/// The `x-client-version` sent unless [`C2cClientBuilder::client_version`]
/// says otherwise: the version in every example of the C2C guides.
pub const DEFAULT_CLIENT_VERSION: &str = "2.0.0";
/// How long one attempt of a C2C call may take, by default (Handle Errors >
/// Request Timeouts: "Default: 15 seconds for basic requests").
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one attempt of the token call may take ("Authorization Refresh:
/// 2 minutes"): a refresh answer lost to an early timeout would cost the
/// single-use refresh token, and with it the pairing.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(120);

/// How the client retries a call it repeats itself (asset creation,
/// real-time part URLs), by the guide's error tables: [`RetryPolicy::c2c`],
/// the guide's `delay = min(2 ** attempt / 2, 32.0)` (0.5 s, 1 s, 2 s, … 32 s)
/// with jitter over the 8 tries of its `retry_with_backoff` example (Handle
/// Errors > Exponential Backoff).
pub const DEFAULT_CALL_RETRY: RetryPolicy = RetryPolicy::c2c();

const TOKEN_OPERATION: &str = "authentication_auth_device_token";
const ASSET_CREATE_OPERATION: &str = "devices_device_asset_create";
const DEVICE_CODE_OPERATION: &str = "authentication_device_request_code";

/// A Frame.io Camera to Cloud (C2C) device API client. Cheap to clone: clones
/// share the connection pool and the credentials.
///
/// Every operation of the device API is a method that returns a call builder
/// (see [`ops`](super::ops)); `.send().await` (or `.await`) returns
/// [`Result`]. Build the client without credentials to pair a device (see
/// [`DeviceAuth`](super::DeviceAuth)), then with the device's
/// [`DeviceTokenProvider`](super::DeviceTokenProvider) for everything else:
///
/// ```no_run
/// use frameio_ext::c2c::{C2cClient, DeviceAuth, DeviceCredentials, DeviceTokenProvider, FileTokenStore};
///
/// # async fn run() -> frameio_ext::Result<()> {
/// let builder = C2cClient::builder().client_version("1.4.2");
/// let device = DeviceCredentials::new("SN-0042", std::env::var("C2C_CLIENT_SECRET").unwrap_or_default());
/// let auth = DeviceAuth::new(builder.clone().build()?, device);
/// let tokens = auth.authorize(|code| println!("Enter {} in Frame.io", code.user_code())).await?;
/// let provider = DeviceTokenProvider::builder(auth, tokens).store(FileTokenStore::new("tokens.json")).build();
/// let client = builder.token_provider(provider).build()?;
/// let device = client.accounts_device_identify().await?;
/// println!("paired to {:?}", device.project.as_ref().and_then(|p| p.name.as_deref()));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct C2cClient {
    inner: Arc<Inner>,
}

struct Inner {
    api: frameio_gen::c2c::Client,
    transport: Arc<Transport>,
    uploader: Uploader,
    client_version: String,
    call_retry: RetryPolicy,
}

impl C2cClient {
    /// A builder with the defaults: `https://api.frame.io`, version
    /// [`DEFAULT_CLIENT_VERSION`], [`DEFAULT_TIMEOUT`] per attempt,
    /// [`RetryPolicy::c2c`], no credentials (pairing calls only).
    pub fn builder() -> C2cClientBuilder {
        C2cClientBuilder::default()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        frameio_gen::ClientInfo::baseurl(&self.inner.api)
    }

    /// The `x-client-version` every call carries.
    pub fn client_version(&self) -> &str {
        &self.inner.client_version
    }

    /// The uploader that sends file bytes to storage.
    pub fn uploader(&self) -> &Uploader {
        &self.inner.uploader
    }

    /// The credentials the client's calls carry.
    pub(crate) fn credentials(&self) -> &Credentials {
        self.inner.transport.credentials()
    }

    /// Where the client's bearer tokens come from (the realtime socket asks
    /// it for a token on every connection).
    pub(crate) fn token_provider(&self) -> &dyn TokenProvider {
        self.credentials().token_provider()
    }

    /// The retry policy of the calls this client repeats itself.
    pub(crate) fn call_retry(&self) -> RetryPolicy {
        self.inner.call_retry
    }

    /// The generated client the call builders wrap.
    pub(crate) fn raw(&self) -> &frameio_gen::c2c::Client {
        &self.inner.api
    }
}

impl fmt::Debug for C2cClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("C2cClient")
            .field("base_url", &self.base_url())
            .field("client_version", &self.client_version())
            .field("credentials", self.credentials())
            .finish_non_exhaustive()
    }
}

/// Configures a [`C2cClient`]; from [`C2cClient::builder`]. Cloneable, so one
/// configuration can build the pairing client and the paired one. It has
/// the same settings as the V4 [`ClientBuilder`](crate::ClientBuilder), with
/// the device API's defaults, plus the firmware version.
#[derive(Debug, Clone)]
pub struct C2cClientBuilder {
    config: Config,
    credentials: Option<Credentials>,
    client_version: String,
    call_retry: RetryPolicy,
}

impl Default for C2cClientBuilder {
    fn default() -> Self {
        Self {
            // C2C documents no per-operation rate limits: no pacing (a 429 is still retried).
            config: Config::new(DEFAULT_TIMEOUT, RetryPolicy::c2c(), RateLimiting::disabled()),
            credentials: None,
            client_version: DEFAULT_CLIENT_VERSION.to_string(),
            call_retry: DEFAULT_CALL_RETRY,
        }
    }
}

impl C2cClientBuilder {
    config_setters!();

    /// How device calls authenticate: normally a
    /// [`DeviceTokenProvider`](super::DeviceTokenProvider). Without
    /// credentials only the pairing calls (`/v2/auth/...`) can be made.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Shorthand for `credentials(Credentials::provider(provider))`.
    pub fn token_provider(self, provider: impl TokenProvider) -> Self {
        self.credentials(Credentials::provider(provider))
    }

    /// Shorthand for `credentials(Credentials::bearer(token))`: a device
    /// access token obtained elsewhere, which cannot be refreshed.
    pub fn bearer_token(self, token: impl Into<String>) -> Self {
        self.credentials(Credentials::bearer(token))
    }

    /// The device's firmware version, sent as `x-client-version` on every
    /// call. It must be a semantic version (`2.1.3`, `2.1.3-preview.01`,
    /// `2.1.3-preview.01+build_19770504.01`); `build` checks it.
    pub fn client_version(mut self, version: impl Into<String>) -> Self {
        self.client_version = version.into();
        self
    }

    /// How the calls the client repeats itself after a retryable C2C error
    /// (asset creation, real-time part URLs) retry (default [`DEFAULT_CALL_RETRY`]).
    pub fn call_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.call_retry = retry;
        self
    }

    /// The client; fails if the client version is not a semantic version, or
    /// if the base URL or user agent is invalid.
    pub fn build(self) -> Result<C2cClient> {
        check_semver(&self.client_version).map_err(|reason| {
            Error::Config(format!(
                "the client version {:?} is not a semantic version ({reason}); Frame.io rejects it",
                self.client_version
            ))
        })?;
        let version = HeaderValue::try_from(self.client_version.as_str()).map_err(|_| {
            Error::Config(format!("the client version {:?} is not a valid header value", self.client_version))
        })?;
        let mut headers = http::HeaderMap::new();
        headers.insert(CLIENT_VERSION_HEADER, version);
        let profile = ApiProfile { headers, policy: Some(policy), envelope: errors::envelope };
        let credentials = self.credentials.unwrap_or_else(|| Credentials::provider(Unpaired));
        let base_url = self.config.checked_base_url()?;
        let transport = Arc::new(Transport::new(
            credentials,
            self.config.user_agent()?,
            self.config.timeout,
            self.config.retry,
            self.config.rate_limiting,
            profile,
        ));
        let hooks = frameio_gen::Hooks::new(Arc::clone(&transport) as Arc<dyn frameio_gen::Middleware>);
        let api = frameio_gen::c2c::Client::new_with_client(&base_url, self.config.http()?, hooks);
        Ok(C2cClient {
            inner: Arc::new(Inner {
                api,
                transport,
                uploader: self.config.uploader()?,
                client_version: self.client_version,
                call_retry: self.call_retry,
            }),
        })
    }
}

/// How each C2C operation is sent (see the module documentation).
fn policy(op: &Operation) -> OperationPolicy {
    OperationPolicy {
        anonymous: op.path.starts_with("/v2/auth/"),
        caller_retries: op.name == ASSET_CREATE_OPERATION,
        timeout: (op.name == TOKEN_OPERATION).then_some(TOKEN_TIMEOUT),
        // "making multiple device code requests on the same TCP connection
        // can trigger [slow_down]—create new connections for each pairing
        // request" (Handle Errors > SlowDown).
        close_connection: op.name == DEVICE_CODE_OPERATION,
    }
}

/// The credentials of a client built without any: device calls fail with a
/// request to pair first, and the pairing calls need none.
#[derive(Debug)]
struct Unpaired;

impl TokenProvider for Unpaired {
    fn token(&self) -> BoxFuture<'_, std::result::Result<AccessToken, AuthError>> {
        Box::pin(futures::future::ready(Err(AuthError::SignInAgain {
            reason: "this C2C client has no device token: pair the device with `DeviceAuth`, then build the \
                     client with its `DeviceTokenProvider`"
                .to_string(),
        })))
    }
}

/// Checks a semantic version (<https://semver.org>): `MAJOR.MINOR.PATCH`
/// without leading zeros, then optional `-pre.release` and `+build`
/// identifiers.
///
/// Two SemVer rules are relaxed, because the guide calls versions that break
/// them valid: `2.1.3-preview.01` has a numeric pre-release identifier with a
/// leading zero, and `2.1.3-preview.01+build_19770504.01` an underscore, so
/// identifiers are `[0-9A-Za-z_-]` and may start with a zero.
fn check_semver(version: &str) -> std::result::Result<(), &'static str> {
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    if numbers.len() != 3 {
        return Err("it needs MAJOR.MINOR.PATCH");
    }
    if numbers.iter().any(|n| n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit())) {
        return Err("MAJOR, MINOR and PATCH must be numbers");
    }
    if numbers.iter().any(|n| n.len() > 1 && n.starts_with('0')) {
        return Err("MAJOR, MINOR and PATCH must not have leading zeros");
    }
    let identifiers_ok = |part: &str| {
        part.split('.')
            .all(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    };
    if pre.is_some_and(|pre| !identifiers_ok(pre)) {
        return Err("the pre-release must be dot-separated non-empty [0-9A-Za-z_-] identifiers");
    }
    if build.is_some_and(|build| !identifiers_ok(build)) {
        return Err("the build metadata must be dot-separated non-empty [0-9A-Za-z_-] identifiers");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_versions_are_semantic_versions() {
        for ok in ["0.1.2", "2.0.0", "2.1.3-preview.01", "2.1.3-preview.01+build_19770504.01", "10.20.30-rc-1"] {
            assert_eq!(check_semver(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "2",
            "2.0",
            "2.0.0.1",
            "02.0.0",
            "2.00.0",
            "v2.0.0",
            "2.0.x",
            "2.0.0-",
            "2.0.0-a..b",
            "2.0.0+",
            "2.0.0 beta",
        ] {
            assert!(check_semver(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_pairing_calls_are_anonymous() {
        let ops = frameio_gen::c2c::operations::OPERATIONS;
        let anonymous: Vec<&str> = ops.iter().filter(|op| policy(op).anonymous).map(|op| op.name).collect();
        assert_eq!(
            anonymous,
            [
                "authentication_auth_device_revoke_token",
                "authentication_auth_device_token",
                "authentication_device_request_code"
            ]
        );
        let find = |name| frameio_gen::operation::find(ops, name).unwrap();
        assert_eq!(policy(find(TOKEN_OPERATION)).timeout, Some(TOKEN_TIMEOUT));
        assert!(policy(find(ASSET_CREATE_OPERATION)).caller_retries);
        assert!(!policy(find("devices_device_heartbeat")).caller_retries);
        assert!(policy(find(DEVICE_CODE_OPERATION)).close_connection);
    }
}
