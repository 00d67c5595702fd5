//! Local uploads to Frame.io storage: a file's bytes sent as parts to the
//! pre-signed URLs of a File's `upload_urls`.
//!
//! Creating the File (`files_create_local_upload`) and waiting for it to be
//! processed are API calls made elsewhere; this module owns what happens in
//! between: the [`PartPlan`] (which bytes go to which URL), streaming each
//! part with a bounded number in flight, retrying parts that fail
//! transiently, progress and cancellation.
//!
//! An upload given a manifest path ([`UploadOptions::manifest`]) records each
//! accepted part there as it goes ([`UploadManifest`]); after an interruption,
//! [`Uploader::resume`] (in this process or a later one) sends only the parts
//! storage does not have yet, while the URLs are valid. When they are not,
//! storage says so (403 `AccessDenied`, "Request has expired") and the error
//! says so too ([`UploadError::is_expired`]): the upload must start over with
//! new URLs.
//!
//! Every part is a `PUT` with `Content-Type` set to the File's `media_type`,
//! `x-amz-acl: private` and an exact `Content-Length`, and never an
//! `Authorization` header (the credential is in the URL, whose query string
//! this module never logs or prints). Its body is streamed from the source
//! in buffers of [`UploaderBuilder::buffer_size`] bytes, recycled from chunk
//! to chunk, so memory stays near `2 × concurrency × buffer_size` (8 MiB with
//! the defaults) however large the file or its parts.
//!
//! ```no_run
//! use frameio_ext::upload::{
//!     guess_media_type, UploadOptions, UploadProgress, UploadSource, UploadUrl, Uploader,
//! };
//! use tokio_util::sync::CancellationToken;
//!
//! # async fn run(upload_urls: Vec<(u64, String)>) -> Result<(), Box<dyn std::error::Error>> {
//! let source = UploadSource::open("A001_C002.mov").await?;
//! // From the File that `files_create_local_upload` returned.
//! let urls: Vec<UploadUrl> = upload_urls
//!     .into_iter()
//!     .map(|(size, url)| UploadUrl::new(size, url))
//!     .collect();
//!
//! let (progress, mut watch) = tokio::sync::watch::channel(UploadProgress::default());
//! tokio::spawn(async move {
//!     while watch.changed().await.is_ok() {
//!         let p = *watch.borrow();
//!         eprint!("\r{:>5.1}%", p.fraction() * 100.0);
//!     }
//! });
//!
//! let uploader = Uploader::builder().build()?;
//! let report = uploader
//!     .upload_parts(
//!         &source,
//!         guess_media_type("A001_C002.mov"),
//!         &urls,
//!         UploadOptions::new().progress(progress).cancel(CancellationToken::new()),
//!     )
//!     .await?;
//! println!("{} bytes in {:?}", report.bytes, report.elapsed);
//! # Ok(()) }
//! ```

mod buffer;
pub(crate) mod error;
mod manifest;
mod media_type;
mod part;
mod plan;
mod progress;
pub(crate) mod s3;
mod source;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use reqwest::header::HeaderValue;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use error::{PartLabel, TransientFailure, UploadError, UploadErrorKind};
pub use manifest::{ManifestError, UploadManifest};
pub use media_type::{DEFAULT_MEDIA_TYPE, guess_media_type};
pub use plan::{Part, PartPlan, PlanError, UploadUrl};
pub use progress::{TransferProgress, UploadProgress};
pub use s3::S3Error;
pub use source::{SourceChanged, UploadSource};

use crate::retry::RetryPolicy;
use buffer::BufferPool;
pub(crate) use manifest::Context;
use part::PartContext;
pub(crate) use progress::{ProgressTarget, Tracker};

/// Sends parts to storage. Cheap to clone; one uploader (and its connection
/// pool) can serve many uploads at once.
#[derive(Debug, Clone)]
pub struct Uploader {
    client: reqwest::Client,
    concurrency: usize,
    buffer_size: usize,
    retry: RetryPolicy,
    stall_timeout: Duration,
}

