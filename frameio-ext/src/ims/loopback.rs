//! [`LoopbackRedirect`]: receives a native app's sign-in redirect on
//! `http://127.0.0.1:<port>/callback`.
//!
//! Reading the query of one `GET` needs no HTTP server crate: this is a
//! minimal HTTP/1.1 responder on a Tokio `TcpListener` that reads each
//! connection's request head, answers with a short page, and closes.

use std::io;
use std::net::Ipv4Addr;
use std::time::Duration;

use reqwest::Url;
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The path IMS redirects to.
const CALLBACK_PATH: &str = "/callback";
/// Longest request head read.
const MAX_HEAD: usize = 16 * 1024;
/// How long one connection may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

const SIGNED_IN_PAGE: &str = "<!doctype html><title>Signed in</title>\
    <p>You are signed in. You can close this window and return to the app.</p>";
const DENIED_PAGE: &str = "<!doctype html><title>Sign-in failed</title>\
    <p>Sign-in did not complete. Return to the app for details.</p>";
const BAD_REQUEST_PAGE: &str = "<!doctype html><title>Bad request</title>\
    <p>This is not the sign-in this app is waiting for.</p>";
const NOT_FOUND_PAGE: &str = "<!doctype html><title>Not found</title>";

/// A listener on `127.0.0.1` for the redirect that ends a native app's
/// sign-in: it checks the `state` and hands back the authorization `code`.
///
/// Register `http://127.0.0.1:<port>/callback` as a redirect URI pattern on
/// the credential, bind before building the provider, and give it
/// [`redirect_uri`](Self::redirect_uri). Only loopback connections can reach
/// the listener.
///
/// ```no_run
/// use std::time::Duration;
/// use frameio_ext::ims::{ExposeSecret, ImsPkceApp, LoopbackRedirect};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let redirect = LoopbackRedirect::bind(8765).await?;
/// let auth = ImsPkceApp::builder()
///     .client_id("my-client-id")
///     .redirect_uri(redirect.redirect_uri())
///     .build()?;
/// let (request, verifier) = auth.authorization_url();
/// println!("Sign in at {}", request.url());
/// let code = tokio::time::timeout(
///     Duration::from_secs(300),
///     redirect.wait_for_code(request.state()),
/// )
/// .await??;
/// auth.exchange_code(code.expose_secret(), &verifier).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct LoopbackRedirect {
    listener: TcpListener,
    redirect_uri: String,
}

/// Why [`LoopbackRedirect::wait_for_code`] returned no code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoopbackError {
    /// The listener failed.
    #[error("the loopback redirect listener failed: {0}")]
    Io(#[from] io::Error),
    /// IMS redirected with an error instead of a code (for example the user
    /// declined, `access_denied`).
    #[error("sign-in did not complete: {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Denied {
        /// The OAuth `error` code.
        error: String,
        /// The OAuth `error_description`, if any.
        description: Option<String>,
    },
}

impl LoopbackRedirect {
    /// Listens on `127.0.0.1:port`; port 0 picks a free one (only if the
    /// credential accepts any port).
    pub async fn bind(port: u16) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let port = listener.local_addr()?.port();
        Ok(Self { listener, redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}") })
    }

    /// The redirect URI to give the provider:
    /// `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for IMS's redirect carrying `expected_state` and returns its
    /// `code` (or its error). It waits as long as it takes: wrap it in
    /// `tokio::time::timeout`.
    ///
    /// Requests for other paths get a 404, and redirects with another `state`
    /// (a forged request, or a browser tab left from an earlier attempt) a
    /// 400; both are otherwise ignored, and the wait goes on.
    pub async fn wait_for_code(&self, expected_state: &str) -> Result<SecretString, LoopbackError> {
        loop {
            let (stream, _) = self.listener.accept().await?;
            match answer(stream, expected_state).await {
                Ok(Some(outcome)) => return outcome,
                Ok(None) => {}
                Err(error) => tracing::debug!(%error, "dropped a loopback redirect connection"),
            }
        }
    }
}

/// Reads one request, answers it, and says whether it ended the wait.
async fn answer(
    mut stream: TcpStream,
    expected_state: &str,
) -> io::Result<Option<Result<SecretString, LoopbackError>>> {
    let head = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no request head in time"))??;
    let (status, page, outcome) = classify(&head, expected_state);
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    // The code is already in hand: a browser that left early must not lose it.
    let written = async {
        stream.write_all(response.as_bytes()).await?;
        stream.shutdown().await
    };
    if let Err(error) = written.await {
        tracing::debug!(%error, "could not answer the loopback redirect");
    }
    Ok(outcome)
}

async fn read_head(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "request head too long"));
        }
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buffer[..read]);
    }
    Ok(head)
}

type Classified = (&'static str, &'static str, Option<Result<SecretString, LoopbackError>>);

/// The status line, the page, and the outcome for one request head.
fn classify(head: &[u8], expected_state: &str) -> Classified {
    let head = String::from_utf8_lossy(head);
    let mut request_line = head.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (request_line.next(), request_line.next().unwrap_or_default());
    let url = Url::parse("http://127.0.0.1").and_then(|base| base.join(target));
    let url = match url {
        Ok(url) if method == Some("GET") && url.path() == CALLBACK_PATH => url,
        _ => return ("404 Not Found", NOT_FOUND_PAGE, None),
    };
    let (mut code, mut state, mut error, mut description) = (None, None, None, None);
    for (key, value) in url.query_pairs() {
        let slot = match key.as_ref() {
            "code" => &mut code,
            "state" => &mut state,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        *slot = Some(value.into_owned());
    }
    if state.as_deref() != Some(expected_state) {
        tracing::warn!("ignored a sign-in redirect whose state is not the expected one");
        return ("400 Bad Request", BAD_REQUEST_PAGE, None);
    }
    match (error, code) {
        (Some(error), _) => ("200 OK", DENIED_PAGE, Some(Err(LoopbackError::Denied { error, description }))),
        (None, Some(code)) => ("200 OK", SIGNED_IN_PAGE, Some(Ok(SecretString::from(code)))),
        (None, None) => ("400 Bad Request", BAD_REQUEST_PAGE, None),
    }
}
