//! Local uploads to the fake's storage (the part checks S3 makes, the status
//! the file goes through) and downloads of what was stored, with `Range`.

mod support;

use std::time::Duration;

use frameio_fake::{Fake, patterned_bytes};
use frameio_gen::v4::types::{
    AssetInclude, FileCreateLocalUploadParams, FileCreateLocalUploadParamsData, FileStatus, FileWithUploadUrls,
};
use support::{client, http};

/// Creates `name` (`size` bytes) in a fresh project's root; returns the account id and the created file.
async fn create(fake: &Fake, name: &str, size: i64) -> (String, FileWithUploadUrls) {
    let (account, root) = {
        let account = fake.seed().account("Acme");
        let project = account.workspace("W").project("P");
        (account.id, project.root_folder_id)
    };
    let body =
        FileCreateLocalUploadParams { data: FileCreateLocalUploadParamsData { file_size: size, name: name.into() } };
    let created =
        client(fake).files_create_local_upload().account_id(&account).folder_id(&root).body(body).send().await;
    (account, created.unwrap().into_inner().data)
}

async fn put(url: &str, content_type: &str, body: Vec<u8>) -> reqwest::Response {
    http().put(url).header("content-type", content_type).header("x-amz-acl", "private").body(body).send().await.unwrap()
}

#[tokio::test]
async fn a_local_upload_stores_every_part_and_the_file_becomes_transcoded() {
    let fake = Fake::builder().part_size(400).start().await.unwrap();
    let data = patterned_bytes(3, 0..1000);
    let (account, file) = create(&fake, "clip.mov", 1000).await;
    let sizes: Vec<i64> = file.upload_urls.iter().map(|u| u.size).collect();
    assert_eq!(sizes, [334, 333, 333]);
    let id = file.id.unwrap();
    for url in &file.upload_urls {
        assert!(url.url.starts_with(fake.base_url()), "{}", url.url);
        assert!(url.url.contains("X-Amz-Signature=") && url.url.contains("X-Amz-Expires=3600"), "{}", url.url);
    }
    let mut offset = 0;
    for (i, url) in file.upload_urls.iter().enumerate() {
        let size = url.size as usize;
        let response = put(&url.url, "video/quicktime", data[offset..offset + size].to_vec()).await;
        assert_eq!(response.status(), 200, "part {}", i + 1);
        assert!(response.headers().contains_key("etag"));
        offset += size;
        let expected = if i < 2 { "created" } else { "transcoded" };
        assert_eq!(fake.file_status(&id), Some(expected));
    }
    assert_eq!(fake.file_bytes(&id).unwrap(), data);
    let status = client(&fake).files_show_file_upload_status().account_id(&account).file_id(&id).send().await;
    let status = status.unwrap().into_inner().data;
    assert!(status.upload_complete && !status.upload_failed && status.upload_completed_at.is_some());
    let parts = fake.requests_to(frameio_fake::STORAGE_UPLOAD);
    assert_eq!(parts.len(), 3);
    let signature = parts[0].query_param("X-Amz-Signature").unwrap();
    let shown = format!("{parts:?}");
    assert!(!shown.contains(&signature) && shown.contains("X-Amz-Signature=<redacted>"), "{shown}");
}

#[tokio::test]
async fn a_part_of_the_wrong_size_or_type_is_refused_as_s3_does() {
    let fake = Fake::start().await.unwrap();
    let (_, file) = create(&fake, "clip.mov", 10).await;
    let url = &file.upload_urls[0].url;
    let cases: [(&str, Vec<u8>, u16, &str); 3] = [
        ("video/quicktime", vec![0; 9], 403, "SignatureDoesNotMatch"),
        ("video/mp4", vec![0; 10], 403, "SignatureDoesNotMatch"),
        ("video/quicktime", vec![0; 11], 403, "SignatureDoesNotMatch"),
    ];
    for (content_type, body, status, code) in cases {
        let len = body.len();
        let response = put(url, content_type, body).await;
        assert_eq!(response.status(), status, "{content_type} {len}");
        assert_eq!(response.headers()["content-type"], "application/xml");
        let text = response.text().await.unwrap();
        assert!(text.contains(&format!("<Code>{code}</Code>")), "{text}");
    }
    let no_acl = http().put(url).header("content-type", "video/quicktime").body(vec![0; 10]).send().await.unwrap();
    assert_eq!(no_acl.status(), 403, "x-amz-acl is a signed header");
    let with_token = http()
        .put(url)
        .bearer_auth(fake.token())
        .header("content-type", "video/quicktime")
        .header("x-amz-acl", "private")
        .body(vec![0; 10])
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 400, "a second credential is refused");
    let tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=00");
    assert_eq!(put(&tampered, "video/quicktime", vec![0; 10]).await.status(), 403);
    assert_eq!(fake.file_status(file.id.as_deref().unwrap()), Some("created"), "nothing was stored");
    assert_eq!(put(url, "video/quicktime", vec![0; 10]).await.status(), 200);
    assert_eq!(put(url, "video/quicktime", vec![0; 10]).await.status(), 404, "the upload is complete");
}