impl Uploader {
    /// Settings to start from (the defaults are documented on each setter).
    pub fn builder() -> UploaderBuilder {
        UploaderBuilder::default()
    }

    /// Uploads `source` to `urls` (a File's `upload_urls`, in order), each
    /// part with `Content-Type: media_type`.
    ///
    /// The plan is checked before anything is sent: sizes that do not add up
    /// to `source.len()` fail with [`UploadErrorKind::Plan`] and no request.
    /// The first part to fail for good stops the upload; parts in flight are
    /// abandoned and the error lists the parts already accepted. With
    /// [`UploadOptions::manifest`], each accepted part is recorded there (for
    /// [`resume`](Self::resume)) and the manifest is removed once the upload
    /// is complete.
    ///
    /// # Errors
    /// An [`UploadError`] saying which part failed and how, or that the
    /// upload was cancelled, with the parts completed until then.
    pub async fn upload_parts(
        &self,
        source: &UploadSource,
        media_type: &str,
        urls: &[UploadUrl],
        options: UploadOptions,
    ) -> Result<UploadReport, UploadError> {
        let plan = PartPlan::new(source.len(), urls).map_err(UploadErrorKind::from)?;
        let record = match (&options.manifest, source.is_rewindable()) {
            (Some(path), true) => {
                let manifest = UploadManifest::new(source, media_type, urls, options.context.0.clone());
                manifest.save(path).map_err(UploadErrorKind::from)?;
                Some((path.clone(), manifest))
            }
            // A reader cannot be read again, so there is nothing to resume.
            _ => None,
        };
        self.run(source, media_type, &plan, options, record).await
    }

    /// Finishes the upload recorded in the manifest at `manifest`: sends the
    /// parts storage has not accepted yet, to the URLs and with the media type
    /// recorded there, and removes the manifest once every part is in.
    ///
    /// ```no_run
    /// use frameio_ext::upload::{UploadOptions, UploadSource, Uploader};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let source = UploadSource::open("A001_C002.mov").await?;
    /// let uploader = Uploader::builder().build()?;
    /// match uploader.resume(&source, "A001_C002.mov.upload.json", UploadOptions::new()).await {
    ///     Ok(report) => println!("done, {} bytes were already there", report.resumed_bytes),
    ///     Err(e) if e.is_expired() => println!("the URLs expired: start a new upload"),
    ///     Err(e) => return Err(e.into()),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`UploadErrorKind::Manifest`] when there is no usable manifest or it is
    /// for another file (or this one changed since); otherwise as
    /// [`upload_parts`](Self::upload_parts), an expired URL included
    /// ([`UploadError::is_expired`]).
    pub async fn resume(
        &self,
        source: &UploadSource,
        manifest: impl AsRef<Path>,
        options: UploadOptions,
    ) -> Result<UploadReport, UploadError> {
        let path = manifest.as_ref().to_path_buf();
        let manifest = UploadManifest::load(&path).map_err(UploadErrorKind::from)?;
        manifest.check_source(&path, source).map_err(UploadErrorKind::from)?;
        let plan = PartPlan::new(source.len(), manifest.urls()).map_err(UploadErrorKind::from)?;
        let media_type = manifest.media_type().to_owned();
        self.run(source, &media_type, &plan, options, Some((path, manifest))).await
    }

