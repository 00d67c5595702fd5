//! `fio comments export`: every comment of a file (with its author) as CSV
//! for a spreadsheet, or as the API's JSON.
//!
//! The CSV has one row per comment, replies included (each reply names the
//! comment it answers in `reply_to`), in the order Frame.io lists them.

use std::path::Path;

use frameio_ext::types::{Comment, CommentInclude, CommentWithIncludes, User};
use futures::TryStreamExt;

use crate::cli::{CommentsExportArgs, ExportFormat};
use crate::error::{Failure, Result};
use crate::output;
use crate::resolve::{Want, resolve};
use crate::session::Ctx;
use crate::target::Target;

const COLUMNS: [&str; 10] =
    ["id", "reply_to", "created_at", "author", "email", "timestamp", "duration", "page", "completed_at", "text"];

/// `fio comments export FILE`.
pub async fn export(ctx: &Ctx, args: CommentsExportArgs) -> Result<()> {
    let format = args.format.unwrap_or(if ctx.json { ExportFormat::Json } else { ExportFormat::Csv });
    let (account_id, file) = resolve(ctx, &Target::parse(&args.target)?, Want::File).await?.into_file("TARGET")?;
    let comments: Vec<CommentWithIncludes> = ctx
        .client
        .comments_index()
        .account_id(&account_id)
        .file_id(&file.id)
        .include(vec![CommentInclude::Owner, CommentInclude::Replies])
        .stream()
        .try_collect()
        .await?;
    let text = match format {
        ExportFormat::Json => {
            serde_json::to_string_pretty(&comments).map_err(|e| Failure::internal(e.to_string()))? + "\n"
        }
        ExportFormat::Csv => csv_of(&comments)?,
    };
    match &args.output {
        None => output::out(&text),
        Some(path) => {
            write_file(path, &text)?;
            output::note(format!("{} comments of \"{}\" written to {}", comments.len(), file.name, path.display()));
            Ok(())
        }
    }
}

/// The CSV export (RFC 4180, a header row first).
pub fn csv_of(comments: &[CommentWithIncludes]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| Failure::internal(format!("could not write CSV: {e}"));
    writer.write_record(COLUMNS).map_err(fail)?;
    for comment in comments {
        writer.write_record(record(comment, None)).map_err(fail)?;
        for reply in &comment.replies {
            writer.write_record(reply_record(reply, &comment.id)).map_err(fail)?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| Failure::internal(format!("could not write CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| Failure::internal(e.to_string()))
}

fn record(c: &CommentWithIncludes, reply_to: Option<&str>) -> [String; 10] {
    let (author, email) = person(c.owner.as_ref());
    [
        c.id.clone(),
        reply_to.unwrap_or_default().to_string(),
        c.created_at.to_rfc3339(),
        author,
        email,
        c.timestamp.to_string(),
        c.duration.map(|d| d.to_string()).unwrap_or_default(),
        c.page.map(|p| p.to_string()).unwrap_or_default(),
        c.completed_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
        c.text.clone(),
    ]
}

fn reply_record(c: &Comment, reply_to: &str) -> [String; 10] {
    [
        c.id.clone(),
        reply_to.to_string(),
        c.created_at.to_rfc3339(),
        String::new(),
        String::new(),
        c.timestamp.to_string(),
        c.duration.map(|d| d.to_string()).unwrap_or_default(),
        c.page.map(|p| p.to_string()).unwrap_or_default(),
        c.completed_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
        c.text.clone(),
    ]
}

fn person(user: Option<&User>) -> (String, String) {
    match user {
        Some(user) => (user.name.clone().unwrap_or_default(), user.email.clone()),
        None => (String::new(), String::new()),
    }
}

/// Writes an export to `path` (not private: it is the user's document).
fn write_file(path: &Path, text: &str) -> Result<()> {
    if path.is_dir() {
        return Err(Failure::usage(format!("--output {} is a folder; give a file name", path.display())));
    }
    std::fs::write(path, text).map_err(|e| Failure::io(path, &e))?;
    Ok(())
}
