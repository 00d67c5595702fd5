//! Real-time uploads (the C2C guide "How to: Upload (Real-time)"): a file
//! uploaded while it is still being written, so that it plays in Frame.io
//! seconds after recording stops.
//!
//! The asset is created with `is_realtime_upload` and no size; then, as the
//! file grows, part URLs are requested "for as many parts as you currently
//! have data available" and the parts sent to them. Part `n` takes
//! [`PartSizer::size`]`(n)` bytes (the guide's formula); a part is only sent
//! once more bytes follow it, so that whatever the file's final size, the
//! last part is never empty. When the file is complete, the remaining bytes
//! go in the last parts, the final one flagged `is_final` with the file's
//! size (`asset_filesize`), and sent only after every other part was accepted
//! ("We recommend uploading the final part only after all other parts have
//! been successfully uploaded").
//!
//! Each part is sent through the crate's [`Uploader`](crate::upload::Uploader)
//! from a reader over the part's bytes. The uploader retries a part that
//! failed before its first byte went out; a part that failed later is read
//! again from the file and sent again, as the C2C error tables allow
//! ([`classify`](super::classify)), with the client's call back-off.

use std::future::Future;
use std::io::{self, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use frameio_gen::c2c::types::{RealtimePart as PartItem, RealtimeUploadPartsRequest};
use futures::{FutureExt, StreamExt, TryStreamExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::C2cClient;
use super::errors;
use super::part_size::{MAXIMUM_FILE_SIZE, MINIMUM_PART_SIZE, PartSizer};
use super::upload::{CreatedAsset, NewAsset, file_created_at};
use crate::error::{Error, Result};
use crate::upload::{DEFAULT_CONCURRENCY, UploadError, UploadErrorKind, UploadOptions, UploadSource, UploadUrl};

/// How often the file's length is checked while waiting for data, by default.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Why a real-time upload could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RealtimeError {
    /// The growing file could not be read.
    #[error("reading {} failed: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file outgrew what one upload can take: 10,000 parts, 5 TiB.
    #[error(
        "{} holds {bytes} bytes, more than a real-time upload of this data rate can take in 10,000 parts \
         (at most {MAXIMUM_FILE_SIZE} bytes); raise the data rate",
        path.display()
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its length.
        bytes: u64,
    },
    /// The file got shorter after some of it was uploaded.
    #[error("{} shrank from {was} to {now} bytes during its real-time upload", path.display())]
    Shrank {
        /// The file.
        path: PathBuf,
        /// The bytes already registered for upload.
        was: u64,
        /// Its length now.
        now: u64,
    },
    /// Frame.io answered a part URL request with the wrong number of URLs.
    #[error("Frame.io returned {urls} upload URLs for {parts} parts")]
    UrlCount {
        /// Parts requested.
        parts: usize,
        /// URLs received.
        urls: usize,
    },
}

/// Where a real-time upload stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RealtimeProgress {
    /// The file's length when last checked.
    pub written: u64,
    /// The bytes of the parts storage accepted.
    pub uploaded: u64,
    /// The parts storage accepted.
    pub parts: u32,
    /// Whether the file is complete (its final size is known).
    pub complete: bool,
}

/// A real-time upload's settings: the asset to create and how to follow the
/// file.
///
/// ```no_run
/// use frameio_ext::c2c::{NewAsset, RealtimeUpload};
///
/// # async fn run(client: frameio_ext::c2c::C2cClient, recording_stopped: tokio::sync::oneshot::Receiver<()>)
/// # -> frameio_ext::Result<()> {
/// // ProRes 422 LT: 102 Mbps.
/// let upload = RealtimeUpload::new(NewAsset::new("A001_C003.mov", "video/quicktime")).data_rate(12_750_000);
/// let report = client
///     .upload_realtime("/media/A001_C003.mov", upload, async {
///         let _ = recording_stopped.await;
///     })
///     .await?;
/// println!("{} bytes in {} parts", report.bytes, report.parts.len());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RealtimeUpload {
    asset: NewAsset,
    data_rate: u64,
    poll_interval: Duration,
    concurrency: usize,
    cancel: Option<CancellationToken>,
    progress: Option<watch::Sender<RealtimeProgress>>,
}

