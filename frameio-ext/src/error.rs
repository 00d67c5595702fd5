//! The crate's one error type, [`Error`], and its accessors.

use crate::auth::AuthError;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when talking to Frame.io.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No access token could be obtained.
    #[error(transparent)]
    Auth(#[from] AuthError),
}
