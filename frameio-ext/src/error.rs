//! The crate's one error type, [`Error`], and its accessors.
//!
//! Every generated call's error converts into it with `?`
//! (`From<frameio_gen::Error<types::Error>>`): an error status becomes
//! [`Error::Api`] with the parsed envelope ([`ApiError`]), a network failure
//! [`Error::Transport`] or [`Error::Timeout`], a success body that does not
//! match the operation [`Error::Decode`] with the JSON path that failed
//! ([`DecodeError`]), a request that could not be built
//! [`Error::InvalidRequest`]. Messages say what happened and what to do, and
//! never contain a token.

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use frameio_gen::v4::types;
use http::{HeaderMap, StatusCode};

use crate::auth::AuthError;
use crate::middleware;
use crate::rate_limit::{self, RateLimitStatus};

pub use frameio_gen::v4::types::{ErrorDetail, ErrorSource};

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
        "could not reach Frame.io ({}){}; check the network connection, proxy settings and base URL, then try again",
        root_cause(.source),
        attempts_note(.attempts)
    )]
    Transport {
        /// The underlying error (its URL has no query string).
        source: reqwest::Error,
        /// How many attempts were made, when the client's retry loop made them.
        attempts: Option<u32>,
    },
    /// Frame.io did not answer within the connect or request timeout.
    #[error(
        "Frame.io did not answer in time{}; try again later, or raise the client's timeout",
        attempts_note(.attempts)
    )]
    Timeout {
        /// The underlying error (its URL has no query string).
        source: reqwest::Error,
        /// How many attempts were made, when the client's retry loop made them.
        attempts: Option<u32>,
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
    /// Sending a file's bytes to storage failed.
    #[error(transparent)]
    Upload(#[from] Box<crate::upload::UploadError>),
    /// A Frame.io upload (local, attachment, version) did not complete; says which file.
    #[error(transparent)]
    FileUpload(#[from] crate::upload::FileUploadError),
    /// A C2C real-time upload could not follow its growing file (unreadable,
    /// shrinking, or too large for 10,000 parts).
    #[error(transparent)]
    Realtime(#[from] crate::c2c::RealtimeError),
    /// An incoming webhook or custom-action request was rejected: bad or
    /// missing signature, outside the replay window, or an unexpected body.
    /// Each [`VerifyError`](crate::signature::VerifyError) message says what to do.
    #[error(transparent)]
    Signature(#[from] crate::signature::VerifyError),
    /// A listing could not go on to its next page (see the message).
    #[error(transparent)]
    Pagination(#[from] crate::pagination::PaginationError),
}

impl Error {
    /// The HTTP status Frame.io answered with, for [`Error::Api`].
    pub fn status(&self) -> Option<StatusCode> {
        self.api().map(ApiError::status)
    }

    /// The API error, if Frame.io answered with an error status.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
            _ => None,
        }
    }

    /// Whether trying again later may succeed: a 408, 429, 500, 502, 503 or
    /// 504 answer, a network failure or timeout, or an identity provider that
    /// was unreachable or rate limiting. The client has already retried these
    /// as far as its [`RetryPolicy`](crate::RetryPolicy) allows.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Api(api) => api.is_retryable(),
            Error::Transport { .. } | Error::Timeout { .. } => true,
            Error::Auth(auth) => {
                matches!(auth, AuthError::Network(_) | AuthError::Unreachable { .. } | AuthError::RateLimited { .. })
            }
            _ => false,
        }
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
        match self {
            Error::Api(api) => api.attempts(),
            Error::Transport { attempts, .. } | Error::Timeout { attempts, .. } => *attempts,
            _ => None,
        }
    }

    /// How long the server asked the client to wait (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) => api.retry_after(),
            Error::Auth(AuthError::RateLimited { retry_after }) => *retry_after,
            _ => None,
        }
    }

    /// The rate-limit headers of the error response.
    pub fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.api().and_then(ApiError::rate_limit)
    }

    fn from_reqwest(mut source: reqwest::Error) -> Self {
        let attempts = middleware::take_attempts(&mut source);
        if source.is_builder() {
            Error::InvalidRequest(format!("it could not be built ({})", root_cause(&source)))
        } else if source.is_timeout() {
            Error::Timeout { source, attempts }
        } else {
            Error::Transport { source, attempts }
        }
    }
}

