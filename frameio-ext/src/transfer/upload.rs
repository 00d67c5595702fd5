//! Frame.io uploads end to end: create the file (or comment attachment), stream its
//! bytes to the returned `upload_urls` with the [`Uploader`], and optionally wait
//! until Frame.io reports the upload complete. Also remote uploads (Frame.io pulls
//! a URL) and new versions of a file or version stack, each in one call.
//!
//! Every part is sent with the `Content-Type` of the file Frame.io created (its
//! `media_type`), which is what the pre-signed URLs are signed for; the type
//! guessed from the local name only goes into the creation request.
//!
//! A local upload given a manifest path can be resumed (see [`Uploads::local`]).
//!
//! ```no_run
//! use frameio_ext::transfer::{NewFile, WaitOptions};
//! use frameio_ext::upload::UploadOptions;
//!
//! # async fn run(client: frameio_ext::Client) -> frameio_ext::Result<()> {
//! let file = NewFile::open("A001_C003.mov").await?;
//! let uploaded = client.uploads().local("account", "folder", file, UploadOptions::new()).await?;
//! if let Some(id) = &uploaded.id {
//!     client.uploads().wait_until_uploaded("account", id, WaitOptions::new()).await?;
//! }
//! # Ok(()) }
//! ```

use std::path::Path;
use std::time::Duration;

use frameio_gen::v4::types;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncRead;
use tokio::time::Instant;

pub use crate::error::FileUploadError;
use crate::upload::{
    ManifestError, UploadErrorKind, UploadManifest, UploadOptions, UploadReport, UploadSource, UploadUrl, Uploader,
    guess_media_type,
};
use crate::{Client, Error, Result};

/// A file to upload: its bytes, the name it gets in Frame.io and its media type.
#[derive(Debug)]
pub struct NewFile {
    source: UploadSource,
    name: String,
    media_type: String,
}

impl NewFile {
    /// A local file, named after its file name, its media type guessed from the extension.
    ///
    /// # Errors
    /// [`Error::Io`] naming the path when it cannot be opened or is not a file.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let source = UploadSource::open(path)
            .await
            .map_err(|source| Error::Io { path: Some(path.display().to_string()), source })?;
        Ok(Self { media_type: guess_media_type(path).to_string(), source, name })
    }

    /// Any reader of known length (sent one part at a time); the media type is
    /// guessed from `name`.
    pub fn from_reader(reader: impl AsyncRead + Send + 'static, len: u64, name: impl Into<String>) -> Self {
        let name = name.into();
        Self { media_type: guess_media_type(&name).to_string(), source: UploadSource::from_reader(reader, len), name }
    }

    /// The name the file gets in Frame.io.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The media type, instead of the guess.
    pub fn media_type(mut self, media_type: impl Into<String>) -> Self {
        self.media_type = media_type.into();
        self
    }

    fn size(&self) -> i64 {
        i64::try_from(self.source.len()).unwrap_or(i64::MAX)
    }
}

/// What a local upload's manifest keeps besides the parts: where the file was
/// created, and Frame.io's answer (returned again when a resume completes it).
#[derive(Serialize, Deserialize)]
struct Job {
    account_id: String,
    folder_id: String,
    created: types::FileWithUploadUrls,
}

/// How [`Uploads::wait_until_uploaded`] and
/// [`Transfers::wait_until_transcoded`](super::Transfers::wait_until_transcoded) poll a file.
///
/// Intervals are at least [`WaitOptions::MIN_INTERVAL`]: a zero interval must not
/// turn a wait into a busy loop against the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    pub(super) timeout: Duration,
    pub(super) first_interval: Duration,
    pub(super) max_interval: Duration,
}

impl Default for WaitOptions {
    /// Polls after 1 s, doubling to every 15 s, for up to 30 minutes: a large
    /// file's server-side assembly takes minutes, and the status endpoint is
    /// limited to 5 calls per second per user, shared with every other upload.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30 * 60),
            first_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(15),
        }
    }
}

impl WaitOptions {
    /// The shortest wait between two polls, whatever is asked for.
    pub const MIN_INTERVAL: Duration = Duration::from_millis(100);

