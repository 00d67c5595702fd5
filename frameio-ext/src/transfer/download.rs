//! One file from Frame.io to disk: ask for the original's download link
//! (`media_links.original`), then hand it to the [`Downloader`](crate::download::Downloader)
//! with the length Frame.io gives as the one to expect; and waiting, with
//! back-off, until a file is transcoded.

use std::path::Path;

use frameio_gen::v4::types::{AssetInclude, FileStatus, FileWithIncludes};
use tokio::time::Instant;

use super::names;
use super::{Transfers, WaitOptions};
use crate::download::{DownloadOptions, DownloadReport, Existing};
use crate::error::TransferError;
use crate::{Error, Result};

impl Transfers<'_> {
    /// Downloads file `file_id`'s original to `dest` (a file path, or an
    /// existing directory to put it in under its Frame.io name), failing if
    /// storage's length is not Frame.io's `file_size`. A partial download left
    /// by an earlier run is resumed.
    ///
    /// ```no_run
    /// use frameio_ext::transfer::{DownloadOptions, Existing};
    ///
    /// # async fn run(client: frameio_ext::Client) -> frameio_ext::Result<()> {
    /// let options = DownloadOptions::new().existing(Existing::SkipSameSize);
    /// let report = client.transfers().download_file("account", "file", "./incoming/", options).await?;
    /// println!("{:?}: {} bytes, {} resumed", report.path, report.bytes, report.bytes_resumed);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// An API error asking for the file, [`TransferError::NoDownloadLink`]
    /// when Frame.io gives none (not uploaded yet, or downloads not allowed),
    /// [`TransferError::UnsafeName`] for a name that cannot be a local file
    /// name (when `dest` is a directory), or [`Error::Download`].
    pub async fn download_file(
        &self,
        account_id: &str,
        file_id: &str,
        dest: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<DownloadReport> {
        let file = self.file_with_link(account_id, file_id).await?;
        let dest = dest.as_ref();
        let dest = if dest.is_dir() {
            if !names::is_safe(&file.name) {
                let (id, name) = (file.id.clone(), file.name.clone());
                return Err(TransferError::UnsafeName { kind: "file", id, name }.into());
            }
            dest.join(&file.name)
        } else {
            dest.to_path_buf()
        };
        self.download_listed(&file, &dest, options).await
    }

    /// Downloads `url` (a media link, or any `http(s)` URL) to `dest`.
    ///
    /// # Errors
    /// [`Error::Download`], naming the file, the byte range and the status.
    pub async fn download_url(
        &self,
        url: &str,
        dest: impl AsRef<Path>,
        options: DownloadOptions,
    ) -> Result<DownloadReport> {
        Ok(self.engine()?.download(url, dest, options).await?)
    }

    /// Polls the file, backing off, until Frame.io reports it transcoded, and
    /// returns it as it is then.
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use frameio_ext::transfer::WaitOptions;
    ///
    /// # async fn run(client: frameio_ext::Client) -> frameio_ext::Result<()> {
    /// let wait = WaitOptions::new().timeout(Duration::from_secs(600));
    /// let file = client.transfers().wait_until_transcoded("account", "file", wait).await?;
    /// println!("{} is {}", file.name, file.status.as_str());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`TransferError::NotTranscoded`] when `wait`'s timeout runs out, or an
    /// API error polling.
    pub async fn wait_until_transcoded(
        &self,
        account_id: &str,
        file_id: &str,
        wait: WaitOptions,
    ) -> Result<FileWithIncludes> {
        let started = Instant::now();
        let mut interval = wait.first_interval;
        loop {
            let file = self.client.files_show().account_id(account_id).file_id(file_id).send().await?.data;
            if is_transcoded(&file.status) {
                return Ok(file);
            }
            let waited = started.elapsed();
            if waited.saturating_add(interval) > wait.timeout {
                let status = file.status.as_str().to_string();
                return Err(TransferError::NotTranscoded { file_id: file_id.to_string(), status, waited }.into());
            }
            tokio::time::sleep(interval).await;
            interval = interval.saturating_mul(2).min(wait.max_interval);
        }
    }

    /// The file with its original's download link (asked for again when a
    /// link from a listing has expired).
    pub(crate) async fn file_with_link(&self, account_id: &str, file_id: &str) -> Result<FileWithIncludes> {
        let shown = self
            .client
            .files_show()
            .account_id(account_id)
            .file_id(file_id)
            .include(AssetInclude::MediaLinksOriginal)
            .send()
            .await?;
        Ok(shown.data)
    }

    /// Downloads `file` (with its link) to `dest`, expecting its `file_size`.
    pub(crate) async fn download_listed(
        &self,
        file: &FileWithIncludes,
        dest: &Path,
        options: DownloadOptions,
    ) -> Result<DownloadReport> {
        let size = u64::try_from(file.file_size).ok();
        if let Some(report) = already_there(dest, size, options.existing) {
            return Ok(report);
        }
        let url = original_url(file).ok_or_else(|| TransferError::NoDownloadLink {
            file_id: file.id.clone(),
            name: file.name.clone(),
            status: file.status.as_str().to_string(),
        })?;
        let options = match size {
            Some(size) => options.expect_size(size),
            None => options,
        };
        self.engine()?.download(url, dest, options).await.map_err(Error::from)
    }
}

/// Whether Frame.io is done processing: `transcoded`, or `ready`, the status
/// the Media Links guide waits for (not in the spec's enum yet).
fn is_transcoded(status: &FileStatus) -> bool {
    match status {
        FileStatus::Transcoded => true,
        FileStatus::Unknown(other) => other == "ready",
        _ => false,
    }
}

/// A report for a file left alone because it is already there, judged by
/// Frame.io's `file_size` (no request to storage).
pub(crate) fn already_there(dest: &Path, size: Option<u64>, existing: Existing) -> Option<DownloadReport> {
    let len = std::fs::metadata(dest).ok().filter(|m| m.is_file())?.len();
    let skip = match existing {
        Existing::Skip => true,
        Existing::SkipSameSize => size == Some(len),
        _ => false,
    };
    skip.then(|| DownloadReport::skipped(dest, len))
}

/// The original's download link, if the file has one.
pub(crate) fn original_url(file: &FileWithIncludes) -> Option<&str> {
    file.media_links.as_ref()?.original.as_ref()?.download_url.as_deref()
}
