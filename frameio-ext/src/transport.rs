//! The transport: what runs around every request a client sends (the
//! [`frameio_gen::Middleware`] its generated client calls): credentials,
//! pacing, retries, bounded bodies, tracing, and the typed report of how the
//! call ended.
//!
//! progenitor builds each request, then calls `prepare` and `send`, then
//! decodes the response it gets back.
//!
//! * `prepare` asks the [`TokenProvider`](crate::TokenProvider) for a token and
//!   sets `Authorization` (marked sensitive), the legacy-token header when
//!   asked for, the API's own headers (`x-client-version` for C2C), the
//!   `User-Agent`, the call's own headers and the attempt timeout.
//! * `send` makes the attempts: it takes the operation's turn from the
//!   [rate limiter](crate::rate_limit), sends, feeds the outcome back to the
//!   limiter, and retries as the one [retry policy](crate::retry) says (with a
//!   fresh token for each retry, and once more after a 401 when the provider
//!   hands out a new token). Success bodies are read here, at most
//!   [`MAX_BODY`], so that a body cut short is retried like any broken
//!   connection; error bodies are read at most [`MAX_ERROR_BODY`] into an
//!   [`ApiError`], and redirects are not followed but reported.
//!
//! One `frameio.request` span covers each call, with the operation name,
//! method, path template, attempts, status and latency; never a token or a
//! URL (whose query may hold cursors, filters or signatures).
//!
//! The outcome (attempts, the typed error) goes to the call's
//! [`CallContext`](crate::call::CallContext); see [`crate::call`] for why.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use frameio_gen::{Middleware, Operation};
use futures::future::BoxFuture;
use reqwest::header::{self, HeaderValue};
use reqwest::{Request, Response, ResponseBuilderExt, StatusCode};
use tokio::time::Instant;
use tracing::{Instrument, Span, field};

use crate::auth::{AccessToken, Credentials};
use crate::body::read_up_to;
use crate::call::CallContext;
use crate::error::{ApiError, EnvelopeParser, Error};
use crate::rate_limit::{Limiter, Permit, RateLimitStatus, RateLimiting, Settled};
use crate::redact;
use crate::retry::{self, Failure, Retrier, Retry, RetryPolicy};

/// The largest success body read, in bytes: far above any page of the API
/// (100 items with every include is well under 1 MiB).
pub const MAX_BODY: usize = 32 * 1024 * 1024;
/// The most of an error body read, in bytes: enough for any envelope.
pub const MAX_ERROR_BODY: usize = 64 * 1024;
/// What the V4 API needs to accept a legacy developer token.
const LEGACY_TOKEN_HEADER: &str = "x-frameio-legacy-token-auth";

