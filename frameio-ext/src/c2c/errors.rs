//! C2C errors: how the device API's error bodies become the crate's
//! [`Error`], and what to do about each one ([`classify`], [`error_kind`]),
//! following the C2C guide's error tables (Handle Errors > Error Tables).
//!
//! # Two body shapes, one envelope
//!
//! The C2C API answers errors in a *simple* shape, `{"error":
//! "invalid_client"}`, or a *detailed* one, `{"code": 409, "errors": [{"code":
//! 409, "detail": "…", "status": 409, "title": "Channel Paused"}], "message":
//! "Channel Paused"}`. Both become an [`Error::Api`] whose
//! [`errors()`](Error::errors) entries carry the C2C message identifier as
//! their `title`: the simple shape's `error` (with the guide's description of
//! it as `detail`), the detailed shape's entries as sent, and its `message`
//! first when no entry has it as title. A body in neither shape (a proxy's
//! page) keeps the crate's synthesized envelope, and is classified by status.
//!
//! # Classes
//!
//! Each row of the guide's tables says `yes` (retry, with exponential
//! back-off), `once`, or `no`: [`C2cErrorClass::Retry`],
//! [`C2cErrorClass::RetryOnce`] and [`C2cErrorClass::Fatal`]. The message
//! table is looked up first, then the status-code table ("first check for an
//! error payload and then fall back to the HTTP status code"), and upload
//! failures by their S3 `<Code>` (the AWS table). Errors no table names follow
//! the guide's `retry_with_backoff` example: an unknown API error is retried,
//! anything else retried once ("When in Doubt, Retry Once").
//!
//! Realtime socket errors ([`Error::Socket`]) have no table of their own: a
//! lost connection is [`C2cErrorKind::Network`], a refused token
//! [`C2cErrorKind::SignInAgain`], and an error that ended the socket for good
//! ([`SocketError::is_terminal`]) is not retried.

use std::future::Future;

use frameio_gen::{c2c, v4};

use self::C2cErrorClass::{Fatal, Retry, RetryOnce};
use self::C2cErrorKind as Kind;
use super::{RealtimeError, SocketError};
use crate::auth::AuthError;
use crate::error::{ApiError, Error, Result};
use crate::retry::{self, Failed, RetryPolicy};
use crate::upload::{TransientFailure, UploadError, UploadErrorKind};

/// What to do about a C2C error (the guide's `retry` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum C2cErrorClass {
    /// Try again, backing off exponentially, as often as the policy allows
    /// (`yes`).
    Retry,
    /// Try again once; if that fails too, give up (`once`).
    RetryOnce,
    /// Do not try again (`no`): only a change on the user's or integrator's
    /// side can help.
    Fatal,
}

/// What went wrong, in the terms of the guide's "Error Type" column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum C2cErrorKind {
    /// The user declined the pairing (`access_denied`).
    AccessDenied,
    /// The user has not entered the pairing code yet (`authorization_pending`).
    AuthorizationPending,
    /// The channel was paused when the media was created: do not upload it
    /// again (`Channel Paused`, 409).
    ChannelPaused,
    /// The pairing code expired: request a new one (`expired_token`).
    ExpiredToken,
    /// A payload parameter had an invalid value (`Invalid Argument`, 422).
    InvalidArgument,
    /// The client id or secret was not recognized (`invalid_client`).
    InvalidClient,
    /// `x-client-version` is duplicated or not a semantic version.
    InvalidClientVersion,
    /// The grant type is invalid (`invalid_grant`).
    InvalidGrant,
    /// The request was malformed (`invalid_request`, a bare 400); during a
    /// token refresh, the refresh token expired or was already used.
    InvalidRequest,
    /// The `Content-Type` is not supported (a bare 422).
    InvalidContentType,
    /// The access token is missing or expired, or the device may not do this
    /// (`unauthorized_client`, `Not Authorized`, 401).
    UnauthorizedClient,
    /// Too many requests (`slow_down`, 429).
    SlowDown,
    /// A backend failure (500).
    InternalServerError,
    /// The channel is already connected (409 `Already Exists`, from the
    /// channels guide).
    AlreadyExists,
    /// A 404, possibly from a service in between rather than Frame.io.
    NotFound,
    /// The device's authorization is gone (a refresh was refused, or the
    /// client has no device token): pair the device again.
    SignInAgain,
    /// Storage (S3) refused a part; the S3 `<Code>`, when its body had one.
    Storage(Option<String>),
    /// Frame.io or storage could not be reached, or the connection broke.
    Network,
    /// No answer in time.
    Timeout,
    /// The operation was cancelled by the application.
    Cancelled,
    /// An API error that no table names.
    Unknown,
    /// A local failure: configuration, request building, a body that did not
    /// decode, reading the file.
    Other,
}

