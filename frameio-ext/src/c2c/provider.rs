//! [`DeviceTokenProvider`]: the [`TokenProvider`] a paired [`C2cClient`]
//! authenticates with, on the crate's one token cache
//! ([`auth::cache`](crate::auth)): refreshed ahead of expiry or after the API
//! rejected the token, single-flight, every new pair of tokens saved to the
//! [`TokenStore`] before anyone uses it.
//!
//! Single flight matters more here than anywhere: a refresh token is spent by
//! its first use, so a second concurrent refresh would fail and the device
//! would have to be paired again; and the refresh runs in a task of its own,
//! so a caller that gives up cannot lose an answer Frame.io has acted on.
//!
//! [`C2cClient`]: super::C2cClient

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;

use super::errors::{self, C2cErrorKind};
use super::{DeviceAuth, TokenStore};
use crate::auth::cache::{Holding, Issued, Renewer, TokenCache};
use crate::auth::{AccessToken, AuthError, TokenProvider, TokenSet};
use crate::error::{Error, Result};

/// How long before the access token's expiry it is refreshed, by default.
/// Access tokens last about 8 hours; five minutes leaves room for the 2-minute
/// refresh the guide allows for.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

const NO_REFRESH_TOKEN: &str =
    "the access token expired and there is no refresh token (pair with the `offline` scope to get one)";
const REVOKED: &str = "the device's authorization was revoked";

/// How a device renews its tokens: the refresh grant, then the store.
struct DeviceRenewer {
    auth: DeviceAuth,
    store: Option<Arc<dyn TokenStore>>,
}

impl Renewer for DeviceRenewer {
    fn name(&self) -> &'static str {
        "c2c_device"
    }

    fn renew(
        self: Arc<Self>,
        holding: Holding<'_>,
    ) -> std::result::Result<BoxFuture<'static, std::result::Result<Issued, AuthError>>, AuthError> {
        let refresh_token = holding.refresh_token(REVOKED, NO_REFRESH_TOKEN)?;
        Ok(Box::pin(async move { self.auth.refresh_issued(&refresh_token).await.map_err(auth_error) }))
    }

    fn keep(self: Arc<Self>, tokens: TokenSet) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let Some(store) = self.store.clone() else { return };
            if let Err(error) = blocking(move || store.save(&tokens)).await {
                // The old refresh token is spent: these tokens only live in
                // memory now, and a restart will need a new pairing.
                tracing::error!(%error, "could not save the refreshed device tokens");
            }
        })
    }
}

/// Hands out the device's access token, refreshing it ahead of expiry or
/// after the API rejected it, and saves every refreshed pair of tokens.
/// Cheap to clone; clones share the tokens.
///
/// ```no_run
/// use frameio_ext::c2c::{C2cClient, DeviceAuth, DeviceCredentials, DeviceTokenProvider, FileTokenStore, TokenStore};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = FileTokenStore::new("frameio-tokens.json");
/// let auth = DeviceAuth::new(C2cClient::builder().build()?, DeviceCredentials::new("SN-0042", "<secret>"));
/// let tokens = match store.load()? {
///     Some(tokens) => tokens,
///     None => {
///         let tokens = auth.authorize(|code| println!("Enter {}", code.user_code())).await?;
///         store.save(&tokens)?;
///         tokens
///     }
/// };
/// let provider = DeviceTokenProvider::builder(auth, tokens).store(store).build();
/// let client = C2cClient::builder().token_provider(provider.clone()).build()?;
/// # let _ = client;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DeviceTokenProvider {
    cache: Arc<TokenCache<DeviceRenewer>>,
}

impl DeviceTokenProvider {
    /// A provider of `tokens` (from a pairing, or loaded from a store) that
    /// refreshes them through `auth`.
    pub fn builder(auth: DeviceAuth, tokens: TokenSet) -> DeviceTokenProviderBuilder {
        DeviceTokenProviderBuilder { auth, tokens, store: None, margin: DEFAULT_REFRESH_MARGIN }
    }

    /// The current tokens, if the device is still authorized.
    pub fn tokens(&self) -> Option<TokenSet> {
        self.cache.tokens()
    }

    /// Installs the tokens of a new pairing (after a refused refresh or a
    /// revocation). Save them to the store yourself.
    pub fn replace(&self, tokens: TokenSet) {
        self.cache.install(tokens);
    }

    /// Refreshes now, whatever the access token's expiry.
    ///
    /// # Errors
    /// [`AuthError::SignInAgain`] when Frame.io refused the refresh token
    /// (the device must be paired again), or another [`AuthError`].
    pub async fn refresh(&self) -> std::result::Result<AccessToken, AuthError> {
        self.cache.token(true).await
    }

