//! Download failures: [`DownloadError`] says what went wrong, for which file,
//! which byte range and which status, and what was kept to resume from.
//!
//! Messages name the URL by its scheme, host and path only: the pre-signed
//! query string (a credential) is never kept, so neither `Display` nor `Debug`
//! can leak it. This module depends on nothing in the crate but the storage
//! error document ([`S3Error`]), so that [`crate::error`] can wrap it.

use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;

use crate::upload::S3Error;

/// A failure worth another attempt: a retryable status, a broken or stalled
/// connection, a body cut short.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadFailure {
    /// Storage answered with a retryable status (5xx, 408, 429, or an S3 code
    /// that means "try again").
    #[error("{}", describe_status(*.status, .s3.as_ref()))]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The S3 error in the body, if any.
        s3: Option<S3Error>,
    },
    /// The connection failed (refused, reset, closed mid-body, timed out).
    #[error("network error: {}", root_cause(.0))]
    Network(#[source] reqwest::Error),
    /// No byte arrived for this long.
    #[error("no byte arrived for {0:?}")]
    Stalled(Duration),
    /// The body ended cleanly but short of the bytes its headers announced.
    #[error("the body ended after {received} of {expected} bytes")]
    Truncated {
        /// Bytes received.
        received: u64,
        /// Bytes announced.
        expected: u64,
    },
}

/// How the remote file changed while it was being downloaded (or since the
/// download it would resume).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RemoteChange {
    /// Its `ETag` changed.
    Etag {
        /// The `ETag` the download started with.
        was: Option<String>,
        /// The one this answer carries.
        now: Option<String>,
    },
    /// Its length changed.
    Size {
        /// The length the download started with.
        was: u64,
        /// The length this answer announces.
        now: u64,
    },
    /// Storage refused the request's `If-Match` (412): the object is no longer
    /// the one the download started with.
    PreconditionFailed,
}

impl fmt::Display for RemoteChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteChange::Etag { was, now } => write!(
                f,
                "its ETag changed from {} to {}",
                was.as_deref().unwrap_or("none"),
                now.as_deref().unwrap_or("none")
            ),
            RemoteChange::Size { was, now } => write!(f, "its length changed from {was} to {now} bytes"),
            RemoteChange::PreconditionFailed => f.write_str("storage answered 412 to If-Match: it is another version"),
        }
    }
}

/// What went wrong in a download.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadErrorKind {
    /// The URL is not an absolute `http(s)` URL; nothing was requested.
    #[error("the download URL is not an absolute http(s) URL: {reason}")]
    InvalidUrl {
        /// What is wrong with it (never the URL itself).
        reason: String,
    },
    /// The HTTP client could not be created.
    #[error("cannot build the HTTP client: {}", root_cause(.0))]
    Client(#[source] reqwest::Error),
    /// TLS could not be set up (the platform's trust store could not be read).
    #[error("TLS could not be set up: {0}")]
    Tls(String),
    /// Storage refused the request for good (403 for an expired URL, 404, other 4xx).
    #[error("{}was refused: {}", range_note(.range.as_ref()), describe_status(*.status, .s3.as_ref()))]
    Rejected {
        /// The bytes asked for (`None`: the whole file).
        range: Option<Range<u64>>,
        /// The HTTP status.
        status: StatusCode,
        /// The S3 error in the body, if any.
        s3: Option<S3Error>,
    },
    /// A request kept failing until the retry policy gave up.
    #[error("{}failed after {attempts} attempts: {last}", range_note(.range.as_ref()))]
    RetriesExhausted {
        /// The bytes asked for (`None`: the whole file).
        range: Option<Range<u64>>,
        /// How many attempts were made.
        attempts: u32,
        /// The last attempt's failure.
        #[source]
        last: DownloadFailure,
    },
    /// The remote file changed between two requests: the bytes would mix two
    /// versions, so none of them are used.
    #[error("{}showed that the remote file changed: {change}", range_note(.range.as_ref()))]
    RemoteChanged {
        /// The request that noticed.
        range: Option<Range<u64>>,
        /// What changed.
        change: RemoteChange,
    },
    /// The remote file's length is not the one expected (from the API's
    /// `file_size`, or [`DownloadOptions::expect_size`](super::DownloadOptions::expect_size)).
    #[error("the remote file has {remote} bytes, not the {expected} expected")]
    SizeMismatch {
        /// The length expected.
        expected: u64,
        /// The length storage announced.
        remote: u64,
    },
    /// An answer that makes no sense for the request (a `Content-Range` other
    /// than the one asked for, a 200 after ranges were honoured).
    #[error("{}got an unusable answer (HTTP {status}): {reason}", range_note(.range.as_ref()))]
    BadResponse {
        /// The bytes asked for (`None`: the whole file).
        range: Option<Range<u64>>,
        /// The status answered.
        status: StatusCode,
        /// What is wrong with it.
        reason: String,
    },
    /// Writing failed: the disk is full, the target is not writable, the
    /// destination could not be replaced, or a writer refused the bytes.
    #[error("{} failed: {source}", .path.as_ref().map_or_else(|| "writing".to_string(), |p| format!("writing {}", p.display())))]
    Write {
        /// The file being written (`None`: a writer).
        path: Option<PathBuf>,
        /// What the system said.
        source: io::Error,
    },
    /// The download was cancelled.
    #[error("download cancelled")]
    Cancelled,
}

