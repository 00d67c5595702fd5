//! The first leg of a user sign-in: the URL the user is sent to, the `state`
//! to expect back, and (for PKCE) the verifier to keep until the code arrives.

use std::fmt;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

/// Where to send the user to sign in (`/ims/authorize/v2`), and the `state`
/// IMS must send back.
///
/// Keep [`state`](Self::state) (for example in the user's session) and, when
/// IMS redirects to your redirect URI, check that its `state` query parameter
/// is the same before exchanging the `code`: that is what defeats cross-site
/// request forgery. The state is random for each request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    url: Url,
    state: String,
}

impl AuthorizationRequest {
    pub(crate) fn new(url: Url, state: String) -> Self {
        Self { url, state }
    }

    /// The URL to open in the user's browser.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The `state` this request carries.
    pub fn state(&self) -> &str {
        &self.state
    }
}

/// A PKCE code verifier: the secret whose SHA-256 is the `code_challenge` in
/// the authorization URL, to hand to the code exchange.
///
/// Keep it between the two legs of the sign-in (in memory, or in the user's
/// session via [`expose_secret`](Self::expose_secret) and
/// [`new`](Self::new)). `Debug` shows `[redacted]`.
#[derive(Clone)]
pub struct PkceVerifier(SecretString);

impl PkceVerifier {
    /// A verifier kept from an earlier [`authorization_url`](super::ImsPkceApp::authorization_url).
    pub fn new(verifier: impl Into<String>) -> Self {
        Self(SecretString::from(verifier.into()))
    }

    /// The verifier's value, for storing it. Never log it.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}
