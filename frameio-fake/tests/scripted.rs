//! What a test scripts beyond faults of the fake's own making: bare and JSON replies,
//! one part of an upload failing while the others go through, uploads seeded with any
//! split, and the answer each request got in the log (status, headers, when).

mod support;

use std::time::Duration;

use frameio_fake::{Fake, Fault, RateLimits, STORAGE_UPLOAD, Target};
use support::{get, http};

fn put(url: &str, media_type: &str, body: Vec<u8>) -> reqwest::RequestBuilder {
    http().put(url).header("content-type", media_type).header("x-amz-acl", "private").body(body)
}

#[tokio::test]
async fn an_empty_reply_has_no_body_and_no_content_type_and_a_json_one_is_sent_as_given() {
    let fake = Fake::start().await.unwrap();
    fake.fault(Target::operation("users_show"), Fault::empty(404));
    fake.fault(Target::operation("users_show"), Fault::json(200, r#"{"data": {"id": "scripted"}}"#));
    let bare = get(&fake, "/v4/me").await;
    assert_eq!(bare.status(), 404);
    assert!(bare.headers().get("content-type").is_none(), "{:?}", bare.headers());
    assert_eq!(bare.headers()["content-length"], "0");
    assert!(bare.bytes().await.unwrap().is_empty());
    let scripted = get(&fake, "/v4/me").await;
    assert_eq!(scripted.headers()["content-type"], "application/json");
    assert_eq!(scripted.text().await.unwrap(), r#"{"data": {"id": "scripted"}}"#);
    let real: serde_json::Value = get(&fake, "/v4/me").await.json().await.unwrap();
    assert_eq!(real["data"]["email"], "user@fake.frame.io", "the script was used up");
}

#[tokio::test]
async fn a_seeded_upload_takes_its_own_split_and_one_part_can_fail_alone() {
    let fake = Fake::start().await.unwrap();
    let root = fake.seed().account("Acme").workspace("W").project("P").root();
    let upload = root.upload("clip.mov", &[700, 300]);
    assert_eq!(upload.media_type, "video/quicktime");
    assert_eq!(upload.parts.iter().map(|p| p.size).collect::<Vec<_>>(), [700, 300]);
    assert!(format!("{upload:?}").contains("X-Amz-Signature=<redacted>"), "{upload:?}");
    let data = frameio_fake::patterned_bytes(3, 0..1000);
    fake.fault(Target::upload_part(&upload.id, 2), Fault::status(503).body("application/xml", "<Error/>"));

    let first = put(&upload.parts[0].url, "video/quicktime", data[..700].to_vec()).send().await.unwrap();
    assert_eq!(first.status(), 200, "part 1 is not targeted");
    let refused = put(&upload.parts[1].url, "video/quicktime", data[700..].to_vec()).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(fake.file_status(&upload.id), Some("created"));
    // A part of another size than its own is refused as S3 refuses it.
    let wrong = put(&upload.parts[1].url, "video/quicktime", data[650..].to_vec()).send().await.unwrap();
    assert_eq!(wrong.status(), 403);
    let second = put(&upload.parts[1].url, "video/quicktime", data[700..].to_vec()).send().await.unwrap();
    assert_eq!(second.status(), 200);
    assert_eq!(fake.file_bytes(&upload.id).unwrap(), data);
    assert_ne!(fake.file_status(&upload.id), Some("created"));
}

#[tokio::test]
async fn each_request_records_the_answer_it_got() {
    let fake = Fake::start().await.unwrap();
    fake.fault(Target::operation("users_show"), Fault::status(503).header("retry-after", "2"));
    fake.fault(Target::operation("users_show"), Fault::hang_up());
    assert_eq!(get(&fake, "/v4/me").await.status(), 503);
    assert!(http().get(format!("{}/v4/me", fake.base_url())).bearer_auth(fake.token()).send().await.is_err());
    assert_eq!(get(&fake, "/v4/me").await.status(), 200);
    let log = fake.requests_to("users_show");
    assert_eq!(log.iter().map(|r| r.status()).collect::<Vec<_>>(), [Some(503), None, Some(200)]);
    let throttled = log[0].response.as_ref().unwrap();
    assert_eq!(throttled.header("retry-after"), Some("2"));
    let ok = log[2].response.as_ref().unwrap();
    assert!(ok.header("x-ratelimit-limit").is_some() && ok.header("content-length").is_some());
    assert!(ok.at >= log[2].finished);
}

#[tokio::test(start_paused = true)]
async fn a_delayed_answer_is_recorded_when_it_was_sent() {
    let fake = Fake::start().await.unwrap();
    let root = fake.seed().account("Acme").workspace("W").project("P").root();
    let upload = root.upload("a.bin", &[10]);
    fake.fault(Target::operation(STORAGE_UPLOAD), Fault::delay(Duration::from_secs(3)));
    let answer = put(&upload.parts[0].url, &upload.media_type, vec![7; 10]).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let [put] = &fake.requests_to(STORAGE_UPLOAD)[..] else { panic!("one part") };
    let answered = put.response.as_ref().unwrap();
    assert!(answered.at - put.finished >= Duration::from_secs(3), "{:?}", answered.at - put.finished);
    assert!(answered.header("etag").is_some(), "the part's ETag, as S3 answers it");
}

#[tokio::test(start_paused = true)]
async fn unannounced_limits_send_no_headers_and_still_enforce() {
    let limits = RateLimits::documented().enforced().limit("users_show", 1, Duration::from_secs(10)).unannounced();
    let fake = Fake::builder().rate_limits(limits).start().await.unwrap();
    let first = get(&fake, "/v4/me").await;
    assert_eq!(first.status(), 200);
    assert!(first.headers().keys().all(|k| !k.as_str().starts_with("x-ratelimit")), "{:?}", first.headers());
    let second = get(&fake, "/v4/me").await;
    assert_eq!(second.status(), 429);
    assert!(second.headers().contains_key("retry-after"));
    assert_eq!(fake.requests_to("users_show").iter().filter(|r| r.status() == Some(429)).count(), 1);
}