/// A download that did not complete: what went wrong, where, and what is kept
/// to resume from.
///
/// ```
/// use frameio_ext::download::{DownloadError, DownloadErrorKind};
///
/// fn explain(err: &DownloadError) {
///     match err.kind() {
///         DownloadErrorKind::RemoteChanged { change, .. } => eprintln!("it changed ({change}): download it again"),
///         _ if err.is_disk_full() => eprintln!("free some space, then run again to resume"),
///         _ if err.is_expired() => eprintln!("ask Frame.io for a fresh link, then run again to resume"),
///         _ => eprintln!("{err}"),
///     }
///     if let Some(partial) = err.partial_path() {
///         eprintln!("{} bytes kept in {}", err.bytes_done(), partial.display());
///     }
/// }
/// ```
#[derive(Debug)]
pub struct DownloadError {
    kind: Box<DownloadErrorKind>,
    target: Option<PathBuf>,
    url: String,
    partial: Option<PathBuf>,
    bytes_done: u64,
}

impl DownloadError {
    /// `kind`, while downloading `url` (already redacted) to `target`.
    pub(crate) fn new(kind: DownloadErrorKind, target: Option<&Path>, url: &str) -> Self {
        Self {
            kind: Box::new(kind),
            target: target.map(Path::to_path_buf),
            url: url.to_owned(),
            partial: None,
            bytes_done: 0,
        }
    }

    /// The same error, with the partial file kept and the bytes in it.
    pub(crate) fn kept(mut self, partial: &Path, bytes_done: u64) -> Self {
        self.partial = Some(partial.to_path_buf());
        self.bytes_done = bytes_done;
        self
    }