    /// The defaults: 1 s doubling to 15 s, for 30 minutes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Give up after this long.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The first wait; each next one doubles up to [`max_interval`](Self::max_interval).
    /// At least [`MIN_INTERVAL`](Self::MIN_INTERVAL).
    pub fn first_interval(mut self, interval: Duration) -> Self {
        self.first_interval = interval.max(Self::MIN_INTERVAL);
        self
    }

    /// The longest wait between two polls. At least [`MIN_INTERVAL`](Self::MIN_INTERVAL).
    pub fn max_interval(mut self, interval: Duration) -> Self {
        self.max_interval = interval.max(Self::MIN_INTERVAL);
        self
    }
}

/// Where a new version goes: on top of a file (a version stack is created) or of
/// an existing version stack.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VersionOf {
    /// A file not yet in a stack: the new file and it become a version stack.
    File(String),
    /// An existing version stack: the new file becomes its newest version.
    Stack(String),
}

/// Uploads through a [`Client`]; from [`Client::uploads`]. `Copy`, and its
/// methods take it by value, so `client.uploads().local(..)` is a future that
/// borrows only the client.
#[derive(Debug, Clone, Copy)]
pub struct Uploads<'a> {
    client: &'a Client,
    uploader: &'a Uploader,
}

impl Client {
    /// File uploads with this client's [`Uploader`].
    pub fn uploads(&self) -> Uploads<'_> {
        Uploads { client: self, uploader: self.uploader() }
    }
}

impl<'a> Uploads<'a> {
    /// Creates `file` in `folder_id` and sends its bytes; returns the created file
    /// once every part was accepted by storage (see [`Self::wait_until_uploaded`]).
    ///
    /// With a manifest ([`UploadOptions::manifest`]), an upload that was
    /// interrupted (cancelled, failed, or its process killed) is finished by
    /// the next call for the same file, folder and manifest path: only the
    /// parts storage lacks are sent, to the same Frame.io file. When its URLs
    /// have expired (or the local file changed since), the unfinished Frame.io
    /// file is deleted and a new upload starts.
    ///
    /// ```no_run
    /// use frameio_ext::transfer::NewFile;
    /// use frameio_ext::upload::UploadOptions;
    ///
    /// # async fn run(client: frameio_ext::Client) -> frameio_ext::Result<()> {
    /// // Run again after an interruption: it picks up where it stopped.
    /// let options = UploadOptions::new().manifest("A001_C003.mov.upload.json");
    /// let file = NewFile::open("A001_C003.mov").await?;
    /// let upload = client.uploads().local("account", "folder", file, options);
    /// let created = upload.await?; // the future borrows the client, not a temporary
    /// # let _ = created;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// An API error creating the file, or [`FileUploadError::Parts`] naming the
    /// file and the part that failed.
    pub async fn local(
        self,
        account_id: &str,
        folder_id: &str,
        file: NewFile,
        options: UploadOptions,
    ) -> Result<types::FileWithUploadUrls> {
        if let Some(manifest) = options.manifest_path().map(Path::to_path_buf)
            && let Some(resumed) = self.resume(&manifest, account_id, folder_id, &file, options.clone()).await
        {
            return resumed;
        }
        let body = types::FileCreateLocalUploadParams {
            data: types::FileCreateLocalUploadParamsData { file_size: file.size(), name: file.name.clone() },
        };
        let created = self
            .client
            .files_create_local_upload()
            .account_id(account_id)
            .folder_id(folder_id)
            .body(body)
            .send()
            .await?
            .data;
        let id = created.id.as_deref().ok_or(FileUploadError::IncompleteAnswer { what: "file", missing: "id" })?;
        // The URLs are signed for the type Frame.io gave the file, not the local
        // guess (which it has only when its answer leaves the type out).
        let media_type = created.media_type.as_deref().unwrap_or(&file.media_type);
        if media_type != file.media_type {
            tracing::debug!(created = media_type, guessed = %file.media_type, "sending the created file's media type");
        }
        let job =
            Job { account_id: account_id.to_string(), folder_id: folder_id.to_string(), created: created.clone() };
        let options = match serde_json::to_value(&job) {
            Ok(context) => options.context(context),
            Err(_) => options,
        };
        self.send_parts(id, &file, media_type, &urls_of(&created.upload_urls), options).await?;
        Ok(created)
    }

