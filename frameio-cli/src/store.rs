//! Where a sign-in (and the webhook secrets `fio` created) live between runs.
//!
//! Two files in the config directory (`FIO_CONFIG_DIR`, else the platform's
//! config dir + `fio`: `~/.config/fio` on Linux) say what the sign-in is:
//!
//! * `session.json`: no secret; the kind of sign-in (IMS or a token), the IMS
//!   client id and URL, the API base URL, and which backend holds the tokens;
//! * the tokens themselves (the `TokenSet` JSON the SDKs export) in the OS
//!   keychain (macOS Keychain, Windows Credential Manager, the Secret Service
//!   on Linux and the BSDs) when one answers, else in `credentials.json`.
//!
//! Every file is written whole to a temporary file created `0600` (owner
//! only) in a `0700` directory, then renamed over the old one, so a crash
//! leaves the old file or the new one, never half of one, and no other user
//! can read a token at any point.
//!
//! `FIO_CREDENTIAL_STORE=keychain|file` forces a backend (`auto`, the
//! default, tries the keychain and falls back to the file, saying so).
//! Keychain entries are named after the config directory, so two
//! `FIO_CONFIG_DIR`s are two independent sign-ins.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use frameio_ext::auth::TokenSet;
use serde::{Deserialize, Serialize};

use crate::error::{Failure, Result};

/// The keychain service name of every entry `fio` keeps.
const SERVICE: &str = "frameio-cli";
/// How long a keychain call may take (an unlock prompt included).
const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest file of ours that is read (a sign-in is a few KB).
const MAX_FILE: u64 = 1024 * 1024;

/// Which backend holds the secrets of a sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// The OS keychain.
    Keychain,
    /// `credentials.json` (and `webhook-secrets.json`), mode 0600.
    File,
}

impl Backend {
    /// For messages.
    pub fn describe(self, paths: &Paths) -> String {
        match self {
            Backend::Keychain => "the OS keychain".to_string(),
            Backend::File => format!("{} (mode 0600)", paths.credentials().display()),
        }
    }
}

/// Where secrets should go: `FIO_CREDENTIAL_STORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preference {
    /// The keychain if it answers, else the file.
    Auto,
    /// The keychain only (an error if it does not answer).
    Keychain,
    /// The file only.
    File,
}

/// How the stored tokens were obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An IMS PKCE sign-in: renewed with its refresh token.
    Ims,
    /// A token given to `fio login --token`: used until Frame.io rejects it.
    Token,
}

/// `session.json`: what the sign-in is, without its secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// How the tokens were obtained.
    pub kind: Kind,
    /// Where they are.
    pub store: Backend,
    /// A legacy developer token (sent with `x-frameio-legacy-token-auth`).
    #[serde(default)]
    pub legacy: bool,
    /// The API base URL signed in to (`None`: Frame.io's).
    #[serde(default)]
    pub base_url: Option<String>,
    /// IMS: the credential's client id.
    #[serde(default)]
    pub client_id: Option<String>,
    /// IMS: its base URL (`None`: Adobe's production IMS).
    #[serde(default)]
    pub ims_url: Option<String>,
    /// IMS: the redirect URI the sign-in used (the provider needs one).
    #[serde(default)]
    pub redirect_uri: Option<String>,
    /// IMS: the scopes asked for (`None`: the defaults).
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
}

/// The config directory's files.
#[derive(Debug, Clone)]
pub struct Paths {
    dir: PathBuf,
}

impl Paths {
    /// `FIO_CONFIG_DIR`, else the platform's config directory + `fio`.
    pub fn locate() -> Result<Self> {
        if let Some(dir) = std::env::var_os("FIO_CONFIG_DIR").filter(|d| !d.is_empty()) {
            return Ok(Self { dir: PathBuf::from(dir) });
        }
        dirs::config_dir()
            .map(|dir| Self { dir: dir.join("fio") })
            .ok_or_else(|| Failure::local("no config directory is known for this user: set FIO_CONFIG_DIR"))
    }

    fn session(&self) -> PathBuf {
        self.dir.join("session.json")
    }

    /// The tokens, when they are kept in a file.
    pub fn credentials(&self) -> PathBuf {
        self.dir.join("credentials.json")
    }

    fn webhook_secrets(&self) -> PathBuf {
        self.dir.join("webhook-secrets.json")
    }

    /// Where interrupted uploads keep their manifests (pre-signed URLs, so
    /// private), created `0700` if need be.
    pub fn resume_dir(&self) -> Result<PathBuf> {
        let dir = self.dir.join("resume");
        private_dir(&dir)?;
        Ok(dir)
    }

