//! What `fio` says when it fails: one line on stderr and an exit code that
//! says what kind of thing failed ([`Exit`]).
//!
//! Every failure becomes a [`Failure`] before it is shown: client errors are
//! classified here ([`From<frameio_ext::Error>`]), so that every command maps
//! the same cause to the same code. Messages are single lines (newlines are
//! folded) and come from frameio-ext's errors, which never hold a token.

use std::fmt;
use std::process::ExitCode;

use frameio_ext::AuthError;
use frameio_ext::download::DownloadErrorKind;
use frameio_ext::ims::{ImsConfigError, LoopbackError};
use frameio_ext::transfer::{FileUploadError, TransferError};
use frameio_ext::upload::UploadErrorKind;

/// The exit codes, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: a bug or an answer `fio` cannot make sense of.
    Internal = 1,
    /// 2: bad arguments: an unknown URL shape, an id of the wrong kind, a
    /// destination that is not a folder.
    Usage = 2,
    /// 3: not signed in, or the sign-in expired or was revoked.
    Auth = 3,
    /// 4: what was named does not exist (in Frame.io, or on disk).
    NotFound = 4,
    /// 5: Frame.io (or IMS) could not be reached, or did not answer in time.
    Network = 5,
    /// 6: a transfer of several files finished with some of them failed.
    Partial = 6,
    /// 7: Frame.io refused the request (permission, validation, rate limit, server error).
    Api = 7,
    /// 8: a local file or folder could not be read or written.
    Local = 8,
    /// 130: interrupted (Ctrl-C).
    Interrupted = 130,
}

/// Why a command failed: what to print, and the exit code.
#[derive(Debug)]
pub struct Failure {
    exit: Exit,
    message: String,
}

/// The result of a command.
pub type Result<T, E = Failure> = std::result::Result<T, E>;

impl Failure {
    /// A failure of this kind with this message.
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Self { exit, message: one_line(&message.into()) }
    }

    /// Bad arguments.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, message)
    }

    /// Not signed in (or no longer).
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(Exit::Auth, message)
    }

    /// Something named does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Exit::NotFound, message)
    }

    /// A local file problem.
    pub fn local(message: impl Into<String>) -> Self {
        Self::new(Exit::Local, message)
    }

    /// Some files of a transfer failed.
    pub fn partial(message: impl Into<String>) -> Self {
        Self::new(Exit::Partial, message)
    }

    /// Something that should not happen.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Exit::Internal, message)
    }

    /// Ctrl-C.
    pub fn interrupted(message: impl Into<String>) -> Self {
        Self::new(Exit::Interrupted, message)
    }

    /// A local I/O error on `path`, classified: a missing path is "not found".
    pub fn io(path: &std::path::Path, error: &std::io::Error) -> Self {
        let exit = if error.kind() == std::io::ErrorKind::NotFound { Exit::NotFound } else { Exit::Local };
        Self::new(exit, format!("{}: {error}", path.display()))
    }

    /// The exit code.
    #[cfg(test)]
    pub fn exit(&self) -> Exit {
        self.exit
    }

    /// The same failure with `context` before its message.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = one_line(&format!("{context}: {}", self.message));
        self
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit as u8)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Folds a message onto one line.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What to do after Frame.io refused the credentials.
pub const SIGN_IN_AGAIN: &str = "run `fio login` to sign in again";

impl From<frameio_ext::Error> for Failure {
    fn from(error: frameio_ext::Error) -> Self {
        use frameio_ext::Error as E;
        let text = error.to_string();
        match &error {
            E::Auth(auth) => Failure::from_auth(auth),
            _ if error.is_unauthorized() => Failure::auth(format!(
                "Frame.io rejected the sign-in (401): it expired or was revoked; {SIGN_IN_AGAIN}"
            )),
            _ if error.status().is_some_and(|s| s.as_u16() == 403) => Failure::new(
                Exit::Api,
                format!(
                    "Frame.io refused access (403): your user lacks the permission for this; {}",
                    api_detail(&error)
                ),
            ),
            _ if error.is_not_found() => Failure::not_found(api_detail(&error)),
            _ if error.is_network() => Failure::new(Exit::Network, text),
            E::Io { .. } => Failure::local(text),
            E::Download(download) => Failure::new(download_exit(download.kind()), text),
            E::Upload(upload) => Failure::new(upload_exit(upload.kind()), text),
            E::FileUpload(FileUploadError::Parts { source, .. }) => Failure::new(upload_exit(source.kind()), text),
            E::Transfer(TransferError::NotADirectory { .. }) => Failure::usage(text),
            E::Transfer(TransferError::UnsafeName { .. } | TransferError::DuplicateName { .. }) => Failure::local(text),
            E::Decode(_) | E::Pagination(_) => Failure::internal(text),
            E::Config(_) | E::InvalidRequest(_) => Failure::usage(text),
            _ => Failure::new(Exit::Api, text),
        }
    }
}

impl Failure {
    /// A token that could not be had.
    pub fn from_auth(error: &AuthError) -> Self {
        match error {
            AuthError::SignInAgain { .. } => Failure::auth(format!("{error}; {SIGN_IN_AGAIN}")),
            AuthError::Rejected { .. } => Failure::auth(format!("{error}; {SIGN_IN_AGAIN}")),
            AuthError::Network(_) | AuthError::Unreachable { .. } => Failure::new(Exit::Network, error.to_string()),
            _ => Failure::new(Exit::Api, error.to_string()),
        }
    }
}

impl From<ImsConfigError> for Failure {
    fn from(error: ImsConfigError) -> Self {
        Failure::usage(error.to_string())
    }
}

impl From<LoopbackError> for Failure {
    fn from(error: LoopbackError) -> Self {
        match error {
            LoopbackError::Denied { .. } => Failure::auth(error.to_string()),
            _ => Failure::local(error.to_string()),
        }
    }
}

/// The exit code of a failed download.
fn download_exit(kind: &DownloadErrorKind) -> Exit {
    match kind {
        DownloadErrorKind::Write { .. } => Exit::Local,
        DownloadErrorKind::Cancelled => Exit::Interrupted,
        DownloadErrorKind::RetriesExhausted { .. } => Exit::Network,
        _ => Exit::Api,
    }
}

/// The exit code of a failed upload.
fn upload_exit(kind: &UploadErrorKind) -> Exit {
    match kind {
        UploadErrorKind::Source { .. } | UploadErrorKind::SourceChanged(_) => Exit::Local,
        UploadErrorKind::Cancelled => Exit::Interrupted,
        UploadErrorKind::RetriesExhausted { .. } => Exit::Network,
        _ => Exit::Api,
    }
}

/// The envelope's details of an API error ("file not found"), or its message.
fn api_detail(error: &frameio_ext::Error) -> String {
    let details: Vec<&str> = error.errors().iter().map(|d| d.detail.as_str()).filter(|d| !d.is_empty()).collect();
    if details.is_empty() { error.to_string() } else { details.join("; ") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_line() {
        let failure = Failure::usage("first\nsecond\r\n  third");
        assert_eq!(failure.to_string(), "first second third");
        assert_eq!(failure.exit(), Exit::Usage);
    }

    #[test]
    fn a_missing_local_path_is_not_found() {
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(Failure::io(std::path::Path::new("x"), &missing).exit(), Exit::NotFound);
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(Failure::io(std::path::Path::new("x"), &denied).exit(), Exit::Local);
    }
}
