//! Routing and the V4 handlers: a request is matched against the path
//! templates of `frameio_gen::v4::operations::OPERATIONS` (so it is named by its
//! operation, as faults and rate limits are), authenticated, counted against
//! its rate limit, and answered from the state. Errors are the documented
//! envelope, `{"errors": [{"detail": ..., "title": ...}]}`: 401 for a missing or
//! unknown token, 404 for an unknown resource, 422 for a bad body or parameter,
//! 501 for an operation the fake does not implement.

use std::sync::Arc;

use bytes::Bytes;
use frameio_gen::Operation;
use frameio_gen::v4::types;
use http::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::message::{Payload, Query, Reply, Req};
use crate::pagination::{self, Page};
use crate::paths;
use crate::state::{Refusal, Status, Store};
use crate::storage::{self, Stored};
use crate::views::{self, Includes, View};
use crate::{C2C_SOCKET, Config, STORAGE_DOWNLOAD, STORAGE_UPLOAD, Shared, lock};

/// Where a request goes.
#[derive(Debug)]
pub(crate) enum Route {
    V4 {
        op: &'static Operation,
        params: Vec<String>,
    },
    C2c {
        op: &'static Operation,
    },
    Upload {
        file_id: String,
        part: usize,
    },
    Media {
        file_id: String,
    },
    /// The C2C realtime socket's upgrade.
    Socket,
    Unknown,
}

/// Matches `path` against `template`, returning the `{parameters}` in order.
fn match_template(template: &str, path: &str) -> Option<Vec<String>> {
    let (mut t, mut p) = (template.split('/'), path.split('/'));
    let mut params = Vec::new();
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(params),
            (Some(ts), Some(ps)) if ts.starts_with('{') && !ps.is_empty() => params.push(ps.to_string()),
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
}

fn method_of(method: &Method) -> Option<frameio_gen::Method> {
    Some(match *method {
        Method::GET => frameio_gen::Method::GET,
        Method::POST => frameio_gen::Method::POST,
        Method::PUT => frameio_gen::Method::PUT,
        Method::PATCH => frameio_gen::Method::PATCH,
        Method::DELETE => frameio_gen::Method::DELETE,
        _ => return None,
    })
}

pub(crate) fn route(method: &Method, path: &str) -> Route {
    if let Some((file_id, part)) = paths::parse_upload_path(path) {
        return Route::Upload { file_id: file_id.to_string(), part };
    }
    if let Some((file_id, _)) = paths::parse_media_path(path) {
        return Route::Media { file_id: file_id.to_string() };
    }
    if path == crate::c2c::SOCKET_PATH && method == Method::GET {
        return Route::Socket;
    }
    let Some(method) = method_of(method) else { return Route::Unknown };
    if path.starts_with("/v2/") {
        return frameio_gen::c2c::operations::OPERATIONS
            .iter()
            .find(|op| op.method == method && match_template(op.path, path).is_some())
            .map_or(Route::Unknown, |op| Route::C2c { op });
    }
    frameio_gen::v4::operations::OPERATIONS
        .iter()
        .filter(|op| op.method == method)
        .find_map(|op| match_template(op.path, path).map(|params| Route::V4 { op, params }))
        .unwrap_or(Route::Unknown)
}

impl Route {
    pub fn operation_name(&self) -> Option<&'static str> {
        match self {
            Self::V4 { op, .. } | Self::C2c { op } => Some(op.name),
            Self::Upload { .. } => Some(STORAGE_UPLOAD),
            Self::Media { .. } => Some(STORAGE_DOWNLOAD),
            Self::Socket => Some(C2C_SOCKET),
            Self::Unknown => None,
        }
    }

    /// The most body bytes this route reads.
    pub fn body_cap(&self, config: &Config) -> u64 {
        match self {
            Self::Upload { .. } => config.max_file_size.min(config.part_size.saturating_mul(2)),
            _ => config.max_body,
        }
    }

    /// The answer to a body over [`Self::body_cap`].
    pub fn too_large(&self) -> Reply {
        match self {
            Self::Upload { .. } => {
                storage::s3_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
            }
            _ => envelope(413, "Payload Too Large", "the request body is larger than this server accepts"),
        }
        .header("connection", "close")
    }
}

