//! Seeding: a typed, builder-style way to put accounts, workspaces, projects,
//! folders, files, version stacks, comments, shares and webhooks into a fake
//! before (or while) a test talks to it, each call returning a handle with the
//! new ids. Seeding bypasses the API: nothing is recorded, no webhook fires.
//!
//! Handles name things the fake created, so seeding cannot fail, except on an
//! id an API call deleted in between or a blank name: those panic, with a message
//! saying which.

use std::sync::Arc;

use bytes::Bytes;

use crate::Shared;
use crate::state::{Content, Refusal, Store};

fn seeded<T>(what: &str, result: Result<T, Refusal>) -> T {
    result.unwrap_or_else(|refusal| panic!("seeding {what}: {refusal:?}"))
}

/// The entry point of seeding: [`crate::Fake::seed`].
#[derive(Debug, Clone, Copy)]
pub struct Seed<'a> {
    shared: &'a Arc<Shared>,
}

impl<'a> Seed<'a> {
    pub(crate) fn new(shared: &'a Arc<Shared>) -> Self {
        Self { shared }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut self.shared.lock_store())
    }

    /// The signed-in user's name and email (`GET /v4/me`); returns its id.
    pub fn user(&self, name: &str, email: &str) -> String {
        self.with(|store| {
            store.user.name = name.to_string();
            store.user.email = email.to_string();
            store.user.id.clone()
        })
    }

    /// A new account the user belongs to.
    pub fn account(&self, name: &str) -> AccountSeed<'a> {
        let id = self.with(|store| store.add_account(name));
        AccountSeed { seed: *self, id }
    }

    /// A handle on an account by id (one seeded earlier, or from [`crate::Demo`]).
    pub fn existing_account(&self, id: &str) -> AccountSeed<'a> {
        AccountSeed { seed: *self, id: id.to_string() }
    }

    /// The [`Demo`] tree.
    pub fn demo(&self) -> Demo {
        let account = self.account("Demo Studio");
        let workspace = account.workspace("Productions");
        let project = workspace.project("Launch Film");
        let root = project.root();
        let readme = root.file("README.txt", &b"Welcome to the fake Frame.io demo project.\n"[..]);
        let dailies = root.folder("Dailies");
        let day_one = dailies.folder("Day 01");
        let clip_a = day_one.file_of_size("A001_C001.mov", 2 * 1024 * 1024);
        let clip_b = day_one.file_of_size("A001_C002.mov", 3 * 1024 * 1024 + 17);
        let day_two = dailies.folder("Day 02");
        day_two.file_of_size("B001_C001.mov", 1024 * 1024);
        let edits = root.folder("Edits");
        let cuts: Vec<FileSeed<'_>> =
            (1..=3).map(|v| edits.file_of_size(&format!("Cut v{v}.mp4"), 512 * 1024 + v)).collect();
        let stack = edits.version_stack(&cuts.iter().collect::<Vec<_>>());
        cuts[2].comment("Love the opening shot.");
        cuts[2].comment("Can we trim two seconds at the end?");
        let stills = root.folder("Stills");
        stills.file_of_size("poster.png", 48 * 1024);
        stills.file_of_size("frame_0420.jpg", 64 * 1024);
        project.share("Client review", &[&edits.id]);
        workspace.project("Archive");
        Demo {
            account_id: account.id.clone(),
            workspace_id: workspace.id.clone(),
            project_id: project.id.clone(),
            root_folder_id: project.root_folder_id.clone(),
            dailies_folder_id: dailies.id.clone(),
            edits_folder_id: edits.id.clone(),
            version_stack_id: stack,
            readme_file_id: readme.id.clone(),
            clip_file_ids: vec![clip_a.id.clone(), clip_b.id.clone()],
            cut_file_ids: cuts.iter().map(|c| c.id.clone()).collect(),
        }
    }
}

/// The ids of the demo tree ([`crate::Fake::with_demo_data`]):
///
/// ```text
/// Demo Studio / Productions / Launch Film
///   README.txt
///   Dailies/Day 01/A001_C001.mov, A001_C002.mov
///   Dailies/Day 02/B001_C001.mov
///   Edits/Cut v3.mp4   (a version stack: Cut v1, v2, v3; two comments on v3)
///   Stills/poster.png, frame_0420.jpg
/// Demo Studio / Productions / Archive (empty); a share "Client review" of Edits
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Demo {
    pub account_id: String,
    pub workspace_id: String,
    pub project_id: String,
    pub root_folder_id: String,
    pub dailies_folder_id: String,
    pub edits_folder_id: String,
    pub version_stack_id: String,
    pub readme_file_id: String,
    /// `Dailies/Day 01`'s two clips.
    pub clip_file_ids: Vec<String>,
    /// The stacked cuts, oldest first.
    pub cut_file_ids: Vec<String>,
}

