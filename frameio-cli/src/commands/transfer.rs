//! `fio upload` and `fio download`: files and folders between disk and
//! Frame.io, on frameio-ext's transfer engines, with progress bars.
//!
//! Every local path and the destination are checked before the first byte
//! moves, so a typo fails at once rather than halfway. A file that fails does
//! not stop the others; the command then exits with the partial-transfer
//! code, and the report lists what failed.
//!
//! Both directions resume. Files already at the destination with the same
//! name and size are left alone (a rerun after an interruption does only
//! what is left); an upload interrupted mid-file keeps a manifest in the
//! config directory's `resume/` and the rerun sends only the missing parts,
//! to the same Frame.io file; a download keeps its `<name>.part` and picks up
//! from it.
//!
//! A folder goes to a folder of its name: `fio upload ./Day01 DEST` fills
//! `DEST/Day01`, `fio download FOLDER DIR` fills `DIR/<folder name>`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use frameio_ext::transfer::{
    DownloadOptions, Existing, NewFile, SkipReason, TreeOptions, TreeReport, is_safe_local_name,
};
use frameio_ext::types::{AssetWithIncludes, FileStatus, FolderCreateParams, FolderCreateParamsData};
use frameio_ext::upload::UploadOptions;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::cli::{DownloadArgs, UploadArgs};
use crate::error::{Failure, Result};
use crate::output::{self, Table};
use crate::progress::Bars;
use crate::resolve::{Asset, FolderRef, Want, resolve, wrong_kind};
use crate::session::Ctx;
use crate::target::Target;

/// Single files uploaded at once (each with its parts in flight).
const FILES_AT_ONCE: usize = 3;

/// What happened to one file.
#[derive(Debug)]
pub enum Outcome {
    /// Moved; with the bytes an earlier run had already moved.
    Done { resumed: u64 },
    /// Left alone: already there.
    Skipped(&'static str),
    /// Failed.
    Failed(Failure),
    /// Not reached: the job stopped first.
    Unfinished,
}

/// One file of a transfer report.
#[derive(Debug)]
pub struct Line {
    /// The local path.
    pub path: PathBuf,
    /// Its size, when known.
    pub bytes: Option<u64>,
    /// The Frame.io file, when there is one.
    pub id: Option<String>,
    pub outcome: Outcome,
}

/// `fio upload PATH... DEST`.
pub async fn upload(ctx: &Ctx, args: UploadArgs, cancel: &CancellationToken) -> Result<()> {
    let (mut files, mut dirs) = (Vec::new(), Vec::new());
    for path in args.paths {
        let meta = std::fs::metadata(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Failure::not_found(format!("{} does not exist", path.display())),
            _ => Failure::io(&path, &e),
        })?;
        if meta.is_dir() {
            let name = local_name(&path)?;
            dirs.push((path, name));
        } else if meta.is_file() {
            files.push((path, meta.len()));
        } else {
            return Err(Failure::usage(format!("{} is neither a file nor a folder", path.display())));
        }
    }
    let folder = resolve(ctx, &Target::parse(&args.dest)?, Want::Folder).await?.into_folder("DEST")?;
    let resume = match ctx.vault() {
        Ok(vault) => Some(vault.paths().resume_dir()?),
        Err(_) => None,
    };
    let mut lines = upload_files(ctx, &folder, files, resume.as_deref(), cancel).await?;
    for (dir, name) in dirs {
        if cancel.is_cancelled() {
            lines.push(Line { path: dir, bytes: None, id: None, outcome: Outcome::Unfinished });
            continue;
        }
        let target = folder_named(ctx, &folder, &name).await?;
        let bars = Bars::new();
        let (progress, follower) = bars.follow(&format!("{name}/"), 0);
        let mut options = TreeOptions::new().progress(progress).cancel(cancel.clone());
        if let Some(resume) = &resume {
            options = options.resume_dir(resume);
        }
        let report = ctx.client.transfers().upload_tree(&dir, &folder.account_id, &target, options).await;
        follower.finish(report.as_ref().is_ok_and(TreeReport::is_complete)).await;
        lines.extend(tree_lines(&dir, report?));
    }
    let place = format!("into \"{}\" ({})", folder.name, folder.folder_id);
    finish(ctx, "upload", &place, json!({ "folder_id": folder.folder_id }), lines, cancel)
}

