//! The one token cache behind every renewing credential (the IMS sign-ins and
//! the C2C device): when to renew, and how concurrent callers share one
//! renewal.
//!
//! A [`TokenCache`] holds a [`TokenSet`] and renews it ahead of expiry, after
//! the API rejected it ([`TokenCache::invalidate`]), or on demand. Renewal is
//! single-flight: callers queue on one async mutex; the first renews, and
//! those that queued behind it take its outcome (the new token, or a copy of
//! its error) instead of sending requests of their own. The request runs in a
//! spawned task that holds the mutex, so a caller that gives up (a timeout, a
//! dropped future) cannot lose an answer the identity provider has already
//! acted on, such as a rotated refresh token or a consumed authorization
//! code; the same task hands the new tokens to [`Renewer::keep`] (save them,
//! call back) before anyone uses them.
//!
//! A failed renewal ahead of expiry is not the callers' problem while the
//! current token is still valid: it keeps being served, and renewal is tried
//! again a few seconds later. After a 429 the provider is not asked again
//! before its `Retry-After`, at most [`MAX_RATE_LIMITED_WAIT`] however long it
//! asked for. What a renewal *is* (a refresh grant, client credentials, a
//! device refresh) is the [`Renewer`]'s business.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OwnedMutexGuard;

use super::{AccessToken, AuthError, TokenSet};

/// After a failed renewal ahead of expiry, how long the still-valid token is
/// served before renewal is tried again.
pub(crate) const RETRY_EARLY_RENEWAL_AFTER: Duration = Duration::from_secs(5);

/// The longest a 429 keeps the cache from asking again, whatever the
/// provider's `Retry-After` says: a hint of years must not lock sign-in until
/// the process restarts.
pub const MAX_RATE_LIMITED_WAIT: Duration = Duration::from_secs(5 * 60);

/// The longest token lifetime believed; a longer `expires_in` is read as this.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// The wall clock that decides expiry.
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// What an identity provider issued.
pub(crate) struct Issued {
    pub(crate) access_token: SecretString,
    pub(crate) refresh_token: Option<SecretString>,
    pub(crate) expires_in: Option<Duration>,
}

/// What the cache holds when a renewal starts, for the [`Renewer`] to build
/// its request from.
#[derive(Clone, Copy)]
pub(crate) struct Holding<'a> {
    /// The current tokens, if any.
    pub(crate) tokens: Option<&'a TokenSet>,
    /// Why there are none (a refused refresh token, a revocation), if known.
    pub(crate) signed_out: Option<&'a str>,
}

impl Holding<'_> {
    /// The refresh token, or the error that says why there is none.
    pub(crate) fn refresh_token(&self, never: &str, none_issued: &str) -> Result<SecretString, AuthError> {
        match self.tokens {
            Some(tokens) => {
                tokens.refresh_token().cloned().ok_or_else(|| AuthError::SignInAgain { reason: none_issued.to_owned() })
            }
            None => Err(AuthError::SignInAgain { reason: self.signed_out.unwrap_or(never).to_owned() }),
        }
    }
}

/// How a credential renews its tokens.
pub(crate) trait Renewer: Send + Sync + 'static {
    /// A short name for logs (`server_to_server`, `c2c_device`).
    fn name(&self) -> &'static str;

    /// The request that renews `holding`'s tokens, or why there cannot be one.
    /// It runs in its own task.
    fn renew(self: Arc<Self>, holding: Holding<'_>)
    -> Result<BoxFuture<'static, Result<Issued, AuthError>>, AuthError>;

    /// Keeps newly issued tokens (saves them, calls back) before anyone uses
    /// them; it runs in the renewal's task.
    fn keep(self: Arc<Self>, tokens: TokenSet) -> BoxFuture<'static, ()> {
        let _ = tokens;
        Box::pin(async {})
    }
}

/// What a finished request was for.
#[derive(Debug, Clone, Copy)]
enum Attempt {
    /// Renewing the current grant; `forced` by an explicit refresh, which
    /// wants the failure rather than the old token.
    Renewal { forced: bool },
    /// A new sign-in (an authorization code exchanged).
    SignIn,
}

/// One credential's tokens and the machinery to keep them valid (see the
/// [module documentation](self)).
pub(crate) struct TokenCache<R> {
    renewer: Arc<R>,
    margin: Duration,
    clock: Clock,
    state: Mutex<State>,
    /// Held for the whole of each renewal or sign-in.
    renewing: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
struct State {
    held: Option<Held>,
    /// Why there are no tokens (refused refresh token, revocation).
    signed_out: Option<String>,
    rate_limited_until: Option<SystemTime>,
    /// Finished renewals and sign-ins: a caller that queued sees it change.
    attempts: u64,
    /// The last attempt's error (in its shareable form), for the callers that
    /// queued behind it.
    last_failure: Option<AuthError>,
}

struct Held {
    tokens: TokenSet,
    renew_at: Option<SystemTime>,
    /// The API answered 401 to this access token.
    rejected: bool,
}

impl Held {
    fn usable(&self, now: SystemTime) -> Option<AccessToken> {
        let expired = self.tokens.expires_at().is_some_and(|at| at <= now);
        (!self.rejected && !expired).then(|| self.tokens.access_token().clone())
    }

