//! Basic uploads (the C2C guides "How to: Upload (Basic)" and "(Advanced)"):
//! create the asset, then send the file's parts to the URLs Frame.io returns,
//! through the crate's [`Uploader`](crate::upload::Uploader) (concurrency,
//! per-part retries, progress, cancellation).
//!
//! The asset's `offset` is "the number of seconds since the file was
//! created", which Frame.io compares with the device's pause windows to
//! reject media recorded while paused. It is computed when each attempt is
//! sent, never once for all: "When retrying a failed asset creation call,
//! remember to update the `offset` value. During extended retry periods, a
//! static offset might drift out of the relevant pause window, potentially
//! allowing uploads that should be blocked" (Upload (Advanced) > Offset).
//! A `409 Channel Paused` ends the upload for good
//! ([`C2cErrorKind::ChannelPaused`](super::C2cErrorKind::ChannelPaused):
//! "Do not attempt to upload this asset again").
//!
//! The returned URLs carry no sizes: the file is split as the guide does it,
//! `ceil(filesize / len(upload_urls))` bytes per part, the last one taking the
//! rest ([`UploadUrl::without_size`]).

use std::collections::HashMap;
use std::path::Path;
use std::time::SystemTime;

use frameio_gen::c2c::types::{AssetChannel as Channel, AssetCreateRequest, AssetCreateResponse, AssetParts as Number};

use super::C2cClient;
use super::errors;
use crate::error::Result;
use crate::upload::{UploadOptions, UploadReport, UploadSource, UploadUrl, guess_media_type};

/// The asset Frame.io created: its `id` and, for a basic upload, the
/// `upload_urls` to send the parts to, in order.
pub type CreatedAsset = AssetCreateResponse;

/// An asset to create: what the C2C asset creation call takes.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use frameio_ext::c2c::NewAsset;
///
/// let asset = NewAsset::new("C2C_TEST_CLIP.mp4", "video/mp4")
///     .created_at(SystemTime::now() - Duration::from_secs(10))
///     .channel(2)
///     .metadata("reel_name", "A001");
/// # let _ = asset;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAsset {
    name: String,
    filetype: String,
    created_at: Option<SystemTime>,
    channel: Option<u32>,
    parts: Option<u32>,
    autoversion_id: Option<String>,
    metadata: HashMap<String, String>,
}

impl NewAsset {
    /// An asset named `name` in Frame.io, of MIME type `filetype`.
    pub fn new(name: impl Into<String>, filetype: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            filetype: filetype.into(),
            created_at: None,
            channel: None,
            parts: None,
            autoversion_id: None,
            metadata: HashMap::new(),
        }
    }

    /// An asset named after `path`'s file name, its MIME type guessed from
    /// the extension.
    pub fn named_after(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Self::new(name, guess_media_type(path))
    }

    /// When the media was created, for the `offset` (by default: the file's
    /// creation time for [`C2cClient::upload_file`], now for
    /// [`C2cClient::create_asset`]). Leave it at the capture time even for
    /// old media: Frame.io files it under its capture date.
    pub fn created_at(mut self, at: SystemTime) -> Self {
        self.created_at = Some(at);
        self
    }

    /// The device channel it comes from (default 0, the device itself).
    pub fn channel(mut self, channel: u32) -> Self {
        self.channel = Some(channel);
        self
    }

    /// How many parts to split it into instead of Frame.io's ~25 MB chunks
    /// (each but the last must be at least 5 MiB, and at most 10,000 parts).
    pub fn parts(mut self, count: u32) -> Self {
        self.parts = Some(count);
        self
    }

    /// Stacks it with the earlier assets of the same `autoversion_id`.
    pub fn autoversion_id(mut self, id: impl Into<String>) -> Self {
        self.autoversion_id = Some(id.into());
        self
    }

    /// A value of the device's tokenized upload path (its required metadata).
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// The MIME type.
    pub fn filetype(&self) -> &str {
        &self.filetype
    }

    /// Whether the creation time was given.
    pub(crate) fn has_created_at(&self) -> bool {
        self.created_at.is_some()
    }

    /// The creation body as of `now`; `filesize` is `None` for a real-time
    /// asset.
    pub(crate) fn body(&self, filesize: Option<u64>, now: SystemTime) -> AssetCreateRequest {
        AssetCreateRequest {
            autoversion_id: self.autoversion_id.clone(),
            channel: self.channel.map(|channel| Channel::Integer(i64::from(channel))),
            filesize: filesize.map(|size| Number::Integer(i64::try_from(size).unwrap_or(i64::MAX))),
            filetype: Some(self.filetype.clone()),
            metadata: self.metadata.clone(),
            name: self.name.clone(),
            offset: Some(Number::Integer(offset(self.created_at.unwrap_or(now), now))),
            parts: self.parts.map(|count| Number::Integer(i64::from(count))),
            ..AssetCreateRequest::default()
        }
    }
}