impl C2cErrorKind {
    /// Whether the error suggests that Frame.io is unreachable (the guide's
    /// `DISCONNECTED_ERRORS`): a good moment to show "offline" and wait for
    /// the connection to come back.
    pub fn suggests_disconnected(&self) -> bool {
        matches!(self, C2cErrorKind::Network | C2cErrorKind::Timeout)
    }
}

/// What to do about `error` (see the [module documentation](self)).
///
/// ```
/// use frameio_ext::c2c::{classify, error_kind, C2cErrorClass, C2cErrorKind};
///
/// # fn decide(error: &frameio_ext::Error) {
/// match classify(error) {
///     C2cErrorClass::Retry => { /* back off and try again */ }
///     C2cErrorClass::RetryOnce => { /* one more try */ }
///     C2cErrorClass::Fatal if error_kind(error) == C2cErrorKind::ChannelPaused => {
///         /* the media was recorded while paused: drop it from the queue */
///     }
///     _ => { /* report it */ }
/// }
/// # }
/// ```
pub fn classify(error: &Error) -> C2cErrorClass {
    lookup(error).1
}

/// What went wrong in `error`.
pub fn error_kind(error: &Error) -> C2cErrorKind {
    lookup(error).0
}

/// The guide's "Frame.io Error Messages" table (message, error type, retry),
/// plus `Already Exists` from the channels guide ("If a channel has already
/// been declared, you will receive a 409 error with the error title Already
/// Exists"), which no retry can change.
const MESSAGES: &[(&str, Kind, C2cErrorClass)] = &[
    ("access_denied", Kind::AccessDenied, RetryOnce),
    ("authorization_pending", Kind::AuthorizationPending, Retry),
    ("Channel Paused", Kind::ChannelPaused, Fatal),
    ("expired_token", Kind::ExpiredToken, Fatal),
    ("Invalid Argument", Kind::InvalidArgument, Fatal),
    ("invalid_client", Kind::InvalidClient, Fatal),
    ("Invalid client version", Kind::InvalidClientVersion, Fatal),
    ("invalid_grant", Kind::InvalidGrant, Fatal),
    ("invalid_request", Kind::InvalidRequest, RetryOnce),
    ("Not Authorized", Kind::UnauthorizedClient, Fatal),
    ("slow_down", Kind::SlowDown, Retry),
    // `yes*`: after a refresh, which the client's middleware makes on a 401.
    ("unauthorized_client", Kind::UnauthorizedClient, Retry),
    ("Already Exists", Kind::AlreadyExists, Fatal),
];

/// The guide's "Frame.io Status Codes" table, for bodies without a known
/// message, and the statuses its `retry_with_backoff` example names.
fn by_status(status: u16) -> (Kind, C2cErrorClass) {
    match status {
        400 => (Kind::InvalidRequest, RetryOnce),
        401 => (Kind::UnauthorizedClient, Fatal),
        422 => (Kind::InvalidContentType, Fatal),
        429 => (Kind::SlowDown, Retry),
        // The table says `yes`; the description's "Retry once" is for the
        // known cases that should have been 400s.
        500 => (Kind::InternalServerError, Retry),
        // `NotFoundError` is in the example's `RETRY_ERRORS`: "a `404 (Not
        // Found)` response might be generated by intermediate services".
        404 => (Kind::NotFound, Retry),
        408 => (Kind::Timeout, Retry),
        // A conflict (a pause window, an existing channel) outlives retries.
        409 => (Kind::Unknown, Fatal),
        // `UnknownAPIError` is in `RETRY_ERRORS`.
        _ => (Kind::Unknown, Retry),
    }
}

