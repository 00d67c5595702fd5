//! The token cache behind every IMS provider: when to renew, and how
//! concurrent callers share one renewal.
//!
//! A [`Session`] renews its token ahead of expiry, after the API rejected it
//! ([`Session::invalidate`]), or on demand. Renewal is single-flight: callers
//! queue on one async mutex; the first renews, and those that queued behind it
//! take its outcome (the new token, or a copy of its error) instead of sending
//! requests of their own. The IMS request runs in a spawned task that holds
//! the mutex, so a caller that gives up (a timeout, a dropped future) cannot
//! lose an answer IMS has already acted on, such as a rotated refresh token or
//! a consumed authorization code.
//!
//! A failed renewal ahead of expiry is not the callers' problem while the
//! current token is still valid: it keeps being served, and renewal is retried
//! a few seconds later. After a 429, IMS is not asked again before its
//! `Retry-After`.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::OwnedMutexGuard;

use super::authorization::PkceVerifier;
use super::builder::{Clock, OnToken};
use super::endpoint::{self, Endpoint, Issued};
use super::{ImsTokens, SERVER_TO_SERVER_SCOPES, USER_SCOPES};
use crate::auth::{AccessToken, AuthError};

/// After a failed renewal ahead of expiry, how long the still-valid token is
/// served before IMS is tried again.
const RETRY_EARLY_RENEWAL_AFTER: Duration = Duration::from_secs(5);

const NEVER_SIGNED_IN: &str = "nobody has signed in yet: complete the authorization flow or import saved tokens";
const REVOKED: &str = "signed out: the tokens were revoked";
const NO_REFRESH_TOKEN: &str = "the access token expired and IMS issued no refresh token \
     (the `offline_access` scope is needed for one)";

/// Which credential type a session serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    ServerToServer,
    WebApp,
    PkceApp,
}

impl Flow {
    pub(crate) fn default_scopes(self) -> &'static [&'static str] {
        match self {
            Flow::ServerToServer => SERVER_TO_SERVER_SCOPES,
            Flow::WebApp | Flow::PkceApp => USER_SCOPES,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Flow::ServerToServer => "server_to_server",
            Flow::WebApp => "web_app",
            Flow::PkceApp => "pkce_app",
        }
    }
}

/// What a finished IMS request was for.
#[derive(Debug, Clone, Copy)]
enum Attempt {
    /// Renewing the current grant; `forced` by an explicit `refresh()`, which
    /// wants the failure rather than the old token.
    Renewal { forced: bool },
    /// Exchanging an authorization code: a new sign-in.
    SignIn,
}

/// One provider's tokens and the machinery to keep them valid.
pub(crate) struct Session {
    endpoint: Endpoint,
    flow: Flow,
    margin: Duration,
    clock: Clock,
    on_token: Option<OnToken>,
    state: Mutex<State>,
    /// Held for the whole of each IMS token request.
    renewing: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Default)]
struct State {
    held: Option<Held>,
    /// Why a user sign-in has no tokens (refused refresh token, revocation).
    signed_out: Option<String>,
    rate_limited_until: Option<SystemTime>,
    /// Finished renewals and sign-ins: a caller that queued sees it change.
    attempts: u64,
    /// The last attempt's error (in its shareable form), for the callers that
    /// queued behind it.
    last_failure: Option<AuthError>,
}

struct Held {
    tokens: ImsTokens,
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

    fn refresh_token(&self) -> Result<SecretString, AuthError> {
        let reason = match &self.held {
            Some(held) => match held.tokens.refresh_token() {
                Some(token) => return Ok(token.clone()),
                None => NO_REFRESH_TOKEN.to_owned(),
            },
            None => self.signed_out.clone().unwrap_or_else(|| NEVER_SIGNED_IN.to_owned()),
        };
        Err(AuthError::SignInAgain { reason })
    }

    /// Keeps serving a still-valid token until `until` before asking IMS again.
    fn postpone_renewal(&mut self, until: SystemTime, now: SystemTime) {
        if let Some(held) = self.held.as_mut()
            && held.usable(now).is_some()
        {
            held.renew_at = Some(until);
        }
    }
}

impl Session {
    pub(crate) fn new(
        endpoint: Endpoint,
        flow: Flow,
        margin: Duration,
        clock: Clock,
        on_token: Option<OnToken>,
    ) -> Self {
        Self { endpoint, flow, margin, clock, on_token, state: Mutex::default(), renewing: Arc::default() }
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.endpoint
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
        let refresh_token = {
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
            match self.flow {
                Flow::ServerToServer => None,
                Flow::WebApp | Flow::PkceApp => Some(state.refresh_token()?),
            }
        };
        let session = Arc::clone(self);
        holding(renewing, async move {
            let answer = match &refresh_token {
                None => session.endpoint.client_credentials().await,
                Some(token) => session.endpoint.refresh(token).await,
            };
            session.settle(answer, Attempt::Renewal { forced })
        })
        .await
    }

    /// Exchanges an authorization code for a new sign-in.
    pub(crate) async fn sign_in(
        self: &Arc<Self>,
        code: &str,
        verifier: Option<PkceVerifier>,
    ) -> Result<AccessToken, AuthError> {
        let renewing = Arc::clone(&self.renewing).lock_owned().await;
        let session = Arc::clone(self);
        let code = code.to_owned();
        holding(renewing, async move {
            let answer = session.endpoint.exchange_code(&code, verifier.as_ref()).await;
            session.settle(answer, Attempt::SignIn)
        })
        .await
    }

