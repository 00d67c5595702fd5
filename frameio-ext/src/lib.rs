//! `frameio-ext`: the Frame.io API client that applications depend on.
//!
//! The raw operations are generated from Frame.io's OpenAPI documents into
//! `frameio-gen`; this crate adds what a real application needs around them:
//! credentials, one error type, retries and rate limits, pagination streams,
//! streaming uploads, and webhook / custom-action signature checks. The
//! Camera to Cloud device API has its own client, pairing, heartbeat and
//! uploads in [`c2c`].
//!
//! Build a [`Client`] once and call any operation on it; `?` turns a failed
//! call into the crate's [`Error`], whose accessors say what went wrong:
//!
//! ```no_run
//! use frameio_ext::{Client, Credentials};
//!
//! # async fn run() -> frameio_ext::Result<()> {
//! let client = Client::builder().credentials(Credentials::bearer("<IMS access token>")).build()?;
//!
//! let result = client.files_show().account_id("<account id>").file_id("<file id>").send().await;
//! match result.map_err(frameio_ext::Error::from) {
//!     Ok(file) => println!("{} ({} bytes)", file.data.name, file.data.file_size),
//!     Err(e) if e.is_not_found() => println!("no such file"),
//!     Err(e) if e.is_plan_limit() => println!("the account is over its plan: {e}"),
//!     Err(e) if e.is_rate_limited() => println!("still rate limited; retry after {:?}", e.retry_after()),
//!     Err(e) => {
//!         for detail in e.errors() {
//!             eprintln!("{} (title {:?})", detail.detail, detail.title);
//!         }
//!         eprintln!("gave up after {:?} attempts (retryable: {})", e.attempts(), e.is_retryable());
//!         return Err(e);
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod auth;
pub mod c2c;
pub mod client;
pub mod custom_action;
pub mod error;
pub mod ims;
mod middleware;
pub mod pagination;
pub mod rate_limit;
pub mod retry;
pub mod signature;
pub mod tree;
pub mod upload;
pub mod webhook;

pub use auth::{AccessToken, Credentials, StaticToken, TokenProvider};
pub use c2c::C2cClient;
pub use client::{Client, ClientBuilder};
pub use error::{ApiError, Error, Result};
pub use ims::{ImsPkceApp, ImsServerToServer, ImsTokens, ImsWebApp};
pub use rate_limit::{RateLimitStatus, RateLimiting};
pub use retry::{Backoff, RetryPolicy};
pub use signature::{Verifier, VerifyError};
pub use upload::{UploadError, UploadSource, UploadUrl, Uploader};
pub use webhook::{EventType, WebhookEvent};
