#![doc = include_str!("../README.md")]

pub mod auth;
mod body;
pub mod c2c;
mod call;
pub mod client;
mod config;
pub mod custom_action;
pub mod download;
pub mod error;
pub mod ims;
pub mod pagination;
pub mod rate_limit;
mod redact;
pub mod retry;
pub mod signature;
pub mod tls;
pub mod transfer;
mod transport;
pub mod tree;
pub mod upload;
pub mod webhook;

/// The call builders of every V4 operation, one per method of [`Client`]
/// (generated from the spec by `cargo xtask regen`; see the operation table in
/// the repository's README).
#[allow(clippy::all, missing_docs, rustdoc::bare_urls, rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]
pub mod ops {
    include!("generated/v4.rs");
}

/// The V4 API's request and response types, generated from the spec.
pub mod types {
    pub use frameio_gen::v4::types::*;
}

/// Typed httpmock helpers for an app's own tests (the `mock` feature): with
/// `mock::MockServerExt` in scope, an `httpmock::MockServer` has one method per V4
/// operation (`server.folders_index(|when, then| ..)`) whose `when` takes the call's
/// parameters and body and whose `then` answers with its documented types. See
/// "Testing your app" in the README.
#[cfg(feature = "mock")]
pub use frameio_gen::v4::mock;

pub use auth::{AccessToken, AuthError, Credentials, StaticToken, TokenProvider, TokenSet};
pub use c2c::C2cClient;
pub use client::{Client, ClientBuilder};
pub use error::{ApiError, Error, Result};
pub use ims::{ImsPkceApp, ImsServerToServer, ImsWebApp};
pub use rate_limit::{RateLimitStatus, RateLimiting};
pub use retry::{Backoff, RetryPolicy};
pub use signature::{Verifier, VerifyError};
pub use upload::{UploadError, UploadSource, UploadUrl, Uploader};
pub use webhook::{EventType, WebhookEvent};

/// The repository's README, whose examples compile as doc tests too.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct RepositoryReadme;
