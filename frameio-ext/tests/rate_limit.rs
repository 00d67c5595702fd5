//! The client-side limiter against the fake Frame.io enforcing the documented
//! limit of `files_create_local_upload` (5 calls per second, here scaled down
//! to 5 per 100 ms) with the documented leaky bucket: a burst of 200 calls
//! draws no 429 when paced, and many when not.

mod support;

use std::time::{Duration, Instant};

use frameio_ext::types::{FileCreateLocalUploadParams, FileCreateLocalUploadParamsData};
use frameio_ext::{RateLimiting, RetryPolicy};
use frameio_fake::{Fake, Fault, RateLimits, Target};
use futures::TryStreamExt;
use futures::future::join_all;
use support::World;

/// The documented window of `files_create_local_upload` is 1 s; tests run ten times faster.
const SCALE: f64 = 0.1;
const LIMIT: usize = 5;
const WINDOW: Duration = Duration::from_millis(100);
const BURST: usize = 200;
const CREATE: &str = "files_create_local_upload";

/// The tests measure pacing in wall-clock time, so they take turns: a flood
/// from one test must not delay another's calls past the limiter's jitter
/// allowance on a two-core machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A fake that enforces [`LIMIT`] calls per [`WINDOW`] of `files_create_local_upload` the
/// way Frame.io documents it, a leaky bucket ("limits refresh gradually during their
/// allotted time window"): a bucket of [`LIMIT`] calls that drains continuously; a call
/// that would overflow it is answered 429. It announces the limit in the documented headers.
async fn enforcing_server() -> World {
    let limits = RateLimits::documented().enforced().limit(CREATE, LIMIT as u32, WINDOW);
    World::with(Fake::builder().rate_limits(limits)).await
}

/// How many requests to `operation` the fake answered 429.
fn rejected(world: &World, operation: &str) -> usize {
    world.fake.requests_to(operation).iter().filter(|r| r.status() == Some(429)).count()
}

/// Sends the burst at once and returns how many calls failed.
async fn burst(world: &World, rate_limiting: RateLimiting) -> usize {
    let client = world.client().retry_policy(RetryPolicy::none()).rate_limiting(rate_limiting).build().unwrap();
    let calls = (0..BURST).map(|i| {
        let client = client.clone();
        async move {
            let body = FileCreateLocalUploadParams {
                data: FileCreateLocalUploadParamsData { file_size: 10, name: format!("clip-{i}.mp4") },
            };
            client
                .files_create_local_upload()
                .account_id(&world.account)
                .folder_id(&world.folder)
                .body(body)
                .send()
                .await
        }
    });
    join_all(calls).await.into_iter().filter(Result::is_err).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_burst_draws_no_429() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let world = enforcing_server().await;
    let started = Instant::now();
    let failed = burst(&world, RateLimiting::new().window_scale(SCALE)).await;
    let elapsed = started.elapsed();
    assert_eq!(world.fake.requests_to(CREATE).len(), BURST, "each call sent once");
    assert_eq!((failed, rejected(&world, CREATE)), (0, 0), "no 429 in {elapsed:?}");
    // One call per 20 ms after a burst: about 40 windows, paced but not needlessly slow.
    let windows = (BURST / LIMIT - 1) as u32;
    assert!(elapsed >= WINDOW * windows, "{elapsed:?}");
    assert!(elapsed < WINDOW * windows * 2, "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaced_burst_is_rejected_by_the_same_server() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let world = enforcing_server().await;
    let failed = burst(&world, RateLimiting::disabled()).await;
    assert!(failed > BURST / 2, "only {failed} of {BURST} calls were rejected");
    assert_eq!(failed, rejected(&world, CREATE));
}

#[tokio::test]
async fn pacing_is_per_operation() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // No headers: the client goes by the documented table alone.
    let world = World::with(Fake::builder().rate_limits(RateLimits::documented().unannounced())).await;
    let file = world.file("a.mp4", 10);
    let client = world.client().rate_limiting(RateLimiting::new().window_scale(10.0)).build().unwrap();
    // Four uploads fill the bucket (one call of slack kept; the window is now
    // 10 s, so one call per 2 s after that); a fifth would wait.
    for i in 0..LIMIT - 1 {
        let body = FileCreateLocalUploadParams {
            data: FileCreateLocalUploadParamsData { file_size: 10, name: format!("{i}.mp4") },
        };
        client
            .files_create_local_upload()
            .account_id(&world.account)
            .folder_id(&world.folder)
            .body(body)
            .send()
            .await
            .unwrap();
    }
    let sixth = FileCreateLocalUploadParams {
        data: FileCreateLocalUploadParamsData { file_size: 10, name: "6.mp4".to_string() },
    };
    let waiting =
        client.files_create_local_upload().account_id(&world.account).folder_id(&world.folder).body(sixth).send();
    assert!(tokio::time::timeout(Duration::from_millis(300), waiting).await.is_err(), "the fifth upload waits");
    // Another operation has its own slots and goes at once.
    let started = Instant::now();
    client.files_show().account_id(&world.account).file_id(&file).send().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(world.fake.requests().len(), LIMIT);
    assert_eq!(client.last_rate_limit(), None, "this server sends no rate-limit headers");
}