/// The reason phrase used as an error title.
pub(crate) fn reason(status: u16) -> String {
    http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error").to_string()
}

/// The documented error envelope.
pub(crate) fn envelope(status: u16, title: &str, detail: &str) -> Reply {
    Reply::json(status, &json!({"errors": [{"detail": detail, "title": title}]}))
}

/// An error a handler answers with.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: u16,
    title: &'static str,
    detail: String,
    pointer: Option<String>,
}

impl ApiError {
    fn new(status: u16, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, title, detail: detail.into(), pointer: None }
    }

    fn not_found(what: &str) -> Self {
        Self::new(404, "Not Found", format!("{what} not found"))
    }

    fn invalid(detail: impl Into<String>) -> Self {
        Self::new(422, "Invalid value", detail)
    }

    fn reply(self) -> Reply {
        let mut error = json!({"detail": self.detail, "title": self.title});
        if let Some(pointer) = self.pointer {
            error["source"] = json!({"pointer": pointer});
        }
        Reply::json(self.status, &json!({"errors": [error]}))
    }
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotFound(what) => Self::not_found(what),
            Refusal::Invalid(detail) => Self::invalid(detail),
        }
    }
}

type Handled = Result<Reply, ApiError>;

/// One V4 request in a handler's hands.
struct Ctx<'a> {
    shared: &'a Arc<Shared>,
    req: &'a Req,
    op: &'static Operation,
    params: &'a [String],
    query: Query,
}

const ASSET_INCLUDES: &[&str] = &[
    "media_links.original",
    "media_links.thumbnail",
    "media_links.thumbnail_high_quality",
    "media_links.video_h264_180",
    "media_links.high_quality",
    "media_links.efficient",
    "media_links.scrub_sheet",
    "creator",
    "project",
    "metadata",
];

impl Ctx<'_> {
    fn param(&self, i: usize) -> &str {
        self.params.get(i).map(String::as_str).unwrap_or_default()
    }

    fn account(&self) -> &str {
        self.param(0)
    }

    /// `include`, checked against the values this operation documents.
    fn includes(&self, allowed: &[&str]) -> Result<Includes, ApiError> {
        let mut includes = Includes::new();
        for value in self.query.get("include").unwrap_or_default().split(',').map(str::trim).filter(|v| !v.is_empty()) {
            if !allowed.contains(&value) {
                return Err(ApiError::invalid(format!("include: {value:?} is not one of {}", allowed.join(", "))));
            }
            includes.insert(value.to_string());
        }
        Ok(includes)
    }

    /// The request body as the generated (closed) request type.
    fn body<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.req.body.is_empty() {
            return Err(ApiError::invalid("the request needs a JSON body with a `data` object"));
        }
        serde_json::from_slice(&self.req.body).map_err(|e| {
            let mut error = ApiError::invalid(format!("body: {e}"));
            error.pointer = Some("/data".into());
            error
        })
    }

    fn page<T>(&self, all: Vec<T>) -> Result<Page<T>, ApiError> {
        let request = pagination::page_request(&self.req.path, &self.query).map_err(ApiError::invalid)?;
        Ok(pagination::page(&self.req.path, self.req.raw_query.as_deref(), request, all))
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.shared.lock_store()
    }

    fn account_exists(&self, store: &Store) -> Result<(), ApiError> {
        store.account(self.account()).map(|_| ()).ok_or_else(|| ApiError::not_found("account"))
    }
}

fn list_reply<T: serde::Serialize>(page: Page<T>) -> Reply {
    let mut body = json!({"data": page.items, "links": {"next": page.next}});
    if let Some(total) = page.total_count {
        body["total_count"] = json!(total);
    }
    Reply::json(200, &body)
}

fn data(status: u16, value: impl serde::Serialize) -> Reply {
    Reply::json(status, &json!({ "data": value }))
}

