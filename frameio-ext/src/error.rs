//! The crate's one error type, [`Error`], and the parts it carries: the API's
//! error answer ([`ApiError`]), a body that did not decode ([`DecodeError`]),
//! and why a listing could not go on ([`PaginationError`]).
//!
//! Every call's `send()` returns [`Result`]; the accessors on [`Error`] say what
//! went wrong without matching on variants ([`Error::status`],
//! [`Error::is_not_found`], [`Error::is_network`], [`Error::request_id`],
//! [`Error::attempts`], ...). Messages say what happened and what to do, and
//! never hold a token, a secret or a pre-signed URL: bodies are kept only as
//! short, scrubbed excerpts (credential-named members, URL queries and the
//! request's token replaced by `[redacted]`).
//!
//! This module depends on no other part of the client but the error types of
//! the subsystems it wraps, so that everything else can depend on it.

use std::fmt;
use std::time::{Duration, SystemTime};

use frameio_gen::v4::types;
use http::{HeaderMap, StatusCode};

use crate::auth::AuthError;
use crate::download::DownloadError;
use crate::rate_limit::{self, RateLimitStatus};
use crate::redact;
use crate::upload::error::UploadError;

pub use frameio_gen::v4::types::{ErrorDetail, ErrorSource};

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The issue tracker a decode failure asks to be reported to.
const REPORT_URL: &str = "https://github.com/frameio-rs/frameio-rs/issues";

