//! The Camera to Cloud device API (`/v2/...`) as a device sees it: device-code
//! pairing (`authorization_pending` until the test pairs the code with a
//! project, `slow_down` when polled faster than the interval, `expired_token`,
//! `access_denied`), the refresh grant with rotating refresh tokens (a reused one
//! is `invalid_request`), revocation, `GET /v2/devices/me`, heartbeats, and asset
//! creation, whose upload URLs are on the fake's storage and whose file lands in
//! the paired project's root folder (visible through the V4 API), and the
//! realtime socket (`socket`), which shows the device online. A device paused
//! by the test ([`crate::Fake::pause_device`]) says `paused` in its connection
//! information, has its asset creation refused with `409 Channel Paused`, and
//! its joined sockets get a `status_updated` push.
//!
//! Errors are C2C's simple shape (`{"error": "authorization_pending"}`) on the
//! auth endpoints and the `{"code", "errors", "message"}` shape for a bad device
//! token. Code expiry and the polling interval run on tokio's clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use frameio_gen::Operation;
use frameio_gen::c2c::types;
use serde_json::json;
use tokio::time::Instant;

mod realtime;
mod socket;

pub use socket::SocketActivity;
pub(crate) use socket::{DEFAULT_IDLE_TIMEOUT, SOCKET_PATH, answer as answer_socket};

use crate::message::{Reply, Req};
use crate::pattern::mix;
use crate::state::Refusal;
use crate::{Shared, lock, storage};

/// How long an access token is valid for, as the fake says (8 h, as Frame.io's).
const ACCESS_TTL_SECS: i64 = 28_800;

/// Pairing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pairing {
    /// How long a device code is valid (documented example: 120 s).
    pub code_ttl: Duration,
    /// The polling interval the code response asks for (documented example: 5 s).
    pub interval: Duration,
}

impl Default for Pairing {
    fn default() -> Self {
        Self { code_ttl: Duration::from_secs(120), interval: Duration::from_secs(5) }
    }
}

impl Pairing {
    /// The documented values.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long a device code is valid.
    pub fn code_ttl(mut self, ttl: Duration) -> Self {
        self.code_ttl = ttl;
        self
    }

    /// The polling interval (faster polls are `slow_down`).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
}

/// What the user did with a code.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decision {
    Pending,
    Paired { project_id: String },
    Denied,
}

#[derive(Debug, Clone)]
struct Code {
    client_id: String,
    user_code: String,
    issued: Instant,
    last_poll: Option<Instant>,
    decision: Decision,
}

/// A paired device.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    id: String,
    client_id: String,
    pub project_id: String,
    authorized_at: chrono::DateTime<chrono::Utc>,
    last_seen: Option<chrono::DateTime<chrono::Utc>>,
    /// Paused in the C2C Connections panel ([`crate::Fake::pause_device`]).
    paused: bool,
}

/// The C2C state of a running fake.
#[derive(Debug, Default)]
pub(crate) struct C2c {
    pairing: Pairing,
    /// Client secrets accepted; empty accepts any non-empty one.
    secrets: Vec<String>,
    codes: HashMap<String, Code>,
    /// Refresh token → device id.
    refresh: HashMap<String, String>,
    /// Access token → device id.
    access: HashMap<String, String>,
    devices: HashMap<String, Device>,
    /// Device id → what its realtime sockets did.
    sockets: HashMap<String, SocketActivity>,
    /// `status_updated` pushes for the joined sockets.
    pushes: socket::Pushes,
    seq: u64,
}

impl C2c {
    pub fn new(pairing: Pairing, secrets: Vec<String>) -> Self {
        Self { pairing, secrets, ..Self::default() }
    }

    fn token(&mut self, prefix: &str) -> String {
        self.seq += 1;
        format!("{prefix}-{:016x}{:08x}", mix(self.seq ^ 0xC2C), mix(self.seq) & 0xffff_ffff)
    }

