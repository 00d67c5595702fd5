//! From a [`Target`] to the thing in Frame.io: which account it is in and
//! whether it is a project, folder, file or version stack.
//!
//! A bare id says neither, so it is looked up: in `--account`, or in each of
//! the user's accounts in turn, as each kind the command can use first (a
//! folder for `ls`, a file for `comments export`), then the others, so that an
//! id of the wrong kind gets a message naming its kind rather than "not
//! found". A web URL names the project, so only assets of that project match.

use frameio_ext::types::{FileWithIncludes, FolderWithIncludes, ProjectWithIncludes, VersionStackWithIncludes};

use crate::error::{Failure, Result};
use crate::session::Ctx;
use crate::target::Target;

/// A project, folder, file or version stack.
#[derive(Debug, Clone)]
pub enum Asset {
    Project(Box<ProjectWithIncludes>),
    Folder(Box<FolderWithIncludes>),
    File(Box<FileWithIncludes>),
    Stack(Box<VersionStackWithIncludes>),
}

impl Asset {
    /// "project", "folder", "file", "version stack".
    pub fn kind(&self) -> &'static str {
        match self {
            Asset::Project(_) => "project",
            Asset::Folder(_) => "folder",
            Asset::File(_) => "file",
            Asset::Stack(_) => "version stack",
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        match self {
            Asset::Project(p) => &p.name,
            Asset::Folder(f) => &f.name,
            Asset::File(f) => &f.name,
            Asset::Stack(s) => &s.name,
        }
    }

    /// Its id.
    pub fn id(&self) -> &str {
        match self {
            Asset::Project(p) => &p.id,
            Asset::Folder(f) => &f.id,
            Asset::File(f) => &f.id,
            Asset::Stack(s) => &s.id,
        }
    }

    /// The project it is (in).
    pub fn project_id(&self) -> &str {
        match self {
            Asset::Project(p) => &p.id,
            Asset::Folder(f) => &f.project_id,
            Asset::File(f) => &f.project_id,
            Asset::Stack(s) => &s.project_id,
        }
    }
}

/// The kinds a command can use, in the order they are tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// A folder (a project stands for its root folder).
    Folder,
    /// A file.
    File,
    /// Anything.
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    Project,
    Folder,
    File,
    Stack,
}

impl Want {
    fn order(self) -> [Lookup; 4] {
        match self {
            Want::Folder => [Lookup::Folder, Lookup::Project, Lookup::File, Lookup::Stack],
            Want::File => [Lookup::File, Lookup::Stack, Lookup::Folder, Lookup::Project],
            Want::Any => [Lookup::File, Lookup::Folder, Lookup::Stack, Lookup::Project],
        }
    }
}

/// What a target turned out to be, and where.
#[derive(Debug, Clone)]
pub struct Found {
    /// The account it is in.
    pub account_id: String,
    /// It.
    pub asset: Asset,
}

/// A folder to work in: a folder, or a project's root folder.
#[derive(Debug, Clone)]
pub struct FolderRef {
    pub account_id: String,
    pub folder_id: String,
    /// The folder's name (the project's, for a root folder).
    pub name: String,
}

impl Found {
    /// The folder this names; `role` says what the argument was for
    /// ("DEST"), for the message when it is a file or version stack.
    pub fn into_folder(self, role: &str) -> Result<FolderRef> {
        let account_id = self.account_id;
        match self.asset {
            Asset::Project(p) => Ok(FolderRef { account_id, folder_id: p.root_folder_id, name: p.name }),
            Asset::Folder(f) => Ok(FolderRef { account_id, folder_id: f.id, name: f.name }),
            other => Err(wrong_kind(role, &other, "a folder or project")),
        }
    }

    /// The file this names.
    pub fn into_file(self, role: &str) -> Result<(String, FileWithIncludes)> {
        match self.asset {
            Asset::File(f) => Ok((self.account_id, *f)),
            other => Err(wrong_kind(role, &other, "a file")),
        }
    }
}

/// The usage error for an argument of the wrong kind.
pub fn wrong_kind(role: &str, asset: &Asset, wanted: &str) -> Failure {
    Failure::usage(format!("{role} `{}` is a {} (\"{}\"), not {wanted}", asset.id(), asset.kind(), asset.name()))
}

/// Looks `target` up; see the module docs.
pub async fn resolve(ctx: &Ctx, target: &Target, want: Want) -> Result<Found> {
    let lookups: Vec<Lookup> = match target {
        Target::Project { .. } => vec![Lookup::Project],
        Target::Asset { .. } => want.order().into_iter().filter(|l| *l != Lookup::Project).collect(),
        Target::Id(_) => want.order().to_vec(),
    };
    let accounts = ctx.account_ids().await?;
    for account_id in &accounts {
        for lookup in &lookups {
            let Some(asset) = look_up(ctx, account_id, target.id(), *lookup).await? else { continue };
            if let Target::Asset { project_id, .. } = target
                && asset.project_id() != project_id
            {
                return Err(Failure::not_found(format!(
                    "{} {} is not in project {project_id}, as the URL says",
                    asset.kind(),
                    asset.id()
                )));
            }
            return Ok(Found { account_id: account_id.clone(), asset });
        }
    }
    let what = match target {
        Target::Project { .. } => "no project",
        Target::Asset { .. } => "no file, folder or version stack",
        Target::Id(_) => "no file, folder, version stack or project",
    };
    let place = match accounts.as_slice() {
        [one] => format!("account {one}"),
        many => format!("any of your {} accounts", many.len()),
    };
    Err(Failure::not_found(format!("{what} with id {} in {place}", target.id())))
}

/// One lookup: `None` when the id is not of this kind (404, or 422 for an id
/// the API finds malformed for it).
async fn look_up(ctx: &Ctx, account_id: &str, id: &str, lookup: Lookup) -> Result<Option<Asset>> {
    let client = &ctx.client;
    let found = match lookup {
        Lookup::Project => {
            client.projects_show().account_id(account_id).project_id(id).await.map(|r| Asset::Project(Box::new(r.data)))
        }
        Lookup::Folder => {
            client.folders_show().account_id(account_id).folder_id(id).await.map(|r| Asset::Folder(Box::new(r.data)))
        }
        Lookup::File => {
            client.files_show().account_id(account_id).file_id(id).await.map(|r| Asset::File(Box::new(r.data)))
        }
        Lookup::Stack => client
            .version_stacks_show()
            .account_id(account_id)
            .version_stack_id(id)
            .await
            .map(|r| Asset::Stack(Box::new(r.data))),
    };
    match found {
        Ok(asset) => Ok(Some(asset)),
        Err(e) if e.is_not_found() || e.status().is_some_and(|s| s.as_u16() == 422) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
