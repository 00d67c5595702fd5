//! Upload sources: where a part's bytes come from, read in small buffers so
//! that memory never depends on the size of a file or of a part.
//!
//! A file is read with positional reads (`pread`) on one shared handle, on
//! tokio's blocking pool: parts read concurrently without seeking or
//! reopening, and a retried part simply reads its range again. A plain
//! [`AsyncRead`] can only be read once, front to back (see
//! [`UploadSource::from_reader`]).

use std::fmt;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::Mutex;

use super::buffer::{BufferPool, Lease};

/// The bytes to upload and how many there are.
///
/// ```no_run
/// use frameio_ext::upload::UploadSource;
///
/// # async fn run() -> std::io::Result<()> {
/// let file = UploadSource::open("clip.mov").await?;
/// println!("{} bytes to send", file.len());
///
/// // Any `AsyncRead` of known length: a pipe, a decoder, a download...
/// let streamed = UploadSource::from_reader(std::io::Cursor::new(vec![7u8; 4096]), 4096);
/// assert_eq!(streamed.len(), 4096);
/// # Ok(()) }
/// ```
pub struct UploadSource {
    len: u64,
    kind: Kind,
}

enum Kind {
    File { file: Arc<File>, path: PathBuf, opened: Snapshot },
    Reader(Arc<Mutex<SequentialReader>>),
}

/// What a file looked like when it was opened: a write since shows in its
/// length or its modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Snapshot {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Snapshot {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self { len: meta.len(), modified: meta.modified().ok() }
    }
}

/// The file changed while it was being uploaded: the bytes sent may mix two
/// versions of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{path} changed while it was being uploaded (length {was} -> {now}{}); the bytes sent may mix two versions: \
     upload it again once it is complete",
    if *.modified { ", modification time changed" } else { "" }
)]
pub struct SourceChanged {
    /// The file.
    pub path: String,
    /// Its length when the upload started.
    pub was: u64,
    /// Its length now.
    pub now: u64,
    /// Whether its modification time changed.
    pub modified: bool,
}

struct SequentialReader {
    reader: Pin<Box<dyn AsyncRead + Send>>,
    /// How many bytes have been taken from the reader.
    position: u64,
}

impl UploadSource {
    /// Opens the file at `path`; its current length is what gets uploaded.
    ///
    /// # Errors
    /// The file cannot be opened or is not a regular file.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let opened = path.clone();
        let (file, len) = tokio::task::spawn_blocking(move || {
            let file = File::open(&opened)?;
            let meta = file.metadata()?;
            if !meta.is_file() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{} is not a regular file", opened.display()),
                ));
            }
            Ok((file, Snapshot::of(&meta)))
        })
        .await
        .map_err(io::Error::other)??;
        let (len, opened) = (len.len, len);
        Ok(Self { len, kind: Kind::File { file: Arc::new(file), path, opened } })
    }

    /// `len` bytes read from `reader`, in order, exactly once.
    ///
    /// Because part `n + 1` starts where part `n` ends in the stream, parts
    /// are sent one at a time whatever the uploader's concurrency, and a part
    /// that fails after its first bytes were read cannot be sent again: the
    /// upload then ends with [`UploadErrorKind::NotRewindable`]. Failures
    /// before a part's first byte (a refused connection) are still retried.
    /// Prefer [`UploadSource::open`] for anything that is a file.
    ///
    /// [`UploadErrorKind::NotRewindable`]: super::UploadErrorKind::NotRewindable
    pub fn from_reader(reader: impl AsyncRead + Send + 'static, len: u64) -> Self {
        Self {
            len,
            kind: Kind::Reader(Arc::new(Mutex::new(SequentialReader { reader: Box::pin(reader), position: 0 }))),
        }
    }

    /// How many bytes the source holds.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the source holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file's path, for a file source.
    pub fn path(&self) -> Option<&Path> {
        match &self.kind {
            Kind::File { path, .. } => Some(path),
            Kind::Reader(_) => None,
        }
    }

    /// The file's modification time when it was opened (none for a reader).
    pub(crate) fn modified(&self) -> Option<std::time::SystemTime> {
        match &self.kind {
            Kind::File { opened, .. } => opened.modified,
            Kind::Reader(_) => None,
        }
    }

    /// Checks that a file has not been written to since it was opened (its
    /// length and modification time); a reader is taken as it comes.
    pub(crate) async fn check_unchanged(&self) -> Result<(), SourceChanged> {
        let Kind::File { file, path, opened } = &self.kind else { return Ok(()) };
        let file = Arc::clone(file);
        let now = tokio::task::spawn_blocking(move || file.metadata().map(|meta| Snapshot::of(&meta))).await;
        match now {
            Ok(Ok(now)) if now == *opened => Ok(()),
            Ok(Ok(now)) => Err(SourceChanged {
                path: path.display().to_string(),
                was: opened.len,
                now: now.len,
                modified: now.modified != opened.modified,
            }),
            // The handle can no longer be inspected; the reads will tell.
            _ => Ok(()),
        }
    }

    /// Whether any range can be read again (true for files).
    pub(crate) fn is_rewindable(&self) -> bool {
        matches!(self.kind, Kind::File { .. })
    }

    /// Whether `range` can still be read from its start.
    pub(crate) async fn can_read_from(&self, range: &Range<u64>) -> bool {
        match &self.kind {
            Kind::File { .. } => true,
            Kind::Reader(reader) => reader.lock().await.position == range.start,
        }
    }

    /// The bytes of `range`, in chunks of at most the pool's buffer size.
    pub(crate) fn stream_range(
        &self,
        range: Range<u64>,
        pool: Arc<BufferPool>,
    ) -> BoxStream<'static, io::Result<Bytes>> {
        let chunk = pool.size() as u64;
        match &self.kind {
            Kind::File { file, .. } => {
                let file = Arc::clone(file);
                stream::try_unfold(range, move |range| {
                    let file = Arc::clone(&file);
                    let lease = pool.lease();
                    async move {
                        if range.is_empty() {
                            return Ok(None);
                        }
                        let len = chunk.min(range.end - range.start);
                        let at = range.start;
                        let bytes = tokio::task::spawn_blocking(move || read_at(&file, at, lease, len))
                            .await
                            .map_err(io::Error::other)??;
                        Ok(Some((bytes, at + len..range.end)))
                    }
                })
                .boxed()
            }
            Kind::Reader(reader) => {
                let reader = Arc::clone(reader);
                stream::try_unfold(range, move |range| {
                    let reader = Arc::clone(&reader);
                    let lease = pool.lease();
                    async move {
                        if range.is_empty() {
                            return Ok(None);
                        }
                        let len = chunk.min(range.end - range.start);
                        let bytes = reader.lock().await.read(range.start, lease, len).await?;
                        Ok(Some((bytes, range.start + len..range.end)))
                    }
                })
                .boxed()
            }
        }
    }
}

