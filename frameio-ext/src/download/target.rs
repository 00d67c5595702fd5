//! Where received bytes go: `<name>.part` ([`Target`]), written with
//! positioned writes on tokio's blocking pool so that parts land concurrently
//! without seeking, or a caller's [`AsyncWrite`], in order.
//!
//! A [`PieceWriter`] keeps a part's chunks as they came from the connection
//! (no copy) until they add up to the buffer size, then hands the batch to the
//! blocking pool while the next one gathers: the network and the disk work at
//! the same time, with about two buffers' worth of chunks per part. A range
//! counts as in place (in the [`RangeSet`] the manifest is written from, and
//! in the progress) only once its write returned.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::task::JoinHandle;

use super::error::DownloadErrorKind;
use super::manifest::DownloadManifest;
use super::ranges::RangeSet;
use crate::upload::Tracker;

/// A download's `<name>.part` file and what of it is in place.
#[derive(Debug)]
pub(crate) struct Target {
    file: Arc<File>,
    path: PathBuf,
    coverage: Mutex<RangeSet>,
    buffer_size: usize,
    tracker: Tracker,
}

impl Target {
    /// Opens `path`: emptied when `fresh`, else kept with `coverage` in place
    /// and cut to `total` bytes if it is longer.
    pub(crate) async fn open(
        path: &Path,
        fresh: bool,
        total: u64,
        coverage: RangeSet,
        buffer_size: usize,
        tracker: Tracker,
    ) -> io::Result<Self> {
        let opened = path.to_path_buf();
        let file = tokio::task::spawn_blocking(move || {
            let file = OpenOptions::new().write(true).create(true).truncate(fresh).open(&opened)?;
            if !fresh && file.metadata()?.len() > total {
                file.set_len(total)?;
            }
            Ok::<_, io::Error>(file)
        })
        .await
        .map_err(io::Error::other)??;
        Ok(Self {
            file: Arc::new(file),
            path: path.to_path_buf(),
            coverage: Mutex::new(coverage),
            buffer_size,
            tracker,
        })
    }

    /// The `.part` file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A writer for the bytes from offset `at` on.
    pub(crate) fn writer(&self, at: u64) -> PieceWriter<'_> {
        PieceWriter { out: Out::File { target: self, pending: None }, batch: Vec::new(), batched: 0, start: at }
    }

    /// The ranges in place.
    pub(crate) fn coverage(&self) -> RangeSet {
        lock(&self.coverage).clone()
    }

    /// Records the ranges in place now in a manifest at `manifest_path`, on
    /// the blocking pool; with `sync`, after flushing them to the disk (a
    /// manifest must never list bytes a power loss could take back).
    pub(crate) fn save(
        &self,
        manifest_path: &Path,
        url: &str,
        total: u64,
        etag: Option<String>,
        sync: bool,
    ) -> JoinHandle<io::Result<()>> {
        let manifest = DownloadManifest::new(url, total, etag, self.coverage());
        let (file, path) = (Arc::clone(&self.file), manifest_path.to_path_buf());
        tokio::task::spawn_blocking(move || {
            if sync {
                file.sync_data()?;
            }
            manifest.save(&path)
        })
    }

    /// The file's length and, if asked, a flush of its bytes to the disk.
    pub(crate) async fn finish(&self, sync: bool) -> io::Result<u64> {
        let file = Arc::clone(&self.file);
        tokio::task::spawn_blocking(move || {
            if sync {
                file.sync_all()?;
            }
            Ok(file.metadata()?.len())
        })
        .await
        .map_err(io::Error::other)?
    }

    fn record(&self, range: Range<u64>) {
        let len = range.end - range.start;
        lock(&self.coverage).insert(range);
        self.tracker.received(len);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data stays consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A write in flight on the blocking pool, and the range it covers.
type Pending = (Range<u64>, JoinHandle<io::Result<()>>);

enum Out<'a> {
    File { target: &'a Target, pending: Option<Pending> },
    Writer { writer: &'a mut (dyn AsyncWrite + Unpin + Send), tracker: &'a Tracker },
}

/// Writes one part's bytes, from a starting offset on.
pub(crate) struct PieceWriter<'a> {
    out: Out<'a>,
    /// Chunks received and not yet handed to a write.
    batch: Vec<Bytes>,
    /// Their length.
    batched: usize,
    /// The offset of the batch's first byte.
    start: u64,
}

impl std::fmt::Debug for PieceWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PieceWriter").field("position", &self.position()).finish_non_exhaustive()
    }
}

impl<'a> PieceWriter<'a> {
    /// A writer into `writer`, in order, counting from 0.
    pub(crate) fn sequential(writer: &'a mut (dyn AsyncWrite + Unpin + Send), tracker: &'a Tracker) -> Self {
        Self { out: Out::Writer { writer, tracker }, batch: Vec::new(), batched: 0, start: 0 }
    }

    /// The offset the next byte goes to (after [`finish`](Self::finish): the
    /// end of what is in place).
    pub(crate) fn position(&self) -> u64 {
        self.start.saturating_add(self.batched as u64)
    }

