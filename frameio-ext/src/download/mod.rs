//! Downloads from storage: a URL (a Frame.io media link, any pre-signed or
//! plain `http(s)` URL) to a file, in ranged parts fetched concurrently, or to
//! any [`AsyncWrite`] in order.
//!
//! Getting the URL (a file's `media_links.original.download_url`) is an API
//! call made elsewhere ([`Client::transfers`](crate::Client::transfers)); this
//! module owns what happens after it:
//!
//! * **Ranged, concurrent parts.** The first request asks for the first part
//!   (`Range: bytes=0-…`); its `Content-Range` gives the file's length and its
//!   `ETag` the version, and the other parts (16 MiB by default) follow, a few
//!   at a time, each written where it belongs in `<name>.part` with positioned
//!   writes. Memory stays near `2 × parts in flight × buffer size` (8 MiB with
//!   the defaults) whatever the file's size.
//! * **One version only.** Every part must carry the first answer's `ETag` and
//!   length (and is asked for with `If-Match`): a file replaced mid-download
//!   fails with [`DownloadErrorKind::RemoteChanged`] rather than being stitched
//!   from two versions.
//! * **Complete or nothing.** `<name>.part` is renamed over `<name>` only when
//!   every byte of the announced length arrived and was written; until then
//!   `<name>` is not touched.
//! * **Retries** go through the crate's one policy and classifier
//!   ([`RetryPolicy::storage`], [`retry::classify`](crate::retry::classify)): a
//!   5xx, a reset or a stall mid-body retries that part from the last byte
//!   written, and what is still failing when the policy gives up is reported
//!   with the file, the byte range and the status.
//! * **Resume.** Next to `<name>.part`, `<name>.part.json` ([`DownloadManifest`])
//!   records which remote file the bytes are of (URL without its query, length,
//!   `ETag`) and which ranges are in place. A later run fetches only what is
//!   missing; a manifest that does not match the remote file starts the
//!   download over. Cancelling ([`DownloadOptions::cancel`]) stops within a
//!   buffer's write and leaves the manifest up to date.
//! * **No `Range` support** (a `200` with the whole body): the file is received
//!   as one stream instead.
//!
//! ```no_run
//! use frameio_ext::download::{DownloadOptions, Downloader};
//! use frameio_ext::upload::TransferProgress;
//! use tokio_util::sync::CancellationToken;
//!
//! # async fn run(download_url: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let (progress, mut watch) = tokio::sync::watch::channel(TransferProgress::default());
//! tokio::spawn(async move {
//!     while watch.changed().await.is_ok() {
//!         let p = *watch.borrow();
//!         eprint!("\r{:>5.1}%", p.fraction() * 100.0);
//!     }
//! });
//!
//! let downloader = Downloader::builder().parts_in_flight(8).build()?;
//! let options = DownloadOptions::new().progress(progress).cancel(CancellationToken::new());
//! let report = downloader.download(download_url, "A001_C003.mov", options).await?;
//! println!("{} bytes ({} fetched now) in {:?}", report.bytes, report.bytes_fetched, report.elapsed);
//!
//! // Or into anything that writes, in order (no resume across runs):
//! let mut out = Vec::new();
//! downloader.download_to_writer(download_url, &mut out, DownloadOptions::new()).await?;
//! # Ok(()) }
//! ```

mod error;
mod fetch;
mod job;
mod manifest;
mod ranges;
mod stream;
mod target;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWrite;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;

pub use error::{DownloadError, DownloadErrorKind, DownloadFailure, RemoteChange};
pub use manifest::DownloadManifest;

use crate::retry::RetryPolicy;
use crate::upload::ProgressTarget;
pub use crate::upload::TransferProgress;

/// Parts in flight by default: as many as the upload engine sends, for the
/// same reasons (see [`DEFAULT_CONCURRENCY`](crate::upload::DEFAULT_CONCURRENCY)).
pub const DEFAULT_PARTS_IN_FLIGHT: usize = 4;

/// The part size by default (16 MiB).
pub const DEFAULT_PART_SIZE: u64 = 16 * MIB;

/// The smallest part size [`DownloaderBuilder::part_size`] accepts (8 MiB):
/// smaller parts cost a request each for little gain in parallelism.
pub const MIN_PART_SIZE: u64 = 8 * MIB;

/// The largest part size [`DownloaderBuilder::part_size`] accepts (32 MiB):
/// a retried part starts over from its last written buffer, so a part's size
/// bounds what a stall costs less than it bounds a request's length.
pub const MAX_PART_SIZE: u64 = 32 * MIB;

/// Bytes gathered per positioned write by default (1 MiB).
pub const DEFAULT_BUFFER_SIZE: usize = 1024 * 1024;

const MIB: u64 = 1024 * 1024;

/// Downloads URLs to files and writers. Cheap to clone; one downloader (and
/// its connection pool) can serve many downloads at once.
#[derive(Debug, Clone)]
pub struct Downloader {
    client: reqwest::Client,
    parts_in_flight: usize,
    part_size: u64,
    buffer_size: usize,
    retry: RetryPolicy,
    stall_timeout: Duration,
    sync_on_complete: bool,
}

