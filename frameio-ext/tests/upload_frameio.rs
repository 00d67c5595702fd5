//! Frame.io uploads end to end: a fake API (httpmock) hands out upload URLs on a
//! fake storage server that keeps every byte it receives.

mod support;

use std::time::Duration;

use frameio_ext::rate_limit::RateLimiting;
use frameio_ext::transfer::{FileUploadError, NewFile, VersionOf, WaitOptions};
use frameio_ext::upload::UploadOptions;
use frameio_ext::{Client, Error};
use httpmock::prelude::*;
use serde_json::{Value, json};
use support::fake_storage::{FakeStorage, Reply};

const AT: &str = "2024-01-01T00:00:00Z";

fn client(api: &MockServer) -> Client {
    Client::builder()
        .base_url(api.base_url())
        .bearer_token("token")
        .rate_limiting(RateLimiting::disabled())
        .build()
        .unwrap()
}

fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn reader(data: &[u8], name: &str) -> NewFile {
    NewFile::from_reader(std::io::Cursor::new(data.to_vec()), data.len() as u64, name)
}

fn created(id: &str, urls: Vec<Value>) -> Value {
    created_as(id, "video/quicktime", urls)
}

fn created_as(id: &str, media_type: &str, urls: Vec<Value>) -> Value {
    json!({"data": {"id": id, "name": "clip.mov", "file_size": 10, "media_type": media_type, "status": "created", "upload_urls": urls}})
}

fn status(complete: bool, failed: bool) -> Value {
    json!({"data": {"id": "new", "filetype": "video/quicktime", "upload_complete": complete, "upload_failed": failed, "uploaded_at": AT, "upload_completed_at": null}})
}

#[tokio::test]
async fn a_local_upload_creates_the_file_and_streams_every_part() {
    let (api, storage) = (MockServer::start_async().await, FakeStorage::start().await);
    let data = bytes(1000);
    let create = api
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v4/accounts/a/folders/f/files/local_upload")
                .header("authorization", "Bearer token")
                .json_body(json!({"data": {"name": "clip.mov", "file_size": 1000}}));
            then.status(201).json_body(created(
                "new",
                vec![json!({"size": 600, "url": storage.url("/p1")}), json!({"size": 400, "url": storage.url("/p2")})],
            ));
        })
        .await;
    let file = client(&api).uploads().local("a", "f", reader(&data, "clip.mov"), UploadOptions::new()).await.unwrap();
    create.assert_async().await;
    assert_eq!(file.id.as_deref(), Some("new"));
    let (p1, p2) = (storage.received_for("/p1"), storage.received_for("/p2"));
    assert_eq!((p1.len(), p2.len()), (1, 1));
    assert_eq!([p1[0].body.as_slice(), p2[0].body.as_slice()].concat(), data);
    assert_eq!(p1[0].headers["content-type"], "video/quicktime");
    assert!(p1[0].headers.get("authorization").is_none(), "the API token went to storage");
}

#[tokio::test]
async fn parts_carry_the_media_type_the_created_file_has_not_the_local_guess() {
    let (api, storage) = (MockServer::start_async().await, FakeStorage::start().await);
    let data = bytes(64);
    api.mock_async(|when, then| {
        when.method(POST).path("/v4/accounts/a/folders/f/files/local_upload");
        then.status(201).json_body(created_as(
            "new",
            "video/mp4",
            vec![json!({"size": 64, "url": storage.url("/p1")})],
        ));
    })
    .await;
    // `.bin` guesses `application/octet-stream`; the URL is signed for `video/mp4`.
    let file = reader(&data, "clip.bin");
    client(&api).uploads().local("a", "f", file, UploadOptions::new()).await.unwrap();
    let received = storage.received_for("/p1");
    assert_eq!(received[0].headers["content-type"], "video/mp4");
    assert_eq!(received[0].body, data);
}

