//! What the folder-tree jobs take ([`TreeOptions`]) and what they return
//! ([`TreeReport`]), shared by [`upload_tree`](super::Transfers::upload_tree)
//! and [`download_tree`](super::Transfers::download_tree).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;

use crate::Error;
use crate::download::{Existing, TransferProgress};

/// Files worked on at once by default.
///
/// Small files are bound by round trips (an API call and a storage request
/// each), not bandwidth, so many at once is what makes a tree of them fast;
/// the parts budget ([`DEFAULT_TREE_PARTS_IN_FLIGHT`]) keeps large ones from
/// opening too many connections or buffers.
pub const DEFAULT_FILES_IN_FLIGHT: usize = 16;

/// Parts (requests carrying bytes) in flight across all files of a tree by
/// default: memory stays near `2 × 16 × buffer size` (32 MiB with 1 MiB
/// buffers) however many files are large.
pub const DEFAULT_TREE_PARTS_IN_FLIGHT: usize = 16;

/// Which version of a version stack a tree download takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum VersionStacks {
    /// The head (newest) version, named as the stack is (the default).
    #[default]
    Head,
    /// None: version stacks are left out.
    Skip,
}

/// Settings for [`upload_tree`](super::Transfers::upload_tree) and
/// [`download_tree`](super::Transfers::download_tree).
///
/// ```
/// use frameio_ext::transfer::{Existing, TreeOptions, VersionStacks};
/// use frameio_ext::upload::TransferProgress;
/// use tokio_util::sync::CancellationToken;
///
/// let (progress, _watch) = tokio::sync::watch::channel(TransferProgress::default());
/// let options = TreeOptions::new()
///     .progress(progress)
///     .cancel(CancellationToken::new())
///     .files_in_flight(8)
///     .parts_in_flight(16)
///     .existing(Existing::SkipSameSize)
///     .version_stacks(VersionStacks::Head)
///     .resume_dir("/var/tmp/uploads")
///     .fail_fast(false);
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct TreeOptions {
    pub(crate) progress: Option<watch::Sender<TransferProgress>>,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) files_in_flight: usize,
    pub(crate) parts_in_flight: usize,
    pub(crate) existing: Existing,
    pub(crate) fail_fast: bool,
    pub(crate) version_stacks: VersionStacks,
    pub(crate) resume_dir: Option<PathBuf>,
}

impl Default for TreeOptions {
    fn default() -> Self {
        Self {
            progress: None,
            cancel: None,
            files_in_flight: DEFAULT_FILES_IN_FLIGHT,
            parts_in_flight: DEFAULT_TREE_PARTS_IN_FLIGHT,
            existing: Existing::SkipSameSize,
            fail_fast: false,
            version_stacks: VersionStacks::Head,
            resume_dir: None,
        }
    }
}

impl TreeOptions {
    /// The defaults: 16 files and 16 parts in flight, files already there
    /// with the same size skipped, version stacks as their head, every file
    /// tried whatever happens to the others.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes [`TransferProgress`] on `sender`: the files and bytes of the
    /// whole tree (its value is replaced when the job starts).
    pub fn progress(mut self, sender: watch::Sender<TransferProgress>) -> Self {
        self.progress = Some(sender);
        self
    }

    /// Stops the job soon after `token` is cancelled: files in flight stop
    /// where they are (a download keeps its `.part` and manifest, an upload
    /// with a [`resume_dir`](Self::resume_dir) its manifest), and the report
    /// lists what was not done.
    pub fn cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// How many files are transferred at once (default
    /// [`DEFAULT_FILES_IN_FLIGHT`]; 0 counts as 1).
    pub fn files_in_flight(mut self, files: usize) -> Self {
        self.files_in_flight = files.max(1);
        self
    }

    /// How many parts are in flight across all files (default
    /// [`DEFAULT_TREE_PARTS_IN_FLIGHT`]; 0 counts as 1). Each file also keeps
    /// to its engine's own limit (4 by default).
    pub fn parts_in_flight(mut self, parts: usize) -> Self {
        self.parts_in_flight = parts.max(1);
        self
    }

    /// What to do with files already there (default [`Existing::SkipSameSize`]).
    /// For an upload, "replace" means a new version on top of the file in
    /// Frame.io (nothing is deleted); for a download, the local file is
    /// replaced once the new one is complete.
    pub fn existing(mut self, existing: Existing) -> Self {
        self.existing = existing;
        self
    }

    /// Stop at the first file that fails (default false: every file is tried,
    /// and the report lists the failures).
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.fail_fast = fail_fast;
        self
    }

    /// Which version of each version stack a download takes (default the head).
    pub fn version_stacks(mut self, version_stacks: VersionStacks) -> Self {
        self.version_stacks = version_stacks;
        self
    }

    /// Where an upload keeps one manifest per file in progress, so that a
    /// rerun finishes interrupted uploads instead of starting them over (while
    /// their URLs are valid). The manifests hold pre-signed URLs: they are
    /// written readable by their owner only, and removed as files complete.
    pub fn resume_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.resume_dir = Some(dir.into());
        self
    }

    pub(crate) fn budget(&self) -> Arc<Semaphore> {
        Arc::new(Semaphore::new(self.parts_in_flight))
    }
}

/// A file a tree job transferred.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferredFile {
    /// Its path relative to the tree's local directory.
    pub path: PathBuf,
    /// The Frame.io file.
    pub file_id: String,
    /// Its length.
    pub bytes: u64,
    /// The bytes moved in this run (less than `bytes` for a resumed download;
    /// an upload counts its whole length).
    pub bytes_moved: u64,
}

