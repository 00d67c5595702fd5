//! One request's journey: a `GET` (ranged or not) of the download URL, its
//! answer judged (status, `Content-Range`, `ETag`), its body streamed into a
//! [`PieceWriter`], and the retries the crate's one
//! [classifier](crate::retry::classify) allows, each picking up from the last
//! byte written.

use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use reqwest::header::{ACCEPT_ENCODING, CONTENT_LENGTH, CONTENT_RANGE, ETAG, HeaderMap, IF_MATCH, RANGE};
use reqwest::{Response, StatusCode, Url};
use tokio::time::{Instant, sleep, timeout};
use tokio_util::sync::CancellationToken;

use super::error::{DownloadErrorKind, DownloadFailure, RemoteChange};
use super::target::PieceWriter;
use crate::retry::{self, Failure, Retrier, Retry, RetryPolicy};
use crate::upload::S3Error;
use crate::upload::s3::MAX_ERROR_BODY;
use crate::upload::{ProgressTarget, Tracker};

/// Everything a request needs that is the same for every request of a download.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) client: &'a reqwest::Client,
    pub(crate) url: &'a Url,
    /// The URL as it may be shown: scheme, host and path.
    pub(crate) shown: &'a str,
    pub(crate) retry: RetryPolicy,
    pub(crate) stall: Duration,
    pub(crate) cancel: CancellationToken,
    pub(crate) target: &'a ProgressTarget,
    pub(crate) tracker: Tracker,
    pub(crate) requests: AtomicU32,
    pub(crate) retries: AtomicU32,
}

/// How one attempt ended, when it did not succeed.
#[derive(Debug)]
pub(crate) enum Attempt {
    Retry(DownloadFailure, Retry),
    Fatal(DownloadErrorKind),
}

impl From<DownloadErrorKind> for Attempt {
    fn from(kind: DownloadErrorKind) -> Self {
        Attempt::Fatal(kind)
    }
}

/// What an answer says about the remote file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) status: StatusCode,
    /// The bytes a 206 carries (end exclusive).
    pub(crate) range: Option<Range<u64>>,
    /// The file's length: a 206's or 416's `Content-Range`, a 200's `Content-Length`.
    pub(crate) total: Option<u64>,
    pub(crate) etag: Option<String>,
}

