//! A local directory tree uploaded into a Frame.io folder: the folder
//! structure found or created, each folder's contents listed once, files
//! already there left alone (same name and size, by default), and the rest
//! uploaded a few at a time, each with its parts in flight.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use frameio_gen::v4::types::{self, AssetWithIncludes, FileStatus};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::local::{self, LocalTree};
use super::tree::{FileOutcome, SkipReason, TransferredFile, TreeOptions, TreeReport, run_files};
use super::tree_down::children;
use super::{Existing, NewFile, TransferProgress, Transfers, VersionOf};
use crate::error::TransferError;
use crate::upload::UploadOptions;
use crate::{Error, Result};

/// What to do with one local file.
#[derive(Debug)]
struct Plan {
    path: PathBuf,
    folder_id: String,
    /// `None`: a new file; else a new version on top of this one.
    version_of: Option<VersionOf>,
}

impl Transfers<'_> {
    /// Uploads every file under `local_dir` into folder `folder_id`, making
    /// the same folder structure there (finding folders of the same name
    /// first), and leaving alone files already there ([`TreeOptions::existing`]:
    /// by default, a complete file of the same name and size). A file whose
    /// name is there with another size becomes a new version on top of it.
    ///
    /// ```no_run
    /// use frameio_ext::transfer::TreeOptions;
    ///
    /// # async fn run(client: frameio_ext::Client) -> frameio_ext::Result<()> {
    /// let options = TreeOptions::new().files_in_flight(8).resume_dir("/var/tmp/fio-uploads");
    /// let report = client.transfers().upload_tree("./dailies", "account", "folder", options).await?;
    /// for file in &report.transferred {
    ///     println!("{} -> {}", file.path.display(), file.file_id);
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// One file failing does not stop the others unless
    /// [`TreeOptions::fail_fast`]: it is listed in [`TreeReport::failed`].
    ///
    /// # Errors
    /// Only when nothing can be done: `local_dir` is not a readable directory
    /// ([`TransferError::NotADirectory`], [`Error::Io`]), or folder
    /// `folder_id` cannot be listed.
    pub async fn upload_tree(
        &self,
        local_dir: impl AsRef<Path>,
        account_id: &str,
        folder_id: &str,
        options: TreeOptions,
    ) -> Result<TreeReport> {
        let started = Instant::now();
        let root = local_dir.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(TransferError::NotADirectory { path: root.display().to_string() }.into());
        }
        let walked = root.clone();
        let tree = tokio::task::spawn_blocking(move || local::walk(&walked))
            .await
            .map_err(std::io::Error::other)
            .and_then(|walked| walked)
            .map_err(|source| Error::Io { path: Some(root.display().to_string()), source })?;
        if let Some(dir) = &options.resume_dir {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|source| Error::Io { path: Some(dir.display().to_string()), source })?;
        }
        let mut report = TreeReport::default();
        let plans = self.plan_upload(tree, account_id, folder_id, &root, &options, &mut report).await?;

        let total_bytes = plans.iter().map(|(_, (_, len))| *len).fold(0u64, u64::saturating_add);
        let progress = options.progress.clone().unwrap_or_else(|| tokio::sync::watch::Sender::new(Default::default()));
        progress.send_replace(TransferProgress {
            total_bytes,
            files_total: plans.len() + report.skipped.len(),
            files_skipped: report.skipped.len(),
            ..TransferProgress::default()
        });
        let cancel = options.cancel.clone().unwrap_or_default();
        let stop = cancel.child_token();
        let budget = options.budget();
        let root = &root;
        run_files(&mut report, plans, &options, &stop, &progress, |(plan, len): (Plan, u64)| {
            let mut upload_options =
                UploadOptions::new().shared_progress(progress.clone()).cancel(stop.clone()).budget(budget.clone());
            if let Some(dir) = &options.resume_dir {
                upload_options = upload_options.manifest(dir.join(manifest_name(account_id, &plan, root)));
            }
            Box::pin(self.send(account_id, root, plan, len, upload_options))
        })
        .await;
        report.cancelled = cancel.is_cancelled();
        report.elapsed = started.elapsed();
        Ok(report)
    }

    /// Uploads one file as planned.
    async fn send(&self, account_id: &str, root: &Path, plan: Plan, len: u64, options: UploadOptions) -> FileOutcome {
        let file = NewFile::open(root.join(&plan.path)).await.map_err(|e| (None, e))?;
        let uploads = self.client.uploads();
        let file_id = match plan.version_of {
            None => uploads.local(account_id, &plan.folder_id, file, options).await.map(|f| f.id),
            Some(of) => {
                uploads.version(account_id, of, file, options).await.map(|stack| stack.head_version.map(|head| head.id))
            }
        };
        let file_id = file_id.map_err(|e| (None, e))?;
        Ok(TransferredFile { path: plan.path, file_id: file_id.unwrap_or_default(), bytes: len, bytes_moved: len })
    }

    /// Finds or creates the remote folders of `tree` and decides, file by
    /// file, whether to upload it, and how.
    async fn plan_upload(
        &self,
        tree: LocalTree,
        account_id: &str,
        folder_id: &str,
        root: &Path,
        options: &TreeOptions,
        report: &mut TreeReport,
    ) -> Result<Vec<(PathBuf, (Plan, u64))>> {
        for path in tree.not_files {
            report.skip(&path, None, SkipReason::NotAFile);
        }
        for (path, source) in tree.unreadable {
            let error = Error::Io { path: Some(root.join(&path).display().to_string()), source };
            report.fail(&path, None, error);
        }
        // Each local directory's remote folder, and what that folder holds.
        let mut folders: HashMap<PathBuf, String> = HashMap::from([(PathBuf::new(), folder_id.to_string())]);
        let mut contents: HashMap<String, Vec<AssetWithIncludes>> = HashMap::new();
        contents.insert(folder_id.to_string(), children(self.client, account_id, folder_id, None).await?);
        for dir in tree.dirs {
            let parent = dir.parent().map(Path::to_path_buf).unwrap_or_default();
            // A folder whose parent could not be made was reported with its parent.
            let Some(parent_id) = folders.get(&parent).cloned() else { continue };
            let Some(name) = utf8_name(&dir, report) else { continue };
            let existing = contents.get(&parent_id).and_then(|items| {
                items.iter().find_map(|item| match item {
                    AssetWithIncludes::Folder(f) if f.name == name => Some(f.id.clone()),
                    _ => None,
                })
            });
            let found = match existing {
                Some(id) => children(self.client, account_id, &id, None).await.map(|items| (id, items)),
                None => self.create_folder(account_id, &parent_id, name).await.map(|id| {
                    report.folders_created += 1;
                    (id, Vec::new())
                }),
            };
            match found {
                Ok((id, items)) => {
                    contents.insert(id.clone(), items);
                    folders.insert(dir, id);
                }
                Err(e) => report.fail(&dir, None, e),
            }
        }

        let mut plans = Vec::new();
        for (path, len) in tree.files {
            let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let Some(folder_id) = folders.get(&parent).cloned() else {
                report.unfinished.push(path);
                continue;
            };
            let Some(name) = utf8_name(&path, report) else { continue };
            let there = contents.get(&folder_id).and_then(|items| items.iter().find(|item| named(item, name)));
            let version_of = match there.map(|item| judge(item, len, options.existing)) {
                Some(Judged::Skip(id, reason)) => {
                    report.skip(&path, Some(id), reason);
                    continue;
                }
                Some(Judged::VersionOf(of)) => Some(of),
                Some(Judged::New) | None => None,
            };
            plans.push((path.clone(), (Plan { path, folder_id, version_of }, len)));
        }
        Ok(plans)
    }

    async fn create_folder(&self, account_id: &str, parent_id: &str, name: &str) -> Result<String> {
        let body = types::FolderCreateParams { data: types::FolderCreateParamsData { name: Some(name.to_string()) } };
        let created =
            self.client.folders_create().account_id(account_id).folder_id(parent_id).body(body).send().await?;
        Ok(created.data.id)
    }
}

