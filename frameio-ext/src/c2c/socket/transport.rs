//! Opening the WebSocket: the URL (on the API's host, the token in its
//! query string, redacted wherever it is shown), TCP, TLS (rustls with the
//! `ring` provider and the platform's trust store) and the HTTP upgrade.
//!
//! "Unlike standard API endpoints where the access token goes in the
//! `Authorization` header, for websocket connections it's included as a
//! URL-encoded query parameter. Note that you must still include `Bearer `
//! (with a space) before your access token": the request goes to
//! `/devices/websocket?Authorization=Bearer%20<token>`. The upgrade is written
//! and read here rather than by tungstenite, whose handshake traces the
//! request line (and with it the token) to the `log` crate; tungstenite then
//! takes over the open stream. The upgrade also carries `x-client-version`,
//! which every call to the API host needs.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::HeaderMap;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::SocketError;
use crate::auth::AccessToken;

/// The socket's path on the API host.
pub const SOCKET_PATH: &str = "/devices/websocket";
/// The longest upgrade response head read, in bytes.
const MAX_RESPONSE_HEAD: usize = 16 * 1024;
/// The most headers an upgrade response may have.
const MAX_RESPONSE_HEADERS: usize = 64;
/// The longest `Retry-After` honoured.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(5 * 60);

/// Any stream the WebSocket runs on (TCP, or TLS over TCP).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open WebSocket.
pub(crate) type Ws = WebSocketStream<Pin<Box<dyn Io>>>;

/// Where the socket is: the API's host with `ws`/`wss` for `http`/`https`.
/// `Display` and `Debug` show the URL with `Authorization=[redacted]`.
#[derive(Clone)]
pub(crate) struct Endpoint {
    secure: bool,
    /// The name or address to connect to (an IPv6 address without brackets).
    host: String,
    port: u16,
    /// The `Host` header: the host as written, with a non-default port.
    authority: String,
    path: String,
}

impl Endpoint {
    /// The socket of the API at `base_url`.
    pub(crate) fn for_api(base_url: &str) -> Result<Self, SocketError> {
        let invalid = |why: &str| SocketError::Transport { reason: format!("the base URL {base_url:?} {why}") };
        let url = reqwest::Url::parse(base_url).map_err(|_| invalid("is not a URL"))?;
        let secure = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return Err(invalid("is neither http nor https")),
        };
        let written = url.host_str().filter(|host| !host.is_empty()).ok_or_else(|| invalid("has no host"))?;
        // An IPv6 address is written in brackets, and connected to without.
        let host = written.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = url.port_or_known_default().ok_or_else(|| invalid("has no port"))?;
        let authority = match url.port() {
            Some(port) => format!("{written}:{port}"),
            None => written.to_owned(),
        };
        let path = format!("{}{SOCKET_PATH}", url.path().trim_end_matches('/'));
        Ok(Self { secure, host, port, authority, path })
    }

    /// Whether the socket runs over TLS (`wss`).
    pub(crate) fn is_secure(&self) -> bool {
        self.secure
    }

    /// The request target, token included: only ever written to the socket.
    fn target(&self, token: &AccessToken) -> String {
        format!("{}?Authorization=Bearer%20{}", self.path, percent_encoded(token.expose_secret()))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "wss" } else { "ws" };
        write!(f, "{scheme}://{}{}?Authorization=[redacted]", self.authority, self.path)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Endpoint").field(&format_args!("{self}")).finish()
    }
}

