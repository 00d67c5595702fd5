//! `fio upload` and `fio download`: files and folders between disk and
//! Frame.io, with progress bars.
//!
//! Every local path and the destination are checked before the first byte
//! moves, so a typo fails at once rather than halfway. Files are uploaded a
//! few at a time (each in parallel parts); a file that fails does not stop
//! the others, and the command then exits with the "partial transfer" code
//! listing what failed.

use std::path::{Path, PathBuf};

use frameio_ext::transfer::NewFile;
use frameio_ext::types::FileWithUploadUrls;
use frameio_ext::upload::UploadOptions;
use futures::StreamExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::cli::UploadArgs;
use crate::error::{Failure, Result};
use crate::output::{self, Table};
use crate::progress::Bars;
use crate::resolve::{FolderRef, Want, resolve};
use crate::session::Ctx;
use crate::target::Target;

/// Files uploaded at once.
const FILES_AT_ONCE: usize = 3;

/// One local file's outcome.
#[derive(Debug)]
pub struct Sent {
    pub path: PathBuf,
    pub size: u64,
    pub outcome: Result<FileWithUploadUrls>,
}

/// `fio upload PATH... DEST`.
pub async fn upload(ctx: &Ctx, args: UploadArgs, cancel: &CancellationToken) -> Result<()> {
    let mut files = Vec::new();
    for path in args.paths {
        let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Failure::not_found(format!("{} does not exist", path.display())),
            _ => Failure::io(&path, &e),
        })?;
        if meta.is_dir() {
            return Err(Failure::usage(format!(
                "{} is a folder: uploading folders needs the transfer engine, not in this build",
                path.display()
            )));
        }
        files.push((path, meta.len()));
    }
    let folder = resolve(ctx, &Target::parse(&args.dest)?, Want::Folder).await?.into_folder("DEST")?;
    let sent = upload_files(ctx, &folder, files, cancel).await;
    report(ctx, &folder, sent, cancel)
}

/// Uploads `files` into `folder`, a few at a time, with a bar each.
pub async fn upload_files(
    ctx: &Ctx,
    folder: &FolderRef,
    files: Vec<(PathBuf, u64)>,
    cancel: &CancellationToken,
) -> Vec<Sent> {
    let bars = Bars::new();
    futures::stream::iter(files)
        .map(|(path, size)| {
            let bars = bars.clone();
            async move {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let (progress, follower) = bars.follow_upload(&name, size);
                let outcome = upload_one(ctx, folder, &path, progress, cancel).await;
                follower.finish(outcome.is_ok()).await;
                Sent { path, size, outcome }
            }
        })
        .buffered(FILES_AT_ONCE)
        .collect()
        .await
}

async fn upload_one(
    ctx: &Ctx,
    folder: &FolderRef,
    path: &Path,
    progress: tokio::sync::watch::Sender<frameio_ext::upload::UploadProgress>,
    cancel: &CancellationToken,
) -> Result<FileWithUploadUrls> {
    let file = NewFile::open(path).await?;
    let options = UploadOptions::new().progress(progress).cancel(cancel.clone());
    Ok(ctx.client.uploads().local(&folder.account_id, &folder.folder_id, file, options).await?)
}

/// Prints what was uploaded; fails with the partial-transfer code if any file failed.
fn report(ctx: &Ctx, folder: &FolderRef, sent: Vec<Sent>, cancel: &CancellationToken) -> Result<()> {
    let failed: Vec<&Sent> = sent.iter().filter(|s| s.outcome.is_err()).collect();
    if ctx.json {
        let uploaded: Vec<_> = sent.iter().filter_map(|s| s.outcome.as_ref().ok()).collect();
        let failures: Vec<_> = failed
            .iter()
            .filter_map(|s| s.outcome.as_ref().err().map(|e| json!({ "path": s.path, "error": e.to_string() })))
            .collect();
        output::json(&json!({ "folder_id": folder.folder_id, "uploaded": uploaded, "failed": failures }))?;
    } else {
        let mut table = Table::new(&["PATH", "SIZE", "RESULT", "ID"]);
        for s in &sent {
            let (result, id) = match &s.outcome {
                Ok(file) => ("uploaded".to_string(), file.id.clone().unwrap_or_default()),
                Err(e) => (format!("failed: {e}"), String::new()),
            };
            table.row(vec![s.path.display().to_string(), output::bytes(s.size), result, id]);
        }
        table.print()?;
        let done = sent.len() - failed.len();
        output::out(&format!(
            "\n{done} of {} uploaded into \"{}\" ({})\n",
            output::count(sent.len(), "file"),
            folder.name,
            folder.folder_id
        ))?;
    }
    if cancel.is_cancelled() {
        let done = sent.len() - failed.len();
        return Err(Failure::interrupted(format!(
            "interrupted: {done} of {} uploaded",
            output::count(sent.len(), "file")
        )));
    }
    let total = sent.len();
    let names: Vec<String> = failed.iter().map(|s| s.path.display().to_string()).collect();
    let mut failures = sent.into_iter().filter_map(|s| s.outcome.err().map(|e| (s.path, e)));
    match (failures.next(), names.len()) {
        (None, _) => Ok(()),
        (Some((path, only)), 1) if total == 1 => Err(only.context(path.display())),
        (Some(_), n) => Err(Failure::partial(format!("{n} of {total} files failed to upload: {}", names.join(", ")))),
    }
}

/// `fio download SRC DIR`.
pub async fn download(ctx: &Ctx, args: crate::cli::DownloadArgs, cancel: &CancellationToken) -> Result<()> {
    let _ = (ctx, cancel);
    Err(Failure::usage(format!("downloading {} needs the transfer engine, not in this build", args.source)))
}
