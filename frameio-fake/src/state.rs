//! The fake's world: accounts, workspaces, projects, the asset tree (folders,
//! files, version stacks), comments, shares and webhooks, with the operations
//! that change it. Seeding and the HTTP handlers both go through these methods,
//! so the two cannot disagree about what a new file or folder looks like.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::pattern::mix;
use crate::webhooks::Event;

/// A timestamp as records carry it.
pub(crate) type Time = DateTime<Utc>;

/// Where a file's bytes are, once it has any.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// Not uploaded yet.
    None,
    /// Uploaded (or seeded) bytes.
    Bytes(Bytes),
    /// Seeded by size: [`crate::patterned_bytes`] from this seed, generated on read.
    Pattern { seed: u64 },
}

/// An entity tag for stored bytes (S3 shows an MD5; this one is opaque).
pub(crate) fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..16]))
}

/// A file's processing state, as `status` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Created,
    Uploaded,
    Transcoded,
}

/// One part of a pending local upload.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub size: u64,
    pub bytes: Option<Bytes>,
}

/// A real-time upload's parts, registered while the file grows: numbers may skip, and the
/// file is assembled in number order once a final part gave the total size and every
/// registered part has arrived.
#[derive(Debug, Clone, Default)]
pub(crate) struct Realtime {
    pub parts: BTreeMap<usize, Part>,
    /// The whole file's size, from the request that registered the final part.
    pub total: Option<u64>,
    /// The name is still the `[new file].ext` default, which an `asset_name` replaces.
    pub default_name: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct FileRec {
    pub media_type: String,
    pub size: u64,
    pub status: Status,
    pub content: Content,
    /// The entity tag downloads carry, once there is content.
    pub etag: String,
    /// The parts still expected, while the upload is open.
    pub parts: Vec<Part>,
    pub uploaded_at: Option<Time>,
    pub completed_at: Option<Time>,
    /// For a C2C real-time upload, its parts (and `parts` stays empty).
    pub realtime: Option<Realtime>,
}

impl FileRec {
    /// The size part `number` (from 1) was announced with, while the upload expects it.
    pub fn part_size(&self, number: usize) -> Option<u64> {
        match &self.realtime {
            Some(realtime) => realtime.parts.get(&number).map(|p| p.size),
            None => number.checked_sub(1).and_then(|i| self.parts.get(i)).map(|p| p.size),
        }
    }

    /// Keeps part `number`'s bytes; true when that completed the upload.
    fn put_part(&mut self, number: usize, bytes: Bytes) -> bool {
        match &mut self.realtime {
            Some(realtime) => {
                let Some(part) = realtime.parts.get_mut(&number) else { return false };
                part.bytes = Some(bytes);
                let sizes = realtime
                    .parts
                    .values()
                    .try_fold(0u64, |sum, p| p.bytes.as_ref().and_then(|_| sum.checked_add(p.size)));
                realtime.total.is_some() && sizes == realtime.total
            }
            None => {
                let Some(part) = number.checked_sub(1).and_then(|i| self.parts.get_mut(i)) else { return false };
                part.bytes = Some(bytes);
                self.parts.iter().all(|p| p.bytes.is_some())
            }
        }
    }

    /// The parts' bytes in order, emptying the upload.
    fn take_parts(&mut self) -> Vec<u8> {
        let parts: Vec<Part> = match &mut self.realtime {
            Some(realtime) => std::mem::take(&mut realtime.parts).into_values().collect(),
            None => self.parts.drain(..).collect(),
        };
        let mut all = Vec::with_capacity(usize::try_from(self.size).unwrap_or(0));
        for part in parts {
            all.extend_from_slice(&part.bytes.unwrap_or_default());
        }
        all
    }
}

#[derive(Debug, Clone)]
pub(crate) enum AssetKind {
    Folder,
    File(FileRec),
    Stack,
}

#[derive(Debug, Clone)]
pub(crate) struct Asset {
    pub id: String,
    pub account_id: String,
    pub project_id: String,
    /// `None` for a project's root folder.
    pub parent_id: Option<String>,
    pub name: String,
    pub created_at: Time,
    pub updated_at: Time,
    pub kind: AssetKind,
}

impl Asset {
    pub fn file(&self) -> Option<&FileRec> {
        match &self.kind {
            AssetKind::File(file) => Some(file),
            _ => None,
        }
    }

