//! Credentials: where the bearer token on each API request comes from.
//!
//! A [`TokenProvider`] hands out a valid [`AccessToken`] for every request; it may
//! refresh behind the scenes (see the IMS providers). Token values are held as
//! secrets: they never appear in `Debug` output, logs or error messages.

pub(crate) mod cache;

pub use cache::{MAX_RATE_LIMITED_WAIT, MAX_TOKEN_LIFETIME};

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

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
    /// The identity provider (or the C2C token endpoint) answered with a
    /// redirect, which is not followed: it could carry the request's client
    /// secret or refresh token to another host.
    #[error(
        "the identity provider answered {status} redirecting to {location}; the client does not follow redirects \
         (they could carry credentials elsewhere): check its base URL"
    )]
    Redirect {
        /// The redirect status (301, 302, 303, 307, 308).
        status: u16,
        /// Where it pointed, without its query string.
        location: String,
    },
}

/// An access token, its expiry and, when one was issued, the refresh token: a
/// sign-in's state as kept across restarts (IMS sign-ins and C2C devices alike).
///
/// Store them somewhere safe (they grant API access). They serialize as the
/// Frame.io Python and TypeScript SDKs export them, with `expires_at` in Unix
/// seconds:
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use frameio_ext::AccessToken;
/// use frameio_ext::auth::TokenSet;
/// use secrecy::ExposeSecret;
///
/// let tokens = TokenSet::new(
///     AccessToken::new("at-123").with_expiry(UNIX_EPOCH + Duration::from_secs(1_767_225_600)),
/// )
/// .with_refresh_token("rt-456");
/// let json = serde_json::to_string(&tokens)?;
/// assert_eq!(
///     json,
///     r#"{"access_token":"at-123","refresh_token":"rt-456","expires_at":1767225600.0}"#
/// );
///
/// let back: TokenSet = serde_json::from_str(&json)?;
/// assert_eq!(back.refresh_token().map(|t| t.expose_secret()), Some("rt-456"));
/// assert!(!format!("{back:?}").contains("rt-456"));
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// `Debug` redacts both tokens.
#[derive(Clone)]
pub struct TokenSet {
    access: AccessToken,
    refresh: Option<SecretString>,
}

impl TokenSet {
    /// Tokens made of an access token (with its expiry, if known) and no
    /// refresh token.
    pub fn new(access_token: AccessToken) -> Self {
        Self { access: access_token, refresh: None }
    }

    /// The same tokens, with a refresh token.
    pub fn with_refresh_token(mut self, refresh_token: impl Into<String>) -> Self {
        self.refresh = Some(SecretString::from(refresh_token.into()));
        self
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.access
    }

    /// The refresh token, if one was issued (IMS user sign-ins with the
    /// `offline_access` scope, C2C pairings with the `offline` scope).
    pub fn refresh_token(&self) -> Option<&SecretString> {
        self.refresh.as_ref()
    }

    /// When the access token expires, if known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.access.expires_at()
    }

    pub(crate) fn from_parts(access: AccessToken, refresh: Option<SecretString>) -> Self {
        Self { access, refresh }
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &self.refresh.as_ref().map(|_| "[redacted]"))
            .field("expires_at", &self.expires_at())
            .finish()
    }
}

/// The serialized form. Not `Debug`: it holds the secrets in the clear.
#[derive(Serialize)]
struct WireOut<'a> {
    access_token: &'a str,
    refresh_token: Option<&'a str>,
    expires_at: Option<f64>,
}

#[derive(Deserialize)]
struct WireIn {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_at: Option<f64>,
}

impl Serialize for TokenSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            access_token: self.access.expose_secret(),
            refresh_token: self.refresh.as_ref().map(|token| token.expose_secret()),
            expires_at: self.expires_at().map(|at| at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TokenSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::deserialize(deserializer)?;
        let mut access = AccessToken::new(wire.access_token);
        if let Some(seconds) = wire.expires_at {
            let at = Duration::try_from_secs_f64(seconds)
                .ok()
                .and_then(|since_epoch| UNIX_EPOCH.checked_add(since_epoch))
                .ok_or_else(|| D::Error::custom("`expires_at` is not a valid Unix time"))?;
            access = access.with_expiry(at);
        }
        Ok(Self { access, refresh: wire.refresh_token.map(SecretString::from) })
    }
}
