//! The resume sidecar: `<name>.part.json` next to `<name>.part`, saying which
//! remote file the partial download is of (URL without its query, length,
//! `ETag`) and which byte ranges of it are in place.
//!
//! It is replaced atomically (written to `<name>.part.json.tmp`, then renamed),
//! and only after the bytes it lists were written. Anything that does not
//! read back as a manifest of this version (a hand-edited, truncated or
//! foreign file) is ignored and the download starts over: a manifest only ever
//! saves work, it never decides what a file contains.

use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ranges::RangeSet;

/// The manifest format this version reads and writes.
const VERSION: u32 = 1;

/// The largest manifest read back; a real one is a few hundred bytes.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// The most ranges a manifest may list (a download's ranges merge as they
/// complete, so a real one holds a handful).
const MAX_RANGES: usize = 100_000;

/// `<name>.part`: where the bytes of `dest` go until every one has arrived.
pub(crate) fn part_path(dest: &Path) -> PathBuf {
    with_suffix(dest, ".part")
}

/// `<name>.part.json`: the resume manifest of `dest`.
pub(crate) fn manifest_path(dest: &Path) -> PathBuf {
    with_suffix(dest, ".part.json")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

#[derive(Debug, Serialize, Deserialize)]
struct Stored {
    version: u32,
    url: String,
    size: u64,
    etag: Option<String>,
    completed: Vec<[u64; 2]>,
}

/// What a partial download holds: which remote file, and which of its bytes.
///
/// ```no_run
/// use frameio_ext::download::DownloadManifest;
///
/// # fn run() -> std::io::Result<()> {
/// if let Some(manifest) = DownloadManifest::load_for("A001_C003.mov")? {
///     println!("{} of {} bytes in place", manifest.bytes_completed(), manifest.size());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DownloadManifest {
    url: String,
    size: u64,
    etag: Option<String>,
    completed: RangeSet,
}

impl DownloadManifest {
    pub(crate) fn new(url: &str, size: u64, etag: Option<String>, completed: RangeSet) -> Self {
        Self { url: url.to_owned(), size, etag, completed }
    }

    /// The manifest of a partial download of `dest` (`<dest>.part.json`), if
    /// there is a valid one.
    ///
    /// # Errors
    /// The file exists but cannot be read.
    pub fn load_for(dest: impl AsRef<Path>) -> io::Result<Option<Self>> {
        Self::load(&manifest_path(dest.as_ref()))
    }

    /// Reads the manifest at `path`: `None` if there is none, or if it is not
    /// a valid manifest of this version.
    pub(crate) fn load(path: &Path) -> io::Result<Option<Self>> {
        let bytes = match std::fs::metadata(path) {
            Ok(meta) if meta.len() > MAX_BYTES => return Ok(None),
            Ok(_) => std::fs::read(path)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(serde_json::from_slice::<Stored>(&bytes).ok().and_then(Self::from_stored))
    }

    fn from_stored(stored: Stored) -> Option<Self> {
        if stored.version != VERSION || stored.completed.len() > MAX_RANGES {
            return None;
        }
        let mut completed = RangeSet::new();
        for [start, end] in stored.completed {
            if start >= end || end > stored.size {
                return None;
            }
            completed.insert(start..end);
        }
        Some(Self { url: stored.url, size: stored.size, etag: stored.etag, completed })
    }

    /// Writes the manifest to `path` atomically (a temporary file renamed over it).
    pub(crate) fn save(&self, path: &Path) -> io::Result<()> {
        let stored = Stored {
            version: VERSION,
            url: self.url.clone(),
            size: self.size,
            etag: self.etag.clone(),
            completed: self.completed.ranges().iter().map(|r| [r.start, r.end]).collect(),
        };
        let json = serde_json::to_vec(&stored).map_err(io::Error::other)?;
        let tmp = with_suffix(path, ".tmp");
        std::fs::write(&tmp, json)?;
        std::fs::rename(&tmp, path)
    }

    /// The remote file's URL: scheme, host and path (never its query).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The remote file's length.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The remote file's `ETag`, if storage gave one.
    pub fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// The byte ranges in place, in order.
    pub fn completed(&self) -> &[Range<u64>] {
        self.completed.ranges()
    }

    /// How many bytes are in place.
    pub fn bytes_completed(&self) -> u64 {
        self.completed.covered()
    }

    pub(crate) fn coverage(&self) -> &RangeSet {
        &self.completed
    }

    /// The same manifest, trusting no range past `len` (the partial file's
    /// length: bytes past its end are certainly not there).
    pub(crate) fn within(mut self, len: u64) -> Self {
        self.completed = self.completed.below(len);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecars_sit_next_to_the_destination() {
        assert_eq!(part_path(Path::new("/m/clip.mov")), Path::new("/m/clip.mov.part"));
        assert_eq!(manifest_path(Path::new("clip")), Path::new("clip.part.json"));
    }

    #[test]
    fn a_manifest_round_trips_and_a_bad_one_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.part.json");
        let mut done = RangeSet::new();
        done.insert(0..10);
        done.insert(20..30);
        let manifest = DownloadManifest::new("https://s3.example/k", 40, Some("\"e\"".into()), done);
        manifest.save(&path).unwrap();
        assert_eq!(DownloadManifest::load(&path).unwrap(), Some(manifest.clone()));
        assert_eq!(manifest.bytes_completed(), 20);
        assert!(!dir.path().join("x.part.json.tmp").exists(), "the temporary file was renamed");
        assert!(!std::fs::read_to_string(&path).unwrap().contains('?'));

        for bad in [
            "not json",
            r#"{"version": 2, "url": "u", "size": 4, "etag": null, "completed": []}"#,
            r#"{"version": 1, "url": "u", "size": 4, "etag": null, "completed": [[2, 9]]}"#,
            r#"{"version": 1, "url": "u", "size": 4, "etag": null, "completed": [[3, 3]]}"#,
        ] {
            std::fs::write(&path, bad).unwrap();
            assert_eq!(DownloadManifest::load(&path).unwrap(), None, "{bad}");
        }
        assert_eq!(DownloadManifest::load(&dir.path().join("none.json")).unwrap(), None);
    }
}