    fn secret_ok(&self, secret: Option<&str>) -> bool {
        match secret {
            Some(secret) if !secret.is_empty() => self.secrets.is_empty() || self.secrets.iter().any(|s| s == secret),
            _ => false,
        }
    }

    /// Pairs (or denies) a pending code, as the user does in the web app.
    pub fn decide(&mut self, user_code: &str, project_id: Option<String>) -> bool {
        let Some(code) = self.codes.values_mut().find(|c| c.user_code == user_code) else { return false };
        code.decision = match project_id {
            Some(project_id) => Decision::Paired { project_id },
            None => Decision::Denied,
        };
        true
    }

    /// Tokens for a new or refreshed authorization of `device_id`.
    fn issue(&mut self, device_id: &str) -> types::DeviceTokenResponse {
        let (access, refresh) = (self.token("c2c-at"), self.token("c2c-rt"));
        self.access.insert(access.clone(), device_id.to_string());
        self.refresh.insert(refresh.clone(), device_id.to_string());
        types::DeviceTokenResponse {
            access_token: access,
            expires_in: Some(ACCESS_TTL_SECS),
            refresh_token: Some(refresh),
            token_type: "bearer".into(),
            extra: serde_json::Map::new(),
        }
    }

    /// Drops a device's tokens (revocation, or a refresh that rotates them).
    fn forget(&mut self, device_id: &str) {
        self.access.retain(|_, d| d != device_id);
        self.refresh.retain(|_, d| d != device_id);
    }

    /// (Re)authorizes device `id` (`client_id`) for `project_id`: new tokens, the old ones gone.
    fn authorize(&mut self, id: &str, client_id: &str, project_id: String) -> types::DeviceTokenResponse {
        self.forget(id);
        let device = Device {
            id: id.to_string(),
            client_id: client_id.to_string(),
            project_id,
            authorized_at: chrono::Utc::now(),
            last_seen: None,
            paused: false,
        };
        self.devices.insert(id.to_string(), device);
        self.issue(id)
    }

    /// The device already paired with `client_id`, if any.
    fn device_of(&self, client_id: &str) -> Option<String> {
        self.devices.values().find(|d| d.client_id == client_id).map(|d| d.id.clone())
    }

    /// Pauses or resumes device `device_id` and tells its joined sockets;
    /// `false` if there is no such device.
    pub fn set_paused(&mut self, device_id: &str, paused: bool) -> bool {
        let Some(device) = self.devices.get_mut(device_id) else { return false };
        device.paused = paused;
        self.pushes.status_updated(device_id, paused);
        true
    }

    /// A receiver of the `status_updated` pushes, for one socket session.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<socket::StatusPush> {
        self.pushes.subscribe()
    }

    /// What device `device_id`'s realtime sockets did so far.
    pub fn socket_activity(&self, device_id: &str) -> SocketActivity {
        self.sockets.get(device_id).copied().unwrap_or_default()
    }

    /// A device's live tokens (access, refresh), if it is authorized.
    pub fn tokens_of(&self, device_id: &str) -> Option<IssuedTokens> {
        let find = |map: &HashMap<String, String>| map.iter().find(|(_, d)| *d == device_id).map(|(t, _)| t.clone());
        Some(IssuedTokens { access_token: find(&self.access)?, refresh_token: find(&self.refresh)? })
    }
}

/// A C2C device's live tokens, as the fake issued them last.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
}

impl std::fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedTokens").finish_non_exhaustive()
    }
}

/// Pairs `client_id` with a project, bypassing the device-code flow (seeding); returns the
/// device id and its tokens.
pub(crate) fn seed_device(shared: &Arc<Shared>, client_id: &str, project_id: &str) -> (String, IssuedTokens) {
    let mut c2c = lock(&shared.c2c);
    let id = c2c.device_of(client_id).unwrap_or_else(|| shared.lock_store().next_id());
    let issued = c2c.authorize(&id, client_id, project_id.to_string());
    let tokens =
        IssuedTokens { access_token: issued.access_token, refresh_token: issued.refresh_token.unwrap_or_default() };
    (id, tokens)
}

