//! A fake S3 storage endpoint for upload tests: it accepts pre-signed-style
//! `PUT`s on 127.0.0.1, keeps exactly what each request carried, and
//! misbehaves on cue (error statuses, connection resets, stalls).

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::time::Instant;

/// The query every URL from [`FakeStorage::url`] carries, standing in for a
/// pre-signed URL's credential.
pub const SECRET_QUERY: &str = "X-Amz-Credential=AKIAFAKE%2F20250101&X-Amz-Signature=d0d0cafe5ecre7&X-Amz-Expires=3600";

/// Bytes that differ from one offset to the next, so a part sent with the wrong
/// range shows up in what the server received.
pub fn patterned_bytes(len: u64) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// How the server answers one request to a path.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    /// Read the whole body and answer 200 with an `ETag` of its xxh3.
    Accept,
    /// Read the whole body, wait, then accept.
    AcceptAfter(Duration),
    /// Read the whole body, then answer this status with this body.
    Status(u16, &'static str),
    /// Read this many bytes, then drop the connection with the rest unread
    /// (the kernel answers the client's next bytes with a reset).
    ResetAfter(usize),
    /// Read this many bytes, then neither read nor answer again.
    StallAfter(usize),
}

/// What one request carried.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// Whether the whole body was read.
    pub complete: bool,
    pub started: Instant,
    pub finished: Instant,
}

#[derive(Default)]
struct State {
    connections: AtomicUsize,
    received: Mutex<Vec<Received>>,
    scripts: Mutex<HashMap<String, VecDeque<Reply>>>,
}

/// The running server; it stops with the test's runtime.
pub struct FakeStorage {
    addr: SocketAddr,
    state: Arc<State>,
}

impl FakeStorage {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let accepting = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accepting.connections.fetch_add(1, Ordering::SeqCst);
                let state = Arc::clone(&accepting);
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(Arc::clone(&state), req));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
        });
        Self { addr, state }
    }

    /// A URL on this server for `path`, with a credential-like query.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}?{SECRET_QUERY}", self.addr)
    }

    /// The next answers for `path`, in order; once used up, requests are
    /// accepted.
    pub fn script(&self, path: &str, replies: impl IntoIterator<Item = Reply>) {
        self.state.scripts.lock().unwrap().entry(path.to_owned()).or_default().extend(replies);
    }

    /// Every request so far, in the order their bodies ended.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// The requests to `path`, in the order their bodies ended.
    pub fn received_for(&self, path: &str) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.path == path).collect()
    }

    /// How many TCP connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
}

type Answer = Response<Full<Bytes>>;

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Answer, std::io::Error> {
    let started = Instant::now();
    let path = req.uri().path().to_owned();
    let reply = state.scripts.lock().unwrap().get_mut(&path).and_then(VecDeque::pop_front).unwrap_or(Reply::Accept);
    let limit = match reply {
        Reply::ResetAfter(n) | Reply::StallAfter(n) => n,
        _ => usize::MAX,
    };
    let (head, mut body) = req.into_parts();
    let mut bytes = Vec::new();
    let mut complete = true;
    while bytes.len() < limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
            }
            Some(Err(_)) => {
                complete = false;
                break;
            }
            None => break,
        }
    }
    if bytes.len() >= limit {
        complete = body.is_end_stream();
    }
    let record = |bytes: Vec<u8>, complete: bool| {
        state.received.lock().unwrap().push(Received {
            method: head.method.clone(),
            path: path.clone(),
            query: head.uri.query().map(str::to_owned),
            headers: head.headers.clone(),
            body: bytes,
            complete,
            started,
            finished: Instant::now(),
        });
    };
    let etag = format!("\"{:016x}\"", xxhash_rust::xxh3::xxh3_64(&bytes));
    match reply {
        Reply::Accept => {
            record(bytes, complete);
            Ok(ok(&etag))
        }
        Reply::AcceptAfter(delay) => {
            tokio::time::sleep(delay).await;
            record(bytes, complete);
            Ok(ok(&etag))
        }
        Reply::Status(status, text) => {
            record(bytes, complete);
            Ok(Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", "application/xml")
                .body(Full::new(Bytes::from_static(text.as_bytes())))
                .unwrap())
        }
        Reply::ResetAfter(_) => {
            record(bytes, complete);
            Err(std::io::Error::other("scripted reset"))
        }
        Reply::StallAfter(_) => {
            record(bytes, complete);
            match std::future::pending::<Infallible>().await {}
        }
    }
}

fn ok(etag: &str) -> Answer {
    Response::builder().header("etag", etag).body(Full::new(Bytes::new())).unwrap()
}
