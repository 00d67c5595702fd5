//! [`ImsBuilder`]: the settings every IMS provider shares, and their checks.
//!
//! The settings a flow needs on top (client secret, redirect URI) are methods
//! of `ImsBuilder<ThatProvider>`, in the provider's own module, so that a PKCE
//! app cannot be given a client secret by mistake.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::Url;
use secrecy::{ExposeSecret as _, SecretString};

use super::DEFAULT_IMS_BASE_URL;
use super::endpoint::{ClientAuth, Endpoint, EndpointConfig};
use super::session::{Flow, OnToken, Session};
use crate::auth::TokenSet;
use crate::auth::cache::Clock;

/// Builds an IMS provider: start from [`ImsServerToServer::builder`],
/// [`ImsWebApp::builder`] or [`ImsPkceApp::builder`].
///
/// [`ImsServerToServer::builder`]: super::ImsServerToServer::builder
/// [`ImsWebApp::builder`]: super::ImsWebApp::builder
/// [`ImsPkceApp::builder`]: super::ImsPkceApp::builder
#[must_use]
pub struct ImsBuilder<P> {
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<SecretString>,
    pub(super) redirect_uri: Option<String>,
    ims_base_url: Option<String>,
    scopes: Option<Vec<String>>,
    http: Option<reqwest::Client>,
    timeout: Duration,
    refresh_margin: Duration,
    on_token: Option<OnToken>,
    clock: Option<Clock>,
    provider: PhantomData<fn() -> P>,
}

/// Why an IMS provider could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImsConfigError {
    /// A required setting was not given (or is empty).
    #[error("missing IMS setting: {0}")]
    Missing(&'static str),
    /// A setting has an unusable value.
    #[error("invalid IMS setting {field}: {reason}")]
    Invalid {
        /// The setting's builder method.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl<P> ImsBuilder<P> {
    pub(super) fn new() -> Self {
        Self {
            client_id: None,
            client_secret: None,
            redirect_uri: None,
            ims_base_url: None,
            scopes: None,
            http: None,
            timeout: Duration::from_secs(30),
            refresh_margin: Duration::from_secs(60),
            on_token: None,
            clock: None,
            provider: PhantomData,
        }
    }

    /// The credential's client ID (the "API key" in the Adobe Developer
    /// Console). Required.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    /// The IMS to use, for example a staging one (default
    /// [`DEFAULT_IMS_BASE_URL`]). It must be HTTPS, except on a loopback host.
    pub fn ims_base_url(mut self, url: impl Into<String>) -> Self {
        self.ims_base_url = Some(url.into());
        self
    }

    /// The scopes to ask for, replacing the flow's default
    /// ([`SERVER_TO_SERVER_SCOPES`](super::SERVER_TO_SERVER_SCOPES) or
    /// [`USER_SCOPES`](super::USER_SCOPES)).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The HTTP client for IMS requests (proxy, TLS roots, connection
    /// sharing). Default: a new `reqwest::Client` that follows no redirects
    /// (a redirect could carry the client secret or a refresh token to another
    /// host); build yours with `redirect(reqwest::redirect::Policy::none())`.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// How long one IMS request may take (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long before expiry a token is renewed (default 60 s). For a token
    /// that lives less than twice this, half its lifetime is used instead, so
    /// that short-lived tokens are not renewed on every call.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Called with the new tokens each time IMS issues some (sign-in, renewal),
    /// in order, before any caller gets the new access token. Persist them
    /// here: IMS may rotate the refresh token, and the old one then stops
    /// working. Keep it quick (no blocking I/O; spawn a task for slow
    /// storage), and do not call the provider's `refresh`, `revoke` or
    /// `exchange_code` from it: they wait for the renewal that is calling it.
    pub fn on_token(mut self, callback: impl Fn(&TokenSet) + Send + Sync + 'static) -> Self {
        self.on_token = Some(Arc::new(callback));
        self
    }

    /// The wall clock that decides when tokens expire (default
    /// [`SystemTime::now`]); tests pass a fake one to skip time.
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Checks the settings and builds the shared session for `flow`.
    pub(super) fn into_session(self, flow: Flow) -> Result<Arc<Session>, ImsConfigError> {
        let client_id =
            self.client_id.filter(|id| !id.trim().is_empty()).ok_or(ImsConfigError::Missing("client_id"))?;
        let client_secret = match flow {
            Flow::PkceApp => None,
            Flow::ServerToServer | Flow::WebApp => Some(
                self.client_secret
                    .filter(|secret| !secret.expose_secret().is_empty())
                    .ok_or(ImsConfigError::Missing("client_secret"))?,
            ),
        };
        let redirect_uri =
            match flow {
                Flow::ServerToServer => None,
                Flow::WebApp | Flow::PkceApp => {
                    let raw = self.redirect_uri.ok_or(ImsConfigError::Missing("redirect_uri"))?;
                    Some(Url::parse(&raw).map_err(|e| ImsConfigError::Invalid {
                        field: "redirect_uri",
                        reason: format!("`{raw}`: {e}"),
                    })?)
                }
            };
        let base_url = base_url(self.ims_base_url.as_deref().unwrap_or(DEFAULT_IMS_BASE_URL))?;
        let scopes =
            self.scopes.unwrap_or_else(|| flow.default_scopes().iter().map(|scope| scope.to_string()).collect());
        let endpoint = Endpoint::new(EndpointConfig {
            base_url,
            client_id,
            client_secret,
            client_auth: match flow {
                Flow::ServerToServer => ClientAuth::SecretInBody,
                Flow::WebApp => ClientAuth::SecretInHeader,
                Flow::PkceApp => ClientAuth::Public,
            },
            redirect_uri,
            scopes,
            http: match self.http {
                Some(http) => http,
                None => crate::config::http_client(crate::config::DEFAULT_CONNECT_TIMEOUT)
                    .map_err(|e| ImsConfigError::Invalid { field: "http_client", reason: e.to_string() })?,
            },
            timeout: self.timeout,
        });
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemTime::now));
        Ok(Arc::new(Session::new(endpoint, flow, self.refresh_margin, clock, self.on_token)))
    }
}

/// Checks an IMS base URL: HTTPS, or plain HTTP on a loopback host (a local
/// test IMS). The result ends with `/` so that endpoint paths join below it.
fn base_url(raw: &str) -> Result<Url, ImsConfigError> {
    let mut url = crate::config::base_url(raw, false)
        .map_err(|reason| ImsConfigError::Invalid { field: "ims_base_url", reason: format!("`{raw}` {reason}") })?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl<P> fmt::Debug for ImsBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImsBuilder")
            .field("provider", &std::any::type_name::<P>())
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .field("redirect_uri", &self.redirect_uri)
            .field("ims_base_url", &self.ims_base_url)
            .field("scopes", &self.scopes)
            .field("timeout", &self.timeout)
            .field("refresh_margin", &self.refresh_margin)
            .field("on_token", &self.on_token.is_some())
            .finish_non_exhaustive()
    }
}
