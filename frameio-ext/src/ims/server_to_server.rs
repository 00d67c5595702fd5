//! [`ImsServerToServer`]: tokens for a service account (Adobe's "OAuth
//! Server-to-Server" credential), with no user involved.

use std::sync::Arc;

use secrecy::SecretString;

use super::builder::{ImsBuilder, ImsConfigError};
use super::session::{Flow, Session};
use super::session_api;

/// Tokens from the `client_credentials` grant: the client ID and secret never
/// expire, so a new access token is simply fetched ahead of the current one's
/// expiry. There is no refresh token.
///
/// Only for Frame.io V4 accounts administered in the Adobe Admin Console. The
/// default scopes are [`SERVER_TO_SERVER_SCOPES`](super::SERVER_TO_SERVER_SCOPES).
///
/// ```no_run
/// use frameio_ext::TokenProvider;
/// use frameio_ext::ims::ImsServerToServer;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let auth = ImsServerToServer::builder()
///     .client_id(std::env::var("FRAMEIO_CLIENT_ID")?)
///     .client_secret(std::env::var("FRAMEIO_CLIENT_SECRET")?)
///     .build()?;
/// auth.refresh().await?; // optional: fail fast on bad credentials
/// let token = auth.token().await?; // cached, and renewed before it expires
/// # drop(token);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ImsServerToServer {
    session: Arc<Session>,
}

impl ImsServerToServer {
    /// Starts configuring a server-to-server provider.
    pub fn builder() -> ImsBuilder<ImsServerToServer> {
        ImsBuilder::new()
    }
}

session_api!(ImsServerToServer);

impl ImsBuilder<ImsServerToServer> {
    /// The credential's client secret. Required.
    pub fn client_secret(mut self, client_secret: impl Into<String>) -> Self {
        self.client_secret = Some(SecretString::from(client_secret.into()));
        self
    }

    /// Checks the settings and builds the provider (no request is made yet).
    pub fn build(self) -> Result<ImsServerToServer, ImsConfigError> {
        Ok(ImsServerToServer { session: self.into_session(Flow::ServerToServer)? })
    }
}