/// The transport of one client (see the [module documentation](self)).
#[derive(Debug)]
pub(crate) struct Transport {
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
#[derive(Debug, Clone)]
pub(crate) struct ApiProfile {
    /// Set on every request that does not carry them already.
    pub(crate) headers: http::HeaderMap,
    /// How each operation is sent ([`OperationPolicy::default`] when `None`).
    pub(crate) policy: Option<fn(&Operation) -> OperationPolicy>,
    /// Reads this API's error bodies.
    pub(crate) envelope: EnvelopeParser,
}

impl Default for ApiProfile {
    fn default() -> Self {
        Self { headers: http::HeaderMap::new(), policy: None, envelope: crate::error::v4_envelope }
    }
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

/// Why the client stops after an attempt, or tries again.
enum Next {
    /// Hand this outcome to progenitor.
    Done(reqwest::Result<Response>),
    /// Try again at once with a token the provider renewed after a 401.
    Refresh(AccessToken),
    /// Try again after `wait`.
    Wait(Duration, Retry),
}

impl Transport {
    pub(crate) fn new(
        credentials: Credentials,
        user_agent: HeaderValue,
        timeout: Duration,
        retry: RetryPolicy,
        rate_limiting: RateLimiting,
        profile: ApiProfile,
    ) -> Self {
        Self {
            credentials,
            user_agent,
            timeout,
            retry,
            limiter: Limiter::new(rate_limiting),
            last_rate_limit: Mutex::new(None),
            profile,
        }
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The rate-limit headers of the most recent response that had them.
    pub(crate) fn last_rate_limit(&self) -> Option<RateLimitStatus> {
        *self.last_rate_limit.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn observe(&self, response: &Response, op: &'static Operation) {
        if let Some(status) = RateLimitStatus::from_headers(response.headers()) {
            *self.last_rate_limit.lock().unwrap_or_else(PoisonError::into_inner) = Some(status.for_operation(op.name));
        }
    }

    /// Sends `request` until it succeeds or may not be retried.
    async fn run(
        &self,
        client: &reqwest::Client,
        mut request: Request,
        op: &'static Operation,
        context: Option<Arc<CallContext>>,
    ) -> reqwest::Result<Response> {
        let policy = context.as_ref().and_then(|c| c.options.retry).unwrap_or(self.retry);
        let caller_retries = self.profile.policy(op).caller_retries;
        let mut retrier = Retrier::new(if caller_retries { policy.max_attempts(1) } else { policy });
        let mut refreshed = false;
        let started = Instant::now();
        let outcome = loop {
            if refreshed {
                retrier.free_attempt();
            } else {
                retrier.attempt();
            }
            let spare = request.try_clone();
            let token = bearer_token(&request);
            let permit = match &self.limiter {
                Some(limiter) => Some(limiter.acquire(op).await),
                None => None,
            };
            let sent = Instant::now();
            let outcome = client.execute(request).await;
            let latency_ms = retry::millis(sent.elapsed());
            let next = match outcome {
                Ok(response) => {
                    self.observe(&response, op);
                    tracing::debug!(
                        attempt = retrier.attempts(),
                        status = response.status().as_u16(),
                        latency_ms,
                        "answered"
                    );
                    self.answered(
                        response,
                        permit,
                        op,
                        token.as_ref(),
                        &mut retrier,
                        refreshed,
                        spare.is_some(),
                        context.as_deref(),
                    )
                    .await
                }
                Err(error) => {
                    tracing::debug!(attempt = retrier.attempts(), error = failure_kind(&error), latency_ms, "failed");
                    if let Some(permit) = permit {
                        let none = http::HeaderMap::new();
                        permit.settle(if error.is_connect() { Settled::Unused } else { Settled::Answered(&none) });
                    }
                    match retry::classify(Failure::Transport(&error), op.idempotent).filter(|_| spare.is_some()) {
                        Some(retry) => match retrier.next_wait(retry) {
                            Some(wait) => Next::Wait(wait, retry),
                            None => Next::Done(Err(error)),
                        },
                        None => Next::Done(Err(error)),
                    }
                }
            };
            let (mut spare, fresh) = match next {
                Next::Done(outcome) => break outcome,
                Next::Refresh(fresh) => {
                    refreshed = true;
                    tracing::info!(attempt = retrier.attempts(), "401: retrying with a renewed token");
                    (spare, Some(fresh))
                }
                Next::Wait(wait, retry) => {
                    tracing::info!(
                        attempt = retrier.attempts(),
                        wait_ms = retry::millis(wait),
                        reason = retry.reason(),
                        "retrying"
                    );
                    tokio::time::sleep(wait).await;
                    (spare, self.token_for_retry(token.as_ref()).await)
                }
            };
            let Some(mut next_request) = spare.take() else {
                unreachable!("only a request that could be cloned is retried")
            };
            if let Some(fresh) = &fresh
                && set_bearer(&mut next_request, fresh).is_err()
            {
                break Ok(self.failed_prepare(
                    op,
                    context.as_deref(),
                    "the renewed access token is not a valid header",
                ));
            }
            request = next_request;
        };
        let span = Span::current();
        span.record("attempt", retrier.attempts());
        match &outcome {
            Ok(response) => span.record("status", response.status().as_u16()),
            Err(error) => span.record("error", failure_kind(error)),
        };
        span.record("latency_ms", retry::millis(started.elapsed()));
        if let Some(context) = &context {
            context.report(|report| report.attempts = retrier.attempts());
        }
        outcome
    }

    /// What to do after an answer: hand it over (its body read), renew the
    /// token, or wait and try again.
    #[allow(clippy::too_many_arguments)]
    async fn answered(
        &self,
        mut response: Response,
        permit: Option<Permit<'_>>,
        op: &'static Operation,
        token: Option<&AccessToken>,
        retrier: &mut Retrier,
        refreshed: bool,
        replayable: bool,
        context: Option<&CallContext>,
    ) -> Next {
        let status = response.status();
        if let Some(permit) = permit {
            permit.settle(match status.as_u16() {
                429 => Settled::RateLimited(response.headers()),
                500..=599 => Settled::Unused,
                _ => Settled::Answered(response.headers()),
            });
        }
        if status.is_success() {
            return match read_up_to(&mut response, MAX_BODY).await {
                Ok((body, false)) => Next::Done(Ok(rebuild(&response, body))),
                Ok((_, true)) => {
                    let reason = format!("the answer is larger than {MAX_BODY} bytes, the most the client reads");
                    Next::Done(Ok(self.report_error(op, context, response, Error::InvalidRequest(reason))))
                }
                Err(error) => match retry::classify(Failure::Truncated, op.idempotent).filter(|_| replayable) {
                    Some(retry) => match retrier.next_wait(retry) {
                        Some(wait) => Next::Wait(wait, retry),
                        None => Next::Done(Err(error)),
                    },
                    None => Next::Done(Err(error)),
                },
            };
        }
        if status.is_redirection() {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| response.url().join(l).ok())
                .map_or_else(|| "(no location)".to_string(), |url| redact::url(&url));
            let error = Error::Redirect { status, location, operation: Some(op.name) };
            return Next::Done(Ok(self.report_error(op, context, response, error)));
        }
        if status == StatusCode::UNAUTHORIZED
            && !refreshed
            && replayable
            && let Some(rejected) = token
        {
            let provider = self.credentials.token_provider();
            provider.invalidate(rejected);
            if let Ok(fresh) = provider.token().await
                && fresh.expose_secret() != rejected.expose_secret()
            {
                drain(response).await;
                return Next::Refresh(fresh);
            }
        }
        let failure = Failure::Status { status, headers: response.headers() };
        if let Some(retry) = retry::classify(failure, op.idempotent).filter(|_| replayable)
            && let Some(wait) = retrier.next_wait(retry)
        {
            drain(response).await;
            return Next::Wait(wait, retry);
        }
        let headers = response.headers().clone();
        // A cut body fails to parse as an envelope and is kept as an excerpt.
        let body = read_up_to(&mut response, MAX_ERROR_BODY).await;
        let body = match &body {
            Ok((body, _)) => Ok(&body[..]),
            Err(error) => Err(failure_kind(error)),
        };
        let api =
            ApiError::from_answer(status, headers, body, self.profile.envelope, token.map(AccessToken::expose_secret))
                .of_call(op.name, retrier.attempts());
        Next::Done(Ok(self.report_error(op, context, response, Error::from(api))))
    }

    /// Reports `error` to the call and hands progenitor an empty answer of the
    /// same status (the call takes the reported error instead).
    fn report_error(
        &self,
        op: &'static Operation,
        context: Option<&CallContext>,
        response: Response,
        error: Error,
    ) -> Response {
        match context {
            Some(context) => context.report(|report| report.error = Some(error)),
            None => tracing::warn!(operation = op.name, %error, "a call failed outside a call context"),
        }
        rebuild(&response, Bytes::new())
    }

    /// A response for a request that could not be prepared again, with the
    /// reason reported to the call.
    fn failed_prepare(&self, op: &'static Operation, context: Option<&CallContext>, reason: &str) -> Response {
        let error = Error::InvalidRequest(reason.to_string());
        match context {
            Some(context) => context.report(|report| report.error = Some(error)),
            None => tracing::warn!(operation = op.name, %error, "a call failed outside a call context"),
        }
        let mut response = http::Response::new(Bytes::new());
        *response.status_mut() = StatusCode::BAD_REQUEST;
        Response::from(response)
    }

    /// A token for the next attempt: the provider's current one (it may have
    /// renewed it meanwhile), or none for an anonymous request.
    async fn token_for_retry(&self, sent_with: Option<&AccessToken>) -> Option<AccessToken> {
        sent_with?;
        match self.credentials.token_provider().token().await {
            Ok(fresh) => Some(fresh),
            Err(error) => {
                tracing::warn!(%error, "no access token for a retry; retrying with the previous one");
                None
            }
        }
    }
}

impl Middleware for Transport {
    fn prepare<'a>(&'a self, request: &'a mut Request, op: &'static Operation) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let context = CallContext::current();
            let policy = self.profile.policy(op);
            if !policy.anonymous {
                let token = match self.credentials.token_provider().token().await {
                    Ok(token) => token,
                    Err(error) => {
                        let message = format!("no access token: {error}");
                        if let Some(context) = &context {
                            context.report(|report| report.error = Some(Error::Auth(error)));
                        }
                        return Err(message);
                    }
                };
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
            let mut timeout = policy.timeout.unwrap_or(self.timeout);
            if let Some(context) = &context {
                for (name, value) in &context.options.headers {
                    headers.insert(name, value.clone());
                }
                timeout = context.options.timeout.unwrap_or(timeout);
            }
            *request.timeout_mut() = Some(timeout);
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
        Box::pin(self.run(client, request, op, CallContext::current()).instrument(span))
    }
}

/// Reads what is left of a small body, so the connection can be reused.
async fn drain(mut response: Response) {
    let _ = read_up_to(&mut response, MAX_ERROR_BODY).await;
}

/// `response`'s status, version, headers and URL around `body`.
fn rebuild(response: &Response, body: Bytes) -> Response {
    let mut headers = response.headers().clone();
    headers.remove(header::TRANSFER_ENCODING);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    let mut rebuilt = http::Response::builder()
        .url(response.url().clone())
        .body(body)
        .unwrap_or_else(|_| http::Response::new(Bytes::new()));
    *rebuilt.status_mut() = response.status();
    *rebuilt.version_mut() = response.version();
    *rebuilt.headers_mut() = headers;
    Response::from(rebuilt)
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
        "body cut short"
    } else if error.is_redirect() {
        "redirect"
    } else {
        "connection lost"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUT: Operation = Operation {
        name: "stream_put",
        method: frameio_gen::Method::PUT,
        path: "/stream",
        rate_limit: None,
        api_version: None,
        idempotent: true,
        paginated: false,
    };

    fn transport(retry: RetryPolicy) -> Transport {
        Transport::new(
            Credentials::bearer("t"),
            HeaderValue::from_static("test"),
            Duration::from_secs(5),
            retry,
            RateLimiting::disabled(),
            ApiProfile::default(),
        )
    }

    #[tokio::test]
    async fn a_request_whose_body_cannot_be_replayed_is_sent_once() {
        let server = httpmock::MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.path("/stream");
                then.status(503).body(r#"{"errors": [{"detail": "busy"}]}"#);
            })
            .await;
        let retry = RetryPolicy::api()
            .backoff(crate::Backoff::new().initial(Duration::ZERO))
            .max_attempts(3)
            .server_error_floor(Duration::ZERO);
        let transport = transport(retry);
        let http = crate::tls::reqwest_builder(crate::tls::HTTP).unwrap().build().unwrap();
        let chunks = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"part"))]);
        let streamed = http.put(server.url("/stream")).body(reqwest::Body::wrap_stream(chunks)).build().unwrap();
        assert!(streamed.try_clone().is_none());
        let response = transport.send(&http, streamed, &PUT).await.unwrap();
        assert_eq!((response.status().as_u16(), mock.calls_async().await), (503, 1));

        let replayable = http.put(server.url("/stream")).body("part").build().unwrap();
        transport.send(&http, replayable, &PUT).await.unwrap();
        assert_eq!(mock.calls_async().await, 1 + 3, "the same request with a buffered body is retried");
    }
}
