//! A download to a path, from the first request to the rename: learn the
//! remote file from the first answer (or from a resume manifest it matches),
//! plan the missing pieces, fetch them a few at a time, keep the manifest up
//! to date, and put `<name>` in place only when every byte is.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::{Response, StatusCode, Url};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use super::error::{DownloadError, DownloadErrorKind};
use super::fetch::{self, Attempt, Ctx, Head, Version};
use super::manifest::{DownloadManifest, manifest_path, part_path};
use super::ranges::{RangeSet, pieces};
use super::target::Target;
use super::{DownloadOptions, DownloadReport, Downloader, Existing};
use crate::retry::Retrier;
use crate::upload::Tracker;

/// How often, at most, the manifest is rewritten while parts complete: a
/// process killed without warning loses at most this much work. These saves
/// do not flush the file (that would write the whole download back to the
/// disk mid-transfer, at disk speed); the save when a download stops does.
const SAVE_INTERVAL: Duration = Duration::from_secs(5);

/// The file being downloaded and where its pieces go.
struct Paths<'a> {
    dest: &'a Path,
    part: PathBuf,
    manifest: PathBuf,
    /// The URL as the manifest records it: scheme, host and path.
    identity: String,
}

pub(crate) async fn to_path(
    downloader: &Downloader,
    raw_url: &str,
    dest: &Path,
    options: DownloadOptions,
) -> Result<DownloadReport, DownloadError> {
    let url = parse_url(raw_url)
        .map_err(|reason| DownloadError::new(DownloadErrorKind::InvalidUrl { reason }, Some(dest), "<invalid URL>"))?;
    let shown = crate::redact::url(&url);
    // A directory (or a path with no file name) can never be replaced by the
    // file: say so before fetching anything.
    if dest.file_name().is_none() || dest.is_dir() {
        let source = io::Error::new(io::ErrorKind::IsADirectory, "the destination is a directory, not a file path");
        let kind = DownloadErrorKind::Write { path: Some(dest.to_path_buf()), source };
        return Err(DownloadError::new(kind, Some(dest), &shown));
    }
    if options.existing == Existing::Skip
        && let Some(len) = file_len(dest)
    {
        return Ok(DownloadReport::skipped(dest, len));
    }
    let paths = Paths {
        dest,
        part: part_path(dest),
        manifest: manifest_path(dest),
        identity: format!("{}{}", url.origin().ascii_serialization(), url.path()),
    };
    let ctx = Ctx {
        client: &downloader.client,
        url: &url,
        shown: &shown,
        retry: downloader.retry,
        stall: downloader.stall_timeout,
        cancel: options.cancel.clone().unwrap_or_default().child_token(),
        target: &options.progress,
        tracker: Tracker::start(&options.progress, options.expected_size.unwrap_or(0), 0),
        requests: AtomicU32::new(0),
        retries: AtomicU32::new(0),
    };
    let job = Job { downloader, ctx: &ctx, paths: &paths, options: &options, started: Instant::now() };
    job.run().await.map_err(|failed| failed.into_error(dest, &shown))
}

fn parse_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| e.to_string())?;
    match url.scheme() {
        "http" | "https" if url.has_host() => Ok(url),
        "http" | "https" => Err("it has no host".to_owned()),
        other => Err(format!("unsupported scheme {other:?}")),
    }
}

/// The length of the regular file at `path`, if there is one.
fn file_len(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| m.len())
}

/// Why a job stopped, and what it keeps.
struct Failed {
    kind: DownloadErrorKind,
    kept: Option<(PathBuf, u64)>,
}

impl Failed {
    fn into_error(self, dest: &Path, shown: &str) -> DownloadError {
        let error = DownloadError::new(self.kind, Some(dest), shown);
        match self.kept {
            Some((part, bytes)) => error.kept(&part, bytes),
            None => error,
        }
    }
}

impl From<DownloadErrorKind> for Failed {
    fn from(kind: DownloadErrorKind) -> Self {
        Self { kind, kept: None }
    }
}