/// Everything that can go wrong when talking to Frame.io.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Frame.io answered with an error status (4xx or 5xx); see [`ApiError`].
    #[error(transparent)]
    Api(Box<ApiError>),
    /// Frame.io could not be reached, or the connection failed mid-request
    /// (DNS, refused or reset connection, TLS, proxy).
    #[error(
        "could not reach Frame.io{} ({}){}; check the network connection, proxy settings and base URL, then try again",
        operation_note(*.operation),
        root_cause(.source),
        attempts_note(*.attempts)
    )]
    Transport {
        /// The underlying error (without its URL).
        source: reqwest::Error,
        /// The operation, when the failure happened in a call.
        operation: Option<&'static str>,
        /// How many attempts were made.
        attempts: Option<u32>,
    },
    /// Frame.io did not answer within the connect or request timeout.
    #[error(
        "Frame.io did not answer in time{}{}; try again later, or raise the client's timeout",
        operation_note(*.operation),
        attempts_note(*.attempts)
    )]
    Timeout {
        /// The underlying error (without its URL).
        source: reqwest::Error,
        /// The operation, when the failure happened in a call.
        operation: Option<&'static str>,
        /// How many attempts were made.
        attempts: Option<u32>,
    },
    /// The server answered with a redirect, which the client does not follow:
    /// a redirect could carry the request's credentials to another host.
    #[error(
        "Frame.io answered {status} redirecting{} to {location}; the client does not follow redirects \
         (they could carry credentials elsewhere): check the base URL",
        operation_note(*.operation)
    )]
    Redirect {
        /// The redirect status (301, 302, 303, 307, 308).
        status: StatusCode,
        /// Where it pointed, without its query string.
        location: String,
        /// The operation, when the redirect answered a call.
        operation: Option<&'static str>,
    },
    /// A success answer whose body is not what the operation documents.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// The request was not sent: a required parameter was not set, or a value
    /// could not be converted (the message names it).
    #[error("the request was not sent: {0}")]
    InvalidRequest(String),
    /// The client could not be built from its configuration.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// No access token could be obtained.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// A local file could not be read (or written).
    #[error("{}: {source}", path.as_deref().unwrap_or("a local file"))]
    Io {
        /// The file, when known.
        path: Option<String>,
        /// What the system said.
        source: std::io::Error,
    },
    /// Sending a file's bytes to storage failed.
    #[error(transparent)]
    Upload(#[from] Box<UploadError>),
    /// A Frame.io upload (local, attachment, version) did not complete; says which file.
    #[error(transparent)]
    FileUpload(#[from] FileUploadError),
    /// Fetching a file's bytes from storage failed; says which file, which
    /// byte range and which status, and what was kept to resume from.
    #[error(transparent)]
    Download(#[from] Box<DownloadError>),
    /// A transfer job (a file download, a folder tree, a wait) could not do
    /// what was asked for one file; says which.
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// A C2C real-time upload could not follow its growing file (unreadable,
    /// shrinking, or too large for 10,000 parts).
    #[error(transparent)]
    Realtime(#[from] crate::c2c::RealtimeError),
    /// The C2C realtime socket could not connect, ended, or a request on it
    /// failed ([`SocketError`](crate::c2c::SocketError) says which).
    #[error(transparent)]
    Socket(#[from] crate::c2c::SocketError),
    /// An incoming webhook or custom-action request was rejected: bad or
    /// missing signature, outside the replay window, or an unexpected body.
    /// Each [`VerifyError`](crate::signature::VerifyError) message says what to do.
    #[error(transparent)]
    Signature(#[from] crate::signature::VerifyError),
    /// A listing could not go on to its next page (see the message).
    #[error(transparent)]
    Pagination(#[from] PaginationError),
    /// A page of a listing failed (after its retries); `after` is the cursor
    /// it was requested with, to resume the listing from (see
    /// [`Error::resume_cursor`]).
    #[error("{source}{}", resume_note(.after.as_deref()))]
    Page {
        /// The page's cursor (`None` for the first page).
        after: Option<String>,
        /// Why the page failed.
        source: Box<Error>,
    },
}

impl Error {
    /// The error behind a failed page, or this one.
    fn root(&self) -> &Error {
        match self {
            Error::Page { source, .. } => source.root(),
            other => other,
        }
    }

    /// The HTTP status Frame.io answered with, for [`Error::Api`] (and
    /// [`Error::Redirect`]).
    pub fn status(&self) -> Option<StatusCode> {
        match self.root() {
            Error::Api(api) => Some(api.status()),
            Error::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API error, if Frame.io answered with an error status.
    pub fn api(&self) -> Option<&ApiError> {
        match self.root() {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The operation (generated method name, e.g. `files_show`) the error
    /// came from, when it came from a call.
    pub fn operation(&self) -> Option<&'static str> {
        match self.root() {
            Error::Api(api) => api.operation(),
            Error::Transport { operation, .. }
            | Error::Timeout { operation, .. }
            | Error::Redirect { operation, .. } => *operation,
            Error::Decode(decode) => Some(decode.operation()),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: a 408, 429, 500, 502, 503 or
    /// 504 answer, a network failure or timeout, or an identity provider that
    /// was unreachable or rate limiting. The client has already retried these
    /// as far as its [`RetryPolicy`](crate::RetryPolicy) allows.
    pub fn is_retryable(&self) -> bool {
        match self.root() {
            Error::Api(api) => api.is_retryable(),
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Decode(decode) => decode.is_truncated(),
            Error::Auth(auth) => {
                matches!(auth, AuthError::Network(_) | AuthError::Unreachable { .. } | AuthError::RateLimited { .. })
            }
            Error::Socket(socket) => !socket.is_terminal(),
            _ => false,
        }
    }

    /// Whether the network failed: Frame.io (or the identity provider) could
    /// not be reached, the connection broke, or no answer came in time.
    pub fn is_network(&self) -> bool {
        match self.root() {
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Decode(decode) => decode.is_truncated(),
            Error::Auth(auth) => matches!(auth, AuthError::Network(_) | AuthError::Unreachable { .. }),
            Error::Socket(socket) => socket.is_network(),
            _ => false,
        }
    }

    /// Whether signing in again is what it takes: a 401, or credentials the
    /// identity provider no longer accepts.
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
            || matches!(self.root(), Error::Auth(AuthError::SignInAgain { .. }))
            || matches!(self.root(), Error::Socket(socket) if socket.is_authorization_lost())
    }

    /// A 404: the resource does not exist, or this user cannot see it.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// A 429: the operation's rate limit was exceeded (after the client's retries).
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(StatusCode::TOO_MANY_REQUESTS)
    }

    /// A 402: the account is over its Frame.io plan limits.
    pub fn is_plan_limit(&self) -> bool {
        self.status() == Some(StatusCode::PAYMENT_REQUIRED)
    }

    /// The error envelope's entries (empty unless [`Error::Api`]).
    pub fn errors(&self) -> &[ErrorDetail] {
        self.api().map(ApiError::errors).unwrap_or_default()
    }

    /// How many attempts the client made before giving up, when known.
    pub fn attempts(&self) -> Option<u32> {
        match self.root() {
            Error::Api(api) => api.attempts(),
            Error::Transport { attempts, .. } | Error::Timeout { attempts, .. } => *attempts,
            _ => None,
        }
    }

    /// How long the server asked the client to wait (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self.root() {
            Error::Api(api) => api.retry_after(),
            Error::Auth(AuthError::RateLimited { retry_after }) => *retry_after,
            _ => None,
        }
    }

    /// The rate-limit headers of the error response.
    pub fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.api().and_then(ApiError::rate_limit)
    }

    /// A request id to quote to Frame.io support, if the error response had one.
    pub fn request_id(&self) -> Option<&str> {
        self.api().and_then(ApiError::request_id)
    }

    /// For a listing that stopped at a failed page: the cursor to resume it
    /// from (`Some(None)` when the first page failed: start over).
    ///
    /// ```no_run
    /// # async fn run(client: frameio_ext::Client) -> frameio_ext::Result<()> {
    /// use futures::TryStreamExt;
    ///
    /// let listing = client.files_list().account_id("acc").folder_id("folder");
    /// let mut items = listing.clone().stream();
    /// loop {
    ///     match items.try_next().await {
    ///         Ok(Some(file)) => println!("{:?}", file.id()),
    ///         Ok(None) => break,
    ///         Err(error) => match error.resume_cursor() {
    ///             Some(Some(after)) => items = listing.clone().after(after).stream(),
    ///             _ => return Err(error),
    ///         },
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn resume_cursor(&self) -> Option<Option<&str>> {
        match self {
            Error::Page { after, .. } => Some(after.as_deref()),
            _ => None,
        }
    }

    /// A network failure of `operation`, classified, without its URL.
    pub(crate) fn transport(source: reqwest::Error, operation: Option<&'static str>, attempts: Option<u32>) -> Self {
        let source = source.without_url();
        if source.is_builder() {
            Error::InvalidRequest(format!("it could not be built ({})", root_cause(&source)))
        } else if source.is_timeout() {
            Error::Timeout { source, operation, attempts }
        } else {
            Error::Transport { source, operation, attempts }
        }
    }
}

impl From<ApiError> for Error {
    fn from(api: ApiError) -> Self {
        Error::Api(Box::new(api))
    }
}

impl From<DecodeError> for Error {
    fn from(decode: DecodeError) -> Self {
        Error::Decode(Box::new(decode))
    }
}

impl From<UploadError> for Error {
    fn from(upload: UploadError) -> Self {
        Error::Upload(Box::new(upload))
    }
}

impl From<DownloadError> for Error {
    fn from(download: DownloadError) -> Self {
        Error::Download(Box::new(download))
    }
}

/// A transfer job's failure about one file or folder, naming it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// Frame.io gave no download link for the file's original (it is not
    /// uploaded or processed yet, or this user may not download it).
    #[error(
        "Frame.io gives no download link for file {file_id} ({name}, status {status}); wait until it is uploaded          (`wait_until_uploaded`) or check that downloads are allowed"
    )]
    NoDownloadLink {
        /// The file.
        file_id: String,
        /// Its name.
        name: String,
        /// Its status when asked.
        status: String,
    },
    /// The file was not transcoded when the wait ran out.
    #[error("file {file_id} was still {status} after {waited:?}; wait longer, or check the file in Frame.io")]
    NotTranscoded {
        /// The file.
        file_id: String,
        /// Its last status.
        status: String,
        /// How long was waited.
        waited: Duration,
    },
    /// A remote name cannot be a local file name (a path separator, `..`, a
    /// control character): it is not written anywhere.
    #[error("{kind} {id} is named {name:?}, which cannot be a local file name; rename it in Frame.io")]
    UnsafeName {
        /// `file`, `folder` or `version stack`.
        kind: &'static str,
        /// Its id.
        id: String,
        /// The name.
        name: String,
    },
    /// Two remote items of one folder map to the same local path; only the
    /// first one is downloaded.
    #[error("{id} and {other_id} both go to {path}; rename one of them in Frame.io")]
    DuplicateName {
        /// The item not downloaded.
        id: String,
        /// The one downloaded there.
        other_id: String,
        /// The local path.
        path: String,
    },
    /// The local directory given is not one.
    #[error("{path} is not a directory")]
    NotADirectory {
        /// The path.
        path: String,
    },
}

/// A Frame.io upload that did not complete; each says which file it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileUploadError {
    /// The file was created, but sending its bytes failed: `source` names the part.
    #[error(
        "file {file_id} was created in Frame.io, but its bytes did not all arrive: {source}; delete it or upload again"
    )]
    Parts {
        /// The created file (or attachment).
        file_id: String,
        /// Which part failed, and how.
        #[source]
        source: Box<UploadError>,
    },
    /// Frame.io reports that it could not complete the upload.
    #[error("Frame.io reports that the upload of file {file_id} failed; upload it again")]
    Failed {
        /// The file.
        file_id: String,
    },
    /// Frame.io's answer lacks something the upload needs (the spec leaves it optional).
    #[error("Frame.io created the {what} but its answer has no {missing}; report this to Frame.io")]
    IncompleteAnswer {
        /// What was created (`file`, `attachment`).
        what: &'static str,
        /// The missing field.
        missing: &'static str,
    },
    /// The upload was not complete when the wait ran out.
    #[error("file {file_id} was still not uploaded after {waited:?}; wait longer, or check the file in Frame.io")]
    NotReady {
        /// The file.
        file_id: String,
        /// How long was waited.
        waited: Duration,
    },
}

