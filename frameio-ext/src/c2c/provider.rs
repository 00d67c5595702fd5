//! [`DeviceTokenProvider`]: the [`TokenProvider`] a paired [`C2cClient`]
//! authenticates with, refreshing the device's tokens before they expire.
//!
//! Refresh is single-flight. Callers queue on one async mutex; the first
//! refreshes, those queued behind it take its outcome instead of refreshing
//! again, which matters more here than anywhere: a refresh token is spent by
//! its first use, so a second concurrent refresh would fail and the device
//! would have to be paired again. The refresh runs in a spawned task that
//! holds the mutex, so a caller that gives up (a timeout, a dropped future)
//! cannot lose an answer Frame.io has already acted on, and that task saves
//! the new tokens to the [`TokenStore`] before anyone uses them.
//!
//! [`C2cClient`]: super::C2cClient

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OwnedMutexGuard;

use super::errors::{self, C2cErrorKind};
use super::{DeviceAuth, DeviceTokens, TokenStore};
use crate::auth::{AccessToken, AuthError, TokenProvider};
use crate::error::{Error, Result};

/// How long before the access token's expiry it is refreshed, by default.
/// Access tokens last about 8 hours; five minutes leaves room for the 2-minute
/// refresh the guide allows for.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

const NO_REFRESH_TOKEN: &str =
    "the access token expired and there is no refresh token (pair with the `offline` scope to get one)";
const REVOKED: &str = "the device's authorization was revoked";

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
    shared: Arc<Shared>,
}

struct Shared {
    auth: DeviceAuth,
    store: Option<Arc<dyn TokenStore>>,
    margin: Duration,
    state: Mutex<State>,
    /// Held for the whole of each refresh or revocation.
    renewing: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
struct State {
    tokens: Option<DeviceTokens>,
    /// The API answered 401 to the current access token.
    rejected: bool,
    /// Why there are no tokens (a refused refresh, a revocation).
    signed_out: Option<String>,
    /// Finished refreshes: a caller that queued sees it change.
    attempts: u64,
    /// The last refresh's error, for the callers that queued behind it.
    last_failure: Option<AuthError>,
}

impl State {
    /// The access token, unless rejected or expired.
    fn usable(&self, now: SystemTime) -> Option<AccessToken> {
        let tokens = self.tokens.as_ref().filter(|_| !self.rejected)?;
        let expired = tokens.expires_at().is_some_and(|at| at <= now);
        (!expired).then(|| tokens.access_token().clone())
    }

    /// The access token, unless it is due for a refresh.
    fn fresh(&self, now: SystemTime, margin: Duration) -> Option<AccessToken> {
        self.usable(now).filter(|token| !token.expires_within(margin, now))
    }

    fn refresh_token(&self) -> std::result::Result<SecretString, AuthError> {
        match &self.tokens {
            Some(tokens) => tokens
                .refresh_token()
                .cloned()
                .ok_or_else(|| AuthError::SignInAgain { reason: NO_REFRESH_TOKEN.to_owned() }),
            None => {
                Err(AuthError::SignInAgain { reason: self.signed_out.clone().unwrap_or_else(|| REVOKED.to_owned()) })
            }
        }
    }
}

impl DeviceTokenProvider {
    /// A provider of `tokens` (from a pairing, or loaded from a store) that
    /// refreshes them through `auth`.
    pub fn builder(auth: DeviceAuth, tokens: DeviceTokens) -> DeviceTokenProviderBuilder {
        DeviceTokenProviderBuilder { auth, tokens, store: None, margin: DEFAULT_REFRESH_MARGIN }
    }

    /// The current tokens, if the device is still authorized.
    pub fn tokens(&self) -> Option<DeviceTokens> {
        self.shared.state().tokens.clone()
    }

    /// Installs the tokens of a new pairing (after a refused refresh or a
    /// revocation). Save them to the store yourself.
    pub fn replace(&self, tokens: DeviceTokens) {
        let mut state = self.shared.state();
        state.tokens = Some(tokens);
        state.rejected = false;
        state.signed_out = None;
        state.last_failure = None;
    }

    /// Refreshes now, whatever the access token's expiry.
    ///
    /// # Errors
    /// [`AuthError::SignInAgain`] when Frame.io refused the refresh token
    /// (the device must be paired again), or another [`AuthError`].
    pub async fn refresh(&self) -> std::result::Result<AccessToken, AuthError> {
        self.token_with(true).await
    }

    /// Revokes the authorization at Frame.io, forgets the tokens and clears
    /// the store. Waits for a refresh in flight, so that the tokens it brings
    /// are the ones revoked.
    ///
    /// # Errors
    /// The revocation call failed; the tokens are forgotten all the same.
    pub async fn revoke(&self) -> Result<()> {
        let tokens = {
            let _renewing = self.shared.renewing.lock().await;
            let mut state = self.shared.state();
            state.signed_out = Some(REVOKED.to_owned());
            state.last_failure = None;
            state.tokens.take()
        };
        let revoked = match tokens.as_ref().and_then(DeviceTokens::refresh_token) {
            Some(refresh_token) => self.shared.auth.revoke(refresh_token).await,
            None => Ok(()),
        };
        if let Some(store) = self.shared.store.clone()
            && let Err(error) = blocking(move || store.clear()).await
        {
            // Harmless: the tokens left behind no longer work.
            tracing::warn!(%error, "could not clear the revoked device tokens from the store");
        }
        revoked
    }