/// The guide's "AWS Errors" table: these S3 codes are retried, "[All Other
/// Errors]" once.
fn by_s3_code(code: Option<&str>, status: u16) -> (Kind, C2cErrorClass) {
    let class = match code {
        Some(code) if retry::STORAGE_RETRY_CODES.contains(&code) => Retry,
        Some(_) => RetryOnce,
        // No S3 document: the status says what happened.
        None if status >= 500 || status == 408 || status == 429 => Retry,
        None => RetryOnce,
    };
    (Kind::Storage(code.map(str::to_owned)), class)
}

fn message_row(message: &str) -> Option<(Kind, C2cErrorClass)> {
    MESSAGES
        .iter()
        .find(|(known, _, _)| known.eq_ignore_ascii_case(message.trim()))
        .map(|(_, kind, class)| (kind.clone(), *class))
}

fn lookup(error: &Error) -> (Kind, C2cErrorClass) {
    match error {
        Error::Api(api) => api_lookup(api),
        Error::Transport { .. } => (Kind::Network, Retry),
        Error::Timeout { .. } => (Kind::Timeout, Retry),
        Error::Auth(auth) => match auth {
            AuthError::SignInAgain { .. } => (Kind::SignInAgain, Fatal),
            AuthError::RateLimited { .. } => (Kind::SlowDown, Retry),
            AuthError::Network(_) | AuthError::Unreachable { .. } => (Kind::Network, Retry),
            AuthError::Rejected { error, status, .. } => message_row(error).unwrap_or_else(|| by_status(*status)),
            // A redirect answers the same way every time: retrying it only repeats the request.
            AuthError::Redirect { .. } => (Kind::Other, Fatal),
            _ => (Kind::Other, RetryOnce),
        },
        Error::Upload(upload) => upload_lookup(upload),
        // Reading the file, or an odd answer: "When in Doubt, Retry Once".
        Error::Realtime(RealtimeError::Read { .. } | RealtimeError::UrlCount { .. }) => (Kind::Other, RetryOnce),
        // A file that shrank or outgrew S3's limits stays that way.
        Error::Realtime(_) => (Kind::Other, Fatal),
        Error::Socket(socket) => socket_lookup(socket),
        Error::InvalidRequest(_) | Error::Config(_) | Error::Redirect { .. } => (Kind::Other, Fatal),
        _ => (Kind::Other, RetryOnce),
    }
}

/// The guide's tables are for HTTP calls; the socket's errors map onto their
/// kinds: a lost connection is `Network`, refused authorization is
/// `SignInAgain`, and whatever ended the socket for good is not retried.
fn socket_lookup(socket: &SocketError) -> (Kind, C2cErrorClass) {
    match socket {
        SocketError::AuthorizationLost { .. } => (Kind::SignInAgain, Fatal),
        SocketError::Upgrade { status, .. } => by_status(*status),
        SocketError::Timeout { .. } => (Kind::Timeout, Retry),
        SocketError::Stopped => (Kind::Cancelled, Fatal),
        // The back-off already ran out: what failed last, not to be retried now.
        SocketError::GaveUp { last, .. } => (socket_lookup(last).0, Fatal),
        other if other.is_network() => (Kind::Network, Retry),
        other if other.is_terminal() => (Kind::Other, Fatal),
        _ => (Kind::Other, Retry),
    }
}

fn api_lookup(api: &ApiError) -> (Kind, C2cErrorClass) {
    let status = api.status().as_u16();
    if !api.is_synthesized()
        && let Some(row) = api.errors().iter().filter_map(|entry| entry.title.as_deref()).find_map(message_row)
    {
        return row;
    }
    by_status(status)
}