/// Why an [`ApiError`]'s envelope was made up by the client rather than sent
/// by Frame.io (see [`ApiError::is_synthesized`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Synthesized {
    /// The error response had an empty body.
    EmptyBody,
    /// The body was not a Frame.io error envelope (an HTML page from a proxy,
    /// a truncated JSON document...).
    NotEnvelope,
    /// The body could not be read.
    Unreadable,
}

/// The response headers that may carry a request id. Frame.io documents none;
/// these are the ones its API gateway and load balancers commonly add.
const REQUEST_ID_HEADERS: [&str; 4] = ["x-request-id", "x-amzn-requestid", "x-amz-request-id", "request-id"];

/// An error answer from Frame.io: the status, the `errors` envelope, and what
/// the response headers said about rate limits and retries.
///
/// Frame.io guarantees only each entry's `detail`; `title` and `source.pointer`
/// (the request field at fault) are there when the API provides them.
///
/// ```
/// # fn show(error: &frameio_ext::Error) {
/// if let Some(api) = error.api() {
///     eprintln!("{} after {:?} attempt(s)", api.status(), api.attempts());
///     for entry in api.errors() {
///         let pointer = entry.source.as_ref().and_then(|s| s.pointer.as_deref());
///         eprintln!("- {} {:?} at {:?}", entry.detail, entry.title, pointer);
///     }
///     if let Some(body) = api.body_excerpt() {
///         eprintln!("the server's body was not an error envelope: {body}");
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    errors: Vec<ErrorDetail>,
    headers: HeaderMap,
    rate_limit: Option<RateLimitStatus>,
    retry_after: Option<Duration>,
    request_id: Option<String>,
    attempts: Option<u32>,
    operation: Option<&'static str>,
    synthesized: Option<(Synthesized, String)>,
}