    /// Sends the parts of `plan` that `record` (the manifest and where it
    /// lives) does not list as accepted.
    async fn run(
        &self,
        source: &UploadSource,
        media_type: &str,
        plan: &PartPlan,
        options: UploadOptions,
        mut record: Option<(PathBuf, UploadManifest)>,
    ) -> Result<UploadReport, UploadError> {
        let media_type =
            HeaderValue::from_str(media_type).map_err(|_| UploadErrorKind::InvalidMediaType(media_type.to_owned()))?;
        // A read-once source can only feed one part at a time.
        let concurrency = if source.is_rewindable() { options.concurrency.unwrap_or(self.concurrency) } else { 1 };
        let started = Instant::now();
        let mut parts = Vec::with_capacity(plan.parts().len());
        if let Some((_, manifest)) = &record {
            for part in plan.parts().iter().filter(|p| manifest.completed_parts().contains(&p.number())) {
                parts.push(PartReport {
                    number: part.number(),
                    range: part.range(),
                    attempts: 0,
                    etag: manifest.etag(part.number()).map(str::to_owned),
                    elapsed: Duration::ZERO,
                });
            }
        }
        let resumed_bytes: u64 = parts.iter().map(|p| p.range.end - p.range.start).sum();
        let tracker = Tracker::start(&options.progress, plan.total_bytes(), plan.parts().len());
        tracker.already_sent(parts.len(), resumed_bytes);
        let ctx = PartContext {
            client: &self.client,
            source,
            media_type,
            // Each part holds about two buffers: one being written, one read.
            buffers: BufferPool::new(self.buffer_size, 2 * concurrency),
            retry: self.retry,
            stall_timeout: self.stall_timeout,
            tracker,
            cancel: options.cancel.unwrap_or_default(),
        };

        // A hand-rolled window rather than `buffer_unordered` over a closure
        // keeps this future `Send` (closures borrowing `ctx` trip rustc's
        // higher-ranked lifetime inference).
        let done: Vec<usize> = parts.iter().map(|p| p.number).collect();
        // Collected, not a lazy filter: a closure held across the awaits below
        // would make this future not `Send`.
        let pending: Vec<&Part> = plan.parts().iter().filter(|p| !done.contains(&p.number())).collect();
        let mut waiting = pending.into_iter().peekable();
        let mut running = FuturesUnordered::new();
        loop {
            while running.len() < concurrency && waiting.peek().is_some() {
                // A job's budget of parts in flight, shared with its other transfers.
                let permit = match &options.budget {
                    None => None,
                    Some(budget) => match Arc::clone(budget).try_acquire_owned() {
                        Ok(permit) => Some(permit),
                        Err(_) if running.is_empty() => {
                            let acquired = tokio::select! {
                                () = ctx.cancel.cancelled() => None,
                                permit = Arc::clone(budget).acquire_owned() => permit.ok(),
                            };
                            let Some(permit) = acquired else {
                                return Err(UploadError::new(UploadErrorKind::Cancelled, parts, plan.parts().len()));
                            };
                            Some(permit)
                        }
                        Err(_) => break,
                    },
                };
                let Some(next) = waiting.next() else { break };
                running.push(upload_part(&ctx, next, permit));
            }
            match running.next().await {
                Some(Ok(report)) => {
                    if let Some((path, manifest)) = &mut record {
                        manifest.record(report.number, report.etag.clone());
                        if let Err(e) = manifest.save(path) {
                            parts.push(report);
                            return Err(UploadError::new(e.into(), parts, plan.parts().len()));
                        }
                    }
                    parts.push(report);
                }
                Some(Err(kind)) => {
                    tracing::debug!(error = %kind, "upload stopped");
                    return Err(UploadError::new(kind, parts, plan.parts().len()));
                }
                None => break,
            }
        }
        parts.sort_by_key(|p| p.number);
        // Every part was accepted: a write that landed meanwhile would mix two versions.
        if let Err(changed) = source.check_unchanged().await {
            return Err(UploadError::new(changed.into(), parts, plan.parts().len()));
        }
        if let Some((path, _)) = &record
            && let Err(e) = std::fs::remove_file(path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::debug!(path = %path.display(), error = %e, "could not remove a finished upload's manifest");
        }
        Ok(UploadReport { parts, bytes: plan.total_bytes(), resumed_bytes, elapsed: started.elapsed() })
    }
}

