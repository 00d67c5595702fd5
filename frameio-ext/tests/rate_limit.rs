//! The client-side limiter against a server that enforces the documented
//! limit of `files_create_local_upload` (5 calls per second, here scaled down
//! to 5 per 100 ms) with the documented leaky bucket: a burst of 200 calls
//! draws no 429 when paced, and many when not.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use frameio_ext::types::{FileCreateLocalUploadParams, FileCreateLocalUploadParamsData};
use frameio_ext::{Client, RateLimiting, RetryPolicy};
use futures::TryStreamExt;
use futures::future::join_all;
use support::fake_api::{FILE_JSON, FakeApi, Reply, TOKEN, UPLOAD_JSON};

/// The documented window of `files_create_local_upload` is 1 s; tests run ten times faster.
const SCALE: f64 = 0.1;
const LIMIT: usize = 5;
const WINDOW: Duration = Duration::from_millis(100);
const BURST: usize = 200;

/// The tests measure pacing in wall-clock time, so they take turns: a flood
/// from one test must not delay another's calls past the limiter's jitter
/// allowance on a two-core machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A server that enforces [`LIMIT`] calls per [`WINDOW`] the way Frame.io
/// documents it, a leaky bucket ("limits refresh gradually during their
/// allotted time window"): a bucket of [`LIMIT`] calls that drains
/// continuously; a call that would overflow it is answered 429. It announces
/// the limit in the documented headers; the counter says how many it rejected.
async fn enforcing_server() -> (FakeApi, Arc<AtomicUsize>) {
    let rejected = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&rejected);
    let bucket = Mutex::new((0.0_f64, Instant::now()));
    let server = FakeApi::start(move |request, _| {
        let mut bucket = bucket.lock().unwrap();
        let drained = request.at.saturating_duration_since(bucket.1).as_secs_f64() / WINDOW.as_secs_f64();
        let level = (bucket.0 - drained * LIMIT as f64).max(0.0);
        *bucket = (level, request.at.max(bucket.1));
        if level + 1.0 > LIMIT as f64 {
            counter.fetch_add(1, Ordering::SeqCst);
            return Reply::json(429, r#"{"errors": [{"detail": "Rate limit exceeded"}]}"#)
                .header("x-ratelimit-remaining", "0");
        }
        bucket.0 = level + 1.0;
        Reply::json(201, UPLOAD_JSON)
            .header("x-ratelimit-limit", &LIMIT.to_string())
            .header("x-ratelimit-remaining", &((LIMIT as f64 - bucket.0).floor() as usize).to_string())
            .header("x-ratelimit-window", &WINDOW.as_millis().to_string())
    })
    .await;
    (server, rejected)
}

/// Sends the burst at once and returns how many calls failed.
async fn burst(server: &FakeApi, rate_limiting: RateLimiting) -> usize {
    let client = Client::builder()
        .base_url(server.url())
        .bearer_token(TOKEN)
        .retry_policy(RetryPolicy::none())
        .rate_limiting(rate_limiting)
        .build()
        .unwrap();
    let calls = (0..BURST).map(|i| {
        let client = client.clone();
        async move {
            let body = FileCreateLocalUploadParams {
                data: FileCreateLocalUploadParamsData { file_size: 10, name: format!("clip-{i}.mp4") },
            };
            client.files_create_local_upload().account_id("a").folder_id("d").body(body).send().await
        }
    });
    join_all(calls).await.into_iter().filter(Result::is_err).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_burst_draws_no_429() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (server, rejected) = enforcing_server().await;
    let started = Instant::now();
    let failed = burst(&server, RateLimiting::new().window_scale(SCALE)).await;
    let elapsed = started.elapsed();
    assert_eq!(server.count(), BURST, "each call sent once");
    assert_eq!((failed, rejected.load(Ordering::SeqCst)), (0, 0), "no 429 in {elapsed:?}");
    // One call per 20 ms after a burst: about 40 windows, paced but not needlessly slow.
    let windows = (BURST / LIMIT - 1) as u32;
    assert!(elapsed >= WINDOW * windows, "{elapsed:?}");
    assert!(elapsed < WINDOW * windows * 2, "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaced_burst_is_rejected_by_the_same_server() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (server, rejected) = enforcing_server().await;
    let failed = burst(&server, RateLimiting::disabled()).await;
    assert!(failed > BURST / 2, "only {failed} of {BURST} calls were rejected");
    assert_eq!(failed, rejected.load(Ordering::SeqCst));
}

#[tokio::test]
async fn pacing_is_per_operation() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let server = FakeApi::scripted(vec![Reply::json(201, UPLOAD_JSON)]).await;
    let client = Client::builder()
        .base_url(server.url())
        .bearer_token(TOKEN)
        .rate_limiting(RateLimiting::new().window_scale(10.0))
        .build()
        .unwrap();
    // Four uploads fill the bucket (one call of slack kept; the window is now
    // 10 s, so one call per 2 s after that); a fifth would wait.
    for i in 0..LIMIT - 1 {
        let body = FileCreateLocalUploadParams {
            data: FileCreateLocalUploadParamsData { file_size: 10, name: format!("{i}.mp4") },
        };
        client.files_create_local_upload().account_id("a").folder_id("d").body(body).send().await.unwrap();
    }
    let sixth = FileCreateLocalUploadParams {
        data: FileCreateLocalUploadParamsData { file_size: 10, name: "6.mp4".to_string() },
    };
    let waiting = client.files_create_local_upload().account_id("a").folder_id("d").body(sixth).send();
    assert!(tokio::time::timeout(Duration::from_millis(300), waiting).await.is_err(), "the fifth upload waits");
    // Another operation has its own slots and goes at once (its answer does not decode; only timing matters).
    let started = Instant::now();
    let _ = client.files_show().account_id("a").file_id("f").send().await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.count(), LIMIT);
    assert_eq!(client.last_rate_limit(), None, "this server sends no rate-limit headers");
}