    /// The keychain account of an entry, unique to this config directory.
    fn account(&self, name: &str) -> String {
        format!("{name}@{}", self.dir.display())
    }
}

/// Reads and writes the sign-in and secrets.
#[derive(Debug, Clone)]
pub struct Vault {
    paths: Paths,
    preference: Preference,
}

impl Vault {
    /// The vault of these paths.
    pub fn new(paths: Paths, preference: Preference) -> Self {
        Self { paths, preference }
    }

    /// Its paths.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The stored sign-in, if any.
    pub async fn load(&self) -> Result<Option<(Session, TokenSet)>> {
        let Some(text) = read_optional(&self.paths.session())? else { return Ok(None) };
        let session: Session = serde_json::from_str(&text).map_err(|e| {
            Failure::local(format!(
                "{} is damaged ({e}); run `fio logout`, then `fio login`",
                self.paths.session().display()
            ))
        })?;
        let secret = match session.store {
            Backend::Keychain => keychain_get(self.paths.account("session")).await?,
            Backend::File => read_optional(&self.paths.credentials())?,
        };
        let Some(secret) = secret else {
            return Err(Failure::auth(format!(
                "the stored sign-in has no tokens in {}; run `fio login`",
                session.store.describe(&self.paths)
            )));
        };
        let tokens: TokenSet = serde_json::from_str(&secret).map_err(|_| {
            Failure::auth(format!(
                "the stored tokens in {} cannot be read; run `fio login`",
                session.store.describe(&self.paths)
            ))
        })?;
        Ok(Some((session, tokens)))
    }

    /// Stores a new sign-in, replacing any other; `session.store` is set to
    /// the backend that took the tokens.
    pub async fn save(&self, session: &mut Session, tokens: &TokenSet) -> Result<()> {
        let previous = self.load_session_only().ok().flatten();
        let secret = secret_json(tokens)?;
        session.store = match self.preference {
            Preference::File => Backend::File,
            Preference::Keychain => {
                keychain_set(self.paths.account("session"), secret.clone()).await?;
                Backend::Keychain
            }
            Preference::Auto => match keychain_set(self.paths.account("session"), secret.clone()).await {
                Ok(()) => Backend::Keychain,
                Err(why) => {
                    tracing::info!(reason = %why, "the OS keychain is not available; keeping the tokens in a file");
                    Backend::File
                }
            },
        };
        if session.store == Backend::File {
            write_private(&self.paths.credentials(), secret.as_bytes())?;
        }
        let text = serde_json::to_string_pretty(session).map_err(|e| Failure::internal(e.to_string()))?;
        write_private(&self.paths.session(), text.as_bytes())?;
        // Leave no copy of the tokens in the backend not used now.
        match session.store {
            Backend::Keychain => remove_file(&self.paths.credentials())?,
            Backend::File if previous.is_some_and(|p| p.store == Backend::Keychain) => {
                let _ = keychain_delete(self.paths.account("session")).await;
            }
            Backend::File => {}
        }
        Ok(())
    }

    /// Replaces the tokens of the stored sign-in (after IMS renewed them).
    pub async fn update_tokens(&self, session: &Session, tokens: &TokenSet) -> Result<()> {
        let secret = secret_json(tokens)?;
        match session.store {
            Backend::Keychain => keychain_set(self.paths.account("session"), secret).await,
            Backend::File => write_private(&self.paths.credentials(), secret.as_bytes()),
        }
    }

    /// Forgets the sign-in; whether there was one.
    pub async fn clear(&self) -> Result<bool> {
        let session = self.load_session_only().ok().flatten();
        if session.as_ref().is_some_and(|s| s.store == Backend::Keychain)
            && let Err(why) = keychain_delete(self.paths.account("session")).await
        {
            // The sign-in is forgotten all the same: its session file goes.
            tracing::warn!(reason = %why, "could not remove the tokens from the OS keychain");
        }
        let had_file = self.paths.credentials().exists();
        remove_file(&self.paths.credentials())?;
        remove_file(&self.paths.session())?;
        Ok(session.is_some() || had_file)
    }

    fn load_session_only(&self) -> Result<Option<Session>> {
        Ok(read_optional(&self.paths.session())?.and_then(|text| serde_json::from_str(&text).ok()))
    }

