//! Upload failures: [`UploadError`] says what went wrong, with which part,
//! and which parts storage had already accepted.
//!
//! Every message names parts by their 1-based number, byte range and the
//! storage URL's scheme, host and path; the pre-signed query string (a
//! credential) is never kept, so neither `Display` nor `Debug` can leak it.

use std::fmt;
use std::io;
use std::ops::Range;
use std::time::Duration;

use reqwest::StatusCode;

use super::PartReport;
use super::manifest::ManifestError;
use super::plan::{Part, PlanError};
use super::s3::S3Error;
use super::source::SourceChanged;

/// Which part failed, described without its credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartLabel {
    /// 1-based position of the part.
    pub number: usize,
    /// How many parts the upload has.
    pub count: usize,
    /// The source bytes of the part (end exclusive).
    pub range: Range<u64>,
    /// Scheme, host and path of the part's URL.
    pub url: String,
}

impl From<&Part> for PartLabel {
    fn from(part: &Part) -> Self {
        Self { number: part.number(), count: part.count(), range: part.range(), url: part.redacted_url().to_owned() }
    }
}

impl fmt::Display for PartLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "part {} of {} (bytes {}..{} to {})",
            self.number, self.count, self.range.start, self.range.end, self.url
        )
    }
}

/// A failure worth another attempt: a 5xx, 408 or 429 answer (or one whose
/// S3 code means "try again"), a broken connection, or a stalled transfer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransientFailure {
    /// Storage answered with a retryable status.
    #[error("{}", describe_status(*.status, .s3.as_ref()))]
    Status {
        /// The HTTP status.
        status: StatusCode,
        /// The S3 error in the body, if any.
        s3: Option<S3Error>,
    },
    /// The connection failed (refused, reset, closed early, timed out).
    #[error("network error: {0}")]
    Network(#[source] reqwest::Error),
    /// The connection took no bytes and gave no answer for this long.
    #[error("no progress for {0:?}")]
    Stalled(Duration),
}

/// What went wrong in an upload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UploadErrorKind {
    /// The upload URLs do not fit the source; nothing was sent.
    #[error("invalid upload plan: {0}")]
    Plan(#[from] PlanError),
    /// The media type cannot be sent as a `Content-Type` header.
    #[error("media type {0:?} is not a valid header value")]
    InvalidMediaType(String),
    /// The HTTP client could not be created.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
    /// TLS could not be set up (the platform's trust store could not be read).
    #[error("TLS could not be set up: {0}")]
    Tls(String),
    /// Storage refused a part for good (403 for an expired URL, other 4xx).
    #[error("{part} was rejected: {}", describe_status(*.status, .s3.as_ref()))]
    Rejected {
        /// The refused part.
        part: PartLabel,
        /// The HTTP status.
        status: StatusCode,
        /// The S3 error in the body, if any.
        s3: Option<S3Error>,
    },
    /// A part kept failing until the retry policy gave up.
    #[error("{part} failed after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// The failed part.
        part: PartLabel,
        /// How many attempts were made.
        attempts: u32,
        /// The last attempt's failure.
        #[source]
        last: TransientFailure,
    },
    /// A part of a read-once source failed after its bytes had been read, so
    /// it cannot be sent again.
    #[error("{part} failed and cannot be re-sent, as its source cannot be read again: {cause}")]
    NotRewindable {
        /// The failed part.
        part: PartLabel,
        /// The failure.
        #[source]
        cause: TransientFailure,
    },
    /// Reading a part's bytes from the source failed.
    #[error("reading {part} from the source failed: {source}")]
    Source {
        /// The part being read.
        part: PartLabel,
        /// The read error.
        source: io::Error,
    },
    /// The file changed while it was uploaded (checked before each part and
    /// after the last): what storage holds may mix two versions of it.
    #[error(transparent)]
    SourceChanged(#[from] SourceChanged),
    /// The resume manifest is missing, unreadable, for another file, or could
    /// not be written.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The upload was cancelled.
    #[error("upload cancelled")]
    Cancelled,
}

/// An upload that did not complete, and how far it got.
///
/// ```
/// use frameio_ext::upload::{UploadError, UploadErrorKind};
///
/// fn explain(err: &UploadError) {
///     if let UploadErrorKind::Rejected { part, status, s3 } = err.kind() {
///         eprintln!("{part}: {status} {:?}", s3.as_ref().map(|e| &e.code));
///     }
///     eprintln!("parts accepted before the failure: {:?}", err.completed_parts());
/// }
/// ```
#[derive(Debug)]
pub struct UploadError {
    // Boxed: the kind is large, and errors travel through `Result`s.
    kind: Box<UploadErrorKind>,
    completed: Vec<PartReport>,
    parts_total: usize,
}

impl UploadError {
    pub(crate) fn new(kind: UploadErrorKind, mut completed: Vec<PartReport>, parts_total: usize) -> Self {
        completed.sort_by_key(|p| p.number);
        Self { kind: Box::new(kind), completed, parts_total }
    }

    /// What went wrong.
    pub fn kind(&self) -> &UploadErrorKind {
        &self.kind
    }

    /// Whether the upload stopped because it was cancelled.
    pub fn is_cancelled(&self) -> bool {
        matches!(*self.kind, UploadErrorKind::Cancelled)
    }

    /// Whether storage refused a part because its pre-signed URL had expired
    /// (403 `AccessDenied`, "Request has expired"): the upload cannot be
    /// finished with these URLs; start over with new ones.
    pub fn is_expired(&self) -> bool {
        matches!(&*self.kind, UploadErrorKind::Rejected { status, s3: Some(s3), .. }
            if *status == StatusCode::FORBIDDEN && s3.is_expired())
    }

    /// The part that failed, when one did.
    pub fn failed_part(&self) -> Option<&PartLabel> {
        match &*self.kind {
            UploadErrorKind::Rejected { part, .. }
            | UploadErrorKind::RetriesExhausted { part, .. }
            | UploadErrorKind::NotRewindable { part, .. }
            | UploadErrorKind::Source { part, .. } => Some(part),
            _ => None,
        }
    }

    /// The parts storage had accepted before the upload stopped, in order.
    pub fn completed_parts(&self) -> &[PartReport] {
        &self.completed
    }

    /// The bytes of the accepted parts.
    pub fn bytes_completed(&self) -> u64 {
        self.completed.iter().map(|p| p.range.end - p.range.start).sum()
    }

    /// How many parts the upload had (0 when it never got to planning).
    pub fn parts_total(&self) -> usize {
        self.parts_total
    }
}

impl fmt::Display for UploadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if self.parts_total > 0 {
            write!(
                f,
                " ({} of {} parts, {} bytes, already uploaded)",
                self.completed.len(),
                self.parts_total,
                self.bytes_completed()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for UploadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.kind)
    }
}

impl From<UploadErrorKind> for UploadError {
    fn from(kind: UploadErrorKind) -> Self {
        Self::new(kind, Vec::new(), 0)
    }
}

fn describe_status(status: StatusCode, s3: Option<&S3Error>) -> String {
    match s3 {
        Some(s3) => format!("HTTP {status}, {s3}"),
        None => format!("HTTP {status}"),
    }
}