#[tokio::test]
async fn a_failed_part_names_the_created_file() {
    let (api, storage) = (MockServer::start_async().await, FakeStorage::start().await);
    storage.script(
        "/p1",
        [Reply::Status(403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")],
    );
    api.mock_async(|when, then| {
        when.method(POST).path("/v4/accounts/a/folders/f/files/local_upload");
        then.status(201).json_body(created("new", vec![json!({"size": 10, "url": storage.url("/p1")})]));
    })
    .await;
    let err =
        client(&api).uploads().local("a", "f", reader(&bytes(10), "x.mov"), UploadOptions::new()).await.unwrap_err();
    let Error::FileUpload(FileUploadError::Parts { file_id, source }) = &err else { panic!("{err:?}") };
    assert_eq!(file_id, "new");
    assert_eq!(source.failed_part().map(|p| p.number), Some(1));
    assert!(err.to_string().contains("AccessDenied"), "{err}");
}

#[tokio::test]
async fn waiting_polls_until_complete() {
    let api = MockServer::start_async().await;
    let pending = api
        .mock_async(|when, then| {
            when.method(GET).path("/v4/accounts/a/files/new/status");
            then.status(200).json_body(status(false, false));
        })
        .await;
    let client = client(&api);
    let uploads = client.uploads();
    let wait = WaitOptions::new().first_interval(Duration::from_millis(20)).timeout(Duration::from_secs(10));
    let waiting = uploads.wait_until_uploaded("a", "new", wait);
    let switch = async {
        while pending.calls_async().await < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        pending.delete_async().await;
        api.mock_async(|when, then| {
            when.method(GET).path("/v4/accounts/a/files/new/status");
            then.status(200).json_body(status(true, false));
        })
        .await;
    };
    let (result, ()) = tokio::join!(waiting, switch);
    assert!(result.unwrap().upload_complete);
}

#[tokio::test]
async fn waiting_stops_on_failure_and_on_timeout() {
    let api = MockServer::start_async().await;
    api.mock_async(|when, then| {
        when.method(GET).path("/v4/accounts/a/files/bad/status");
        then.status(200).json_body(status(false, true));
    })
    .await;
    api.mock_async(|when, then| {
        when.method(GET).path("/v4/accounts/a/files/slow/status");
        then.status(200).json_body(status(false, false));
    })
    .await;
    let client = client(&api);
    let wait = WaitOptions::new().first_interval(Duration::from_millis(10)).timeout(Duration::from_millis(100));
    let failed = client.uploads().wait_until_uploaded("a", "bad", wait).await.unwrap_err();
    assert!(
        matches!(failed, Error::FileUpload(FileUploadError::Failed { ref file_id }) if file_id == "bad"),
        "{failed:?}"
    );
    let slow = client.uploads().wait_until_uploaded("a", "slow", wait).await.unwrap_err();
    assert!(matches!(slow, Error::FileUpload(FileUploadError::NotReady { .. })), "{slow:?}");
}

#[tokio::test]
async fn a_new_version_of_a_file_stacks_old_then_new() {
    let (api, storage) = (MockServer::start_async().await, FakeStorage::start().await);
    api.mock_async(|when, then| {
        when.method(GET).path("/v4/accounts/a/files/old");
        then.status(200).json_body(json!({"data": {"type": "file", "id": "old", "name": "v1.mov", "created_at": AT, "updated_at": AT,
            "file_size": 1, "media_type": "video/quicktime", "parent_id": "folder", "project_id": "p", "status": "transcoded", "view_url": "https://x"}}));
    })
    .await;
    api.mock_async(|when, then| {
        when.method(POST).path("/v4/accounts/a/folders/folder/files/local_upload");
        then.status(201).json_body(created("new", vec![json!({"size": 5, "url": storage.url("/v2")})]));
    })
    .await;
    let stack = api
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v4/accounts/a/folders/folder/version_stacks")
                .json_body(json!({"data": {"file_ids": ["old", "new"]}}));
            then.status(201).json_body(json!({"data": {"type": "version_stack", "id": "stack", "name": "v1.mov", "created_at": AT,
                "updated_at": AT, "parent_id": "folder", "project_id": "p", "view_url": "https://x", "head_version": null}}));
        })
        .await;
    let result = client(&api)
        .uploads()
        .version("a", VersionOf::File("old".into()), reader(&bytes(5), "v2.mov"), UploadOptions::new())
        .await
        .unwrap();
    stack.assert_async().await;
    assert_eq!(result.id, "stack");
    assert_eq!(storage.received_for("/v2")[0].body, bytes(5));
}

