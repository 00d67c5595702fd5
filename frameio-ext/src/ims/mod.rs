//! Adobe IMS sign-in: a [`TokenProvider`](crate::auth::TokenProvider) for
//! each of Frame.io's OAuth credential types.
//!
//! Frame.io V4 authenticates through Adobe Identity Management Service (IMS),
//! an OAuth 2.0 server:
//!
//! | Adobe credential | Provider | How tokens are obtained |
//! | --- | --- | --- |
//! | OAuth Server-to-Server | [`ImsServerToServer`] | `client_credentials` grant; no refresh token, a new token is fetched before expiry |
//! | OAuth Web App | [`ImsWebApp`] | authorization code sent with the client secret, then the refresh token |
//! | OAuth Single-Page App, OAuth Native App | [`ImsPkceApp`] | authorization code with PKCE (S256) and no secret, then the refresh token |
//!
//! Every provider:
//! - caches its token and renews it ahead of expiry
//!   ([`ImsBuilder::refresh_margin`], 60 s by default);
//! - sends a single renewal request however many callers ask for a token at
//!   once, and shares its outcome with all of them;
//! - drops a token the API answered 401 to
//!   ([`TokenProvider::invalidate`](crate::auth::TokenProvider::invalidate));
//! - revokes, exports and imports its tokens ([`TokenSet`](crate::auth::TokenSet), a serde type);
//! - calls back on every new token ([`ImsBuilder::on_token`]), so that an app
//!   can save the refresh token IMS rotated;
//! - never shows a secret: `Debug`, `Display`, errors and logs are redacted.
//!
//! Native apps can receive the redirect on a loopback address with
//! [`LoopbackRedirect`] (see `examples/ims_native_login.rs`).
//!
//! The `oauth2` crate builds the authorization URLs and token requests; the
//! IMS specifics around it (paths, error answers, revocation) are written
//! here: the `endpoint` module says which and why.
//!
//! Cloning a provider is cheap and the clones share one token cache, so a
//! provider can be handed to several clients (or wrapped in an `Arc`). IMS
//! requests run in spawned Tokio tasks, so use the providers within a Tokio
//! runtime.

mod authorization;
mod builder;
mod endpoint;
mod loopback;
mod pkce_app;
mod server_to_server;
mod session;
mod web_app;

pub use authorization::{AuthorizationRequest, PkceVerifier};
pub use builder::{ImsBuilder, ImsConfigError};
pub use loopback::{LoopbackError, LoopbackRedirect};
pub use pkce_app::ImsPkceApp;
pub use secrecy::{ExposeSecret, SecretString};
pub use server_to_server::ImsServerToServer;
pub use web_app::ImsWebApp;

/// Adobe's production IMS.
pub const DEFAULT_IMS_BASE_URL: &str = "https://ims-na1.adobelogin.com";

/// Scopes a server-to-server credential asks for by default.
pub const SERVER_TO_SERVER_SCOPES: &[&str] = &["openid", "AdobeID", "frame.s2s.all"];

/// Scopes the user sign-in flows ask for by default. `offline_access` is what
/// makes IMS issue a refresh token.
pub const USER_SCOPES: &[&str] = &["openid", "email", "profile", "offline_access", "additional_info.roles"];

/// The methods every IMS provider shares, all delegating to its `Session`.
macro_rules! session_api {
    ($provider:ident) => {
        impl $provider {
            /// Renews the token now, whatever its expiry, and returns the new
            /// one (for example to fail fast on bad credentials at startup).
            ///
            /// Callers already waiting for a renewal share it instead of
            /// starting another.
            pub async fn refresh(&self) -> ::std::result::Result<$crate::auth::AccessToken, $crate::auth::AuthError> {
                self.session.token(true).await
            }

            /// Signs out: forgets the tokens, then asks IMS to revoke the
            /// access token and the refresh token (if any).
            ///
            /// The local state is cleared whatever IMS answers; an error only
            /// reports that a revocation request failed. Afterwards
            /// [`token`](crate::auth::TokenProvider::token) fails with
            /// [`AuthError::SignInAgain`](crate::auth::AuthError::SignInAgain)
            /// for user sign-ins, while a server-to-server provider fetches a
            /// new token.
            pub async fn revoke(&self) -> ::std::result::Result<(), $crate::auth::AuthError> {
                self.session.revoke().await
            }

            /// The current tokens, for saving across restarts (`None` before
            /// the first token and after [`revoke`](Self::revoke)).
            pub fn export(&self) -> ::std::option::Option<$crate::auth::TokenSet> {
                self.session.export()
            }

            /// Restores tokens saved with [`export`](Self::export) (or by the
            /// [`on_token`](crate::ims::ImsBuilder::on_token) callback). An
            /// expired access token is renewed on first use.
            pub fn import(&self, tokens: $crate::auth::TokenSet) {
                self.session.import(tokens)
            }
        }

        impl $crate::auth::TokenProvider for $provider {
            fn token(
                &self,
            ) -> ::futures::future::BoxFuture<
                '_,
                ::std::result::Result<$crate::auth::AccessToken, $crate::auth::AuthError>,
            > {
                ::std::boxed::Box::pin(self.session.token(false))
            }

            fn invalidate(&self, rejected: &$crate::auth::AccessToken) {
                self.session.invalidate(rejected)
            }
        }

        impl ::std::fmt::Debug for $provider {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(stringify!($provider)).field("session", &self.session).finish()
            }
        }
    };
}
use session_api;