/// Answers one request the router matched (or did not).
pub(crate) async fn dispatch(shared: &Arc<Shared>, route: Route, req: &mut Req, repeat_cursor: bool) -> Reply {
    match route {
        Route::Unknown => envelope(404, "Not Found", &format!("no route for {} {}", req.method, req.path)),
        Route::Upload { file_id, part } => upload_part(shared, req, &file_id, part),
        Route::Media { file_id } => download(shared, req, &file_id),
        Route::C2c { op } => crate::c2c::dispatch(shared, op, req),
        Route::Socket => crate::c2c::answer_socket(shared, req),
        Route::V4 { op, params } => {
            let token = req
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::trim);
            let known = token.is_some_and(|t| lock(&shared.tokens).contains(t));
            let Some(token) = token.filter(|_| known) else {
                let detail = if token.is_some() { "the access token is invalid or expired" } else { "no bearer token" };
                return envelope(401, "Unauthorized", detail);
            };
            let verdict = lock(&shared.buckets).check(op, token);
            let mut reply = if let Some(wait) = verdict.retry_after {
                let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                envelope(429, "Too Many Requests", "rate limit exceeded for this operation")
                    .header("retry-after", &seconds.max(1).to_string())
            } else {
                let ctx = Ctx { shared, req, op, params: &params, query: Query::parse(req.raw_query.as_deref()) };
                if repeat_cursor && op.paginated {
                    let (next, total) =
                        pagination::repeated_cursor_page(&req.path, req.raw_query.as_deref(), &ctx.query);
                    let mut body = json!({"data": [], "links": {"next": next}});
                    if let Some(total) = total {
                        body["total_count"] = json!(total);
                    }
                    Reply::json(200, &body)
                } else {
                    handle(&ctx).unwrap_or_else(ApiError::reply)
                }
            };
            for (name, value) in verdict.headers {
                reply = reply.header(name, &value);
            }
            reply
        }
    }
}