/// The name a local folder gets in Frame.io.
fn local_name(path: &Path) -> Result<String> {
    let absolute = std::fs::canonicalize(path).map_err(|e| Failure::io(path, &e))?;
    absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Failure::usage(format!("{} has no name to give its folder in Frame.io", path.display())))
}

/// The subfolder of `parent` named `name`, created if there is none (so a
/// rerun fills the same one).
async fn folder_named(ctx: &Ctx, parent: &FolderRef, name: &str) -> Result<String> {
    let mut children = ctx.client.folders_list().account_id(&parent.account_id).folder_id(&parent.folder_id).stream();
    while let Some(folder) = children.try_next().await? {
        if folder.name == name {
            return Ok(folder.id);
        }
    }
    let body = FolderCreateParams { data: FolderCreateParamsData { name: Some(name.to_string()) } };
    let created =
        ctx.client.folders_create().account_id(&parent.account_id).folder_id(&parent.folder_id).body(body).await?;
    Ok(created.data.id)
}

/// Uploads single files into `folder`, a few at a time, with a bar each,
/// leaving alone those already there (same name and size, complete).
pub async fn upload_files(
    ctx: &Ctx,
    folder: &FolderRef,
    files: Vec<(PathBuf, u64)>,
    resume: Option<&Path>,
    cancel: &CancellationToken,
) -> Result<Vec<Line>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let present = complete_files(ctx, folder).await?;
    let bars = Bars::new();
    let lines = futures::stream::iter(files)
        .map(|(path, size)| {
            let (bars, present) = (bars.clone(), &present);
            async move {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                if let Some(id) = present.get(&(name.clone(), size)) {
                    let outcome = Outcome::Skipped("already there (same name and size)");
                    return Line { path, bytes: Some(size), id: Some(id.clone()), outcome };
                }
                if cancel.is_cancelled() {
                    return Line { path, bytes: Some(size), id: None, outcome: Outcome::Unfinished };
                }
                let (progress, follower) = bars.follow(&name, size);
                let mut options = UploadOptions::new().progress(progress).cancel(cancel.clone());
                if let Some(dir) = resume {
                    options = options.manifest(dir.join(manifest_name(&path, folder)));
                }
                let uploaded = async {
                    let file = NewFile::open(&path).await?;
                    ctx.client.uploads().local(&folder.account_id, &folder.folder_id, file, options).await
                }
                .await;
                follower.finish(uploaded.is_ok()).await;
                match uploaded {
                    Ok(file) => Line { path, bytes: Some(size), id: file.id, outcome: Outcome::Done { resumed: 0 } },
                    Err(e) => Line { path, bytes: Some(size), id: None, outcome: Outcome::Failed(e.into()) },
                }
            }
        })
        .buffered(FILES_AT_ONCE)
        .collect()
        .await;
    Ok(lines)
}

/// The complete files of a folder, by (name, size).
async fn complete_files(ctx: &Ctx, folder: &FolderRef) -> Result<HashMap<(String, u64), String>> {
    let items: Vec<AssetWithIncludes> = ctx
        .client
        .files_list()
        .account_id(&folder.account_id)
        .folder_id(&folder.folder_id)
        .stream()
        .try_collect()
        .await?;
    Ok(items
        .into_iter()
        .filter_map(|item| match item {
            AssetWithIncludes::File(f) if f.status != FileStatus::Created => {
                Some(((f.name, u64::try_from(f.file_size).unwrap_or(0)), f.id))
            }
            _ => None,
        })
        .collect())
}

/// A manifest file name unique to (local file, destination folder), stable
/// across runs: FNV-1a of both.
fn manifest_name(path: &Path, folder: &FolderRef) -> String {
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let key = format!("{}\0{}\0{}", absolute.display(), folder.account_id, folder.folder_id);
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("upload-{hash:016x}.json")
}

