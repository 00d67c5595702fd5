//! Where a device keeps its tokens across restarts: the [`TokenStore`] the
//! [`DeviceTokenProvider`](super::DeviceTokenProvider) saves every new pair
//! of tokens to, and [`FileTokenStore`], which writes them crash-safely.
//!
//! Saving is not optional housekeeping: refresh tokens are single-use, so
//! "failing to capture the refresh response—whether due to network
//! interruption or system shutdown—necessitates reinitiating the complete
//! authentication/authorization sequence" (Manage Authorization > Handling
//! Failed Refresh Responses). A store must therefore never leave a torn file
//! behind: after a crash it holds either the old tokens or the new ones.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::auth::TokenSet;

/// Keeps a device's tokens; called by the provider after every pairing and
/// refresh, from a blocking thread.
///
/// Any `Fn(&TokenSet) -> io::Result<()>` is a store, e.g. one writing to
/// the platform keychain:
///
/// ```
/// use frameio_ext::TokenSet;
/// use frameio_ext::c2c::TokenStore;
///
/// fn keychain_store() -> impl TokenStore {
///     |tokens: &TokenSet| -> std::io::Result<()> {
///         let _json = serde_json::to_string(tokens)?; // hand it to the keychain
///         Ok(())
///     }
/// }
/// # let _ = keychain_store();
/// ```
pub trait TokenStore: Send + Sync + 'static {
    /// Stores `tokens` in place of the previous ones. It must not report
    /// success before they would survive a power cut.
    fn save(&self, tokens: &TokenSet) -> io::Result<()>;

    /// Forgets the stored tokens (after a revocation). Does nothing by default.
    fn clear(&self) -> io::Result<()> {
        Ok(())
    }
}

impl<F> TokenStore for F
where
    F: Fn(&TokenSet) -> io::Result<()> + Send + Sync + 'static,
{
    fn save(&self, tokens: &TokenSet) -> io::Result<()> {
        self(tokens)
    }
}

/// Tokens in a JSON file, replaced atomically: each save writes a new file
/// beside it, flushes it to disk, renames it over the old one and flushes the
/// directory, so a crash at any point leaves the old tokens or the new ones,
/// never a mix. On Unix the file is readable by its owner only ("Restrict
/// token visibility and access exclusively to application processes").
///
/// Keep it apart from the `client_secret`, as the guide advises: losing the
/// tokens costs a new pairing, losing the secret the device.
///
/// ```no_run
/// use frameio_ext::c2c::FileTokenStore;
///
/// let store = FileTokenStore::new("/var/lib/recorder/frameio-tokens.json");
/// match store.load()? {
///     Some(tokens) => println!("paired; the access token expires at {:?}", tokens.expires_at()),
///     None => println!("not paired yet"),
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct FileTokenStore {
    path: PathBuf,
}

impl FileTokenStore {
    /// A store at `path` (its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the tokens are kept.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored tokens; `None` when nothing was stored yet.
    ///
    /// # Errors
    /// The file cannot be read, or does not hold tokens.
    pub fn load(&self) -> io::Result<Option<TokenSet>> {
        let bytes = match fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        // serde_json's message can quote the file, tokens included: only
        // where it went wrong is reported.
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            let what = match e.classify() {
                serde_json::error::Category::Eof => "it ends early",
                serde_json::error::Category::Syntax => "it is not JSON",
                serde_json::error::Category::Data | serde_json::error::Category::Io => "it does not hold tokens",
            };
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} holds no device tokens ({what}, at line {} column {}); pair the device again or restore the file",
                    self.path.display(),
                    e.line(),
                    e.column()
                ),
            )
        })
    }

    fn directory(&self) -> &Path {
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        }
    }

    fn write_new(&self, temporary: &Path, contents: &[u8]) -> io::Result<()> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(temporary, &self.path)?;
        sync_directory(self.directory())
    }
}

impl TokenStore for FileTokenStore {
    fn save(&self, tokens: &TokenSet) -> io::Result<()> {
        let contents = serde_json::to_vec_pretty(tokens)?;
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // Beside the target (a rename cannot cross file systems), and unique
        // so that concurrent saves never share a half-written file.
        let temporary = self.directory().join(format!(".{name}.{}.{:016x}.tmp", std::process::id(), fastrand::u64(..)));
        let written = self.write_new(&temporary, &contents);
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written
    }

    fn clear(&self) -> io::Result<()> {
        match fs::remove_file(&self.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => sync_directory(self.directory()),
        }
    }
}

impl fmt::Debug for FileTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileTokenStore").field("path", &self.path).finish()
    }
}

/// Makes a rename or removal in `dir` durable.
#[cfg(unix)]
fn sync_directory(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Windows cannot open a directory as a file; `MoveFileEx` is durable enough.
#[cfg(not(unix))]
fn sync_directory(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_file_is_reported_by_position_not_by_its_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        for corrupt in [
            r#"{"access_token": "at-s3cret", "refresh_token": 42}"#,
            r#"{"access_token": "at-s3cret", "refresh_token": "rt-s3cret""#,
            "at-s3cret rt-s3cret",
        ] {
            fs::write(&path, corrupt).unwrap();
            let error = FileTokenStore::new(&path).load().unwrap_err();
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("line 1 column"), "{shown}");
            assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        }
    }
}
