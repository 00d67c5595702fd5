//! The C2C realtime socket (the guide "Implementing C2C: connection and device
//! status"): a Phoenix channel over WebSocket at `/devices/websocket`.
//!
//! The upgrade carries the device's access token in its query string
//! (`?Authorization=Bearer%20<token>`); a token the fake did not issue to a
//! device, or no longer honours (revoked, rotated by a refresh), is a 403, "An
//! expired token will produce a `403` response". Once open, the socket answers
//! the guide's messages with `phx_reply`s carrying the message's `topic` and
//! `ref`:
//!
//! * `phx_join` on `devices:<id>` of the token's device: `status: ok`, and the
//!   device is online (its connection information says so) while the channel
//!   stays joined; another device's channel is `status: error` (`unauthorized`),
//!   any other topic `unmatched topic`, as Phoenix answers;
//! * `{"topic":"phoenix","event":"heartbeat"}`: `status: ok`; a socket without a
//!   heartbeat for the idle timeout (60 s, as "The server automatically
//!   terminates socket connections after 60 seconds without a heartbeat
//!   message"; `FakeBuilder::c2c_socket_timeout`) is closed;
//! * `phx_leave` on the joined channel: `status: ok`, and the channel is left;
//! * any other event on the joined channel: `status: error` (`unknown event`);
//!   on a channel not joined: `unmatched topic`.
//!
//! While the channel is joined, pausing or resuming the device
//! ([`crate::Fake::pause_device`]) pushes `{"event": "status_updated", "payload":
//! "paused"}` (or `"resumed"`) on it, with a null `ref`, as the guide describes.
//!
//! A frame that is not a Phoenix message in JSON text closes the socket (1003
//! for binary, 1007 for anything else). The upgrade goes through the fake's
//! request pipeline, so it is recorded (operation [`crate::C2C_SOCKET`], the
//! token redacted in `Debug`) and faults can target it.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::message::{Reply, Req};
use crate::{Shared, lock};

/// Where the socket is, on the API's host.
pub(crate) const SOCKET_PATH: &str = "/devices/websocket";
/// How long a socket may go without a heartbeat, by default.
pub(crate) const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest message a device may send; the guide's are a few dozen bytes.
const MAX_MESSAGE: usize = 64 * 1024;

/// How many pushes a session may fall behind before it misses some (the guide:
/// events "may be missed").
const PUSH_BACKLOG: usize = 16;

/// A device paused or resumed: `(device id, paused)`.
pub(crate) type StatusPush = (String, bool);

/// Where the `status_updated` pushes go out to every session.
#[derive(Debug)]
pub(crate) struct Pushes(broadcast::Sender<StatusPush>);

impl Default for Pushes {
    fn default() -> Self {
        Self(broadcast::channel(PUSH_BACKLOG).0)
    }
}

impl Pushes {
    pub(crate) fn status_updated(&self, device_id: &str, paused: bool) {
        // No session listening is not an error: the device is simply offline.
        let _ = self.0.send((device_id.to_string(), paused));
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<StatusPush> {
        self.0.subscribe()
    }
}

/// What the sockets of one device did, from [`crate::Fake::device_socket`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocketActivity {
    /// Upgrades accepted with the device's tokens.
    pub sessions: u64,
    /// Device channels joined now: the device is online while this is not 0.
    pub joined: usize,
    /// Heartbeats answered.
    pub heartbeats: u64,
}

/// Answers the upgrade request: 400 if it is not a WebSocket upgrade, 403 for
/// a token that is not a device's, else 101, with the session spawned on the
/// upgraded connection.
pub(crate) fn answer(shared: &Arc<Shared>, req: &mut Req) -> Reply {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let is_upgrade = header("upgrade").eq_ignore_ascii_case("websocket")
        && header("connection").split(',').any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        && header("sec-websocket-version") == "13";
    let key = header("sec-websocket-key").to_string();
    let Some(upgrade) = req.upgrade.take().filter(|_| is_upgrade && !key.is_empty()) else {
        return Reply::json(400, &json!({"message": "a WebSocket upgrade is expected"}));
    };
    let authorization = form_urlencoded::parse(req.raw_query.as_deref().unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "Authorization")
        .map(|(_, value)| value.into_owned());
    let device_id = authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")).and_then(|token| {
        let c2c = lock(&shared.c2c);
        c2c.access.get(token).filter(|id| c2c.devices.contains_key(*id)).cloned()
    });
    let Some(device_id) = device_id else { return Reply::json(403, &json!({"message": "Forbidden"})) };
    let mut c2c = lock(&shared.c2c);
    let activity = c2c.sockets.entry(device_id.clone()).or_default();
    activity.sessions = activity.sessions.saturating_add(1);
    drop(c2c);
    let idle = shared.lock_config().socket_timeout;
    let session = Arc::clone(shared);
    Arc::clone(shared).spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE));
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
        run(&session, &device_id, idle, ws).await;
    });
    Reply::new(101)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", &derive_accept_key(key.as_bytes()))
}