/// Reads an API's error body into envelope entries, if it is one of its error
/// documents.
pub(crate) type EnvelopeParser = fn(&[u8]) -> Option<Vec<ErrorDetail>>;

/// Frame.io V4's `{"errors": [...]}`.
pub(crate) fn v4_envelope(body: &[u8]) -> Option<Vec<ErrorDetail>> {
    serde_json::from_slice::<types::Error>(body).ok().map(|envelope| envelope.errors)
}

impl ApiError {
    /// The error answer with status `status`, `headers` and (the start of) its
    /// `body`, which `parse` reads as the API's error document; a body it
    /// cannot read becomes a synthesized envelope holding a scrubbed excerpt.
    /// `token` is the credential the request carried, kept out of excerpts.
    pub(crate) fn from_answer(
        status: StatusCode,
        headers: HeaderMap,
        body: std::result::Result<&[u8], &str>,
        parse: EnvelopeParser,
        token: Option<&str>,
    ) -> Self {
        let (errors, synthesized) = match body {
            Ok(body) => match parse(body) {
                Some(errors) => (errors, None),
                None if body.trim_ascii().is_empty() => {
                    (vec![detail("Empty error body", "empty body")], Some((Synthesized::EmptyBody, String::new())))
                }
                None => {
                    let excerpt = redact::excerpt(body, token);
                    let entry = detail("Error body is not a Frame.io error envelope", &excerpt);
                    (vec![entry], Some((Synthesized::NotEnvelope, excerpt)))
                }
            },
            Err(reason) => {
                let entry = detail("Unreadable error body", &format!("the error body could not be read: {reason}"));
                (vec![entry], Some((Synthesized::Unreadable, String::new())))
            }
        };
        let request_id = REQUEST_ID_HEADERS
            .iter()
            .find_map(|name| headers.get(*name)?.to_str().ok())
            .map(|id| id.chars().take(128).collect());
        Self {
            status,
            errors,
            rate_limit: RateLimitStatus::from_headers(&headers),
            retry_after: rate_limit::retry_after(&headers, SystemTime::now()),
            request_id,
            attempts: None,
            operation: None,
            synthesized,
            headers,
        }
    }

    /// The same error, made by `operation` after `attempts` attempts.
    pub(crate) fn of_call(mut self, operation: &'static str, attempts: u32) -> Self {
        self.operation = Some(operation);
        self.attempts = Some(attempts);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The envelope's entries, in the order the API gave them.
    pub fn errors(&self) -> &[ErrorDetail] {
        &self.errors
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// What the `x-ratelimit-*` headers said.
    pub fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.rate_limit
    }

    /// The `Retry-After` header, as a wait from when the error was received
    /// (at most [`MAX_HINT`](crate::retry::MAX_HINT)).
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// A request id to quote to Frame.io support, if the response carried one
    /// (`x-request-id`, `x-amzn-requestid`, `x-amz-request-id` or `request-id`).
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How many attempts the client made, the last one answered with this error.
    pub fn attempts(&self) -> Option<u32> {
        self.attempts
    }

    /// The operation that was answered with this error (e.g. `files_show`).
    pub fn operation(&self) -> Option<&'static str> {
        self.operation
    }

    /// Whether the envelope was made up by the client because the response
    /// did not carry one: then [`errors`](Self::errors) describes what was
    /// received, and [`body_excerpt`](Self::body_excerpt) shows it.
    pub fn is_synthesized(&self) -> bool {
        self.synthesized.is_some()
    }

    /// For a synthesized envelope, the start of the body the server sent,
    /// scrubbed of credentials (empty when it sent none or it could not be read).
    pub fn body_excerpt(&self) -> Option<&str> {
        self.synthesized.as_ref().map(|(_, excerpt)| excerpt.as_str())
    }

