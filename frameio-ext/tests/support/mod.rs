//! What the client tests share: a fake Frame.io API ([`fake_api`]), a fake S3
//! storage endpoint ([`fake_storage`]) and the C2C routes on the fake API
//! ([`c2c_fake`]), and the C2C realtime socket's Phoenix channel
//! ([`socket_server`]), all on 127.0.0.1.

// Each test binary uses some of the helpers.
#![allow(dead_code)]

pub mod c2c_fake;
pub mod fake_api;
pub mod fake_storage;
pub mod socket_server;