/// What to do with a local file, given the remote item of the same name.
enum Judged {
    Skip(String, SkipReason),
    VersionOf(VersionOf),
    New,
}

fn judge(item: &AssetWithIncludes, len: u64, existing: Existing) -> Judged {
    let same_size = |size: i64| u64::try_from(size).ok() == Some(len);
    match item {
        // An upload that never completed is no file to keep or stack on.
        AssetWithIncludes::File(f) if f.status == FileStatus::Created => Judged::New,
        AssetWithIncludes::File(f) => match existing {
            Existing::Skip => Judged::Skip(f.id.clone(), SkipReason::Exists),
            Existing::SkipSameSize if same_size(f.file_size) => Judged::Skip(f.id.clone(), SkipReason::SameSize),
            _ => Judged::VersionOf(VersionOf::File(f.id.clone())),
        },
        AssetWithIncludes::VersionStack(s) => {
            let head_size = s.head_version.as_ref().map(|h| h.file_size);
            match existing {
                Existing::Skip => Judged::Skip(s.id.clone(), SkipReason::Exists),
                Existing::SkipSameSize if head_size.is_some_and(same_size) => {
                    Judged::Skip(s.id.clone(), SkipReason::SameSize)
                }
                _ => Judged::VersionOf(VersionOf::Stack(s.id.clone())),
            }
        }
        _ => Judged::New,
    }
}

/// Whether `item` is a file or version stack called `name`.
fn named(item: &AssetWithIncludes, name: &str) -> bool {
    match item {
        AssetWithIncludes::File(f) => f.name == name,
        AssetWithIncludes::VersionStack(s) => s.name == name,
        _ => false,
    }
}

/// The last component of `path` as text (Frame.io names are text), or a
/// failure in the report.
fn utf8_name<'p>(path: &'p Path, report: &mut TreeReport) -> Option<&'p str> {
    let name = path.file_name().and_then(OsStr::to_str);
    if name.is_none() {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let error = TransferError::UnsafeName { kind: "local file", id: String::new(), name };
        report.fail(path, None, error.into());
    }
    name
}

/// A file's manifest name in the resume directory: a digest of where it goes
/// and where it comes from, so that each upload job has its own.
fn manifest_name(account_id: &str, plan: &Plan, root: &Path) -> String {
    let source = std::fs::canonicalize(root.join(&plan.path)).unwrap_or_else(|_| root.join(&plan.path));
    let mut digest = Sha256::new();
    for part in [account_id.as_bytes(), plan.folder_id.as_bytes(), source.as_os_str().as_encoded_bytes()] {
        digest.update((part.len() as u64).to_le_bytes());
        digest.update(part);
    }
    format!("{}.json", hex::encode(&digest.finalize()[..16]))
}
