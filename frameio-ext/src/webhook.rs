//! Webhook deliveries: the typed event Frame.io posts, and the full list of
//! documented [`EventType`]s.
//!
//! This module owns the webhook payload types: [`WebhookEvent`] and the
//! [`Resource`] and [`IdRef`] objects it carries (which custom-action payloads
//! share). Checking that a delivery really came from Frame.io is
//! [`signature`](crate::signature)'s job: verify the raw body with a
//! [`Verifier`](crate::signature::Verifier) built from the webhook's secret,
//! then parse it.
//!
//! Every payload object keeps the members this crate does not model in its
//! `extra` map, so re-encoding an event loses nothing, at any level.
//!
//! ```
//! use frameio_ext::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, Verifier};
//! use frameio_ext::webhook::{EventType, WebhookEvent};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let verifier = Verifier::builder("s3cr3t").replay_cache(10_000).build();
//! let body = br#"{"type":"file.ready","resource":{"id":"d3075547","type":"file"},
//!                 "user":{"id":"56556a3f","adobe_auth_id":"0123ABCD@AdobeID"}}"#;
//! let mut headers = http::HeaderMap::new();
//! headers.insert(TIMESTAMP_HEADER, "1604004499".parse()?);
//! headers.insert(SIGNATURE_HEADER, verifier.sign(1604004499, body).parse()?);
//!
//! // A real receiver calls `verify_and_parse`, which reads the system clock.
//! let now = UNIX_EPOCH + Duration::from_secs(1604004499 + 10);
//! let event: WebhookEvent = verifier.verify_and_parse_at(&headers, body, now)?;
//! assert_eq!(event.r#type, EventType::FileReady);
//! assert_eq!(event.resource.id, "d3075547");
//! let user = event.user.as_ref().ok_or("no user")?;
//! assert_eq!(user.extra["adobe_auth_id"], "0123ABCD@AdobeID");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One webhook delivery, as documented in the "Webhook Message Payload" section
/// of the Frame.io webhooks guide.
///
/// Frame.io sends only identifiers: look the resource up through the API for
/// anything more. Fields this crate does not know yet are kept in
/// [`extra`](Self::extra) (and those of the nested objects in theirs), so
/// re-serialising an event loses nothing.
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
    /// Members not modelled above.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Resource {
    /// A resource with only its ID and kind.
    pub fn new(id: impl Into<String>, r#type: impl Into<String>) -> Self {
        Self { id: id.into(), r#type: r#type.into(), extra: serde_json::Map::new() }
    }
}

/// A reference to an account, workspace, project or user: `{"id": ...}`.
///
/// Frame.io may send more than the ID: a `user` carries its Adobe ID as
/// `adobe_auth_id` when that user signed in with one. Such members are kept in
/// [`extra`](Self::extra).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdRef {
    /// The referenced entity's ID.
    pub id: String,
    /// Members not modelled above.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl IdRef {
    /// A reference with only an ID.
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into(), extra: serde_json::Map::new() }
    }
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