fn handle(ctx: &Ctx<'_>) -> Handled {
    match ctx.op.name {
        "users_show" => Ok(data(200, views::profile(&ctx.store()))),
        "accounts_index" => {
            let store = ctx.store();
            let all: Vec<_> = store.accounts.iter().map(|a| views::account(&store, a)).collect();
            Ok(list_reply(ctx.page(all)?))
        }
        "workspaces_index" => {
            let includes = ctx.includes(&["creator"])?;
            let store = ctx.store();
            ctx.account_exists(&store)?;
            let all: Vec<_> = store
                .workspaces
                .iter()
                .filter(|w| w.account_id == ctx.account())
                .map(|w| views::workspace(&store, w, &includes))
                .collect();
            Ok(list_reply(ctx.page(all)?))
        }
        "workspaces_show" => {
            let includes = ctx.includes(&["creator"])?;
            let store = ctx.store();
            let workspace =
                store.workspace(ctx.account(), ctx.param(1)).ok_or_else(|| ApiError::not_found("workspace"))?;
            Ok(data(200, views::workspace(&store, workspace, &includes)))
        }
        "projects_index" => {
            let includes = ctx.includes(&["owner"])?;
            let store = ctx.store();
            store.workspace(ctx.account(), ctx.param(1)).ok_or_else(|| ApiError::not_found("workspace"))?;
            let all: Vec<_> = store
                .projects
                .iter()
                .filter(|p| p.account_id == ctx.account() && p.workspace_id == ctx.param(1))
                .map(|p| views::project(&store, p, &includes))
                .collect();
            Ok(list_reply(ctx.page(all)?))
        }
        // The fake has no project-only collaborators: every project is reached
        // through its workspace, so nobody is invited to one.
        "projects_invited_projects_index" => {
            ctx.includes(&["owner"])?;
            ctx.account_exists(&ctx.store())?;
            Ok(list_reply(ctx.page(Vec::<types::ProjectWithIncludes>::new())?))
        }
        "projects_show" => {
            let includes = ctx.includes(&["owner"])?;
            let store = ctx.store();
            let project = store.project(ctx.account(), ctx.param(1)).ok_or_else(|| ApiError::not_found("project"))?;
            Ok(data(200, views::project(&store, project, &includes)))
        }
        "folders_show" | "files_show" | "version_stacks_show" => show_asset(ctx),
        "folders_index" | "folders_list" | "files_list" | "version_stacks_index" | "version_stacks_list" => {
            list_assets(ctx)
        }
        "folders_create" => {
            let body: types::FolderCreateParams = ctx.body()?;
            let name = body.data.name.unwrap_or_else(|| "New Folder".to_string());
            let (folder, events) = ctx.store().add_folder(ctx.account(), ctx.param(1), &name)?;
            ctx.shared.emit(events);
            Ok(data(201, views::folder(&folder)))
        }
        "folders_delete" => delete_asset(ctx, "folder"),
        "files_delete" => delete_asset(ctx, "file"),
        "files_create_local_upload" => create_local_upload(ctx),
        "files_show_file_upload_status" => {
            let store = ctx.store();
            let asset =
                store.asset_of(ctx.account(), ctx.param(1), "file").ok_or_else(|| ApiError::not_found("file"))?;
            let file = asset.file().ok_or_else(|| ApiError::not_found("file"))?;
            Ok(data(
                200,
                types::FileUploadStatus {
                    filetype: file.media_type.clone(),
                    id: asset.id.clone(),
                    upload_complete: file.status != Status::Created,
                    upload_completed_at: file.completed_at,
                    upload_failed: false,
                    uploaded_at: file.uploaded_at,
                    extra: serde_json::Map::new(),
                },
            ))
        }
        "files_move" => {
            let body: types::FileMoveParams = ctx.body()?;
            let parent = body.data.parent_id.ok_or_else(|| ApiError::invalid("parent_id: is required"))?;
            let (file, events) = ctx.store().move_file(ctx.account(), ctx.param(1), &parent)?;
            ctx.shared.emit(events);
            Ok(data(200, views::file(&file)))
        }
        "version_stacks_create" => {
            let body: types::VersionStackCreateParams = ctx.body()?;
            let (stack, events) = {
                let mut store = ctx.store();
                let (stack, events) = store.add_stack(ctx.account(), ctx.param(1), &body.data.file_ids)?;
                let mut signer = lock(&ctx.shared.signer);
                let includes = Includes::new();
                let mut view =
                    View { store: &store, signer: &mut signer, base: &ctx.shared.base_url, includes: &includes };
                (view.stack(&stack), events)
            };
            ctx.shared.emit(events);
            Ok(data(201, stack))
        }
        "comments_index" => {
            let includes = ctx.includes(&["owner", "replies"])?;
            let store = ctx.store();
            store.asset_of(ctx.account(), ctx.param(1), "file").ok_or_else(|| ApiError::not_found("file"))?;
            let all: Vec<_> = store
                .comments
                .iter()
                .filter(|c| c.file_id == ctx.param(1))
                .map(|c| views::comment_with_includes(&store, c, &includes))
                .collect();
            Ok(list_reply(ctx.page(all)?))
        }
        "comments_show" => {
            let includes = ctx.includes(&["owner", "replies"])?;
            let store = ctx.store();
            let comment = store
                .comments
                .iter()
                .find(|c| c.id == ctx.param(1) && c.account_id == ctx.account())
                .ok_or_else(|| ApiError::not_found("comment"))?;
            Ok(data(200, views::comment_with_includes(&store, comment, &includes)))
        }
        "comments_create" => {
            let body: types::CreateCommentParams = ctx.body()?;
            let timestamp = match body.data.timestamp {
                Some(types::TimeStamp::Integer(frames)) => Some(frames),
                _ => None,
            };
            let (comment, events) = ctx.store().add_comment(ctx.account(), ctx.param(1), &body.data.text, timestamp)?;
            ctx.shared.emit(events);
            Ok(data(201, views::comment(&comment)))
        }
        "shares_index" => {
            let store = ctx.store();
            store.project(ctx.account(), ctx.param(1)).ok_or_else(|| ApiError::not_found("project"))?;
            let all: Vec<_> = store.shares.iter().filter(|s| s.project_id == ctx.param(1)).map(views::share).collect();
            Ok(list_reply(ctx.page(all)?))
        }
        "shares_show" => {
            let store = ctx.store();
            let share = store
                .shares
                .iter()
                .find(|s| s.id == ctx.param(1) && s.account_id == ctx.account())
                .ok_or_else(|| ApiError::not_found("share"))?;
            Ok(data(200, views::share(share)))
        }
        "shares_create" => {
            let body: types::CreateShareParams = ctx.body()?;
            let types::CreateShareParamsData::Asset(share) = body.data else {
                return Err(ApiError::invalid("type: only \"asset\" shares are supported"));
            };
            let public = !matches!(share.access, types::ShareAccess::Secure);
            let downloading = share.downloading_enabled.unwrap_or(true);
            let (share, events) = ctx.store().add_share(
                ctx.account(),
                ctx.param(1),
                &share.name,
                public,
                &share.asset_ids,
                downloading,
            )?;
            ctx.shared.emit(events);
            Ok(data(201, views::share(&share)))
        }
        "webhooks_index" => {
            let includes = ctx.includes(&["creator"])?;
            let store = ctx.store();
            store.workspace(ctx.account(), ctx.param(1)).ok_or_else(|| ApiError::not_found("workspace"))?;
            let all: Vec<_> = store
                .webhooks
                .iter()
                .filter(|w| w.account_id == ctx.account() && w.workspace_id == ctx.param(1))
                .map(|w| views::webhook(&store, w, &includes))
                .collect();
            Ok(list_reply(ctx.page(all)?))
        }
        "webhooks_create" => {
            let body: types::WebhookCreateParams = ctx.body()?;
            let data_ = body.data;
            let webhook =
                ctx.store().add_webhook(ctx.account(), ctx.param(1), &data_.name, &data_.url, data_.events.0)?;
            Ok(data(201, views::webhook_created(&webhook)))
        }
        "webhooks_show" => {
            let includes = ctx.includes(&["creator"])?;
            let store = ctx.store();
            let webhook = find_webhook(&store, ctx)?;
            Ok(data(200, views::webhook(&store, webhook, &includes)))
        }
        "webhooks_update" => {
            let body: types::WebhookUpdateParams = ctx.body()?;
            let mut store = ctx.store();
            let current = find_webhook(&store, ctx)?.clone();
            let url = body.data.url.unwrap_or(current.url);
            let events = body.data.events.map(|e| e.0).unwrap_or(current.events);
            crate::webhooks::check_subscription(&url, &events).map_err(ApiError::invalid)?;
            let webhook =
                store.webhooks.iter_mut().find(|w| w.id == current.id).ok_or_else(|| ApiError::not_found("webhook"))?;
            webhook.url = url;
            webhook.events = events;
            webhook.name = body.data.name.unwrap_or(current.name);
            webhook.active = body.data.active.unwrap_or(current.active);
            webhook.updated_at = chrono::Utc::now();
            Ok(data(200, views::webhook_plain(webhook)))
        }
        "webhooks_delete" => {
            let mut store = ctx.store();
            let id = find_webhook(&store, ctx)?.id.clone();
            store.webhooks.retain(|w| w.id != id);
            Ok(Reply::new(204))
        }
        other => Err(ApiError::new(501, "Not Implemented", format!("the fake does not implement {other}"))),
    }
}

