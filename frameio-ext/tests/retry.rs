//! Retries against the fake Frame.io: what is retried for which method, how
//! long the client waits (`Retry-After`, rate-limit headers, floors), and the
//! caps on attempts and time, reported in the final error.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use frameio_ext::auth::AuthError;
use frameio_ext::types::{FileCreateLocalUploadParams, FileCreateLocalUploadParamsData};
use frameio_ext::{AccessToken, Backoff, Client, Error, RateLimiting, RetryPolicy, TokenProvider};
use frameio_fake::{Fault, Target};
use futures::future::BoxFuture;
use support::{TOKEN, World};

const MS: Duration = Duration::from_millis(1);
const ENVELOPE: &str = r#"{"errors": [{"detail": "Something went wrong"}]}"#;
const SHOW: &str = "files_show";
const CREATE: &str = "files_create_local_upload";

/// The default policy with waits short enough for tests.
fn fast() -> RetryPolicy {
    RetryPolicy::new().backoff(Backoff::new().initial(10 * MS)).rate_limit_floor(20 * MS).server_error_floor(20 * MS)
}

/// A world with a file to show; its first answers to `operation` are `faults`, in order.
async fn scripted(operation: &str, faults: impl IntoIterator<Item = Fault>) -> (World, String) {
    let world = World::start().await;
    let file = world.file("a.mp4", 10);
    for fault in faults {
        world.fake.fault(Target::operation(operation), fault);
    }
    (world, file)
}

fn client(world: &World, policy: RetryPolicy) -> Client {
    world.client().retry_policy(policy).rate_limiting(RateLimiting::disabled()).build().unwrap()
}

/// A GET (safe to repeat).
async fn get(client: &Client, world: &World, file: &str) -> Result<(), Error> {
    client.files_show().account_id(&world.account).file_id(file).send().await.map(drop)
}

/// A POST (not safe to repeat).
async fn post(client: &Client, world: &World) -> Result<(), Error> {
    let body = FileCreateLocalUploadParams {
        data: FileCreateLocalUploadParamsData { file_size: 10, name: "a.mp4".to_string() },
    };
    client.files_create_local_upload().account_id(&world.account).folder_id(&world.folder).body(body).send().await?;
    Ok(())
}

/// How many requests reached `operation`.
fn count(world: &World, operation: &str) -> usize {
    world.fake.requests_to(operation).len()
}