#[tokio::test]
async fn an_attachment_splits_evenly_over_its_unsized_urls() {
    let (api, storage) = (MockServer::start_async().await, FakeStorage::start().await);
    api.mock_async(|when, then| {
        when.method(POST)
            .path("/v4/accounts/a/comments/c/attachments")
            .json_body(json!({"data": {"name": "notes.pdf", "file_size": 11, "media_type": "application/pdf"}}));
        then.status(201).json_body(
            json!({"data": {"id": "att", "name": "notes.pdf", "file_size": 11, "media_type": "application/pdf",
            "created_at": AT, "upload_urls": [storage.url("/a1"), storage.url("/a2")]}}),
        );
    })
    .await;
    let data = bytes(11);
    let attachment =
        client(&api).uploads().attachment("a", "c", reader(&data, "notes.pdf"), UploadOptions::new()).await.unwrap();
    assert_eq!(attachment.id, "att");
    let (a1, a2) = (storage.received_for("/a1"), storage.received_for("/a2"));
    assert_eq!((a1[0].body.len(), a2[0].body.len()), (6, 5), "ceil(11/2) then the rest");
    assert_eq!([a1[0].body.as_slice(), a2[0].body.as_slice()].concat(), data);
}

#[tokio::test]
async fn a_remote_upload_sends_the_source_url() {
    let api = MockServer::start_async().await;
    let mock = api
        .mock_async(|when, then| {
            when.method(POST)
                .path("/v4/accounts/a/folders/f/files/remote_upload")
                .json_body(json!({"data": {"name": "big.mov", "source_url": "https://example.com/big.mov"}}));
            then.status(202).json_body(json!({"data": {"id": "r", "name": "big.mov", "created_at": AT, "updated_at": AT, "file_size": 0,
                "media_type": "video/quicktime", "parent_id": "f", "project_id": "p", "status": "created", "type": "file", "view_url": "https://x"},
                "links": {"status": "/v4/accounts/a/files/r/status"}}));
        })
        .await;
    let file = client(&api).uploads().remote("a", "f", "big.mov", "https://example.com/big.mov").await.unwrap();
    mock.assert_async().await;
    assert_eq!(file.id, "r");
}

#[tokio::test]
async fn a_new_version_of_a_stack_moves_the_upload_into_it() {
    let (api, storage) = (MockServer::start_async().await, FakeStorage::start().await);
    let stack = json!({"data": {"type": "version_stack", "id": "stack", "name": "v.mov", "created_at": AT, "updated_at": AT,
        "parent_id": "folder", "project_id": "p", "view_url": "https://x", "head_version": null}});
    let show = api
        .mock_async(|when, then| {
            when.method(GET).path("/v4/accounts/a/version_stacks/stack");
            then.status(200).json_body(stack.clone());
        })
        .await;
    api.mock_async(|when, then| {
        when.method(POST).path("/v4/accounts/a/folders/folder/files/local_upload");
        then.status(201).json_body(created("new", vec![json!({"size": 3, "url": storage.url("/v3")})]));
    })
    .await;
    let moved = api
        .mock_async(|when, then| {
            when.method(PATCH).path("/v4/accounts/a/files/new/move").json_body(json!({"data": {"parent_id": "stack"}}));
            then.status(200).json_body(json!({"data": {"type": "file", "id": "new", "name": "v3.mov", "created_at": AT, "updated_at": AT,
                "file_size": 3, "media_type": "video/quicktime", "parent_id": "stack", "project_id": "p", "status": "created", "view_url": "https://x"}}));
        })
        .await;
    let result = client(&api)
        .uploads()
        .version("a", VersionOf::Stack("stack".into()), reader(&bytes(3), "v3.mov"), UploadOptions::new())
        .await
        .unwrap();
    assert_eq!(result.id, "stack");
    moved.assert_async().await;
    assert_eq!(show.calls_async().await, 2, "the stack is read before (its folder) and after (its new head)");
    assert_eq!(storage.received_for("/v3")[0].body, bytes(3));
}
