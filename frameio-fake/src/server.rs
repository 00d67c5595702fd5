//! The HTTP/1 server: our own accept loop on 127.0.0.1 (so a fault can cut a
//! body short or reset a connection with an RST), the request pipeline every
//! request goes through (route, fault, bounded body read, record, then the
//! handler), and the sending of the handler's reply.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use crate::Shared;
use crate::faults::FaultKind;
use crate::message::{Payload, Reply, Req};
use crate::record::RecordedRequest;

/// The largest chunk a body is sent in.
const CHUNK: u64 = 64 * 1024;

/// Where a cut body stops, and whether the connection is then reset.
#[derive(Debug)]
struct Cut {
    after: u64,
    reset: Option<Arc<AtomicBool>>,
}

/// The body of a response, sent in chunks; a cut one fails after `cut.after` bytes,
/// which makes hyper abandon the connection with the declared length unmet.
#[derive(Debug)]
pub(crate) struct Outgoing {
    payload: Payload,
    sent: u64,
    cut: Option<Cut>,
    /// Before failing a cut body: a moment for hyper to flush what was sent.
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

/// How long a cut body waits, after its last bytes, before it fails.
const FLUSH_PAUSE: Duration = Duration::from_millis(20);

impl Body for Outgoing {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let len = self.payload.len();
        let limit = self.cut.as_ref().map_or(len, |cut| cut.after.min(len));
        if self.sent >= limit {
            if limit == len {
                return Poll::Ready(None);
            }
            // Returning Pending first lets hyper flush the head and the bytes sent so far.
            let pause = self.pause.get_or_insert_with(|| Box::pin(tokio::time::sleep(FLUSH_PAUSE)));
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if let Some(flag) = self.cut.as_ref().and_then(|cut| cut.reset.as_ref()) {
                flag.store(true, Ordering::SeqCst);
            }
            return Poll::Ready(Some(Err(io::Error::other("fault: body cut short"))));
        }
        let to = limit.min(self.sent + CHUNK);
        let chunk = self.payload.slice(self.sent, to);
        self.sent = to;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.cut.is_none() && self.sent >= self.payload.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.payload.len().saturating_sub(self.sent))
    }
}

/// A connection that can be told to end with an RST rather than a FIN.
struct Conn {
    stream: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        if self.reset.load(Ordering::SeqCst) {
            // SO_LINGER 0: close() sends RST and discards anything unsent.
            let _ = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Accepts connections until the fake is dropped.
pub(crate) async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        shared.connections.fetch_add(1, Ordering::SeqCst);
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        shared.clone().spawn(async move {
            let reset = Arc::new(AtomicBool::new(false));
            let conn = Conn { stream, reset: Arc::clone(&reset) };
            let service = service_fn(move |request| {
                let (shared, reset) = (Arc::clone(&shared), Arc::clone(&reset));
                async move { serve(shared, reset, request).await }
            });
            // Upgrades: the C2C realtime socket.
            let _ = http1::Builder::new().serve_connection(TokioIo::new(conn), service).with_upgrades().await;
        });
    }
}

/// A request's body as read: up to `keep` bytes kept, `len` bytes read in all.
struct ReadBody {
    bytes: Vec<u8>,
    len: u64,
    /// Whether the body ended (rather than the read stopping at `stop_at`, or failing).
    complete: bool,
}

async fn read_body(mut body: Incoming, keep: u64, stop_at: u64) -> ReadBody {
    let mut read = ReadBody { bytes: Vec::new(), len: 0, complete: false };
    while read.len < stop_at {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    let room = keep.saturating_sub(read.bytes.len() as u64);
                    let take = (data.len() as u64).min(room) as usize;
                    read.bytes.extend_from_slice(&data[..take]);
                    read.len = read.len.saturating_add(data.len() as u64);
                }
            }
            Some(Err(_)) => return read,
            None => {
                read.complete = true;
                return read;
            }
        }
    }
    read.complete = body.is_end_stream();
    read
}