/// C2C's simple error: `{"error": code}`.
fn simple(status: u16, code: &str) -> Reply {
    Reply::json(status, &json!({ "error": code }))
}

/// C2C's detailed error: `{"code", "errors": [{"code", "detail", "status", "title"}], "message"}`.
fn detailed(status: u16, title: &str, detail: &str) -> Reply {
    Reply::json(
        status,
        &json!({"code": status, "message": title,
            "errors": [{"code": status, "status": status, "title": title, "detail": detail}]}),
    )
}

fn not_authorized() -> Reply {
    detailed(401, "Not Authorized", "You are not allowed to access that resource")
}

/// The form fields of an auth request (`application/x-www-form-urlencoded`).
fn form(req: &Req) -> Result<HashMap<String, String>, Reply> {
    let content_type = req.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(simple(422, "invalid_content_type"));
    }
    Ok(form_urlencoded::parse(&req.body).into_owned().collect())
}

/// Answers a request the router matched to a C2C operation.
pub(crate) fn dispatch(shared: &Arc<Shared>, op: &'static Operation, req: &Req) -> Reply {
    match op.name {
        "authentication_device_request_code" => request_code(shared, req),
        "authentication_auth_device_token" => token(shared, req),
        "authentication_auth_device_revoke_token" => revoke(shared, req),
        _ => {
            let bearer = req
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            let device = bearer.and_then(|t| {
                let c2c = lock(&shared.c2c);
                c2c.access.get(t).and_then(|id| c2c.devices.get(id)).cloned()
            });
            let Some(device) = device else { return not_authorized() };
            match op.name {
                "accounts_device_identify" => identify(shared, &device),
                "devices_device_heartbeat" => {
                    if let Some(d) = lock(&shared.c2c).devices.get_mut(&device.id) {
                        d.last_seen = Some(chrono::Utc::now());
                    }
                    Reply::new(204)
                }
                "devices_device_asset_create" => create_asset(shared, &device, req),
                "devices_device_create_realtime_upload_parts" => realtime::register_parts(shared, &device, req),
                other => Reply::json(
                    501,
                    &json!({"error": "not_implemented", "message": format!("the fake does not implement {other}")}),
                ),
            }
        }
    }
}

fn request_code(shared: &Arc<Shared>, req: &Req) -> Reply {
    let fields = match form(req) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let mut c2c = lock(&shared.c2c);
    let Some(client_id) = fields.get("client_id").filter(|c| !c.is_empty()).cloned() else {
        return simple(400, "invalid_request");
    };
    if !c2c.secret_ok(fields.get("client_secret").map(String::as_str)) {
        return simple(400, "invalid_client");
    }
    let device_code = c2c.token("c2c-dc");
    c2c.seq += 1;
    let user_code = format!("{:06}", mix(c2c.seq) % 1_000_000);
    c2c.codes.insert(
        device_code.clone(),
        Code {
            client_id: client_id.clone(),
            user_code: user_code.clone(),
            issued: Instant::now(),
            last_poll: None,
            decision: Decision::Pending,
        },
    );
    let url_pairing = req.headers.get("x-client-platypus-enabled").and_then(|v| v.to_str().ok()) == Some("true");
    let body = types::DeviceCodeResponse {
        device_code,
        expires_in: c2c.pairing.code_ttl.as_secs_f64(),
        interval: c2c.pairing.interval.as_secs_f64(),
        name: format!("MyDevice-{client_id}"),
        verification_uri: url_pairing.then(|| "https://next.frame.io/pair".to_string()),
        verification_uri_complete: url_pairing.then(|| format!("https://next.frame.io/pair/{user_code}")),
        user_code,
        extra: serde_json::Map::new(),
    };
    Reply::json(200, &body)
}

