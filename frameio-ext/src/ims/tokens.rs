//! [`ImsTokens`]: a sign-in's token state, as saved across restarts.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::auth::AccessToken;

/// The tokens an IMS provider holds: the access token, its expiry and, for
/// user sign-ins, the refresh token.
///
/// Get them from a provider's `export` or its
/// [`on_token`](super::ImsBuilder::on_token) callback, store them somewhere
/// safe (they grant API access), and give them back to `import` after a
/// restart. They serialize as the Frame.io Python and TypeScript SDKs export
/// them, with `expires_at` in Unix seconds:
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use frameio_ext::AccessToken;
/// use frameio_ext::ims::{ExposeSecret, ImsTokens};
///
/// let tokens = ImsTokens::new(
///     AccessToken::new("at-123").with_expiry(UNIX_EPOCH + Duration::from_secs(1_767_225_600)),
/// )
/// .with_refresh_token("rt-456");
/// let json = serde_json::to_string(&tokens)?;
/// assert_eq!(
///     json,
///     r#"{"access_token":"at-123","refresh_token":"rt-456","expires_at":1767225600.0}"#
/// );
///
/// let back: ImsTokens = serde_json::from_str(&json)?;
/// assert_eq!(back.refresh_token().map(|t| t.expose_secret()), Some("rt-456"));
/// assert!(!format!("{back:?}").contains("rt-456"));
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// `Debug` redacts both tokens.
#[derive(Clone)]
pub struct ImsTokens {
    access: AccessToken,
    refresh: Option<SecretString>,
}

impl ImsTokens {
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

    /// The refresh token, if IMS issued one (user sign-ins with the
    /// `offline_access` scope).
    pub fn refresh_token(&self) -> Option<&SecretString> {
        self.refresh.as_ref()
    }

    /// When the access token expires, if known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.access.expires_at()
    }

    pub(crate) fn from_parts(access: AccessToken, refresh: Option<SecretString>) -> Self {
        Self { access, refresh }
    }
}

impl fmt::Debug for ImsTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImsTokens")
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

impl Serialize for ImsTokens {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireOut {
            access_token: self.access.expose_secret(),
            refresh_token: self.refresh.as_ref().map(|token| token.expose_secret()),
            expires_at: self.expires_at().map(|at| at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ImsTokens {
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
