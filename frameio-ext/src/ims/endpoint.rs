//! Talking to IMS: `/ims/authorize/v2`, `/ims/token/v3` and `/ims/revoke`.
//!
//! The `oauth2` crate (v5) builds the authorization URL (`state`, the PKCE
//! S256 challenge) and the token requests (grant parameters, client
//! authentication), and parses successful token answers. Its own reqwest
//! integration targets reqwest 0.12, so it is driven through its custom async
//! HTTP client hook by our reqwest 0.13 client ([`Endpoint::send`]).
//!
//! Written here, because `oauth2` cannot do it:
//! - **Error answers.** `oauth2` turns an OAuth error body into an error that
//!   has lost the HTTP status and headers, so a 429's `Retry-After` would be
//!   gone. The HTTP hook classifies every non-200 answer itself: 429 becomes
//!   [`AuthError::RateLimited`], an IMS `{"error", "error_description"}` body
//!   becomes [`AuthError::Rejected`] (and, for a refresh, `invalid_grant`
//!   becomes [`AuthError::SignInAgain`]); a redirect, never followed, becomes
//!   [`AuthError::Redirect`].
//! - **Revocation.** `oauth2` refuses a revocation URL that is not HTTPS (so no
//!   local test IMS) and puts a public client's `client_id` in the body, where
//!   Frame.io's SDKs send it in the query. The request is one form field.
//! - **Paths.** IMS's endpoint paths are joined to a configurable base URL.
//!
//! `/ims/token/v3` states `expires_in` in seconds, as `oauth2` reads it (the
//! older v1 and v2 endpoints used milliseconds), so it needs no conversion.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::url::form_urlencoded;
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::authorization::PkceVerifier;
use crate::auth::AuthError;
use crate::auth::cache::Issued;
use crate::body::read_up_to;

/// The most of an IMS answer read: token answers are well under a kilobyte.
const MAX_ANSWER: usize = 64 * 1024;

const AUTHORIZE_PATH: &str = "ims/authorize/v2";
const TOKEN_PATH: &str = "ims/token/v3";
const REVOKE_PATH: &str = "ims/revoke";

/// An `oauth2` client with the authorization and token endpoints set.
type OAuthClient = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// How the client proves who it is on token requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    /// `client_id` and `client_secret` as form fields, as Adobe documents for
    /// server-to-server credentials.
    SecretInBody,
    /// HTTP Basic with the client secret, as Adobe documents for web apps.
    SecretInHeader,
    /// A public client (PKCE): `client_id` only.
    Public,
}

/// What [`Endpoint`] needs, validated by the builder.
pub(crate) struct EndpointConfig {
    pub(crate) base_url: Url,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) client_auth: ClientAuth,
    pub(crate) redirect_uri: Option<Url>,
    pub(crate) scopes: Vec<String>,
    pub(crate) http: reqwest::Client,
    pub(crate) timeout: Duration,
}

/// One client's view of IMS.
pub(crate) struct Endpoint {
    oauth: OAuthClient,
    http: reqwest::Client,
    timeout: Duration,
    base_url: Url,
    revoke_url: Url,
    client_id: String,
    client_secret: Option<SecretString>,
    scopes: Vec<String>,
}

