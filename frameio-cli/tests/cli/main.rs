//! The `fio` binary end to end: each command against frameio-fake started in
//! the test (and a fake IMS where sign-in is involved), as a user runs it.
//! One test binary, so the suite links once.

mod browse;
mod demo;
mod login;
mod review;
mod search;
mod support;
mod transfer;
mod webhooks;