/// `fio download SRC DIR`.
pub async fn download(ctx: &Ctx, args: DownloadArgs, cancel: &CancellationToken) -> Result<()> {
    if args.dir.exists() && !args.dir.is_dir() {
        return Err(Failure::usage(format!("DIR {} is a file, not a folder", args.dir.display())));
    }
    let found = resolve(ctx, &Target::parse(&args.source)?, Want::Any).await?;
    std::fs::create_dir_all(&args.dir).map_err(|e| Failure::io(&args.dir, &e))?;
    let account_id = found.account_id.clone();
    let (file_id, name, size) = match found.asset {
        Asset::File(file) => (file.id, file.name, file.file_size),
        Asset::Stack(stack) => match stack.head_version {
            Some(head) => (head.id, head.name, head.file_size),
            None => {
                return Err(wrong_kind("SRC", &Asset::Stack(stack), "a file or folder (its head version is unknown)"));
            }
        },
        folder @ (Asset::Folder(_) | Asset::Project(_)) => {
            let folder = crate::resolve::Found { account_id, asset: folder }.into_folder("SRC")?;
            return download_folder(ctx, &folder, &args.dir, cancel).await;
        }
    };
    let lines = vec![download_file(ctx, &account_id, &file_id, &name, size, &args.dir, cancel).await];
    let place = format!("into {}", args.dir.display());
    finish(ctx, "download", &place, json!({ "dir": args.dir }), lines, cancel)
}

/// Downloads one file into `dir`, with a bar.
pub async fn download_file(
    ctx: &Ctx,
    account_id: &str,
    file_id: &str,
    name: &str,
    size: i64,
    dir: &Path,
    cancel: &CancellationToken,
) -> Line {
    let size = u64::try_from(size).unwrap_or(0);
    let bars = Bars::new();
    let (progress, follower) = bars.follow(name, size);
    let options = DownloadOptions::new().progress(progress).cancel(cancel.clone()).existing(Existing::SkipSameSize);
    let report = ctx.client.transfers().download_file(account_id, file_id, dir, options).await;
    follower.finish(report.is_ok()).await;
    let path = dir.join(name);
    match report {
        Ok(report) => Line {
            path: report.path.unwrap_or(path),
            bytes: Some(report.bytes),
            id: Some(file_id.to_string()),
            outcome: if report.skipped {
                Outcome::Skipped("already there (same size)")
            } else {
                Outcome::Done { resumed: report.bytes_resumed }
            },
        },
        Err(e) => Line { path, bytes: Some(size), id: Some(file_id.to_string()), outcome: Outcome::Failed(e.into()) },
    }
}

/// Mirrors `folder` into `dir/<its name>`.
async fn download_folder(ctx: &Ctx, folder: &FolderRef, dir: &Path, cancel: &CancellationToken) -> Result<()> {
    if !is_safe_local_name(&folder.name) {
        return Err(Failure::usage(format!(
            "the folder's name {:?} cannot be a local folder name; download its contents with its id into a folder of yours",
            folder.name
        )));
    }
    let local = dir.join(&folder.name);
    let bars = Bars::new();
    let (progress, follower) = bars.follow(&format!("{}/", folder.name), 0);
    let options = TreeOptions::new().progress(progress).cancel(cancel.clone());
    let report = ctx.client.transfers().download_tree(&folder.account_id, &folder.folder_id, &local, options).await;
    follower.finish(report.as_ref().is_ok_and(TreeReport::is_complete)).await;
    let lines = tree_lines(&local, report?);
    let place = format!("into {}", local.display());
    finish(ctx, "download", &place, json!({ "dir": local }), lines, cancel)
}