/// A folder of `pages` files, listed one per page by a fake that announces `limit`
/// calls of `folders_index` per `window` in the documented headers and enforces them
/// as a leaky bucket.
async fn announcing_listing(pages: usize, limit: u32, window: Duration) -> World {
    let limits = RateLimits::documented().enforced().limit(LIST, limit, window);
    let world = World::with(Fake::builder().rate_limits(limits)).await;
    for page in 0..pages {
        world.file(&format!("F{page}.mov"), 1);
    }
    world
}

const LIST: &str = "folders_index";

async fn list_all(world: &World, rate_limiting: RateLimiting) -> usize {
    let client = world.client().retry_policy(RetryPolicy::none()).rate_limiting(rate_limiting).build().unwrap();
    let listing = client.folders_index().account_id(&world.account).folder_id(&world.folder).page_size(1);
    let items: Vec<_> = listing.stream().try_collect().await.expect("listed");
    items.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limit_the_server_announces_replaces_the_documented_one() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // `folders_index` documents 100 calls per minute: 200 pages would take a
    // minute. This server allows 100 per 500 ms and says so.
    let world = announcing_listing(200, 100, Duration::from_millis(500)).await;
    let started = Instant::now();
    assert_eq!(list_all(&world, RateLimiting::new()).await, 200);
    let elapsed = started.elapsed();
    assert_eq!(world.fake.requests_to(LIST).len(), 200, "one page per call");
    assert_eq!(rejected(&world, LIST), 0, "no 429 in {elapsed:?}");
    // A burst of 99, then one call per 5 ms: about half a second, not a minute.
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_announced_limit_slows_the_listing_down_without_429s() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // 20 calls per 200 ms, lower than the table's burst of 99 would allow.
    let world = announcing_listing(60, 20, Duration::from_millis(200)).await;
    let started = Instant::now();
    assert_eq!(list_all(&world, RateLimiting::new()).await, 60);
    let elapsed = started.elapsed();
    assert_eq!(rejected(&world, LIST), 0, "no 429 in {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(350), "paced to the announced limit: {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_hold_no_pace() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // `files_show` documents 10 calls per second: a burst of 9, then one per
    // 100 ms. Twenty 503s are retried at once (a 1 ms floor); had each failed
    // attempt spent pace, the call would wait over a second.
    let world = World::start().await;
    let file = world.file("a.mp4", 10);
    world
        .fake
        .fault(Target::operation("files_show"), Fault::json(503, r#"{"errors": [{"detail": "busy"}]}"#).times(20));
    let client = world
        .client()
        .retry_policy(
            RetryPolicy::api()
                .max_attempts(30)
                .server_error_floor(Duration::from_millis(1))
                .backoff(frameio_ext::Backoff::new().initial(Duration::from_millis(1)).multiplier(1.0).jitter(0.0)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    client.files_show().account_id(&world.account).file_id(&file).await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(world.fake.requests_to("files_show").len(), 21);
    assert!(elapsed < Duration::from_millis(700), "{elapsed:?}");
}