fn write_error(path: &Path) -> impl FnOnce(io::Error) -> DownloadErrorKind + '_ {
    move |source| DownloadErrorKind::Write { path: Some(path.to_path_buf()), source }
}

struct Job<'a> {
    downloader: &'a Downloader,
    ctx: &'a Ctx<'a>,
    paths: &'a Paths<'a>,
    options: &'a DownloadOptions,
    started: Instant,
}

impl Job<'_> {
    async fn run(&self) -> Result<DownloadReport, Failed> {
        let mut resume = if self.options.resume { self.resumable() } else { None };
        // The first request carries bytes too: it takes its share of a job's budget.
        let mut permit = self.permit().await?;
        loop {
            let missing = resume.as_ref().map(|m| pieces(&m.coverage().gaps(0..m.size()), self.downloader.part_size));
            // The first missing piece, or one byte to check the version of a
            // download that only lacks its rename.
            let asked = match &missing {
                Some(missing) => missing.first().cloned().unwrap_or(0..1),
                None => 0..self.downloader.part_size,
            };
            let etag = resume.as_ref().and_then(|m| m.etag().map(str::to_owned));
            let (response, head, retrier) = match self.first_request(&asked, etag.as_deref()).await {
                Err(DownloadErrorKind::RemoteChanged { .. }) if resume.is_some() => {
                    self.restart(&mut resume, "storage refused If-Match");
                    continue;
                }
                Err(kind) => {
                    // An earlier run's bytes stay for the next one.
                    let kept = resume.as_ref().map(|m| (self.paths.part.clone(), m.bytes_completed()));
                    return Err(Failed { kind, kept });
                }
                Ok(answer) => answer,
            };
            match head.status {
                StatusCode::PARTIAL_CONTENT => {
                    let Some(total) = head.total else {
                        return Err(bad(&head, &asked, "its Content-Range has no total length").into());
                    };
                    self.check_expected(total)?;
                    if let Some(m) = &resume
                        && (m.size() != total || m.etag() != head.etag.as_deref())
                    {
                        self.restart(&mut resume, "the remote file is not the one the partial download is of");
                        continue;
                    }
                    let clipped = asked.start..asked.end.min(total);
                    if head.range.as_ref() != Some(&clipped) {
                        return Err(bad(&head, &asked, "its Content-Range is not the bytes asked for").into());
                    }
                    if let Some(report) = self.skip_if_present(total) {
                        return Ok(report);
                    }
                    let version = Version { total, etag: head.etag };
                    let coverage = resume.map(|m| m.coverage().clone());
                    return self.ranged(version, coverage, clipped, (response, retrier), permit.take()).await;
                }
                StatusCode::OK => {
                    if let Some(report) = head.total.and_then(|total| self.skip_if_present(total)) {
                        return Ok(report);
                    }
                    // One stream: the first request's share of the budget is all it takes.
                    let whole = self.whole(response, head, retrier).await;
                    drop(permit);
                    return whole;
                }
                StatusCode::RANGE_NOT_SATISFIABLE if resume.is_some() => {
                    self.restart(&mut resume, "the remote file is shorter than the partial download");
                }
                StatusCode::RANGE_NOT_SATISFIABLE if head.total == Some(0) => {
                    self.check_expected(0)?;
                    return self.empty().await;
                }
                _ => return Err(bad(&head, &asked, "not a ranged answer, a whole body or an empty file").into()),
            }
        }
    }

    /// The manifest of an earlier run of this download, if it has one and its
    /// `.part` is still there.
    fn resumable(&self) -> Option<DownloadManifest> {
        let manifest = DownloadManifest::load(&self.paths.manifest).ok().flatten()?;
        let part = std::fs::metadata(&self.paths.part).ok().filter(|m| m.is_file())?;
        (manifest.url() == self.paths.identity).then(|| manifest.within(part.len()))
    }

    /// A permit of the job's budget, if there is one, waiting as long as it takes.
    async fn permit(&self) -> Result<Option<OwnedSemaphorePermit>, DownloadErrorKind> {
        let Some(budget) = &self.options.budget else { return Ok(None) };
        tokio::select! {
            () = self.ctx.cancel.cancelled() => Err(DownloadErrorKind::Cancelled),
            permit = Arc::clone(budget).acquire_owned() => permit.map(Some).map_err(|_| DownloadErrorKind::Cancelled),
        }
    }

    fn restart(&self, resume: &mut Option<DownloadManifest>, why: &str) {
        tracing::info!(url = self.ctx.shown, why, "starting the download over");
        *resume = None;
    }

    fn check_expected(&self, total: u64) -> Result<(), DownloadErrorKind> {
        match self.options.expected_size {
            Some(expected) if expected != total => Err(DownloadErrorKind::SizeMismatch { expected, remote: total }),
            _ => Ok(()),
        }
    }

    fn skip_if_present(&self, total: u64) -> Option<DownloadReport> {
        let present = self.options.existing == Existing::SkipSameSize && file_len(self.paths.dest) == Some(total);
        present.then(|| DownloadReport { requests: self.requests(), ..DownloadReport::skipped(self.paths.dest, total) })
    }

    /// The download's first request, retried as the policy allows; its answer
    /// is 206, 200 or 416.
    async fn first_request(
        &self,
        asked: &Range<u64>,
        etag: Option<&str>,
    ) -> Result<(Response, Head, Retrier), DownloadErrorKind> {
        let mut retrier = Retrier::new(self.ctx.retry);
        loop {
            if self.ctx.cancel.is_cancelled() {
                return Err(DownloadErrorKind::Cancelled);
            }
            retrier.attempt();
            match self.ctx.send(Some(asked), etag).await {
                Ok(response) => {
                    let head = Head::of(&response);
                    return Ok((response, head, retrier));
                }
                Err(Attempt::Fatal(kind)) => return Err(kind),
                Err(Attempt::Retry(failure, retry)) => {
                    self.ctx.back_off(&mut retrier, failure, retry, Some(asked)).await?;
                }
            }
        }
    }

    /// Fetches the pieces `coverage` lacks; `first` answered `asked`.
    async fn ranged(
        &self,
        version: Version,
        coverage: Option<RangeSet>,
        asked: Range<u64>,
        first: (Response, Retrier),
        mut permit: Option<OwnedSemaphorePermit>,
    ) -> Result<DownloadReport, Failed> {
        let total = version.total;
        let fresh = coverage.is_none();
        let coverage = coverage.unwrap_or_default();
        let resumed = coverage.covered();
        let missing = pieces(&coverage.gaps(0..total), self.downloader.part_size);
        let parts = self.options.parts_in_flight.unwrap_or(self.downloader.parts_in_flight);
        let tracker = self.ctx.tracker.clone();
        tracker.set_total(self.ctx.target, total, missing.len());
        tracker.received(resumed);
        let target = Target::open(&self.paths.part, fresh, total, coverage, self.downloader.buffer_size, tracker)
            .await
            .map_err(write_error(&self.paths.part))?;
        let kept = |kind: DownloadErrorKind, target: &Target| Failed {
            kind,
            kept: Some((self.paths.part.clone(), target.coverage().covered())),
        };
        let save = |sync| target.save(&self.paths.manifest, &self.paths.identity, total, version.etag.clone(), sync);
        // Nothing new is listed yet: no flush needed.
        let saved = save(false).await.map_err(io::Error::other).and_then(|r| r);
        saved.map_err(|e| kept(write_error(&self.paths.manifest)(e), &target))?;

        let mut first = (missing.first() == Some(&asked)).then_some(first);
        let mut waiting = missing.into_iter().peekable();
        let mut running = FuturesUnordered::new();
        let mut failure = None;
        let mut saving = None::<tokio::task::JoinHandle<io::Result<()>>>;
        let mut saved_at = Instant::now();
        loop {
            while failure.is_none() && running.len() < parts && waiting.peek().is_some() {
                let permit = match (permit.take(), &self.options.budget) {
                    (Some(permit), _) => Some(permit),
                    (None, None) => None,
                    (None, Some(budget)) => match Arc::clone(budget).try_acquire_owned() {
                        Ok(permit) => Some(permit),
                        // With nothing in flight, wait for a share; else go on with what runs.
                        Err(_) if running.is_empty() => match self.permit().await {
                            Ok(permit) => permit,
                            Err(kind) => {
                                failure = Some(kind);
                                break;
                            }
                        },
                        Err(_) => break,
                    },
                };
                let Some(piece) = waiting.next() else { break };
                running.push(run_piece(self.ctx, &target, &version, piece, first.take(), permit));
            }
            match running.next().await {
                None => break,
                Some(Ok(())) => {
                    self.ctx.tracker.part_done();
                    if saved_at.elapsed() >= SAVE_INTERVAL && saving.as_ref().is_none_or(|s| s.is_finished()) {
                        saving = Some(save(false));
                        saved_at = Instant::now();
                    }
                }
                Some(Err(kind)) => {
                    if failure.is_none() {
                        // The others stop too, each keeping what it received.
                        self.ctx.cancel.cancel();
                        failure = Some(kind);
                    }
                }
            }
        }
        drop(running);
        if let Some(saving) = saving {
            let _ = saving.await;
        }
        if let Some(kind) = failure {
            if let Ok(Err(e)) | Err(e) = save(true).await.map_err(io::Error::other) {
                tracing::debug!(url = self.ctx.shown, error = %e, "could not record the partial download");
            }
            return Err(kept(kind, &target));
        }
        let in_place = target.coverage();
        let len = target
            .finish(self.downloader.sync_on_complete)
            .await
            .map_err(|e| kept(write_error(&self.paths.part)(e), &target))?;
        if !in_place.contains(&(0..total)) || len != total {
            let reason = format!("{} of {total} bytes are in place", in_place.covered());
            let kind = DownloadErrorKind::BadResponse { range: None, status: StatusCode::PARTIAL_CONTENT, reason };
            return Err(kept(kind, &target));
        }
        let part = target.path().to_path_buf();
        drop(target);
        self.put_in_place(&part, total, resumed, version.etag, true).await
    }

    /// Receives a whole body (the server ignores `Range`) into a fresh
    /// `.part`; a retry asks for the whole body again and skips what was
    /// already written. No manifest: such a server cannot resume anyway.
    async fn whole(&self, response: Response, head: Head, mut retrier: Retrier) -> Result<DownloadReport, Failed> {
        remove_if_present(&self.paths.manifest);
        if let Some(total) = head.total {
            self.check_expected(total)?;
        }
        let tracker = self.ctx.tracker.clone();
        tracker.set_total(self.ctx.target, head.total.unwrap_or(0), 1);
        let target = Target::open(
            &self.paths.part,
            true,
            head.total.unwrap_or(u64::MAX),
            RangeSet::new(),
            self.downloader.buffer_size,
            tracker,
        )
        .await
        .map_err(write_error(&self.paths.part))?;
        let mut writer = target.writer(0);
        let mut first = Some(response);
        let received = loop {
            let attempt = async {
                let (response, discard) = match first.take() {
                    Some(response) => (response, 0),
                    None => {
                        retrier.attempt();
                        let response = self.ctx.send(None, head.etag.as_deref()).await?;
                        same_whole(&head, &Head::of(&response))?;
                        (response, writer.position())
                    }
                };
                fetch::receive(self.ctx, &mut writer, response, head.total, discard).await
            };
            match attempt.await {
                Ok(()) => break writer.position(),
                Err(Attempt::Fatal(kind)) => return Err(self.discard_part(kind)),
                Err(Attempt::Retry(failure, retry)) => {
                    if let Err(kind) = self.ctx.back_off(&mut retrier, failure, retry, None).await {
                        return Err(self.discard_part(kind));
                    }
                }
            }
        };
        drop(writer);
        self.check_expected(received).map_err(|kind| self.discard_part(kind))?;
        target
            .finish(self.downloader.sync_on_complete)
            .await
            .map_err(|e| self.discard_part(write_error(&self.paths.part)(e)))?;
        self.ctx.tracker.part_done();
        let part = target.path().to_path_buf();
        drop(target);
        self.put_in_place(&part, received, 0, head.etag, false).await
    }

    /// An empty remote file: an empty `<name>`.
    async fn empty(&self) -> Result<DownloadReport, Failed> {
        remove_if_present(&self.paths.manifest);
        let tracker = self.ctx.tracker.clone();
        let target = Target::open(&self.paths.part, true, 0, RangeSet::new(), 1, tracker)
            .await
            .map_err(write_error(&self.paths.part))?;
        target.finish(self.downloader.sync_on_complete).await.map_err(write_error(&self.paths.part))?;
        let part = target.path().to_path_buf();
        drop(target);
        self.put_in_place(&part, 0, 0, None, true).await
    }

    /// A `.part` that cannot be resumed goes with the failure.
    fn discard_part(&self, kind: DownloadErrorKind) -> Failed {
        remove_if_present(&self.paths.part);
        Failed { kind, kept: None }
    }

    /// Renames the complete `.part` over the destination and drops the manifest.
    async fn put_in_place(
        &self,
        part: &Path,
        total: u64,
        resumed: u64,
        etag: Option<String>,
        ranged: bool,
    ) -> Result<DownloadReport, Failed> {
        let (from, to) = (part.to_path_buf(), self.paths.dest.to_path_buf());
        let renamed = tokio::task::spawn_blocking(move || std::fs::rename(&from, &to)).await.map_err(io::Error::other);
        if let Err(e) | Ok(Err(e)) = renamed {
            // Everything is in `.part`: the manifest (complete) lets a rerun just rename.
            if ranged {
                let mut all = RangeSet::new();
                all.insert(0..total);
                let manifest = DownloadManifest::new(&self.paths.identity, total, etag, all);
                let _ = manifest.save(&self.paths.manifest);
            }
            return Err(Failed { kind: write_error(self.paths.dest)(e), kept: Some((part.to_path_buf(), total)) });
        }
        remove_if_present(&self.paths.manifest);
        Ok(DownloadReport {
            path: Some(self.paths.dest.to_path_buf()),
            bytes: total,
            bytes_fetched: total.saturating_sub(resumed),
            bytes_resumed: resumed,
            elapsed: self.started.elapsed(),
            requests: self.requests(),
            retries: self.ctx.retries.load(Ordering::Relaxed),
            ranged,
            skipped: false,
            etag,
        })
    }

    fn requests(&self) -> u32 {
        self.ctx.requests.load(Ordering::Relaxed)
    }
}

