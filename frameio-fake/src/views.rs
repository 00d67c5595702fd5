//! Records as the API shows them: every response body is built from the
//! generated `frameio_gen::v4::types`, so what the fake sends is, by
//! construction, what the spec (and the client) declares. Media links are
//! freshly signed download URLs on the fake's own storage.

use std::collections::BTreeSet;

use frameio_gen::v4::types;
use http::Method;
use serde_json::Map;

use crate::paths;
use crate::state::{
    AccountRec, Asset, AssetKind, CommentRec, FileRec, ProjectRec, ShareRec, Status, Store, WebhookRec, WorkspaceRec,
};
use crate::storage::Signer;

/// The `include` values a request asked for.
pub(crate) type Includes = BTreeSet<String>;

pub(crate) fn status_name(status: Status) -> &'static str {
    match status {
        Status::Created => "created",
        Status::Uploaded => "uploaded",
        Status::Transcoded => "transcoded",
    }
}

fn file_status(status: Status) -> types::FileStatus {
    match status {
        Status::Created => types::FileStatus::Created,
        Status::Uploaded => types::FileStatus::Uploaded,
        Status::Transcoded => types::FileStatus::Transcoded,
    }
}

/// A file's `media_type` as the API shows it: null until its upload finished.
fn shown_media_type(file: &FileRec) -> Option<String> {
    (file.status != Status::Created).then(|| file.media_type.clone())
}

fn view_url(asset: &Asset) -> String {
    format!("https://next.frame.io/project/{}/view/{}", asset.project_id, asset.id)
}

/// What a view needs besides the record: the store (for includes) and a signer (for media links).
pub(crate) struct View<'a> {
    pub store: &'a Store,
    pub signer: &'a mut Signer,
    pub base: &'a str,
    pub includes: &'a Includes,
}

pub(crate) fn profile(store: &Store) -> types::Profile {
    types::Profile {
        avatar_url: None,
        email: store.user.email.clone(),
        id: store.user.id.clone(),
        name: store.user.name.clone(),
        extra: Map::new(),
    }
}

pub(crate) fn user(store: &Store) -> types::User {
    types::User {
        active: Some(true),
        adobe_user_id: None,
        avatar_url: None,
        email: store.user.email.clone(),
        id: Some(store.user.id.clone()),
        name: Some(store.user.name.clone()),
        extra: Map::new(),
    }
}

pub(crate) fn account(store: &Store, account: &AccountRec) -> types::Account {
    let usage = store
        .assets
        .values()
        .filter(|a| a.account_id == account.id)
        .filter_map(|a| a.file())
        .map(|f| i64::try_from(f.size).unwrap_or(i64::MAX))
        .fold(0i64, i64::saturating_add);
    types::Account {
        adobe_id: None,
        created_at: account.created_at,
        display_name: account.name.clone(),
        id: account.id.clone(),
        image: None,
        roles: vec![types::AccountRolesItems::Admin],
        storage_limit: None,
        storage_usage: usage,
        updated_at: account.created_at,
        v4_migrated_at: None,
        extra: Map::new(),
    }
}

pub(crate) fn workspace(store: &Store, workspace: &WorkspaceRec, includes: &Includes) -> types::WorkspaceWithIncludes {
    types::WorkspaceWithIncludes {
        account_id: workspace.account_id.clone(),
        created_at: workspace.created_at,
        creator: includes.contains("creator").then(|| user(store)),
        id: workspace.id.clone(),
        name: workspace.name.clone(),
        updated_at: workspace.created_at,
        extra: Map::new(),
    }
}

fn project_storage(store: &Store, project_id: &str) -> i64 {
    store
        .assets
        .values()
        .filter(|a| a.project_id == project_id)
        .filter_map(|a| a.file())
        .map(|f| i64::try_from(f.size).unwrap_or(i64::MAX))
        .fold(0i64, i64::saturating_add)
}

pub(crate) fn project(store: &Store, project: &ProjectRec, includes: &Includes) -> types::ProjectWithIncludes {
    types::ProjectWithIncludes {
        adobe_id: None,
        created_at: project.created_at,
        description: project.description.clone(),
        id: project.id.clone(),
        name: project.name.clone(),
        owner: includes.contains("owner").then(|| user(store)),
        restricted: Some(false),
        root_folder_id: project.root_folder_id.clone(),
        status: Some(types::ProjectStatus::Active),
        storage: project_storage(store, &project.id),
        updated_at: project.created_at,
        view_url: Some(format!("https://next.frame.io/project/{}", project.id)),
        workspace_id: project.workspace_id.clone(),
        extra: Map::new(),
    }
}

/// A plain `File` (create, move and version-stack heads).
pub(crate) fn file(asset: &Asset) -> Option<types::File> {
    let file = asset.file()?;
    Some(types::File {
        adobe_id: None,
        adobe_version_id: None,
        created_at: asset.created_at,
        file_size: i64::try_from(file.size).unwrap_or(i64::MAX),
        id: asset.id.clone(),
        media_type: shown_media_type(file),
        name: asset.name.clone(),
        parent_id: asset.parent_id.clone(),
        project_id: asset.project_id.clone(),
        status: file_status(file.status),
        type_: types::FileType::File,
        updated_at: asset.updated_at,
        view_url: view_url(asset),
        extra: Map::new(),
    })
}

