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
use crate::c2c::IssuedTokens;
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

    /// A C2C device `client_id` (its serial number) paired with project `project_id`, as if it had
    /// gone through the device-code flow: it gets tokens at once, and its assets land in the
    /// project's root folder. Pairing it again replaces its tokens.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = frameio_fake::Fake::start().await?;
    /// let project = fake.seed().account("Acme").workspace("W").project("Set 1");
    /// let device = fake.seed().device("SN-0042", &project.id);
    /// let me = reqwest::Client::new()
    ///     .get(format!("{}/v2/devices/me", fake.base_url()))
    ///     .bearer_auth(&device.tokens.access_token)
    ///     .send()
    ///     .await
    ///     .unwrap();
    /// assert_eq!(me.status(), 200);
    /// assert_eq!(fake.device_tokens(&device.id), Some(device.tokens));
    /// # Ok(()) }
    /// ```
    pub fn device(&self, client_id: &str, project_id: &str) -> DeviceSeed {
        let (id, tokens) = crate::c2c::seed_device(self.shared, client_id, project_id);
        DeviceSeed { id, tokens }
    }

    /// A handle on a folder by id (a project's root folder, one seeded earlier, or one the
    /// API created), to seed more into it.
    pub fn existing_folder(&self, account_id: &str, id: &str) -> FolderSeed<'a> {
        FolderSeed { seed: *self, account_id: account_id.to_string(), id: id.to_string() }
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
        let seed = self.seed.with(|store| crate::pattern::mix(store.assets.len() as u64 ^ size));
        self.stored(name, size, Content::Pattern { seed })
    }

    fn stored(&self, name: &str, size: u64, content: Content) -> FileSeed<'a> {
        let file = seeded(
            "a file",
            self.seed.with(|store| store.add_stored_file(&self.account_id, &self.id, name, size, content)),
        );
        FileSeed { seed: self.seed, account_id: self.account_id.clone(), id: file.id }
    }

    /// A file waiting for its local upload in parts of exactly these sizes, with a pre-signed
    /// URL per part, as if `files_create_local_upload` had split it so: for testing an
    /// uploader against any split. Its `media_type` follows the name's extension, and each
    /// part `PUT` is checked as a created upload's are (its exact size, `Content-Type`,
    /// `x-amz-acl: private`). Once every part arrived the file is `uploaded`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let fake = frameio_fake::Fake::start().await?;
    /// let root = fake.seed().account("Acme").workspace("W").project("P").root();
    /// let upload = root.upload("clip.mov", &[400_000, 250_003]);
    /// assert_eq!((upload.media_type.as_str(), upload.parts[1].size), ("video/quicktime", 250_003));
    /// assert_eq!(fake.file_status(&upload.id), Some("created"));
    /// # Ok(()) }
    /// ```
    pub fn upload(&self, name: &str, part_sizes: &[u64]) -> UploadSeed {
        let (file, _) = seeded(
            "an upload",
            self.seed.with(|store| {
                let media_type = crate::state::media_type(name);
                store.add_upload(&self.account_id, &self.id, name, &media_type, part_sizes.to_vec())
            }),
        );
        let urls = crate::storage::part_urls(self.seed.shared, &file.id, 1..=part_sizes.len());
        UploadSeed {
            account_id: self.account_id.clone(),
            media_type: file.file().map(|f| f.media_type.clone()).unwrap_or_default(),
            id: file.id,
            parts: part_sizes.iter().zip(urls).map(|(&size, url)| PartUrl { size, url }).collect(),
        }
    }

    /// A version stack of these files of this folder, oldest first; returns its id.
    pub fn version_stack(&self, files: &[&FileSeed<'_>]) -> String {
        let ids: Vec<String> = files.iter().map(|f| f.id.clone()).collect();
        let (stack, _) =
            seeded("a version stack", self.seed.with(|store| store.add_stack(&self.account_id, &self.id, &ids)));
        stack.id
    }
}

/// A seeded upload ([`FolderSeed::upload`]): the file waiting for its parts.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct UploadSeed {
    pub account_id: String,
    /// The file's id.
    pub id: String,
    /// The type every part must be sent with.
    pub media_type: String,
    /// One per part, in order.
    pub parts: Vec<PartUrl>,
}

/// One part of an upload: its size and pre-signed `PUT` URL.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartUrl {
    pub size: u64,
    pub url: String,
}

impl std::fmt::Debug for PartUrl {
    /// Without the URL's signature.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (base, query) = self.url.split_once('?').unwrap_or((&self.url, ""));
        let url = format!("{base}?{}", crate::record::redact_query(query));
        f.debug_struct("PartUrl").field("size", &self.size).field("url", &url).finish()
    }
}

/// A C2C device paired by seeding ([`Seed::device`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DeviceSeed {
    /// The project device's id (what `GET /v2/devices/me` calls `id`).
    pub id: String,
    /// Its tokens: the access token works at once; the refresh token can be spent once.
    pub tokens: IssuedTokens,
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