/// A tree job's report as lines, paths under `root`.
fn tree_lines(root: &Path, report: TreeReport) -> Vec<Line> {
    let mut lines = Vec::new();
    for file in report.transferred {
        let resumed = file.bytes.saturating_sub(file.bytes_moved);
        lines.push(Line {
            path: root.join(file.path),
            bytes: Some(file.bytes),
            id: Some(file.file_id),
            outcome: Outcome::Done { resumed },
        });
    }
    for file in report.skipped {
        let why = match file.reason {
            SkipReason::SameSize => "already there (same name and size)",
            SkipReason::Exists => "already there",
            SkipReason::VersionStack => "a version stack, left out",
            SkipReason::NotAFile => "not a regular file or folder",
            _ => "left alone",
        };
        lines.push(Line { path: root.join(file.path), bytes: None, id: file.file_id, outcome: Outcome::Skipped(why) });
    }
    for file in report.failed {
        let outcome = Outcome::Failed(file.error.into());
        lines.push(Line { path: root.join(file.path), bytes: None, id: file.file_id, outcome });
    }
    for path in report.unfinished {
        lines.push(Line { path: root.join(path), bytes: None, id: None, outcome: Outcome::Unfinished });
    }
    lines
}

/// Prints the report and says how the transfer ended: interrupted (130), a
/// lone file's own failure, or partial (6) when some of several failed.
fn finish(
    ctx: &Ctx,
    verb: &str,
    place: &str,
    mut json_head: serde_json::Value,
    lines: Vec<Line>,
    cancel: &CancellationToken,
) -> Result<()> {
    let done = lines.iter().filter(|l| matches!(l.outcome, Outcome::Done { .. })).count();
    let skipped = lines.iter().filter(|l| matches!(l.outcome, Outcome::Skipped(_))).count();
    if ctx.json {
        let entry = |l: &Line| json!({ "path": l.path, "bytes": l.bytes, "id": l.id });
        let pick =
            |want: fn(&Outcome) -> bool| lines.iter().filter(|l| want(&l.outcome)).map(entry).collect::<Vec<_>>();
        json_head["transferred"] = json!(pick(|o| matches!(o, Outcome::Done { .. })));
        json_head["skipped"] = json!(pick(|o| matches!(o, Outcome::Skipped(_))));
        json_head["unfinished"] = json!(pick(|o| matches!(o, Outcome::Unfinished)));
        json_head["failed"] = json!(
            lines
                .iter()
                .filter_map(|l| match &l.outcome {
                    Outcome::Failed(e) => Some(json!({ "path": l.path, "id": l.id, "error": e.to_string() })),
                    _ => None,
                })
                .collect::<Vec<_>>()
        );
        output::json(&json_head)?;
    } else {
        let mut table = Table::new(&["PATH", "SIZE", "RESULT", "ID"]);
        for line in &lines {
            let result = match &line.outcome {
                Outcome::Done { resumed: 0 } => format!("{verb}ed"),
                Outcome::Done { resumed } => format!("{verb}ed (resumed after {})", output::bytes(*resumed)),
                Outcome::Skipped(why) => format!("skipped: {why}"),
                Outcome::Failed(e) => format!("failed: {e}"),
                Outcome::Unfinished => "not started".to_string(),
            };
            let size = line.bytes.map(output::bytes).unwrap_or_else(|| "-".into());
            table.row(vec![line.path.display().to_string(), size, result, line.id.clone().unwrap_or_default()]);
        }
        table.print()?;
        let skipped = if skipped > 0 { format!(", {skipped} already there") } else { String::new() };
        output::out(&format!("\n{done} of {} {verb}ed {place}{skipped}\n", output::count(lines.len(), "file")))?;
    }
    let total = lines.len();
    let mut failed: Vec<(PathBuf, Failure)> = lines
        .into_iter()
        .filter_map(|l| match l.outcome {
            Outcome::Failed(e) => Some((l.path, e)),
            _ => None,
        })
        .collect();
    if cancel.is_cancelled() {
        return Err(Failure::interrupted(format!(
            "interrupted: {done} of {} {verb}ed; run the same command again to resume",
            output::count(total, "file")
        )));
    }
    match failed.len() {
        0 => Ok(()),
        1 if total == 1 => {
            let (path, failure) = failed.remove(0);
            Err(failure.context(path.display()))
        }
        n => {
            let names: Vec<String> = failed.iter().take(5).map(|(p, _)| p.display().to_string()).collect();
            let more = if n > 5 { format!(" and {} more", n - 5) } else { String::new() };
            Err(Failure::partial(format!(
                "{n} of {} failed to {verb}: {}{more}",
                output::count(total, "file"),
                names.join(", ")
            )))
        }
    }
}