impl fmt::Debug for UploadSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = f.debug_struct("UploadSource");
        match &self.kind {
            Kind::File { path, .. } => out.field("path", path),
            Kind::Reader(_) => out.field("reader", &"AsyncRead"),
        };
        out.field("len", &self.len).finish()
    }
}

impl SequentialReader {
    /// Exactly `len` bytes (at most the lease's size) that must start at `at`.
    async fn read(&mut self, at: u64, mut lease: Lease, len: u64) -> io::Result<Bytes> {
        if self.position != at {
            return Err(io::Error::other(format!(
                "the reader is at byte {} and cannot go back to byte {at}",
                self.position
            )));
        }
        let len = len as usize;
        let buf = &mut lease.as_mut_slice()[..len];
        let mut filled = 0;
        while filled < len {
            let n = self.reader.read(&mut buf[filled..]).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the reader ended after {} bytes", self.position),
                ));
            }
            filled += n;
            self.position += n as u64;
        }
        Ok(lease.into_bytes(len))
    }
}

/// Exactly `len` bytes (at most the lease's size) of `file` from offset `at`.
fn read_at(file: &File, at: u64, mut lease: Lease, len: u64) -> io::Result<Bytes> {
    let len = len as usize;
    let buf = &mut lease.as_mut_slice()[..len];
    let mut filled = 0;
    while filled < len {
        match pread(file, &mut buf[filled..], at + filled as u64) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("the file ended at byte {}", at + filled as u64),
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(lease.into_bytes(len))
}

#[cfg(unix)]
fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    async fn collect(source: &UploadSource, range: Range<u64>, chunk: usize) -> io::Result<Vec<Bytes>> {
        source.stream_range(range, BufferPool::new(chunk, 2)).try_collect().await
    }

    #[tokio::test]
    async fn file_ranges_read_in_bounded_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.bin");
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();

        let source = UploadSource::open(&path).await.unwrap();
        assert_eq!(source.len(), 10_000);
        assert_eq!(source.path(), Some(path.as_path()));
        assert!(source.is_rewindable());

        let chunks = collect(&source, 1_000..3_500, 1_024).await.unwrap();
        let sizes: Vec<_> = chunks.iter().map(Bytes::len).collect();
        assert_eq!(sizes, [1_024, 1_024, 452]);
        assert_eq!(chunks.concat(), &data[1_000..3_500]);
        // Read again: positional reads have no cursor to rewind.
        assert_eq!(collect(&source, 1_000..3_500, 700).await.unwrap().concat(), &data[1_000..3_500]);
        assert!(collect(&source, 5..5, 10).await.unwrap().is_empty());

        let past_end = collect(&source, 9_000..11_000, 4_096).await.unwrap_err();
        assert_eq!(past_end.kind(), io::ErrorKind::UnexpectedEof);
        assert!(UploadSource::open(dir.path()).await.is_err(), "a directory is no source");
    }

    #[tokio::test]
    async fn readers_go_forward_only() {
        let data: Vec<u8> = (0..100u8).collect();
        let source = UploadSource::from_reader(io::Cursor::new(data.clone()), 100);
        assert!(!source.is_rewindable());
        assert!(source.path().is_none());
        assert!(source.can_read_from(&(0..40)).await);
        assert_eq!(collect(&source, 0..40, 16).await.unwrap().concat(), &data[..40]);
        assert!(!source.can_read_from(&(0..40)).await);
        assert!(collect(&source, 0..40, 16).await.is_err(), "cannot go back");
        assert_eq!(collect(&source, 40..100, 7).await.unwrap().concat(), &data[40..]);

        let short = UploadSource::from_reader(io::Cursor::new(vec![1u8; 10]), 20);
        let err = collect(&short, 0..20, 8).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("after 10 bytes"), "{err}");
    }
}