    /// Finishes the upload the manifest at `path` records, if it is of `file`
    /// into `folder_id`; `None` when there is nothing to resume and a new
    /// upload should start (no manifest, another job's, expired URLs, or a
    /// file changed since: then the unfinished Frame.io file is deleted).
    async fn resume(
        &self,
        path: &Path,
        account_id: &str,
        folder_id: &str,
        file: &NewFile,
        options: UploadOptions,
    ) -> Option<Result<types::FileWithUploadUrls>> {
        let manifest = match UploadManifest::load(path) {
            Ok(manifest) => manifest,
            Err(ManifestError::Missing { .. }) => return None,
            Err(e) => {
                tracing::info!(error = %e, "not resuming: starting a new upload");
                return None;
            }
        };
        let job = serde_json::from_value::<Job>(manifest.context().clone()).ok()?;
        let same_job = job.account_id == account_id
            && job.folder_id == folder_id
            && job.created.name.as_deref() == Some(file.name.as_str());
        let file_id = job.created.id.clone().filter(|_| same_job)?;
        match self.uploader.resume(&file.source, path, options).await {
            Ok(report) => {
                tracing::debug!(file_id, resumed_bytes = report.resumed_bytes, "upload resumed and completed");
                Some(Ok(job.created))
            }
            Err(e) if e.is_expired() || matches!(e.kind(), UploadErrorKind::Manifest(_)) => {
                tracing::warn!(file_id, reason = %e, "cannot resume the upload: starting a new one");
                if let Err(e) = self.client.files_delete().account_id(account_id).file_id(&file_id).send().await {
                    tracing::warn!(file_id, error = %e, "could not delete the unfinished file");
                }
                let _ = std::fs::remove_file(path);
                None
            }
            Err(e) => Some(Err(FileUploadError::Parts { file_id, source: Box::new(e) }.into())),
        }
    }

    /// Asks Frame.io to fetch `source_url` into `folder_id` as `name` (files up to
    /// 50 GB); returns the created file at once (see [`Self::wait_until_uploaded`]).
    ///
    /// # Errors
    /// An API error.
    pub async fn remote(self, account_id: &str, folder_id: &str, name: &str, source_url: &str) -> Result<types::File> {
        let body = types::FileCreateRemoteUploadParams {
            data: types::FileCreateRemoteUploadParamsData {
                name: name.to_string(),
                source_url: source_url.to_string(),
            },
        };
        let created = self
            .client
            .files_create_remote_upload()
            .account_id(account_id)
            .folder_id(folder_id)
            .body(body)
            .send()
            .await?;
        Ok(created.data)
    }

    /// Uploads `file` as the newest version of a file or version stack, in the
    /// same folder; returns the version stack.
    ///
    /// # Errors
    /// As [`Self::local`], plus API errors stacking the new file.
    pub async fn version(
        self,
        account_id: &str,
        of: VersionOf,
        file: NewFile,
        options: UploadOptions,
    ) -> Result<types::VersionStackWithIncludes> {
        match of {
            VersionOf::File(file_id) => {
                let existing = self.client.files_show().account_id(account_id).file_id(&file_id).send().await?;
                let folder_id = existing.data.parent_id.ok_or_else(|| {
                    Error::InvalidRequest(format!("file {file_id} has no parent folder to put a new version in"))
                })?;
                let new = self.local(account_id, &folder_id, file, options).await?;
                // Stacked left to right, oldest (bottom) first.
                let body = types::VersionStackCreateParams {
                    data: types::VersionStackCreateParamsData { file_ids: vec![file_id, new.id.unwrap_or_default()] },
                };
                let stack = self
                    .client
                    .version_stacks_create()
                    .account_id(account_id)
                    .folder_id(folder_id)
                    .body(body)
                    .send()
                    .await?;
                Ok(stack.data)
            }
            VersionOf::Stack(stack_id) => {
                let stack =
                    self.client.version_stacks_show().account_id(account_id).version_stack_id(&stack_id).send().await?;
                let folder_id = stack.data.parent_id.ok_or_else(|| {
                    Error::InvalidRequest(format!("version stack {stack_id} has no parent folder to upload into"))
                })?;
                let new = self.local(account_id, &folder_id, file, options).await?;
                let body =
                    types::FileMoveParams { data: types::FileMoveParamsData { parent_id: Some(stack_id.clone()) } };
                let new_id = new.id.unwrap_or_default();
                self.client.files_move().account_id(account_id).file_id(new_id).body(body).send().await?;
                let stack =
                    self.client.version_stacks_show().account_id(account_id).version_stack_id(&stack_id).send().await?;
                Ok(stack.data)
            }
        }
    }

