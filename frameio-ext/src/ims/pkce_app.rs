//! [`ImsPkceApp`]: user sign-in for apps that cannot keep a secret (Adobe's
//! "OAuth Single-Page App" and "OAuth Native App" credentials), with PKCE.

use std::sync::Arc;

use oauth2::PkceCodeChallenge;

use super::authorization::{AuthorizationRequest, PkceVerifier};
use super::builder::{ImsBuilder, ImsConfigError};
use super::session::{Flow, Session};
use super::session_api;
use crate::auth::{AccessToken, AuthError};

/// Signs a user in with the authorization code flow and PKCE (S256): no client
/// secret, the code exchange is bound to a one-time verifier instead. The
/// token is then kept valid with the refresh token.
///
/// For a native app, the redirect URI is the `adobe+…://callback` one the
/// Developer Console assigned, or a loopback address for which
/// [`LoopbackRedirect`](super::LoopbackRedirect) receives the code. The
/// default scopes are [`USER_SCOPES`](super::USER_SCOPES).
///
/// ```
/// use frameio_ext::TokenProvider;
/// use frameio_ext::ims::{ImsPkceApp, PkceVerifier};
///
/// let auth = ImsPkceApp::builder()
///     .client_id("my-client-id")
///     .redirect_uri("https://example.com/callback")
///     .build()?;
///
/// // 1. Send the user to IMS; keep the state and the verifier until the redirect.
/// let (request, verifier) = auth.authorization_url();
/// assert!(request.url().query_pairs().any(|(k, v)| k == "code_challenge_method" && v == "S256"));
///
/// // 2. When the redirect brings `code` (and the same `state`): exchange it.
/// async fn callback(
///     auth: &ImsPkceApp,
///     code: &str,
///     verifier: &PkceVerifier,
/// ) -> Result<(), frameio_ext::auth::AuthError> {
///     auth.exchange_code(code, verifier).await?;
///     let token = auth.token().await?;
/// #   drop(token);
///     Ok(())
/// }
/// # drop(verifier);
/// # Ok::<(), frameio_ext::ims::ImsConfigError>(())
/// ```
#[derive(Clone)]
pub struct ImsPkceApp {
    session: Arc<Session>,
}

impl ImsPkceApp {
    /// Starts configuring a PKCE (single-page or native app) provider.
    pub fn builder() -> ImsBuilder<ImsPkceApp> {
        ImsBuilder::new()
    }

    /// The URL to send the user to, with a new random `state` and PKCE
    /// challenge, and the verifier that [`exchange_code`](Self::exchange_code)
    /// will need.
    pub fn authorization_url(&self) -> (AuthorizationRequest, PkceVerifier) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self.session.endpoint().authorize_url(Some(challenge));
        (AuthorizationRequest::new(url, state.into_secret()), PkceVerifier::new(verifier.into_secret()))
    }

    /// Exchanges the `code` IMS sent to the redirect URI (after you checked
    /// its `state`) and the request's verifier for tokens, replacing any
    /// earlier sign-in.
    pub async fn exchange_code(&self, code: &str, verifier: &PkceVerifier) -> Result<AccessToken, AuthError> {
        self.session.sign_in(code, Some(verifier.clone())).await
    }
}

session_api!(ImsPkceApp);

impl ImsBuilder<ImsPkceApp> {
    /// Where IMS sends the user back, matching a redirect URI pattern
    /// registered on the credential (for a loopback redirect,
    /// [`LoopbackRedirect::redirect_uri`](super::LoopbackRedirect::redirect_uri)).
    /// Required.
    pub fn redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(redirect_uri.into());
        self
    }

    /// Checks the settings and builds the provider.
    pub fn build(self) -> Result<ImsPkceApp, ImsConfigError> {
        Ok(ImsPkceApp { session: self.into_session(Flow::PkceApp)? })
    }
}
