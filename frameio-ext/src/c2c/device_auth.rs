//! Pairing a device (the C2C guides "How to: Authorize" and "How to: Manage
//! Authorization"): request a device code, show the user its code, poll until
//! the user enters it in Frame.io; later refresh and revoke the tokens.
//!
//! Polling follows the guide's error handling: `authorization_pending` means
//! "keep polling" (after `interval`), `slow_down` lengthens the interval,
//! `expired_token` means "Generate a new code/QR code via Step 1, present it
//! to the user, and resume polling", and any other answer ends the pairing
//! (`access_denied`: the user declined).

use std::fmt;
use std::time::{Duration, SystemTime};

use frameio_gen::c2c::types::{
    DeviceCodeRequest, DeviceCodeResponse as CodeResponse, DeviceTokenRequest, GrantType, RevokeRequest, UrlPairing,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

use super::C2cClient;
use super::errors::{self, C2cErrorClass, C2cErrorKind};
use crate::auth::TokenSet;
use crate::error::Result;
use crate::retry::{Retrier, Retry};

/// The scopes a device asks for by default: "`asset_create`: Enables asset
/// creation and uploading. `offline`: Permits authorization refreshing via
/// refresh token" ("In practical implementations, devices typically request
/// both scopes").
pub const DEFAULT_SCOPE: &str = "asset_create offline";

/// How much longer the polling interval gets after each `slow_down`.
///
/// The C2C error is OAuth's device grant error (RFC 8628 §3.5: "the interval
/// MUST be increased by 5 seconds for this and all subsequent requests"). The
/// guide's general back-off for `slow_down` (0.5 s doubling to 32 s) starts
/// below the 5 s `interval` the API hands out, so it could never slow the
/// polling down; the RFC's rule does, from the first `slow_down` on.
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

/// The interval RFC 8628 prescribes when the server gives none.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// The longest a pairing code is believed to live, whatever `expires_in`
/// says (the guide's codes live minutes): a bogus value cannot make the wait
/// overflow the clock or never end.
pub const MAX_CODE_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The longest polling interval believed, whatever `interval` says (and
/// however many `slow_down`s): the device keeps checking at least this often.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(60);

/// A device's permanent identity: its `client_id` ("a unique identifier per
/// hardware device, such as a unique hardware serial number") and the
/// `client_secret` Frame.io issued for its model ("This confidential value
/// should remain protected from users and encrypted when stored").
///
/// `Debug` shows the client id only.
#[derive(Clone)]
pub struct DeviceCredentials {
    client_id: String,
    client_secret: SecretString,
}

impl DeviceCredentials {
    /// The device's client id and its model's client secret.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self { client_id: client_id.into(), client_secret: SecretString::from(client_secret.into()) }
    }

    /// The device's client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    fn secret(&self) -> String {
        self.client_secret.expose_secret().to_owned()
    }
}

impl fmt::Debug for DeviceCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// A pairing code to show the user, from [`DeviceAuth::request_code`].
///
/// `Debug` hides the device code, which identifies the pairing request and
/// "should remain hidden from users".
#[derive(Clone)]
pub struct DeviceCode {
    device_code: SecretString,
    user_code: String,
    device_name: String,
    verification_uri: Option<String>,
    verification_uri_complete: Option<String>,
    expires_in: Duration,
    interval: Duration,
    received_at: Instant,
}

impl DeviceCode {
    fn new(answer: CodeResponse) -> Self {
        let seconds = |value: f64, max: Duration| Duration::try_from_secs_f64(value).ok().map(|d| d.min(max));
        Self {
            device_code: SecretString::from(answer.device_code),
            user_code: answer.user_code,
            device_name: answer.name,
            verification_uri: answer.verification_uri,
            verification_uri_complete: answer.verification_uri_complete,
            expires_in: seconds(answer.expires_in, MAX_CODE_LIFETIME).unwrap_or_default(),
            interval: seconds(answer.interval, MAX_POLL_INTERVAL).filter(|i| !i.is_zero()).unwrap_or(DEFAULT_INTERVAL),
            received_at: Instant::now(),
        }
    }

    /// The six-digit code the user enters in Frame.io.
    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    /// The name the device will have in the project.
    pub fn device_name(&self) -> &str {
        &self.device_name
    }

    /// Where the user enters the code by hand (URL pairing only, see
    /// [`DeviceAuth::url_pairing`]).
    pub fn verification_uri(&self) -> Option<&str> {
        self.verification_uri.as_deref()
    }

    /// The pairing URL with the code filled in, for a QR code or a link (URL
    /// pairing only).
    pub fn verification_uri_complete(&self) -> Option<&str> {
        self.verification_uri_complete.as_deref()
    }