/// A seeded account.
#[derive(Debug, Clone)]
pub struct AccountSeed<'a> {
    seed: Seed<'a>,
    pub id: String,
}

impl<'a> AccountSeed<'a> {
    /// A new workspace in this account.
    pub fn workspace(&self, name: &str) -> WorkspaceSeed<'a> {
        let id = seeded("a workspace", self.seed.with(|store| store.add_workspace(&self.id, name)));
        WorkspaceSeed { seed: self.seed, account_id: self.id.clone(), id }
    }
}

/// A seeded workspace.
#[derive(Debug, Clone)]
pub struct WorkspaceSeed<'a> {
    seed: Seed<'a>,
    pub account_id: String,
    pub id: String,
}

impl<'a> WorkspaceSeed<'a> {
    /// A new project (with its root folder) in this workspace.
    pub fn project(&self, name: &str) -> ProjectSeed<'a> {
        let (id, root) =
            seeded("a project", self.seed.with(|store| store.add_project(&self.account_id, &self.id, name)));
        ProjectSeed { seed: self.seed, account_id: self.account_id.clone(), id, root_folder_id: root }
    }

    /// A webhook on this workspace for `events`; returns (id, signing secret).
    pub fn webhook(&self, name: &str, url: &str, events: &[&str]) -> (String, String) {
        let events = events.iter().map(|e| e.to_string()).collect();
        let webhook = seeded(
            "a webhook",
            self.seed.with(|store| store.add_webhook(&self.account_id, &self.id, name, url, events)),
        );
        (webhook.id, webhook.secret)
    }
}

/// A seeded project.
#[derive(Debug, Clone)]
pub struct ProjectSeed<'a> {
    seed: Seed<'a>,
    pub account_id: String,
    pub id: String,
    pub root_folder_id: String,
}

impl<'a> ProjectSeed<'a> {
    /// The project's root folder.
    pub fn root(&self) -> FolderSeed<'a> {
        FolderSeed { seed: self.seed, account_id: self.account_id.clone(), id: self.root_folder_id.clone() }
    }

    /// A share of these assets; returns its id.
    pub fn share(&self, name: &str, asset_ids: &[&str]) -> String {
        let ids: Vec<String> = asset_ids.iter().map(|id| id.to_string()).collect();
        let (share, _) = seeded(
            "a share",
            self.seed.with(|store| store.add_share(&self.account_id, &self.id, name, true, &ids, true)),
        );
        share.id
    }
}

/// A seeded folder.
#[derive(Debug, Clone)]
pub struct FolderSeed<'a> {
    seed: Seed<'a>,
    pub account_id: String,
    pub id: String,
}

impl<'a> FolderSeed<'a> {
    /// A subfolder.
    pub fn folder(&self, name: &str) -> FolderSeed<'a> {
        let (folder, _) =
            seeded("a folder", self.seed.with(|store| store.add_folder(&self.account_id, &self.id, name)));
        FolderSeed { seed: self.seed, account_id: self.account_id.clone(), id: folder.id }
    }

    /// A `transcoded` file with these bytes; its `media_type` follows the name's extension.
    pub fn file(&self, name: &str, bytes: impl Into<Bytes>) -> FileSeed<'a> {
        let bytes = bytes.into();
        let size = bytes.len() as u64;
        self.stored(name, size, Content::Bytes(bytes))
    }

    /// A `transcoded` file of `size` [`crate::patterned_bytes`], generated when read (so it
    /// can be far larger than memory).
    pub fn file_of_size(&self, name: &str, size: u64) -> FileSeed<'a> {
        let seed = self.seed.with(|store| crate::state::mix(store.assets.len() as u64 ^ size));
        self.stored(name, size, Content::Pattern { seed })
    }

    fn stored(&self, name: &str, size: u64, content: Content) -> FileSeed<'a> {
        let file = seeded(
            "a file",
            self.seed.with(|store| store.add_stored_file(&self.account_id, &self.id, name, size, content)),
        );
        FileSeed { seed: self.seed, account_id: self.account_id.clone(), id: file.id }
    }

    /// A version stack of these files of this folder, oldest first; returns its id.
    pub fn version_stack(&self, files: &[&FileSeed<'_>]) -> String {
        let ids: Vec<String> = files.iter().map(|f| f.id.clone()).collect();
        let (stack, _) =
            seeded("a version stack", self.seed.with(|store| store.add_stack(&self.account_id, &self.id, &ids)));
        stack.id
    }
}

/// A seeded file.
#[derive(Debug, Clone)]
pub struct FileSeed<'a> {
    seed: Seed<'a>,
    pub account_id: String,
    pub id: String,
}

impl FileSeed<'_> {
    /// A comment on this file; returns its id.
    pub fn comment(&self, text: &str) -> String {
        let (comment, _) =
            seeded("a comment", self.seed.with(|store| store.add_comment(&self.account_id, &self.id, text, None)));
        comment.id
    }
}
