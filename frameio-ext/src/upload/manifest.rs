//! Upload manifests: what an interrupted upload leaves on disk so that a later
//! process can finish it while its pre-signed URLs are valid: which file (path,
//! length, modification time), the media type and URLs it was signed for, the
//! parts storage accepted (with their `ETag`s), and a caller's context (the
//! transfer jobs keep the created Frame.io file there).
//!
//! The URLs are credentials, so the manifest is written readable by its owner
//! only (mode 0600 on Unix), replaced atomically (a temporary file renamed over
//! it), and never shown by `Debug`. Anything that does not read back as a
//! manifest of this version is an error saying so, never a guess.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::plan::UploadUrl;
use super::source::UploadSource;

/// The manifest format this version reads and writes.
const VERSION: u32 = 1;

/// The largest manifest read back (10,000 parts with long URLs fit easily).
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// Why a manifest cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Reading or writing it failed.
    #[error("upload manifest {}: {source}", .path.display())]
    Io {
        /// The manifest.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
    /// There is none at this path.
    #[error("there is no upload manifest at {}", .path.display())]
    Missing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// It is not a manifest of this version.
    #[error("{} is not an upload manifest this version can read ({reason}); start the upload over", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file it is for is not the one given, or it changed since.
    #[error("upload manifest {} is for {was}, not {now}: start the upload over", .path.display())]
    OtherSource {
        /// The manifest.
        path: PathBuf,
        /// The source it records.
        was: String,
        /// The source given.
        now: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SourceId {
    path: Option<String>,
    len: u64,
    /// Modification time: seconds and nanoseconds since the Unix epoch.
    modified: Option<(u64, u32)>,
}

impl SourceId {
    fn of(source: &UploadSource) -> Self {
        let modified =
            source.modified().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| (d.as_secs(), d.subsec_nanos()));
        Self { path: source.path().map(|p| p.display().to_string()), len: source.len(), modified }
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.as_deref().unwrap_or("a reader");
        let modified = self.modified.map(|(s, n)| UNIX_EPOCH + Duration::new(s, n));
        match modified.map(httpdate::fmt_http_date) {
            Some(at) => write!(f, "{path} ({} bytes, modified {at})", self.len),
            None => write!(f, "{path} ({} bytes)", self.len),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredUrl {
    size: Option<u64>,
    url: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredPart {
    number: usize,
    etag: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    version: u32,
    source: SourceId,
    media_type: String,
    urls: Vec<StoredUrl>,
    completed: Vec<StoredPart>,
    #[serde(default)]
    context: serde_json::Value,
}

/// What an upload in progress has done: enough for [`Uploader::resume`] to
/// send only the parts storage has not accepted.
///
/// [`Uploader::resume`]: super::Uploader::resume
///
/// ```no_run
/// use frameio_ext::upload::UploadManifest;
///
/// # fn run() -> Result<(), frameio_ext::upload::ManifestError> {
/// let manifest = UploadManifest::load("clip.mov.upload.json")?;
/// println!("{} of {} parts accepted", manifest.completed_parts().len(), manifest.urls().len());
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq)]
pub struct UploadManifest {
    source: SourceId,
    media_type: String,
    urls: Vec<UploadUrl>,
    completed: BTreeMap<usize, Option<String>>,
    context: serde_json::Value,
}

impl fmt::Debug for UploadManifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The context may hold the URLs too (a created file's `upload_urls`).
        f.debug_struct("UploadManifest")
            .field("source", &self.source)
            .field("media_type", &self.media_type)
            .field("urls", &self.urls)
            .field("completed", &self.completed)
            .finish_non_exhaustive()
    }
}

impl UploadManifest {
    /// A manifest for an upload of `source` to `urls`, nothing accepted yet.
    pub(crate) fn new(source: &UploadSource, media_type: &str, urls: &[UploadUrl], context: serde_json::Value) -> Self {
        Self {
            source: SourceId::of(source),
            media_type: media_type.to_owned(),
            urls: urls.to_vec(),
            completed: BTreeMap::new(),
            context,
        }
    }

    /// Reads the manifest at `path`.
    ///
    /// # Errors
    /// [`ManifestError::Missing`] when there is none, [`ManifestError::Invalid`]
    /// when it is not a manifest this version reads, [`ManifestError::Io`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let path = path.as_ref();
        let io_error = |source| ManifestError::Io { path: path.to_path_buf(), source };
        let invalid = |reason: String| ManifestError::Invalid { path: path.to_path_buf(), reason };
        let bytes = match std::fs::metadata(path) {
            Ok(meta) if meta.len() > MAX_BYTES => return Err(invalid(format!("it is over {MAX_BYTES} bytes"))),
            Ok(_) => std::fs::read(path).map_err(io_error)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(ManifestError::Missing { path: path.to_path_buf() });
            }
            Err(e) => return Err(io_error(e)),
        };
        let stored: Stored = serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        if stored.version != VERSION {
            return Err(invalid(format!("version {}, this one reads {VERSION}", stored.version)));
        }
        let count = stored.urls.len();
        let mut completed = BTreeMap::new();
        for part in stored.completed {
            if part.number == 0 || part.number > count {
                return Err(invalid(format!("part {} of {count} is listed as accepted", part.number)));
            }
            completed.insert(part.number, part.etag);
        }
        Ok(Self {
            source: stored.source,
            media_type: stored.media_type,
            urls: stored.urls.into_iter().map(|u| UploadUrl { size: u.size, url: u.url }).collect(),
            completed,
            context: stored.context,
        })
    }

    /// Writes the manifest to `path` atomically, readable by its owner only.
    pub(crate) fn save(&self, path: &Path) -> Result<(), ManifestError> {
        let stored = Stored {
            version: VERSION,
            source: self.source.clone(),
            media_type: self.media_type.clone(),
            urls: self.urls.iter().map(|u| StoredUrl { size: u.size, url: u.url.clone() }).collect(),
            completed: self.completed.iter().map(|(n, etag)| StoredPart { number: *n, etag: etag.clone() }).collect(),
            context: self.context.clone(),
        };
        let io_error = |source| ManifestError::Io { path: path.to_path_buf(), source };
        let json = serde_json::to_vec(&stored).map_err(|e| io_error(io::Error::other(e)))?;
        let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".tmp");
        let tmp = path.with_file_name(name);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(io_error)?;
        file.write_all(&json).and_then(|()| file.sync_all()).map_err(io_error)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(io_error)
    }

    /// Records that storage accepted part `number` (1-based).
    pub(crate) fn record(&mut self, number: usize, etag: Option<String>) {
        self.completed.insert(number, etag);
    }

    /// Checks that `source` is the file this manifest is for, unchanged.
    pub(crate) fn check_source(&self, path: &Path, source: &UploadSource) -> Result<(), ManifestError> {
        let now = SourceId::of(source);
        if now == self.source && now.path.is_some() {
            return Ok(());
        }
        Err(ManifestError::OtherSource { path: path.to_path_buf(), was: self.source.to_string(), now: now.to_string() })
    }

    /// The pre-signed URLs the upload was given, in order.
    pub fn urls(&self) -> &[UploadUrl] {
        &self.urls
    }

    /// The media type the URLs were signed for.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// The 1-based numbers of the parts storage accepted, in order.
    pub fn completed_parts(&self) -> Vec<usize> {
        self.completed.keys().copied().collect()
    }

    /// Storage's `ETag` for an accepted part.
    pub fn etag(&self, number: usize) -> Option<&str> {
        self.completed.get(&number).and_then(|e| e.as_deref())
    }

    /// The caller's context, as given when the upload started.
    pub(crate) fn context(&self) -> &serde_json::Value {
        &self.context
    }
}

/// A caller's context stored with a manifest; `Debug` does not show it (it
/// may hold the upload URLs).
#[derive(Clone, Default, PartialEq)]
pub(crate) struct Context(pub(crate) serde_json::Value);

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_null() { "none" } else { "[context]" })
    }
}