    fn fresh(&self, now: SystemTime) -> Option<AccessToken> {
        self.usable(now).filter(|_| self.renew_at.is_none_or(|at| now < at))
    }
}

impl State {
    fn usable(&self, now: SystemTime) -> Option<AccessToken> {
        self.held.as_ref()?.usable(now)
    }

    fn fresh(&self, now: SystemTime) -> Option<AccessToken> {
        self.held.as_ref()?.fresh(now)
    }

    /// Keeps serving a still-valid token until `until` before renewing again.
    fn postpone_renewal(&mut self, until: SystemTime, now: SystemTime) {
        if let Some(held) = self.held.as_mut()
            && held.usable(now).is_some()
        {
            held.renew_at = Some(until);
        }
    }
}

impl<R: Renewer> TokenCache<R> {
    /// A cache that renews `margin` before expiry (at most half a token's
    /// lifetime) through `renewer`, reading time from `clock`.
    pub(crate) fn new(renewer: R, margin: Duration, clock: Clock) -> Self {
        Self { renewer: Arc::new(renewer), margin, clock, state: Mutex::default(), renewing: Arc::default() }
    }

    /// The renewer.
    pub(crate) fn renewer(&self) -> &R {
        &self.renewer
    }

    /// A valid token, renewing first if it is due (or if `forced`).
    pub(crate) async fn token(self: &Arc<Self>, forced: bool) -> Result<AccessToken, AuthError> {
        let seen = {
            let state = self.state();
            if !forced && let Some(token) = state.fresh(self.now()) {
                return Ok(token);
            }
            state.attempts
        };
        let renewing = Arc::clone(&self.renewing).lock_owned().await;
        let request = {
            let now = self.now();
            let state = self.state();
            if state.attempts != seen {
                // An attempt finished while this call queued: share its outcome.
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
            if !forced && let Some(token) = state.fresh(now) {
                return Ok(token);
            }
            if let Some(wait) =
                state.rate_limited_until.and_then(|until| until.duration_since(now).ok()).filter(|wait| !wait.is_zero())
            {
                return match state.usable(now) {
                    Some(token) if !forced => Ok(token),
                    _ => Err(AuthError::RateLimited { retry_after: Some(wait) }),
                };
            }
            let holding = Holding {
                tokens: state.held.as_ref().map(|held| &held.tokens),
                signed_out: state.signed_out.as_deref(),
            };
            Arc::clone(&self.renewer).renew(holding)?
        };
        self.run(renewing, request, Attempt::Renewal { forced }).await
    }

    /// Signs in with the tokens `request` obtains (an authorization code
    /// exchange), replacing the current ones; a failed sign-in leaves them.
    pub(crate) async fn sign_in(
        self: &Arc<Self>,
        request: impl Future<Output = Result<Issued, AuthError>> + Send + 'static,
    ) -> Result<AccessToken, AuthError> {
        let renewing = Arc::clone(&self.renewing).lock_owned().await;
        self.run(renewing, Box::pin(request), Attempt::SignIn).await
    }

    /// Runs `request` in its own task, holding the renewal mutex, and settles
    /// its outcome there too.
    async fn run(
        self: &Arc<Self>,
        renewing: OwnedMutexGuard<()>,
        request: BoxFuture<'static, Result<Issued, AuthError>>,
        attempt: Attempt,
    ) -> Result<AccessToken, AuthError> {
        let cache = Arc::clone(self);
        let task = tokio::spawn(async move {
            let answer = request.await;
            let outcome = cache.settle(answer, attempt).await;
            drop(renewing);
            outcome
        });
        match task.await {
            Ok(outcome) => outcome,
            Err(error) => match error.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => Err(AuthError::Unreachable {
                    reason: "the token request was cancelled: the runtime is shutting down".into(),
                }),
            },
        }
    }

