//! [`DeviceTokens`]: a paired device's authorization, as kept across restarts.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use frameio_gen::c2c::types::AuthenticationAuthDeviceTokenResponse200 as TokenResponse;
use secrecy::{ExposeSecret, SecretString};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::auth::AccessToken;

/// The tokens a pairing (or a refresh) issues: the access token ("valid for
/// approximately 8 hours"), its expiry, and the refresh token ("valid for 14
/// days", issued with the `offline` scope).
///
/// A refresh token is single-use: "Upon successful token refresh, your
/// previous credentials become invalid" (Manage Authorization), so the tokens
/// of every refresh must be saved before anything else (see
/// [`TokenStore`](super::TokenStore)). They serialize with `expires_at` in
/// Unix seconds, like the crate's IMS tokens:
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use frameio_ext::AccessToken;
/// use frameio_ext::c2c::DeviceTokens;
///
/// let expiry = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
/// let tokens = DeviceTokens::new(AccessToken::new("at-1").with_expiry(expiry)).with_refresh_token("rt-1");
/// let json = serde_json::to_string(&tokens)?;
/// assert_eq!(json, r#"{"access_token":"at-1","refresh_token":"rt-1","expires_at":1767225600.0}"#);
/// let shown = format!("{tokens:?}");
/// assert!(!shown.contains("at-1") && !shown.contains("rt-1"), "Debug redacts both tokens");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone)]
pub struct DeviceTokens {
    access: AccessToken,
    refresh: Option<SecretString>,
}

impl DeviceTokens {
    /// Tokens made of an access token (with its expiry, if known) and no
    /// refresh token.
    pub fn new(access_token: AccessToken) -> Self {
        Self { access: access_token, refresh: None }
    }

    /// The same tokens, with a refresh token.
    pub fn with_refresh_token(mut self, refresh_token: impl Into<String>) -> Self {
        self.refresh = Some(SecretString::from(refresh_token.into()));
        self
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.access
    }

    /// The refresh token, when the `offline` scope was granted.
    pub fn refresh_token(&self) -> Option<&SecretString> {
        self.refresh.as_ref()
    }

    /// When the access token expires, if known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.access.expires_at()
    }

    /// The tokens of a token answer received at `now`.
    pub(crate) fn from_response(response: TokenResponse, now: SystemTime) -> Self {
        let mut access = AccessToken::new(response.access_token);
        if let Some(at) = response
            .expires_in
            .and_then(|seconds| u64::try_from(seconds).ok())
            .and_then(|seconds| now.checked_add(Duration::from_secs(seconds)))
        {
            access = access.with_expiry(at);
        }
        Self { access, refresh: response.refresh_token.map(SecretString::from) }
    }
}

impl fmt::Debug for DeviceTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceTokens")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &self.refresh.as_ref().map(|_| "[redacted]"))
            .field("expires_at", &self.expires_at())
            .finish()
    }
}

/// The serialized form. Not `Debug`: it holds the secrets in the clear.
#[derive(Serialize)]
struct WireOut<'a> {
    access_token: &'a str,
    refresh_token: Option<&'a str>,
    expires_at: Option<f64>,
}

#[derive(Deserialize)]
struct WireIn {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_at: Option<f64>,
}

impl Serialize for DeviceTokens {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            access_token: self.access.expose_secret(),
            refresh_token: self.refresh.as_ref().map(|token| token.expose_secret()),
            expires_at: self.expires_at().map(|at| at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for DeviceTokens {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireIn::deserialize(deserializer)?;
        let mut access = AccessToken::new(wire.access_token);
        if let Some(seconds) = wire.expires_at {
            let at = Duration::try_from_secs_f64(seconds)
                .ok()
                .and_then(|since_epoch| UNIX_EPOCH.checked_add(since_epoch))
                .ok_or_else(|| D::Error::custom("`expires_at` is not a valid Unix time"))?;
            access = access.with_expiry(at);
        }
        Ok(Self { access, refresh: wire.refresh_token.map(SecretString::from) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_answer_dates_its_expiry_from_its_arrival() {
        let answer: TokenResponse = serde_json::from_str(
            r#"{"access_token": "[access_token]", "expires_in": 28800, "refresh_token": "[refresh_token]",
                "token_type": "bearer"}"#,
        )
        .unwrap();
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let tokens = DeviceTokens::from_response(answer, now);
        assert_eq!(tokens.expires_at(), Some(now + Duration::from_secs(28_800)));
        assert_eq!(tokens.refresh_token().map(|t| t.expose_secret()), Some("[refresh_token]"));
        let back: DeviceTokens = serde_json::from_str(&serde_json::to_string(&tokens).unwrap()).unwrap();
        assert_eq!(back.expires_at(), tokens.expires_at());
        assert_eq!(back.access_token().expose_secret(), "[access_token]");
    }
}