impl Endpoint {
    pub(crate) fn new(config: EndpointConfig) -> Self {
        let join = |path| config.base_url.join(path).expect("an http(s) base URL accepts a relative path");
        let mut oauth = BasicClient::new(ClientId::new(config.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(join(AUTHORIZE_PATH)))
            .set_token_uri(TokenUrl::from_url(join(TOKEN_PATH)))
            .set_auth_type(match config.client_auth {
                ClientAuth::SecretInBody => AuthType::RequestBody,
                ClientAuth::SecretInHeader | ClientAuth::Public => AuthType::BasicAuth,
            });
        if let Some(secret) = &config.client_secret {
            oauth = oauth.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        if let Some(redirect) = config.redirect_uri {
            oauth = oauth.set_redirect_uri(RedirectUrl::from_url(redirect));
        }
        Self {
            oauth,
            http: config.http,
            timeout: config.timeout,
            revoke_url: join(REVOKE_PATH),
            base_url: config.base_url,
            client_id: config.client_id,
            client_secret: config.client_secret,
            scopes: config.scopes,
        }
    }

    /// The `/ims/authorize/v2` URL with a fresh random `state` (returned) and,
    /// for public clients, the PKCE challenge.
    pub(crate) fn authorize_url(&self, pkce: Option<PkceCodeChallenge>) -> (Url, CsrfToken) {
        let mut request = self.oauth.authorize_url(CsrfToken::new_random).add_scopes(self.scopes());
        if let Some(challenge) = pkce {
            request = request.set_pkce_challenge(challenge);
        }
        request.url()
    }

    /// The `client_credentials` grant.
    pub(crate) async fn client_credentials(&self) -> Result<Issued, AuthError> {
        let answer = self.oauth.exchange_client_credentials().add_scopes(self.scopes()).request_async(self).await;
        issued(answer)
    }

    /// The `authorization_code` grant, with the PKCE verifier for public
    /// clients.
    pub(crate) async fn exchange_code(&self, code: &str, verifier: Option<&PkceVerifier>) -> Result<Issued, AuthError> {
        let mut request = self.oauth.exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().into()));
        }
        issued(request.request_async(self).await)
    }

    /// The `refresh_token` grant. A refused refresh token (`invalid_grant`:
    /// expired, revoked or already rotated) means the user must sign in again.
    pub(crate) async fn refresh(&self, refresh_token: &SecretString) -> Result<Issued, AuthError> {
        let refresh_token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let answer = self.oauth.exchange_refresh_token(&refresh_token).request_async(self).await;
        match issued(answer) {
            Err(AuthError::Rejected { error, description, .. }) if error == "invalid_grant" => {
                Err(AuthError::SignInAgain {
                    reason: format!(
                        "IMS refused the refresh token ({error}{})",
                        description.map(|d| format!(": {d}")).unwrap_or_default()
                    ),
                })
            }
            other => other,
        }
    }

    /// Asks IMS to revoke one token: HTTP Basic for confidential clients,
    /// `client_id` in the query for public ones (as Frame.io's SDKs do).
    pub(crate) async fn revoke(&self, token: &str) -> Result<(), AuthError> {
        let mut url = self.revoke_url.clone();
        if self.client_secret.is_none() {
            url.query_pairs_mut().append_pair("client_id", &self.client_id);
        }
        let body = form_urlencoded::Serializer::new(String::new()).append_pair("token", token).finish();
        let mut request = self
            .http
            .post(url)
            .timeout(self.timeout)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        if let Some(secret) = &self.client_secret {
            request = request.basic_auth(&self.client_id, Some(secret.expose_secret()));
        }
        let mut response = request.send().await.map_err(AuthError::Network)?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if status.is_redirection() {
            return Err(redirect(&response));
        }
        let headers = response.headers().clone();
        let (body, _) = read_up_to(&mut response, MAX_ANSWER).await.map_err(AuthError::Network)?;
        Err(rejection(status, &headers, &body))
    }

    /// The HTTP hook handed to `oauth2`: sends its request with our client and
    /// turns every answer but a 200 into a typed error, while the status and
    /// headers are still at hand.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, AuthError> {
        let (parts, body) = request.into_parts();
        let mut response = self
            .http
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(body)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(AuthError::Network)?;
        let status = response.status();
        if status.is_redirection() {
            return Err(redirect(&response));
        }
        let headers = response.headers().clone();
        let (body, cut) = read_up_to(&mut response, MAX_ANSWER).await.map_err(AuthError::Network)?;
        if status != StatusCode::OK {
            return Err(rejection(status, &headers, &body));
        }
        if cut {
            return Err(AuthError::InvalidResponse(format!("a token answer larger than {MAX_ANSWER} bytes")));
        }
        let mut answer = HttpResponse::new(body.to_vec());
        *answer.status_mut() = status;
        *answer.headers_mut() = headers;
        Ok(answer)
    }

    fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        self.scopes.iter().cloned().map(Scope::new)
    }
}

/// `oauth2`'s HTTP hook. A named, boxed `Send` future (rather than a closure)
/// keeps the token request futures `Send`, which spawning them requires.
impl<'c> AsyncHttpClient<'c> for Endpoint {
    type Error = AuthError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, AuthError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("ims_base_url", &self.base_url.as_str())
            .field("client_id", &self.client_id)
            .field("confidential", &self.client_secret.is_some())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// Turns an `oauth2` token answer into ours. Parse errors name the field, never
/// the body, which may hold tokens.
fn issued(
    answer: Result<BasicTokenResponse, RequestTokenError<AuthError, BasicErrorResponse>>,
) -> Result<Issued, AuthError> {
    let response = answer.map_err(|error| match error {
        RequestTokenError::Request(error) => error,
        // `send` lets only 200s through, which `oauth2` never reads as an error body.
        RequestTokenError::ServerResponse(error) => {
            AuthError::InvalidResponse(format!("an OAuth error in a 200 answer: {error}"))
        }
        RequestTokenError::Parse(error, _body) => {
            AuthError::InvalidResponse(format!("unreadable token response (at `{}`)", error.path()))
        }
        RequestTokenError::Other(message) => AuthError::InvalidResponse(message),
    })?;
    Ok(Issued {
        access_token: response.access_token().secret().clone().into(),
        refresh_token: response.refresh_token().map(|token| token.secret().clone().into()),
        expires_in: response.expires_in(),
    })
}

/// The error for a redirect, which is not followed (the HTTP client follows
/// none): where it pointed, without its query.
fn redirect(response: &reqwest::Response) -> AuthError {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .and_then(|l| response.url().join(l).ok())
        .map_or_else(|| "(no location)".to_string(), |url| crate::redact::url(&url));
    AuthError::Redirect { status: response.status().as_u16(), location }
}

/// The error for a non-success IMS answer.
fn rejection(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> AuthError {
    if status == StatusCode::TOO_MANY_REQUESTS {
        return AuthError::RateLimited { retry_after: crate::rate_limit::retry_after(headers, SystemTime::now()) };
    }
    #[derive(Deserialize)]
    struct OAuthError {
        error: String,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(body) => {
            AuthError::Rejected { status: status.as_u16(), error: body.error, description: body.error_description }
        }
        Err(_) => AuthError::InvalidResponse(format!("HTTP {status} without an OAuth error body")),
    }
}
