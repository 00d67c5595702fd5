//! `fio demo`: `fio`'s own commands against an embedded fake Frame.io
//! ([`frameio_fake::Fake`] with its demo tree) started in this process on
//! 127.0.0.1: no token, no network, nothing written outside a temporary
//! folder, which is removed at the end.
//!
//! It lists the projects and the demo project's tree, uploads a generated
//! file (in several parts), downloads it back and checks that every byte
//! came back, printing each step as the command a user would type.

use std::path::{Path, PathBuf};

use frameio_ext::Credentials;
use frameio_fake::{Demo, Fake};
use tokio_util::sync::CancellationToken;

use crate::cli::{Global, LsArgs, TreeArgs};
use crate::commands::browse;
use crate::commands::transfer::{self, Outcome};
use crate::error::{Failure, Result};
use crate::output;
use crate::resolve::FolderRef;
use crate::session::{self, Ctx};

/// The generated file: a little over 3 MiB, so it goes up in 4 parts of 1 MiB.
const DEMO_FILE_SIZE: usize = 3 * 1024 * 1024 + 4321;
const DEMO_FILE_NAME: &str = "A002_C001_demo.mov";
const PART_SIZE: u64 = 1024 * 1024;

/// `fio demo`.
pub async fn run(global: &Global, cancel: &CancellationToken) -> Result<()> {
    let fake = Fake::builder()
        .demo_data()
        .part_size(PART_SIZE)
        .start()
        .await
        .map_err(|e| Failure::local(format!("could not start the embedded fake Frame.io: {e}")))?;
    let demo = fake.demo().cloned().ok_or_else(|| Failure::internal("the fake has no demo tree"))?;
    let client = session::client(Credentials::bearer(fake.token()), Some(fake.base_url()))?;
    let global = Global { json: false, account: Some(demo.account_id.clone()), ..global.clone() };
    let ctx = Ctx::with_client(client, &global);
    let scratch = Scratch::new()?;

    say(&format!(
        "fio demo: the commands below run against an embedded fake Frame.io at {} (no token, no network).\n",
        fake.base_url()
    ))?;
    step("fio ls")?;
    browse::ls(&ctx, LsArgs { target: None }).await?;

    let project_url = format!("https://next.frame.io/project/{}", demo.project_id);
    step(&format!("fio tree {project_url}"))?;
    browse::tree(&ctx, TreeArgs { target: project_url, depth: None }).await?;

    let (file_id, original) = upload(&ctx, &fake, &demo, &scratch, cancel).await?;
    download(&ctx, &demo, &file_id, &original, &scratch, cancel).await?;
    say("\nDone. Next: `fio login`, then the same commands against your Frame.io (`fio --help`).\n")
}

/// Generates the demo file and uploads it into `Dailies`; its id and bytes.
async fn upload(
    ctx: &Ctx,
    fake: &Fake,
    demo: &Demo,
    scratch: &Scratch,
    cancel: &CancellationToken,
) -> Result<(String, Vec<u8>)> {
    let bytes = generated(DEMO_FILE_SIZE);
    let path = scratch.path().join(DEMO_FILE_NAME);
    std::fs::write(&path, &bytes).map_err(|e| Failure::io(&path, &e))?;
    let dailies = format!("https://next.frame.io/project/{}/view/{}", demo.project_id, demo.dailies_folder_id);
    step(&format!("fio upload {DEMO_FILE_NAME} {dailies}    # a generated file, in a temporary folder"))?;
    let folder = FolderRef {
        account_id: demo.account_id.clone(),
        folder_id: demo.dailies_folder_id.clone(),
        name: "Dailies".into(),
    };
    let lines = transfer::upload_files(ctx, &folder, vec![(path, bytes.len() as u64)], None, cancel).await?;
    let line = lines.into_iter().next().ok_or_else(|| Failure::internal("nothing was uploaded"))?;
    let id = match line.outcome {
        Outcome::Done { .. } => line.id.ok_or_else(|| Failure::internal("the uploaded file has no id"))?,
        Outcome::Failed(failure) => return Err(failure),
        _ => return Err(Failure::internal("the upload did not run")),
    };
    let parts = fake.requests_to(frameio_fake::STORAGE_UPLOAD).len();
    say(&format!("uploaded {DEMO_FILE_NAME} ({}) in {parts} parts as file {id}\n", output::bytes(bytes.len() as u64)))?;
    Ok((id, bytes))
}

/// Downloads the file back and checks it is byte for byte what was uploaded.
async fn download(
    ctx: &Ctx,
    demo: &Demo,
    file_id: &str,
    original: &[u8],
    scratch: &Scratch,
    cancel: &CancellationToken,
) -> Result<()> {
    let dir = scratch.path().join("downloads");
    std::fs::create_dir_all(&dir).map_err(|e| Failure::io(&dir, &e))?;
    step(&format!("fio download {file_id} ./downloads"))?;
    let size = i64::try_from(original.len()).unwrap_or(i64::MAX);
    let line = transfer::download_file(ctx, &demo.account_id, file_id, DEMO_FILE_NAME, size, &dir, cancel).await;
    if let Outcome::Failed(failure) = line.outcome {
        return Err(failure);
    }
    let back = std::fs::read(&line.path).map_err(|e| Failure::io(&line.path, &e))?;
    say(&format!("downloaded {} ({})\n", DEMO_FILE_NAME, output::bytes(back.len() as u64)))?;
    if back != original {
        let first = back.iter().zip(original).position(|(a, b)| a != b).unwrap_or(back.len().min(original.len()));
        return Err(Failure::internal(format!(
            "the downloaded file differs from the uploaded one ({} bytes against {}, first difference at byte {first})",
            back.len(),
            original.len()
        )));
    }
    say(&format!("verified: the {} bytes downloaded are the bytes uploaded\n", back.len()))
}

/// Deterministic bytes that differ at every offset, so a misplaced part shows.
fn generated(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        })
        .collect()
}

fn step(command: &str) -> Result<()> {
    say(&format!("\n$ {command}\n"))
}

fn say(text: &str) -> Result<()> {
    output::out(text)
}

/// A temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Self> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let dir = std::env::temp_dir().join(format!("fio-demo-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| Failure::io(&dir, &e))?;
        Ok(Self(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
