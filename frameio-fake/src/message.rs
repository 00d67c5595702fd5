//! HTTP messages as the handlers see them: the request as read ([`Req`], its
//! query decoded by [`Query`]) and the [`Reply`] they answer with, whose
//! [`Payload`] can be generated while it is sent. The server turns hyper's
//! request into a `Req` and a `Reply` into hyper's response; the handlers (V4,
//! C2C, storage) take and give only these, so they sit below the server instead
//! of importing from it.

use bytes::Bytes;

use crate::pattern::patterned_bytes;

/// A request as the handlers see it.
#[derive(Debug)]
pub(crate) struct Req {
    pub method: http::Method,
    pub path: String,
    pub raw_query: Option<String>,
    pub headers: http::HeaderMap,
    pub body: Bytes,
    /// The whole body was read and fit under the cap.
    pub body_complete: bool,
    pub body_len: u64,
    /// The connection after a `101` (only for the C2C socket's path).
    pub upgrade: Option<hyper::upgrade::OnUpgrade>,
}

/// A query string, decoded.
#[derive(Debug, Default)]
pub(crate) struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        Self(form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect())
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A reply body.
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    Empty,
    Bytes(Bytes),
    /// [`patterned_bytes`] of `seed`, from `start` to `end` (exclusive).
    Pattern {
        seed: u64,
        start: u64,
        end: u64,
    },
}

impl Payload {
    pub fn len(&self) -> u64 {
        match self {
            Self::Empty => 0,
            Self::Bytes(b) => b.len() as u64,
            Self::Pattern { start, end, .. } => end.saturating_sub(*start),
        }
    }

    /// Bytes `from..to` of this payload (relative offsets).
    pub fn slice(&self, from: u64, to: u64) -> Bytes {
        match self {
            Self::Empty => Bytes::new(),
            Self::Bytes(b) => b.slice(from as usize..to as usize),
            Self::Pattern { seed, start, .. } => Bytes::from(patterned_bytes(*seed, start + from..start + to)),
        }
    }
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Payload,
}

impl Reply {
    pub fn new(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Payload::Empty }
    }

    pub fn json(status: u16, value: &impl serde::Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_default();
        Self::new(status).header("content-type", "application/json").body(Payload::Bytes(Bytes::from(body)))
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: Payload) -> Self {
        self.body = body;
        self
    }
}