#[tokio::test(start_paused = true)]
async fn an_expired_url_is_access_denied_and_transcoding_can_take_time() {
    let fake = Fake::builder()
        .url_ttl(Duration::from_secs(60))
        .transcode_delay(Duration::from_secs(30))
        .start()
        .await
        .unwrap();
    let (_, file) = create(&fake, "a.png", 4).await;
    let id = file.id.unwrap();
    tokio::time::sleep(Duration::from_secs(61)).await;
    let expired = put(&file.upload_urls[0].url, "image/png", vec![1; 4]).await;
    assert_eq!(expired.status(), 403);
    assert!(expired.text().await.unwrap().contains("Request has expired"));

    let (_, file) = create(&fake, "b.png", 4).await;
    let id_b = file.id.unwrap();
    assert_eq!(put(&file.upload_urls[0].url, "image/png", vec![1; 4]).await.status(), 200);
    assert_eq!(fake.file_status(&id_b), Some("uploaded"));
    tokio::time::sleep(Duration::from_secs(31)).await;
    assert_eq!(fake.file_status(&id_b), Some("transcoded"));
    assert_eq!(fake.file_status(&id), Some("created"));
}

/// A seeded file's original download URL.
async fn download_url(fake: &Fake, bytes: Vec<u8>) -> String {
    let (account, file) = {
        let account = fake.seed().account("Acme");
        let file = account.workspace("W").project("P").root().file("clip.mp4", bytes);
        (account.id, file.id)
    };
    let shown = client(fake)
        .files_show()
        .account_id(&account)
        .file_id(&file)
        .include([AssetInclude::MediaLinksOriginal])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown.data.status, FileStatus::Transcoded);
    shown.data.media_links.unwrap().original.unwrap().download_url.unwrap()
}

async fn ranged(url: &str, range: &str) -> reqwest::Response {
    http().get(url).header("range", range).send().await.unwrap()
}

#[tokio::test]
async fn downloads_serve_the_bytes_with_single_ranges() {
    let fake = Fake::start().await.unwrap();
    let data = patterned_bytes(9, 0..1000);
    let url = download_url(&fake, data.clone()).await;

    let whole = http().get(&url).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["accept-ranges"], "bytes");
    assert_eq!(whole.headers()["content-length"], "1000");
    assert_eq!(whole.headers()["content-type"], "video/mp4");
    assert!(whole.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let etag = whole.headers()["etag"].clone();
    assert_eq!(whole.bytes().await.unwrap(), data);

    for (range, from, to) in
        [("bytes=0-99", 0, 99), ("bytes=900-", 900, 999), ("bytes=-10", 990, 999), ("bytes=990-5000", 990, 999)]
    {
        let part = ranged(&url, range).await;
        assert_eq!(part.status(), 206, "{range}");
        assert_eq!(part.headers()["content-range"], format!("bytes {from}-{to}/1000").as_str(), "{range}");
        assert_eq!(part.headers()["etag"], etag);
        assert_eq!(part.bytes().await.unwrap(), &data[from..=to], "{range}");
    }
    for range in ["bytes=1000-", "bytes=5000-6000", "bytes=-0"] {
        let refused = ranged(&url, range).await;
        assert_eq!(refused.status(), 416, "{range}");
        assert_eq!(refused.headers()["content-range"], "bytes */1000");
    }
    assert_eq!(ranged(&url, "bytes=0-1,5-6").await.status(), 200, "several ranges get the whole object");
    let head = http().head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-length"], "1000");
}

#[tokio::test]
async fn the_ignore_range_switch_answers_200_with_the_whole_body() {
    let fake = Fake::start().await.unwrap();
    let data = patterned_bytes(2, 0..300);
    let url = download_url(&fake, data.clone()).await;
    fake.set_ignore_range(true);
    let response = ranged(&url, "bytes=0-9").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("accept-ranges").is_none());
    assert_eq!(response.bytes().await.unwrap(), data);
    fake.set_ignore_range(false);
    assert_eq!(ranged(&url, "bytes=0-9").await.status(), 206);
}

#[tokio::test]
async fn a_file_seeded_by_size_serves_any_range_without_holding_it() {
    let fake = Fake::start().await.unwrap();
    let (account, id) = {
        let account = fake.seed().account("Acme");
        let file = account.workspace("W").project("P").root().file_of_size("huge.mov", 8 << 30);
        (account.id, file.id)
    };
    let shown = client(&fake)
        .files_show()
        .account_id(&account)
        .file_id(&id)
        .include([AssetInclude::MediaLinksOriginal])
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(shown.data.file_size, 8 << 30);
    let url = shown.data.media_links.unwrap().original.unwrap().download_url.unwrap();
    let tail = ranged(&url, "bytes=-4096").await;
    assert_eq!(
        tail.headers()["content-range"],
        format!("bytes {}-{}/{}", (8u64 << 30) - 4096, (8u64 << 30) - 1, 8u64 << 30).as_str()
    );
    let bytes = tail.bytes().await.unwrap();
    assert_eq!(bytes.len(), 4096);
    assert_eq!(bytes, fake.file_bytes_range(&id, (8 << 30) - 4096..8 << 30).unwrap());
}