impl Head {
    pub(crate) fn of(response: &Response) -> Self {
        let headers = response.headers();
        let status = response.status();
        let content_range = header(headers, CONTENT_RANGE.as_str()).and_then(parse_content_range);
        let (range, total) = match (status, content_range) {
            (StatusCode::PARTIAL_CONTENT, Some((range, total))) => (range, total),
            (StatusCode::RANGE_NOT_SATISFIABLE, Some((_, total))) => (None, total),
            (StatusCode::OK, _) => (None, header(headers, CONTENT_LENGTH.as_str()).and_then(|v| v.parse().ok())),
            _ => (None, None),
        };
        let etag = header(headers, ETAG.as_str()).map(str::to_owned);
        Self { status, range, total, etag }
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// `bytes 0-99/1000` → (0..100, 1000); `bytes */1000` → (none, 1000); a total
/// of `*` is unknown.
fn parse_content_range(value: &str) -> Option<(Option<Range<u64>>, Option<u64>)> {
    let spec = value.strip_prefix("bytes ")?.trim();
    let (range, total) = spec.split_once('/')?;
    let total = if total == "*" { None } else { Some(total.parse::<u64>().ok()?) };
    if range == "*" {
        return Some((None, total));
    }
    let (first, last) = range.split_once('-')?;
    let (first, last) = (first.parse::<u64>().ok()?, last.parse::<u64>().ok()?);
    if first > last || total.is_some_and(|t| last >= t) {
        return None;
    }
    Some((Some(first..last.checked_add(1)?), total))
}

/// An `ETag` `If-Match` can compare: a weak one (`W/"…"`) never matches there.
fn strong(etag: Option<&str>) -> Option<&str> {
    etag.filter(|e| !e.starts_with("W/"))
}

impl Ctx<'_> {
    /// Sends one `GET`, for `range` (end exclusive) if given, with `If-Match`
    /// when the version is known; an error status ends the attempt, except
    /// 416, which the caller judges.
    pub(crate) async fn send(&self, range: Option<&Range<u64>>, etag: Option<&str>) -> Result<Response, Attempt> {
        let mut request = self.client.get(self.url.clone()).header(ACCEPT_ENCODING, "identity");
        if let Some(range) = range {
            request = request.header(RANGE, format!("bytes={}-{}", range.start, range.end.saturating_sub(1)));
        }
        if let Some(etag) = strong(etag) {
            request = request.header(IF_MATCH, etag);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = tokio::select! {
            biased;
            () = self.cancel.cancelled() => return Err(Attempt::Fatal(DownloadErrorKind::Cancelled)),
            sent = timeout(self.stall, request.send()) => match sent {
                Err(_) => return Err(stalled(self.stall)),
                Ok(Err(e)) => return Err(self.network(e, range)),
                Ok(Ok(response)) => response,
            },
        };
        let status = response.status();
        if status.is_success() || status == StatusCode::RANGE_NOT_SATISFIABLE {
            return Ok(response);
        }
        if status == StatusCode::PRECONDITION_FAILED && etag.is_some() {
            return Err(Attempt::Fatal(DownloadErrorKind::RemoteChanged {
                range: range.cloned(),
                change: RemoteChange::PreconditionFailed,
            }));
        }
        let headers = response.headers().clone();
        let s3 = self.error_body(response).await;
        let code = s3.as_ref().map(|s3| s3.code.as_str());
        Err(match retry::classify(Failure::Storage { status, headers: &headers, code }, true) {
            Some(retry) => Attempt::Retry(DownloadFailure::Status { status, s3 }, retry),
            None => Attempt::Fatal(DownloadErrorKind::Rejected { range: range.cloned(), status, s3 }),
        })
    }

    /// The S3 error document of an error answer, read within the stall timeout.
    async fn error_body(&self, mut response: Response) -> Option<S3Error> {
        let read = async {
            let mut body = Vec::new();
            while body.len() < MAX_ERROR_BODY {
                let Ok(Some(chunk)) = response.chunk().await else { break };
                let room = MAX_ERROR_BODY - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            body
        };
        let body = timeout(self.stall, read).await.unwrap_or_default();
        S3Error::parse(&String::from_utf8_lossy(&body))
    }

    /// A client error as an attempt's end, with the shown URL in place of the
    /// pre-signed one.
    pub(crate) fn network(&self, error: reqwest::Error, range: Option<&Range<u64>>) -> Attempt {
        let error = match Url::parse(self.shown) {
            Ok(url) => error.with_url(url),
            Err(_) => error.without_url(),
        };
        match retry::classify(Failure::Transport(&error), true) {
            Some(retry) if !error.is_builder() => Attempt::Retry(DownloadFailure::Network(error), retry),
            _ => Attempt::Fatal(DownloadErrorKind::RetriesExhausted {
                range: range.cloned(),
                attempts: 1,
                last: DownloadFailure::Network(error),
            }),
        }
    }

    /// Waits before retrying after `failure`, or says why not.
    pub(crate) async fn back_off(
        &self,
        retrier: &mut Retrier,
        failure: DownloadFailure,
        retry: Retry,
        range: Option<&Range<u64>>,
    ) -> Result<(), DownloadErrorKind> {
        let attempts = retrier.attempts();
        let Some(wait) = retrier.next_wait(retry) else {
            return Err(DownloadErrorKind::RetriesExhausted { range: range.cloned(), attempts, last: failure });
        };
        tracing::debug!(url = self.shown, ?range, attempt = attempts, ?wait, error = %failure, "retrying download request");
        self.retries.fetch_add(1, Ordering::Relaxed);
        self.tracker.retried();
        tokio::select! {
            () = self.cancel.cancelled() => Err(DownloadErrorKind::Cancelled),
            () = sleep(wait) => Ok(()),
        }
    }
}

pub(crate) fn stalled(after: Duration) -> Attempt {
    Attempt::Retry(DownloadFailure::Stalled(after), Retry::Transient { reason: "stalled" })
}

/// The version a download is of: checked against every answer after the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub(crate) total: u64,
    pub(crate) etag: Option<String>,
}

impl Version {
    /// Whether `head` (an answer for `asked`) is of this version and carries
    /// exactly `asked`.
    pub(crate) fn check(&self, head: &Head, asked: &Range<u64>) -> Result<(), DownloadErrorKind> {
        let range = Some(asked.clone());
        if head.status == StatusCode::RANGE_NOT_SATISFIABLE {
            let now = head.total.unwrap_or(0);
            return Err(DownloadErrorKind::RemoteChanged {
                range,
                change: RemoteChange::Size { was: self.total, now },
            });
        }
        if head.status != StatusCode::PARTIAL_CONTENT {
            let reason = "the server stopped honouring Range part-way through the download".to_string();
            return Err(DownloadErrorKind::BadResponse { range, status: head.status, reason });
        }
        if self.etag.is_some() && head.etag != self.etag {
            let change = RemoteChange::Etag { was: self.etag.clone(), now: head.etag.clone() };
            return Err(DownloadErrorKind::RemoteChanged { range, change });
        }
        match (head.total, &head.range) {
            (Some(total), _) if total != self.total => {
                let change = RemoteChange::Size { was: self.total, now: total };
                Err(DownloadErrorKind::RemoteChanged { range, change })
            }
            (_, Some(got)) if got == asked => Ok(()),
            _ => Err(DownloadErrorKind::BadResponse {
                range,
                status: head.status,
                reason: format!("its Content-Range is {:?}, not the bytes asked for", head.range),
            }),
        }
    }
}

/// Streams `response`'s body into `writer` until `writer` reaches `end`,
/// dropping the first `discard` bytes (already written by an earlier attempt
/// that got the whole body too). Whatever arrived is written before the
/// attempt ends, however it ends.
pub(crate) async fn receive(
    ctx: &Ctx<'_>,
    writer: &mut PieceWriter<'_>,
    mut response: Response,
    end: Option<u64>,
    mut discard: u64,
) -> Result<(), Attempt> {
    // One cancellation future and one timer for the whole body, not one per
    // chunk: the timer is moved on only when it fires before a stall.
    let cancelled = ctx.cancel.cancelled();
    tokio::pin!(cancelled);
    let deadline = sleep(ctx.stall);
    tokio::pin!(deadline);
    let mut last_chunk = Instant::now();
    let outcome = loop {
        let next = tokio::select! {
            biased;
            () = &mut cancelled => break Err(Attempt::Fatal(DownloadErrorKind::Cancelled)),
            next = response.chunk() => next,
            () = &mut deadline => {
                if last_chunk.elapsed() >= ctx.stall {
                    break Err(stalled(ctx.stall));
                }
                deadline.as_mut().reset(last_chunk + ctx.stall);
                continue;
            }
        };
        last_chunk = Instant::now();
        let mut chunk = match next {
            Err(e) => break Err(ctx.network(e, Some(&(writer.position()..end.unwrap_or(u64::MAX))))),
            Ok(None) => break Ok(()),
            Ok(Some(chunk)) => chunk,
        };
        if discard > 0 {
            let dropped = discard.min(chunk.len() as u64);
            discard -= dropped;
            let _ = chunk.split_to(dropped as usize);
        }
        if end.is_some_and(|end| writer.position().saturating_add(chunk.len() as u64) > end) {
            let reason = "the body is longer than it announced".to_string();
            let range = Some(writer.position()..end.unwrap_or(u64::MAX));
            break Err(Attempt::Fatal(DownloadErrorKind::BadResponse { range, status: response.status(), reason }));
        }
        if !chunk.is_empty()
            && let Err(e) = writer.push(chunk).await
        {
            break Err(Attempt::Fatal(e));
        }
    };
    // Keep what arrived, whichever way the attempt ends.
    writer.finish().await.map_err(Attempt::Fatal)?;
    outcome?;
    match end {
        Some(end) if writer.position() < end => {
            let failure = DownloadFailure::Truncated { received: writer.position(), expected: end };
            Err(match retry::classify(Failure::Truncated, true) {
                Some(retry) => Attempt::Retry(failure, retry),
                None => Attempt::Fatal(DownloadErrorKind::RetriesExhausted { range: None, attempts: 1, last: failure }),
            })
        }
        _ => Ok(()),
    }
}

/// Fetches `piece` into the target, retrying as the policy allows, each retry
/// asking only for the bytes not yet written. `first` is an answer already
/// received for the whole piece (the download's first request), with the
/// retry bookkeeping of the attempts it took.
pub(crate) async fn piece(
    ctx: &Ctx<'_>,
    writer: &mut PieceWriter<'_>,
    version: &Version,
    piece: Range<u64>,
    first: Option<(Response, Retrier)>,
) -> Result<(), DownloadErrorKind> {
    let (mut first, mut retrier) = match first {
        Some((response, retrier)) => (Some(response), retrier),
        None => (None, Retrier::new(ctx.retry)),
    };
    loop {
        let asked = writer.position()..piece.end;
        let attempt = async {
            let response = match first.take() {
                Some(response) => response,
                None => {
                    if ctx.cancel.is_cancelled() {
                        return Err(Attempt::Fatal(DownloadErrorKind::Cancelled));
                    }
                    retrier.attempt();
                    let response = ctx.send(Some(&asked), version.etag.as_deref()).await?;
                    version.check(&Head::of(&response), &asked)?;
                    response
                }
            };
            receive(ctx, writer, response, Some(piece.end), 0).await
        };
        match attempt.await {
            Ok(()) => return Ok(()),
            Err(Attempt::Fatal(kind)) => return Err(kind),
            Err(Attempt::Retry(failure, retry)) => ctx.back_off(&mut retrier, failure, retry, Some(&asked)).await?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_ranges_are_read_strictly() {
        assert_eq!(parse_content_range("bytes 0-99/1000"), Some((Some(0..100), Some(1000))));
        assert_eq!(parse_content_range("bytes 5-5/*"), Some((Some(5..6), None)));
        assert_eq!(parse_content_range("bytes */0"), Some((None, Some(0))));
        for bad in ["bytes 9-2/10", "bytes 0-10/10", "items 0-1/2", "bytes 0-/5", "bytes x-1/2", "bytes 0-1"] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
        let huge = format!("bytes 0-{}/{}", u64::MAX - 1, u64::MAX);
        assert_eq!(parse_content_range(&huge), Some((Some(0..u64::MAX), Some(u64::MAX))));
    }

    fn head(status: u16, range: Option<Range<u64>>, total: Option<u64>, etag: Option<&str>) -> Head {
        Head { status: StatusCode::from_u16(status).unwrap(), range, total, etag: etag.map(str::to_owned) }
    }

    #[test]
    fn answers_must_be_of_the_same_version() {
        let v = Version { total: 100, etag: Some("\"a\"".into()) };
        let asked = 10..20;
        assert!(v.check(&head(206, Some(10..20), Some(100), Some("\"a\"")), &asked).is_ok());
        let etag = v.check(&head(206, Some(10..20), Some(100), Some("\"b\"")), &asked).unwrap_err();
        assert!(matches!(etag, DownloadErrorKind::RemoteChanged { change: RemoteChange::Etag { .. }, .. }));
        let size = v.check(&head(206, Some(10..20), Some(90), Some("\"a\"")), &asked).unwrap_err();
        assert!(matches!(
            size,
            DownloadErrorKind::RemoteChanged { change: RemoteChange::Size { was: 100, now: 90 }, .. }
        ));
        let shrunk = v.check(&head(416, None, Some(5), None), &asked).unwrap_err();
        assert!(matches!(shrunk, DownloadErrorKind::RemoteChanged { change: RemoteChange::Size { now: 5, .. }, .. }));
        let other = v.check(&head(206, Some(10..15), Some(100), Some("\"a\"")), &asked).unwrap_err();
        assert!(matches!(other, DownloadErrorKind::BadResponse { .. }));
        let whole = v.check(&head(200, None, Some(100), Some("\"a\"")), &asked).unwrap_err();
        assert!(matches!(whole, DownloadErrorKind::BadResponse { .. }));
        let untagged = Version { total: 100, etag: None };
        assert!(untagged.check(&head(206, Some(10..20), Some(100), Some("\"x\"")), &asked).is_ok());
        assert_eq!(strong(Some("W/\"a\"")), None);
        assert_eq!(strong(Some("\"a\"")), Some("\"a\""));
    }
}
