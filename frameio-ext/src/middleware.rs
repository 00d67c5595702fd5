//! What runs around every request of the generated client (the
//! [`frameio_gen::Middleware`] a [`Client`](crate::Client) installs):
//! credentials, pacing, retries, tracing, and the guarantee that every error
//! response decodes as Frame.io's error envelope.
//!
//! # The two hooks
//!
//! progenitor builds each request, then calls `prepare` (its `pre` hook) and
//! `send` (its `exec` hook), then decodes the response it gets back.
//!
//! * `prepare` asks the [`TokenProvider`](crate::TokenProvider) for a token and
//!   sets `Authorization`, the legacy-token header when asked for, the
//!   `User-Agent` and the request timeout.
//! * `send` makes the attempts: it waits for the rate limiter, sends, records
//!   the `x-ratelimit-*` headers, and retries as the
//!   [`RetryPolicy`](crate::RetryPolicy) says (a fresh token for each retry,
//!   and one retry after a 401 when the provider hands out a new token). One
//!   `frameio.request` span covers the call, with the operation name, method,
//!   path template, attempt, status and latency; never the token or the URL
//!   (whose query may hold cursors and filters).
//!
//! An [`ApiProfile`] adapts both hooks to another API (the C2C client's):
//! headers added to every call, operations sent without credentials (and
//! retried without them), operations whose caller does the retrying,
//! per-operation timeouts, and error bodies of the API's own shapes.
//!
//! # Every error response reaches progenitor as an envelope
//!
//! Every generated operation types its 4XX and 5XX responses as the envelope
//! `{"errors": [{"detail": ...}]}`, so progenitor decodes an error body into
//! `Error::ErrorResponse` (status and headers kept) — or, if the body is not
//! an envelope (a proxy's HTML page, an empty or truncated body), fails with
//! `InvalidResponsePayload`, which has lost the status. So `send` buffers
//! every final error body (they are small) and, when it is not an envelope,
//! rebuilds the response with the same status and headers around a
//! synthesized one: `{"errors": [{"title": ..., "detail": "<excerpt of the
//! body, or 'empty body'>"}]}`, marked with an
//! `x-frameio-rs-synthesized-envelope` header saying why. Every final
//! response also carries `x-frameio-rs-attempts`, so that the crate's
//! [`ApiError`](crate::error::ApiError) can say how many attempts were made;
//! it removes both markers from the headers it exposes.
//!
//! # What else crosses progenitor, and how
//!
//! The hooks can only fail with a `String` (`prepare`) or a `reqwest::Error`
//! (`send`). An [`AuthError`] from the token provider therefore crosses as
//! JSON behind a fixed prefix, and `From<frameio_gen::Error>` decodes it back
//! into `Error::Auth`. A network failure's attempt count rides in its error's
//! URL fragment (that URL is never requested again); the conversion takes it
//! out, and removes the URL's query string from the error too.

use std::sync::Mutex;
use std::time::Duration;

use frameio_gen::v4::types;
use frameio_gen::{Middleware, Operation};
use futures::future::BoxFuture;
use reqwest::header::{self, HeaderValue};
use reqwest::{Request, Response, ResponseBuilderExt, StatusCode};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tracing::{Instrument, Span, field};

use crate::auth::{AccessToken, AuthError, Credentials};
use crate::error::Synthesized;
use crate::rate_limit::{self, Limiter, RateLimitStatus, RateLimiting};
use crate::retry::RetryPolicy;

/// Marks the final response with how many attempts were made.
pub(crate) const ATTEMPTS_HEADER: &str = "x-frameio-rs-attempts";
/// Marks a response whose error envelope the client made up, and why.
pub(crate) const SYNTHESIZED_HEADER: &str = "x-frameio-rs-synthesized-envelope";
/// What the V4 API needs to accept a legacy developer token.
const LEGACY_TOKEN_HEADER: &str = "x-frameio-legacy-token-auth";
/// The longest body excerpt kept in a synthesized envelope, in characters.
const EXCERPT_CHARS: usize = 200;
const AUTH_FAILURE_PREFIX: &str = "frameio-ext auth failure: ";
const ATTEMPTS_FRAGMENT: &str = "frameio-rs-attempts=";