    /// Whether trying again later may succeed (408, 429, 500, 502, 503, 504).
    pub fn is_retryable(&self) -> bool {
        matches!(self.status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
    }

    /// What the caller can do about this status.
    fn advice(&self) -> Option<String> {
        let advice = match self.status.as_u16() {
            400 | 422 => "check the request's parameters and body",
            401 => {
                "the access token is missing, expired or revoked: sign in again (a legacy developer token needs \
                 `Credentials::legacy_developer_token`)"
            }
            402 => "the account is over its Frame.io plan limits: upgrade the plan or free up usage",
            403 => "this user or token may not do this: check the user's role and the token's scopes",
            404 => "the resource does not exist, was deleted, or this user cannot see it",
            408 => "the request took too long: try again",
            409 => "the resource changed or already exists: fetch it again before retrying",
            429 => {
                let wait = self.retry_after.or_else(|| self.rate_limit.filter(|r| r.is_exhausted())?.window());
                return Some(match wait {
                    Some(wait) => format!("rate limited: wait {wait:?} before trying again, or make fewer calls"),
                    None => "rate limited: wait a few seconds before trying again, or make fewer calls".to_string(),
                });
            }
            500..=599 => "a server-side problem: try again in 30 s or more; report it if it persists",
            _ => return None,
        };
        Some(advice.to_string())
    }
}

fn detail(title: &str, detail: &str) -> ErrorDetail {
    ErrorDetail { detail: detail.to_string(), source: None, title: Some(title.to_string()) }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Frame.io answered {}", self.status)?;
        if let Some(operation) = self.operation {
            write!(f, " to `{operation}`")?;
        }
        if let Some(attempts) = self.attempts.filter(|n| *n > 1) {
            write!(f, " (after {attempts} attempts)")?;
        }
        match &self.synthesized {
            Some((Synthesized::EmptyBody, _)) => f.write_str(" with an empty body")?,
            Some((Synthesized::NotEnvelope, excerpt)) => {
                write!(f, " with a body that is not an error envelope: {excerpt:?}")?
            }
            Some((Synthesized::Unreadable, _)) | None => {
                for (i, entry) in self.errors.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { "; " })?;
                    if let Some(title) = entry.title.as_deref().filter(|t| !t.is_empty()) {
                        write!(f, "{title}: ")?;
                    }
                    f.write_str(&entry.detail)?;
                    if let Some(pointer) = entry.source.as_ref().and_then(|s| s.pointer.as_deref()) {
                        write!(f, " (at {pointer})")?;
                    }
                }
            }
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        if let Some(advice) = self.advice() {
            write!(f, "; {advice}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// A success answer whose body does not decode as the operation's documented
/// response: the API sent a value this client does not expect, left out one
/// it requires, or the body was cut short.
///
/// [`pointer`](Self::pointer) names the JSON value that failed, e.g.
/// `/data/2/media_type`, and [`field`](Self::field) its member name. The body
/// itself is not kept (it may hold tokens or pre-signed URLs): only a short,
/// scrubbed excerpt around the failure.
///
/// progenitor hands over the body and the `serde_json` error, not the
/// response type, so the pointer is recovered from the error's line and
/// column: a small scanner walks the JSON up to that byte and keeps track of
/// the keys and array indexes it is inside (for "missing field" errors, the
/// pointer ends with the missing field).
#[derive(Debug, Clone)]
pub struct DecodeError {
    operation: &'static str,
    segments: Option<Vec<Segment>>,
    excerpt: String,
    message: String,
    truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl DecodeError {
    /// The failure to decode `body` as the answer to `operation`.
    pub(crate) fn new(operation: &'static str, body: &[u8], source: &serde_json::Error) -> Self {
        let truncated = source.classify() == serde_json::error::Category::Eof;
        let segments = json_path(body, source);
        let at = position(body, source).unwrap_or(0);
        let from = at.saturating_sub(redact::EXCERPT_CHARS / 2);
        // Whole characters only: step back to a UTF-8 boundary.
        let from = (0..=from).rev().find(|i| body.get(*i).is_none_or(|b| (*b as i8) >= -0x40)).unwrap_or(0);
        Self {
            operation,
            segments,
            excerpt: redact::excerpt(&body[from..], None),
            message: scrub_message(&source.to_string()),
            truncated,
        }
    }

    /// The operation whose answer did not decode (e.g. `files_list`).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The RFC 6901 pointer of the value that failed (`""` is the whole
    /// document), when the error has a position.
    pub fn pointer(&self) -> Option<String> {
        let segments = self.segments.as_ref()?;
        Some(
            segments
                .iter()
                .map(|s| match s {
                    Segment::Key(k) => format!("/{}", k.replace('~', "~0").replace('/', "~1")),
                    Segment::Index(i) => format!("/{i}"),
                })
                .collect(),
        )
    }

    /// The path of the value that failed in dotted form (`data[2].media_type`,
    /// `.` for the whole document).
    pub fn path(&self) -> Option<String> {
        let segments = self.segments.as_ref()?;
        let mut path = String::new();
        for segment in segments {
            match segment {
                Segment::Key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Segment::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        Some(if path.is_empty() { ".".to_string() } else { path })
    }

    /// The member name of the value that failed, when it is an object member.
    pub fn field(&self) -> Option<&str> {
        match self.segments.as_ref()?.last()? {
            Segment::Key(key) => Some(key),
            Segment::Index(_) => None,
        }
    }

    /// Whether the body ended early (a connection cut mid-body, a proxy's
    /// limit), rather than holding something unexpected.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// A scrubbed excerpt of the body around the value that failed.
    pub fn excerpt(&self) -> &str {
        &self.excerpt
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = self.pointer().map_or_else(|| "?".to_string(), |p| if p.is_empty() { "/".into() } else { p });
        if self.truncated {
            return write!(
                f,
                "the answer to `{}` was cut short (the body ended at `{pointer}`, after a retry); the network or a \
                 proxy in between dropped the rest: try again",
                self.operation
            );
        }
        write!(f, "could not decode the answer to `{}` at `{pointer}`", self.operation)?;
        if let Some(field) = self.field() {
            write!(f, " (field `{field}`)")?;
        }
        write!(
            f,
            ": {}; Frame.io sent something this client does not expect: please report it at {REPORT_URL} with \
             this message (near: {:?})",
            self.message, self.excerpt
        )
    }
}

impl std::error::Error for DecodeError {}

/// serde_json's message, which may quote a value from the body: scrubbed, and
/// cut to a line.
fn scrub_message(message: &str) -> String {
    let scrubbed = redact::scrub(message, None);
    match scrubbed.char_indices().nth(redact::EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &scrubbed[..end]),
        None => scrubbed,
    }
}

/// Why a listing could not go on to its next page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PaginationError {
    /// The server sent a cursor it had sent before: following it would loop.
    #[error(
        "the server sent pagination cursor `{cursor}` again after {pages} page(s), a cycle; stopping instead of \
         looping (report this to Frame.io)"
    )]
    Cycle {
        /// The repeated cursor.
        cursor: String,
        /// How many pages had been listed.
        pages: u64,
    },
    /// An empty page kept pointing at itself after the client asked again.
    #[error(
        "the server kept answering an empty page whose `links.next` repeats cursor `{cursor}` ({tries} tries); \
         stopping instead of looping (report this to Frame.io)"
    )]
    StuckEmptyPage {
        /// The cursor.
        cursor: String,
        /// How many times the page was asked for.
        tries: u32,
    },
    /// More pages arrived than the listing's `total_count` allows.
    #[error(
        "the listing went on for {pages} pages although it has {total_count} items; stopping (report this to Frame.io)"
    )]
    TooManyPages {
        /// Pages listed.
        pages: u64,
        /// The total the server announced.
        total_count: i64,
    },
    /// `links.next` was set but carried no `after` cursor.
    #[error("`links.next` ({next}) has no `after` cursor; cannot request the next page")]
    MissingCursor {
        /// The link as sent, without anything but its path and cursor-less query.
        next: String,
    },
}

