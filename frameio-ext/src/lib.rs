//! `frameio-ext`: the Frame.io API client that applications depend on.
//!
//! The raw operations are generated from Frame.io's OpenAPI documents into
//! `frameio-gen`; this crate adds what a real application needs around them:
//! credentials, one error type, retries and rate limits, pagination streams,
//! streaming uploads, and webhook / custom-action signature checks.

pub mod auth;
pub mod error;

pub use auth::{AccessToken, TokenProvider};
pub use error::{Error, Result};