/// Marks the device online while it lives (so a session that ends any way
/// leaves its channel).
struct Joined<'a> {
    shared: &'a Shared,
    device_id: &'a str,
    topic: String,
}

impl<'a> Joined<'a> {
    fn new(shared: &'a Shared, device_id: &'a str, topic: String) -> Self {
        let mut c2c = lock(&shared.c2c);
        let activity = c2c.sockets.entry(device_id.to_string()).or_default();
        activity.joined = activity.joined.saturating_add(1);
        Self { shared, device_id, topic }
    }
}

impl Drop for Joined<'_> {
    fn drop(&mut self) {
        if let Some(activity) = lock(&self.shared.c2c).sockets.get_mut(self.device_id) {
            activity.joined = activity.joined.saturating_sub(1);
        }
    }
}

/// One session: answers the device's messages until it closes, breaks the
/// protocol or stops beating.
async fn run<S: AsyncRead + AsyncWrite + Unpin>(
    shared: &Shared,
    device_id: &str,
    idle: Duration,
    mut ws: WebSocketStream<S>,
) {
    let own_topic = format!("devices:{device_id}");
    let mut joined: Option<Joined<'_>> = None;
    let mut deadline = tokio::time::Instant::now() + idle;
    let mut pushes = lock(&shared.c2c).subscribe();
    loop {
        let frame = tokio::select! {
            frame = ws.next() => frame,
            push = pushes.recv() => {
                let paused = match push {
                    Ok((id, paused)) if id == device_id && joined.is_some() => paused,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let payload = if paused { "paused" } else { "resumed" };
                let push = json!({"event": "status_updated", "payload": payload, "ref": null, "topic": own_topic});
                if ws.send(Message::text(push.to_string())).await.is_err() {
                    return;
                }
                continue;
            }
            () = tokio::time::sleep_until(deadline) => {
                let _ = ws.close(Some(close(CloseCode::Normal, "no heartbeat"))).await;
                return;
            }
        };
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                let _ = ws.close(Some(close(CloseCode::Unsupported, "text frames only"))).await;
                return;
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return,
        };
        let Some(message) = serde_json::from_str::<Value>(&text).ok().filter(is_message) else {
            let _ = ws.close(Some(close(CloseCode::Invalid, "not a Phoenix message"))).await;
            return;
        };
        let (topic, event) = (message["topic"].as_str().unwrap_or_default(), message["event"].as_str());
        let on_own_channel = joined.as_ref().is_some_and(|j| j.topic == topic);
        let outcome = match event.unwrap_or_default() {
            "heartbeat" if topic == "phoenix" => {
                deadline = tokio::time::Instant::now() + idle;
                let mut c2c = lock(&shared.c2c);
                let activity = c2c.sockets.entry(device_id.to_string()).or_default();
                activity.heartbeats = activity.heartbeats.saturating_add(1);
                if let Some(device) = c2c.devices.get_mut(device_id) {
                    device.last_seen = Some(chrono::Utc::now());
                }
                Ok(())
            }
            "phx_join" if topic == own_topic => {
                if !on_own_channel {
                    joined = Some(Joined::new(shared, device_id, topic.to_string()));
                }
                Ok(())
            }
            "phx_join" if topic.starts_with("devices:") => Err("unauthorized"),
            "phx_leave" if on_own_channel => {
                joined = None;
                Ok(())
            }
            _ if on_own_channel => Err("unknown event"),
            _ => Err("unmatched topic"),
        };
        let payload = match outcome {
            Ok(()) => json!({"response": {}, "status": "ok"}),
            Err(reason) => json!({"response": {"reason": reason}, "status": "error"}),
        };
        let reply = json!({"event": "phx_reply", "payload": payload, "ref": message["ref"], "topic": topic});
        if ws.send(Message::text(reply.to_string())).await.is_err() {
            return;
        }
    }
}

/// Whether `value` has a Phoenix message's fields (`ref` may be null).
fn is_message(value: &Value) -> bool {
    value["topic"].is_string() && value["event"].is_string() && value.get("payload").is_some()
}

fn close(code: CloseCode, reason: &'static str) -> CloseFrame {
    CloseFrame { code, reason: reason.into() }
}
