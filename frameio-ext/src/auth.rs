//! Credentials: where the bearer token on each API request comes from.
//!
//! A [`TokenProvider`] hands out a valid [`AccessToken`] for every request; it may
//! refresh behind the scenes (see the IMS providers). Token values are held as
//! secrets: they never appear in `Debug` output, logs or error messages.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};

/// A bearer access token and, when known, the moment it stops being valid.
#[derive(Clone)]
pub struct AccessToken {
    value: SecretString,
    expires_at: Option<SystemTime>,
}

impl AccessToken {
    /// A token with no known expiry.
    pub fn new(value: impl Into<String>) -> Self {
        Self { value: SecretString::from(value.into()), expires_at: None }
    }

    /// The same token, valid until `expires_at`.
    pub fn with_expiry(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// The token's value, for building an `Authorization` header. Never log it.
    pub fn expose_secret(&self) -> &str {
        self.value.expose_secret()
    }

    /// When the token expires, if known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// Whether the token expires within `margin` from `now` (a token without a
    /// known expiry never does).
    pub fn expires_within(&self, margin: Duration, now: SystemTime) -> bool {
        self.expires_at.is_some_and(|at| at <= now.checked_add(margin).unwrap_or(now))
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken").field("value", &"[redacted]").field("expires_at", &self.expires_at).finish()
    }
}

/// A source of access tokens, asked once per request (including each retry).
///
/// Implementations cache their token and refresh it when needed; they must be
/// cheap to call when the cached token is still valid.
pub trait TokenProvider: Send + Sync + 'static {
    /// A token that is valid now, refreshing first if needed.
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>>;

    /// Called when the API answered 401 to a request made with `rejected`, so
    /// that a provider able to refresh drops that token. The default does
    /// nothing (a static token cannot be renewed).
    fn invalidate(&self, rejected: &AccessToken) {
        let _ = rejected;
    }
}

/// A [`TokenProvider`] that always hands out the same token, e.g. one
/// obtained by another program. It cannot be refreshed: once the API rejects
/// it, calls fail with a 401 until the client gets new credentials.
#[derive(Debug, Clone)]
pub struct StaticToken(AccessToken);

impl StaticToken {
    /// A provider of this token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(AccessToken::new(token))
    }
}

impl TokenProvider for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        Box::pin(futures::future::ready(Ok(self.0.clone())))
    }
}

/// How a [`Client`](crate::Client) authenticates its requests: every request
/// carries `Authorization: Bearer <token>` with a token from a
/// [`TokenProvider`], asked again for each retry.
///
/// ```
/// use frameio_ext::Credentials;
///
/// let bearer = Credentials::bearer("eyJhbGciOi...");
/// let legacy = Credentials::legacy_developer_token("fio-u-...");
/// assert!(legacy.is_legacy() && !bearer.is_legacy());
/// assert!(!format!("{bearer:?}").contains("eyJ"), "tokens never show in Debug");
/// ```
#[derive(Clone)]
pub struct Credentials {
    provider: Arc<dyn TokenProvider>,
    kind: CredentialKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CredentialKind {
    Bearer,
    LegacyDeveloperToken,
    Provider,
}

impl Credentials {
    /// A fixed bearer token (an IMS access token obtained elsewhere).
    pub fn bearer(token: impl Into<String>) -> Self {
        Self { provider: Arc::new(StaticToken::new(token)), kind: CredentialKind::Bearer }
    }

    /// A legacy developer token from developer.frame.io: sent as a bearer
    /// token with the `x-frameio-legacy-token-auth: true` header the V4 API
    /// requires for it.
    pub fn legacy_developer_token(token: impl Into<String>) -> Self {
        Self { provider: Arc::new(StaticToken::new(token)), kind: CredentialKind::LegacyDeveloperToken }
    }

    /// Tokens from `provider`, which may refresh them (e.g. an IMS session).
    /// On a 401 the client calls [`TokenProvider::invalidate`] and retries
    /// once if the provider then hands out a different token.
    pub fn provider(provider: impl TokenProvider) -> Self {
        Self::shared_provider(Arc::new(provider))
    }

    /// Like [`Credentials::provider`], for a provider the application also
    /// keeps a handle on.
    pub fn shared_provider(provider: Arc<dyn TokenProvider>) -> Self {
        Self { provider, kind: CredentialKind::Provider }
    }

    /// Whether requests carry the legacy developer token header.
    pub fn is_legacy(&self) -> bool {
        self.kind == CredentialKind::LegacyDeveloperToken
    }

    /// Where tokens come from.
    pub(crate) fn token_provider(&self) -> &dyn TokenProvider {
        &*self.provider
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// Why no access token could be had.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The stored grant is no longer usable (for example an expired or revoked
    /// refresh token): the user must sign in again.
    #[error("sign in again: {reason}")]
    SignInAgain {
        /// What the identity provider said.
        reason: String,
    },
    /// The identity provider is rate limiting token requests.
    #[error("the identity provider is rate limiting token requests; retry after {retry_after:?}")]
    RateLimited {
        /// How long the provider asked us to wait, if it said.
        retry_after: Option<Duration>,
    },
    /// The identity provider rejected the request with an OAuth error.
    #[error("the identity provider rejected the token request ({status}): {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Rejected {
        /// HTTP status of the answer.
        status: u16,
        /// The OAuth `error` code, e.g. `invalid_client`.
        error: String,
        /// The OAuth `error_description`, if any.
        description: Option<String>,
    },
    /// The identity provider could not be reached.
    #[error("could not reach the identity provider: {0}")]
    Network(#[source] reqwest::Error),
    /// The identity provider could not be reached, reported without the
    /// underlying `reqwest::Error` (which cannot be cloned): a concurrent call
    /// whose token request this one waited on got that error as
    /// [`AuthError::Network`], or the request was cut short (the runtime shut
    /// down). Handle it like `Network`.
    #[error("could not reach the identity provider: {reason}")]
    Unreachable {
        /// The network error and its causes, as text.
        reason: String,
    },
    /// The identity provider answered something that is not a token response.
    #[error("unexpected answer from the identity provider: {0}")]
    InvalidResponse(String),
}