/// The middleware of one [`Client`](crate::Client).
#[derive(Debug)]
pub(crate) struct Pipeline {
    credentials: Credentials,
    user_agent: HeaderValue,
    timeout: Duration,
    retry: RetryPolicy,
    limiter: Option<Limiter>,
    last_rate_limit: Mutex<Option<RateLimitStatus>>,
    profile: ApiProfile,
}

/// What sets one API's calls apart from V4's, which use the default: the
/// C2C client ([`crate::c2c`]) adds a header to every call, sends its
/// `/v2/auth` calls without credentials, and has error bodies of its own.
#[derive(Debug, Clone, Default)]
pub(crate) struct ApiProfile {
    /// Set on every request that does not carry them already.
    pub(crate) headers: http::HeaderMap,
    /// How each operation is sent ([`OperationPolicy::default`] when `None`).
    pub(crate) policy: Option<fn(&Operation) -> OperationPolicy>,
    /// Recognizes this API's own error bodies, which are passed on as sent
    /// rather than replaced by a synthesized envelope.
    pub(crate) error_document: Option<fn(&[u8]) -> bool>,
}

/// How one operation is sent.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OperationPolicy {
    /// Sent without `Authorization` (and so never retried with a token).
    pub(crate) anonymous: bool,
    /// Sent once: its caller retries, rebuilding the body for each attempt.
    /// A 401 is still retried once with a renewed token.
    pub(crate) caller_retries: bool,
    /// Replaces the client's per-attempt timeout.
    pub(crate) timeout: Option<Duration>,
    /// Sent with `Connection: close`, so that no later request shares its
    /// connection.
    pub(crate) close_connection: bool,
}

impl ApiProfile {
    fn policy(&self, op: &Operation) -> OperationPolicy {
        self.policy.map(|policy| policy(op)).unwrap_or_default()
    }
}

impl Pipeline {
    pub(crate) fn new(
        credentials: Credentials,
        user_agent: HeaderValue,
        timeout: Duration,
        retry: RetryPolicy,
        rate_limiting: RateLimiting,
    ) -> Self {
        Self {
            credentials,
            user_agent,
            timeout,
            retry,
            limiter: Limiter::new(rate_limiting),
            last_rate_limit: Mutex::new(None),
            profile: ApiProfile::default(),
        }
    }

