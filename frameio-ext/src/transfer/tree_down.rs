//! A Frame.io folder mirrored to disk: its folders listed (with each file's
//! download link), the local directories made, the files already there left
//! alone, and the rest downloaded a few at a time, each resumable.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

use frameio_gen::v4::types::{AssetInclude, AssetWithIncludes, FileWithIncludes};
use futures::TryStreamExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::download::{already_there, original_url};
use super::names;
use super::tree::{FileOutcome, SkipReason, TransferredFile, TreeOptions, TreeReport, VersionStacks, run_files};
use super::{DownloadOptions, Existing, TransferProgress, Transfers};
use crate::error::TransferError;
use crate::{Error, Result};

impl Transfers<'_> {
    /// Mirrors folder `folder_id` into `local_dir` (created if need be):
    /// nested folders become directories, version stacks their head version
    /// (see [`TreeOptions::version_stacks`]), and each file is downloaded
    /// unless it is already there ([`TreeOptions::existing`]: by default, same
    /// name and size). Partial downloads left by an earlier run are resumed.
    ///
    /// ```no_run
    /// use frameio_ext::transfer::TreeOptions;
    ///
    /// # async fn run(client: frameio_ext::Client) -> frameio_ext::Result<()> {
    /// let report = client.transfers().download_tree("account", "folder", "./dailies", TreeOptions::new()).await?;
    /// println!("{} bytes in {:?}; complete: {}", report.bytes, report.elapsed, report.is_complete());
    /// # Ok(()) }
    /// ```
    ///
    /// One file (or subfolder) failing does not stop the others unless
    /// [`TreeOptions::fail_fast`]: it is listed in [`TreeReport::failed`].
    ///
    /// # Errors
    /// Only when nothing can be done: `local_dir` cannot be created, or the
    /// folder itself cannot be listed.
    pub async fn download_tree(
        &self,
        account_id: &str,
        folder_id: &str,
        local_dir: impl AsRef<Path>,
        options: TreeOptions,
    ) -> Result<TreeReport> {
        let started = Instant::now();
        let root = local_dir.as_ref().to_path_buf();
        let io_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| Error::Io { path: Some(path), source }
        };
        tokio::fs::create_dir_all(&root).await.map_err(io_error(&root))?;
        let mut report = TreeReport::default();
        let files = self.list_tree(account_id, folder_id, &root, &options, &mut report).await?;

        let mut jobs = Vec::new();
        let mut total_bytes = 0u64;
        for (path, file) in files {
            let size = u64::try_from(file.file_size).ok();
            if already_there(&root.join(&path), size, options.existing).is_some() {
                let reason = if options.existing == Existing::Skip { SkipReason::Exists } else { SkipReason::SameSize };
                report.skip(&path, Some(file.id.clone()), reason);
            } else {
                total_bytes = total_bytes.saturating_add(size.unwrap_or(0));
                jobs.push((path.clone(), (path, file)));
            }
        }
        let progress = options.progress.clone().unwrap_or_else(|| tokio::sync::watch::Sender::new(Default::default()));
        progress.send_replace(TransferProgress {
            total_bytes,
            files_total: jobs.len() + report.skipped.len(),
            files_skipped: report.skipped.len(),
            ..TransferProgress::default()
        });

        let cancel = options.cancel.clone().unwrap_or_default();
        let stop = cancel.child_token();
        let budget = options.budget();
        let per_file = |stop: &CancellationToken| {
            DownloadOptions::new()
                .shared_progress(progress.clone())
                .cancel(stop.clone())
                .budget(budget.clone())
                .existing(Existing::Replace)
        };
        run_files(&mut report, jobs, &options, &stop, &progress, |(path, file): (PathBuf, FileWithIncludes)| {
            Box::pin(self.fetch(account_id, &root, path, file, per_file(&stop)))
        })
        .await;
        report.cancelled = cancel.is_cancelled();
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Downloads one listed file; a link that expired since the listing (or
    /// that the listing left out) is asked for again.
    async fn fetch(
        &self,
        account_id: &str,
        root: &Path,
        path: PathBuf,
        file: FileWithIncludes,
        options: DownloadOptions,
    ) -> FileOutcome {
        let id = file.id.clone();
        let fail = |error: Error| (Some(id.clone()), error);
        let dest = root.join(&path);
        let file = match original_url(&file) {
            Some(_) => file,
            None => self.file_with_link(account_id, &id).await.map_err(fail)?,
        };
        let downloaded = match self.download_listed(&file, &dest, options.clone()).await {
            Err(Error::Download(e)) if e.is_expired() => {
                let fresh = self.file_with_link(account_id, &id).await.map_err(fail)?;
                self.download_listed(&fresh, &dest, options).await
            }
            other => other,
        };
        let report = downloaded.map_err(fail)?;
        Ok(TransferredFile { path, file_id: id, bytes: report.bytes, bytes_moved: report.bytes_fetched })
    }

    /// Lists the tree under `folder_id`, making its directories under `root`;
    /// returns the files to consider, by path relative to `root`.
    async fn list_tree(
        &self,
        account_id: &str,
        folder_id: &str,
        root: &Path,
        options: &TreeOptions,
        report: &mut TreeReport,
    ) -> Result<Vec<(PathBuf, FileWithIncludes)>> {
        let mut files = Vec::new();
        // Which remote item each local path belongs to, to catch two that map to one.
        let mut taken: HashMap<PathBuf, String> = HashMap::new();
        let mut queue = VecDeque::from([(folder_id.to_string(), PathBuf::new())]);
        while let Some((id, dir)) = queue.pop_front() {
            let listed = children(self.client, account_id, &id, Some(AssetInclude::MediaLinksOriginal)).await;
            let items = match listed {
                Ok(items) => items,
                Err(e) if dir.as_os_str().is_empty() => return Err(e),
                Err(e) => {
                    report.fail(&dir, Some(id), e);
                    continue;
                }
            };
            for item in items {
                let Some((kind, item_id, name)) = describe(&item) else { continue };
                let path = dir.join(name);
                if !names::is_safe(name) {
                    let error = TransferError::UnsafeName { kind, id: item_id.to_string(), name: name.to_string() };
                    report.fail(&path, Some(item_id.to_string()), error.into());
                    continue;
                }
                if let Some(other_id) = taken.get(&path) {
                    let error = TransferError::DuplicateName {
                        id: item_id.to_string(),
                        other_id: other_id.clone(),
                        path: path.display().to_string(),
                    };
                    report.fail(&path, Some(item_id.to_string()), error.into());
                    continue;
                }
                taken.insert(path.clone(), item_id.to_string());
                match item {
                    AssetWithIncludes::Folder(folder) => match make_dir(&root.join(&path)) {
                        Ok(created) => {
                            report.folders_created += usize::from(created);
                            queue.push_back((folder.id, path));
                        }
                        Err(source) => {
                            let error = Error::Io { path: Some(root.join(&path).display().to_string()), source };
                            report.fail(&path, Some(folder.id), error);
                        }
                    },
                    AssetWithIncludes::File(file) => files.push((path, *file)),
                    AssetWithIncludes::VersionStack(stack) => match (options.version_stacks, stack.head_version) {
                        (VersionStacks::Skip, _) => report.skip(&path, Some(stack.id), SkipReason::VersionStack),
                        // The head goes where the stack shows, under the stack's name.
                        (_, Some(head)) => files.push((path, head)),
                        (_, None) => {
                            let error = TransferError::NoDownloadLink {
                                file_id: stack.id.clone(),
                                name: stack.name,
                                status: "empty version stack".to_string(),
                            };
                            report.fail(&path, Some(stack.id), error.into());
                        }
                    },
                    _ => {}
                }
            }
        }
        Ok(files)
    }
}