async fn serve(
    shared: Arc<Shared>,
    reset: Arc<AtomicBool>,
    mut request: Request<Incoming>,
) -> Result<Response<Outgoing>, io::Error> {
    let started = Instant::now();
    let upgrade = (request.uri().path() == crate::c2c::SOCKET_PATH).then(|| hyper::upgrade::on(&mut request));
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let route = crate::api::route(&parts.method, &path);
    let operation = route.operation_name();
    let fault = shared.lock_faults().take(operation, &path);
    let (keep, record_limit) = {
        let config = shared.lock_config();
        (route.body_cap(&config), config.record_body_limit)
    };
    let stop_at = match fault {
        Some(FaultKind::ResetAfter(n) | FaultKind::StallAfter(n)) => n as u64,
        _ => keep.saturating_add(1),
    };
    let read = read_body(body, keep.max(record_limit), stop_at).await;
    let mut bytes = Bytes::from(read.bytes);
    let over_cap = read.len > keep;
    let seq = shared.record(RecordedRequest {
        method: parts.method.clone(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers.clone(),
        body: bytes.slice(..bytes.len().min(record_limit as usize)),
        body_len: read.len,
        body_complete: read.complete && !over_cap,
        operation,
        at: started,
        finished: Instant::now(),
        response: None,
        seq: 0,
    });
    if bytes.len() as u64 > keep {
        bytes.truncate(keep as usize);
    }
    let mut incoming = Req {
        method: parts.method,
        path,
        raw_query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body: bytes,
        body_complete: read.complete && !over_cap,
        body_len: read.len,
        upgrade,
    };
    let mut cut = None;
    let mut repeat_cursor = false;
    match fault {
        Some(FaultKind::HangUp) => return Err(io::Error::other("fault: hang up")),
        Some(FaultKind::ResetAfter(_)) => {
            reset.store(true, Ordering::SeqCst);
            return Err(io::Error::other("fault: reset"));
        }
        Some(FaultKind::StallAfter(_)) => {
            let never = std::future::pending::<Infallible>();
            match never.await {}
        }
        Some(FaultKind::Status { status, headers, body }) => {
            let mut reply = match body {
                Some((content_type, body)) => {
                    let reply = Reply::new(status).body(Payload::Bytes(Bytes::from(body)));
                    if content_type.is_empty() { reply } else { reply.header("content-type", &content_type) }
                }
                None => crate::api::envelope(status, &crate::api::reason(status), "a fault the test scripted"),
            };
            reply.headers.extend(headers);
            return Ok(respond(&shared, seq, reply, None));
        }
        Some(FaultKind::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(FaultKind::Truncate(n)) => cut = Some(Cut { after: n as u64, reset: None }),
        Some(FaultKind::ResetResponseAfter(n)) => cut = Some(Cut { after: n as u64, reset: Some(reset) }),
        Some(FaultKind::RepeatCursor) => repeat_cursor = true,
        None => {}
    }
    let reply = if over_cap {
        route.too_large()
    } else {
        crate::api::dispatch(&shared, route, &mut incoming, repeat_cursor).await
    };
    Ok(respond(&shared, seq, reply, cut))
}

/// The response to request `seq`, recorded as its answer.
fn respond(shared: &Shared, seq: u64, reply: Reply, cut: Option<Cut>) -> Response<Outgoing> {
    let response = response(reply, cut);
    let recorded = crate::record::RecordedResponse {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        at: Instant::now(),
    };
    shared.answered(seq, recorded);
    response
}

fn response(reply: Reply, cut: Option<Cut>) -> Response<Outgoing> {
    let len = reply.body.len();
    let mut response = Response::new(Outgoing { payload: reply.body, sent: 0, cut, pause: None });
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.append(name, value);
        }
    }
    // RFC 9110 §8.6: no Content-Length on a 1xx (the socket's 101), a 204 or a 304.
    if !headers.contains_key(http::header::CONTENT_LENGTH)
        && reply.status >= 200
        && reply.status != 204
        && reply.status != 304
    {
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    response
}