impl RealtimeUpload {
    /// An upload creating `asset` (its name must have the file's extension).
    pub fn new(asset: NewAsset) -> Self {
        Self {
            asset,
            data_rate: MINIMUM_PART_SIZE,
            poll_interval: DEFAULT_POLL_INTERVAL,
            concurrency: DEFAULT_CONCURRENCY,
            cancel: None,
            progress: None,
        }
    }

    /// The bytes per second the file is expected to grow by, which sizes the
    /// parts (default [`MINIMUM_PART_SIZE`], the guide's web-format curve).
    pub fn data_rate(mut self, bytes_per_second: u64) -> Self {
        self.data_rate = bytes_per_second;
        self
    }

    /// How often the file's length is checked while waiting for data.
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// How many parts are sent at once (0 counts as 1).
    pub fn concurrency(mut self, parts: usize) -> Self {
        self.concurrency = parts.max(1);
        self
    }

    /// Stops the upload soon after `token` is cancelled.
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Publishes [`RealtimeProgress`] on `sender`.
    pub fn progress(mut self, sender: watch::Sender<RealtimeProgress>) -> Self {
        self.progress = Some(sender);
        self
    }
}

/// A part of a real-time upload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RealtimePart {
    /// Its number (from 1).
    pub number: u32,
    /// The file's bytes it carried.
    pub range: Range<u64>,
    /// Whether it was the final part.
    pub is_final: bool,
}

/// A finished real-time upload.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RealtimeReport {
    /// The asset Frame.io created.
    pub asset: CreatedAsset,
    /// Every part, in order.
    pub parts: Vec<RealtimePart>,
    /// The file's final size.
    pub bytes: u64,
}

impl C2cClient {
    /// Uploads the file at `path` while it is being written, until
    /// `complete` resolves: it must resolve once the file has its final
    /// length (written and flushed). See the [module documentation](self).
    ///
    /// # Errors
    /// The asset or part URLs could not be created, a part failed for good
    /// ([`Error::Upload`]), or the file could not be read, shrank, or grew
    /// too large ([`Error::Realtime`]).
    pub async fn upload_realtime(
        &self,
        path: impl AsRef<Path>,
        upload: RealtimeUpload,
        complete: impl Future<Output = ()>,
    ) -> Result<RealtimeReport> {
        let path = path.as_ref();
        if upload.cancel.as_ref().is_some_and(CancellationToken::is_cancelled) {
            return Err(cancelled());
        }
        let mut asset = upload.asset.clone();
        if !asset.has_created_at() {
            asset = asset.created_at(file_created_at(path).await.unwrap_or_else(std::time::SystemTime::now));
        }
        let created = self.create(&asset, None).await?;
        let run = Run {
            client: self,
            path,
            asset: &created,
            upload: &upload,
            sizer: PartSizer::new(upload.data_rate),
            cancel: upload.cancel.clone().unwrap_or_default(),
        };
        let (parts, bytes) = run.follow(complete).await?;
        Ok(RealtimeReport { asset: created, parts, bytes })
    }
}

/// One real-time upload in progress.
struct Run<'a> {
    client: &'a C2cClient,
    path: &'a Path,
    asset: &'a CreatedAsset,
    upload: &'a RealtimeUpload,
    sizer: PartSizer,
    cancel: CancellationToken,
}