/// Everything in a folder, with `include` if given. (Boxed: without the box,
/// rustc cannot prove the callers' futures `Send` through the listing's borrows.)
pub(crate) fn children<'a>(
    client: &'a crate::Client,
    account_id: &'a str,
    folder_id: &'a str,
    include: Option<AssetInclude>,
) -> futures::future::BoxFuture<'a, Result<Vec<AssetWithIncludes>>> {
    let mut listing = client.folders_index().account_id(account_id).folder_id(folder_id);
    if let Some(include) = include {
        listing = listing.include(include);
    }
    Box::pin(listing.stream().try_collect())
}

/// Kind, id and name of a listed item (`None` for a kind this client does not know).
fn describe(item: &AssetWithIncludes) -> Option<(&'static str, &str, &str)> {
    match item {
        AssetWithIncludes::File(f) => Some(("file", &f.id, &f.name)),
        AssetWithIncludes::Folder(f) => Some(("folder", &f.id, &f.name)),
        AssetWithIncludes::VersionStack(v) => Some(("version stack", &v.id, &v.name)),
        _ => None,
    }
}

/// Makes `dir` unless it exists; whether it was made.
fn make_dir(dir: &Path) -> std::io::Result<bool> {
    match std::fs::create_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(false),
        Err(e) => Err(e),
    }
}