    /// How long the code was valid for when it was issued.
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// How long to wait between polls, as the API asked.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How long the code remains valid, for a countdown.
    pub fn remaining(&self) -> Duration {
        self.expires_in.saturating_sub(self.received_at.elapsed())
    }
}

impl fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCode")
            .field("user_code", &self.user_code)
            .field("device_name", &self.device_name)
            .field("verification_uri", &self.verification_uri)
            .field("verification_uri_complete", &self.verification_uri_complete)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish_non_exhaustive()
    }
}

/// What one poll of the token endpoint said.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PollOutcome {
    /// The user entered the code: the device is paired.
    Authorized(TokenSet),
    /// The user has not entered the code yet: poll again after the interval.
    Pending,
    /// Polling too fast: poll again after a longer interval.
    SlowDown,
    /// The code expired: request a new one and show it.
    Expired,
}

/// Pairs a device and manages its authorization. Cheap to clone.
///
/// ```no_run
/// use frameio_ext::c2c::{C2cClient, DeviceAuth, DeviceCredentials};
///
/// # async fn run() -> frameio_ext::Result<()> {
/// let auth = DeviceAuth::new(C2cClient::builder().build()?, DeviceCredentials::new("SN-0042", "<client secret>"))
///     .url_pairing(true);
/// let tokens = auth
///     .authorize(|code| match code.verification_uri_complete() {
///         Some(url) => println!("Scan {url}, or enter {} at {:?}", code.user_code(), code.verification_uri()),
///         None => println!("Enter {} in Frame.io", code.user_code()),
///     })
///     .await?;
/// # let _ = tokens;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    client: C2cClient,
    device: DeviceCredentials,
    scope: String,
    url_pairing: bool,
}

impl DeviceAuth {
    /// Pairing for `device`, through `client` (which needs no credentials).
    pub fn new(client: C2cClient, device: DeviceCredentials) -> Self {
        Self { client, device, scope: DEFAULT_SCOPE.to_string(), url_pairing: false }
    }

    /// The space-separated scopes to ask for (default [`DEFAULT_SCOPE`];
    /// without `offline` there is no refresh token, and the device must be
    /// paired again when the access token expires).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Asks for URL pairing (`x-client-platypus-enabled: true`), whose codes
    /// come with a [`verification_uri`](DeviceCode::verification_uri) and a
    /// [`verification_uri_complete`](DeviceCode::verification_uri_complete)
    /// for a link or a QR code.
    pub fn url_pairing(mut self, enabled: bool) -> Self {
        self.url_pairing = enabled;
        self
    }

    /// The client the pairing calls go through.
    pub fn client(&self) -> &C2cClient {
        &self.client
    }

    /// The device being paired.
    pub fn device(&self) -> &DeviceCredentials {
        &self.device
    }

    /// Step 1: a new pairing code.
    ///
    /// # Errors
    /// The crate's [`Error`](crate::Error); `invalid_client` when the client
    /// secret is wrong.
    pub async fn request_code(&self) -> Result<DeviceCode> {
        let body = DeviceCodeRequest {
            client_id: self.device.client_id.clone(),
            client_secret: self.device.secret(),
            scope: self.scope.clone(),
        };
        let mut request = self.client.authentication_device_request_code().body(body);
        if self.url_pairing {
            request = request.x_client_platypus_enabled(UrlPairing::True);
        }
        Ok(DeviceCode::new(request.send().await?))
    }

    /// Step 2, once: asks whether the user has entered `code`.
    ///
    /// # Errors
    /// Any answer other than success, `authorization_pending`, `slow_down`
    /// and `expired_token`; [`C2cErrorKind::AccessDenied`] when the user
    /// declined.
    pub async fn poll(&self, code: &DeviceCode) -> Result<PollOutcome> {
        // The guide's polling request carries no client secret.
        let body = DeviceTokenRequest {
            client_id: self.device.client_id.clone(),
            client_secret: None,
            device_code: Some(code.device_code.expose_secret().to_owned()),
            grant_type: GrantType::UrnIetfParamsOauthGrantTypeDeviceCode,
            refresh_token: None,
        };
        match self.client.authentication_auth_device_token().body(body).send().await {
            Ok(answer) => Ok(PollOutcome::Authorized(super::tokens::from_response(answer, SystemTime::now()))),
            Err(error) => match errors::error_kind(&error) {
                C2cErrorKind::AuthorizationPending => Ok(PollOutcome::Pending),
                C2cErrorKind::SlowDown => Ok(PollOutcome::SlowDown),
                C2cErrorKind::ExpiredToken => Ok(PollOutcome::Expired),
                _ => Err(error),
            },
        }
    }