impl Run<'_> {
    /// Uploads the file as it grows; the parts and the file's final size.
    async fn follow(&self, complete: impl Future<Output = ()>) -> Result<(Vec<RealtimePart>, u64)> {
        let mut complete = std::pin::pin!(complete.fuse());
        let mut done = false;
        let mut registered = 0;
        let mut next = 1;
        let mut parts = Vec::new();
        loop {
            let wanted = self.size(next, registered)?;
            let length = loop {
                let length = self.length(registered).await?;
                self.report(|p| p.written = length);
                if done || length - registered > wanted {
                    break length;
                }
                tokio::select! {
                    () = &mut complete, if !done => done = true,
                    () = self.cancel.cancelled() => return Err(cancelled()),
                    () = tokio::time::sleep(self.upload.poll_interval) => {}
                }
            };
            let batch = self.plan(&mut next, registered, length, done)?;
            self.report(|p| p.complete = done);
            self.send(&batch, done.then_some(length)).await?;
            registered = batch.last().map_or(registered, |part| part.range.end);
            parts.extend(batch);
            if done {
                return Ok((parts, length));
            }
        }
    }

    /// The parts for the bytes from `registered` to `length`: full-size parts
    /// with more bytes after them; once the file is `done`, all of it, the
    /// last part final.
    fn plan(&self, next: &mut u32, registered: u64, length: u64, done: bool) -> Result<Vec<RealtimePart>> {
        let mut batch = Vec::new();
        let mut start = registered;
        while start < length {
            let size = self.size(*next, length)?;
            let remaining = length - start;
            if !done && remaining <= size {
                break;
            }
            let end = start + size.min(remaining);
            batch.push(RealtimePart { number: *next, range: start..end, is_final: false });
            start = end;
            *next += 1;
        }
        if done {
            match batch.last_mut() {
                Some(last) => last.is_final = true,
                // Only an empty file gets here: every part sent before had
                // bytes after it.
                None => batch.push(RealtimePart { number: *next, range: length..length, is_final: true }),
            }
        }
        Ok(batch)
    }

    /// Registers `batch` and sends it, the final part last.
    async fn send(&self, batch: &[RealtimePart], filesize: Option<u64>) -> Result<()> {
        let body = RealtimeUploadPartsRequest {
            asset_filesize: filesize.map(|size| i64::try_from(size).unwrap_or(i64::MAX)),
            asset_name: None,
            parts: batch
                .iter()
                .map(|part| PartItem {
                    is_final: part.is_final,
                    number: i64::from(part.number),
                    size: i64::try_from(part.range.end - part.range.start).unwrap_or(i64::MAX),
                })
                .collect(),
        };
        let (client, body) = (self.client, &body);
        let urls = errors::retrying(client.call_retry(), "request real-time part URLs", move || {
            let request =
                client.devices_device_create_realtime_upload_parts().asset_id(&self.asset.id).body(body.clone());
            async move { request.send().await.map(|answer| answer.upload_urls) }
        })
        .await?;
        if urls.len() != batch.len() {
            return Err(RealtimeError::UrlCount { parts: batch.len(), urls: urls.len() }.into());
        }
        let (last, others) = batch.split_last().expect("a batch has at least one part");
        let (last_url, other_urls) = urls.split_last().expect("as many URLs as parts");
        let mut jobs: Vec<(&RealtimePart, &String)> = others.iter().zip(other_urls).collect();
        if !last.is_final {
            jobs.push((last, last_url));
        }
        futures::stream::iter(jobs.into_iter().map(|(part, url)| self.send_part(part, url)))
            .buffer_unordered(self.upload.concurrency)
            .try_collect::<()>()
            .await?;
        if last.is_final {
            self.send_part(last, last_url).await?;
        }
        Ok(())
    }

    /// Sends one part, reading it again from the file for each attempt.
    async fn send_part(&self, part: &RealtimePart, url: &str) -> Result<()> {
        let len = part.range.end - part.range.start;
        let urls = &[UploadUrl::new(len, url)];
        errors::retrying(self.client.call_retry(), "upload real-time part", move || async move {
            let reader = self.open(part.range.clone()).await?;
            let source = UploadSource::from_reader(reader, len);
            let options = UploadOptions::new().cancel(self.cancel.clone());
            self.client.uploader().upload_parts(&source, self.upload.asset.filetype(), urls, options).await?;
            Ok(())
        })
        .await?;
        tracing::debug!(part = part.number, bytes = len, is_final = part.is_final, "real-time part uploaded");
        self.report(|p| {
            p.uploaded += len;
            p.parts += 1;
        });
        Ok(())
    }

    /// The size of part `number`; `bytes` is the file's length, for the
    /// error when it needs more than 10,000 parts.
    fn size(&self, number: u32, bytes: u64) -> Result<u64> {
        self.sizer.size(number).map_err(|_| RealtimeError::TooLarge { path: self.path.to_owned(), bytes }.into())
    }

    /// The file's length now, which may not fall below `registered`.
    async fn length(&self, registered: u64) -> Result<u64> {
        let length = tokio::fs::metadata(self.path).await.map_err(|e| self.read_error(e))?.len();
        if length < registered {
            return Err(RealtimeError::Shrank { path: self.path.to_owned(), was: registered, now: length }.into());
        }
        Ok(length)
    }

    async fn open(&self, range: Range<u64>) -> Result<tokio::io::Take<tokio::fs::File>> {
        let mut file = tokio::fs::File::open(self.path).await.map_err(|e| self.read_error(e))?;
        file.seek(SeekFrom::Start(range.start)).await.map_err(|e| self.read_error(e))?;
        Ok(file.take(range.end - range.start))
    }

    fn read_error(&self, source: io::Error) -> Error {
        RealtimeError::Read { path: self.path.to_owned(), source }.into()
    }

    fn report(&self, update: impl FnOnce(&mut RealtimeProgress)) {
        if let Some(progress) = &self.upload.progress {
            progress.send_modify(update);
        }
    }
}

