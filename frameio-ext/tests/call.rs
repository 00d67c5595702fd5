//! One call, its own way: per-call headers (`api-version: experimental`),
//! retry policy and timeout, against the fake Frame.io; read-only POSTs
//! retried like GETs; a 200 whose body is cut short retried once where that
//! is safe, and reported as truncated.

mod support;

use std::time::Duration;

use frameio_ext::types::{
    FileCreateLocalUploadParams, FileCreateLocalUploadParamsData, SearchParams, SearchParamsEngine,
};
use frameio_ext::{Backoff, Client, Error, RateLimiting, RetryPolicy};
use frameio_fake::{Fault, Target};
use support::World;

const SHOW: &str = "files_show";
const SEARCH: &str = "search_search";
const CREATE: &str = "files_create_local_upload";
const EMPTY_PAGE: &str = r#"{"data": [], "links": {"next": null}, "total_count": 0}"#;

/// Quick retries, no pacing: the tests count attempts, not waits.
fn client(world: &World) -> Client {
    let policy = RetryPolicy::new()
        .backoff(Backoff::new().initial(Duration::from_millis(5)))
        .server_error_floor(Duration::from_millis(10))
        .rate_limit_floor(Duration::from_millis(10));
    world.client().retry_policy(policy).rate_limiting(RateLimiting::disabled()).build().unwrap()
}

fn header(world: &World, operation: &str, index: usize, name: &str) -> Option<String> {
    world.fake.requests_to(operation)[index].headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

#[tokio::test]
async fn api_version_and_headers_are_sent_with_one_call_only() {
    let world = World::start().await;
    let file = world.file("a.mp4", 10);
    let client = client(&world);
    client
        .files_show()
        .account_id(&world.account)
        .file_id(&file)
        .api_version("experimental")
        .header("x-request-tag", "dailies")
        .send()
        .await
        .unwrap();
    client.files_show().account_id(&world.account).file_id(&file).send().await.unwrap();

    assert_eq!(header(&world, SHOW, 0, "api-version").as_deref(), Some("experimental"));
    assert_eq!(header(&world, SHOW, 0, "x-request-tag").as_deref(), Some("dailies"));
    assert_eq!(header(&world, SHOW, 1, "api-version"), None, "the next call is the client's own");
    assert_eq!(header(&world, SHOW, 1, "x-request-tag"), None);
}

#[tokio::test]
async fn an_invalid_per_call_header_fails_the_call_before_sending() {
    let world = World::start().await;
    let file = world.file("a.mp4", 10);
    let error = client(&world)
        .files_show()
        .account_id(&world.account)
        .file_id(&file)
        .header("bad header", "x")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest(_)), "{error}");
    assert!(world.fake.requests_to(SHOW).is_empty());
}

#[tokio::test]
async fn a_per_call_retry_policy_and_timeout_replace_the_clients() {
    let world = World::start().await;
    let file = world.file("a.mp4", 10);
    world.fake.fault(Target::operation(SHOW), Fault::status(503));
    let client = client(&world);
    let error = client
        .files_show()
        .account_id(&world.account)
        .file_id(&file)
        .retry_policy(RetryPolicy::none())
        .send()
        .await
        .unwrap_err();
    assert_eq!((error.status().map(|s| s.as_u16()), error.attempts()), (Some(503), Some(1)));

    world.fake.fault(Target::operation(SHOW), Fault::delay(Duration::from_secs(5)));
    let started = std::time::Instant::now();
    let error = client
        .files_show()
        .account_id(&world.account)
        .file_id(&file)
        .timeout(Duration::from_millis(100))
        .retry_policy(RetryPolicy::none())
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn search_is_a_post_retried_like_a_get() {
    let world = World::start().await;
    for fault in [Fault::status(503), Fault::status(502), Fault::json(200, EMPTY_PAGE)] {
        world.fake.fault(Target::operation(SEARCH), fault);
    }
    let body = SearchParams { engine: SearchParamsEngine::Lexical, filters: None, query: "dailies".into() };
    let found = client(&world).search_search().account_id(&world.account).body(body).send().await.unwrap();
    assert_eq!(found.total_count, Some(0));
    assert_eq!(world.fake.requests_to(SEARCH).len(), 3);

    // A POST that changes state is not retried on a 5xx.
    world.fake.fault(Target::operation(CREATE), Fault::status(503));
    let create =
        FileCreateLocalUploadParams { data: FileCreateLocalUploadParamsData { file_size: 10, name: "a.mp4".into() } };
    let error = client(&world)
        .files_create_local_upload()
        .account_id(&world.account)
        .folder_id(&world.folder)
        .body(create)
        .send()
        .await
        .unwrap_err();
    assert_eq!((error.status().map(|s| s.as_u16()), error.attempts()), (Some(503), Some(1)));
}

/// A body that is valid JSON cut short: what a proxy that closes early, or a
/// cut connection without a declared length, delivers.
const CUT_FILE: &str = r#"{"data": {"id": "f", "name": "a.mp4", "file_si"#;

#[tokio::test]
async fn a_truncated_body_is_retried_once_for_a_get() {
    let world = World::start().await;
    let file = world.file("a.mp4", 10);
    world.fake.fault(Target::operation(SHOW), Fault::json(200, CUT_FILE));
    let client = client(&world);
    let shown = client.files_show().account_id(&world.account).file_id(&file).send().await.unwrap();
    assert_eq!(shown.data.id, file);
    assert_eq!(world.fake.requests_to(SHOW).len(), 2);

    world.fake.fault(Target::operation(SHOW), Fault::json(200, CUT_FILE).times(2));
    let error = client.files_show().account_id(&world.account).file_id(&file).send().await.unwrap_err();
    let Error::Decode(decode) = &error else { panic!("not a decode error: {error}") };
    assert!(decode.is_truncated() && error.is_network(), "{error}");
    assert!(error.to_string().contains("cut short"), "says what happened: {error}");
    assert!(!error.to_string().contains("report"), "not blamed on the client's types: {error}");
    assert_eq!(world.fake.requests_to(SHOW).len(), 4, "one retry, not a retry loop");
}

#[tokio::test]
async fn a_truncated_answer_to_a_post_is_not_sent_again() {
    let world = World::start().await;
    world.fake.fault(Target::operation(CREATE), Fault::json(201, CUT_FILE));
    let create =
        FileCreateLocalUploadParams { data: FileCreateLocalUploadParamsData { file_size: 10, name: "a.mp4".into() } };
    let error = client(&world)
        .files_create_local_upload()
        .account_id(&world.account)
        .folder_id(&world.folder)
        .body(create)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(&error, Error::Decode(decode) if decode.is_truncated()), "{error}");
    assert_eq!(world.fake.requests_to(CREATE).len(), 1, "the file may exist: creating it again would duplicate it");
}

#[tokio::test]
async fn a_body_cut_short_of_its_length_is_retried_for_a_get() {
    let world = World::start().await;
    let file = world.file("a.mp4", 10);
    world.fake.fault(Target::operation(SHOW), Fault::truncate(20));
    let shown = client(&world).files_show().account_id(&world.account).file_id(&file).send().await.unwrap();
    assert_eq!(shown.data.id, file);
    assert_eq!(world.fake.requests_to(SHOW).len(), 2);
}