    /// The same pipeline for an API with `profile`.
    pub(crate) fn with_profile(mut self, profile: ApiProfile) -> Self {
        self.profile = profile;
        self
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The rate-limit headers of the most recent response that had them.
    pub(crate) fn last_rate_limit(&self) -> Option<RateLimitStatus> {
        *self.last_rate_limit.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn observe(&self, response: &Response, op: &'static Operation) {
        if let Some(status) = RateLimitStatus::from_headers(response.headers()) {
            *self.last_rate_limit.lock().unwrap_or_else(|e| e.into_inner()) = Some(status.for_operation(op.name));
        }
    }

    /// Sends `request` until it succeeds or may not be retried.
    async fn run(
        &self,
        client: &reqwest::Client,
        request: Request,
        op: &'static Operation,
    ) -> reqwest::Result<Response> {
        let mut request = request;
        let mut tally = Tally::default();
        let mut first_sent = None;
        let (outcome, token) = loop {
            tally.attempts += 1;
            let spare = request.try_clone();
            let token = bearer_token(&request);
            let slot = match &self.limiter {
                Some(limiter) => limiter.acquire(op).await,
                None => None,
            };
            let started = *first_sent.get_or_insert_with(Instant::now);
            let sent = Instant::now();
            let outcome = client.execute(request).await;
            drop(slot);
            let latency_ms = millis(sent.elapsed());
            match &outcome {
                Ok(response) => {
                    self.observe(response, op);
                    let status = response.status().as_u16();
                    tracing::debug!(attempt = tally.attempts, status, latency_ms, "answered");
                }
                Err(error) => {
                    tracing::debug!(attempt = tally.attempts, error = failure_kind(error), latency_ms, "failed");
                }
            }

            let caller_retries = self.profile.policy(op).caller_retries;
            let next = match spare {
                Some(spare) => self
                    .next_step(&outcome, op, &mut tally, started.elapsed())
                    .filter(|step| matches!(step, Step::Refresh) || !caller_retries)
                    .map(|step| (step, spare)),
                None => None,
            };
            let Some((step, mut spare)) = next else { break (outcome, token) };
            let provider = self.credentials.token_provider();
            let fresh = match (step, &token) {
                // A request sent without credentials is retried without them.
                (Step::Wait { .. }, None) => None,
                (Step::Refresh, None) => break (outcome, token),
                (Step::Refresh, Some(rejected)) => {
                    provider.invalidate(rejected);
                    match provider.token().await {
                        Ok(fresh) if rejected.expose_secret() != fresh.expose_secret() => Some(fresh),
                        _ => break (outcome, token),
                    }
                }
                (Step::Wait { .. }, Some(_)) => match provider.token().await {
                    Ok(fresh) => Some(fresh),
                    Err(error) => {
                        tracing::warn!(%error, "no access token for a retry");
                        break (outcome, token);
                    }
                },
            };
            if let Some(fresh) = &fresh
                && set_bearer(&mut spare, fresh).is_err()
            {
                break (outcome, token);
            }
            if let Ok(response) = outcome {
                // Reading the (small) body lets the connection be reused.
                let _ = response.bytes().await;
            }
            match step {
                Step::Refresh => tracing::info!(attempt = tally.attempts, "401: retrying with a refreshed token"),
                Step::Wait { wait, reason } => {
                    tracing::info!(attempt = tally.attempts, wait_ms = millis(wait), reason, "retrying");
                    tokio::time::sleep(wait).await;
                }
            }
            request = spare;
        };

        let span = Span::current();
        span.record("attempt", tally.attempts);
        match &outcome {
            Ok(response) => span.record("status", response.status().as_u16()),
            Err(error) => span.record("error", failure_kind(error)),
        };
        span.record("latency_ms", first_sent.map_or(0, |t: Instant| millis(t.elapsed())));
        finish(outcome, tally.attempts, token.as_ref(), self.profile.error_document).await
    }

    /// Whether and how to try again after `outcome`.
    fn next_step(
        &self,
        outcome: &reqwest::Result<Response>,
        op: &Operation,
        tally: &mut Tally,
        elapsed: Duration,
    ) -> Option<Step> {
        let idempotent = op.method.is_idempotent();
        let (reason, wait) = match outcome {
            Ok(response) => match response.status() {
                StatusCode::UNAUTHORIZED if !tally.refreshed => {
                    tally.refreshed = true;
                    return Some(Step::Refresh);
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    tally.rate_limited += 1;
                    let headers = response.headers();
                    let window =
                        RateLimitStatus::from_headers(headers).filter(|s| s.is_exhausted()).and_then(|s| s.window());
                    let hint = rate_limit::retry_after(headers, std::time::SystemTime::now()).or(window);
                    ("rate limited", self.retry.rate_limited_delay(tally.rate_limited, hint))
                }
                StatusCode::REQUEST_TIMEOUT if idempotent => {
                    tally.transient += 1;
                    ("request timeout", self.retry.transient_delay(tally.transient))
                }
                StatusCode::INTERNAL_SERVER_ERROR
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
                    if idempotent =>
                {
                    tally.server_errors += 1;
                    ("server error", self.retry.server_error_delay(tally.server_errors))
                }
                _ => return None,
            },
            // A connection that was never opened cannot have delivered the request.
            Err(error) if error.is_connect() || (idempotent && (error.is_timeout() || error.is_request())) => {
                tally.transient += 1;
                (failure_kind(error), self.retry.transient_delay(tally.transient))
            }
            Err(_) => return None,
        };
        // The token-refresh retry is not a failure retry: it does not count.
        let counted = tally.attempts - u32::from(tally.refreshed);
        self.retry.allows_retry(counted, elapsed, wait).then_some(Step::Wait { wait, reason })
    }
}

impl Middleware for Pipeline {
    fn prepare<'a>(&'a self, request: &'a mut Request, op: &'static Operation) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let policy = self.profile.policy(op);
            if !policy.anonymous {
                let token = self.credentials.token_provider().token().await.map_err(|e| encode_auth_failure(&e))?;
                set_bearer(request, &token)?;
                if self.credentials.is_legacy() {
                    request.headers_mut().insert(LEGACY_TOKEN_HEADER, HeaderValue::from_static("true"));
                }
            }
            let headers = request.headers_mut();
            for (name, value) in &self.profile.headers {
                if !headers.contains_key(name) {
                    headers.insert(name, value.clone());
                }
            }
            headers.insert(header::USER_AGENT, self.user_agent.clone());
            if policy.close_connection {
                headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            *request.timeout_mut() = Some(policy.timeout.unwrap_or(self.timeout));
            Ok(())
        })
    }

    fn send<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: Request,
        op: &'static Operation,
    ) -> BoxFuture<'a, reqwest::Result<Response>> {
        let span = tracing::info_span!(
            "frameio.request",
            operation = op.name,
            method = ?op.method,
            path = op.path,
            attempt = field::Empty,
            status = field::Empty,
            error = field::Empty,
            latency_ms = field::Empty,
        );
        Box::pin(self.run(client, request, op).instrument(span))
    }
}

