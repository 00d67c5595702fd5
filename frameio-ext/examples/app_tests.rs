//! An app's own tests, as an app would write them: a small "dailies" app (upload a
//! clip, list a folder's clips) and, in `mod tests`, one test of a realistic flow on
//! the embedded fake Frame.io (`frameio-fake`) and one precise request check on a
//! generated mock (`frameio_ext::mock`, the `mock` feature).
//!
//! ```text
//! cargo test -p frameio-ext --features mock --example app_tests   # the tests
//! cargo run -p frameio-ext --features mock --example app_tests    # the app, on the fake's demo data
//! ```
//!
//! In an app, `frameio-fake` and `httpmock` are dev-dependencies, and the `mock`
//! feature of `frameio-ext` is turned on for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! frameio-ext = { version = "0.1", features = ["mock"] }
//! frameio-fake = "0.1"
//! httpmock = "0.8"
//! ```

use std::process::ExitCode;

use frameio_ext::Client;
use frameio_fake::Fake;

/// The app: what its tests exercise.
mod dailies {
    use frameio_ext::transfer::{NewFile, WaitOptions};
    use frameio_ext::types::AssetWithIncludes;
    use frameio_ext::upload::UploadOptions;
    use frameio_ext::{Client, Error, Result};
    use futures::TryStreamExt;

    /// The names of the clips (files) in a folder, in Frame.io's order, all pages.
    pub async fn clip_names(client: &Client, account: &str, folder: &str) -> Result<Vec<String>> {
        let items: Vec<AssetWithIncludes> =
            client.folders_index().account_id(account).folder_id(folder).stream().try_collect().await?;
        let names = items.into_iter().filter_map(|item| match item {
            AssetWithIncludes::File(file) => Some(file.name),
            _ => None,
        });
        Ok(names.collect())
    }

    /// Uploads a clip into a folder and waits until Frame.io has all of it; returns its id.
    pub async fn ingest(client: &Client, account: &str, folder: &str, name: &str, bytes: Vec<u8>) -> Result<String> {
        let len = bytes.len() as u64;
        let file = NewFile::from_reader(std::io::Cursor::new(bytes), len, name);
        let created = client.uploads().local(account, folder, file, UploadOptions::new()).await?;
        let id = created.id.ok_or_else(|| Error::InvalidRequest(format!("Frame.io created {name} without an id")))?;
        client.uploads().wait_until_uploaded(account, &id, WaitOptions::new()).await?;
        Ok(id)
    }
}

/// The app for real, on the fake's demo data (an app would point at `https://api.frame.io`).
#[tokio::main]
async fn main() -> ExitCode {
    let fake = match Fake::with_demo_data().await {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("cannot start the fake: {e}");
            return ExitCode::FAILURE;
        }
    };
    let demo = fake.demo().expect("seeded with demo data");
    let run = async {
        let client = Client::builder().base_url(fake.base_url()).bearer_token(fake.token()).build()?;
        let folder = &demo.dailies_folder_id;
        dailies::ingest(&client, &demo.account_id, folder, "A001_C003.mov", vec![7; 4096]).await?;
        dailies::clip_names(&client, &demo.account_id, folder).await
    };
    match run.await {
        Ok(names) => {
            println!("Dailies: {}", names.join(", "));
            println!("(the tests: cargo test -p frameio-ext --features mock --example app_tests)");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use frameio_ext::mock::MockServerExt;
    use frameio_ext::types::FileAssetsWithIncludesResponse;
    use frameio_ext::{Backoff, Client, RetryPolicy};
    use frameio_fake::{Fake, Fault, Target};

    use super::dailies;

    /// The app's client, retrying without the production waits.
    fn client(base_url: &str, token: &str) -> Client {
        let quick = RetryPolicy::api()
            .backoff(Backoff::new().initial(Duration::from_millis(5)))
            .server_error_floor(Duration::from_millis(5));
        Client::builder().base_url(base_url).bearer_token(token).retry_policy(quick).build().unwrap()
    }

    /// A realistic flow on the fake: the upload really lands (parts checked as S3 checks
    /// them), and the listing gets a 503 first, which the client must retry.
    #[tokio::test]
    async fn an_ingested_clip_is_listed_even_when_the_listing_fails_once() {
        let fake = Fake::start().await.unwrap();
        let (account, folder) = {
            let account = fake.seed().account("Acme");
            let dailies = account.workspace("Post").project("Launch").root().folder("Dailies");
            dailies.file("A001_C001.mov", vec![0u8; 1024]);
            (account.id.clone(), dailies.id)
        };
        fake.fault(Target::operation("folders_index"), Fault::status(503));
        let client = client(fake.base_url(), fake.token());

        let clip = frameio_fake::patterned_bytes(1, 0..300_000);
        let id = dailies::ingest(&client, &account, &folder, "A001_C002.mov", clip.clone()).await.unwrap();
        assert_eq!(fake.file_bytes(&id).unwrap(), clip, "every byte arrived, in order");

        let names = dailies::clip_names(&client, &account, &folder).await.unwrap();
        assert_eq!(names, ["A001_C001.mov", "A001_C002.mov"]);
        let listings = fake.requests_to("folders_index");
        assert_eq!(listings.iter().map(|r| r.status()).collect::<Vec<_>>(), [Some(503), Some(200)], "retried");
    }

    /// A precise request check on a generated mock: the listing asks for this folder of
    /// this account in full pages, and reads the typed page it gets.
    #[tokio::test]
    async fn the_listing_asks_for_the_folder_in_full_pages() {
        let server = httpmock::MockServer::start_async().await;
        let page: FileAssetsWithIncludesResponse = serde_json::from_value(serde_json::json!({
            "data": [{"type": "file", "id": "f-1", "name": "A001_C001.mov", "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z", "file_size": 1024, "media_type": "video/quicktime",
                "parent_id": "dailies", "project_id": "p", "status": "transcoded", "view_url": "https://x"}],
            "links": {"next": null}
        }))
        .unwrap();
        let listing = server.folders_index(|when, then| {
            when.account_id("acc-1").folder_id("dailies").page_size(100);
            then.ok(&page);
        });

        let names = dailies::clip_names(&client(&server.base_url(), "tok"), "acc-1", "dailies").await.unwrap();
        assert_eq!(names, ["A001_C001.mov"]);
        listing.assert_async().await;
    }
}