/// Why a tree job left a file alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A file of the same name and size is already there.
    SameSize,
    /// A file of the same name is already there ([`Existing::Skip`]).
    Exists,
    /// A version stack, left out by [`VersionStacks::Skip`].
    VersionStack,
    /// Not a regular file or directory (a symbolic link to a directory, a
    /// socket, a device): it is not followed.
    NotAFile,
}

/// A file a tree job left alone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedFile {
    /// Its path relative to the tree's local directory.
    pub path: PathBuf,
    /// The Frame.io file, when there is one.
    pub file_id: Option<String>,
    /// Why.
    pub reason: SkipReason,
}

/// A file (or folder) a tree job could not transfer.
#[derive(Debug)]
#[non_exhaustive]
pub struct FailedFile {
    /// Its path relative to the tree's local directory.
    pub path: PathBuf,
    /// The Frame.io file or folder, when there is one.
    pub file_id: Option<String>,
    /// What went wrong.
    pub error: Error,
}

/// What a tree job did, file by file.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct TreeReport {
    /// Files transferred completely.
    pub transferred: Vec<TransferredFile>,
    /// Files left alone.
    pub skipped: Vec<SkippedFile>,
    /// Files (and folders) that failed, each with its error.
    pub failed: Vec<FailedFile>,
    /// Files not done because the job stopped first (cancelled, or
    /// [`fail_fast`](TreeOptions::fail_fast) after a failure).
    pub unfinished: Vec<PathBuf>,
    /// Folders the job created (remote ones for an upload, local for a download).
    pub folders_created: usize,
    /// Bytes moved in this run.
    pub bytes: u64,
    /// From the start of the job to its end.
    pub elapsed: Duration,
    /// Whether the job was cancelled.
    pub cancelled: bool,
}

impl TreeReport {
    /// Whether every file is there: none failed and none was left unfinished.
    pub fn is_complete(&self) -> bool {
        self.failed.is_empty() && self.unfinished.is_empty() && !self.cancelled
    }

    pub(crate) fn fail(&mut self, path: &Path, file_id: Option<String>, error: Error) {
        self.failed.push(FailedFile { path: path.to_path_buf(), file_id, error });
    }

    pub(crate) fn skip(&mut self, path: &Path, file_id: Option<String>, reason: SkipReason) {
        self.skipped.push(SkippedFile { path: path.to_path_buf(), file_id, reason });
    }
}

/// How long files in flight get to stop on their own (each engine keeps what
/// it has on cancellation) before the job lets go of them.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// What one file's transfer ends with: the file, or why not (with the
/// Frame.io file's id when there is one).
pub(crate) type FileOutcome = std::result::Result<TransferredFile, (Option<String>, Error)>;

/// Runs `start(job)` for each job, `files_in_flight` at a time, into `report`
/// and the progress: a failure stops the rest only with `fail_fast`, and a
/// stopped job lists what it did not finish.
/// (Each file's transfer is a boxed future: without the box, rustc cannot
/// prove the job's future `Send` through the closure's borrows.)
pub(crate) async fn run_files<'a, T, F>(
    report: &mut TreeReport,
    jobs: Vec<(PathBuf, T)>,
    options: &TreeOptions,
    stop: &CancellationToken,
    progress: &watch::Sender<TransferProgress>,
    mut start: F,
) where
    F: FnMut(T) -> futures::future::BoxFuture<'a, FileOutcome>,
{
    use futures::StreamExt;

    let mut waiting = jobs.into_iter();
    let mut running = futures::stream::FuturesUnordered::new();
    let mut in_flight = std::collections::BTreeSet::new();
    loop {
        while !stop.is_cancelled() && running.len() < options.files_in_flight {
            let Some((path, job)) = waiting.next() else { break };
            in_flight.insert(path.clone());
            let transfer = start(job);
            running.push(async move { (path, transfer.await) });
        }
        let next = if stop.is_cancelled() {
            match tokio::time::timeout(STOP_GRACE, running.next()).await {
                Ok(next) => next,
                Err(_) => break,
            }
        } else {
            running.next().await
        };
        let Some((path, outcome)) = next else { break };
        in_flight.remove(&path);
        match outcome {
            Ok(done) => {
                progress.send_modify(|p| p.files_done = p.files_done.saturating_add(1));
                report.bytes = report.bytes.saturating_add(done.bytes_moved);
                report.transferred.push(done);
            }
            Err((_, error)) if stop.is_cancelled() && is_cancellation(&error) => report.unfinished.push(path),
            Err((file_id, error)) => {
                tracing::debug!(path = %path.display(), %error, "tree transfer: a file failed");
                progress.send_modify(|p| p.files_failed = p.files_failed.saturating_add(1));
                report.fail(&path, file_id, error);
                if options.fail_fast {
                    stop.cancel();
                }
            }
        }
    }
    report.unfinished.extend(in_flight);
    report.unfinished.extend(waiting.map(|(path, _)| path));
}

/// Whether `error` is a transfer stopping because it was told to.
fn is_cancellation(error: &Error) -> bool {
    match error {
        Error::Download(e) => e.is_cancelled(),
        Error::Upload(e) => e.is_cancelled(),
        Error::FileUpload(crate::error::FileUploadError::Parts { source, .. }) => source.is_cancelled(),
        _ => false,
    }
}