fn token(shared: &Arc<Shared>, req: &Req) -> Reply {
    let fields = match form(req) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let field = |name: &str| fields.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let Some(client_id) = field("client_id") else { return simple(400, "invalid_request") };
    let mut c2c = lock(&shared.c2c);
    match field("grant_type") {
        Some("urn:ietf:params:oauth:grant-type:device_code") => {
            let Some(device_code) = field("device_code") else { return simple(400, "invalid_request") };
            let pairing = c2c.pairing;
            let Some(code) = c2c.codes.get_mut(device_code).filter(|c| c.client_id == client_id) else {
                return simple(400, "invalid_grant");
            };
            let now = Instant::now();
            if now.saturating_duration_since(code.issued) > pairing.code_ttl {
                return simple(400, "expired_token");
            }
            let too_soon = code.last_poll.is_some_and(|last| now.saturating_duration_since(last) < pairing.interval);
            code.last_poll = Some(now);
            match code.decision.clone() {
                // The guide's error table: `access_denied` is a 401.
                Decision::Denied => simple(401, "access_denied"),
                Decision::Pending if too_soon => simple(400, "slow_down"),
                Decision::Pending => simple(400, "authorization_pending"),
                Decision::Paired { project_id } => {
                    c2c.codes.remove(device_code);
                    let id = c2c.device_of(client_id).unwrap_or_else(|| shared.lock_store().next_id());
                    Reply::json(200, &c2c.authorize(&id, client_id, project_id))
                }
            }
        }
        Some("refresh_token") => {
            let Some(refresh) = field("refresh_token") else { return simple(400, "invalid_request") };
            if !c2c.secret_ok(field("client_secret")) {
                return simple(401, "invalid_client");
            }
            let Some(device_id) = c2c.refresh.get(refresh).cloned() else { return simple(400, "invalid_request") };
            if c2c.devices.get(&device_id).is_none_or(|d| d.client_id != client_id) {
                return simple(400, "invalid_request");
            }
            c2c.forget(&device_id);
            Reply::json(200, &c2c.issue(&device_id))
        }
        _ => simple(400, "invalid_grant"),
    }
}

fn revoke(shared: &Arc<Shared>, req: &Req) -> Reply {
    let fields = match form(req) {
        Ok(fields) => fields,
        Err(reply) => return reply,
    };
    let mut c2c = lock(&shared.c2c);
    if !c2c.secret_ok(fields.get("client_secret").map(String::as_str)) {
        return simple(400, "invalid_client");
    }
    if let Some(device_id) = fields.get("token").and_then(|t| c2c.refresh.get(t)).cloned() {
        c2c.forget(&device_id);
    }
    Reply::new(200)
}

fn identify(shared: &Arc<Shared>, device: &Device) -> Reply {
    // The guide's example names the project, for the device to show.
    let project = shared.lock_store().project_by_id(&device.project_id).and_then(|p| {
        serde_json::from_value::<types::Project>(json!({"_type": "project", "id": p.id, "name": p.name})).ok()
    });
    // "With an active socket connection and channel subscription, your device will show as online".
    let status = if device.paused {
        types::ProjectDeviceStatus::Paused
    } else if lock(&shared.c2c).socket_activity(&device.id).joined > 0 {
        types::ProjectDeviceStatus::Online
    } else {
        types::ProjectDeviceStatus::Offline
    };
    let body = types::ProjectDevice {
        asset_type: Some("video".into()),
        authorization: None,
        channel_count: Some(1),
        channels: Vec::new(),
        creator_id: None,
        deleted_at: None,
        device_id: Some(device.client_id.clone()),
        id: Some(device.id.clone()),
        inserted_at: Some(device.authorized_at),
        last_known_firmware_version: None,
        last_seen_at: device.last_seen,
        name: Some(format!("MyDevice-{}", device.client_id)),
        path_asset_type: None,
        path_name: None,
        project,
        project_id: Some(device.project_id.clone()),
        required_metadata_attributes: Vec::new(),
        status: Some(status),
        timezone: None,
        type_: "project_device".into(),
        updated_at: None,
        extra: serde_json::Map::new(),
    };
    Reply::json(200, &body)
}