fn find_webhook<'s>(store: &'s Store, ctx: &Ctx<'_>) -> Result<&'s crate::state::WebhookRec, ApiError> {
    store
        .webhooks
        .iter()
        .find(|w| w.id == ctx.param(1) && w.account_id == ctx.account())
        .ok_or_else(|| ApiError::not_found("webhook"))
}

fn show_asset(ctx: &Ctx<'_>) -> Handled {
    let (tag, allowed): (&str, &[&str]) = match ctx.op.name {
        "folders_show" => ("folder", &["creator", "project", "metadata"]),
        "files_show" => ("file", ASSET_INCLUDES),
        _ => ("version_stack", ASSET_INCLUDES),
    };
    let includes = ctx.includes(allowed)?;
    let store = ctx.store();
    let asset = store
        .asset_of(ctx.account(), ctx.param(1), tag)
        .ok_or_else(|| ApiError::not_found(crate::state::tag_noun(tag)))?;
    let mut signer = lock(&ctx.shared.signer);
    let mut view = View { store: &store, signer: &mut signer, base: &ctx.shared.base_url, includes: &includes };
    Ok(match tag {
        "folder" => data(200, view.folder(asset)),
        "file" => data(200, view.file(asset)),
        _ => data(200, view.stack(asset)),
    })
}