    /// Attaches `file` to a comment: creates the attachment and sends its bytes.
    ///
    /// # Errors
    /// As [`Self::local`].
    pub async fn attachment(
        self,
        account_id: &str,
        comment_id: &str,
        file: NewFile,
        options: UploadOptions,
    ) -> Result<types::CommentAttachment> {
        let body = types::CreateAttachmentParams {
            data: types::AttachmentInput {
                file_size: file.size(),
                media_type: file.media_type.clone(),
                name: file.name.clone(),
            },
        };
        let created = self
            .client
            .comments_create_attachment()
            .account_id(account_id)
            .comment_id(comment_id)
            .body(body)
            .send()
            .await?;
        let created = created.data.ok_or(FileUploadError::IncompleteAnswer { what: "attachment", missing: "data" })?;
        // Attachment URLs carry no sizes: the parts are an even split of the file.
        let urls: Vec<UploadUrl> = created.upload_urls.iter().flatten().map(UploadUrl::without_size).collect();
        let media_type = created.media_type.clone().unwrap_or_else(|| file.media_type.clone());
        self.send_parts(&created.id, &file, &media_type, &urls, options).await?;
        Ok(created)
    }

    /// Polls the file's upload status, backing off, until Frame.io reports it
    /// complete or failed.
    ///
    /// # Errors
    /// [`FileUploadError::Failed`], [`FileUploadError::NotReady`] when `wait`'s
    /// timeout runs out, or an API error polling.
    pub async fn wait_until_uploaded(
        self,
        account_id: &str,
        file_id: &str,
        wait: WaitOptions,
    ) -> Result<types::FileUploadStatus> {
        let started = Instant::now();
        let mut interval = wait.first_interval;
        loop {
            let status =
                self.client.files_show_file_upload_status().account_id(account_id).file_id(file_id).send().await?.data;
            if status.upload_failed {
                return Err(FileUploadError::Failed { file_id: file_id.to_string() }.into());
            }
            if status.upload_complete {
                return Ok(status);
            }
            let waited = started.elapsed();
            if waited.saturating_add(interval) > wait.timeout {
                return Err(FileUploadError::NotReady { file_id: file_id.to_string(), waited }.into());
            }
            tokio::time::sleep(interval).await;
            interval = interval.saturating_mul(2).min(wait.max_interval);
        }
    }

    async fn send_parts(
        &self,
        file_id: &str,
        file: &NewFile,
        media_type: &str,
        urls: &[UploadUrl],
        options: UploadOptions,
    ) -> Result<UploadReport> {
        self.uploader
            .upload_parts(&file.source, media_type, urls, options)
            .await
            .map_err(|source| FileUploadError::Parts { file_id: file_id.to_string(), source: Box::new(source) }.into())
    }
}

/// The engine's view of a response's `upload_urls` (a negative size, which would
/// be nonsense, becomes 0 and fails the part plan's sum check).
fn urls_of(urls: &[types::UploadUrl]) -> Vec<UploadUrl> {
    urls.iter().map(|u| UploadUrl::new(u64::try_from(u.size).unwrap_or(0), &u.url)).collect()
}