    /// Takes `chunk`, writing the batch once it is a buffer's worth.
    pub(crate) async fn push(&mut self, chunk: Bytes) -> Result<(), DownloadErrorKind> {
        let target = match &mut self.out {
            Out::Writer { writer, tracker } => {
                writer.write_all(&chunk).await.map_err(|source| DownloadErrorKind::Write { path: None, source })?;
                self.start = self.start.saturating_add(chunk.len() as u64);
                tracker.received(chunk.len() as u64);
                return Ok(());
            }
            Out::File { target, .. } => *target,
        };
        self.batched = self.batched.saturating_add(chunk.len());
        self.batch.push(chunk);
        if self.batched >= target.buffer_size {
            self.hand_over().await?;
        }
        Ok(())
    }

    /// Writes what is gathered and waits for every write: then everything
    /// received is in place (or the error says why not).
    pub(crate) async fn finish(&mut self) -> Result<(), DownloadErrorKind> {
        match &mut self.out {
            Out::Writer { writer, .. } => {
                writer.flush().await.map_err(|source| DownloadErrorKind::Write { path: None, source })
            }
            Out::File { .. } => {
                self.hand_over().await?;
                self.wait().await
            }
        }
    }

    /// Starts writing the batch, once the previous write is done.
    async fn hand_over(&mut self) -> Result<(), DownloadErrorKind> {
        self.wait().await?;
        let Out::File { target, pending } = &mut self.out else { return Ok(()) };
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let at = self.start;
        let end = at.saturating_add(std::mem::take(&mut self.batched) as u64);
        self.start = end;
        let file = Arc::clone(&target.file);
        let write = tokio::task::spawn_blocking(move || {
            let mut offset = at;
            for chunk in &batch {
                write_at(&file, chunk, offset)?;
                offset += chunk.len() as u64;
            }
            Ok(())
        });
        *pending = Some((at..end, write));
        Ok(())
    }

    /// Waits for the write in flight and records its range.
    async fn wait(&mut self) -> Result<(), DownloadErrorKind> {
        let Out::File { target, pending } = &mut self.out else { return Ok(()) };
        let Some((range, handle)) = pending.take() else { return Ok(()) };
        let written = handle.await.map_err(io::Error::other).and_then(|result| result);
        written.map_err(|source| DownloadErrorKind::Write { path: Some(target.path.clone()), source })?;
        target.record(range);
        Ok(())
    }
}

/// All of `buf` at offset `at` of `file`.
#[cfg(unix)]
fn write_at(file: &File, buf: &[u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, at)
}

/// All of `buf` at offset `at` of `file`.
#[cfg(windows)]
fn write_at(file: &File, mut buf: &[u8], mut at: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_write(file, buf, at) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => {
                buf = &buf[n..];
                at += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
// One-element arrays of byte ranges are lists of ranges, not of numbers.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use crate::upload::ProgressTarget;

    #[tokio::test]
    async fn pieces_land_where_they_belong_and_count_once_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.part");
        let (tx, rx) = tokio::sync::watch::channel(Default::default());
        let tracker = Tracker::start(&ProgressTarget::Own(tx), 100, 2);
        let target = Target::open(&path, true, 100, RangeSet::new(), 16, tracker).await.unwrap();
        let data = Bytes::from((0..100u8).collect::<Vec<_>>());
        let mut second = target.writer(50);
        second.push(data.slice(50..60)).await.unwrap();
        assert_eq!(second.position(), 60);
        assert_eq!(rx.borrow().bytes_received, 0, "nothing counts before it is written");
        second.push(data.slice(60..70)).await.unwrap();
        second.push(data.slice(70..)).await.unwrap();
        second.finish().await.unwrap();
        assert_eq!(rx.borrow().bytes_received, 50);
        let mut first = target.writer(0);
        for start in (0..50).step_by(7) {
            first.push(data.slice(start..(start + 7).min(50))).await.unwrap();
        }
        first.finish().await.unwrap();
        assert_eq!(target.coverage().ranges(), [0..100]);
        assert_eq!(rx.borrow().bytes_received, 100);
        assert_eq!(target.finish(true).await.unwrap(), 100);
        assert_eq!(std::fs::read(&path).unwrap(), data);

        let reopened = Target::open(&path, false, 40, RangeSet::new(), 16, Tracker::start(&ProgressTarget::None, 0, 0));
        reopened.await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), &data[..40], "a kept file is cut to the remote length");
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_failed_write_is_a_typed_error_and_nothing_is_counted() {
        let tracker = Tracker::start(&ProgressTarget::None, 0, 0);
        let full = Path::new("/dev/full");
        let target = Target::open(full, false, u64::MAX, RangeSet::new(), 16, tracker).await.unwrap();
        let mut writer = target.writer(0);
        let pushed = writer.push(Bytes::from(vec![1; 40])).await;
        let finished = writer.finish().await;
        let error = pushed.and(finished).unwrap_err();
        let DownloadErrorKind::Write { path, source } = error else { panic!("{error:?}") };
        assert_eq!(path.as_deref(), Some(full));
        assert!(super::super::error::is_storage_full(&source), "{source}");
        assert!(target.coverage().ranges().is_empty());
    }
}
