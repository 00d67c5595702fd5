//! Camera to Cloud (C2C): the `v2` device API, for hardware and applications
//! that upload media into a Frame.io project as they record it.
//!
//! The generated operations are [`frameio_gen::c2c`]; this module makes them
//! easy to use the way the C2C guides ask:
//!
//! | concept | module |
//! |---|---|
//! | the client: the crate's middleware plus `x-client-version` on every call | [`client`] |
//! | pairing: device code, polling, refresh, revocation | [`device_auth`] |
//! | where the tokens ([`TokenSet`](crate::auth::TokenSet)) are kept, and the provider that refreshes them | [`token_store`], [`provider`] |
//! | heartbeat and device status (online, paused, authorization lost) | [`heartbeat`] |
//! | channels (sub-devices) | [`channels`] |
//! | basic uploads (`offset` recomputed on each retry) | [`upload`] |
//! | real-time uploads of a growing file, and their part sizes | [`realtime`], [`part_size`](mod@part_size) |
//! | the realtime connection (WebSocket): online status, pushes | [`socket`] |
//! | what each error means, and whether to retry it | [`errors`] |
//!
//! A device's life, end to end:
//!
//! ```no_run
//! use frameio_ext::c2c::{
//!     C2cClient, DeviceAuth, DeviceCredentials, DeviceTokenProvider, FileTokenStore, NewAsset, TokenStore,
//! };
//! use frameio_ext::upload::{UploadOptions, UploadSource};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let builder = C2cClient::builder().client_version("1.4.2");
//! let device = DeviceCredentials::new("SN-0042", std::env::var("C2C_CLIENT_SECRET")?);
//! let auth = DeviceAuth::new(builder.clone().build()?, device);
//!
//! // Pair once; afterwards, the saved tokens.
//! let store = FileTokenStore::new("/var/lib/recorder/frameio-tokens.json");
//! let tokens = match store.load()? {
//!     Some(tokens) => tokens,
//!     None => {
//!         let tokens = auth.authorize(|code| println!("Pairing code: {}", code.user_code())).await?;
//!         store.save(&tokens)?;
//!         tokens
//!     }
//! };
//! let provider = DeviceTokenProvider::builder(auth, tokens).store(store).build();
//! let client = builder.token_provider(provider).build()?;
//!
//! // Stay online, and know when the device is paused.
//! let heartbeat = client.heartbeat().start();
//!
//! // Upload a clip.
//! let path = "/media/A001_C002.mov";
//! let source = UploadSource::open(path).await?;
//! let uploaded = client.upload_file(&source, NewAsset::named_after(path), UploadOptions::new()).await?;
//! println!("uploaded {}; paused: {}", uploaded.asset.id, heartbeat.current().is_paused());
//! # Ok(()) }
//! ```

/// The call builders of every C2C operation, one per method of
/// [`C2cClient`] (generated from the spec by `cargo xtask regen`).
#[allow(clippy::all, missing_docs, rustdoc::bare_urls, rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]
pub mod ops {
    include!("../generated/c2c.rs");
}

/// The device API's request and response types, generated from the spec. Its
/// `Account`, `Project` and `User` differ from V4's, hence a module of their own.
pub mod types {
    pub use frameio_gen::c2c::types::*;
}

/// Typed httpmock helpers for the device API (the `mock` feature), as
/// [`crate::mock`] is for V4.
#[cfg(feature = "mock")]
pub use frameio_gen::c2c::mock;

pub mod channels;
pub mod client;
pub mod device_auth;
pub mod errors;
pub mod heartbeat;
pub mod part_size;
pub mod provider;
pub mod realtime;
pub mod socket;
pub mod token_store;
mod tokens;
pub mod upload;

pub use channels::{ChannelConnection, SubDevice};
pub use client::{C2cClient, C2cClientBuilder};
pub use device_auth::{DeviceAuth, DeviceCode, DeviceCredentials, PollOutcome};
pub use errors::{C2cErrorClass, C2cErrorKind, classify, error_kind};
pub use heartbeat::{DeviceStatus, Heartbeat, HeartbeatHandle, Link};
pub use part_size::{PartNumberError, PartSizer, part_size};
pub use provider::{DeviceTokenProvider, DeviceTokenProviderBuilder};
pub use realtime::{RealtimeError, RealtimePart, RealtimeProgress, RealtimeReport, RealtimeUpload};
/// For reading a [`TokenSet::refresh_token`](crate::TokenSet::refresh_token).
pub use secrecy::ExposeSecret;
pub use socket::{
    ConnectionState, Event, Events, Reply, ReplyStatus, Socket, SocketBuilder, SocketError, SocketState, StatusUpdate,
};
pub use token_store::{FileTokenStore, TokenStore};
pub use upload::{CreatedAsset, NewAsset, UploadedAsset};