/// The time between consecutive requests to `operation`.
fn gaps(world: &World, operation: &str) -> Vec<Duration> {
    world.fake.requests_to(operation).windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[tokio::test]
async fn a_429_waits_for_retry_after_then_succeeds() {
    let (world, file) = scripted(SHOW, [Fault::json(429, ENVELOPE).header("retry-after", "1")]).await;
    let started = Instant::now();
    get(&client(&world, fast()), &world, &file).await.unwrap();
    assert_eq!(count(&world, SHOW), 2);
    assert!(gaps(&world, SHOW)[0] >= Duration::from_secs(1), "{:?}", gaps(&world, SHOW));
    assert!(started.elapsed() < Duration::from_secs(3), "jitter adds at most half");
}

#[tokio::test]
async fn a_429_with_none_remaining_waits_the_window() {
    let limited = Fault::json(429, ENVELOPE).header("x-ratelimit-remaining", "0").header("x-ratelimit-window", "300");
    let (world, file) = scripted(SHOW, [limited]).await;
    get(&client(&world, fast()), &world, &file).await.unwrap();
    assert!(gaps(&world, SHOW)[0] >= 300 * MS, "{:?}", gaps(&world, SHOW));
}

#[tokio::test]
async fn repeated_429s_wait_the_floor_then_at_least_double() {
    let (world, file) = scripted(SHOW, [Fault::json(429, ENVELOPE).times(2)]).await;
    get(&client(&world, fast().rate_limit_floor(100 * MS)), &world, &file).await.unwrap();
    assert_eq!(count(&world, SHOW), 3);
    let gaps = gaps(&world, SHOW);
    assert!(gaps[0] >= 100 * MS && gaps[1] >= 200 * MS, "{gaps:?}");
}

#[tokio::test]
async fn a_post_that_gets_429_is_retried() {
    let (world, _) = scripted(CREATE, [Fault::json(429, ENVELOPE)]).await;
    post(&client(&world, fast()), &world).await.unwrap();
    assert_eq!(count(&world, CREATE), 2);
    assert_eq!(world.fake.requests_to(CREATE)[1].status(), Some(201), "the fake created the file");
}

#[tokio::test]
async fn a_post_that_gets_500_is_not_retried() {
    let (world, _) = scripted(CREATE, [Fault::json(500, ENVELOPE)]).await;
    let error = post(&client(&world, fast()), &world).await.unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!((count(&world, CREATE), error.attempts()), (1, Some(1)));
    assert!(error.is_retryable(), "retryable by the caller, who knows whether repeating is safe");
}

#[tokio::test]
async fn a_get_that_gets_5xx_is_retried() {
    let unavailable = Fault::status(503).body("text/plain", "Service Unavailable");
    let (world, file) = scripted(SHOW, [Fault::json(500, ENVELOPE), unavailable]).await;
    get(&client(&world, fast()), &world, &file).await.unwrap();
    assert_eq!(count(&world, SHOW), 3);
}

#[tokio::test]
async fn a_408_is_retried_for_a_get_and_a_404_is_not() {
    let (world, file) = scripted(SHOW, [Fault::empty(408)]).await;
    get(&client(&world, fast()), &world, &file).await.unwrap();
    assert_eq!(count(&world, SHOW), 2);

    // The fake's own 404, for a file it does not have.
    let world = World::start().await;
    assert!(get(&client(&world, fast()), &world, "no-such-file").await.unwrap_err().is_not_found());
    assert_eq!(count(&world, SHOW), 1);
}

#[tokio::test]
async fn the_server_error_floor_is_waited_in_full() {
    let (world, file) = scripted(SHOW, [Fault::json(502, ENVELOPE)]).await;
    get(&client(&world, fast().server_error_floor(250 * MS)), &world, &file).await.unwrap();
    assert!(gaps(&world, SHOW)[0] >= 250 * MS, "{:?}", gaps(&world, SHOW));
}

#[tokio::test]
async fn the_attempt_cap_is_respected_and_reported() {
    let (world, file) = scripted(SHOW, [Fault::json(503, ENVELOPE).times(10)]).await;
    let error = get(&client(&world, fast().max_attempts(3)), &world, &file).await.unwrap_err();
    assert_eq!((count(&world, SHOW), error.attempts()), (3, Some(3)));
    assert!(error.to_string().contains("after 3 attempts"), "{error}");

    let (world, file) = scripted(SHOW, [Fault::json(503, ENVELOPE).times(10)]).await;
    let error = get(&client(&world, RetryPolicy::none()), &world, &file).await.unwrap_err();
    assert_eq!((count(&world, SHOW), error.attempts()), (1, Some(1)));
}

#[tokio::test]
async fn the_time_cap_stops_retries() {
    let (world, file) = scripted(SHOW, [Fault::json(503, ENVELOPE)]).await;
    let policy = fast().server_error_floor(300 * MS).max_elapsed(100 * MS);
    let error = get(&client(&world, policy), &world, &file).await.unwrap_err();
    assert_eq!((count(&world, SHOW), error.attempts()), (1, Some(1)), "a 300 ms wait does not fit in 100 ms");
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
    let world = World::start().await;
    let dead = Client::builder().base_url(dead_url().await).bearer_token(TOKEN).retry_policy(fast().max_attempts(3));
    let error = post(&dead.rate_limiting(RateLimiting::disabled()).build().unwrap(), &world).await.unwrap_err();
    assert!(matches!(error, Error::Transport { attempts: Some(3), .. }), "{error:?}");
    assert!(error.is_retryable());
    let text = error.to_string();
    assert!(text.starts_with("could not reach Frame.io for `files_create_local_upload` ("), "{text}");
    assert!(text.contains("after 3 attempts"), "{text}");
}

#[tokio::test]
async fn a_dropped_connection_is_retried_only_for_safe_methods() {
    let (world, _) = scripted(CREATE, [Fault::hang_up().times(3)]).await;
    let error = post(&client(&world, fast().max_attempts(3)), &world).await.unwrap_err();
    assert!(matches!(error, Error::Transport { attempts: Some(1), .. }), "{error:?}");
    assert_eq!(count(&world, CREATE), 1, "the server may have acted on the POST");

    let (world, file) = scripted(SHOW, [Fault::hang_up()]).await;
    get(&client(&world, fast().max_attempts(3)), &world, &file).await.unwrap();
    assert_eq!(count(&world, SHOW), 2);
    assert_eq!(world.fake.requests_to(SHOW).iter().map(|r| r.status()).collect::<Vec<_>>(), [None, Some(200)]);
}

#[tokio::test]
async fn timeouts_are_retried_only_for_safe_methods() {
    let slow = || Fault::delay(Duration::from_secs(2)).times(2);
    let (world, file) = scripted(SHOW, [slow()]).await;
    let client = world
        .client()
        .timeout(100 * MS)
        .retry_policy(fast().max_attempts(2))
        .rate_limiting(RateLimiting::disabled())
        .build()
        .unwrap();
    let error = get(&client, &world, &file).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { attempts: Some(2), .. }), "{error:?}");
    assert_eq!(count(&world, SHOW), 2);
    assert!(
        error.to_string().starts_with("Frame.io did not answer in time for `files_show` after 2 attempts"),
        "{error}"
    );

    let (world, _) = scripted(CREATE, [slow()]).await;
    let client = world.client().timeout(100 * MS).retry_policy(fast()).build().unwrap();
    let error = post(&client, &world).await.unwrap_err();
    assert!(matches!(error, Error::Timeout { attempts: Some(1), .. }), "{error:?}");
    assert_eq!(count(&world, CREATE), 1);
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
    let (world, file) = scripted(SHOW, [Fault::json(503, ENVELOPE)]).await;
    world.fake.accept_token("tok-2");
    let client = world.client().token_provider(Counting::default()).retry_policy(fast()).build().unwrap();
    get(&client, &world, &file).await.unwrap();
    assert_eq!(world.fake.requests_to(SHOW)[1].status(), Some(200), "the fake took the second token");
    let sent: Vec<_> = world.fake.requests().iter().map(|r| r.header("authorization").unwrap().to_string()).collect();
    assert_eq!(sent, ["Bearer tok-1", "Bearer tok-2"]);
}

