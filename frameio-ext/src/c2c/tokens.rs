//! A paired device's tokens: the crate's one [`TokenSet`], built from the
//! token endpoint's answer.
//!
//! The tokens a pairing (or a refresh) issues are the access token ("valid for
//! approximately 8 hours"), its expiry, and the refresh token ("valid for 14
//! days", issued with the `offline` scope). A refresh token is single-use:
//! "Upon successful token refresh, your previous credentials become invalid"
//! (Manage Authorization), so the tokens of every refresh must be saved before
//! anything else (see [`TokenStore`](super::TokenStore)).

use std::time::{Duration, SystemTime};

use frameio_gen::c2c::types::DeviceTokenResponse;
use secrecy::SecretString;

use crate::auth::cache::{Issued, MAX_TOKEN_LIFETIME};
use crate::auth::{AccessToken, TokenSet};

/// The tokens of a token answer, as the cache takes them.
pub(crate) fn issued(response: DeviceTokenResponse) -> Issued {
    Issued {
        access_token: SecretString::from(response.access_token),
        refresh_token: response.refresh_token.map(SecretString::from),
        expires_in: response.expires_in.and_then(|seconds| u64::try_from(seconds).ok()).map(lifetime),
    }
}

/// The tokens of a token answer received at `now`.
pub(crate) fn from_response(response: DeviceTokenResponse, now: SystemTime) -> TokenSet {
    let issued = issued(response);
    let mut access = AccessToken::new(secrecy::ExposeSecret::expose_secret(&issued.access_token));
    if let Some(at) = issued.expires_in.and_then(|lifetime| now.checked_add(lifetime)) {
        access = access.with_expiry(at);
    }
    TokenSet::from_parts(access, issued.refresh_token)
}

/// A server's `expires_in`, at most [`MAX_TOKEN_LIFETIME`].
fn lifetime(seconds: u64) -> Duration {
    Duration::from_secs(seconds).min(MAX_TOKEN_LIFETIME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_expires_in_is_capped_not_a_panic() {
        let answer: DeviceTokenResponse = serde_json::from_str(
            r#"{"access_token": "at", "expires_in": 9223372036854775807, "token_type": "bearer"}"#,
        )
        .unwrap();
        let now = SystemTime::now();
        let tokens = from_response(answer, now);
        assert!(tokens.expires_at().unwrap().duration_since(now).unwrap() <= MAX_TOKEN_LIFETIME);
    }
}