    /// Keeps a webhook's signing secret; where it went, for people.
    pub async fn save_webhook_secret(&self, webhook_id: &str, secret: &str) -> Result<String> {
        let account = self.paths.account(&format!("webhook:{webhook_id}"));
        if self.preference != Preference::File {
            match keychain_set(account, secret.to_string()).await {
                Ok(()) => return Ok(Backend::Keychain.describe(&self.paths)),
                Err(why) if self.preference == Preference::Auto => {
                    tracing::info!(reason = %why, "the OS keychain is not available; keeping the secret in a file");
                }
                Err(why) => return Err(why),
            }
        }
        let mut secrets = self.webhook_secrets()?;
        secrets.insert(webhook_id.to_string(), secret.to_string());
        let text = serde_json::to_string_pretty(&secrets).map_err(|e| Failure::internal(e.to_string()))?;
        write_private(&self.paths.webhook_secrets(), text.as_bytes())?;
        Ok(format!("{} (mode 0600)", self.paths.webhook_secrets().display()))
    }

    /// Forgets a webhook's secret, wherever it is.
    pub async fn remove_webhook_secret(&self, webhook_id: &str) -> Result<()> {
        if self.preference != Preference::File {
            let _ = keychain_delete(self.paths.account(&format!("webhook:{webhook_id}"))).await;
        }
        let mut secrets = self.webhook_secrets()?;
        if secrets.remove(webhook_id).is_some() {
            let text = serde_json::to_string_pretty(&secrets).map_err(|e| Failure::internal(e.to_string()))?;
            write_private(&self.paths.webhook_secrets(), text.as_bytes())?;
        }
        Ok(())
    }

    fn webhook_secrets(&self) -> Result<BTreeMap<String, String>> {
        let path = self.paths.webhook_secrets();
        match read_optional(&path)? {
            None => Ok(BTreeMap::new()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| Failure::local(format!("{} is damaged ({e}); fix or remove it", path.display()))),
        }
    }
}

fn secret_json(tokens: &TokenSet) -> Result<String> {
    serde_json::to_string(tokens).map_err(|e| Failure::internal(format!("could not encode the tokens: {e}")))
}

/// A file's text, `None` if it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>> {
    use std::io::Read as _;
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Failure::local(format!("{}: {e}", path.display()))),
    };
    let mut text = String::new();
    file.take(MAX_FILE).read_to_string(&mut text).map_err(|e| Failure::local(format!("{}: {e}", path.display())))?;
    Ok(Some(text))
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Failure::local(format!("{}: {e}", path.display()))),
    }
}

/// Writes `bytes` to `path` through a private temporary file and a rename.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |e: std::io::Error, p: &Path| Failure::local(format!("{}: {e}", p.display()));
    let dir = path.parent().ok_or_else(|| Failure::internal("a config file without a directory"))?;
    private_dir(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = (|| {
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io(e, path));
    }
    Ok(())
}

/// Creates `dir` (and its parents) readable by the owner only, if missing.
fn private_dir(dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| Failure::local(format!("{}: {e}", dir.display())))
}

/// Whether this platform has a keychain `keyring` was built with (elsewhere
/// it would silently use an in-memory mock).
const HAS_KEYCHAIN: bool = cfg!(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "windows",
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd"
));

/// Runs a keychain call on its own thread, inside the runtime (the Secret
/// Service client needs one, and deadlocks on a runtime thread), with a
/// timeout; a call left hanging dies with the process.
async fn keychain<T: Send + 'static>(
    account: String,
    call: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
) -> Result<T> {
    if !HAS_KEYCHAIN {
        return Err(Failure::local("this platform has no OS keychain fio can use"));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Handle::current();
    std::thread::spawn(move || {
        let _entered = runtime.enter();
        let outcome = keyring::Entry::new(SERVICE, &account).and_then(|entry| call(&entry));
        let _ = tx.send(outcome);
    });
    let why = |e: keyring::Error| {
        Failure::local(format!("the OS keychain refused ({e}); --credential-store file keeps secrets in a 0600 file"))
    };
    match tokio::time::timeout(KEYCHAIN_TIMEOUT, rx).await {
        Ok(Ok(outcome)) => outcome.map_err(why),
        Ok(Err(_)) => Err(Failure::local("the OS keychain call failed")),
        Err(_) => Err(Failure::local(format!(
            "the OS keychain did not answer within {} s; set FIO_CREDENTIAL_STORE=file to keep secrets in a file",
            KEYCHAIN_TIMEOUT.as_secs()
        ))),
    }
}

async fn keychain_get(account: String) -> Result<Option<String>> {
    keychain(account, |entry| match entry.get_password() {
        Ok(secret) => Ok(Some(secret)),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(e),
    })
    .await
}

async fn keychain_set(account: String, secret: String) -> Result<()> {
    keychain(account, move |entry| entry.set_password(&secret)).await
}

async fn keychain_delete(account: String) -> Result<()> {
    keychain(account, |entry| match entry.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(e),
    })
    .await
}
