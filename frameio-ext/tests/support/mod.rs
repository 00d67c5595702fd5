//! What the client tests share: a started [`frameio_fake::Fake`] with a little world
//! seeded ([`World`]), the C2C guides' JSON examples, readers of recorded form and JSON
//! bodies, a C2C client builder that retries without long waits, and the C2C realtime
//! socket's Phoenix channel ([`socket_server`]), all on 127.0.0.1.

// Each test binary uses some of the helpers.
#![allow(dead_code)]

pub mod socket_server;

use std::collections::HashMap;
use std::time::Duration;

use frameio_ext::c2c::{C2cClient, C2cClientBuilder};
use frameio_ext::{Backoff, Client, ClientBuilder, RetryPolicy};
use frameio_fake::{Fake, FakeBuilder, RecordedRequest};

/// The token tests authenticate with; it must never show up in any output.
pub const TOKEN: &str = "tok-5ecre7-d0-not-leak";

/// A fake accepting [`TOKEN`], with an account, a project and a folder in it.
pub struct World {
    pub fake: Fake,
    pub account: String,
    pub project: String,
    pub root: String,
    pub folder: String,
}

impl World {
    pub async fn start() -> Self {
        Self::with(Fake::builder()).await
    }

    /// A world on a fake with settings of its own (its token is always [`TOKEN`]).
    pub async fn with(builder: FakeBuilder) -> Self {
        let fake = builder.token(TOKEN).start().await.unwrap();
        let (account, project, root, folder) = {
            let account = fake.seed().account("Acme");
            let project = account.workspace("Post").project("Launch");
            let folder = project.root().folder("Dailies");
            (account.id.clone(), project.id.clone(), project.root_folder_id.clone(), folder.id)
        };
        Self { fake, account, project, root, folder }
    }

    /// A file of `size` patterned bytes in the folder; returns its id.
    pub fn file(&self, name: &str, size: u64) -> String {
        self.folder_seed().file(name, frameio_fake::patterned_bytes(7, 0..size)).id
    }

    /// The folder, for more seeding.
    pub fn folder_seed(&self) -> frameio_fake::FolderSeed<'_> {
        self.fake.seed().existing_folder(&self.account, &self.folder)
    }

    /// A client of the fake with [`TOKEN`].
    pub fn client(&self) -> ClientBuilder {
        Client::builder().base_url(self.fake.base_url()).bearer_token(TOKEN)
    }
}

/// A JSON example of the C2C guides, from the conformance fixtures.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/../tests/fixtures/conformance/c2c/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fields of a recorded form-encoded body.
pub fn form(request: &RecordedRequest) -> HashMap<String, String> {
    let url = reqwest::Url::parse(&format!("http://form/?{}", String::from_utf8_lossy(&request.body))).unwrap();
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A recorded JSON body.
pub fn json(request: &RecordedRequest) -> serde_json::Value {
    request.json().unwrap_or_else(|| panic!("not JSON: {}", String::from_utf8_lossy(&request.body)))
}

/// A C2C client builder for `fake`, retrying without long waits.
pub fn c2c_builder(fake: &Fake) -> C2cClientBuilder {
    let quick = Backoff::new().initial(Duration::from_millis(1)).max_delay(Duration::from_millis(5)).jitter(0.0);
    C2cClient::builder()
        .base_url(fake.base_url())
        .retry_policy(
            RetryPolicy::new()
                .backoff(quick)
                .rate_limit_floor(Duration::from_millis(1))
                .server_error_floor(Duration::from_millis(1)),
        )
        .call_retry_policy(RetryPolicy::c2c().backoff(quick).max_attempts(4))
}
