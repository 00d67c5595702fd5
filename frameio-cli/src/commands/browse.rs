//! `fio ls` and `fio tree`: what is in a folder, a project or a version
//! stack, one level or all of them.

use std::collections::HashMap;

use frameio_ext::tree::{self, Entry, ProjectEntry, WalkOptions};
use frameio_ext::types::AssetWithIncludes;
use futures::TryStreamExt;
use serde_json::json;

use crate::cli::{LsArgs, TreeArgs};
use crate::error::Result;
use crate::output::{self, Table};
use crate::resolve::{Asset, Want, resolve};
use crate::session::Ctx;
use crate::target::Target;

/// `fio ls [TARGET]`.
pub async fn ls(ctx: &Ctx, args: LsArgs) -> Result<()> {
    let Some(target) = args.target else { return projects(ctx).await };
    let found = resolve(ctx, &Target::parse(&target)?, Want::Folder).await?;
    let account_id = found.account_id.clone();
    let items: Vec<AssetWithIncludes> = match found.asset {
        Asset::File(file) => vec![AssetWithIncludes::File(file)],
        Asset::Stack(stack) => {
            ctx.client
                .version_stacks_index()
                .account_id(&account_id)
                .version_stack_id(&stack.id)
                .stream()
                .try_collect()
                .await?
        }
        other => {
            let folder =
                crate::resolve::Found { account_id: account_id.clone(), asset: other }.into_folder("TARGET")?;
            ctx.client
                .folders_index()
                .account_id(&account_id)
                .folder_id(&folder.folder_id)
                .stream()
                .try_collect()
                .await?
        }
    };
    if ctx.json {
        return output::json(&items);
    }
    let mut table = Table::new(&["TYPE", "NAME", "SIZE", "UPDATED", "ID"]);
    for item in &items {
        table.row(row(item));
    }
    table.print()
}

/// Every project the user can reach (invited ones included), in `--account` if given.
async fn projects(ctx: &Ctx) -> Result<()> {
    let accounts = ctx.account_ids().await?;
    let mut workspaces = HashMap::new();
    for account_id in &accounts {
        let mut listing = ctx.client.workspaces_index().account_id(account_id).stream();
        while let Some(workspace) = listing.try_next().await? {
            workspaces.insert(workspace.id, workspace.name);
        }
    }
    let found: Vec<ProjectEntry> = tree::projects(&ctx.client)
        .try_filter(|entry| futures::future::ready(accounts.contains(&entry.account_id)))
        .try_collect()
        .await?;
    let workspace_of = |entry: &ProjectEntry| match workspaces.get(&entry.workspace_id) {
        Some(name) if !entry.invited => name.clone(),
        _ => "(invited)".to_string(),
    };
    if ctx.json {
        let list: Vec<_> = found
            .iter()
            .map(|entry| {
                json!({
                    "account_id": entry.account_id,
                    "workspace_id": entry.workspace_id,
                    "workspace": workspace_of(entry),
                    "invited": entry.invited,
                    "project": entry.project,
                })
            })
            .collect();
        return output::json(&list);
    }
    let mut table = Table::new(&["WORKSPACE", "PROJECT", "ROOT FOLDER", "ID"]);
    for entry in &found {
        let project = &entry.project;
        table.row(vec![workspace_of(entry), project.name.clone(), project.root_folder_id.clone(), project.id.clone()]);
    }
    table.print()
}

/// A listing row: type, name, size, updated, id.
fn row(item: &AssetWithIncludes) -> Vec<String> {
    let dash = || "-".to_string();
    let (size, updated) = match item {
        AssetWithIncludes::File(f) => {
            (output::bytes(u64::try_from(f.file_size).unwrap_or(0)), output::time(&f.updated_at))
        }
        AssetWithIncludes::Folder(f) => (dash(), output::time(&f.updated_at)),
        AssetWithIncludes::VersionStack(s) => (dash(), output::time(&s.updated_at)),
        _ => (dash(), dash()),
    };
    vec![
        kind(item).to_string(),
        item.name().unwrap_or("?").to_string(),
        size,
        updated,
        item.id().unwrap_or("?").to_string(),
    ]
}

/// "file", "folder", "stack", or the unknown tag.
fn kind(item: &AssetWithIncludes) -> &str {
    match item {
        AssetWithIncludes::VersionStack(_) => "stack",
        other => other.tag(),
    }
}

/// `fio tree TARGET`.
pub async fn tree(ctx: &Ctx, args: TreeArgs) -> Result<()> {
    let folder = resolve(ctx, &Target::parse(&args.target)?, Want::Folder).await?.into_folder("TARGET")?;
    let mut options = WalkOptions::new();
    if let Some(depth) = args.depth {
        options = options.max_depth(depth.max(1));
    }
    let entries: Vec<Entry> =
        tree::walk(&ctx.client, &folder.account_id, &folder.folder_id, options).try_collect().await?;
    if ctx.json {
        let list: Vec<_> =
            entries.iter().map(|e| json!({ "path": e.path, "depth": e.depth, "item": e.item })).collect();
        return output::json(&list);
    }
    output::out(&render_tree(&folder.name, &folder.folder_id, &entries))
}

/// The walk as an indented tree under `root_name`, children in listing order.
pub fn render_tree(root_name: &str, root_id: &str, entries: &[Entry]) -> String {
    let mut children: HashMap<&str, Vec<&Entry>> = HashMap::new();
    for entry in entries {
        children.entry(entry.item.parent_id().unwrap_or(root_id)).or_default().push(entry);
    }
    let mut text = format!("{root_name}/\n");
    draw(&children, root_id, "", &mut text);
    let files = entries.iter().filter(|e| matches!(e.item, AssetWithIncludes::File(_))).count();
    let folders = entries.iter().filter(|e| matches!(e.item, AssetWithIncludes::Folder(_))).count();
    let stacks = entries.iter().filter(|e| matches!(e.item, AssetWithIncludes::VersionStack(_))).count();
    let counts =
        [(folders, "folder"), (files, "file"), (stacks, "version stack")].map(|(n, what)| output::count(n, what));
    text.push_str(&format!("\n{}\n", counts.join(", ")));
    text
}

fn draw(children: &HashMap<&str, Vec<&Entry>>, parent: &str, indent: &str, text: &mut String) {
    let Some(list) = children.get(parent) else { return };
    for (i, entry) in list.iter().enumerate() {
        let last = i + 1 == list.len();
        let name = entry.item.name().unwrap_or("?");
        let detail = match &entry.item {
            AssetWithIncludes::File(f) => format!("  ({})", output::bytes(u64::try_from(f.file_size).unwrap_or(0))),
            AssetWithIncludes::Folder(_) => "/".to_string(),
            AssetWithIncludes::VersionStack(_) => "  (version stack)".to_string(),
            _ => String::new(),
        };
        text.push_str(&format!("{indent}{}{name}{detail}\n", if last { "└── " } else { "├── " }));
        if let Some(id) = entry.item.id() {
            let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
            draw(children, id, &deeper, text);
        }
    }
}
