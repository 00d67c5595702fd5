//! [`DeviceTokens`]: a paired device's authorization, as kept across restarts.

use std::time::{Duration, SystemTime};

use frameio_gen::c2c::types::DeviceTokenResponse as TokenResponse;

use crate::auth::{AccessToken, TokenSet};

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
pub type DeviceTokens = TokenSet;

/// The tokens of a token answer received at `now`.
pub(crate) fn from_response(response: TokenResponse, now: SystemTime) -> DeviceTokens {
    let mut access = AccessToken::new(response.access_token);
    if let Some(at) = response
        .expires_in
        .and_then(|seconds| u64::try_from(seconds).ok())
        .and_then(|seconds| now.checked_add(Duration::from_secs(seconds)))
    {
        access = access.with_expiry(at);
    }
    let tokens = TokenSet::new(access);
    match response.refresh_token {
        Some(refresh) => tokens.with_refresh_token(refresh),
        None => tokens,
    }
}
