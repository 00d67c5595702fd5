//! One module per command group; each function is one `fio` command.

pub mod browse;
pub mod comments;
pub mod login;
pub mod search;
pub mod share;
pub mod transfer;
pub mod webhooks;