fn upload_lookup(upload: &UploadError) -> (Kind, C2cErrorClass) {
    match upload.kind() {
        UploadErrorKind::Rejected { status, s3, .. } => {
            by_s3_code(s3.as_ref().map(|s3| s3.code.as_str()), status.as_u16())
        }
        UploadErrorKind::RetriesExhausted { last: failure, .. }
        | UploadErrorKind::NotRewindable { cause: failure, .. } => match failure {
            TransientFailure::Status { status, s3 } => {
                by_s3_code(s3.as_ref().map(|s3| s3.code.as_str()), status.as_u16())
            }
            TransientFailure::Network(_) => (Kind::Network, Retry),
            TransientFailure::Stalled(_) => (Kind::Timeout, Retry),
        },
        UploadErrorKind::Cancelled => (Kind::Cancelled, Fatal),
        // An I/O error reading the file: "When in Doubt, Retry Once".
        UploadErrorKind::Source { .. } => (Kind::Other, RetryOnce),
        _ => (Kind::Other, Fatal),
    }
}

/// What the guide's descriptions say about a simple-shape code, shown as the
/// entry's `detail`.
fn describe(code: &str) -> &'static str {
    match code {
        "access_denied" => "the user declined to authorize the device",
        "authorization_pending" => "the user has not entered the pairing code yet; keep polling",
        "expired_token" => "the pairing code expired; request a new one and show it",
        "invalid_client" => "the client id or client secret was not recognized",
        "invalid_grant" => "the grant type is invalid",
        "invalid_request" => {
            "the request is malformed; during a token refresh, the refresh token expired or was already used \
             and the device must be paired again"
        }
        "slow_down" => "too many requests; back off before the next one",
        "unauthorized_client" => "the access token is missing or expired, or the device may not do this",
        _ => "an error code of the C2C API",
    }
}

/// The entries of a C2C error body, if it is one of the API's own error
/// documents (simple or detailed shape; see the module documentation).
pub(crate) fn envelope(body: &[u8]) -> Option<Vec<v4::types::ErrorDetail>> {
    let serde_json::Value::Object(document) = serde_json::from_slice(body).ok()? else { return None };
    let recognized = document.get("error").is_some_and(serde_json::Value::is_string)
        || document.get("message").is_some_and(serde_json::Value::is_string)
        || document.get("errors").is_some_and(serde_json::Value::is_array);
    if !recognized {
        return None;
    }
    let error: c2c::types::Error = serde_json::from_value(serde_json::Value::Object(document)).ok()?;
    Some(entries(error))
}

fn entries(error: c2c::types::Error) -> Vec<v4::types::ErrorDetail> {
    let entry = |title: String, detail: String| v4::types::ErrorDetail { detail, source: None, title: Some(title) };
    let mut errors: Vec<v4::types::ErrorDetail> = Vec::new();
    if let Some(code) = error.error {
        errors.push(entry(code.clone(), describe(&code).to_owned()));
    }
    errors.extend(error.errors.into_iter().map(|detail| v4::types::ErrorDetail {
        detail: detail.detail.or_else(|| detail.title.clone()).unwrap_or_default(),
        source: None,
        title: detail.title,
    }));
    if let Some(message) = error.message
        && !errors.iter().any(|e| e.title.as_deref() == Some(message.as_str()))
    {
        errors.insert(0, entry(message.clone(), message));
    }
    errors
}

/// Calls `call` until it succeeds or its error may not be retried, under
/// `policy`: as often as it allows for [`C2cErrorClass::Retry`], and only
/// after a first failure for [`C2cErrorClass::RetryOnce`] (the guide's
/// `retry_with_backoff`: "Otherwise, do not retry the call more than once").
pub(crate) async fn retrying<T, F, Fut>(policy: RetryPolicy, what: &'static str, mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let outcome = retry::run(policy, None, what, |attempt| {
        let call = call();
        async move {
            call.await.map_err(|error| {
                let again = match classify(&error) {
                    Retry => true,
                    RetryOnce => attempt == 1,
                    Fatal => false,
                };
                let retry = again.then(|| wait_kind(&error));
                Failed { error, retry }
            })
        }
    })
    .await;
    outcome.map_err(|gave_up| gave_up.error)
}