    /// Records the outcome of a request and says what the caller that made it
    /// gets.
    async fn settle(&self, answer: Result<Issued, AuthError>, attempt: Attempt) -> Result<AccessToken, AuthError> {
        let issued = match (answer, attempt) {
            (Ok(issued), _) => issued,
            // A failed sign-in leaves the current one, if any, as it was.
            (Err(error), Attempt::SignIn) => return Err(error),
            (Err(error), Attempt::Renewal { forced }) => return self.failed(error, forced),
        };
        let now = self.now();
        let refresh = issued.refresh_token.or_else(|| match attempt {
            // A renewal answered without a refresh token leaves the old one valid.
            Attempt::Renewal { .. } => self.state().held.as_ref().and_then(|held| held.tokens.refresh_token().cloned()),
            Attempt::SignIn => None,
        });
        let mut access = AccessToken::new(issued.access_token.expose_secret());
        let mut renew_at = None;
        if let Some(lifetime) = issued.expires_in.map(|l| l.min(MAX_TOKEN_LIFETIME))
            && let Some(expires_at) = now.checked_add(lifetime)
        {
            access = access.with_expiry(expires_at);
            renew_at = expires_at.checked_sub(self.margin.min(lifetime / 2));
        }
        let tokens = TokenSet::from_parts(access, refresh);
        Arc::clone(&self.renewer).keep(tokens.clone()).await;
        let mut state = self.state();
        state.held = Some(Held { tokens: tokens.clone(), renew_at, rejected: false });
        state.signed_out = None;
        state.rate_limited_until = None;
        state.last_failure = None;
        state.attempts += 1;
        drop(state);
        tracing::debug!(credential = self.renewer.name(), expires_at = ?tokens.expires_at(), "new token issued");
        Ok(tokens.access_token().clone())
    }

    fn failed(&self, error: AuthError, forced: bool) -> Result<AccessToken, AuthError> {
        let now = self.now();
        let mut state = self.state();
        match &error {
            AuthError::SignInAgain { reason } => {
                state.held = None;
                state.signed_out = Some(reason.clone());
            }
            AuthError::RateLimited { retry_after: Some(wait) } => {
                let until = now.checked_add((*wait).min(MAX_RATE_LIMITED_WAIT)).unwrap_or(now);
                state.rate_limited_until = Some(until);
                state.postpone_renewal(until, now);
            }
            _ => state.postpone_renewal(now.checked_add(RETRY_EARLY_RENEWAL_AFTER).unwrap_or(now), now),
        }
        state.attempts += 1;
        state.last_failure = Some(share(&error));
        if !forced && let Some(token) = state.usable(now) {
            tracing::warn!(credential = self.renewer.name(), %error, "token renewal failed; the current token is still valid");
            return Ok(token);
        }
        Err(match error {
            AuthError::RateLimited { retry_after } => {
                AuthError::RateLimited { retry_after: retry_after.map(|wait| wait.min(MAX_RATE_LIMITED_WAIT)) }
            }
            other => other,
        })
    }

    /// Drops the current token if it is the one the API rejected (a later
    /// token, from a renewal since, stays).
    pub(crate) fn invalidate(&self, rejected: &AccessToken) {
        let mut state = self.state();
        if let Some(held) = state.held.as_mut()
            && held.tokens.access_token().expose_secret() == rejected.expose_secret()
        {
            held.rejected = true;
            tracing::debug!(credential = self.renewer.name(), "the API rejected the token; renewing it on next use");
        }
    }

    /// The current tokens (`None` before the first and after a sign-out).
    pub(crate) fn tokens(&self) -> Option<TokenSet> {
        self.state().held.as_ref().map(|held| held.tokens.clone())
    }

    /// Installs tokens saved earlier, or from a new pairing. An expired access
    /// token is renewed on first use.
    pub(crate) fn install(&self, tokens: TokenSet) {
        let renew_at = tokens.expires_at().map(|at| at.checked_sub(self.margin).unwrap_or(UNIX_EPOCH));
        let mut state = self.state();
        state.held = Some(Held { tokens, renew_at, rejected: false });
        state.signed_out = None;
        state.last_failure = None;
        state.rate_limited_until = None;
    }

    /// Signs out: takes the tokens (for the caller to revoke) and remembers
    /// `reason`. Waits for a renewal in flight, so the tokens it brings are
    /// the ones taken.
    pub(crate) async fn sign_out(&self, reason: &str) -> Option<TokenSet> {
        let _renewing = self.renewing.lock().await;
        let mut state = self.state();
        state.signed_out = Some(reason.to_owned());
        state.last_failure = None;
        state.held.take().map(|held| held.tokens)
    }

