//! An IMS provider's session: the crate's one [`TokenCache`] with IMS as its
//! renewer (client credentials for server-to-server, the refresh token for
//! user sign-ins), plus sign-in by authorization code and revocation.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::ExposeSecret;

use super::authorization::PkceVerifier;
use super::endpoint::Endpoint;
use super::{SERVER_TO_SERVER_SCOPES, USER_SCOPES};
use crate::auth::cache::{Clock, Holding, Issued, Renewer, TokenCache};
use crate::auth::{AccessToken, AuthError, TokenSet};

/// Callback for each new token set.
pub(crate) type OnToken = Arc<dyn Fn(&TokenSet) + Send + Sync>;

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
            Flow::ServerToServer => "ims_server_to_server",
            Flow::WebApp => "ims_web_app",
            Flow::PkceApp => "ims_pkce_app",
        }
    }
}

/// How IMS renews a session's tokens.
pub(crate) struct ImsRenewer {
    endpoint: Endpoint,
    flow: Flow,
    on_token: Option<OnToken>,
}

impl Renewer for ImsRenewer {
    fn name(&self) -> &'static str {
        self.flow.name()
    }

    fn renew(
        self: Arc<Self>,
        holding: Holding<'_>,
    ) -> Result<BoxFuture<'static, Result<Issued, AuthError>>, AuthError> {
        match self.flow {
            Flow::ServerToServer => Ok(Box::pin(async move { self.endpoint.client_credentials().await })),
            Flow::WebApp | Flow::PkceApp => {
                let refresh_token = holding.refresh_token(NEVER_SIGNED_IN, NO_REFRESH_TOKEN)?;
                Ok(Box::pin(async move { self.endpoint.refresh(&refresh_token).await }))
            }
        }
    }

    fn keep(self: Arc<Self>, tokens: TokenSet) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            if let Some(on_token) = &self.on_token {
                on_token(&tokens);
            }
        })
    }
}

/// One provider's tokens and the machinery to keep them valid.
pub(crate) struct Session {
    cache: Arc<TokenCache<ImsRenewer>>,
}

impl Session {
    pub(crate) fn new(
        endpoint: Endpoint,
        flow: Flow,
        margin: Duration,
        clock: Clock,
        on_token: Option<OnToken>,
    ) -> Self {
        let renewer = ImsRenewer { endpoint, flow, on_token };
        Self { cache: Arc::new(TokenCache::new(renewer, margin, clock)) }
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.cache.renewer().endpoint
    }

    /// A valid token, renewing first if it is due (or if `forced`).
    pub(crate) async fn token(&self, forced: bool) -> Result<AccessToken, AuthError> {
        self.cache.token(forced).await
    }

    /// Exchanges an authorization code for a new sign-in.
    pub(crate) async fn sign_in(&self, code: &str, verifier: Option<PkceVerifier>) -> Result<AccessToken, AuthError> {
        let cache = Arc::clone(&self.cache);
        let code = code.to_owned();
        let exchange = async move { cache.renewer().endpoint.exchange_code(&code, verifier.as_ref()).await };
        self.cache.sign_in(exchange).await
    }

    /// Forgets the tokens, then revokes them at IMS.
    pub(crate) async fn revoke(&self) -> Result<(), AuthError> {
        let Some(tokens) = self.cache.sign_out(REVOKED).await else {
            return Ok(());
        };
        let endpoint = self.endpoint();
        let now = self.cache.now();
        let access = async {
            match tokens.expires_at() {
                Some(at) if at <= now => Ok(()),
                _ => endpoint.revoke(tokens.access_token().expose_secret()).await,
            }
        };
        let refresh = async {
            match tokens.refresh_token() {
                Some(token) => endpoint.revoke(token.expose_secret()).await,
                None => Ok(()),
            }
        };
        let (access, refresh) = futures::join!(access, refresh);
        access.and(refresh)
    }

    pub(crate) fn invalidate(&self, rejected: &AccessToken) {
        self.cache.invalidate(rejected)
    }

    pub(crate) fn export(&self) -> Option<TokenSet> {
        self.cache.tokens()
    }

    pub(crate) fn import(&self, tokens: TokenSet) {
        self.cache.install(tokens)
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session").field("endpoint", self.endpoint()).field("cache", &self.cache).finish()
    }
}
