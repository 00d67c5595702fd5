//! Retries against a fake API: what is retried for which method, how long the
//! client waits (`Retry-After`, rate-limit headers, floors), and the caps on
//! attempts and time, reported in the final error.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use frameio_ext::auth::AuthError;
use frameio_ext::types::{FileCreateLocalUploadParams, FileCreateLocalUploadParamsData};
use frameio_ext::{AccessToken, Backoff, Client, Error, RateLimiting, RetryPolicy, TokenProvider};
use futures::future::BoxFuture;
use support::fake_api::{FILE_JSON, FakeApi, Reply, TOKEN, UPLOAD_JSON};

const MS: Duration = Duration::from_millis(1);
const ENVELOPE: &str = r#"{"errors": [{"detail": "Something went wrong"}]}"#;

/// The default policy with waits short enough for tests.
fn fast() -> RetryPolicy {
    RetryPolicy::new().backoff(Backoff::new().initial(10 * MS)).rate_limit_floor(20 * MS).server_error_floor(20 * MS)
}

fn client(url: &str, policy: RetryPolicy) -> Client {
    Client::builder()
        .base_url(url)
        .bearer_token(TOKEN)
        .retry_policy(policy)
        .rate_limiting(RateLimiting::disabled())
        .build()
        .unwrap()
}

/// A GET (safe to repeat).
async fn get(client: &Client) -> Result<(), Error> {
    client.files_show().account_id("a").file_id("f").send().await.map(drop)
}

/// A POST (not safe to repeat).
async fn post(client: &Client) -> Result<(), Error> {
    let body = FileCreateLocalUploadParams {
        data: FileCreateLocalUploadParamsData { file_size: 10, name: "a.mp4".to_string() },
    };
    client.files_create_local_upload().account_id("a").folder_id("d").body(body).send().await?;
    Ok(())
}