/// One part, holding its share of a job's budget while it is in flight.
async fn upload_part(
    ctx: &PartContext<'_>,
    part: &Part,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<PartReport, UploadErrorKind> {
    let report = part::upload(ctx, part).await;
    drop(permit);
    report
}

/// Settings for an [`Uploader`].
///
/// ```
/// use std::time::Duration;
/// use frameio_ext::RetryPolicy;
/// use frameio_ext::upload::Uploader;
///
/// let uploader = Uploader::builder()
///     .concurrency(8)
///     .buffer_size(512 * 1024)
///     .retry_policy(RetryPolicy::storage().max_attempts(8))
///     .stall_timeout(Duration::from_secs(120))
///     .build()?;
/// # Ok::<(), frameio_ext::upload::UploadError>(())
/// ```
#[derive(Debug, Clone)]
pub struct UploaderBuilder {
    concurrency: usize,
    buffer_size: usize,
    retry: RetryPolicy,
    stall_timeout: Duration,
    connect_timeout: Duration,
}

impl Default for UploaderBuilder {
    fn default() -> Self {
        Self {
            concurrency: DEFAULT_CONCURRENCY,
            buffer_size: DEFAULT_BUFFER_SIZE,
            retry: RetryPolicy::storage(),
            stall_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(15),
        }
    }
}

/// Parts in flight by default.
///
/// Measured with `benches/upload.rs` (2 GiB in 82 parts of 25 MiB to a local
/// sink on a shared 2-core machine, 1 MiB buffers): 2 to 4 parts in flight
/// reach the top (up to 4.3 GB/s at 4, 1.7× a single `curl -T`, 13 MiB peak
/// RSS); 1 cannot keep both cores busy, and 6 or 8 were no faster and only
/// add memory (19–23 MiB). Of 2 to 4, 4 is picked for real networks, where
/// each part is a TCP connection of its own: more of them fill links that
/// one connection cannot, and a slow or retried part holds up less. (The
/// official Python uploader runs 5 threads.)
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Bytes read from the source per body chunk by default.
///
/// Measured with `benches/upload.rs`: from 512 KiB to 1 MiB the CPU cost
/// levels off at about 0.3–0.45 CPU seconds per GiB, as low as `curl -T`
/// (256 KiB costs up to twice that), and 2 MiB buys no more speed; memory
/// grows with it, about `2 × concurrency × buffer_size`.
pub const DEFAULT_BUFFER_SIZE: usize = 1024 * 1024;

impl UploaderBuilder {
    /// How many parts are sent at once (default [`DEFAULT_CONCURRENCY`];
    /// 0 counts as 1). A read-once source always sends one at a time.
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.concurrency = parts.max(1);
        self
    }

    /// How many bytes are read from the source per body chunk (default
    /// [`DEFAULT_BUFFER_SIZE`]; 0 counts as 1).
    pub fn buffer_size(mut self, bytes: usize) -> Self {
        self.buffer_size = bytes.max(1);
        self
    }

    /// When and how often a failed part is tried again (default
    /// [`RetryPolicy::storage`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long a part may go without the connection taking a byte or
    /// storage answering before the attempt is abandoned and retried
    /// (default 60 s). A stall, unlike a whole-request timeout, does not
    /// punish large parts on slow links.
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// How long connecting to storage may take (default 15 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Creates the uploader and its connection pool.
    ///
    /// # Errors
    /// [`UploadErrorKind::Client`] if the HTTP client cannot be set up (for
    /// instance when no TLS roots can be loaded).
    pub fn build(self) -> Result<Uploader, UploadError> {
        let client = crate::tls::reqwest_builder(crate::tls::HTTP1)
            .map_err(|e| UploadErrorKind::Tls(e.to_string()))?
            // One TCP connection per part in flight: parallel streams fill a
            // long-distance link better than one multiplexed connection.
            .http1_only()
            // A redirect would need the body again and break the signature.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("frameio-ext/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| UploadErrorKind::Client(e.without_url()))?;
        Ok(Uploader {
            client,
            concurrency: self.concurrency,
            buffer_size: self.buffer_size,
            retry: self.retry,
            stall_timeout: self.stall_timeout,
        })
    }
}

