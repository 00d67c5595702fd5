//! A download into an [`AsyncWrite`]: one `GET`, its body written in order;
//! when it breaks off, the next attempt asks for the rest with a `Range` (and
//! `If-Match`), or skips what was written if the server sends the whole body
//! again.

use std::sync::atomic::{AtomicU32, Ordering};

use reqwest::StatusCode;
use tokio::io::AsyncWrite;
use tokio::time::Instant;

use super::error::{DownloadError, DownloadErrorKind, RemoteChange};
use super::fetch::{self, Attempt, Ctx, Head};
use super::target::PieceWriter;
use super::{DownloadOptions, DownloadReport, Downloader};
use crate::retry::Retrier;
use crate::upload::Tracker;

pub(crate) async fn to_writer<W>(
    downloader: &Downloader,
    raw_url: &str,
    mut writer: W,
    options: DownloadOptions,
) -> Result<DownloadReport, DownloadError>
where
    W: AsyncWrite + Unpin + Send,
{
    let url = reqwest::Url::parse(raw_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .ok_or_else(|| {
            let kind = DownloadErrorKind::InvalidUrl { reason: "it is not an absolute http(s) URL".to_string() };
            DownloadError::new(kind, None, "<invalid URL>")
        })?;
    let shown = crate::redact::url(&url);
    let ctx = Ctx {
        client: &downloader.client,
        url: &url,
        shown: &shown,
        retry: downloader.retry,
        stall: downloader.stall_timeout,
        cancel: options.cancel.clone().unwrap_or_default().child_token(),
        target: &options.progress,
        tracker: Tracker::start(&options.progress, options.expected_size.unwrap_or(0), 1),
        requests: AtomicU32::new(0),
        retries: AtomicU32::new(0),
    };
    let started = Instant::now();
    let tracker = ctx.tracker.clone();
    let mut sink = PieceWriter::sequential(&mut writer, &tracker);
    let fail = |kind: DownloadErrorKind, done: u64| DownloadError::new(kind, None, &shown).after(done);

    let mut retrier = Retrier::new(ctx.retry);
    // What the first answer said about the file: every later one must agree.
    let mut first: Option<Head> = None;
    loop {
        if ctx.cancel.is_cancelled() {
            return Err(fail(DownloadErrorKind::Cancelled, sink.position()));
        }
        retrier.attempt();
        let attempt = async {
            let at = sink.position();
            // The rest of the file (to its end, when its length is unknown).
            let range = first.as_ref().map(|f| at..f.total.unwrap_or(u64::MAX));
            let etag = first.as_ref().and_then(|f| f.etag.clone());
            let response = ctx.send(range.as_ref().filter(|_| at > 0), etag.as_deref()).await?;
            let head = Head::of(&response);
            let discard = match &first {
                None => {
                    if head.status != StatusCode::OK {
                        let reason = "a plain GET was not answered with the whole file".to_string();
                        return Err(DownloadErrorKind::BadResponse { range: None, status: head.status, reason }.into());
                    }
                    if let (Some(expected), Some(total)) = (options.expected_size, head.total)
                        && expected != total
                    {
                        return Err(DownloadErrorKind::SizeMismatch { expected, remote: total }.into());
                    }
                    ctx.tracker.set_total(ctx.target, head.total.unwrap_or(0), 0);
                    first = Some(head.clone());
                    0
                }
                Some(was) => resumed_at(was, &head, at)?,
            };
            let total = first.as_ref().and_then(|f| f.total);
            fetch::receive(&ctx, &mut sink, response, total, discard).await
        };
        match attempt.await {
            Ok(()) => break,
            Err(Attempt::Fatal(kind)) => return Err(fail(kind, sink.position())),
            Err(Attempt::Retry(failure, retry)) => {
                if let Err(kind) = ctx.back_off(&mut retrier, failure, retry, None).await {
                    return Err(fail(kind, sink.position()));
                }
            }
        }
    }
    let bytes = sink.position();
    if let Some(expected) = options.expected_size.filter(|e| *e != bytes) {
        return Err(fail(DownloadErrorKind::SizeMismatch { expected, remote: bytes }, bytes));
    }
    ctx.tracker.part_done();
    Ok(DownloadReport {
        path: None,
        bytes,
        bytes_fetched: bytes,
        bytes_resumed: 0,
        elapsed: started.elapsed(),
        requests: ctx.requests.load(Ordering::Relaxed),
        retries: ctx.retries.load(Ordering::Relaxed),
        ranged: false,
        skipped: false,
        etag: first.and_then(|f| f.etag),
    })
}

/// How many leading bytes of a repeated answer to skip: none for a 206 that
/// starts at `at`, `at` for a 200 with the whole file again; an answer of
/// another version ends the download.
fn resumed_at(first: &Head, again: &Head, at: u64) -> Result<u64, Attempt> {
    if first.etag.is_some() && again.etag != first.etag {
        let change = RemoteChange::Etag { was: first.etag.clone(), now: again.etag.clone() };
        return Err(DownloadErrorKind::RemoteChanged { range: None, change }.into());
    }
    if let (Some(was), Some(now)) = (first.total, again.total)
        && was != now
    {
        return Err(DownloadErrorKind::RemoteChanged { range: None, change: RemoteChange::Size { was, now } }.into());
    }
    match again.status {
        StatusCode::OK => Ok(at),
        StatusCode::PARTIAL_CONTENT if again.range.as_ref().is_some_and(|r| r.start == at) => Ok(0),
        status => {
            let reason = format!("the rest of the file was asked from byte {at}, the answer was {:?}", again.range);
            Err(DownloadErrorKind::BadResponse { range: None, status, reason }.into())
        }
    }
}
