//! Transfers: the jobs that move media between disk and Frame.io, built on the
//! client and on the storage engines ([`upload`](crate::upload),
//! [`download`](crate::download)).
//!
//! * [`Client::uploads`](crate::Client::uploads): a file into a folder (resumable
//!   with [`UploadOptions::manifest`](crate::upload::UploadOptions::manifest)), a
//!   new version of a file or stack, a comment attachment, a remote upload, and
//!   waiting until Frame.io has the file.
//! * [`Client::transfers`](crate::Client::transfers): a file (or any URL) to
//!   disk, a local folder tree into Frame.io ([`Transfers::upload_tree`]), a
//!   Frame.io folder tree to disk ([`Transfers::download_tree`]), and waiting
//!   until a file is transcoded.
//!
//! The engines move bytes to and from pre-signed URLs and know nothing of the
//! API; this module asks the API for those URLs, for the folders to create and
//! the files already there, and tells it what happened.
//!
//! ```no_run
//! use frameio_ext::transfer::{DownloadOptions, TreeOptions};
//! use frameio_ext::upload::TransferProgress;
//!
//! # async fn run(client: frameio_ext::Client) -> frameio_ext::Result<()> {
//! let transfers = client.transfers();
//! let report = transfers.download_file("account", "file", "A001_C003.mov", DownloadOptions::new()).await?;
//! println!("{} bytes in {:?}", report.bytes, report.elapsed);
//!
//! let (progress, watch) = tokio::sync::watch::channel(TransferProgress::default());
//! let tree = transfers.upload_tree("./dailies", "account", "folder", TreeOptions::new().progress(progress)).await?;
//! println!("{} uploaded, {} skipped, {} failed", tree.transferred.len(), tree.skipped.len(), tree.failed.len());
//! for failed in &tree.failed {
//!     eprintln!("{}: {}", failed.path.display(), failed.error);
//! }
//! # drop(watch);
//! # Ok(()) }
//! ```

mod download;
mod local;
mod names;
mod tree;
mod tree_down;
mod tree_up;
mod upload;

use std::sync::OnceLock;

pub use crate::download::{DownloadOptions, DownloadReport, Existing, TransferProgress};
pub use crate::error::{FileUploadError, TransferError};
pub use names::is_safe as is_safe_local_name;
pub use tree::{
    DEFAULT_FILES_IN_FLIGHT, DEFAULT_TREE_PARTS_IN_FLIGHT, FailedFile, SkipReason, SkippedFile, TransferredFile,
    TreeOptions, TreeReport, VersionStacks,
};
pub use upload::{NewFile, Uploads, VersionOf, WaitOptions};

use crate::download::Downloader;
use crate::{Client, Error, Result};

/// Downloads and folder trees through a [`Client`]; from [`Client::transfers`].
/// Cheap to clone (a clone made once a download has run shares its connection pool).
#[derive(Debug, Clone)]
pub struct Transfers<'a> {
    client: &'a Client,
    downloader: OnceLock<Downloader>,
}

impl Client {
    /// Downloads, folder trees and transcode waits with this client (uploads
    /// go through the client's [`Uploader`](crate::upload::Uploader); downloads
    /// through a [`Downloader`] with its defaults, or the one given to
    /// [`Transfers::downloader`]).
    pub fn transfers(&self) -> Transfers<'_> {
        Transfers { client: self, downloader: OnceLock::new() }
    }
}

impl<'a> Transfers<'a> {
    /// Downloads with `downloader` (parts in flight, part size, retries)
    /// instead of the defaults.
    pub fn downloader(self, downloader: Downloader) -> Self {
        Self { client: self.client, downloader: OnceLock::from(downloader) }
    }

    /// The downloader in use, made on first use.
    fn engine(&self) -> Result<&Downloader> {
        if let Some(downloader) = self.downloader.get() {
            return Ok(downloader);
        }
        let built = Downloader::builder()
            .build()
            .map_err(|e| Error::Config(format!("the downloader could not be set up: {e}")))?;
        Ok(self.downloader.get_or_init(|| built))
    }
}