    /// Step 2: polls every [`interval`](DeviceCode::interval) (plus
    /// [`SLOW_DOWN_STEP`] for each `slow_down`, at most [`MAX_POLL_INTERVAL`])
    /// until the user enters `code` (`Some`) or it expires (`None`). A
    /// transient failure (network, 5xx) does not end the wait: the next poll
    /// waits as the client's retry policy says for it (at least the interval),
    /// until the policy gives up.
    ///
    /// # Errors
    /// A poll failed for good, e.g. the user declined ([`C2cErrorKind::AccessDenied`]).
    pub async fn wait(&self, code: &DeviceCode) -> Result<Option<TokenSet>> {
        let expires = code.received_at.checked_add(code.expires_in).unwrap_or(code.received_at);
        let mut interval = code.interval;
        let mut failures = Retrier::new(self.client.call_retry());
        let mut wait = interval;
        loop {
            tokio::time::sleep(wait).await;
            wait = interval;
            if Instant::now() >= expires {
                return Ok(None);
            }
            match self.poll(code).await {
                Ok(PollOutcome::Authorized(tokens)) => return Ok(Some(tokens)),
                Ok(PollOutcome::Pending) => failures = Retrier::new(self.client.call_retry()),
                Ok(PollOutcome::SlowDown) => {
                    interval = interval.saturating_add(SLOW_DOWN_STEP).min(MAX_POLL_INTERVAL);
                    wait = interval;
                    tracing::debug!(interval_ms = crate::retry::millis(interval), "slow_down: polling less often");
                }
                Ok(PollOutcome::Expired) => return Ok(None),
                Err(error) if errors::classify(&error) == C2cErrorClass::Retry => {
                    failures.attempt();
                    let retry = match error.status().map(|s| s.as_u16()) {
                        Some(429) => Retry::RateLimited { hint: error.retry_after() },
                        Some(500..=599) => Retry::ServerError,
                        _ => Retry::Transient { reason: "pairing poll failed" },
                    };
                    let Some(backoff) = failures.next_wait(retry) else { return Err(error) };
                    wait = interval.max(backoff);
                    tracing::warn!(%error, wait_ms = crate::retry::millis(wait), "polling for the pairing failed; polling on");
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// The whole pairing: requests a code, hands it to `show` for the user,
    /// and waits; when the code expires, requests a new one and hands that to
    /// `show` too, for as long as it takes. Drop the future to cancel.
    ///
    /// # Errors
    /// A code could not be requested, or a poll failed for good.
    pub async fn authorize(&self, mut show: impl FnMut(&DeviceCode)) -> Result<TokenSet> {
        loop {
            let code = self.request_code().await?;
            show(&code);
            if let Some(tokens) = self.wait(&code).await? {
                return Ok(tokens);
            }
            tracing::info!("the pairing code expired; requesting a new one");
        }
    }

    /// Exchanges `refresh_token` for new tokens. The old refresh token is
    /// spent once Frame.io answers: save the new tokens before anything else
    /// ([`DeviceTokenProvider`](super::DeviceTokenProvider) does).
    ///
    /// # Errors
    /// `invalid_request` when the refresh token expired or was used already,
    /// a 401 when the authorization was revoked: in both cases the device
    /// must be paired again.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet> {
        let answer = self.refresh_request(refresh_token).send().await?;
        Ok(super::tokens::from_response(answer, SystemTime::now()))
    }

    /// The refresh grant's call.
    pub(crate) fn refresh_request(
        &self,
        refresh_token: &SecretString,
    ) -> super::ops::AuthenticationAuthDeviceToken<'_> {
        let body = DeviceTokenRequest {
            client_id: self.device.client_id.clone(),
            client_secret: Some(self.device.secret()),
            device_code: None,
            grant_type: GrantType::RefreshToken,
            refresh_token: Some(refresh_token.expose_secret().to_owned()),
        };
        self.client.authentication_auth_device_token().body(body)
    }

    /// Revokes the authorization that `refresh_token` belongs to ("Following
    /// revocation, you must reinitiate the authentication & authorization
    /// process").
    ///
    /// # Errors
    /// The crate's [`Error`](crate::Error).
    pub async fn revoke(&self, refresh_token: &SecretString) -> Result<()> {
        let body = RevokeRequest {
            client_id: self.device.client_id.clone(),
            client_secret: self.device.secret(),
            token: refresh_token.expose_secret().to_owned(),
        };
        self.client.authentication_auth_device_revoke_token().body(body).send().await?;
        Ok(())
    }
}