/// Where the error's position is in `body`, as a byte offset.
fn position(body: &[u8], error: &serde_json::Error) -> Option<usize> {
    let line_start = match error.line() {
        0 => return None,
        1 => 0,
        n => body.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(n - 2)?.0 + 1,
    };
    // serde_json reports the 1-based column of the last byte it read.
    Some((line_start + error.column()).min(body.len()))
}

/// The path of the value at `error`'s position in `body`.
fn json_path(body: &[u8], error: &serde_json::Error) -> Option<Vec<Segment>> {
    let consumed = &body[..position(body, error)?];
    let message = error.to_string();
    let mut scanner = PathScanner::default();
    let with_member = match consumed.iter().rposition(|b| !b.is_ascii_whitespace()) {
        // Errors placed right after a container closed. A `}` is the object's
        // own fault (a missing field, an invalid union: both found once the
        // object has been read); a `]` is the array's only for a wrong length,
        // otherwise its last element's (a union element reports its error
        // only after the array has been closed).
        Some(close) if matches!(consumed[close], b'}' | b']') => {
            consumed[..close].iter().for_each(|b| scanner.feed(*b));
            consumed[close] == b']' && !message.starts_with("invalid length")
        }
        _ => {
            consumed.iter().for_each(|b| scanner.feed(*b));
            // A union element that is not the last reports its error after the
            // `,` behind it was read; only a map or sequence in the next
            // element is reported there, before it is read.
            let next_value = message.starts_with("invalid type: map") || message.starts_with("invalid type: sequence");
            if !next_value {
                scanner.back_to_previous_element();
            }
            true
        }
    };
    let mut path = scanner.path(with_member);
    if let Some(field) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
        path.push(Segment::Key(field.to_string()));
    }
    Some(path)
}

/// Where a JSON scan stands: the containers it is in, and inside a string or not.
#[derive(Default)]
struct PathScanner {
    stack: Vec<Frame>,
    in_string: bool,
    escaped: bool,
    /// The object key being read, when the current string is one.
    key: Option<Vec<u8>>,
    /// The last byte outside strings and whitespace.
    last_token: Option<u8>,
}

enum Frame {
    Object { key: Option<String>, expecting_key: bool },
    Array { index: usize },
}

/// How deep the scanner follows nesting; serde_json itself stops at 128.
const MAX_DEPTH: usize = 256;