/// Every byte but the unreserved ones (RFC 3986) as `%XX`.
fn percent_encoded(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The TLS settings of `wss` connections (see [`crate::tls`]).
pub(crate) fn tls_connector() -> Result<tokio_rustls::TlsConnector, SocketError> {
    let config = crate::tls::client_config(crate::tls::HTTP1)
        .map_err(|error| SocketError::Transport { reason: format!("TLS setup failed: {error}") })?;
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// What opening the socket needs besides the endpoint.
pub(crate) struct Open<'a> {
    pub(crate) token: &'a AccessToken,
    pub(crate) client_version: &'a str,
    pub(crate) tls: Option<&'a tokio_rustls::TlsConnector>,
    pub(crate) config: WebSocketConfig,
}

/// Connects, upgrades and hands the stream to tungstenite. A refused upgrade
/// is [`SocketError::Upgrade`] with its status (401 and 403 included).
pub(crate) async fn open(endpoint: &Endpoint, open: Open<'_>) -> Result<Ws, SocketError> {
    let io = |what: &str, error: std::io::Error| SocketError::Transport { reason: format!("{what}: {error}") };
    let tcp = TcpStream::connect((endpoint.host.as_str(), endpoint.port)).await.map_err(|e| io("connecting", e))?;
    tcp.set_nodelay(true).map_err(|e| io("configuring the connection", e))?;
    let mut stream: Pin<Box<dyn Io>> = if endpoint.secure {
        let tls = open.tls.ok_or_else(|| SocketError::Transport { reason: "no TLS settings".into() })?;
        let name = ServerName::try_from(endpoint.host.clone())
            .map_err(|_| SocketError::Transport { reason: format!("{:?} is not a TLS server name", endpoint.host) })?;
        Box::pin(tls.connect(name, tcp).await.map_err(|e| io("TLS handshake", e))?)
    } else {
        Box::pin(tcp)
    };
    let key = generate_key();
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: {key}\r\nx-client-version: {}\r\nUser-Agent: frameio-rs/{}\r\n\r\n",
        endpoint.target(open.token),
        endpoint.authority,
        open.client_version,
        env!("CARGO_PKG_VERSION"),
    );
    stream.write_all(request.as_bytes()).await.map_err(|e| io("sending the upgrade", e))?;
    let (head, rest) = read_head(&mut stream).await?;
    if head.status != 101 {
        let retry_after =
            crate::rate_limit::retry_after(&head.headers, SystemTime::now()).map(|d| d.min(MAX_RETRY_AFTER));
        return Err(SocketError::Upgrade { status: head.status, retry_after });
    }
    let header = |name: &str| head.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let upgraded = header("upgrade").eq_ignore_ascii_case("websocket")
        && header("connection").split(',').any(|token| token.trim().eq_ignore_ascii_case("upgrade"))
        && header("sec-websocket-accept") == derive_accept_key(key.as_bytes());
    if !upgraded {
        return Err(SocketError::Transport { reason: "the server's 101 answer is not a WebSocket upgrade".into() });
    }
    Ok(WebSocketStream::from_partially_read(stream, rest, Role::Client, Some(open.config)).await)
}

/// An upgrade response's status and headers.
struct Head {
    status: u16,
    headers: HeaderMap,
}

/// Reads the response head; the bytes after it are the WebSocket's first.
async fn read_head(stream: &mut Pin<Box<dyn Io>>) -> Result<(Head, Vec<u8>), SocketError> {
    let failed = |reason: String| SocketError::Transport { reason };
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await.map_err(|e| failed(format!("reading the upgrade answer: {e}")))?;
        if read == 0 {
            return Err(failed("the server hung up during the upgrade".into()));
        }
        buffer.extend_from_slice(&chunk[..read]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buffer) {
            Ok(httparse::Status::Complete(length)) => {
                let mut map = HeaderMap::new();
                for header in response.headers.iter() {
                    if let (Ok(name), Ok(value)) = (
                        http::HeaderName::from_bytes(header.name.as_bytes()),
                        http::HeaderValue::from_bytes(header.value),
                    ) {
                        map.append(name, value);
                    }
                }
                let head = Head { status: response.code.unwrap_or_default(), headers: map };
                return Ok((head, buffer.split_off(length)));
            }
            Ok(httparse::Status::Partial) if buffer.len() < MAX_RESPONSE_HEAD => {}
            Ok(httparse::Status::Partial) => {
                return Err(failed(format!("the upgrade answer's head is over {MAX_RESPONSE_HEAD} bytes")));
            }
            Err(error) => return Err(failed(format!("the upgrade answer is not HTTP: {error}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_socket_is_on_the_api_host() {
        let api = Endpoint::for_api("https://api.frame.io").unwrap();
        assert_eq!(api.to_string(), "wss://api.frame.io/devices/websocket?Authorization=[redacted]");
        assert_eq!((api.host.as_str(), api.port, api.is_secure()), ("api.frame.io", 443, true));
        let local = Endpoint::for_api("http://127.0.0.1:8080/").unwrap();
        assert_eq!(local.to_string(), "ws://127.0.0.1:8080/devices/websocket?Authorization=[redacted]");
        let v6 = Endpoint::for_api("http://[::1]:9/prefix/").unwrap();
        assert_eq!(
            (v6.host.as_str(), v6.authority.as_str(), v6.path.as_str()),
            ("::1", "[::1]:9", "/prefix/devices/websocket")
        );
        assert!(Endpoint::for_api("ftp://x").is_err());
        assert!(Endpoint::for_api("nonsense").is_err());
    }

    #[test]
    fn the_token_is_url_encoded_after_bearer_and_never_shown() {
        let endpoint = Endpoint::for_api("https://api.frame.io").unwrap();
        let token = AccessToken::new("ab.C-_~d+/= \r\n");
        assert_eq!(
            endpoint.target(&token),
            "/devices/websocket?Authorization=Bearer%20ab.C-_~d%2B%2F%3D%20%0D%0A",
            "nothing that could end the request line"
        );
        assert!(!format!("{endpoint:?} {endpoint}").contains("ab.C"));
        assert!(format!("{endpoint:?}").contains("Authorization=[redacted]"));
    }

    #[test]
    fn the_tls_settings_use_ring() {
        assert!(tls_connector().is_ok());
    }
}