/// Counts kept over one call's attempts.
#[derive(Default)]
struct Tally {
    attempts: u32,
    rate_limited: u32,
    server_errors: u32,
    transient: u32,
    refreshed: bool,
}

#[derive(Clone, Copy)]
enum Step {
    /// Try again at once with a token the provider renewed after a 401.
    Refresh,
    /// Try again after `wait`.
    Wait { wait: Duration, reason: &'static str },
}

/// Hands the final outcome to progenitor: marked with the attempt count, and
/// an error response always with an envelope body.
async fn finish(
    outcome: reqwest::Result<Response>,
    attempts: u32,
    token: Option<&AccessToken>,
    error_document: Option<fn(&[u8]) -> bool>,
) -> reqwest::Result<Response> {
    match outcome {
        Err(mut error) => {
            if let Some(url) = error.url_mut() {
                url.set_query(None);
                url.set_fragment(Some(&format!("{ATTEMPTS_FRAGMENT}{attempts}")));
            }
            Err(error)
        }
        Ok(response) if response.status().is_client_error() || response.status().is_server_error() => {
            Ok(with_envelope(response, attempts, token, error_document).await)
        }
        Ok(mut response) => {
            response.headers_mut().insert(ATTEMPTS_HEADER, HeaderValue::from(attempts));
            Ok(response)
        }
    }
}

/// The error response with its body buffered, and replaced by a synthesized
/// envelope when it is neither an envelope nor the API's own `error_document`.
async fn with_envelope(
    mut response: Response,
    attempts: u32,
    token: Option<&AccessToken>,
    error_document: Option<fn(&[u8]) -> bool>,
) -> Response {
    let (status, version, url) = (response.status(), response.version(), response.url().clone());
    let mut headers = std::mem::take(response.headers_mut());
    let (body, synthesized) = match response.bytes().await {
        Ok(body)
            if serde_json::from_slice::<types::Error>(&body).is_ok()
                || error_document.is_some_and(|is_document| is_document(&body)) =>
        {
            (body.to_vec(), None)
        }
        Ok(body) if body.trim_ascii().is_empty() => {
            (envelope("Empty error body", "empty body"), Some(Synthesized::EmptyBody))
        }
        Ok(body) => {
            let title = "Error body is not a Frame.io error envelope";
            (envelope(title, &excerpt(&body, token)), Some(Synthesized::NotEnvelope))
        }
        Err(error) => {
            let detail = format!("the error body could not be read: {}", failure_kind(&error));
            (envelope("Unreadable error body", &detail), Some(Synthesized::Unreadable))
        }
    };
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::TRANSFER_ENCODING);
    if let Some(kind) = synthesized {
        headers.remove(header::CONTENT_ENCODING);
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(SYNTHESIZED_HEADER, HeaderValue::from_static(kind.header_value()));
    }
    headers.insert(ATTEMPTS_HEADER, HeaderValue::from(attempts));
    let mut rebuilt = http::Response::builder().url(url).body(body).expect("a builder given only a URL is valid");
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    Response::from(rebuilt)
}