impl PathScanner {
    fn feed(&mut self, byte: u8) {
        if self.in_string {
            if !self.escaped && byte == b'"' {
                self.in_string = false;
                if let (Some(key), Some(Frame::Object { key: current, expecting_key })) =
                    (self.key.take(), self.stack.last_mut())
                {
                    *current = Some(String::from_utf8_lossy(&key).into_owned());
                    *expecting_key = false;
                }
            } else {
                self.escaped = !self.escaped && byte == b'\\';
                if let Some(key) = &mut self.key
                    && key.len() < 256
                {
                    key.push(byte);
                }
            }
            return;
        }
        if !byte.is_ascii_whitespace() {
            self.last_token = Some(byte);
        }
        match byte {
            b'"' => {
                self.in_string = true;
                if let Some(Frame::Object { expecting_key: true, .. }) = self.stack.last() {
                    self.key = Some(Vec::new());
                }
            }
            b'{' if self.stack.len() < MAX_DEPTH => self.stack.push(Frame::Object { key: None, expecting_key: true }),
            b'[' if self.stack.len() < MAX_DEPTH => self.stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                self.stack.pop();
            }
            b',' => match self.stack.last_mut() {
                Some(Frame::Object { key, expecting_key }) => {
                    *key = None;
                    *expecting_key = true;
                }
                Some(Frame::Array { index }) => *index = index.saturating_add(1),
                None => {}
            },
            _ => {}
        }
    }

    /// Just after the `,` that ends an array element: back to that element.
    fn back_to_previous_element(&mut self) {
        if let (Some(b','), Some(Frame::Array { index })) = (self.last_token, self.stack.last_mut()) {
            *index = index.saturating_sub(1);
        }
    }

    /// The path of the current value (`with_member`) or of its container.
    fn path(&self, with_member: bool) -> Vec<Segment> {
        let members = if with_member { self.stack.len() } else { self.stack.len().saturating_sub(1) };
        self.stack[..members]
            .iter()
            .filter_map(|frame| match frame {
                Frame::Object { key: Some(key), .. } => Some(Segment::Key(key.clone())),
                Frame::Object { key: None, .. } => None,
                Frame::Array { index } => Some(Segment::Index(*index)),
            })
            .collect()
    }
}

/// The innermost cause of a network error (e.g. "Connection refused"), which
/// names the problem better than reqwest's own "error sending request".
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    redact::scrub(&cause.to_string(), None)
}

fn attempts_note(attempts: Option<u32>) -> String {
    match attempts {
        Some(n) if n > 1 => format!(" after {n} attempts"),
        _ => String::new(),
    }
}

fn operation_note(operation: Option<&'static str>) -> String {
    operation.map(|op| format!(" for `{op}`")).unwrap_or_default()
}

