//! [`ImsWebApp`]: user sign-in for server-side apps that can keep a client
//! secret (Adobe's "OAuth Web App" credential).

use std::sync::Arc;

use secrecy::SecretString;

use super::authorization::AuthorizationRequest;
use super::builder::{ImsBuilder, ImsConfigError};
use super::session::{Flow, Session};
use super::session_api;
use crate::auth::{AccessToken, AuthError};

/// Signs a user in with the authorization code flow, authenticating to IMS
/// with the client secret (HTTP Basic), then keeps their token valid with the
/// refresh token.
///
/// The default scopes are [`USER_SCOPES`](super::USER_SCOPES). Until
/// [`exchange_code`](Self::exchange_code) (or [`import`](Self::import)),
/// [`token`](crate::TokenProvider::token) fails with
/// [`AuthError::SignInAgain`]; so it does once IMS refuses the refresh token.
///
/// ```
/// use frameio_ext::TokenProvider;
/// use frameio_ext::ims::ImsWebApp;
///
/// let auth = ImsWebApp::builder()
///     .client_id("my-client-id")
///     .client_secret("my-client-secret")
///     .redirect_uri("https://example.com/callback")
///     .on_token(|_tokens| { /* save them (serde) for the next start */ })
///     .build()?;
///
/// // 1. On /login: send the user to IMS, keeping the state in their session.
/// let request = auth.authorization_url();
/// assert_eq!(request.url().path(), "/ims/authorize/v2");
/// let session_state = request.state().to_owned();
///
/// // 2. On /callback?code=…&state=…: check the state, exchange the code.
/// async fn callback(
///     auth: &ImsWebApp,
///     code: &str,
///     state: &str,
///     session_state: &str,
/// ) -> Result<(), Box<dyn std::error::Error>> {
///     if state != session_state {
///         return Err("forged or stale sign-in redirect".into());
///     }
///     auth.exchange_code(code).await?;
///     let token = auth.token().await?; // renewed with the refresh token from now on
/// #   drop(token);
///     Ok(())
/// }
/// # drop(session_state);
/// # Ok::<(), frameio_ext::ims::ImsConfigError>(())
/// ```
#[derive(Clone)]
pub struct ImsWebApp {
    session: Arc<Session>,
}

impl ImsWebApp {
    /// Starts configuring a web app provider.
    pub fn builder() -> ImsBuilder<ImsWebApp> {
        ImsBuilder::new()
    }

    /// The URL to send the user to, with a new random `state`.
    pub fn authorization_url(&self) -> AuthorizationRequest {
        let (url, state) = self.session.endpoint().authorize_url(None);
        AuthorizationRequest::new(url, state.into_secret())
    }

    /// Exchanges the `code` IMS sent to the redirect URI (after you checked
    /// its `state`) for tokens, replacing any earlier sign-in.
    pub async fn exchange_code(&self, code: &str) -> Result<AccessToken, AuthError> {
        self.session.sign_in(code, None).await
    }
}

session_api!(ImsWebApp);

impl ImsBuilder<ImsWebApp> {
    /// The credential's client secret. Required.
    pub fn client_secret(mut self, client_secret: impl Into<String>) -> Self {
        self.client_secret = Some(SecretString::from(client_secret.into()));
        self
    }

    /// Where IMS sends the user back: your callback route, matching a
    /// redirect URI pattern registered on the credential. Required.
    pub fn redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(redirect_uri.into());
        self
    }

    /// Checks the settings and builds the provider.
    pub fn build(self) -> Result<ImsWebApp, ImsConfigError> {
        Ok(ImsWebApp { session: self.into_session(Flow::WebApp)? })
    }
}