/// C2C part sizes: `ceil(size / n)` each, the last one smaller, as the guide's uploader cuts them.
fn c2c_parts(size: u64, part_size: u64) -> Vec<u64> {
    let count = size.div_ceil(part_size.max(1)).max(1);
    let chunk = size.div_ceil(count).max(1);
    (0..count).map(|i| chunk.min(size.saturating_sub(i * chunk))).filter(|s| *s > 0).collect()
}

fn create_asset(shared: &Arc<Shared>, device: &Device, req: &Req) -> Reply {
    let mut value: serde_json::Value = match serde_json::from_slice(&req.body) {
        Ok(value) => value,
        Err(_) => return simple(400, "invalid_request"),
    };
    // The guides show bodies wrapped in `{"body": {...}}` as well as bare.
    if let Some(inner) = value.get_mut("body").map(serde_json::Value::take) {
        value = inner;
    }
    let body: types::AssetCreateRequest = match serde_json::from_value(value) {
        Ok(body) => body,
        Err(e) => return Reply::json(400, &json!({"error": "invalid_argument", "message": e.to_string()})),
    };
    if device.paused {
        // "only media created during the paused period is blocked", answered as the docs show.
        return detailed(409, "Channel Paused", "The channel you're uploading from is currently paused.");
    }
    if body.is_realtime_upload {
        return realtime::create(shared, device, &body);
    }
    let size = match &body.filesize {
        Some(types::AssetParts::Integer(n)) => u64::try_from(*n).ok(),
        Some(types::AssetParts::String(s)) => s.parse().ok(),
        None => None,
    };
    let (Some(size), false) = (size.filter(|s| *s > 0), body.name.trim().is_empty()) else {
        return Reply::json(
            400,
            &json!({"error": "invalid_argument", "message": "name and a positive filesize are required"}),
        );
    };
    let (part_size, max) = {
        let config = shared.lock_config();
        (config.part_size, config.max_file_size)
    };
    if size > max {
        return Reply::json(
            400,
            &json!({"error": "invalid_argument", "message": "filesize is more than this fake keeps in memory"}),
        );
    }
    let parts = c2c_parts(size, part_size);
    let media_type = body.filetype.clone().unwrap_or_else(|| crate::state::media_type(&body.name));
    let created = {
        let mut store = shared.lock_store();
        let target = store.project_by_id(&device.project_id).map(|p| (p.account_id.clone(), p.root_folder_id.clone()));
        match target {
            Some((account, root)) => store.add_upload(&account, &root, &body.name, &media_type, parts.clone()),
            None => Err(Refusal::NotFound("project")),
        }
    };
    let Ok((file, events)) = created else { return simple(401, "unauthorized_client") };
    let upload_urls = storage::part_urls(shared, &file.id, 1..=parts.len());
    shared.emit(events);
    let response = types::AssetCreateResponse {
        id: file.id,
        name: Some(file.name),
        type_: Some("file".into()),
        upload_urls,
        extra: serde_json::Map::new(),
    };
    Reply::json(200, &response)
}

/// Pending codes' user codes, for tests that pair without reading the response.
pub(crate) fn pending_user_codes(c2c: &C2c) -> Vec<String> {
    c2c.codes.values().filter(|c| c.decision == Decision::Pending).map(|c| c.user_code.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c2c_parts_are_ceil_sized_with_a_smaller_last_one() {
        assert_eq!(c2c_parts(21_136_250, 5_284_063), [5_284_063, 5_284_063, 5_284_063, 5_284_061]);
        assert_eq!(c2c_parts(10, 100), [10]);
        assert_eq!(c2c_parts(10, 3), [3, 3, 3, 1]);
    }
}