/// A folder listing served `pages` pages of one item each, every answer
/// announcing `limit` calls per `window` in the documented headers, enforced
/// as a leaky bucket; the counter says how many calls it rejected.
async fn announcing_listing(pages: usize, limit: usize, window: Duration) -> (FakeApi, Arc<AtomicUsize>) {
    let rejected = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&rejected);
    let bucket = Mutex::new((0.0_f64, Instant::now()));
    let server = FakeApi::start(move |request, _| {
        let mut bucket = bucket.lock().unwrap();
        let drained = request.at.saturating_duration_since(bucket.1).as_secs_f64() / window.as_secs_f64();
        let level = (bucket.0 - drained * limit as f64).max(0.0);
        *bucket = (level, request.at.max(bucket.1));
        let headers = |reply: Reply, remaining: f64| {
            reply
                .header("x-ratelimit-limit", &limit.to_string())
                .header("x-ratelimit-remaining", &(remaining.max(0.0).floor() as usize).to_string())
                .header("x-ratelimit-window", &window.as_millis().to_string())
        };
        if level + 1.0 > limit as f64 {
            counter.fetch_add(1, Ordering::SeqCst);
            return headers(Reply::json(429, r#"{"errors": [{"detail": "Rate limit exceeded"}]}"#), 0.0);
        }
        bucket.0 = level + 1.0;
        let page: usize = request
            .query
            .as_deref()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("after=p")))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        let next = if page + 1 < pages { format!(r#""/v4/accounts/a/folders/f/children?after=p{}""#, page + 1) } else { "null".into() };
        let body = format!(
            r#"{{"data": [{{"type": "folder", "id": "f{page}", "name": "F{page}", "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z", "parent_id": "f", "project_id": "p", "view_url": "https://x", "cover_file_id": null}}],
                "links": {{"next": {next}}}}}"#
        );
        headers(Reply::json(200, &body), limit as f64 - bucket.0)
    })
    .await;
    (server, rejected)
}

async fn list_all(server: &FakeApi, rate_limiting: RateLimiting) -> usize {
    let client = Client::builder()
        .base_url(server.url())
        .bearer_token(TOKEN)
        .retry_policy(RetryPolicy::none())
        .rate_limiting(rate_limiting)
        .build()
        .unwrap();
    let items: Vec<_> =
        client.folders_index().account_id("a").folder_id("f").stream().try_collect().await.expect("listed");
    items.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limit_the_server_announces_replaces_the_documented_one() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // `folders_index` documents 100 calls per minute: 200 pages would take a
    // minute. This server allows 100 per 500 ms and says so.
    let (server, rejected) = announcing_listing(200, 100, Duration::from_millis(500)).await;
    let started = Instant::now();
    assert_eq!(list_all(&server, RateLimiting::new()).await, 200);
    let elapsed = started.elapsed();
    assert_eq!(rejected.load(Ordering::SeqCst), 0, "no 429 in {elapsed:?}");
    // A burst of 99, then one call per 5 ms: about half a second, not a minute.
    assert!(elapsed >= Duration::from_millis(450), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lower_announced_limit_slows_the_listing_down_without_429s() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // 20 calls per 200 ms, lower than the table's burst of 99 would allow.
    let (server, rejected) = announcing_listing(60, 20, Duration::from_millis(200)).await;
    let started = Instant::now();
    assert_eq!(list_all(&server, RateLimiting::new()).await, 60);
    let elapsed = started.elapsed();
    assert_eq!(rejected.load(Ordering::SeqCst), 0, "no 429 in {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(350), "paced to the announced limit: {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_hold_no_pace() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // `files_show` documents 10 calls per second: a burst of 9, then one per
    // 100 ms. Twenty 503s are retried at once (a 1 ms floor); had each failed
    // attempt spent pace, the call would wait over a second.
    let server = FakeApi::start(|_, n| {
        if n < 20 { Reply::json(503, r#"{"errors": [{"detail": "busy"}]}"#) } else { Reply::json(200, FILE_JSON) }
    })
    .await;
    let client = Client::builder()
        .base_url(server.url())
        .bearer_token(TOKEN)
        .retry_policy(
            RetryPolicy::api()
                .max_attempts(30)
                .server_error_floor(Duration::from_millis(1))
                .backoff(frameio_ext::Backoff::new().initial(Duration::from_millis(1)).multiplier(1.0).jitter(0.0)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    client.files_show().account_id("a").file_id("f").await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(server.count(), 21);
    assert!(elapsed < Duration::from_millis(700), "{elapsed:?}");
}
