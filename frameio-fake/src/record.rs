//! The request log: every request the fake received, in the order their bodies were read, for
//! assertions, each with the answer it got ([`RecordedResponse`]: status, headers and when the
//! head was sent), so a test can count the 429s a burst drew or check that one request was
//! answered before another began. Its `Debug` never shows a secret: the `Authorization` value
//! and the signature-bearing query parameters of pre-signed URLs are redacted.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, Method};
use tokio::time::Instant;

/// One request as received.
#[derive(Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    pub method: Method,
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    pub headers: HeaderMap,
    /// The body as read, up to the recording limit.
    pub body: Bytes,
    /// The body's length as read (can exceed `body.len()` past the recording limit).
    pub body_len: u64,
    /// Whether the whole body was read (false when a fault cut the read short, the
    /// client stopped sending, or the body was over the cap).
    pub body_complete: bool,
    /// The operation it was routed to (`files_show`, [`crate::STORAGE_UPLOAD`], ...), if any.
    pub operation: Option<&'static str>,
    /// When its head arrived, on tokio's (possibly paused) clock.
    pub at: Instant,
    /// When reading its body ended (the log is in this order).
    pub finished: Instant,
    /// The answer, once its head was sent; `None` while the request waits (a delay, a stall)
    /// and for one that was never answered (a hang-up, a reset).
    pub response: Option<RecordedResponse>,
    /// Which request this is, to attach its response.
    pub(crate) seq: u64,
}

/// The answer a recorded request got.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedResponse {
    pub status: u16,
    /// The headers as sent, `Content-Length` included.
    pub headers: HeaderMap,
    /// When the head was sent, on tokio's clock (for a cut body: the head, not its end).
    pub at: Instant,
}

impl RecordedResponse {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl RecordedRequest {
    /// A header's value, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter, percent-decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_deref().unwrap_or_default().as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The status it was answered with, if it was.
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }
}

/// Headers whose values are credentials.
const SECRET_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie", "x-amz-security-token"];

/// Query parameters that carry a credential: a pre-signed URL's, the C2C socket's token.
const SECRET_PARAMS: &[&str] =
    &["x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "authorization"];

/// A query string with the credential parameters' values replaced.
pub(crate) fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            if SECRET_PARAMS.contains(&name.to_ascii_lowercase().as_str()) {
                format!("{name}=<redacted>")
            } else {
                pair.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if SECRET_HEADERS.contains(&name.as_str()) {
                    "<redacted>".to_string()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name.to_string(), shown)
            })
            .collect();
        f.debug_struct("RecordedRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query.as_deref().map(redact_query))
            .field("headers", &headers)
            .field("body_len", &self.body_len)
            .field("operation", &self.operation)
            .field("body_complete", &self.body_complete)
            .field("at", &self.at)
            .field("finished", &self.finished)
            .field("status", &self.status())
            .field("answered", &self.response.as_ref().map(|r| r.at))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_token_and_the_signature() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer tok-5ecre7".parse().unwrap());
        headers.insert("content-type", "video/mp4".parse().unwrap());
        let request = RecordedRequest {
            method: Method::PUT,
            path: "/p".into(),
            query: Some(
                "X-Amz-Expires=3600&X-Amz-Signature=d0d0cafe&X-Amz-Credential=AKIA&Authorization=Bearer%20c2c-5ecre7"
                    .into(),
            ),
            headers,
            body: Bytes::from_static(b"tok-5ecre7 in a body is not shown either"),
            body_len: 41,
            body_complete: true,
            operation: None,
            at: Instant::now(),
            finished: Instant::now(),
            response: None,
            seq: 0,
        };
        let shown = format!("{request:?}");
        for secret in ["tok-5ecre7", "d0d0cafe", "AKIA", "c2c-5ecre7"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("X-Amz-Expires=3600") && shown.contains("video/mp4"), "{shown}");
    }
}