/// Per-upload settings: a progress channel, a cancellation token, parts in
/// flight, and where to record progress for a resume.
#[derive(Debug, Clone, Default)]
pub struct UploadOptions {
    progress: ProgressTarget,
    cancel: Option<CancellationToken>,
    concurrency: Option<usize>,
    manifest: Option<PathBuf>,
    context: Context,
    budget: Option<Arc<Semaphore>>,
}

impl UploadOptions {
    /// No progress reporting, no cancellation, no manifest.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes [`TransferProgress`] on `sender` as bytes go out (its value
    /// is replaced when the upload starts).
    pub fn progress(mut self, sender: watch::Sender<TransferProgress>) -> Self {
        self.progress = ProgressTarget::Own(sender);
        self
    }

    /// Adds this upload's parts and bytes to what `sender` holds (a job of
    /// several uploads owns the totals).
    pub(crate) fn shared_progress(mut self, sender: watch::Sender<TransferProgress>) -> Self {
        self.progress = ProgressTarget::Shared(sender);
        self
    }

    /// Parts sent at once for this upload, instead of the uploader's
    /// [`concurrency`](UploaderBuilder::concurrency) (0 counts as 1).
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.concurrency = Some(parts.max(1));
        self
    }

    /// Records the upload in a manifest at `path` as parts are accepted (for
    /// [`Uploader::resume`]); it is removed when the upload completes. The
    /// manifest holds the pre-signed URLs, so it is written readable by its
    /// owner only. Ignored for a reader source, which cannot be resumed.
    pub fn manifest(mut self, path: impl Into<PathBuf>) -> Self {
        self.manifest = Some(path.into());
        self
    }

    /// What the manifest keeps besides the upload itself (the transfer jobs:
    /// the created file).
    pub(crate) fn context(mut self, context: serde_json::Value) -> Self {
        self.context = Context(context);
        self
    }

    /// Where the manifest goes, if one was asked for.
    pub(crate) fn manifest_path(&self) -> Option<&Path> {
        self.manifest.as_deref()
    }

    /// Takes a permit of `budget` for each part in flight (a job's limit
    /// across all its transfers).
    pub(crate) fn budget(mut self, budget: Arc<Semaphore>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Stops the upload soon after `token` is cancelled, with
    /// [`UploadErrorKind::Cancelled`]; requests in flight are dropped.
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }
}

/// A completed upload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadReport {
    /// One report per part, in order (those a resumed upload found accepted
    /// have 0 attempts).
    pub parts: Vec<PartReport>,
    /// The bytes uploaded (the source's length).
    pub bytes: u64,
    /// The bytes of the parts an earlier run had uploaded (see [`Uploader::resume`]).
    pub resumed_bytes: u64,
    /// From the first request to the last answer.
    pub elapsed: Duration,
}

impl UploadReport {
    /// Attempts that failed and were retried, over all parts.
    pub fn retries(&self) -> u32 {
        self.parts.iter().map(|p| p.attempts.saturating_sub(1)).sum()
    }
}

/// A part that storage accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartReport {
    /// 1-based position of the part.
    pub number: usize,
    /// The source bytes it carried (end exclusive).
    pub range: Range<u64>,
    /// How many attempts it took (1 when the first one succeeded, 0 when an
    /// earlier run had uploaded it).
    pub attempts: u32,
    /// Storage's `ETag` for the part, when it sent one.
    pub etag: Option<String>,
    /// From its first attempt to storage's answer, back-off included.
    pub elapsed: Duration,
}