    /// The current time on the cache's clock.
    pub(crate) fn now(&self) -> SystemTime {
        (self.clock)()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<R: Renewer> fmt::Debug for TokenCache<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("TokenCache")
            .field("credential", &self.renewer.name())
            .field("refresh_margin", &self.margin)
            .field("tokens", &state.held.as_ref().map(|held| &held.tokens))
            .finish_non_exhaustive()
    }
}

/// A copy of an attempt's error for the callers that queued behind it
/// (`reqwest::Error` cannot be cloned, so a network error becomes its text).
fn share(error: &AuthError) -> AuthError {
    match error {
        AuthError::SignInAgain { reason } => AuthError::SignInAgain { reason: reason.clone() },
        AuthError::RateLimited { retry_after } => AuthError::RateLimited { retry_after: *retry_after },
        AuthError::Rejected { status, error, description } => {
            AuthError::Rejected { status: *status, error: error.clone(), description: description.clone() }
        }
        AuthError::Network(error) => AuthError::Unreachable { reason: error_chain(error) },
        AuthError::Unreachable { reason } => AuthError::Unreachable { reason: reason.clone() },
        AuthError::InvalidResponse(message) => AuthError::InvalidResponse(message.clone()),
        AuthError::Redirect { status, location } => AuthError::Redirect { status: *status, location: location.clone() },
    }
}

/// A network error with its causes, as one line, without its URL.
pub(crate) fn error_chain(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    crate::redact::scrub(&text, None)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Issues `tok-<n>`, valid for `lifetime`, after `delay`; fails with
    /// `failure` when set.
    struct Counting {
        calls: AtomicUsize,
        lifetime: Duration,
        delay: Duration,
        failure: Mutex<Option<fn() -> AuthError>>,
        kept: Mutex<Vec<String>>,
    }

    impl Counting {
        fn new(lifetime: Duration) -> Self {
            Self {
                calls: AtomicUsize::new(0),
                lifetime,
                delay: Duration::from_millis(50),
                failure: Mutex::new(None),
                kept: Mutex::default(),
            }
        }
    }

    impl Renewer for Counting {
        fn name(&self) -> &'static str {
            "test"
        }

        fn renew(self: Arc<Self>, _: Holding<'_>) -> Result<BoxFuture<'static, Result<Issued, AuthError>>, AuthError> {
            Ok(Box::pin(async move {
                tokio::time::sleep(self.delay).await;
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(failure) = *self.failure.lock().unwrap() {
                    return Err(failure());
                }
                Ok(Issued {
                    access_token: SecretString::from(format!("tok-{n}")),
                    refresh_token: None,
                    expires_in: Some(self.lifetime),
                })
            }))
        }

        fn keep(self: Arc<Self>, tokens: TokenSet) -> BoxFuture<'static, ()> {
            Box::pin(async move { self.kept.lock().unwrap().push(tokens.access_token().expose_secret().to_owned()) })
        }
    }

    fn new_cache(renewer: Counting) -> Arc<TokenCache<Counting>> {
        Arc::new(TokenCache::new(renewer, Duration::from_secs(60), Arc::new(SystemTime::now)))
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_renewal_and_it_is_kept_first() {
        let cache = new_cache(Counting::new(Duration::from_secs(3600)));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let cache = Arc::clone(&cache);
                tokio::spawn(async move { cache.token(false).await.unwrap().expose_secret().to_owned() })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), "tok-1");
        }
        assert_eq!(cache.renewer().calls.load(Ordering::SeqCst), 1);
        assert_eq!(*cache.renewer().kept.lock().unwrap(), ["tok-1"]);
        assert_eq!(cache.token(true).await.unwrap().expose_secret(), "tok-2", "forced");
    }

    #[tokio::test]
    async fn an_absurd_lifetime_or_retry_after_is_capped() {
        let cache = new_cache(Counting::new(Duration::from_secs(u64::MAX)));
        let token = cache.token(false).await.unwrap();
        let lifetime = token.expires_at().unwrap().duration_since(SystemTime::now()).unwrap();
        assert!(lifetime <= MAX_TOKEN_LIFETIME, "{lifetime:?}");

        let limited = new_cache(Counting::new(Duration::from_secs(10)));
        *limited.renewer().failure.lock().unwrap() =
            Some(|| AuthError::RateLimited { retry_after: Some(Duration::from_secs(1_000_000_000_000)) });
        let error = limited.token(false).await.unwrap_err();
        assert!(matches!(error, AuthError::RateLimited { retry_after: Some(wait) } if wait <= MAX_RATE_LIMITED_WAIT));
        let until = limited.state().rate_limited_until.unwrap();
        assert!(until.duration_since(SystemTime::now()).unwrap() <= MAX_RATE_LIMITED_WAIT);
    }

    #[tokio::test]
    async fn a_refused_renewal_signs_out_and_a_rejected_token_is_renewed() {
        let cache = new_cache(Counting::new(Duration::from_secs(3600)));
        let first = cache.token(false).await.unwrap();
        cache.invalidate(&first);
        assert_eq!(cache.token(false).await.unwrap().expose_secret(), "tok-2");
        *cache.renewer().failure.lock().unwrap() = Some(|| AuthError::SignInAgain { reason: "revoked".into() });
        let error = cache.token(true).await.unwrap_err();
        assert!(matches!(error, AuthError::SignInAgain { .. }), "{error}");
        assert!(cache.tokens().is_none());
    }
}
