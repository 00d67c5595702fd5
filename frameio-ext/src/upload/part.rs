//! One part's journey: a streaming `PUT` of its byte range to its pre-signed
//! URL, retried under the uploader's [`RetryPolicy`] while the crate's one
//! [classifier](crate::retry::classify) says the failure is worth it.
//!
//! Retried: 408, 429, 500, 502, 503 and 504 answers, S3 codes that mean "try
//! again" ([`STORAGE_RETRY_CODES`](crate::retry::STORAGE_RETRY_CODES)),
//! network errors and stalls. Everything else (a 403 for an expired URL, other
//! 4xx, a source read error) ends the part at once. Each retry reads the range
//! from the source again, after checking that the file has not changed.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderValue};
use reqwest::{Client, Response, StatusCode, Url};
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

use super::PartReport;
use super::buffer::BufferPool;
use super::error::{TransientFailure, UploadErrorKind};
use super::plan::Part;
use super::progress::{AttemptGuard, AttemptMeter, Tracker};
use super::s3::{MAX_ERROR_BODY, S3Error};
use super::source::UploadSource;
use crate::retry::{self, Failure, Retrier, Retry, RetryPolicy};

/// Everything a part needs that is the same for every part of an upload.
#[derive(Debug)]
pub(crate) struct PartContext<'a> {
    pub(crate) client: &'a Client,
    pub(crate) source: &'a UploadSource,
    pub(crate) media_type: HeaderValue,
    pub(crate) buffers: Arc<BufferPool>,
    pub(crate) retry: RetryPolicy,
    pub(crate) stall_timeout: Duration,
    pub(crate) tracker: Tracker,
    pub(crate) cancel: CancellationToken,
}

/// How one attempt ended, when it did not succeed.
enum AttemptError {
    Transient(TransientFailure, Retry),
    Fatal(UploadErrorKind),
}

/// The source failed mid-body; the real error is kept on the side (in
/// `source_error`) because the HTTP client wraps body errors opaquely.
#[derive(Debug, thiserror::Error)]
#[error("the upload source failed")]
struct SourceFailed;

/// Uploads `part`, retrying as the policy allows.
pub(crate) async fn upload(ctx: &PartContext<'_>, part: &Part) -> Result<PartReport, UploadErrorKind> {
    let started = Instant::now();
    let mut retrier = Retrier::new(ctx.retry);
    loop {
        if ctx.cancel.is_cancelled() {
            return Err(UploadErrorKind::Cancelled);
        }
        ctx.source.check_unchanged().await?;
        retrier.attempt();
        let (failure, retry) = match attempt(ctx, part).await {
            Ok(etag) => {
                return Ok(PartReport {
                    number: part.number(),
                    range: part.range(),
                    attempts: retrier.attempts(),
                    etag,
                    elapsed: started.elapsed(),
                });
            }
            Err(AttemptError::Fatal(kind)) => return Err(kind),
            Err(AttemptError::Transient(failure, retry)) => (failure, retry),
        };
        let attempts = retrier.attempts();
        let Some(delay) = retrier.next_wait(retry) else {
            return Err(UploadErrorKind::RetriesExhausted { part: part.into(), attempts, last: failure });
        };
        if !ctx.source.can_read_from(&part.range()).await {
            return Err(UploadErrorKind::NotRewindable { part: part.into(), cause: failure });
        }
        tracing::debug!(part = %part, attempt = attempts, ?delay, error = %failure, "retrying upload part");
        ctx.tracker.retried();
        tokio::select! {
            () = ctx.cancel.cancelled() => return Err(UploadErrorKind::Cancelled),
            () = sleep(delay) => {}
        }
    }
}

