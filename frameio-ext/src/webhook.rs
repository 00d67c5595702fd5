//! Incoming Frame.io requests: signature checks and typed webhook events.
//!
//! This module owns the request [`Verifier`] (shared with
//! [custom actions](crate::custom_action), which Frame.io signs the same way)
//! and the webhook payload types: [`WebhookEvent`] and the full list of
//! documented [`EventType`]s.
//!
//! Frame.io signs every webhook `POST` with the secret returned when the webhook
//! was created: the `X-Frameio-Signature` header is `v0=` followed by the hex
//! HMAC-SHA256 of `v0:{timestamp}:{body}`, where `timestamp` is the
//! `X-Frameio-Request-Timestamp` header (Unix seconds). Verify the raw body
//! bytes exactly as received, before any JSON parsing: re-encoded JSON does not
//! match the signature.
//!
//! The verifier takes an [`http::HeaderMap`] and the body bytes, so it works with
//! any server framework (see `examples/axum_webhook.rs`).
//!
//! ```
//! use frameio_ext::webhook::{EventType, Verifier, WebhookEvent};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let verifier = Verifier::new("s3cr3t");
//! let body = br#"{"type":"file.ready","resource":{"id":"d3075547","type":"file"}}"#;
//! let mut headers = http::HeaderMap::new();
//! headers.insert("x-frameio-request-timestamp", "1604004499".parse()?);
//! headers.insert("x-frameio-signature", verifier.sign(1604004499, body).parse()?);
//!
//! // A real receiver calls `verify_and_parse`, which reads the system clock.
//! let now = UNIX_EPOCH + Duration::from_secs(1604004499 + 10);
//! let event: WebhookEvent = verifier.verify_and_parse_at(&headers, body, now)?;
//! assert_eq!(event.r#type, EventType::FileReady);
//! assert_eq!(event.resource.id, "d3075547");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;

/// Header carrying the Unix time (seconds) at which Frame.io signed the request.
pub const TIMESTAMP_HEADER: &str = "x-frameio-request-timestamp";
/// Header carrying the request signature, `v0=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "x-frameio-signature";
/// How far the request timestamp may be from local time, either way, by
/// default: the 5 minutes Frame.io recommends.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

/// The only signature scheme Frame.io uses so far.
const SIGNATURE_VERSION: &str = "v0";

/// Checks that a request was signed by Frame.io with one webhook's (or custom
/// action's) secret, recently.
///
/// The secret is held as a [`SecretString`]: `Debug` shows `[redacted]`.
#[derive(Clone)]
pub struct Verifier {
    secret: SecretString,
    tolerance: Duration,
}