/// Issue 14's storm, on the documented schedule (default policy, paused
/// clock): the second page of a listing is answered 503 three times in a
/// row; the client waits 30 s, 60 s and 120 s and the listing completes.
#[tokio::test(start_paused = true)]
async fn three_503s_on_one_page_end_in_a_complete_listing() {
    use futures::TryStreamExt;
    let world = World::start().await;
    for i in 0..5 {
        world.file(&format!("clip-{i}.mp4"), 1);
    }
    let list = "folders_index";
    world.fake.fault(Target::operation(list), Fault::pass());
    world.fake.fault(Target::operation(list), Fault::status(503).times(3));
    let client = world.client().build().unwrap();
    let names: Vec<_> = client
        .folders_index()
        .account_id(&world.account)
        .folder_id(&world.folder)
        .page_size(2)
        .stream()
        .map_ok(|item| item.name().map(str::to_owned))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(names.len(), 5, "{names:?}");
    let requests = world.fake.requests_to(list);
    assert_eq!(requests.len(), 6, "three pages, the second asked four times");
    let waits: Vec<u64> = gaps(&world, list)[..4].iter().map(Duration::as_secs).collect();
    // The first gap is the prefetch (no wait); then the documented floor, doubling.
    assert!(waits[1] >= 30 && waits[2] >= 60 && waits[3] >= 120, "{waits:?}");
}