    pub fn tag(&self) -> &'static str {
        match self.kind {
            AssetKind::Folder => "folder",
            AssetKind::File(_) => "file",
            AssetKind::Stack => "version_stack",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AccountRec {
    pub id: String,
    pub name: String,
    pub created_at: Time,
}

#[derive(Debug, Clone)]
pub(crate) struct WorkspaceRec {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub created_at: Time,
}

#[derive(Debug, Clone)]
pub(crate) struct ProjectRec {
    pub id: String,
    pub account_id: String,
    pub workspace_id: String,
    pub name: String,
    pub description: Option<String>,
    pub root_folder_id: String,
    pub created_at: Time,
}

#[derive(Debug, Clone)]
pub(crate) struct CommentRec {
    pub id: String,
    pub account_id: String,
    pub file_id: String,
    pub text: String,
    pub timestamp: Option<i64>,
    pub created_at: Time,
}

#[derive(Debug, Clone)]
pub(crate) struct ShareRec {
    pub id: String,
    pub account_id: String,
    pub project_id: String,
    pub name: String,
    pub public: bool,
    pub downloading_enabled: bool,
    pub created_at: Time,
}

#[derive(Debug, Clone)]
pub(crate) struct WebhookRec {
    pub id: String,
    pub account_id: String,
    pub workspace_id: String,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub secret: String,
    pub created_at: Time,
    pub updated_at: Time,
}

/// The signed-in user every token belongs to.
#[derive(Debug, Clone)]
pub(crate) struct UserRec {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// Why a change was refused; the handlers turn it into a status and an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    NotFound(&'static str),
    Invalid(String),
}

pub(crate) type Changed<T> = Result<(T, Vec<Event>), Refusal>;

/// Everything the fake knows, behind one lock.
#[derive(Debug)]
pub(crate) struct Store {
    seq: u64,
    pub user: UserRec,
    pub accounts: Vec<AccountRec>,
    pub workspaces: Vec<WorkspaceRec>,
    pub projects: Vec<ProjectRec>,
    pub assets: HashMap<String, Asset>,
    /// Container id → child ids, in creation order.
    pub children: HashMap<String, Vec<String>>,
    pub comments: Vec<CommentRec>,
    pub shares: Vec<ShareRec>,
    pub webhooks: Vec<WebhookRec>,
}

impl Store {
    pub fn new() -> Self {
        let mut store = Self {
            seq: 0,
            user: UserRec { id: String::new(), name: "Fake User".into(), email: "user@fake.frame.io".into() },
            accounts: Vec::new(),
            workspaces: Vec::new(),
            projects: Vec::new(),
            assets: HashMap::new(),
            children: HashMap::new(),
            comments: Vec::new(),
            shares: Vec::new(),
            webhooks: Vec::new(),
        };
        store.user.id = store.next_id();
        store
    }

    /// A fresh id shaped like Frame.io's (a v4 UUID), the same sequence on every run.
    pub fn next_id(&mut self) -> String {
        self.seq += 1;
        let (a, b) = (mix(self.seq), mix(self.seq ^ 0x5EED));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48 & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }

    /// A secret-looking string, different each call.
    pub fn next_secret(&mut self) -> String {
        self.seq += 1;
        format!("{:016x}{:016x}", mix(self.seq ^ 0xC0FFEE), mix(self.seq ^ 0xFACADE))
    }

    pub fn account(&self, id: &str) -> Option<&AccountRec> {
        self.accounts.iter().find(|a| a.id == id)
    }

    pub fn workspace(&self, account_id: &str, id: &str) -> Option<&WorkspaceRec> {
        self.workspaces.iter().find(|w| w.id == id && w.account_id == account_id)
    }

    pub fn project(&self, account_id: &str, id: &str) -> Option<&ProjectRec> {
        self.projects.iter().find(|p| p.id == id && p.account_id == account_id)
    }

    pub fn project_by_id(&self, id: &str) -> Option<&ProjectRec> {
        self.projects.iter().find(|p| p.id == id)
    }

    /// An asset of `account_id`, whatever its kind.
    pub fn asset(&self, account_id: &str, id: &str) -> Option<&Asset> {
        self.assets.get(id).filter(|a| a.account_id == account_id)
    }

    pub fn asset_of(&self, account_id: &str, id: &str, tag: &str) -> Option<&Asset> {
        self.asset(account_id, id).filter(|a| a.tag() == tag)
    }

    pub fn children_of(&self, id: &str) -> impl Iterator<Item = &Asset> {
        self.children.get(id).into_iter().flatten().filter_map(|child| self.assets.get(child))
    }

    /// The workspace an asset's project belongs to.
    pub fn workspace_of(&self, asset: &Asset) -> Option<&str> {
        self.project_by_id(&asset.project_id).map(|p| p.workspace_id.as_str())
    }

    pub fn add_account(&mut self, name: &str) -> String {
        let id = self.next_id();
        self.accounts.push(AccountRec { id: id.clone(), name: name.into(), created_at: Utc::now() });
        id
    }

    pub fn add_workspace(&mut self, account_id: &str, name: &str) -> Result<String, Refusal> {
        self.account(account_id).ok_or(Refusal::NotFound("account"))?;
        let id = self.next_id();
        self.workspaces.push(WorkspaceRec {
            id: id.clone(),
            account_id: account_id.into(),
            name: name.into(),
            created_at: Utc::now(),
        });
        Ok(id)
    }

    /// A project and its root folder; returns (project id, root folder id).
    pub fn add_project(
        &mut self,
        account_id: &str,
        workspace_id: &str,
        name: &str,
    ) -> Result<(String, String), Refusal> {
        self.workspace(account_id, workspace_id).ok_or(Refusal::NotFound("workspace"))?;
        let (id, root) = (self.next_id(), self.next_id());
        let now = Utc::now();
        self.assets.insert(
            root.clone(),
            Asset {
                id: root.clone(),
                account_id: account_id.into(),
                project_id: id.clone(),
                parent_id: None,
                name: name.into(),
                created_at: now,
                updated_at: now,
                kind: AssetKind::Folder,
            },
        );
        self.projects.push(ProjectRec {
            id: id.clone(),
            account_id: account_id.into(),
            workspace_id: workspace_id.into(),
            name: name.into(),
            description: None,
            root_folder_id: root.clone(),
            created_at: now,
        });
        Ok((id, root))
    }

    fn insert_child(&mut self, parent: &Asset, name: &str, kind: AssetKind) -> Asset {
        let now = Utc::now();
        let asset = Asset {
            id: self.next_id(),
            account_id: parent.account_id.clone(),
            project_id: parent.project_id.clone(),
            parent_id: Some(parent.id.clone()),
            name: name.into(),
            created_at: now,
            updated_at: now,
            kind,
        };
        self.children.entry(parent.id.clone()).or_default().push(asset.id.clone());
        self.assets.insert(asset.id.clone(), asset.clone());
        asset
    }

    fn event(&self, kind: &'static str, asset: &Asset, resource_type: &'static str, resource_id: &str) -> Event {
        Event {
            kind,
            account_id: asset.account_id.clone(),
            workspace_id: self.workspace_of(asset).unwrap_or_default().to_string(),
            project_id: asset.project_id.clone(),
            resource_type,
            resource_id: resource_id.to_string(),
            user_id: self.user.id.clone(),
        }
    }

    pub fn add_folder(&mut self, account_id: &str, parent_id: &str, name: &str) -> Changed<Asset> {
        if name.trim().is_empty() {
            return Err(Refusal::Invalid("name: must include at least one non-whitespace character".into()));
        }
        let parent = self.asset_of(account_id, parent_id, "folder").ok_or(Refusal::NotFound("folder"))?.clone();
        let folder = self.insert_child(&parent, name, AssetKind::Folder);
        let event = self.event("folder.created", &folder, "folder", &folder.id);
        Ok((folder, vec![event]))
    }

    /// A file in `parent_id` with its content already there (seeding).
    pub fn add_stored_file(
        &mut self,
        account_id: &str,
        parent_id: &str,
        name: &str,
        size: u64,
        content: Content,
    ) -> Result<Asset, Refusal> {
        let parent = self.asset_of(account_id, parent_id, "folder").ok_or(Refusal::NotFound("folder"))?.clone();
        let now = Utc::now();
        let etag = match &content {
            Content::Bytes(bytes) => etag(bytes),
            Content::Pattern { seed } => format!("\"pattern-{seed:016x}-{size}\""),
            Content::None => String::new(),
        };
        let file = FileRec {
            media_type: media_type(name),
            size,
            status: Status::Transcoded,
            content,
            etag,
            parts: Vec::new(),
            uploaded_at: Some(now),
            completed_at: Some(now),
            realtime: None,
        };
        Ok(self.insert_child(&parent, name, AssetKind::File(file)))
    }

    /// A placeholder file waiting for `parts` (a local upload).
    pub fn add_upload(
        &mut self,
        account_id: &str,
        parent_id: &str,
        name: &str,
        media_type: &str,
        parts: Vec<u64>,
    ) -> Changed<Asset> {
        if name.trim().is_empty() {
            return Err(Refusal::Invalid("name: must include at least one non-whitespace character".into()));
        }
        let parent = self.asset_of(account_id, parent_id, "folder").ok_or(Refusal::NotFound("folder"))?.clone();
        let file = FileRec {
            media_type: media_type.to_string(),
            size: parts.iter().sum(),
            status: Status::Created,
            content: Content::None,
            etag: String::new(),
            parts: parts.into_iter().map(|size| Part { size, bytes: None }).collect(),
            uploaded_at: None,
            completed_at: None,
            realtime: None,
        };
        let asset = self.insert_child(&parent, name, AssetKind::File(file));
        let event = self.event("file.created", &asset, "file", &asset.id);
        Ok((asset, vec![event]))
    }

    /// A placeholder file for a C2C real-time upload, whose parts are registered later.
    pub fn add_realtime_upload(
        &mut self,
        account_id: &str,
        parent_id: &str,
        name: &str,
        media_type: &str,
        default_name: bool,
    ) -> Changed<Asset> {
        let (asset, events) = self.add_upload(account_id, parent_id, name, media_type, Vec::new())?;
        let Some(AssetKind::File(file)) = self.assets.get_mut(&asset.id).map(|a| &mut a.kind) else {
            return Err(Refusal::NotFound("file"));
        };
        file.realtime = Some(Realtime { default_name, ..Realtime::default() });
        let asset = self.assets[&asset.id].clone();
        Ok((asset, events))
    }

    /// Registers real-time parts (number, size) of `file_id`; `total` is the whole size,
    /// given with the final part; `name` replaces a default name.
    pub fn register_realtime_parts(
        &mut self,
        file_id: &str,
        parts: &[(usize, u64)],
        total: Option<u64>,
        name: Option<&str>,
    ) -> Result<(), Refusal> {
        let asset = self.assets.get_mut(file_id).ok_or(Refusal::NotFound("asset"))?;
        let AssetKind::File(file) = &mut asset.kind else { return Err(Refusal::NotFound("asset")) };
        let Some(realtime) = file.realtime.as_mut().filter(|_| file.status == Status::Created) else {
            return Err(Refusal::Invalid("the asset has no real-time upload in progress".into()));
        };
        for &(number, size) in parts {
            if realtime.parts.get(&number).is_some_and(|p| p.bytes.is_some()) {
                return Err(Refusal::Invalid(format!("part {number} was uploaded already")));
            }
            realtime.parts.insert(number, Part { size, bytes: None });
        }
        if total.is_some() {
            realtime.total = total;
            file.size = total.unwrap_or_default();
        }
        if let Some(name) = name.filter(|n| realtime.default_name && !n.trim().is_empty()) {
            realtime.default_name = false;
            asset.name = name.to_string();
        }
        Ok(())
    }

    /// Stores part `number` (1-based); when it was the last one missing the file
    /// becomes `uploaded` and the returned events say so.
    pub fn store_part(&mut self, file_id: &str, number: usize, bytes: Bytes) -> Vec<Event> {
        let Some(asset) = self.assets.get_mut(file_id) else { return Vec::new() };
        let AssetKind::File(file) = &mut asset.kind else { return Vec::new() };
        if !file.put_part(number, bytes) || file.status != Status::Created {
            return Vec::new();
        }
        let all = file.take_parts();
        file.size = all.len() as u64;
        let now = Utc::now();
        file.etag = etag(&all);
        file.content = Content::Bytes(Bytes::from(all));
        file.status = Status::Uploaded;
        file.uploaded_at = Some(now);
        file.completed_at = Some(now);
        asset.updated_at = now;
        let asset = asset.clone();
        vec![self.event("file.upload.completed", &asset, "file", &asset.id)]
    }

    /// Marks an uploaded file transcoded (`file.ready`).
    pub fn transcode(&mut self, file_id: &str) -> Vec<Event> {
        let Some(asset) = self.assets.get_mut(file_id) else { return Vec::new() };
        let AssetKind::File(file) = &mut asset.kind else { return Vec::new() };
        if file.status != Status::Uploaded {
            return Vec::new();
        }
        file.status = Status::Transcoded;
        asset.updated_at = Utc::now();
        let asset = asset.clone();
        vec![self.event("file.ready", &asset, "file", &asset.id)]
    }

    /// Removes an asset and everything under it.
    pub fn delete_asset(&mut self, account_id: &str, id: &str, tag: &str) -> Changed<()> {
        let asset = self.asset_of(account_id, id, tag).ok_or(Refusal::NotFound(tag_noun(tag)))?.clone();
        if asset.parent_id.is_none() {
            return Err(Refusal::Invalid("a project's root folder cannot be deleted".into()));
        }
        if let Some(siblings) = asset.parent_id.as_ref().and_then(|p| self.children.get_mut(p)) {
            siblings.retain(|c| c != id);
        }
        let mut stack = vec![asset.id.clone()];
        while let Some(next) = stack.pop() {
            self.assets.remove(&next);
            stack.extend(self.children.remove(&next).unwrap_or_default());
        }
        self.comments.retain(|c| self.assets.contains_key(&c.file_id));
        let kind = match tag {
            "file" => "file.deleted",
            "folder" => "folder.deleted",
            _ => return Ok(((), Vec::new())),
        };
        Ok(((), vec![self.event(kind, &asset, asset.tag(), &asset.id)]))
    }

    /// Moves a file into a folder or version stack of the same project.
    pub fn move_file(&mut self, account_id: &str, id: &str, parent_id: &str) -> Changed<Asset> {
        let file = self.asset_of(account_id, id, "file").ok_or(Refusal::NotFound("file"))?.clone();
        let parent = self.asset(account_id, parent_id).ok_or(Refusal::NotFound("folder or version stack"))?;
        if parent.file().is_some() || parent.project_id != file.project_id {
            return Err(Refusal::Invalid("parent_id: must be a folder or version stack of the same project".into()));
        }
        if let Some(siblings) = file.parent_id.as_ref().and_then(|p| self.children.get_mut(p)) {
            siblings.retain(|c| c != id);
        }
        self.children.entry(parent_id.into()).or_default().push(id.into());
        let moved = self.assets.get_mut(id).expect("checked above");
        moved.parent_id = Some(parent_id.into());
        moved.updated_at = Utc::now();
        let moved = moved.clone();
        let event = self.event("file.updated", &moved, "file", &moved.id);
        Ok((moved, vec![event]))
    }

    /// Stacks `file_ids` (oldest first) of folder `folder_id` into a new version stack.
    pub fn add_stack(&mut self, account_id: &str, folder_id: &str, file_ids: &[String]) -> Changed<Asset> {
        if !(2..=10).contains(&file_ids.len()) {
            return Err(Refusal::Invalid("file_ids: between 2 and 10 files are required".into()));
        }
        let folder = self.asset_of(account_id, folder_id, "folder").ok_or(Refusal::NotFound("folder"))?.clone();
        for id in file_ids {
            let file = self.asset_of(account_id, id, "file").ok_or(Refusal::NotFound("file"))?;
            if file.parent_id.as_deref() != Some(folder_id) {
                return Err(Refusal::Invalid(format!("file_ids: {id} is not in folder {folder_id}")));
            }
        }
        let head_name = self.assets[file_ids.last().expect("at least two")].name.clone();
        let stack = self.insert_child(&folder, &head_name, AssetKind::Stack);
        let mut events = Vec::new();
        for id in file_ids {
            let (_, moved) = self.move_file(account_id, id, &stack.id)?;
            events.extend(moved);
        }
        let file = self.assets[file_ids.last().expect("at least two")].clone();
        events.push(self.event("file.versioned", &file, "file", &file.id));
        Ok((stack, events))
    }

    pub fn add_comment(
        &mut self,
        account_id: &str,
        file_id: &str,
        text: &str,
        timestamp: Option<i64>,
    ) -> Changed<CommentRec> {
        let file = self.asset_of(account_id, file_id, "file").ok_or(Refusal::NotFound("file"))?.clone();
        if text.trim().is_empty() {
            return Err(Refusal::Invalid("text: can't be blank".into()));
        }
        let comment = CommentRec {
            id: self.next_id(),
            account_id: account_id.into(),
            file_id: file_id.into(),
            text: text.into(),
            timestamp,
            created_at: Utc::now(),
        };
        self.comments.push(comment.clone());
        let event = self.event("comment.created", &file, "comment", &comment.id);
        Ok((comment, vec![event]))
    }

    pub fn add_share(
        &mut self,
        account_id: &str,
        project_id: &str,
        name: &str,
        public: bool,
        asset_ids: &[String],
        downloading_enabled: bool,
    ) -> Changed<ShareRec> {
        let project = self.project(account_id, project_id).ok_or(Refusal::NotFound("project"))?.clone();
        if name.trim().is_empty() || name.contains('\n') {
            return Err(Refusal::Invalid("name: must include a non-whitespace character and no line breaks".into()));
        }
        for id in asset_ids {
            if self.asset(account_id, id).is_none_or(|a| a.project_id != project_id) {
                return Err(Refusal::Invalid(format!("asset_ids: {id} is not an asset of this project")));
            }
        }
        let share = ShareRec {
            id: self.next_id(),
            account_id: account_id.into(),
            project_id: project_id.into(),
            name: name.into(),
            public,
            downloading_enabled,
            created_at: Utc::now(),
        };
        self.shares.push(share.clone());
        let event = Event {
            kind: "share.created",
            account_id: account_id.into(),
            workspace_id: project.workspace_id.clone(),
            project_id: project.id.clone(),
            resource_type: "share",
            resource_id: share.id.clone(),
            user_id: self.user.id.clone(),
        };
        Ok((share, vec![event]))
    }

    pub fn add_webhook(
        &mut self,
        account_id: &str,
        workspace_id: &str,
        name: &str,
        url: &str,
        events: Vec<String>,
    ) -> Result<WebhookRec, Refusal> {
        self.workspace(account_id, workspace_id).ok_or(Refusal::NotFound("workspace"))?;
        crate::webhooks::check_subscription(url, &events).map_err(Refusal::Invalid)?;
        let now = Utc::now();
        let webhook = WebhookRec {
            id: self.next_id(),
            account_id: account_id.into(),
            workspace_id: workspace_id.into(),
            name: name.into(),
            url: url.into(),
            events,
            active: true,
            secret: self.next_secret(),
            created_at: now,
            updated_at: now,
        };
        self.webhooks.push(webhook.clone());
        Ok(webhook)
    }
}

/// The noun a 404 names for an asset tag.
pub(crate) fn tag_noun(tag: &str) -> &'static str {
    match tag {
        "file" => "file",
        "folder" => "folder",
        _ => "version stack",
    }
}

/// What Frame.io reports as `media_type` for a file name.
pub(crate) fn media_type(name: &str) -> String {
    mime_guess::from_path(name).first_raw().unwrap_or("application/octet-stream").to_string()
}
