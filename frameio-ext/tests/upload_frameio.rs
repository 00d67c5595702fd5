//! Frame.io uploads end to end against the fake Frame.io: it creates the file
//! (or attachment), hands out upload URLs on its storage, checks each part as S3
//! does, keeps every byte, and says when the upload is complete.

mod support;

use std::time::Duration;

use frameio_ext::rate_limit::RateLimiting;
use frameio_ext::transfer::{FileUploadError, NewFile, VersionOf, WaitOptions};
use frameio_ext::upload::UploadOptions;
use frameio_ext::{Client, Error};
use frameio_fake::{Fake, Fault, STORAGE_UPLOAD, Target};
use serde_json::json;
use support::{TOKEN, World, json};

const AT: &str = "2024-01-01T00:00:00Z";
const CREATE: &str = "files_create_local_upload";

fn client(world: &World) -> Client {
    world.client().rate_limiting(RateLimiting::disabled()).build().unwrap()
}

fn bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

fn reader(data: &[u8], name: &str) -> NewFile {
    NewFile::from_reader(std::io::Cursor::new(data.to_vec()), data.len() as u64, name)
}

#[tokio::test]
async fn a_local_upload_creates_the_file_and_streams_every_part() {
    let world = World::with(Fake::builder().part_size(600)).await;
    let data = bytes(1000);
    let file = client(&world)
        .uploads()
        .local(&world.account, &world.folder, reader(&data, "clip.mov"), UploadOptions::new())
        .await
        .unwrap();
    let id = file.id.clone().unwrap();
    let [create] = &world.fake.requests_to(CREATE)[..] else { panic!("one creation") };
    assert_eq!(create.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    assert_eq!(json(create), json!({"data": {"name": "clip.mov", "file_size": 1000}}));
    assert_eq!(file.upload_urls.len(), 2, "the fake split 1000 bytes into parts of at most 600");

    let parts = world.fake.requests_to(STORAGE_UPLOAD);
    assert_eq!(parts.len(), 2, "each part sent once");
    for part in &parts {
        assert_eq!(part.headers["content-type"], "video/quicktime");
        assert!(part.headers.get("authorization").is_none(), "the API token went to storage");
        assert_eq!(part.status(), Some(200));
    }
    assert_eq!(world.fake.file_bytes(&id).unwrap(), data, "every byte, in order");
    assert_ne!(world.fake.file_status(&id), Some("created"));
}

#[tokio::test]
async fn parts_carry_the_media_type_the_created_file_has_not_the_local_guess() {
    let world = World::start().await;
    let data = bytes(64);
    // Frame.io created the file as `video/mp4` and signed its URL for that type; the
    // storage refuses any other `Content-Type`.
    let upload = world.folder_seed().upload("clip.mp4", &[64]);
    let created = json!({"data": {"id": upload.id, "name": "clip.bin", "file_size": 64, "media_type": "video/mp4",
        "status": "created", "upload_urls": [{"size": 64, "url": upload.parts[0].url}]}});
    world.fake.fault(Target::operation(CREATE), Fault::json(201, created.to_string()));
    // `.bin` guesses `application/octet-stream`.
    let file = reader(&data, "clip.bin");
    client(&world).uploads().local(&world.account, &world.folder, file, UploadOptions::new()).await.unwrap();
    let received = world.fake.requests_to(STORAGE_UPLOAD);
    assert_eq!(received[0].headers["content-type"], "video/mp4");
    assert_eq!(world.fake.file_bytes(&upload.id).unwrap(), data);
}

#[tokio::test]
async fn a_failed_part_names_the_created_file() {
    let world = World::start().await;
    let expired = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
    world.fake.fault(Target::operation(STORAGE_UPLOAD), Fault::status(403).body("application/xml", expired));
    let err = client(&world)
        .uploads()
        .local(&world.account, &world.folder, reader(&bytes(10), "x.mov"), UploadOptions::new())
        .await
        .unwrap_err();
    let Error::FileUpload(FileUploadError::Parts { file_id, source }) = &err else { panic!("{err:?}") };
    assert_eq!(world.fake.file_status(file_id), Some("created"), "the file the fake created, still waiting");
    assert_eq!(source.failed_part().map(|p| p.number), Some(1));
    assert!(err.to_string().contains("AccessDenied"), "{err}");
}

#[tokio::test]
async fn waiting_polls_until_complete() {
    let world = World::start().await;
    let upload = world.folder_seed().upload("clip.mov", &[5]);
    let client = client(&world);
    let uploads = client.uploads();
    let wait = WaitOptions::new().first_interval(Duration::from_millis(20)).timeout(Duration::from_secs(10));
    let waiting = uploads.wait_until_uploaded(&world.account, &upload.id, wait);
    // After two polls saw it incomplete, the part arrives.
    let send = async {
        while world.fake.requests_to("files_show_file_upload_status").len() < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let put = reqwest::Client::new()
            .put(&upload.parts[0].url)
            .header("content-type", &upload.media_type)
            .header("x-amz-acl", "private")
            .body(bytes(5));
        assert_eq!(put.send().await.unwrap().status(), 200);
    };
    let (result, ()) = tokio::join!(waiting, send);
    assert!(result.unwrap().upload_complete);
    assert!(world.fake.requests_to("files_show_file_upload_status").len() >= 3);
}

#[tokio::test]
async fn waiting_stops_on_failure_and_on_timeout() {
    let world = World::start().await;
    let status = |id: &str| {
        json!({"data": {"id": id, "filetype": "video/quicktime", "upload_complete": false, "upload_failed": true,
            "uploaded_at": AT, "upload_completed_at": null}})
    };
    // The fake never fails an upload by itself.
    world.fake.fault(Target::operation("files_show_file_upload_status"), Fault::json(200, status("bad").to_string()));
    let client = client(&world);
    let wait = WaitOptions::new().first_interval(Duration::from_millis(10)).timeout(Duration::from_millis(100));
    let failed = client.uploads().wait_until_uploaded(&world.account, "bad", wait).await.unwrap_err();
    assert!(
        matches!(failed, Error::FileUpload(FileUploadError::Failed { ref file_id }) if file_id == "bad"),
        "{failed:?}"
    );
    // A file whose part never arrives.
    let slow = world.folder_seed().upload("slow.mov", &[5]);
    let err = client.uploads().wait_until_uploaded(&world.account, &slow.id, wait).await.unwrap_err();
    assert!(matches!(err, Error::FileUpload(FileUploadError::NotReady { .. })), "{err:?}");
}

#[tokio::test]
async fn a_new_version_of_a_file_stacks_old_then_new() {
    let world = World::start().await;
    let old = world.file("v1.mov", 1);
    let result = client(&world)
        .uploads()
        .version(&world.account, VersionOf::File(old.clone()), reader(&bytes(5), "v2.mov"), UploadOptions::new())
        .await
        .unwrap();
    let [created] = &world.fake.requests_to(CREATE)[..] else { panic!("one upload") };
    assert_eq!(created.path, format!("/v4/accounts/{}/folders/{}/files/local_upload", world.account, world.folder));
    let [stacked] = &world.fake.requests_to("version_stacks_create")[..] else { panic!("one stack") };
    assert_eq!(stacked.path, format!("/v4/accounts/{}/folders/{}/version_stacks", world.account, world.folder));
    let file_ids = json(stacked)["data"]["file_ids"].clone();
    assert_eq!(file_ids[0], old.as_str(), "the old file at the bottom");
    let new_id = file_ids[1].as_str().unwrap().to_string();
    assert_eq!(world.fake.file_bytes(&new_id).unwrap(), bytes(5));
    assert_eq!(stacked.status(), Some(201));
    assert_ne!(result.id, old);
    assert_ne!(result.id, new_id, "the stack, not one of its files");
    let shown = client(&world).version_stacks_show().account_id(&world.account).version_stack_id(&result.id).await;
    assert_eq!(shown.unwrap().data.id, result.id, "the fake has the stack");
}

#[tokio::test]
async fn an_attachment_splits_evenly_over_its_unsized_urls() {
    let world = World::start().await;
    // The fake has no attachments: its answer is scripted, with URLs on its storage that
    // expect ceil(11 / 2) bytes, then the rest.
    let upload = world.folder_seed().upload("notes.pdf", &[6, 5]);
    let created = json!({"data": {"id": "att", "name": "notes.pdf", "file_size": 11, "media_type": "application/pdf",
        "created_at": AT, "upload_urls": [upload.parts[0].url, upload.parts[1].url]}});
    world.fake.fault(Target::operation("comments_create_attachment"), Fault::json(201, created.to_string()));
    let data = bytes(11);
    let attachment = client(&world)
        .uploads()
        .attachment(&world.account, "c", reader(&data, "notes.pdf"), UploadOptions::new())
        .await;
    assert_eq!(attachment.unwrap().id, "att");
    let [request] = &world.fake.requests_to("comments_create_attachment")[..] else { panic!("one attachment") };
    assert_eq!(json(request), json!({"data": {"name": "notes.pdf", "file_size": 11, "media_type": "application/pdf"}}));
    let sizes: Vec<u64> = world.fake.requests_to(STORAGE_UPLOAD).iter().map(|r| r.body_len).collect();
    assert_eq!(sizes, [6, 5], "ceil(11/2) then the rest");
    assert_eq!(world.fake.file_bytes(&upload.id).unwrap(), data);
}

#[tokio::test]
async fn a_remote_upload_sends_the_source_url() {
    let world = World::start().await;
    // The fake does not fetch remote files: its answer is scripted.
    let created = json!({"data": {"id": "r", "name": "big.mov", "created_at": AT, "updated_at": AT, "file_size": 0,
        "media_type": "video/quicktime", "parent_id": world.folder, "project_id": world.project, "status": "created",
        "type": "file", "view_url": "https://x"}, "links": {"status": "/v4/accounts/a/files/r/status"}});
    world.fake.fault(Target::operation("files_create_remote_upload"), Fault::json(202, created.to_string()));
    let file = client(&world)
        .uploads()
        .remote(&world.account, &world.folder, "big.mov", "https://example.com/big.mov")
        .await
        .unwrap();
    assert_eq!(file.id, "r");
    let [request] = &world.fake.requests_to("files_create_remote_upload")[..] else { panic!("one request") };
    assert_eq!(request.path, format!("/v4/accounts/{}/folders/{}/files/remote_upload", world.account, world.folder));
    assert_eq!(json(request), json!({"data": {"name": "big.mov", "source_url": "https://example.com/big.mov"}}));
}

#[tokio::test]
async fn a_new_version_of_a_stack_moves_the_upload_into_it() {
    let world = World::start().await;
    let stack = {
        let folder = world.folder_seed();
        let (v1, v2) = (folder.file("v1.mov", vec![1u8]), folder.file("v2.mov", vec![2u8]));
        folder.version_stack(&[&v1, &v2])
    };
    let result = client(&world)
        .uploads()
        .version(&world.account, VersionOf::Stack(stack.clone()), reader(&bytes(3), "v3.mov"), UploadOptions::new())
        .await
        .unwrap();
    assert_eq!(result.id, stack);
    let [created] = &world.fake.requests_to(CREATE)[..] else { panic!("one upload") };
    assert_eq!(created.path, format!("/v4/accounts/{}/folders/{}/files/local_upload", world.account, world.folder));
    let [moved] = &world.fake.requests_to("files_move")[..] else { panic!("one move") };
    assert_eq!(json(moved), json!({"data": {"parent_id": stack}}));
    assert_eq!(moved.status(), Some(200), "the fake moved it into the stack");
    let new_id = moved.path.split('/').nth(5).unwrap().to_string();
    assert_eq!(world.fake.file_bytes(&new_id).unwrap(), bytes(3));
    let shows = world.fake.requests_to("version_stacks_show").len();
    assert_eq!(shows, 2, "the stack is read before (its folder) and after (its new head)");
}