fn envelope(title: &str, detail: &str) -> Vec<u8> {
    let detail = types::ErrorDetail { detail: detail.to_string(), source: None, title: Some(title.to_string()) };
    serde_json::to_vec(&types::Error { errors: vec![detail] }).expect("the envelope serializes")
}

/// The start of a body on one line, at most [`EXCERPT_CHARS`] characters,
/// with the request's token blanked out should the server have echoed it.
fn excerpt(body: &[u8], token: Option<&AccessToken>) -> String {
    let mut text = String::from_utf8_lossy(body).split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(secret) = token.map(AccessToken::expose_secret).filter(|s| !s.is_empty()) {
        text = text.replace(secret, "[redacted]");
    }
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

/// The token a request carries, to invalidate after a 401 and to keep out of
/// error excerpts.
fn bearer_token(request: &Request) -> Option<AccessToken> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(AccessToken::new(value.strip_prefix("Bearer ")?))
}

fn set_bearer(request: &mut Request, token: &AccessToken) -> Result<(), String> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", token.expose_secret()))
        .map_err(|_| "the access token contains characters that are not allowed in an HTTP header".to_string())?;
    value.set_sensitive(true);
    request.headers_mut().insert(header::AUTHORIZATION, value);
    Ok(())
}

/// A short, secret-free name for a network failure.
fn failure_kind(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "body"
    } else if error.is_redirect() {
        "redirect"
    } else {
        "connection lost"
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// An [`AuthError`] as it crosses progenitor's string-only `pre` hook error.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum AuthFailure {
    SignInAgain { reason: String },
    RateLimited { retry_after_ms: Option<u64> },
    Rejected { status: u16, error: String, description: Option<String> },
    Unreachable { reason: String },
    InvalidResponse { message: String },
}

fn encode_auth_failure(error: &AuthError) -> String {
    let failure = match error {
        AuthError::SignInAgain { reason } => AuthFailure::SignInAgain { reason: reason.clone() },
        AuthError::RateLimited { retry_after } => AuthFailure::RateLimited { retry_after_ms: retry_after.map(millis) },
        AuthError::Rejected { status, error, description } => {
            AuthFailure::Rejected { status: *status, error: error.clone(), description: description.clone() }
        }
        // A `reqwest::Error` cannot be rebuilt: its text and causes cross
        // instead, which is what `Unreachable` is for.
        AuthError::Network(source) => {
            let mut reason = source.to_string();
            let mut cause = std::error::Error::source(source);
            while let Some(next) = cause {
                reason = format!("{reason}: {next}");
                cause = next.source();
            }
            AuthFailure::Unreachable { reason }
        }
        AuthError::Unreachable { reason } => AuthFailure::Unreachable { reason: reason.clone() },
        AuthError::InvalidResponse(message) => AuthFailure::InvalidResponse { message: message.clone() },
    };
    format!("{AUTH_FAILURE_PREFIX}{}", serde_json::to_string(&failure).expect("the failure serializes"))
}

/// The [`AuthError`] behind a `pre` hook error, if it is one.
pub(crate) fn decode_auth_failure(message: &str) -> Option<AuthError> {
    let failure = serde_json::from_str(message.strip_prefix(AUTH_FAILURE_PREFIX)?).ok()?;
    Some(match failure {
        AuthFailure::SignInAgain { reason } => AuthError::SignInAgain { reason },
        AuthFailure::RateLimited { retry_after_ms } => {
            AuthError::RateLimited { retry_after: retry_after_ms.map(Duration::from_millis) }
        }
        AuthFailure::Rejected { status, error, description } => AuthError::Rejected { status, error, description },
        AuthFailure::Unreachable { reason } => AuthError::Unreachable { reason },
        AuthFailure::InvalidResponse { message } => AuthError::InvalidResponse(message),
    })
}