fn resume_note(after: Option<&str>) -> String {
    match after {
        Some(after) => format!("; the listing stopped at the page after cursor `{after}`: resume with `.after(..)`"),
        None => "; the listing stopped at its first page".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_path<T: serde::de::DeserializeOwned + fmt::Debug>(json: &str) -> Option<String> {
        let error = serde_json::from_str::<T>(json).unwrap_err();
        DecodeError::new("test_op", json.as_bytes(), &error).path()
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Doc {
        a: u64,
        b: Vec<Item>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        x: String,
        y: Option<bool>,
    }

    #[test]
    fn paths_name_the_value_that_failed() {
        assert_eq!(decode_path::<Doc>(r#"{"a": "x", "b": []}"#).as_deref(), Some("a"));
        assert_eq!(decode_path::<Doc>(r#"{"a": 1, "b": [{"x": "s"}, {"x": 3}]}"#).as_deref(), Some("b[1].x"));
        assert_eq!(decode_path::<Doc>(r#"{"a": 1, "b": [{"x": "s", "y": 5}]}"#).as_deref(), Some("b[0].y"));
        assert_eq!(decode_path::<Doc>(r#"{"a":1,"b":[{"x":{"q":1}}]}"#).as_deref(), Some("b[0].x"));
        assert_eq!(decode_path::<Doc>("{\n \"a\": 1,\n \"b\": [{\"x\": [1]}]}").as_deref(), Some("b[0].x"));
        assert_eq!(decode_path::<Doc>(r#"{"a": 1, "b": [{"y": true}]}"#).as_deref(), Some("b[0].x"), "missing field");
        assert_eq!(decode_path::<Doc>(r#"{"b": []}"#).as_deref(), Some("a"));
        assert_eq!(decode_path::<Doc>(r#"{"a": 1, "b": [{"x": "a \" , [ {", "y": 7}]}"#).as_deref(), Some("b[0].y"));
        assert_eq!(decode_path::<Doc>(r#"[1]"#).as_deref(), Some("."));
        assert_eq!(decode_path::<Doc>(r#"{"a": 1, "b": [{"x": "s"}, [1]]}"#).as_deref(), Some("b[1][0]"));
        assert_eq!(decode_path::<Vec<u64>>(r#"[1, {"k": 2}]"#).as_deref(), Some("[1]"), "a map where a number goes");
        assert_eq!(decode_path::<Vec<u64>>("[1,2,\n [3]]").as_deref(), Some("[2]"));
        assert_eq!(decode_path::<(u8, u8)>("[1]").as_deref(), Some("."), "a short array is the array's fault");
        assert_eq!(decode_path::<Vec<(u8, u8)>>("[[1, 2], [1]]").as_deref(), Some("[1]"));
    }

    #[test]
    fn pointers_and_fields_name_the_failure() {
        let json = r#"{"data": {"file_size": 1, "media_type": "video/mp4", "status": "uploaded",
            "upload_urls": [{"size": 1, "url": "https://s3/1"}, {"size": "big", "url": "https://s3/2"}]}}"#;
        let error = serde_json::from_str::<types::FileWithUploadUrlsResponse>(json).unwrap_err();
        let decode = DecodeError::new("files_create_local_upload", json.as_bytes(), &error);
        assert_eq!(decode.pointer().as_deref(), Some("/data/upload_urls/1/size"));
        assert_eq!(decode.path().as_deref(), Some("data.upload_urls[1].size"));
        assert_eq!(decode.field(), Some("size"));
        let shown = decode.to_string();
        assert!(shown.contains("`files_create_local_upload` at `/data/upload_urls/1/size` (field `size`)"), "{shown}");
        assert!(shown.contains("please report it"), "{shown}");
        assert!(!decode.is_truncated());
    }

    #[test]
    fn paths_into_a_union_variant() {
        let file = |name: &str| {
            format!(
                r#"{{"type": "file", "id": "f1", "name": "{name}", "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-02T00:00:00Z", "file_size": 10, "media_type": "video/quicktime",
                "parent_id": "p", "project_id": "pr", "status": "uploaded", "view_url": "https://next.frame.io/x"}}"#
            )
        };
        let page = |items: &str| format!(r#"{{"data": [{items}], "links": {{"next": null}}}}"#);
        let path = |items: String| decode_path::<types::FileAssetsWithIncludesResponse>(&page(&items));
        let good = file("a.mov");
        let big = good.replace(r#""file_size": 10"#, r#""file_size": "big""#);
        assert_eq!(path(format!("{good}, {big}")).as_deref(), Some("data[1].file_size"), "inside a variant");
        assert_eq!(path(format!("{big},{good}")).as_deref(), Some("data[0].file_size"), "not the last element");
    }

    #[test]
    fn a_decode_error_keeps_no_secret_and_no_whole_body() {
        let body = format!(
            r#"{{"access_token": "eyJ-secret", "refresh_token": "rt-secret", "expires_in": "soon", "pad": "{}"}}"#,
            "x".repeat(10_000)
        );
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Token {
            access_token: String,
            expires_in: u64,
        }
        let error = serde_json::from_str::<Token>(&body).unwrap_err();
        let decode = DecodeError::new("authentication_auth_device_token", body.as_bytes(), &error);
        for shown in [decode.to_string(), format!("{decode:?}"), format!("{:?}", Error::from(decode.clone()))] {
            assert!(!shown.contains("eyJ-secret") && !shown.contains("rt-secret"), "{shown}");
            assert!(shown.len() < 2_000, "{} bytes", shown.len());
        }
    }

    #[test]
    fn a_truncated_body_says_so() {
        let body = br#"{"data": [{"x": "s"}, {"x": "t"#;
        let error = serde_json::from_slice::<Doc>(body).unwrap_err();
        let decode = DecodeError::new("files_list", body, &error);
        assert!(decode.is_truncated());
        let shown = decode.to_string();
        assert!(shown.contains("cut short") && !shown.contains("report it"), "{shown}");
        assert!(Error::from(decode).is_retryable());
    }

    #[test]
    fn envelope_display_lists_details_and_advice() {
        let body = br#"{"errors": [{"detail": "Unexpected field: foo", "source": {"pointer": "/data/foo"}, "title": "Invalid value"},
                                   {"detail": "name is required"}]}"#;
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", "req-42".parse().unwrap());
        let error = ApiError::from_answer(StatusCode::UNPROCESSABLE_ENTITY, headers, Ok(body), v4_envelope, None)
            .of_call("files_update", 3);
        assert_eq!(
            error.to_string(),
            "Frame.io answered 422 Unprocessable Entity to `files_update` (after 3 attempts): Invalid value: \
             Unexpected field: foo (at /data/foo); name is required [request id req-42]; check the request's \
             parameters and body"
        );
        assert_eq!((error.attempts(), error.request_id()), (Some(3), Some("req-42")));
        assert!(!error.is_synthesized() && error.body_excerpt().is_none());
        let error = Error::from(error);
        assert_eq!((error.request_id(), error.operation()), (Some("req-42"), Some("files_update")));
    }

    #[test]
    fn bodies_that_are_not_envelopes_become_scrubbed_excerpts() {
        let html = b"<html><body>502 Bad Gateway https://s3.example/k?X-Amz-Signature=abc tok-5ecret</body></html>";
        let error =
            ApiError::from_answer(StatusCode::BAD_GATEWAY, HeaderMap::new(), Ok(html), v4_envelope, Some("tok-5ecret"));
        assert!(error.is_synthesized());
        let excerpt = error.body_excerpt().unwrap();
        assert!(excerpt.contains("502 Bad Gateway") && !excerpt.contains("abc") && !excerpt.contains("tok-5ecret"));
        let empty = ApiError::from_answer(StatusCode::BAD_GATEWAY, HeaderMap::new(), Ok(b"  "), v4_envelope, None);
        assert_eq!(
            empty.to_string(),
            "Frame.io answered 502 Bad Gateway with an empty body; a server-side problem: try again in 30 s or more; report it if it persists"
        );
    }

    #[test]
    fn a_failed_page_keeps_its_cursor_and_its_cause() {
        let api = ApiError::from_answer(StatusCode::SERVICE_UNAVAILABLE, HeaderMap::new(), Ok(b""), v4_envelope, None);
        let error = Error::Page { after: Some("c-17".into()), source: Box::new(Error::from(api)) };
        assert_eq!(error.resume_cursor(), Some(Some("c-17")));
        assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE), "accessors see through the page");
        assert!(error.is_retryable());
        assert!(error.to_string().contains("cursor `c-17`"), "{error}");
        assert_eq!(Error::InvalidRequest("x".into()).resume_cursor(), None);
    }
}