impl From<frameio_gen::Error<types::Error>> for Error {
    fn from(error: frameio_gen::Error<types::Error>) -> Self {
        use frameio_gen::Error as Gen;
        match error {
            Gen::ErrorResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                Error::Api(Box::new(ApiError::new(status, headers, response.into_inner())))
            }
            Gen::UnexpectedResponse(response) => Error::Api(Box::new(ApiError::undocumented(&response))),
            Gen::InvalidResponsePayload(body, source) => Error::Decode(Box::new(DecodeError::new(body, source))),
            Gen::CommunicationError(e) | Gen::InvalidUpgrade(e) | Gen::ResponseBodyError(e) => Error::from_reqwest(e),
            Gen::InvalidRequest(message) => Error::InvalidRequest(message),
            Gen::Custom(message) => match middleware::decode_auth_failure(&message) {
                Some(auth) => Error::Auth(auth),
                None => Error::InvalidRequest(message),
            },
        }
    }
}

/// Why an [`ApiError`]'s envelope was made up by the client rather than sent
/// by Frame.io (see [`ApiError::is_synthesized`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Synthesized {
    /// The error response had an empty body.
    EmptyBody,
    /// The body was not a Frame.io error envelope (an HTML page from a proxy,
    /// a truncated JSON document...).
    NotEnvelope,
    /// The body could not be read.
    Unreadable,
    /// The status is not an error the operation documents; the body was not read.
    UndocumentedStatus,
}

impl Synthesized {
    pub(crate) fn header_value(self) -> &'static str {
        match self {
            Synthesized::EmptyBody => "empty",
            Synthesized::NotEnvelope => "not-envelope",
            Synthesized::Unreadable => "unreadable",
            Synthesized::UndocumentedStatus => "undocumented-status",
        }
    }

    fn from_header_value(value: &str) -> Option<Self> {
        [Synthesized::EmptyBody, Synthesized::NotEnvelope, Synthesized::Unreadable]
            .into_iter()
            .find(|kind| kind.header_value() == value)
    }
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
    synthesized: Option<Synthesized>,
}

impl ApiError {
    fn new(status: StatusCode, mut headers: HeaderMap, envelope: types::Error) -> Self {
        let attempts = take_header(&mut headers, middleware::ATTEMPTS_HEADER).and_then(|v| v.parse().ok());
        let synthesized = take_header(&mut headers, middleware::SYNTHESIZED_HEADER)
            .map(|v| Synthesized::from_header_value(&v).unwrap_or(Synthesized::NotEnvelope));
        let request_id =
            REQUEST_ID_HEADERS.iter().find_map(|name| headers.get(*name)?.to_str().ok()).map(str::to_string);
        Self {
            status,
            errors: envelope.errors,
            rate_limit: RateLimitStatus::from_headers(&headers),
            retry_after: rate_limit::retry_after(&headers, SystemTime::now()),
            request_id,
            attempts,
            synthesized,
            headers,
        }
    }

    /// A status the operation does not document as an error (progenitor hands
    /// the response over unread).
    fn undocumented(response: &reqwest::Response) -> Self {
        let detail = format!("Frame.io answered {}, which this operation does not document", response.status());
        let envelope = types::Error { errors: vec![ErrorDetail { detail, source: None, title: None }] };
        let mut error = Self::new(response.status(), response.headers().clone(), envelope);
        error.synthesized = Some(Synthesized::UndocumentedStatus);
        error
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The envelope's entries, in the order the API gave them.
    pub fn errors(&self) -> &[ErrorDetail] {
        &self.errors
    }

    /// The response headers (without the client's own markers).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// What the `x-ratelimit-*` headers said.
    pub fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.rate_limit
    }

