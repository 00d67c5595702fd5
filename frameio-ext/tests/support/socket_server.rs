//! A fake Frame.io for the realtime socket tests, on 127.0.0.1: the C2C
//! guide's Phoenix channel over WebSocket at `/devices/websocket` (hyper
//! upgrades the connection, tokio-tungstenite speaks the protocol), and on the
//! same port the HTTP calls the socket makes (`/v2/devices/me`,
//! `/v2/auth/token`, and `/v2/devices/heartbeat` for the REST heartbeat).
//!
//! Each session answers `phx_join` as the [`Script`] says, heartbeats with the
//! guide's reply (unless told not to), and any other event with an `ok`
//! reply echoing its payload, except `slow` (never answered) and `refuse`
//! (`status: error`). Tests push frames to the open sessions and close them
//! through the [`PhoenixServer`] handle; everything received is recorded.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The device id of the guide's connection information.
pub const DEVICE_ID: &str = "a7e95254-8cd6-4d59-b54d-28c58570a8de";

type Rule<T> = Arc<dyn Fn(usize) -> T + Send + Sync>;

/// How the fake behaves; each rule gets the 0-based number of the session
/// (or request) it decides for.
#[derive(Clone)]
pub struct Script {
    /// Whether the upgrade with this token is accepted (else 403).
    pub accept: Arc<dyn Fn(&str) -> bool + Send + Sync>,
    /// The join reply's payload for session `n`.
    pub join: Rule<Value>,
    /// Whether session `n` answers heartbeats.
    pub heartbeats: Rule<bool>,
    /// The `/v2/auth/token` answer to request `n`: status and body.
    pub token: Rule<(u16, String)>,
    /// The `status` of the `n`-th connection information.
    pub device_status: Rule<&'static str>,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            accept: Arc::new(|_| true),
            join: Arc::new(|_| json!({"response": {}, "status": "ok"})),
            heartbeats: Arc::new(|_| true),
            token: Arc::new(|_| (400, r#"{"error": "invalid_grant"}"#.to_string())),
            device_status: Arc::new(|_| "online"),
        }
    }
}

/// An upgrade request, as received.
#[derive(Debug, Clone)]
pub struct Upgrade {
    /// The raw query string.
    pub query: String,
    /// The `Authorization` query value, decoded.
    pub authorization: Option<String>,
    /// The `x-client-version` header.
    pub client_version: Option<String>,
    /// The status answered.
    pub status: u16,
}

/// An HTTP call, as received.
#[derive(Debug, Clone)]
pub struct Call {
    pub path: String,
    pub authorization: Option<String>,
}

/// What a session received, with tokio's clock.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub frames: Vec<(Instant, Value)>,
    pub ended: bool,
}

impl Session {
    /// The frames with `event`.
    pub fn events(&self, event: &str) -> Vec<(Instant, Value)> {
        self.frames.iter().filter(|(_, f)| f["event"] == event).cloned().collect()
    }
}

enum Control {
    Text(String),
    Binary(Vec<u8>),
    Close,
}

#[derive(Default)]
struct Log {
    upgrades: Vec<Upgrade>,
    calls: Vec<Call>,
    sessions: Vec<Session>,
    controls: Vec<Option<mpsc::UnboundedSender<Control>>>,
    tokens: usize,
    identities: usize,
}

struct State {
    script: Script,
    log: Mutex<Log>,
}

/// The running fake; it stops with the test's runtime.
pub struct PhoenixServer {
    addr: SocketAddr,
    state: Arc<State>,
}