/// One `PUT` of the part; `Ok` carries storage's `ETag`, if any.
async fn attempt(ctx: &PartContext<'_>, part: &Part) -> Result<Option<String>, AttemptError> {
    let meter = AttemptMeter::new(ctx.tracker.clone());
    let guard = AttemptGuard(Arc::clone(&meter));
    let source_error = Arc::new(std::sync::Mutex::new(None));

    let body_meter = Arc::clone(&meter);
    let body_error = Arc::clone(&source_error);
    let body = ctx.source.stream_range(part.range(), Arc::clone(&ctx.buffers)).map(move |chunk| match chunk {
        Ok(bytes) => {
            body_meter.record(bytes.len());
            Ok::<Bytes, SourceFailed>(bytes)
        }
        Err(e) => {
            *body_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            Err(SourceFailed)
        }
    });
    let request = ctx
        .client
        .put(part.url().clone())
        .header(CONTENT_TYPE, ctx.media_type.clone())
        .header(CONTENT_LENGTH, part.len())
        .header("x-amz-acl", "private")
        .body(reqwest::Body::wrap_stream(body))
        .send();
    let exchange = async {
        let response = request.await?;
        read_outcome(response).await
    };
    tokio::pin!(exchange);

    let mut deadline = Instant::now() + ctx.stall_timeout;
    let outcome = loop {
        tokio::select! {
            biased;
            () = ctx.cancel.cancelled() => return Err(AttemptError::Fatal(UploadErrorKind::Cancelled)),
            outcome = &mut exchange => break outcome,
            () = sleep_until(deadline) => {
                let next = meter.last_activity() + ctx.stall_timeout;
                if next <= Instant::now() {
                    let stalled = TransientFailure::Stalled(ctx.stall_timeout);
                    return Err(AttemptError::Transient(stalled, Retry::Transient { reason: "stalled" }));
                }
                deadline = next;
            }
        }
    };

    let source_error = source_error.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(source) = source_error {
        return Err(AttemptError::Fatal(UploadErrorKind::Source { part: part.into(), source }));
    }
    match outcome {
        Ok(Outcome::Accepted { etag }) => {
            meter.settle(Some(part.len()));
            drop(guard);
            Ok(etag)
        }
        Ok(Outcome::Refused { status, headers, s3 }) => {
            let code = s3.as_ref().map(|s3| s3.code.as_str());
            Err(match retry::classify(Failure::Storage { status, headers: &headers, code }, true) {
                Some(retry) => AttemptError::Transient(TransientFailure::Status { status, s3 }, retry),
                None => AttemptError::Fatal(UploadErrorKind::Rejected { part: part.into(), status, s3 }),
            })
        }
        Err(e) => {
            let e = redact_error(e, part);
            match retry::classify(Failure::Transport(&e), true) {
                Some(retry) if !e.is_builder() => Err(AttemptError::Transient(TransientFailure::Network(e), retry)),
                _ => Err(AttemptError::Fatal(UploadErrorKind::Client(e))),
            }
        }
    }
}

/// What storage answered.
enum Outcome {
    Accepted { etag: Option<String> },
    Refused { status: StatusCode, headers: reqwest::header::HeaderMap, s3: Option<S3Error> },
}

async fn read_outcome(mut response: Response) -> Result<Outcome, reqwest::Error> {
    let status = response.status();
    if status.is_success() {
        let etag = response.headers().get(ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        // Drain the (empty) body so the connection can carry the next part.
        while response.chunk().await?.is_some() {}
        return Ok(Outcome::Accepted { etag });
    }
    // The status is the answer; a body cut short only loses the S3 details.
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while body.len() < MAX_ERROR_BODY {
        let Ok(Some(chunk)) = response.chunk().await else {
            break;
        };
        let room = MAX_ERROR_BODY - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    let s3 = S3Error::parse(&String::from_utf8_lossy(&body));
    Ok(Outcome::Refused { status, headers, s3 })
}

/// Puts the redacted URL in place of the pre-signed one in a client error.
fn redact_error(e: reqwest::Error, part: &Part) -> reqwest::Error {
    match Url::parse(part.redacted_url()) {
        Ok(url) => e.with_url(url),
        Err(_) => e.without_url(),
    }
}
