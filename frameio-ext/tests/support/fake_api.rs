//! A fake Frame.io API on 127.0.0.1 for client tests: every request is
//! recorded and answered by a handler (or a script of replies), which can
//! also stall or hang up to imitate a failing network.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The token tests authenticate with; it must never show up in any output.
pub const TOKEN: &str = "tok-5ecre7-d0-not-leak";

/// A File as `files_show` returns it.
pub const FILE_JSON: &str = r#"{"data": {"created_at": "2024-10-02T00:22:44.887775Z", "file_size": 102432,
    "id": "df171f3e-c95f-4454-9071-825cd924b572", "media_type": "application/pdf", "name": "sample.pdf",
    "parent_id": "e183c7ba-07d9-425a-9467-ebdf0223d9ce", "project_id": "976dd413-a92b-4af6-b465-98aded0174a8",
    "status": "created", "type": "file", "updated_at": "2024-10-02T00:22:44.927993Z",
    "view_url": "https://next.frame.io/project/976dd413/view/df171f3e"}}"#;

/// A File as `files_create_local_upload` returns it.
pub const UPLOAD_JSON: &str = r#"{"data": {"file_size": 10, "id": "f1", "media_type": "video/mp4", "name": "a.mp4",
    "status": "created", "upload_urls": [{"size": 10, "url": "https://upload.example/part1"}]}}"#;

/// What one request carried.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How the server answers one request.
#[derive(Debug, Clone)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
    hang_up: bool,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Self {
        Self::text(status, body).header("content-type", "application/json")
    }

    pub fn text(status: u16, body: &str) -> Self {
        Self { status, headers: Vec::new(), body: body.to_string(), delay: Duration::ZERO, hang_up: false }
    }

    pub fn empty(status: u16) -> Self {
        Self::text(status, "")
    }

    /// Closes the connection without answering.
    pub fn hang_up() -> Self {
        Self { hang_up: true, ..Self::empty(500) }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Answers only after `delay`.
    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Handler = Box<dyn Fn(&Received, usize) -> Reply + Send + Sync>;

struct State {
    received: Mutex<Vec<Received>>,
    handler: Handler,
}

/// The running server; it stops with the test's runtime.
pub struct FakeApi {
    addr: SocketAddr,
    state: Arc<State>,
}

impl FakeApi {
    /// A server answering request `n` (0-based) with `handler(&request, n)`.
    pub async fn start(handler: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State { received: Mutex::new(Vec::new()), handler: Box::new(handler) });
        let accepting = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&accepting);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&state), req));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Self { addr, state }
    }

    /// A server answering with `replies` in order, then repeating the last.
    pub async fn scripted(replies: Vec<Reply>) -> Self {
        Self::start(move |_, n| replies[n.min(replies.len() - 1)].clone()).await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.state.received.lock().unwrap().len()
    }
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let received = Received {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
        at: Instant::now(),
    };
    let reply = {
        let mut log = state.received.lock().unwrap();
        let reply = (state.handler)(&received, log.len());
        log.push(received);
        reply
    };
    tokio::time::sleep(reply.delay).await;
    if reply.hang_up {
        return Err(std::io::Error::other("hanging up"));
    }
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    for (name, value) in reply.headers {
        response.headers_mut().append(hyper::header::HeaderName::try_from(name).unwrap(), value.parse().unwrap());
    }
    Ok(response)
}