fn list_assets(ctx: &Ctx<'_>) -> Handled {
    let (container, kinds): (&str, &[&str]) = match ctx.op.name {
        "folders_index" => ("folder", &["file", "folder", "version_stack"]),
        "folders_list" => ("folder", &["folder"]),
        "files_list" => ("folder", &["file"]),
        "version_stacks_list" => ("folder", &["version_stack"]),
        _ => ("version_stack", &["file"]),
    };
    let allowed: &[&str] =
        if ctx.op.name == "folders_list" { &["creator", "project", "metadata"] } else { ASSET_INCLUDES };
    let includes = ctx.includes(allowed)?;
    let types_filter: Vec<String> = match ctx.query.get("type").filter(|_| ctx.op.name == "folders_index") {
        Some(list) => {
            let wanted: Vec<String> = list.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
            if let Some(bad) = wanted.iter().find(|t| !kinds.contains(&t.as_str())) {
                return Err(ApiError::invalid(format!("type: {bad:?} is not one of file, folder, version_stack")));
            }
            wanted
        }
        None => kinds.iter().map(|k| k.to_string()).collect(),
    };
    let store = ctx.store();
    let parent = store
        .asset_of(ctx.account(), ctx.param(1), container)
        .ok_or_else(|| ApiError::not_found(crate::state::tag_noun(container)))?;
    let children: Vec<_> =
        store.children_of(&parent.id).filter(|a| types_filter.iter().any(|t| t == a.tag())).collect();
    let page = ctx.page(children)?;
    let mut signer = lock(&ctx.shared.signer);
    let mut view = View { store: &store, signer: &mut signer, base: &ctx.shared.base_url, includes: &includes };
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|asset| match ctx.op.name {
            "folders_list" => serde_json::to_value(view.folder(asset)),
            "version_stacks_list" => serde_json::to_value(view.stack(asset)),
            _ => serde_json::to_value(view.asset(asset)),
        })
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::new(500, "Internal Server Error", e.to_string()))?;
    Ok(list_reply(Page { items, next: page.next, total_count: page.total_count }))
}

fn delete_asset(ctx: &Ctx<'_>, tag: &str) -> Handled {
    let ((), events) = ctx.store().delete_asset(ctx.account(), ctx.param(1), tag)?;
    ctx.shared.emit(events);
    Ok(Reply::new(204))
}

fn create_local_upload(ctx: &Ctx<'_>) -> Handled {
    let body: types::FileCreateLocalUploadParams = ctx.body()?;
    let (part_size, max) = {
        let config = ctx.shared.lock_config();
        (config.part_size, config.max_file_size)
    };
    let size = u64::try_from(body.data.file_size)
        .ok()
        .filter(|s| *s >= 1)
        .ok_or_else(|| ApiError::invalid("file_size: must be a positive number of bytes"))?;
    if size > max {
        return Err(ApiError::invalid(format!(
            "file_size: {size} bytes is more than this fake keeps in memory ({max}; see FakeBuilder::max_file_size)"
        )));
    }
    let parts = storage::split(size, part_size);
    let (file, events) = ctx.store().add_upload(
        ctx.account(),
        ctx.param(1),
        &body.data.name,
        &crate::state::media_type(&body.data.name),
        parts.clone(),
    )?;
    let upload_urls = parts
        .iter()
        .zip(storage::part_urls(ctx.shared, &file.id, 1..=parts.len()))
        .map(|(size, url)| types::UploadUrl {
            size: i64::try_from(*size).unwrap_or(i64::MAX),
            url,
            extra: serde_json::Map::new(),
        })
        .collect();
    let plain = views::file(&file).ok_or_else(|| ApiError::new(500, "Internal Server Error", "not a file"))?;
    ctx.shared.emit(events);
    Ok(data(
        201,
        types::FileWithUploadUrls {
            adobe_version_id: None,
            created_at: Some(plain.created_at),
            file_size: plain.file_size,
            id: Some(plain.id),
            // The creation answer names the type the part URLs are signed for
            // (both documented examples carry it); listings show null until uploaded.
            media_type: file.file().map(|f| f.media_type.clone()),
            name: Some(plain.name),
            parent_id: plain.parent_id,
            project_id: Some(plain.project_id),
            status: plain.status,
            type_: Some(plain.type_),
            updated_at: Some(plain.updated_at),
            upload_urls,
            view_url: Some(plain.view_url),
            extra: serde_json::Map::new(),
        },
    ))
}