/// The time between consecutive requests the server received.
fn gaps(server: &FakeApi) -> Vec<Duration> {
    server.received().windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_succeeds() {
    let server =
        FakeApi::scripted(vec![Reply::json(429, ENVELOPE).header("retry-after", "1"), Reply::json(200, FILE_JSON)])
            .await;
    let started = Instant::now();
    get(&client(&server.url(), fast())).await.unwrap();
    assert_eq!(server.count(), 2);
    assert!(gaps(&server)[0] >= Duration::from_secs(1), "{:?}", gaps(&server));
    assert!(started.elapsed() < Duration::from_secs(3), "jitter adds at most half");
}

#[tokio::test]
async fn a_429_with_none_remaining_waits_the_window() {
    let server = FakeApi::scripted(vec![
        Reply::json(429, ENVELOPE).header("x-ratelimit-remaining", "0").header("x-ratelimit-window", "300"),
        Reply::json(200, FILE_JSON),
    ])
    .await;
    get(&client(&server.url(), fast())).await.unwrap();
    assert!(gaps(&server)[0] >= 300 * MS, "{:?}", gaps(&server));
}

#[tokio::test]
async fn repeated_429s_wait_the_floor_then_at_least_double() {
    let server =
        FakeApi::scripted(vec![Reply::json(429, ENVELOPE), Reply::json(429, ENVELOPE), Reply::json(200, FILE_JSON)])
            .await;
    get(&client(&server.url(), fast().rate_limit_floor(100 * MS))).await.unwrap();
    assert_eq!(server.count(), 3);
    let gaps = gaps(&server);
    assert!(gaps[0] >= 100 * MS && gaps[1] >= 200 * MS, "{gaps:?}");
}

#[tokio::test]
async fn a_post_that_gets_429_is_retried() {
    let server = FakeApi::scripted(vec![Reply::json(429, ENVELOPE), Reply::json(201, UPLOAD_JSON)]).await;
    post(&client(&server.url(), fast())).await.unwrap();
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn a_post_that_gets_500_is_not_retried() {
    let server = FakeApi::scripted(vec![Reply::json(500, ENVELOPE), Reply::json(201, UPLOAD_JSON)]).await;
    let error = post(&client(&server.url(), fast())).await.unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!((server.count(), error.attempts()), (1, Some(1)));
    assert!(error.is_retryable(), "retryable by the caller, who knows whether repeating is safe");
}

#[tokio::test]
async fn a_get_that_gets_5xx_is_retried() {
    let server = FakeApi::scripted(vec![
        Reply::json(500, ENVELOPE),
        Reply::text(503, "Service Unavailable"),
        Reply::json(200, FILE_JSON),
    ])
    .await;
    get(&client(&server.url(), fast())).await.unwrap();
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn a_408_is_retried_for_a_get_and_a_404_is_not() {
    let server = FakeApi::scripted(vec![Reply::empty(408), Reply::json(200, FILE_JSON)]).await;
    get(&client(&server.url(), fast())).await.unwrap();
    assert_eq!(server.count(), 2);

    let server = FakeApi::scripted(vec![Reply::json(404, ENVELOPE), Reply::json(200, FILE_JSON)]).await;
    assert!(get(&client(&server.url(), fast())).await.unwrap_err().is_not_found());
    assert_eq!(server.count(), 1);
}

#[tokio::test]
async fn the_server_error_floor_is_waited_in_full() {
    let server = FakeApi::scripted(vec![Reply::json(502, ENVELOPE), Reply::json(200, FILE_JSON)]).await;
    get(&client(&server.url(), fast().server_error_floor(250 * MS))).await.unwrap();
    assert!(gaps(&server)[0] >= 250 * MS, "{:?}", gaps(&server));
}

#[tokio::test]
async fn the_attempt_cap_is_respected_and_reported() {
    let server = FakeApi::scripted(vec![Reply::json(503, ENVELOPE)]).await;
    let error = get(&client(&server.url(), fast().max_attempts(3))).await.unwrap_err();
    assert_eq!((server.count(), error.attempts()), (3, Some(3)));
    assert!(error.to_string().contains("after 3 attempts"), "{error}");

    let server = FakeApi::scripted(vec![Reply::json(503, ENVELOPE)]).await;
    let error = get(&client(&server.url(), RetryPolicy::none())).await.unwrap_err();
    assert_eq!((server.count(), error.attempts()), (1, Some(1)));
}

#[tokio::test]
async fn the_time_cap_stops_retries() {
    let server = FakeApi::scripted(vec![Reply::json(503, ENVELOPE), Reply::json(200, FILE_JSON)]).await;
    let policy = fast().server_error_floor(300 * MS).max_elapsed(100 * MS);
    let error = get(&client(&server.url(), policy)).await.unwrap_err();
    assert_eq!((server.count(), error.attempts()), (1, Some(1)), "a 300 ms wait does not fit in 100 ms");
}

/// A URL nothing listens on.
async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_a_post() {
    let error = post(&client(&dead_url().await, fast().max_attempts(3))).await.unwrap_err();
    assert!(matches!(error, Error::Transport { attempts: Some(3), .. }), "{error:?}");
    assert!(error.is_retryable());
    let text = error.to_string();
    assert!(text.starts_with("could not reach Frame.io for `files_create_local_upload` ("), "{text}");
    assert!(text.contains("after 3 attempts"), "{text}");
}

#[tokio::test]
async fn a_dropped_connection_is_retried_only_for_safe_methods() {
    let server = FakeApi::scripted(vec![Reply::hang_up()]).await;
    let error = post(&client(&server.url(), fast().max_attempts(3))).await.unwrap_err();
    assert!(matches!(error, Error::Transport { attempts: Some(1), .. }), "{error:?}");
    assert_eq!(server.count(), 1, "the server may have acted on the POST");

    let server = FakeApi::scripted(vec![Reply::hang_up(), Reply::json(200, FILE_JSON)]).await;
    get(&client(&server.url(), fast().max_attempts(3))).await.unwrap();
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn timeouts_are_retried_only_for_safe_methods() {
    let slow = || Reply::json(200, FILE_JSON).after(Duration::from_secs(2));
    let server = FakeApi::scripted(vec![slow()]).await;
    let client = Client::builder()
        .base_url(server.url())
        .bearer_token(TOKEN)
        .timeout(100 * MS)
        .retry_policy(fast().max_attempts(2))
        .rate_limiting(RateLimiting::disabled())
        .build()
        .unwrap();
    let error = get(&client).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { attempts: Some(2), .. }), "{error:?}");
    assert_eq!(server.count(), 2);
    assert!(
        error.to_string().starts_with("Frame.io did not answer in time for `files_show` after 2 attempts"),
        "{error}"
    );

    let server = FakeApi::scripted(vec![slow()]).await;
    let client = Client::builder()
        .base_url(server.url())
        .bearer_token(TOKEN)
        .timeout(100 * MS)
        .retry_policy(fast())
        .build()
        .unwrap();
    let error = post(&client).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { attempts: Some(1), .. }), "{error:?}");
    assert_eq!(server.count(), 1);
}

/// Hands out `tok-<n>` on its n-th call.
#[derive(Default)]
struct Counting(AtomicUsize);

impl TokenProvider for Counting {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, AuthError>> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move { Ok(AccessToken::new(format!("tok-{n}"))) })
    }
}

#[tokio::test]
async fn each_retry_asks_the_provider_for_a_token() {
    let server = FakeApi::scripted(vec![Reply::json(503, ENVELOPE), Reply::json(200, FILE_JSON)]).await;
    let client = Client::builder()
        .base_url(server.url())
        .token_provider(Counting::default())
        .retry_policy(fast())
        .build()
        .unwrap();
    get(&client).await.unwrap();
    let sent: Vec<_> = server.received().iter().map(|r| r.header("authorization").unwrap().to_string()).collect();
    assert_eq!(sent, ["Bearer tok-1", "Bearer tok-2"]);
}