impl PhoenixServer {
    pub async fn start(script: Script) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State { script, log: Mutex::default() });
        let accepting = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&accepting);
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&state), request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).with_upgrades().await;
                });
            }
        });
        Self { addr, state }
    }

    /// The API base URL (`http://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn upgrades(&self) -> Vec<Upgrade> {
        self.state.log.lock().unwrap().upgrades.clone()
    }

    pub fn calls(&self, path: &str) -> Vec<Call> {
        self.state.log.lock().unwrap().calls.iter().filter(|c| c.path == path).cloned().collect()
    }

    pub fn sessions(&self) -> Vec<Session> {
        self.state.log.lock().unwrap().sessions.clone()
    }

    /// Sends a text frame on every open session.
    pub fn push(&self, text: &str) {
        self.control(|| Control::Text(text.to_string()));
    }

    /// Sends a binary frame on every open session.
    pub fn push_binary(&self, bytes: &[u8]) {
        self.control(|| Control::Binary(bytes.to_vec()));
    }

    /// Closes every open session with a close frame.
    pub fn close_all(&self) {
        self.control(|| Control::Close);
    }

    fn control(&self, make: impl Fn() -> Control) {
        for sender in self.state.log.lock().unwrap().controls.iter().flatten() {
            let _ = sender.send(make());
        }
    }

    /// Waits (up to 10 s) until `done` holds for the sessions.
    pub async fn wait_for(&self, what: &str, done: impl Fn(&[Session]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(&self.sessions()) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}: {:#?}", self.sessions());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

type Answer = Response<Full<Bytes>>;

fn answer(status: u16, body: String) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    response.headers_mut().insert("content-type", "application/json".parse().unwrap());
    response
}

async fn handle(state: Arc<State>, mut request: Request<Incoming>) -> Result<Answer, Infallible> {
    let path = request.uri().path().to_string();
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    if path == "/devices/websocket" {
        let query = request.uri().query().unwrap_or_default().to_string();
        let url = reqwest::Url::parse(&format!("http://query/?{query}")).unwrap();
        let authorization = url.query_pairs().find(|(k, _)| k == "Authorization").map(|(_, v)| v.into_owned());
        let token = authorization.as_deref().and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default();
        let accepted = (state.script.accept)(token);
        let client_version = header("x-client-version");
        let key = header("sec-websocket-key").unwrap_or_default();
        state.log.lock().unwrap().upgrades.push(Upgrade {
            query,
            authorization,
            client_version,
            status: if accepted { 101 } else { 403 },
        });
        if !accepted {
            return Ok(answer(403, r#"{"message": "Forbidden"}"#.to_string()));
        }
        let upgrading = hyper::upgrade::on(&mut request);
        let session = Arc::clone(&state);
        tokio::spawn(async move {
            let upgraded = upgrading.await.unwrap();
            let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
            run_session(session, ws).await;
        });
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let headers = response.headers_mut();
        headers.insert("upgrade", "websocket".parse().unwrap());
        headers.insert("connection", "Upgrade".parse().unwrap());
        headers.insert("sec-websocket-accept", derive_accept_key(key.as_bytes()).parse().unwrap());
        return Ok(response);
    }
    let authorization = header("authorization");
    let _ = request.into_body().collect().await;
    let mut log = state.log.lock().unwrap();
    log.calls.push(Call { path: path.clone(), authorization });
    Ok(match path.as_str() {
        "/v2/devices/me" => {
            let n = log.identities;
            log.identities += 1;
            let status = (state.script.device_status)(n);
            let device = json!({
                "_type": "project_device", "id": DEVICE_ID, "name": "Frameio-TEST-DEVICE", "status": status,
                "project": {"_type": "project", "id": "2ad59fe6-77b6-4fbc-a9d2-3dd0413ed4a3", "name": "Testbed"},
            });
            answer(200, device.to_string())
        }
        "/v2/auth/token" => {
            let n = log.tokens;
            log.tokens += 1;
            let (status, body) = (state.script.token)(n);
            answer(status, body)
        }
        "/v2/devices/heartbeat" => answer(204, String::new()),
        _ => answer(404, r#"{"message": "no such route in the fake"}"#.to_string()),
    })
}

async fn run_session<S>(state: Arc<State>, mut ws: WebSocketStream<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (control, mut controls) = mpsc::unbounded_channel();
    let index = {
        let mut log = state.log.lock().unwrap();
        log.sessions.push(Session::default());
        log.controls.push(Some(control));
        log.sessions.len() - 1
    };
    loop {
        tokio::select! {
            frame = ws.next() => {
                let Some(Ok(frame)) = frame else { break };
                let Message::Text(text) = frame else { continue };
                let received: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.to_string()));
                state.log.lock().unwrap().sessions[index].frames.push((Instant::now(), received.clone()));
                if let Some(reply) = reply_to(&state.script, index, &received)
                    && ws.send(Message::text(reply.to_string())).await.is_err()
                {
                    break;
                }
            }
            control = controls.recv() => {
                let sent = match control {
                    Some(Control::Text(text)) => ws.send(Message::text(text)).await,
                    Some(Control::Binary(bytes)) => ws.send(Message::binary(bytes)).await,
                    Some(Control::Close) | None => {
                        let frame = CloseFrame { code: CloseCode::Away, reason: "restarting".into() };
                        let _ = ws.close(Some(frame)).await;
                        break;
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
        }
    }
    let mut log = state.log.lock().unwrap();
    log.sessions[index].ended = true;
    log.controls[index] = None;
}

/// The reply to a client message, if any.
fn reply_to(script: &Script, session: usize, message: &Value) -> Option<Value> {
    let reply = |payload: Value| {
        Some(json!({"event": "phx_reply", "payload": payload, "ref": message["ref"], "topic": message["topic"]}))
    };
    match message["event"].as_str()? {
        "phx_join" => reply((script.join)(session)),
        "heartbeat" if (script.heartbeats)(session) => reply(json!({"response": {}, "status": "ok"})),
        "heartbeat" | "slow" => None,
        "refuse" => reply(json!({"response": {"reason": "refused"}, "status": "error"})),
        _ => reply(json!({"response": {"echo": message["payload"]}, "status": "ok"})),
    }
}