impl Downloader {
    /// Settings to start from (the defaults are documented on each setter).
    pub fn builder() -> DownloaderBuilder {
        DownloaderBuilder::default()
    }

    /// Downloads `url` to `dest` (see the [module documentation](self)).
    ///
    /// `dest`'s directory must exist. `<dest>.part` and `<dest>.part.json` are
    /// written beside it, and `<dest>` is replaced only once every byte is in.
    ///
    /// # Errors
    /// A [`DownloadError`] naming the file, the byte range and the status,
    /// and the partial file kept for a resume, if any.
    pub async fn download(
        &self,
        url: &str,
        dest: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<DownloadReport, DownloadError> {
        job::to_path(self, url, dest.as_ref(), options).await
    }

    /// Downloads `url` into `writer`, in order, one request at a time (a
    /// request that fails mid-body is resumed with a `Range` from the last
    /// byte written). Nothing is kept for a later run.
    ///
    /// # Errors
    /// As [`download`](Self::download); a write the writer refuses is
    /// [`DownloadErrorKind::Write`].
    pub async fn download_to_writer<W>(
        &self,
        url: &str,
        writer: W,
        options: DownloadOptions,
    ) -> Result<DownloadReport, DownloadError>
    where
        W: AsyncWrite + Unpin + Send,
    {
        stream::to_writer(self, url, writer, options).await
    }
}

/// Settings for a [`Downloader`].
///
/// ```
/// use std::time::Duration;
/// use frameio_ext::RetryPolicy;
/// use frameio_ext::download::Downloader;
///
/// let downloader = Downloader::builder()
///     .parts_in_flight(8)
///     .part_size(32 * 1024 * 1024)
///     .buffer_size(512 * 1024)
///     .retry_policy(RetryPolicy::storage().max_attempts(8))
///     .stall_timeout(Duration::from_secs(120))
///     .build()?;
/// # Ok::<(), frameio_ext::download::DownloadError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DownloaderBuilder {
    parts_in_flight: usize,
    part_size: u64,
    buffer_size: usize,
    retry: RetryPolicy,
    stall_timeout: Duration,
    connect_timeout: Duration,
    sync_on_complete: bool,
}

impl Default for DownloaderBuilder {
    fn default() -> Self {
        Self {
            parts_in_flight: DEFAULT_PARTS_IN_FLIGHT,
            part_size: DEFAULT_PART_SIZE,
            buffer_size: DEFAULT_BUFFER_SIZE,
            retry: RetryPolicy::storage(),
            stall_timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(15),
            sync_on_complete: false,
        }
    }
}

impl DownloaderBuilder {
    /// How many parts of one file are fetched at once (default
    /// [`DEFAULT_PARTS_IN_FLIGHT`]; 0 counts as 1).
    pub fn parts_in_flight(mut self, parts: usize) -> Self {
        self.parts_in_flight = parts.max(1);
        self
    }

    /// How many bytes each ranged request asks for (default
    /// [`DEFAULT_PART_SIZE`], kept within [`MIN_PART_SIZE`]..=[`MAX_PART_SIZE`]).
    pub fn part_size(mut self, bytes: u64) -> Self {
        self.part_size = bytes.clamp(MIN_PART_SIZE, MAX_PART_SIZE);
        self
    }

    /// How many bytes are gathered before each positioned write (default
    /// [`DEFAULT_BUFFER_SIZE`], at least 16 KiB). Each part in flight holds
    /// two such buffers: one filling, one being written.
    pub fn buffer_size(mut self, bytes: usize) -> Self {
        self.buffer_size = bytes.max(16 * 1024);
        self
    }

    /// When and how often a failed request is tried again (default
    /// [`RetryPolicy::storage`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long a request may go without an answer or a byte of body before
    /// it is abandoned and retried (default 60 s).
    pub fn stall_timeout(mut self, timeout: Duration) -> Self {
        self.stall_timeout = timeout;
        self
    }

    /// How long connecting to storage may take (default 15 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Whether to flush a completed file to the disk (`fsync`) before it
    /// replaces `<name>` (default false, as `curl -o` does not): then a power
    /// loss right after a download cannot leave a `<name>` whose blocks never
    /// reached the disk. (The resume manifest written when a download stops
    /// lists only bytes flushed to the disk; the ones written every few
    /// seconds during a download are not flushed, which a killed process
    /// cannot undo but a power loss can.)
    pub fn sync_on_complete(mut self, sync: bool) -> Self {
        self.sync_on_complete = sync;
        self
    }