    /// Forgets the tokens, then revokes them at IMS. Waits for a renewal in
    /// flight, so that the tokens it brings are the ones revoked.
    pub(crate) async fn revoke(&self) -> Result<(), AuthError> {
        let held = {
            let _renewing = self.renewing.lock().await;
            let mut state = self.state();
            state.signed_out = Some(REVOKED.to_owned());
            state.last_failure = None;
            state.held.take()
        };
        let Some(Held { tokens, .. }) = held else {
            return Ok(());
        };
        let now = self.now();
        let access = async {
            match tokens.expires_at() {
                Some(at) if at <= now => Ok(()),
                _ => self.endpoint.revoke(tokens.access_token().expose_secret()).await,
            }
        };
        let refresh = async {
            match tokens.refresh_token() {
                Some(token) => self.endpoint.revoke(token.expose_secret()).await,
                None => Ok(()),
            }
        };
        let (access, refresh) = futures::join!(access, refresh);
        access.and(refresh)
    }

    /// Drops the current token if it is the one the API rejected (a later
    /// token, from a renewal since, stays).
    pub(crate) fn invalidate(&self, rejected: &AccessToken) {
        let mut state = self.state();
        if let Some(held) = state.held.as_mut()
            && held.tokens.access_token().expose_secret() == rejected.expose_secret()
        {
            held.rejected = true;
            tracing::debug!(flow = self.flow.name(), "the API rejected the IMS token; renewing it on next use");
        }
    }

    pub(crate) fn export(&self) -> Option<ImsTokens> {
        self.state().held.as_ref().map(|held| held.tokens.clone())
    }

    pub(crate) fn import(&self, tokens: ImsTokens) {
        let renew_at = tokens.expires_at().map(|at| at.checked_sub(self.margin).unwrap_or(UNIX_EPOCH));
        let mut state = self.state();
        state.held = Some(Held { tokens, renew_at, rejected: false });
        state.signed_out = None;
        state.last_failure = None;
    }

    /// Records the outcome of an IMS token request and says what the caller
    /// that made it gets.
    fn settle(&self, answer: Result<Issued, AuthError>, attempt: Attempt) -> Result<AccessToken, AuthError> {
        let now = self.now();
        let mut state = self.state();
        let issued = match (answer, attempt) {
            (Ok(issued), _) => issued,
            // A failed code exchange leaves the current sign-in, if any, as it was.
            (Err(error), Attempt::SignIn) => return Err(error),
            (Err(error), Attempt::Renewal { forced }) => {
                match &error {
                    AuthError::SignInAgain { reason } => {
                        state.held = None;
                        state.signed_out = Some(reason.clone());
                    }
                    AuthError::RateLimited { retry_after: Some(wait) } => {
                        let until = now.checked_add(*wait).unwrap_or(now);
                        state.rate_limited_until = Some(until);
                        state.postpone_renewal(until, now);
                    }
                    _ => state.postpone_renewal(now + RETRY_EARLY_RENEWAL_AFTER, now),
                }
                state.attempts += 1;
                state.last_failure = Some(share(&error));
                if !forced && let Some(token) = state.usable(now) {
                    tracing::warn!(
                        flow = self.flow.name(),
                        error = %error,
                        "IMS token renewal failed; the current token is still valid"
                    );
                    return Ok(token);
                }
                return Err(error);
            }
        };
        // A refresh answered without a refresh token leaves the old one valid.
        let refresh = issued.refresh_token.or_else(|| match attempt {
            Attempt::Renewal { .. } => state.held.as_ref().and_then(|held| held.tokens.refresh_token().cloned()),
            Attempt::SignIn => None,
        });
        let mut access = AccessToken::new(issued.access_token.expose_secret());
        let mut renew_at = None;
        if let Some(lifetime) = issued.expires_in
            && let Some(expires_at) = now.checked_add(lifetime)
        {
            access = access.with_expiry(expires_at);
            renew_at = Some(expires_at - self.margin.min(lifetime / 2));
        }
        let tokens = ImsTokens::from_parts(access, refresh);
        state.held = Some(Held { tokens: tokens.clone(), renew_at, rejected: false });
        state.signed_out = None;
        state.rate_limited_until = None;
        state.last_failure = None;
        state.attempts += 1;
        drop(state);
        tracing::debug!(
            flow = self.flow.name(),
            expires_at = ?tokens.expires_at(),
            "IMS issued a new token"
        );
        if let Some(on_token) = &self.on_token {
            on_token(&tokens);
        }
        Ok(tokens.access_token().clone())
    }

    fn now(&self) -> SystemTime {
        (self.clock)()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Session")
            .field("flow", &self.flow)
            .field("endpoint", &self.endpoint)
            .field("refresh_margin", &self.margin)
            .field("tokens", &state.held.as_ref().map(|held| &held.tokens))
            .finish_non_exhaustive()
    }
}

/// Runs `work` in its own task, holding the renewal mutex until it is done.
async fn holding(
    renewing: OwnedMutexGuard<()>,
    work: impl Future<Output = Result<AccessToken, AuthError>> + Send + 'static,
) -> Result<AccessToken, AuthError> {
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
                reason: "the token request was cancelled: the runtime is shutting down".into(),
            }),
        },
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
        AuthError::Network(error) => AuthError::Unreachable { reason: endpoint::error_chain(error) },
        AuthError::Unreachable { reason } => AuthError::Unreachable { reason: reason.clone() },
        AuthError::InvalidResponse(message) => AuthError::InvalidResponse(message.clone()),
    }
}