    /// Revokes the authorization at Frame.io, forgets the tokens and clears
    /// the store. Waits for a refresh in flight, so that the tokens it brings
    /// are the ones revoked.
    ///
    /// # Errors
    /// The revocation call failed; the tokens are forgotten all the same.
    pub async fn revoke(&self) -> Result<()> {
        let tokens = self.cache.sign_out(REVOKED).await;
        let renewer = self.cache.renewer();
        let revoked = match tokens.as_ref().and_then(TokenSet::refresh_token) {
            Some(refresh_token) => renewer.auth.revoke(refresh_token).await,
            None => Ok(()),
        };
        if let Some(store) = renewer.store.clone()
            && let Err(error) = blocking(move || store.clear()).await
        {
            // Harmless: the tokens left behind no longer work.
            tracing::warn!(%error, "could not clear the revoked device tokens from the store");
        }
        revoked
    }
}

impl TokenProvider for DeviceTokenProvider {
    fn token(&self) -> BoxFuture<'_, std::result::Result<AccessToken, AuthError>> {
        Box::pin(self.cache.token(false))
    }

    fn invalidate(&self, rejected: &AccessToken) {
        self.cache.invalidate(rejected);
    }
}

impl fmt::Debug for DeviceTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceTokenProvider")
            .field("client_id", &self.cache.renewer().auth.device().client_id())
            .field("cache", &self.cache)
            .finish()
    }
}

/// Configures a [`DeviceTokenProvider`].
pub struct DeviceTokenProviderBuilder {
    auth: DeviceAuth,
    tokens: TokenSet,
    store: Option<Arc<dyn TokenStore>>,
    margin: Duration,
}

impl DeviceTokenProviderBuilder {
    /// Where every refreshed pair of tokens is saved (strongly advised: the
    /// refresh token they replace no longer works).
    pub fn store(mut self, store: impl TokenStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// How long before expiry the access token is refreshed (default
    /// [`DEFAULT_REFRESH_MARGIN`]).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The provider.
    pub fn build(self) -> DeviceTokenProvider {
        let renewer = DeviceRenewer { auth: self.auth, store: self.store };
        let cache = TokenCache::new(renewer, self.margin, Arc::new(SystemTime::now));
        cache.install(self.tokens);
        DeviceTokenProvider { cache: Arc::new(cache) }
    }
}

impl fmt::Debug for DeviceTokenProviderBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceTokenProviderBuilder")
            .field("auth", &self.auth)
            .field("tokens", &self.tokens)
            .field("store", &self.store.as_ref().map(|_| "TokenStore"))
            .field("refresh_margin", &self.margin)
            .finish()
    }
}

/// What a failed refresh means for the device ("If received during token
/// refresh, your refresh token has expired and you must restart the
/// authorization process"; "Receipt of a `401 Not Authorized` response during
/// token refresh indicates credential invalidation").
fn auth_error(error: Error) -> AuthError {
    match errors::error_kind(&error) {
        C2cErrorKind::InvalidRequest
        | C2cErrorKind::UnauthorizedClient
        | C2cErrorKind::InvalidGrant
        | C2cErrorKind::ExpiredToken
        | C2cErrorKind::AccessDenied
        | C2cErrorKind::SignInAgain => AuthError::SignInAgain {
            reason: format!("Frame.io refused the refresh token, pair the device again: {error}"),
        },
        C2cErrorKind::SlowDown => AuthError::RateLimited { retry_after: error.retry_after() },
        _ => match error {
            Error::Transport { source, .. } | Error::Timeout { source, .. } => AuthError::Network(source),
            Error::Auth(auth) => auth,
            Error::Redirect { status, location, .. } => AuthError::Redirect { status: status.as_u16(), location },
            Error::Api(api) => {
                let entry = api.errors().first();
                AuthError::Rejected {
                    status: api.status().as_u16(),
                    error: entry.and_then(|e| e.title.clone()).unwrap_or_default(),
                    description: entry.map(|e| e.detail.clone()),
                }
            }
            other => AuthError::InvalidResponse(other.to_string()),
        },
    }
}

/// Runs a store operation on the blocking pool.
async fn blocking(work: impl FnOnce() -> std::io::Result<()> + Send + 'static) -> std::io::Result<()> {
    tokio::task::spawn_blocking(work).await.map_err(std::io::Error::other)?
}

impl DeviceAuth {
    /// The refresh grant's answer, as the token cache takes it.
    pub(crate) async fn refresh_issued(&self, refresh_token: &secrecy::SecretString) -> Result<Issued> {
        let answer = self.refresh_request(refresh_token).send().await?;
        Ok(super::tokens::issued(answer))
    }
}