impl Verifier {
    /// A verifier for the signing `secret` Frame.io returned when the webhook or
    /// custom action was created, with the [`DEFAULT_TOLERANCE`].
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self { secret: secret.into(), tolerance: DEFAULT_TOLERANCE }
    }

    /// The same verifier, accepting timestamps up to `tolerance` away from local
    /// time in either direction (compared in whole seconds, as Frame.io sends
    /// them).
    pub fn with_tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// The accepted distance between the request timestamp and local time.
    pub fn tolerance(&self) -> Duration {
        self.tolerance
    }

    /// Checks the signature headers against the raw `body`, using the system
    /// clock for the replay window.
    pub fn verify(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        self.verify_at(headers, body, SystemTime::now())
    }

    /// [`verify`](Self::verify) with the current time given, for tests and for
    /// requests that were queued before being checked.
    ///
    /// The signature is checked before the timestamp, so a stale or future
    /// error always concerns a request that Frame.io really signed.
    pub fn verify_at(&self, headers: &http::HeaderMap, body: &[u8], now: SystemTime) -> Result<(), VerifyError> {
        let timestamp = header(headers, TIMESTAMP_HEADER)?;
        let sent_at = parse_timestamp(timestamp)?;
        let signature = header(headers, SIGNATURE_HEADER)?;
        let tag = parse_signature(signature)?;
        self.mac(timestamp, body).verify_slice(&tag).map_err(|_| VerifyError::Mismatch)?;
        self.check_window(sent_at, now)
    }

    /// Verifies the request, then parses the body as `T`: a [`WebhookEvent`] or
    /// a [`custom_action::ActionRequest`](crate::custom_action::ActionRequest).
    pub fn verify_and_parse<T: DeserializeOwned>(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<T, VerifyError> {
        self.verify_and_parse_at(headers, body, SystemTime::now())
    }

    /// [`verify_and_parse`](Self::verify_and_parse) with the current time given.
    pub fn verify_and_parse_at<T: DeserializeOwned>(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<T, VerifyError> {
        self.verify_at(headers, body, now)?;
        serde_json::from_slice(body).map_err(VerifyError::Payload)
    }

    /// The `X-Frameio-Signature` value Frame.io would send for `body` signed at
    /// `timestamp` (Unix seconds): for testing your own receivers.
    pub fn sign(&self, timestamp: u64, body: &[u8]) -> String {
        let tag = self.mac(&timestamp.to_string(), body).finalize().into_bytes();
        format!("{SIGNATURE_VERSION}={}", hex::encode(tag))
    }

    /// HMAC-SHA256 of `v0:{timestamp}:{body}`, fed in pieces to avoid copying
    /// the body.
    fn mac(&self, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        for part in [SIGNATURE_VERSION.as_bytes(), b":", timestamp.as_bytes(), b":", body] {
            mac.update(part);
        }
        mac
    }

    fn check_window(&self, sent_at: u64, now: SystemTime) -> Result<(), VerifyError> {
        // A clock before 1970 is broken; treating it as 0 rejects everything as
        // "from the future", which points at the clock.
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        let tolerance = self.tolerance.as_secs();
        if now >= sent_at {
            let age = now - sent_at;
            if age > tolerance {
                return Err(VerifyError::Stale { age: Duration::from_secs(age), tolerance: self.tolerance });
            }
        } else {
            let ahead = sent_at - now;
            if ahead > tolerance {
                return Err(VerifyError::Future { ahead: Duration::from_secs(ahead), tolerance: self.tolerance });
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier").field("secret", &"[redacted]").field("tolerance", &self.tolerance).finish()
    }
}

fn header<'h>(headers: &'h http::HeaderMap, name: &'static str) -> Result<&'h str, VerifyError> {
    let value = headers.get(name).ok_or(VerifyError::MissingHeader { name })?;
    // A value that is not visible ASCII cannot be one Frame.io sent.
    value.to_str().map_err(|_| match name {
        TIMESTAMP_HEADER => {
            VerifyError::MalformedTimestamp { value: String::from_utf8_lossy(value.as_bytes()).into_owned() }
        }
        _ => VerifyError::MalformedSignature,
    })
}

fn parse_timestamp(value: &str) -> Result<u64, VerifyError> {
    let malformed = || VerifyError::MalformedTimestamp { value: value.to_owned() };
    // `u64::from_str` also takes a leading `+`, which Frame.io never sends.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    value.parse().map_err(|_| malformed())
}

fn parse_signature(value: &str) -> Result<[u8; 32], VerifyError> {
    let hex_digest = value
        .strip_prefix(SIGNATURE_VERSION)
        .and_then(|rest| rest.strip_prefix('='))
        .ok_or(VerifyError::MalformedSignature)?;
    let mut tag = [0; 32];
    hex::decode_to_slice(hex_digest, &mut tag).map_err(|_| VerifyError::MalformedSignature)?;
    Ok(tag)
}

/// Why a request was not accepted as coming from Frame.io.
///
/// Answer any of these with a `4xx` status (`401` for all but
/// [`Payload`](Self::Payload)) and do not act on the request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A signature header is absent.
    #[error(
        "the request has no `{name}` header: it was not sent by Frame.io, or a proxy in front of \
         this server dropped the header"
    )]
    MissingHeader {
        /// The missing header, lower-case.
        name: &'static str,
    },
    /// `X-Frameio-Request-Timestamp` is not a Unix time in seconds.
    #[error(
        "`X-Frameio-Request-Timestamp` is {value:?}, not a Unix time in seconds: the request was \
         not sent by Frame.io"
    )]
    MalformedTimestamp {
        /// The header's value (lossily decoded).
        value: String,
    },
    /// `X-Frameio-Signature` is not `v0=` followed by 64 hex digits.
    #[error(
        "`X-Frameio-Signature` is not `v0=` followed by 64 hex digits: the request was not sent \
         by Frame.io"
    )]
    MalformedSignature,
    /// The signature does not match the body and timestamp.
    #[error(
        "the signature does not match the request: check that the secret is the one returned \
         when this webhook or custom action was created, and that the body is verified \
         byte-for-byte as received, before any parsing or re-encoding"
    )]
    Mismatch,
    /// The request was signed longer ago than the replay window allows.
    #[error(
        "the request was signed {age:?} ago, outside the {tolerance:?} replay window: reject it \
         as a possible replay; if genuine requests fail this way, sync this server's clock (NTP) \
         or widen the window with `Verifier::with_tolerance`"
    )]
    Stale {
        /// How long ago the request was signed.
        age: Duration,
        /// The window in force.
        tolerance: Duration,
    },
    /// The request claims to be signed further in the future than the replay
    /// window allows.
    #[error(
        "the request timestamp is {ahead:?} in the future, outside the {tolerance:?} replay \
         window: this server's clock is probably behind; sync it (NTP) or widen the window with \
         `Verifier::with_tolerance`"
    )]
    Future {
        /// How far ahead of local time the timestamp is.
        ahead: Duration,
        /// The window in force.
        tolerance: Duration,
    },
    /// The request is authentic but its body is not the expected JSON payload.
    #[error(
        "the request is authentic but its body is not the expected Frame.io payload ({0}): if \
         this is a new payload shape, parse the body as `serde_json::Value` instead"
    )]
    Payload(#[source] serde_json::Error),
}