/// Takes the attempt count out of a network error's URL, and the query with it.
pub(crate) fn take_attempts(error: &mut reqwest::Error) -> Option<u32> {
    let url = error.url_mut()?;
    url.set_query(None);
    let attempts = url.fragment()?.strip_prefix(ATTEMPTS_FRAGMENT)?.parse().ok();
    url.set_fragment(None);
    attempts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_failures_cross_the_hook_intact() {
        let errors = [
            AuthError::SignInAgain { reason: "refresh token expired".into() },
            AuthError::RateLimited { retry_after: Some(Duration::from_millis(1500)) },
            AuthError::RateLimited { retry_after: None },
            AuthError::Rejected { status: 400, error: "invalid_client".into(), description: Some("bad id".into()) },
            AuthError::Unreachable { reason: "dns".into() },
            AuthError::InvalidResponse("not json".into()),
        ];
        for error in errors {
            let decoded = decode_auth_failure(&encode_auth_failure(&error)).expect("decodes");
            assert_eq!(format!("{decoded:?}"), format!("{error:?}"));
        }
        assert!(decode_auth_failure("a message from elsewhere").is_none());
        assert!(decode_auth_failure(&format!("{AUTH_FAILURE_PREFIX}{{}}")).is_none());
    }

    #[test]
    fn excerpts_are_short_single_line_and_redacted() {
        let token = AccessToken::new("s3cr3t");
        assert_eq!(
            excerpt(b"<html>\n  <b>Bad  gateway</b> s3cr3t\n</html>", Some(&token)),
            "<html> <b>Bad gateway</b> [redacted] </html>"
        );
        let long = "é".repeat(500);
        let cut = excerpt(long.as_bytes(), None);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(excerpt(&[0xff, b'a'], None), "\u{fffd}a");
    }

    #[tokio::test]
    async fn a_request_whose_body_cannot_be_replayed_is_sent_once() {
        const PUT: Operation = Operation {
            name: "stream_put",
            method: frameio_gen::Method::PUT,
            path: "/stream",
            rate_limit: None,
            api_version: None,
            paginated: false,
        };
        let server = httpmock::MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.path("/stream");
                then.status(503).body(r#"{"errors": [{"detail": "busy"}]}"#);
            })
            .await;
        let retry = RetryPolicy::new()
            .backoff(crate::Backoff::new().initial(Duration::ZERO))
            .max_attempts(3)
            .server_error_floor(Duration::ZERO);
        let pipeline = Pipeline::new(
            Credentials::bearer("t"),
            HeaderValue::from_static("test"),
            Duration::from_secs(5),
            retry,
            RateLimiting::disabled(),
        );
        let http = reqwest::Client::new();
        let chunks = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"part"))]);
        let streamed = http.put(server.url("/stream")).body(reqwest::Body::wrap_stream(chunks)).build().unwrap();
        assert!(streamed.try_clone().is_none());
        let response = pipeline.send(&http, streamed, &PUT).await.unwrap();
        assert_eq!((response.status().as_u16(), mock.calls_async().await), (503, 1));
        assert_eq!(response.headers()[ATTEMPTS_HEADER], "1");

        let replayable = http.put(server.url("/stream")).body("part").build().unwrap();
        pipeline.send(&http, replayable, &PUT).await.unwrap();
        assert_eq!(mock.calls_async().await, 1 + 3, "the same request with a buffered body is retried");
    }

    #[test]
    fn synthesized_envelopes_decode_as_the_envelope() {
        let body = envelope("Empty error body", "empty body");
        let decoded: types::Error = serde_json::from_slice(&body).unwrap();
        assert_eq!(decoded.errors[0].detail, "empty body");
        assert_eq!(decoded.errors[0].title.as_deref(), Some("Empty error body"));
    }
}