/// Pre-signed requests carry their credential in the query; S3 refuses a second one.
fn refuses_second_credential(req: &Req) -> Option<Reply> {
    req.headers.contains_key(http::header::AUTHORIZATION).then(|| {
        storage::s3_error(
            400,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string \
             parameter or the Authorization header should be specified",
        )
    })
}

fn upload_part(shared: &Arc<Shared>, req: &Req, file_id: &str, number: usize) -> Reply {
    if req.method != Method::PUT {
        return storage::s3_error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        );
    }
    if let Some(refused) = refuses_second_credential(req) {
        return refused;
    }
    let query = Query::parse(req.raw_query.as_deref());
    if let Err(rejection) = lock(&shared.signer).check(&Method::PUT, &req.path, &query) {
        return storage::rejection_reply(rejection);
    }
    let (media_type, expected) = {
        let store = shared.lock_store();
        let part = store
            .assets
            .get(file_id)
            .and_then(|a| a.file())
            .filter(|f| f.status == Status::Created)
            .and_then(|f| f.part_size(number).map(|size| (f.media_type.clone(), size)));
        match part {
            Some(found) => found,
            None => {
                return storage::s3_error(
                    404,
                    "NoSuchUpload",
                    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been \
                     aborted or completed.",
                );
            }
        }
    };
    let received = if req.body_complete { req.body_len } else { req.body_len.min(expected.saturating_sub(1)) };
    if let Err(reply) = storage::check_part(&req.headers, &media_type, expected, received) {
        return reply;
    }
    let bytes: Bytes = req.body.clone();
    let etag = crate::state::etag(&bytes);
    let events = shared.lock_store().store_part(file_id, number, bytes);
    shared.emit(events);
    Reply::new(200).header("etag", &etag)
}

fn download(shared: &Arc<Shared>, req: &Req, file_id: &str) -> Reply {
    if req.method != Method::GET && req.method != Method::HEAD {
        return storage::s3_error(
            405,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        );
    }
    if let Some(refused) = refuses_second_credential(req) {
        return refused;
    }
    let query = Query::parse(req.raw_query.as_deref());
    if let Err(rejection) = lock(&shared.signer).check(&Method::GET, &req.path, &query) {
        return storage::rejection_reply(rejection);
    }
    let stored = {
        let store = shared.lock_store();
        store.assets.get(file_id).and_then(|asset| {
            let file = asset.file()?;
            Some(Stored {
                name: asset.name.clone(),
                media_type: file.media_type.clone(),
                size: file.size,
                content: file.content.clone(),
                etag: file.etag.clone(),
                status: file.status,
            })
        })
    };
    let Some(stored) = stored.filter(|s| s.status != Status::Created) else {
        return storage::s3_error(404, "NoSuchKey", "The specified key does not exist.");
    };
    let ignore_range = shared.lock_config().ignore_range;
    let mut reply = storage::download(&stored, &req.headers, &query, ignore_range);
    if req.method == Method::HEAD {
        let len = reply.body.len();
        reply = reply.header("content-length", &len.to_string()).body(Payload::Empty);
    }
    reply
}
