//! Each fault kind, seen from a real HTTP client: statuses, delays, hang-ups,
//! resets and stalls while reading the request, truncated and reset response
//! bodies, and the repeated-cursor page; consumed in order, per target.

mod support;

use std::time::Duration;

use frameio_fake::{Fake, Fault, STORAGE_UPLOAD, Target};
use frameio_gen::v4::types::{
    FileAssetsWithIncludesResponse, FileCreateLocalUploadParams, FileCreateLocalUploadParamsData,
};
use support::{client, envelope, get, http};

#[tokio::test]
async fn a_503_storm_then_normal_answers_in_order() {
    let fake = Fake::start().await.unwrap();
    fake.fault(Target::operation("users_show"), Fault::status(503).times(3));
    fake.fault(Target::operation("users_show"), Fault::status(429).header("retry-after", "7"));
    assert_eq!(fake.pending_faults(), 4);
    for _ in 0..3 {
        let response = get(&fake, "/v4/me").await;
        assert_eq!(response.status(), 503);
        assert_eq!(envelope(response).await.errors[0].title.as_deref(), Some("Service Unavailable"));
    }
    let throttled = get(&fake, "/v4/me").await;
    assert_eq!((throttled.status().as_u16(), throttled.headers()["retry-after"].to_str().unwrap()), (429, "7"));
    assert_eq!(get(&fake, "/v4/me").await.status(), 200);
    assert_eq!(fake.pending_faults(), 0);
    assert_eq!(fake.requests_to("users_show").len(), 5, "faulted requests are recorded too");
}

#[tokio::test]
async fn a_status_fault_can_carry_any_body_and_target_a_path_or_anything() {
    let fake = Fake::start().await.unwrap();
    fake.fault(Target::path("/v4/accounts"), Fault::status(502).body("text/html", "<html>Bad Gateway</html>"));
    fake.fault(Target::Any, Fault::status(500));
    let gateway = get(&fake, "/v4/accounts").await;
    assert_eq!(gateway.status(), 502);
    assert_eq!(gateway.text().await.unwrap(), "<html>Bad Gateway</html>");
    assert_eq!(get(&fake, "/v4/me").await.status(), 500);
    fake.fault(Target::Any, Fault::status(500).times(10));
    fake.clear_faults();
    assert_eq!(get(&fake, "/v4/me").await.status(), 200);
}

#[tokio::test(start_paused = true)]
async fn a_delay_waits_on_tokios_clock_then_answers_normally() {
    let fake = Fake::start().await.unwrap();
    fake.fault(Target::operation("users_show"), Fault::delay(Duration::from_secs(30)));
    let started = tokio::time::Instant::now();
    assert_eq!(get(&fake, "/v4/me").await.status(), 200);
    assert!(started.elapsed() >= Duration::from_secs(30), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_hang_up_closes_without_an_answer() {
    let fake = Fake::start().await.unwrap();
    fake.fault(Target::operation("users_show"), Fault::hang_up());
    let err = http().get(format!("{}/v4/me", fake.base_url())).bearer_auth(fake.token()).send().await.unwrap_err();
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert_eq!(get(&fake, "/v4/me").await.status(), 200);
}

/// A fake with one pending 2 MB upload; returns (fake, part URL, part size).
async fn pending_upload() -> (Fake, String, usize) {
    let fake = Fake::start().await.unwrap();
    let (account, root) = {
        let account = fake.seed().account("Acme");
        (account.id.clone(), account.workspace("W").project("P").root_folder_id)
    };
    let body = FileCreateLocalUploadParams {
        data: FileCreateLocalUploadParamsData { file_size: 2_000_000, name: "a.bin".into() },
    };
    let file = client(&fake).files_create_local_upload().account_id(&account).folder_id(&root).body(body).send().await;
    let url = file.unwrap().into_inner().data.upload_urls.remove(0);
    (fake, url.url, url.size as usize)
}

fn put(url: &str, size: usize) -> reqwest::RequestBuilder {
    http()
        .put(url)
        .header("content-type", "application/octet-stream")
        .header("x-amz-acl", "private")
        .body(vec![1u8; size])
}

#[tokio::test]
async fn a_reset_mid_request_body_fails_the_upload_and_stores_nothing() {
    let (fake, url, size) = pending_upload().await;
    fake.fault(Target::operation(STORAGE_UPLOAD), Fault::reset_after(100_000));
    let err = put(&url, size).send().await.unwrap_err();
    assert!(err.is_request() || err.is_body(), "{err:?}");
    let recorded = fake.requests_to(STORAGE_UPLOAD);
    assert!(!recorded[0].body_complete);
    assert!(recorded[0].body_len >= 100_000 && recorded[0].body_len < size as u64, "{}", recorded[0].body_len);
    assert_eq!(put(&url, size).send().await.unwrap().status(), 200, "the retry goes through");
    let retry = &fake.requests_to(STORAGE_UPLOAD)[1];
    assert!(retry.body_complete && retry.finished >= retry.at);
    assert!(fake.connections() >= 3, "the reset connection was not reused");
}

#[tokio::test]
async fn a_stall_never_answers() {
    let (fake, url, size) = pending_upload().await;
    fake.fault(Target::operation(STORAGE_UPLOAD), Fault::stall_after(50_000));
    let err = put(&url, size).timeout(Duration::from_millis(300)).send().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
}

#[tokio::test]
async fn a_truncated_body_declares_its_full_length_and_stops_short() {
    let fake = Fake::start().await.unwrap();
    for fault in [Fault::truncate(10), Fault::reset_response_after(10)] {
        fake.fault(Target::operation("users_show"), fault);
        let mut response = get(&fake, "/v4/me").await;
        assert_eq!(response.status(), 200);
        let declared: usize = response.headers()["content-length"].to_str().unwrap().parse().unwrap();
        assert!(declared > 10);
        let mut received = Vec::new();
        let err = loop {
            match response.chunk().await {
                Ok(Some(chunk)) => received.extend_from_slice(&chunk),
                Ok(None) => panic!("the body ended normally after {} bytes", received.len()),
                Err(err) => break err,
            }
        };
        assert_eq!(received.len(), 10, "the first 10 bytes arrived");
        assert!(received.starts_with(br#"{"data":"#));
        assert!(err.is_body() || err.is_decode() || err.is_request(), "{err:?}");
    }
    assert_eq!(get(&fake, "/v4/me").await.status(), 200);
}

#[tokio::test]
async fn a_repeated_cursor_page_is_empty_and_points_at_the_same_cursor() {
    let fake = Fake::start().await.unwrap();
    let (account, folder) = {
        let account = fake.seed().account("Acme");
        let folder = account.workspace("W").project("P").root().folder("F");
        for i in 0..3 {
            folder.file(&format!("{i}.txt"), vec![0u8]);
        }
        (account.id.clone(), folder.id)
    };
    let first = format!("/v4/accounts/{account}/folders/{folder}/files?page_size=1");
    let page: FileAssetsWithIncludesResponse = get(&fake, &first).await.json().await.unwrap();
    let second = page.links.next.unwrap();
    fake.fault(Target::operation("files_list"), Fault::repeat_cursor());
    let stuck: FileAssetsWithIncludesResponse = get(&fake, &second).await.json().await.unwrap();
    assert!(stuck.data.is_empty());
    assert_eq!(stuck.links.next.as_deref(), Some(second.as_str()), "the same cursor again");
    let real: FileAssetsWithIncludesResponse = get(&fake, &second).await.json().await.unwrap();
    assert_eq!(real.data.len(), 1, "the fault was used up");
}