pub(crate) fn folder(asset: &Asset) -> types::Folder {
    types::Folder {
        adobe_id: None,
        cover_file_id: None,
        created_at: asset.created_at,
        id: asset.id.clone(),
        name: asset.name.clone(),
        parent_id: asset.parent_id.clone(),
        project_id: asset.project_id.clone(),
        type_: types::FileType::Folder,
        updated_at: asset.updated_at,
        view_url: view_url(asset),
        extra: Map::new(),
    }
}

impl View<'_> {
    fn creator(&self) -> Option<types::User> {
        self.includes.contains("creator").then(|| user(self.store))
    }

    fn project_of(&self, asset: &Asset) -> Option<types::ProjectWithIncludes> {
        if !self.includes.contains("project") {
            return None;
        }
        let record = self.store.project_by_id(&asset.project_id)?;
        Some(project(self.store, record, &Includes::new()))
    }

    /// A signed URL serving `asset`'s bytes, as an attachment or inline.
    fn media_url(&mut self, asset: &Asset, rendition: &str, inline: bool) -> String {
        let name = asset.name.replace('"', "");
        let disposition =
            if inline { format!("inline; filename=\"{name}\"") } else { format!("attachment; filename=\"{name}\"") };
        let path = paths::media_path(&asset.id, rendition);
        self.signer.url(self.base, &Method::GET, &path, &[("response-content-disposition", &disposition)])
    }

    /// The requested `media_links.*`, once the file has bytes to serve.
    fn media_links(&mut self, asset: &Asset) -> Option<types::MediaLinksCollection> {
        let wanted: Vec<&str> = self.includes.iter().filter_map(|i| i.strip_prefix("media_links.")).collect();
        if wanted.is_empty() {
            return None;
        }
        let ready = asset.file().is_some_and(|f| f.status == Status::Transcoded);
        let mut links = types::MediaLinksCollection {
            efficient: None,
            high_quality: None,
            original: None,
            scrub_sheet: None,
            thumbnail: None,
            thumbnail_high_quality: None,
            video_h264_180: None,
            extra: Map::new(),
        };
        // The fake does not transcode: every rendition serves the original bytes.
        let rendition = |view: &mut Self, name: &str| types::RenditionMediaLink {
            download_url: ready.then(|| view.media_url(asset, name, false)),
            url: ready.then(|| view.media_url(asset, name, true)),
            extra: Map::new(),
        };
        for name in wanted {
            match name {
                "original" => {
                    links.original = Some(types::OriginalMediaLink {
                        download_url: ready.then(|| self.media_url(asset, "original", false)),
                        inline_url: ready.then(|| self.media_url(asset, "original", true)),
                        extra: Map::new(),
                    })
                }
                "high_quality" | "efficient" => {
                    let link = types::MediaLinkCommon {
                        download_url: ready.then(|| self.media_url(asset, name, false)),
                        extra: Map::new(),
                    };
                    if name == "efficient" {
                        links.efficient = Some(link);
                    } else {
                        links.high_quality = Some(link);
                    }
                }
                "thumbnail" => links.thumbnail = Some(rendition(self, name)),
                "thumbnail_high_quality" => links.thumbnail_high_quality = Some(rendition(self, name)),
                "video_h264_180" => links.video_h264_180 = Some(rendition(self, name)),
                "scrub_sheet" => links.scrub_sheet = Some(rendition(self, name)),
                _ => {}
            }
        }
        Some(links)
    }

    pub fn file(&mut self, asset: &Asset) -> Option<types::FileWithIncludes> {
        let file = asset.file()?;
        Some(types::FileWithIncludes {
            adobe_id: None,
            adobe_version_id: None,
            created_at: asset.created_at,
            creator: self.creator(),
            file_size: i64::try_from(file.size).unwrap_or(i64::MAX),
            id: asset.id.clone(),
            media_links: self.media_links(asset),
            media_type: shown_media_type(file),
            metadata: Vec::new(),
            name: asset.name.clone(),
            parent_id: asset.parent_id.clone(),
            project: self.project_of(asset),
            project_id: asset.project_id.clone(),
            status: file_status(file.status),
            type_: types::FileType::File,
            updated_at: asset.updated_at,
            view_url: Some(view_url(asset)),
            extra: Map::new(),
        })
    }

    pub fn folder(&mut self, asset: &Asset) -> types::FolderWithIncludes {
        types::FolderWithIncludes {
            adobe_id: None,
            cover_file_id: None,
            created_at: asset.created_at,
            creator: self.creator(),
            id: asset.id.clone(),
            metadata: Vec::new(),
            name: asset.name.clone(),
            parent_id: asset.parent_id.clone(),
            project: self.project_of(asset),
            project_id: asset.project_id.clone(),
            type_: types::FileType::Folder,
            updated_at: asset.updated_at,
            view_url: view_url(asset),
            extra: Map::new(),
        }
    }

    pub fn stack(&mut self, asset: &Asset) -> types::VersionStackWithIncludes {
        let head = self.store.children_of(&asset.id).filter(|a| a.file().is_some()).last().cloned();
        types::VersionStackWithIncludes {
            adobe_id: None,
            created_at: asset.created_at,
            creator: self.creator(),
            head_version: head.and_then(|head| self.file(&head)),
            id: asset.id.clone(),
            metadata: Vec::new(),
            name: asset.name.clone(),
            parent_id: asset.parent_id.clone(),
            project: self.project_of(asset),
            project_id: asset.project_id.clone(),
            type_: types::FileType::VersionStack,
            updated_at: asset.updated_at,
            view_url: view_url(asset),
            extra: Map::new(),
        }
    }

    pub fn asset(&mut self, asset: &Asset) -> types::AssetWithIncludes {
        match asset.kind {
            AssetKind::File(_) => self.file(asset).map_or_else(|| self.folder(asset).into(), Into::into),
            AssetKind::Folder => self.folder(asset).into(),
            AssetKind::Stack => self.stack(asset).into(),
        }
    }
}

