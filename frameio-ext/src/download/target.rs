//! Where received bytes go: `<name>.part` ([`Target`]), written with
//! positioned writes on tokio's blocking pool so that parts land concurrently
//! without seeking, or a caller's [`AsyncWrite`], in order.
//!
//! A [`PieceWriter`] gathers a part's bytes into a buffer and hands each full
//! one to the blocking pool while the next fills, so the network and the disk
//! work at the same time with two buffers per part. A range counts as in
//! place (in the [`RangeSet`] the manifest is written from, and in the
//! progress) only once its write returned.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

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
    /// Buffers not in use, at most `keep` of them.
    free: Mutex<Vec<Vec<u8>>>,
    keep: usize,
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
        parts: usize,
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
            free: Mutex::new(Vec::new()),
            keep: parts.saturating_mul(2),
            tracker,
        })
    }

    /// The `.part` file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A writer for the bytes from offset `at` on.
    pub(crate) fn writer(&self, at: u64) -> PieceWriter<'_> {
        PieceWriter { out: Out::File { target: self, pending: None }, buf: Vec::new(), start: at }
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

    fn take_buffer(&self) -> Vec<u8> {
        lock(&self.free).pop().unwrap_or_else(|| Vec::with_capacity(self.buffer_size))
    }

    fn give_back(&self, mut buf: Vec<u8>) {
        let mut free = lock(&self.free);
        if free.len() < self.keep && buf.capacity() >= self.buffer_size {
            buf.clear();
            free.push(buf);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data stays consistent even if a holder panicked.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A write in flight on the blocking pool: the range, and the buffer back.
type Pending = (Range<u64>, JoinHandle<io::Result<Vec<u8>>>);

enum Out<'a> {
    File { target: &'a Target, pending: Option<Pending> },
    Writer { writer: &'a mut (dyn AsyncWrite + Unpin + Send), tracker: &'a Tracker },
}

/// Writes one part's bytes, from a starting offset on.
pub(crate) struct PieceWriter<'a> {
    out: Out<'a>,
    /// Bytes received and not yet handed to a write.
    buf: Vec<u8>,
    /// The offset of `buf[0]`.
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
        Self { out: Out::Writer { writer, tracker }, buf: Vec::new(), start: 0 }
    }

    /// The offset the next byte goes to (after [`finish`](Self::finish): the
    /// end of what is in place).
    pub(crate) fn position(&self) -> u64 {
        self.start.saturating_add(self.buf.len() as u64)
    }

    /// Takes `chunk`, writing each buffer that fills.
    pub(crate) async fn push(&mut self, mut chunk: &[u8]) -> Result<(), DownloadErrorKind> {
        let target = match &mut self.out {
            Out::Writer { writer, tracker } => {
                writer.write_all(chunk).await.map_err(|source| DownloadErrorKind::Write { path: None, source })?;
                self.start = self.start.saturating_add(chunk.len() as u64);
                tracker.received(chunk.len() as u64);
                return Ok(());
            }
            Out::File { target, .. } => *target,
        };
        while !chunk.is_empty() {
            if self.buf.capacity() == 0 {
                self.buf = target.take_buffer();
            }
            let room = target.buffer_size.saturating_sub(self.buf.len()).max(1);
            let n = room.min(chunk.len());
            self.buf.extend_from_slice(&chunk[..n]);
            chunk = &chunk[n..];
            if self.buf.len() >= target.buffer_size {
                self.hand_over().await?;
            }
        }
        Ok(())
    }

    /// Writes what is buffered and waits for every write: then everything
    /// received is in place (or the error says why not).
    pub(crate) async fn finish(&mut self) -> Result<(), DownloadErrorKind> {
        match &mut self.out {
            Out::Writer { writer, .. } => {
                writer.flush().await.map_err(|source| DownloadErrorKind::Write { path: None, source })
            }
            Out::File { .. } => {
                self.hand_over().await?;
                if let Some(buf) = self.wait().await? {
                    self.give_back(buf);
                }
                Ok(())
            }
        }
    }

    /// Starts writing the buffer, once the previous write is done.
    async fn hand_over(&mut self) -> Result<(), DownloadErrorKind> {
        let spare = self.wait().await?;
        let Out::File { target, pending } = &mut self.out else { return Ok(()) };
        let full = std::mem::replace(&mut self.buf, spare.unwrap_or_default());
        if full.is_empty() {
            target.give_back(full);
            return Ok(());
        }
        let at = self.start;
        let end = at.saturating_add(full.len() as u64);
        self.start = end;
        let file = Arc::clone(&target.file);
        *pending = Some((at..end, tokio::task::spawn_blocking(move || write_at(&file, &full, at).map(|()| full))));
        Ok(())
    }

    /// Waits for the write in flight, records its range and returns its buffer.
    async fn wait(&mut self) -> Result<Option<Vec<u8>>, DownloadErrorKind> {
        let Out::File { target, pending } = &mut self.out else { return Ok(None) };
        let Some((range, handle)) = pending.take() else { return Ok(None) };
        let written = handle.await.map_err(io::Error::other).and_then(|result| result);
        let mut buf = written.map_err(|source| DownloadErrorKind::Write { path: Some(target.path.clone()), source })?;
        target.record(range);
        buf.clear();
        Ok(Some(buf))
    }

    fn give_back(&mut self, buf: Vec<u8>) {
        if let Out::File { target, .. } = &self.out {
            target.give_back(buf);
        }
    }
}

impl Drop for PieceWriter<'_> {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.give_back(buf);
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
        let target = Target::open(&path, true, 100, RangeSet::new(), 16, 2, tracker).await.unwrap();
        let data: Vec<u8> = (0..100u8).collect();
        let mut second = target.writer(50);
        second.push(&data[50..70]).await.unwrap();
        assert_eq!(second.position(), 70);
        assert!(rx.borrow().bytes_received <= 16, "only a full buffer is being written");
        second.push(&data[70..]).await.unwrap();
        second.finish().await.unwrap();
        let mut first = target.writer(0);
        for chunk in data[..50].chunks(7) {
            first.push(chunk).await.unwrap();
        }
        first.finish().await.unwrap();
        assert_eq!(target.coverage().ranges(), [0..100]);
        assert_eq!(rx.borrow().bytes_received, 100);
        assert_eq!(target.finish(true).await.unwrap(), 100);
        assert_eq!(std::fs::read(&path).unwrap(), data);

        let reopened =
            Target::open(&path, false, 40, RangeSet::new(), 16, 1, Tracker::start(&ProgressTarget::None, 0, 0));
        reopened.await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), &data[..40], "a kept file is cut to the remote length");
    }

    #[tokio::test]
    async fn a_failed_write_is_a_typed_error_and_nothing_is_counted() {
        let tracker = Tracker::start(&ProgressTarget::None, 0, 0);
        let full = Path::new("/dev/full");
        if !full.exists() {
            return;
        }
        let target = Target::open(full, false, u64::MAX, RangeSet::new(), 16, 1, tracker).await.unwrap();
        let mut writer = target.writer(0);
        let pushed = writer.push(&[1; 40]).await;
        let finished = writer.finish().await;
        let error = pushed.and(finished).unwrap_err();
        let DownloadErrorKind::Write { path, source } = error else { panic!("{error:?}") };
        assert_eq!(path.as_deref(), Some(full));
        assert!(super::super::error::is_storage_full(&source), "{source}");
        assert!(target.coverage().ranges().is_empty());
    }
}