/// One webhook delivery, as documented in the "Webhook Message Payload" section
/// of the Frame.io webhooks guide.
///
/// Frame.io sends only identifiers: look the resource up through the API for
/// anything more. Fields this crate does not know yet are kept in
/// [`extra`](Self::extra), so re-serialising an event loses nothing at the top
/// level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// What happened.
    pub r#type: EventType,
    /// The resource the event is about. Every payload has one.
    pub resource: Resource,
    /// The account (added in V4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<IdRef>,
    /// The workspace the webhook is scoped to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<IdRef>,
    /// The project the resource is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<IdRef>,
    /// The user whose action caused the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<IdRef>,
    /// Payload fields not modelled above.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The resource an event or action is about: `{"id": ..., "type": "file"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Resource {
    /// The resource's ID.
    pub id: String,
    /// Its kind, such as `file` or `folder`.
    pub r#type: String,
}

/// A reference to an account, workspace, project or user: `{"id": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdRef {
    /// The referenced entity's ID.
    pub id: String,
}

/// Declares [`EventType`] from one table of variant, wire name and description,
/// so the enum, its strings and [`EventType::KNOWN`] cannot drift apart.
macro_rules! event_types {
    ($($variant:ident => $wire:literal, $doc:literal;)*) => {
        /// A webhook event type: every type in Frame.io's V4 documentation, and
        /// [`Unknown`](Self::Unknown) for any other.
        ///
        /// Serialises as the exact wire string (`"file.ready"`). Build one from a
        /// string with `From`, which maps known strings to their variant.
        ///
        /// ```
        /// use frameio_ext::webhook::EventType;
        ///
        /// assert_eq!(EventType::from("file.ready"), EventType::FileReady);
        /// assert_eq!(EventType::FileReady.to_string(), "file.ready");
        /// let new = EventType::from("asset.teleported");
        /// assert_eq!(new, EventType::Unknown("asset.teleported".into()));
        /// assert_eq!(new.as_str(), "asset.teleported");
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum EventType {
            $(
                #[doc = concat!("`", $wire, "`: ", $doc)]
                $variant,
            )*
            /// An event type this crate does not know, kept verbatim.
            Unknown(String),
        }

        impl EventType {
            /// Every documented event type, in documentation order: for
            /// subscribing a webhook to all of them.
            pub const KNOWN: &'static [EventType] = &[$(Self::$variant),*];

            /// The wire name, e.g. `"file.ready"`.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for EventType {
            fn from(wire: &str) -> Self {
                match wire {
                    $($wire => Self::$variant,)*
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for EventType {
            fn from(wire: String) -> Self {
                match Self::from(wire.as_str()) {
                    Self::Unknown(_) => Self::Unknown(wire),
                    known => known,
                }
            }
        }
    };
}

// The webhooks guide's tables, plus `file.copied` and `folder.copied`, which
// only the "Create webhook" API reference lists.
event_types! {
    ProjectCreated => "project.created", "a new project has been created.";
    ProjectUpdated => "project.updated", "a project's settings have been updated.";
    ProjectDeleted => "project.deleted", "a project has been deleted.";
    FileCreated => "file.created", "a file has been created; this fires before the upload \
        finishes, so listen for `file.upload.completed` if the handler needs the whole file.";
    FileReady => "file.ready", "all transcodes have completed after a file was uploaded and \
        processed.";
    FileUpdated => "file.updated", "a file's name or other information has changed.";
    FileDeleted => "file.deleted", "a file has been deleted (manually or otherwise).";
    FileUploadCompleted => "file.upload.completed", "a file has been uploaded.";
    FileVersioned => "file.versioned", "a file version has been created.";
    FileCopied => "file.copied", "a file has been copied.";
    FolderCreated => "folder.created", "a new folder has been created.";
    FolderUpdated => "folder.updated", "a folder's settings have been updated.";
    FolderDeleted => "folder.deleted", "a folder has been deleted.";
    FolderCopied => "folder.copied", "a folder has been copied.";
    CommentCreated => "comment.created", "a new comment or reply has been created.";
    CommentUpdated => "comment.updated", "a comment has been updated.";
    CommentDeleted => "comment.deleted", "a comment has been deleted.";
    CommentCompleted => "comment.completed", "a comment has been marked as completed.";
    CommentUncompleted => "comment.uncompleted", "a comment has been marked as uncompleted.";
    MetadataValueUpdated => "metadata.value.updated", "metadata fields of an asset have been \
        updated.";
    CollectionCreated => "collection.created", "a new collection has been created.";
    CollectionUpdated => "collection.updated", "a collection has been updated.";
    CollectionDeleted => "collection.deleted", "a collection has been deleted.";
    CustomFieldCreated => "customfield.created", "a new custom field has been created.";
    CustomFieldUpdated => "customfield.updated", "a custom field has been updated.";
    CustomFieldDeleted => "customfield.deleted", "a custom field has been deleted.";
    ShareCreated => "share.created", "a new share has been created.";
    ShareUpdated => "share.updated", "a share has been updated.";
    ShareDeleted => "share.deleted", "a share has been deleted.";
    ShareViewed => "share.viewed", "a share has been viewed.";
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::from)
    }
}