    /// Creates the downloader and its connection pool.
    ///
    /// # Errors
    /// [`DownloadErrorKind::Tls`] or [`DownloadErrorKind::Client`] if the
    /// HTTP client cannot be set up (for instance when no TLS roots can be
    /// loaded).
    pub fn build(self) -> Result<Downloader, DownloadError> {
        let client = crate::tls::reqwest_builder(crate::tls::HTTP1)
            .map_err(|e| DownloadError::new(DownloadErrorKind::Tls(e.to_string()), None, ""))?
            // One TCP connection per part in flight: parallel streams fill a
            // long-distance link better than one multiplexed connection.
            .http1_only()
            // A CDN may send a pre-signed request on to where the bytes are;
            // these requests carry no credential of ours to leak.
            .redirect(reqwest::redirect::Policy::limited(5))
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!("frameio-ext/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| DownloadError::new(DownloadErrorKind::Client(e.without_url()), None, ""))?;
        Ok(Downloader {
            client,
            parts_in_flight: self.parts_in_flight,
            part_size: self.part_size,
            buffer_size: self.buffer_size,
            retry: self.retry,
            stall_timeout: self.stall_timeout,
            sync_on_complete: self.sync_on_complete,
        })
    }
}

/// What to do when the destination already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Existing {
    /// Transfer it again, replacing what is there (the default for a single
    /// download).
    #[default]
    Replace,
    /// Leave a file of the same name and size alone (taken as already
    /// transferred); replace any other (the default for trees).
    SkipSameSize,
    /// Leave any file of the same name alone, whatever its size.
    Skip,
}

/// Per-download settings: progress, cancellation, what to do with an existing
/// file, resume, and what length to expect.
///
/// ```
/// use tokio_util::sync::CancellationToken;
/// use frameio_ext::download::{DownloadOptions, Existing, TransferProgress};
///
/// let (progress, _watch) = tokio::sync::watch::channel(TransferProgress::default());
/// let options = DownloadOptions::new()
///     .progress(progress)
///     .cancel(CancellationToken::new())
///     .parts_in_flight(8)
///     .existing(Existing::SkipSameSize)
///     .expect_size(50_645_990);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    pub(crate) progress: ProgressTarget,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) parts_in_flight: Option<usize>,
    pub(crate) existing: Existing,
    pub(crate) resume: bool,
    pub(crate) expected_size: Option<u64>,
    pub(crate) budget: Option<Arc<Semaphore>>,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        Self {
            progress: ProgressTarget::None,
            cancel: None,
            parts_in_flight: None,
            existing: Existing::Replace,
            resume: true,
            expected_size: None,
            budget: None,
        }
    }
}

impl DownloadOptions {
    /// No progress, no cancellation, replace an existing file, resume a
    /// partial one.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes [`TransferProgress`] on `sender` as bytes are written (its
    /// value is replaced when the download starts).
    pub fn progress(mut self, sender: watch::Sender<TransferProgress>) -> Self {
        self.progress = ProgressTarget::Own(sender);
        self
    }

    /// Adds this download's parts and bytes to what `sender` holds (a job of
    /// several downloads owns the totals).
    pub(crate) fn shared_progress(mut self, sender: watch::Sender<TransferProgress>) -> Self {
        self.progress = ProgressTarget::Shared(sender);
        self
    }

    /// Stops the download soon after `token` is cancelled, with
    /// [`DownloadErrorKind::Cancelled`], keeping what arrived for a resume.
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Parts fetched at once for this download, instead of the downloader's
    /// setting (0 counts as 1).
    pub fn parts_in_flight(mut self, parts: usize) -> Self {
        self.parts_in_flight = Some(parts.max(1));
        self
    }

    /// What to do when the destination exists (default [`Existing::Replace`]).
    pub fn existing(mut self, existing: Existing) -> Self {
        self.existing = existing;
        self
    }

    /// Whether to pick up a partial download of the same remote file left by
    /// an earlier run (default true); false starts over.
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// Takes a permit of `budget` for each request in flight (a job's limit
    /// across all its transfers).
    pub(crate) fn budget(mut self, budget: Arc<Semaphore>) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Fails with [`DownloadErrorKind::SizeMismatch`] before writing anything
    /// if the remote file's length is not `bytes` (Frame.io's `file_size`).
    pub fn expect_size(mut self, bytes: u64) -> Self {
        self.expected_size = Some(bytes);
        self
    }
}

/// A completed (or skipped) download.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadReport {
    /// The destination (`None` for a download to a writer).
    pub path: Option<PathBuf>,
    /// The file's length.
    pub bytes: u64,
    /// Bytes received in this run.
    pub bytes_fetched: u64,
    /// Bytes an earlier run had left in `<name>.part` and that were kept.
    pub bytes_resumed: u64,
    /// From the first request to the file in place.
    pub elapsed: Duration,
    /// HTTP requests made.
    pub requests: u32,
    /// Requests that failed and were retried.
    pub retries: u32,
    /// Whether the file came in ranged parts (false: one stream, because the
    /// server did not honour `Range`, or a writer was the destination).
    pub ranged: bool,
    /// Whether the download was skipped because the destination was already
    /// there (see [`Existing`]).
    pub skipped: bool,
    /// The remote file's `ETag`, if storage gave one.
    pub etag: Option<String>,
}

impl DownloadReport {
    pub(crate) fn skipped(path: &Path, bytes: u64) -> Self {
        Self {
            path: Some(path.to_path_buf()),
            bytes,
            bytes_fetched: 0,
            bytes_resumed: 0,
            elapsed: Duration::ZERO,
            requests: 0,
            retries: 0,
            ranged: false,
            skipped: true,
            etag: None,
        }
    }
}