/// How long a retryable C2C error waits: a 429's hint, a 5xx's floor, or the back-off.
fn wait_kind(error: &Error) -> retry::Retry {
    match error.status().map(|s| s.as_u16()) {
        Some(429) => retry::Retry::RateLimited { hint: error.retry_after() },
        Some(500..=599) => retry::Retry::ServerError,
        _ => retry::Retry::Transient { reason: "the C2C error tables say retry" },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn decoded(body: &str) -> v4::types::Error {
        v4::types::Error { errors: envelope(body.as_bytes()).expect("a C2C error document") }
    }

    #[test]
    fn socket_errors_are_classified_and_answer_the_crate_accessors() {
        let cases = [
            (SocketError::AuthorizationLost { reason: "403".into() }, Kind::SignInAgain, Fatal),
            (SocketError::ConnectionLost, Kind::Network, Retry),
            (SocketError::Timeout { waiting_for: "join reply", after: Duration::from_secs(10) }, Kind::Timeout, Retry),
            (SocketError::Upgrade { status: 503, retry_after: None }, Kind::Unknown, Retry),
            (
                SocketError::JoinRefused { topic: "devices:d".into(), response: serde_json::json!({}) },
                Kind::Other,
                Fatal,
            ),
            (
                SocketError::GaveUp {
                    attempts: 5,
                    last: Box::new(SocketError::Closed { code: None, reason: String::new() }),
                },
                Kind::Network,
                Fatal,
            ),
            (SocketError::Stopped, Kind::Cancelled, Fatal),
        ];
        for (socket, kind, class) in cases {
            let error = Error::from(socket.clone());
            assert_eq!((error_kind(&error), classify(&error)), (kind, class), "{socket:?}");
            assert_eq!(error.is_retryable(), class == Retry, "{socket:?}");
        }
        let lost = Error::from(SocketError::AuthorizationLost { reason: "403".into() });
        assert!(lost.is_unauthorized() && !lost.is_network());
        assert!(Error::from(SocketError::ConnectionLost).is_network());
    }

    #[test]
    fn both_shapes_become_entries_titled_with_the_message() {
        let simple = decoded(r#"{"error": "authorization_pending"}"#);
        assert_eq!(simple.errors.len(), 1);
        assert_eq!(simple.errors[0].title.as_deref(), Some("authorization_pending"));
        assert!(simple.errors[0].detail.contains("keep polling"));

        let detailed = decoded(
            r#"{"code": 409, "errors": [{"code": 409, "detail": "The channel you're uploading from is currently paused.",
                "status": 409, "title": "Channel Paused"}], "message": "Channel Paused"}"#,
        );
        assert_eq!(detailed.errors.len(), 1, "the message is the entry's title already");
        assert_eq!(detailed.errors[0].detail, "The channel you're uploading from is currently paused.");

        let message_only = decoded(r#"{"code": 400, "message": "Invalid client version"}"#);
        assert_eq!(message_only.errors[0].title.as_deref(), Some("Invalid client version"));
    }

    #[test]
    fn error_documents_are_recognized() {
        for body in [r#"{"error":"invalid_client"}"#, r#"{"message":"Channel Paused","code":409}"#, r#"{"errors":[]}"#]
        {
            assert!(envelope(body.as_bytes()).is_some(), "{body}");
        }
        for body in ["", "<html>502</html>", "[1]", r#"{"error": 3}"#, r#"{"ok": true}"#] {
            assert!(envelope(body.as_bytes()).is_none(), "{body}");
        }
    }

    #[test]
    fn messages_match_whatever_their_case() {
        assert_eq!(message_row("CHANNEL PAUSED"), Some((Kind::ChannelPaused, Fatal)));
        assert_eq!(message_row("nope"), None);
    }
}