pub(crate) fn comment(comment: &CommentRec) -> types::Comment {
    types::Comment {
        anchor: None,
        annotation: None,
        attachments: None,
        completed_at: None,
        completer_id: None,
        created_at: comment.created_at,
        duration: None,
        file_id: comment.file_id.clone(),
        id: comment.id.clone(),
        links: Vec::new(),
        mentions: Vec::new(),
        page: None,
        text: comment.text.clone(),
        text_edited_at: None,
        text_review_annotation: None,
        timestamp: types::TimeStamp::Integer(comment.timestamp.unwrap_or(0)),
        updated_at: comment.created_at,
        extra: Map::new(),
    }
}

pub(crate) fn comment_with_includes(
    store: &Store,
    record: &CommentRec,
    includes: &Includes,
) -> types::CommentWithIncludes {
    let plain = comment(record);
    types::CommentWithIncludes {
        anchor: plain.anchor,
        annotation: plain.annotation,
        attachments: plain.attachments,
        completed_at: plain.completed_at,
        completer_id: plain.completer_id,
        created_at: plain.created_at,
        duration: plain.duration,
        file_id: plain.file_id,
        id: plain.id,
        links: plain.links,
        mentions: plain.mentions,
        owner: includes.contains("owner").then(|| user(store)),
        page: plain.page,
        replies: Vec::new(),
        text: plain.text,
        text_edited_at: plain.text_edited_at,
        text_review_annotation: plain.text_review_annotation,
        timestamp: plain.timestamp,
        updated_at: plain.updated_at,
        extra: Map::new(),
    }
}

pub(crate) fn share(share: &ShareRec) -> types::Share {
    types::Share {
        access: if share.public { types::ShareAccess::Public } else { types::ShareAccess::Secure },
        collection_id: share.id.chars().rev().collect(),
        commenting_enabled: true,
        created_at: share.created_at,
        description: None,
        downloading_enabled: share.downloading_enabled,
        enabled: true,
        expiration: None,
        id: share.id.clone(),
        last_viewed_at: None,
        name: Some(share.name.clone()),
        passphrase: None,
        short_url: Some(format!("https://f.io/{}", &share.id[..8.min(share.id.len())])),
        updated_at: share.created_at,
        extra: Map::new(),
    }
}

pub(crate) fn webhook(store: &Store, webhook: &WebhookRec, includes: &Includes) -> types::WebhookWithIncludes {
    types::WebhookWithIncludes {
        active: Some(webhook.active),
        created_at: webhook.created_at,
        creator: includes.contains("creator").then(|| user(store)),
        events: types::WebhookEvents(webhook.events.clone()),
        id: webhook.id.clone(),
        name: webhook.name.clone(),
        updated_at: webhook.updated_at,
        url: webhook.url.clone(),
        workspace_id: Some(webhook.workspace_id.clone()),
        extra: Map::new(),
    }
}

pub(crate) fn webhook_plain(webhook: &WebhookRec) -> types::Webhook {
    types::Webhook {
        active: Some(webhook.active),
        created_at: webhook.created_at,
        events: types::WebhookEvents(webhook.events.clone()),
        id: webhook.id.clone(),
        name: webhook.name.clone(),
        updated_at: webhook.updated_at,
        url: webhook.url.clone(),
        workspace_id: Some(webhook.workspace_id.clone()),
        extra: Map::new(),
    }
}

/// The create response: the only one that shows the signing secret.
pub(crate) fn webhook_created(webhook: &WebhookRec) -> types::WebhookCreateResponseData {
    types::WebhookCreateResponseData {
        active: Some(webhook.active),
        created_at: webhook.created_at,
        events: types::WebhookEvents(webhook.events.clone()),
        id: webhook.id.clone(),
        name: webhook.name.clone(),
        secret: webhook.secret.clone(),
        updated_at: webhook.updated_at,
        url: webhook.url.clone(),
        workspace_id: Some(webhook.workspace_id.clone()),
        extra: Map::new(),
    }
}