fn cancelled() -> Error {
    UploadError::from(UploadErrorKind::Cancelled).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(run: &Run<'_>, registered: u64, length: u64, done: bool, next: u32) -> Vec<(u32, Range<u64>, bool)> {
        let mut next = next;
        run.plan(&mut next, registered, length, done)
            .unwrap()
            .into_iter()
            .map(|p| (p.number, p.range, p.is_final))
            .collect()
    }

    #[tokio::test]
    async fn parts_leave_bytes_after_them_until_the_file_is_complete() {
        let client = C2cClient::builder().build().unwrap();
        let asset: CreatedAsset = serde_json::from_str(r#"{"id": "a"}"#).unwrap();
        let upload = RealtimeUpload::new(NewAsset::new("a.mov", "video/quicktime"));
        let run = Run {
            client: &client,
            path: Path::new("a.mov"),
            asset: &asset,
            upload: &upload,
            sizer: PartSizer::new(MINIMUM_PART_SIZE),
            cancel: CancellationToken::new(),
        };
        let (p1, p2) = (5_242_896, 5_242_945); // sizes of parts 1 and 2
        assert_eq!(planned(&run, 0, p1, false, 1), [], "exactly one part's worth: wait for more");
        assert_eq!(planned(&run, 0, p1 + 1, false, 1), [(1, 0..p1, false)]);
        assert_eq!(planned(&run, 0, p1 + p2 + 1, false, 1), [(1, 0..p1, false), (2, p1..p1 + p2, false)]);
        assert_eq!(planned(&run, 0, p1, true, 1), [(1, 0..p1, true)], "complete: the part is final");
        assert_eq!(planned(&run, p1, p1 + 7, true, 2), [(2, p1..p1 + 7, true)]);
        assert_eq!(planned(&run, 0, p1 + 7, true, 1), [(1, 0..p1, false), (2, p1..p1 + 7, true)]);
        assert_eq!(planned(&run, 0, 0, true, 1), [(1, 0..0, true)], "an empty file has one empty final part");
        assert!(matches!(
            run.plan(&mut 10_001, 0, 1, true).unwrap_err(),
            Error::Realtime(RealtimeError::TooLarge { .. })
        ));
    }
}