    async fn token_with(&self, forced: bool) -> std::result::Result<AccessToken, AuthError> {
        let shared = &self.shared;
        let seen = {
            let state = shared.state();
            if !forced && let Some(token) = state.fresh(SystemTime::now(), shared.margin) {
                return Ok(token);
            }
            state.attempts
        };
        let renewing = Arc::clone(&shared.renewing).lock_owned().await;
        let refresh_token = {
            let now = SystemTime::now();
            let state = shared.state();
            if state.attempts != seen {
                // A refresh finished while this call queued: share its outcome.
                match &state.last_failure {
                    None => {
                        if let Some(token) = state.usable(now) {
                            return Ok(token);
                        }
                    }
                    Some(failure) => {
                        return match state.usable(now) {
                            Some(token) if !forced => Ok(token),
                            _ => Err(share(failure)),
                        };
                    }
                }
            }
            if !forced && let Some(token) = state.fresh(now, shared.margin) {
                return Ok(token);
            }
            state.refresh_token()?
        };
        let shared = Arc::clone(shared);
        holding(renewing, async move {
            let answer = shared.auth.refresh(&refresh_token).await;
            shared.settle(answer, forced).await
        })
        .await
    }
}

impl TokenProvider for DeviceTokenProvider {
    fn token(&self) -> BoxFuture<'_, std::result::Result<AccessToken, AuthError>> {
        Box::pin(self.token_with(false))
    }

    fn invalidate(&self, rejected: &AccessToken) {
        let mut state = self.shared.state();
        if state.tokens.as_ref().is_some_and(|t| t.access_token().expose_secret() == rejected.expose_secret()) {
            state.rejected = true;
            tracing::debug!("the API rejected the device's access token; refreshing it on next use");
        }
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a refresh's outcome (saving new tokens first) and says what the
    /// caller that made it gets.
    async fn settle(&self, answer: Result<DeviceTokens>, forced: bool) -> std::result::Result<AccessToken, AuthError> {
        let mut tokens = match answer {
            Ok(tokens) => tokens,
            Err(error) => {
                let error = auth_error(error);
                let now = SystemTime::now();
                let mut state = self.state();
                if let AuthError::SignInAgain { reason } = &error {
                    state.tokens = None;
                    state.signed_out = Some(reason.clone());
                }
                state.attempts += 1;
                state.last_failure = Some(share(&error));
                if !forced && let Some(token) = state.usable(now) {
                    tracing::warn!(%error, "refreshing the device token failed; the current one is still valid");
                    return Ok(token);
                }
                return Err(error);
            }
        };
        if tokens.refresh_token().is_none()
            && let Some(previous) = self.state().tokens.as_ref().and_then(DeviceTokens::refresh_token)
        {
            tokens = DeviceTokens::new(tokens.access_token().clone()).with_refresh_token(previous.expose_secret());
        }
        if let Some(store) = self.store.clone() {
            let saved = tokens.clone();
            if let Err(error) = blocking(move || store.save(&saved)).await {
                // The old refresh token is spent: these tokens only live in
                // memory now, and a restart will need a new pairing.
                tracing::error!(%error, "could not save the refreshed device tokens");
            }
        }
        let access = tokens.access_token().clone();
        let mut state = self.state();
        state.tokens = Some(tokens);
        state.rejected = false;
        state.signed_out = None;
        state.last_failure = None;
        state.attempts += 1;
        tracing::debug!(expires_at = ?access.expires_at(), "the device token was refreshed");
        Ok(access)
    }
}

impl fmt::Debug for DeviceTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state();
        f.debug_struct("DeviceTokenProvider")
            .field("client_id", &self.shared.auth.device().client_id())
            .field("tokens", &state.tokens)
            .field("refresh_margin", &self.shared.margin)
            .finish_non_exhaustive()
    }
}

/// Configures a [`DeviceTokenProvider`].
pub struct DeviceTokenProviderBuilder {
    auth: DeviceAuth,
    tokens: DeviceTokens,
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
        let state = State { tokens: Some(self.tokens), ..State::default() };
        DeviceTokenProvider {
            shared: Arc::new(Shared {
                auth: self.auth,
                store: self.store,
                margin: self.margin,
                state: Mutex::new(state),
                renewing: Arc::default(),
            }),
        }
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

/// Runs `work` in its own task, holding the refresh mutex until it is done.
async fn holding(
    renewing: OwnedMutexGuard<()>,
    work: impl Future<Output = std::result::Result<AccessToken, AuthError>> + Send + 'static,
) -> std::result::Result<AccessToken, AuthError> {
    let task = tokio::spawn(async move {
        let outcome = work.await;
        drop(renewing);
        outcome
    });
    match task.await {
        Ok(outcome) => outcome,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(AuthError::Unreachable {
                reason: "the token refresh was cancelled: the runtime is shutting down".into(),
            }),
        },
    }
}

/// Runs a store operation on the blocking pool.
async fn blocking(work: impl FnOnce() -> std::io::Result<()> + Send + 'static) -> std::io::Result<()> {
    tokio::task::spawn_blocking(work).await.map_err(std::io::Error::other)?
}

/// A copy of a refresh's error for the callers that queued behind it
/// (`reqwest::Error` cannot be cloned, so a network error becomes its text).
fn share(error: &AuthError) -> AuthError {
    match error {
        AuthError::SignInAgain { reason } => AuthError::SignInAgain { reason: reason.clone() },
        AuthError::RateLimited { retry_after } => AuthError::RateLimited { retry_after: *retry_after },
        AuthError::Rejected { status, error, description } => {
            AuthError::Rejected { status: *status, error: error.clone(), description: description.clone() }
        }
        AuthError::Network(error) => AuthError::Unreachable { reason: error.to_string() },
        AuthError::Unreachable { reason } => AuthError::Unreachable { reason: reason.clone() },
        AuthError::InvalidResponse(message) => AuthError::InvalidResponse(message.clone()),
    }
}