/// Whole seconds from `created_at` to `now`; negative for a creation time in
/// the future (the guide's channel example sends `"offset": -10`).
pub(crate) fn offset(created_at: SystemTime, now: SystemTime) -> i64 {
    match now.duration_since(created_at) {
        Ok(ago) => i64::try_from(ago.as_secs()).unwrap_or(i64::MAX),
        Err(ahead) => -i64::try_from(ahead.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// A finished basic upload.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UploadedAsset {
    /// The asset Frame.io created.
    pub asset: CreatedAsset,
    /// How its parts went.
    pub report: UploadReport,
}

impl C2cClient {
    /// Creates an asset for `filesize` bytes, retrying as the C2C error
    /// tables say with the client's call back-off, and with a fresh `offset`
    /// for each attempt.
    ///
    /// # Errors
    /// The last failure; [`C2cErrorKind::ChannelPaused`](super::C2cErrorKind::ChannelPaused)
    /// at once when the media was created while the device was paused.
    pub async fn create_asset(&self, asset: &NewAsset, filesize: u64) -> Result<CreatedAsset> {
        self.create(asset, Some(filesize)).await
    }

    /// Creates an asset (real-time when `filesize` is `None`).
    pub(crate) async fn create(&self, asset: &NewAsset, filesize: Option<u64>) -> Result<CreatedAsset> {
        let created = errors::retrying(self.call_retry(), "create asset", || {
            let mut body = asset.body(filesize, SystemTime::now());
            body.is_realtime_upload = filesize.is_none();
            let request = self.devices_device_asset_create().body(body);
            async move { request.send().await }
        })
        .await?;
        tracing::debug!(asset_id = %created.id, "C2C asset created");
        Ok(created)
    }

    /// Sends `source` to the `upload_urls` of `asset`, through the client's
    /// uploader, each part with `Content-Type: filetype` and
    /// `x-amz-acl: private`. Use it to resume: the URLs stay valid, and a
    /// part may be sent again.
    ///
    /// # Errors
    /// [`Error::Upload`](crate::Error::Upload) saying which part failed and which were accepted.
    pub async fn upload_asset(
        &self,
        asset: &CreatedAsset,
        source: &UploadSource,
        filetype: &str,
        options: UploadOptions,
    ) -> Result<UploadReport> {
        let urls: Vec<UploadUrl> = asset.upload_urls.iter().map(UploadUrl::without_size).collect();
        Ok(self.uploader().upload_parts(source, filetype, &urls, options).await?)
    }

    /// The whole basic upload of `source`: creates `asset` for its size,
    /// then uploads it. For a file source, the `offset` counts from the
    /// file's creation (its birth time where the file system records one,
    /// else its last modification) unless `asset` says when the media was
    /// created.
    ///
    /// ```no_run
    /// use frameio_ext::c2c::NewAsset;
    /// use frameio_ext::upload::{UploadOptions, UploadSource};
    ///
    /// # async fn run(client: frameio_ext::c2c::C2cClient) -> Result<(), Box<dyn std::error::Error>> {
    /// let path = "/media/A001_C002.mov";
    /// let source = UploadSource::open(path).await?;
    /// let uploaded = client.upload_file(&source, NewAsset::named_after(path), UploadOptions::new()).await?;
    /// println!("asset {} in {} parts", uploaded.asset.id, uploaded.report.parts.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The asset creation failed, or a part did ([`Error::Upload`](crate::Error::Upload)).
    pub async fn upload_file(
        &self,
        source: &UploadSource,
        mut asset: NewAsset,
        options: UploadOptions,
    ) -> Result<UploadedAsset> {
        if asset.created_at.is_none()
            && let Some(path) = source.path()
        {
            asset.created_at = file_created_at(path).await;
        }
        let created = self.create_asset(&asset, source.len()).await?;
        let report = self.upload_asset(&created, source, asset.filetype(), options).await?;
        Ok(UploadedAsset { asset: created, report })
    }
}

/// When the file at `path` was created, as well as the file system knows.
pub(crate) async fn file_created_at(path: &Path) -> Option<SystemTime> {
    let metadata = tokio::fs::metadata(path).await.ok()?;
    metadata.created().or_else(|_| metadata.modified()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn offsets_are_whole_seconds_since_creation() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(offset(now - Duration::from_millis(10_900), now), 10);
        assert_eq!(offset(now, now), 0);
        assert_eq!(offset(now + Duration::from_secs(10), now), -10);
    }

    #[test]
    fn the_body_is_the_guides() {
        let now = SystemTime::now();
        let body = NewAsset::new("C2C_TEST_CLIP.mp4", "video/mp4")
            .created_at(now - Duration::from_secs(10))
            .body(Some(21_136_250), now);
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"name": "C2C_TEST_CLIP.mp4", "filetype": "video/mp4", "filesize": 21_136_250,
                "offset": 10, "is_realtime_upload": false})
        );
    }
}