    /// The `Retry-After` header, as a wait from when the error was received.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// A request id to quote to Frame.io support, if the response carried one
    /// (`x-request-id`, `x-amzn-requestid`, `x-amz-request-id` or `request-id`).
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How many attempts the client made, the last one answered with this
    /// error (`None` for a response that did not go through a
    /// [`Client`](crate::Client)).
    pub fn attempts(&self) -> Option<u32> {
        self.attempts
    }

    /// Whether the envelope was made up by the client because the response
    /// did not carry one: then [`errors`](Self::errors) describes what was
    /// received, and [`body_excerpt`](Self::body_excerpt) shows it.
    pub fn is_synthesized(&self) -> bool {
        self.synthesized.is_some()
    }

    /// For a synthesized envelope, the start of the body the server sent
    /// (empty when it sent none, or it could not be read or was not read).
    pub fn body_excerpt(&self) -> Option<&str> {
        match self.synthesized? {
            Synthesized::NotEnvelope => Some(self.errors.first().map_or("", |e| e.detail.as_str())),
            Synthesized::EmptyBody | Synthesized::Unreadable | Synthesized::UndocumentedStatus => Some(""),
        }
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

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Frame.io answered {}", self.status)?;
        if let Some(attempts) = self.attempts.filter(|n| *n > 1) {
            write!(f, " (after {attempts} attempts)")?;
        }
        match self.synthesized {
            Some(Synthesized::EmptyBody) => f.write_str(" with an empty body")?,
            Some(Synthesized::NotEnvelope) => {
                write!(f, " with a body that is not an error envelope: {:?}", self.body_excerpt().unwrap_or(""))?
            }
            Some(Synthesized::Unreadable | Synthesized::UndocumentedStatus) | None => {
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
/// response: the API sent a field this client does not expect, or left out one
/// it requires.
///
/// [`path`](Self::path) names the JSON value that failed, e.g.
/// `data.upload_urls[2].size`.
///
/// progenitor hands over the body and the `serde_json` error, but not the
/// response type, so the path is recovered from the error's line and column:
/// a small scanner walks the JSON up to that byte and keeps track of the keys
/// and array indexes it is inside (for "missing field" errors, the path ends
/// with the missing field). No second decode, and it works for every
/// operation, tagged unions included (they decode in one pass, so an error
/// inside a variant is placed at the value that failed).
#[derive(Debug, thiserror::Error)]
#[error(
    "could not decode Frame.io's answer at `{}`: {source}; this client may be older than the API: upgrade frameio-rs, or report the response",
    path.as_deref().unwrap_or("?")
)]
pub struct DecodeError {
    path: Option<String>,
    body: Bytes,
    source: serde_json::Error,
}

impl DecodeError {
    fn new(body: Bytes, source: serde_json::Error) -> Self {
        Self { path: json_path(&body, &source), body, source }
    }

    /// The path of the value that failed (`.` is the whole document), if the
    /// error has a position.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The body as received.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

/// The JSON path of the value at `error`'s position in `body`.
fn json_path(body: &[u8], error: &serde_json::Error) -> Option<String> {
    let line_start = match error.line() {
        0 => return None,
        1 => 0,
        n => body.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(n - 2)?.0 + 1,
    };
    // serde_json reports the 1-based column of the last byte it read, so the
    // bytes before `read` are the ones it had consumed.
    let read = (line_start + error.column()).min(body.len());
    let consumed = &body[..read];
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
        push_key(&mut path, field);
    }
    Some(if path.is_empty() { ".".to_string() } else { path })
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
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
                if let Some(key) = &mut self.key {
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
            b'{' => self.stack.push(Frame::Object { key: None, expecting_key: true }),
            b'[' => self.stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                self.stack.pop();
            }
            b',' => match self.stack.last_mut() {
                Some(Frame::Object { key, expecting_key }) => {
                    *key = None;
                    *expecting_key = true;
                }
                Some(Frame::Array { index }) => *index += 1,
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
    fn path(&self, with_member: bool) -> String {
        let mut path = String::new();
        let members = if with_member { self.stack.len() } else { self.stack.len().saturating_sub(1) };
        for frame in &self.stack[..members] {
            match frame {
                Frame::Object { key: Some(key), .. } => push_key(&mut path, key),
                Frame::Object { key: None, .. } => {}
                Frame::Array { index } => path.push_str(&format!("[{index}]")),
            }
        }
        path
    }
}

fn take_header(headers: &mut HeaderMap, name: &str) -> Option<String> {
    headers.remove(name)?.to_str().ok().map(str::to_string)
}

/// The innermost cause of a network error (e.g. "Connection refused"), which
/// names the problem better than reqwest's own "error sending request".
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn attempts_note(attempts: &Option<u32>) -> String {
    match attempts {
        Some(n) if *n > 1 => format!(" after {n} attempts"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod api_error_tests {
    use super::*;

    fn decode_path<T: serde::de::DeserializeOwned + fmt::Debug>(json: &str) -> Option<String> {
        let error = serde_json::from_str::<T>(json).unwrap_err();
        json_path(json.as_bytes(), &error)
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
    fn paths_through_a_generated_type() {
        let json = r#"{"data": {"file_size": 1, "media_type": "video/mp4", "status": "uploaded",
            "upload_urls": [{"size": 1, "url": "https://s3/1"}, {"size": "big", "url": "https://s3/2"}]}}"#;
        assert_eq!(decode_path::<types::FileWithUploadUrlsResponse>(json).as_deref(), Some("data.upload_urls[1].size"));
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
        let bad = file("b.mov").replace(r#" "media_type": "video/quicktime","#, "");
        let (good, page) =
            (file("a.mov"), |items: &str| format!(r#"{{"data": [{items}], "links": {{"next": null}}}}"#));
        let path = |items: String| decode_path::<types::FileAssetsWithIncludesResponse>(&page(&items));
        assert_eq!(path(format!("{good}, {bad}")).as_deref(), Some("data[1].media_type"), "the last element");
        assert_eq!(path(format!("{good},{bad},{good}")).as_deref(), Some("data[1].media_type"), "a middle element");
        assert_eq!(path(format!("{bad} ,\n {good}")).as_deref(), Some("data[0].media_type"), "the first element");
        let big = good.replace(r#""file_size": 10"#, r#""file_size": "big""#);
        assert_eq!(
            path(format!("{good}, {big}")).as_deref(),
            Some("data[1].file_size"),
            "a bad value inside a variant"
        );
        assert_eq!(path(format!("{big},{good}")).as_deref(), Some("data[0].file_size"), "not the last element");
    }

    #[test]
    fn envelope_display_lists_details_and_advice() {
        let envelope: types::Error = serde_json::from_str(
            r#"{"errors": [{"detail": "Unexpected field: foo", "source": {"pointer": "/data/foo"}, "title": "Invalid value"},
                           {"detail": "name is required"}]}"#,
        )
        .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(middleware::ATTEMPTS_HEADER, "3".parse().unwrap());
        headers.insert("x-request-id", "req-42".parse().unwrap());
        let error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, headers, envelope);
        assert_eq!(
            error.to_string(),
            "Frame.io answered 422 Unprocessable Entity (after 3 attempts): Invalid value: Unexpected field: foo \
             (at /data/foo); name is required [request id req-42]; check the request's parameters and body"
        );
        assert_eq!((error.attempts(), error.request_id()), (Some(3), Some("req-42")));
        assert!(error.headers().get(middleware::ATTEMPTS_HEADER).is_none(), "markers are removed");
        assert!(!error.is_synthesized() && error.body_excerpt().is_none());
    }
}