    /// The same error, with the bytes written to a writer before it stopped.
    pub(crate) fn after(mut self, bytes_done: u64) -> Self {
        self.bytes_done = bytes_done;
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &DownloadErrorKind {
        &self.kind
    }

    /// The destination file (`None` for a download to a writer).
    pub fn path(&self) -> Option<&Path> {
        self.target.as_deref()
    }

    /// The URL's scheme, host and path (never its query).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `<name>.part` file kept for a resume, if any.
    pub fn partial_path(&self) -> Option<&Path> {
        self.partial.as_deref()
    }

    /// Bytes in place when the download stopped (in the partial file, or
    /// written to the writer).
    pub fn bytes_done(&self) -> u64 {
        self.bytes_done
    }

    /// The byte range of the request that failed, when it was a ranged one.
    pub fn range(&self) -> Option<&Range<u64>> {
        match &*self.kind {
            DownloadErrorKind::Rejected { range, .. }
            | DownloadErrorKind::RetriesExhausted { range, .. }
            | DownloadErrorKind::RemoteChanged { range, .. }
            | DownloadErrorKind::BadResponse { range, .. } => range.as_ref(),
            _ => None,
        }
    }

    /// The HTTP status storage last answered with, when the failure was one.
    pub fn status(&self) -> Option<StatusCode> {
        match &*self.kind {
            DownloadErrorKind::Rejected { status, .. } | DownloadErrorKind::BadResponse { status, .. } => Some(*status),
            DownloadErrorKind::RetriesExhausted { last: DownloadFailure::Status { status, .. }, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the download was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(*self.kind, DownloadErrorKind::Cancelled)
    }

    /// Whether the remote file changed during the download.
    pub fn is_remote_changed(&self) -> bool {
        matches!(*self.kind, DownloadErrorKind::RemoteChanged { .. })
    }

    /// Whether the pre-signed URL had expired (S3's 403 `AccessDenied`
    /// "Request has expired"): a fresh URL resumes the download.
    pub fn is_expired(&self) -> bool {
        matches!(&*self.kind, DownloadErrorKind::Rejected { status, s3: Some(s3), .. }
            if *status == StatusCode::FORBIDDEN && s3.is_expired())
    }

    /// Whether writing failed for lack of space.
    pub fn is_disk_full(&self) -> bool {
        matches!(&*self.kind, DownloadErrorKind::Write { source, .. } if is_storage_full(source))
    }
}

impl fmt::Display for DownloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Some(path) => write!(f, "downloading {} from {}: {}", path.display(), self.url, self.kind)?,
            None => write!(f, "downloading {}: {}", self.url, self.kind)?,
        }
        if let Some(partial) = &self.partial {
            write!(
                f,
                "; {} bytes are kept in {}: run the download again to resume",
                self.bytes_done,
                partial.display()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for DownloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.kind)
    }
}

/// Whether an I/O error means the disk (or quota) is full.
pub(crate) fn is_storage_full(error: &io::Error) -> bool {
    // `StorageFull` is ENOSPC (and Windows' disk-full codes); a quota has no stable kind yet: EDQUOT.
    const EDQUOT: i32 = if cfg!(target_os = "linux") { 122 } else { 69 };
    error.kind() == io::ErrorKind::StorageFull || (cfg!(unix) && error.raw_os_error() == Some(EDQUOT))
}

fn range_note(range: Option<&Range<u64>>) -> String {
    match range {
        Some(r) => format!("the request for bytes {}..{} ", r.start, r.end),
        None => "the request ".to_string(),
    }
}

fn describe_status(status: StatusCode, s3: Option<&S3Error>) -> String {
    match s3 {
        Some(s3) => format!("HTTP {status}, {s3}"),
        None => format!("HTTP {status}"),
    }
}

/// The innermost cause of a client error ("connection reset by peer"), which
/// says more than reqwest's "error decoding response body".
fn root_cause(error: &reqwest::Error) -> String {
    let Some(mut cause) = std::error::Error::source(error) else { return error.to_string() };
    while let Some(next) = cause.source() {
        cause = next;
    }
    format!("{error} ({cause})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_the_range_and_the_status() {
        let kind = DownloadErrorKind::RetriesExhausted {
            range: Some(16..32),
            attempts: 5,
            last: DownloadFailure::Status { status: StatusCode::SERVICE_UNAVAILABLE, s3: None },
        };
        let err = DownloadError::new(kind, Some(Path::new("/media/clip.mov")), "https://s3.example/b/k")
            .kept(Path::new("/media/clip.mov.part"), 16);
        assert_eq!(
            err.to_string(),
            "downloading /media/clip.mov from https://s3.example/b/k: the request for bytes 16..32 failed after 5 \
             attempts: HTTP 503 Service Unavailable; 16 bytes are kept in /media/clip.mov.part: run the download \
             again to resume"
        );
        assert_eq!((err.range(), err.status()), (Some(&(16..32)), Some(StatusCode::SERVICE_UNAVAILABLE)));
        assert!(!err.is_cancelled() && !err.is_expired() && !err.is_disk_full());
    }

    #[test]
    fn expiry_and_full_disks_are_recognised() {
        let s3 = S3Error::parse("<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>");
        let kind = DownloadErrorKind::Rejected { range: None, status: StatusCode::FORBIDDEN, s3 };
        assert!(DownloadError::new(kind, None, "https://s3.example/k").is_expired());
        let full = io::Error::from(io::ErrorKind::StorageFull);
        let kind = DownloadErrorKind::Write { path: Some("/x.part".into()), source: full };
        let err = DownloadError::new(kind, Some(Path::new("/x")), "https://s3.example/k");
        assert!(err.is_disk_full());
        assert!(
            err.to_string().starts_with("downloading /x from https://s3.example/k: writing /x.part failed"),
            "{err}"
        );
    }
}