/// One piece, with a writer of its own, holding its share of a job's budget.
async fn run_piece(
    ctx: &Ctx<'_>,
    target: &Target,
    version: &Version,
    piece: Range<u64>,
    first: Option<(Response, Retrier)>,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<(), DownloadErrorKind> {
    let mut writer = target.writer(piece.start);
    let done = fetch::piece(ctx, &mut writer, version, piece, first).await;
    drop(permit);
    done
}

/// A repeated whole-body answer must be of the same file.
fn same_whole(first: &Head, again: &Head) -> Result<(), DownloadErrorKind> {
    use super::error::RemoteChange;
    if again.status != StatusCode::OK {
        let reason = "a repeated request for the whole file was not answered with it".to_string();
        return Err(DownloadErrorKind::BadResponse { range: None, status: again.status, reason });
    }
    if first.etag.is_some() && again.etag != first.etag {
        let change = RemoteChange::Etag { was: first.etag.clone(), now: again.etag.clone() };
        return Err(DownloadErrorKind::RemoteChanged { range: None, change });
    }
    if let (Some(was), Some(now)) = (first.total, again.total)
        && was != now
    {
        return Err(DownloadErrorKind::RemoteChanged { range: None, change: RemoteChange::Size { was, now } });
    }
    Ok(())
}

fn bad(head: &Head, asked: &Range<u64>, reason: &str) -> DownloadErrorKind {
    DownloadErrorKind::BadResponse { range: Some(asked.clone()), status: head.status, reason: reason.to_string() }
}

fn remove_if_present(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::debug!(path = %path.display(), error = %e, "could not remove a download's leftover");
    }
}
