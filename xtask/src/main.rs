//! `cargo xtask regen [--check]`: generate `frameio-gen` from the published spec.
//!
//! `regen` writes the generated client, its operation table, its httpmock helpers
//! (`mock.rs`) and the final 3.0 document (`openapi/generated/`, so every change is a
//! reviewable diff).
//! `regen --check` regenerates in memory and fails, listing what differs, when
//! the committed output is stale. Both print each API's operation count and write
//! (or check) the operations table in `README.md`. `repairs` lists every named spec
//! repair.

mod decoding;
mod doc_examples;
mod downgrade;
mod error;
mod ext_client;
mod generate;
mod load;
mod merge;
mod mock;
mod name;
mod operations_table;
mod pagination;
mod pipeline;
mod redact;
mod repair;
mod rust_types;
#[cfg(test)]
mod surface;
mod timestamps;
mod union_accessors;
mod walk;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> anyhow::Result<()> {
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    // `--root DIR` points the pipeline at another workspace (the CLI tests use it).
    let root = match args.iter().position(|a| *a == "--root") {
        Some(i) if i + 1 < args.len() => PathBuf::from(args.drain(i..=i + 1).nth(1).unwrap_or_default()),
        Some(_) => bail!("--root needs a directory"),
        None => workspace_root(),
    };
    match args.as_slice() {
        ["regen"] => regen(&root, false),
        ["regen", "--check"] => regen(&root, true),
        ["repairs"] => {
            for api in pipeline::APIS {
                for r in api.repairs {
                    println!("{:<4} {:<36} {}", api.name, r.name, r.quirk);
                }
            }
            Ok(())
        }
        _ => bail!("usage: cargo xtask regen [--check] [--root DIR] | cargo xtask repairs"),
    }
}

/// The file whose operations section `regen` writes.
const README: &str = "README.md";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

fn regen(root: &Path, check: bool) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut outputs = Vec::new();
    let mut tables = Vec::new();
    for api in pipeline::APIS {
        let api_outputs = pipeline::run(root, api)?;
        let spec = format!("openapi/generated/{}.json", api.name);
        let doc = api_outputs.iter().find(|(path, _)| *path == spec).map(|(_, text)| serde_json::from_str(text));
        let rows = operations_table::rows(&doc.with_context(|| format!("no {spec} among the outputs"))??);
        println!("{}", operations_table::summary(api.name, &rows));
        tables.push((operations_table::title(api.name), rows));
        outputs.extend(api_outputs);
    }
    let readme = std::fs::read_to_string(root.join(README)).with_context(|| format!("reading {README}"))?;
    outputs.push((README.to_string(), operations_table::splice(README, &readme, &operations_table::render(&tables))?));
    let mut stale = Vec::new();
    for (path, contents) in outputs {
        let full = root.join(&path);
        let current = std::fs::read_to_string(&full).unwrap_or_default();
        if current == contents {
            continue;
        }
        if check {
            stale.push(summarize(&path, &current, &contents));
        } else {
            std::fs::create_dir_all(full.parent().expect("outputs are in folders"))?;
            std::fs::write(&full, contents).with_context(|| format!("writing {path}"))?;
            println!("wrote {path}");
        }
    }
    if !stale.is_empty() {
        bail!("generated code is stale; run `cargo xtask regen` and commit the result:\n{}", stale.join("\n"));
    }
    println!("regen{} done in {:.2?}", if check { " --check" } else { "" }, started.elapsed());
    Ok(())
}

/// `path: +N -M lines`, then the first changed lines, so CI logs say what moved.
fn summarize(path: &str, old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let (mut added, mut removed, mut sample) = (0, 0, Vec::new());
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            similar::ChangeTag::Insert => {
                added += 1;
                '+'
            }
            similar::ChangeTag::Delete => {
                removed += 1;
                '-'
            }
            similar::ChangeTag::Equal => continue,
        };
        if sample.len() < 8 {
            sample.push(format!("    {sign} {}", change.value().trim_end()));
        }
    }
    format!("  {path}: +{added} -{removed} lines\n{}", sample.join("\n"))
}
