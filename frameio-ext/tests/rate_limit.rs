//! The client-side limiter against a server that enforces the documented
//! limit of `files_create_local_upload` (5 calls per second, here scaled down
//! to 5 per 100 ms): a burst of 200 calls draws no 429 when paced, and many
//! when not.

#[path = "support/fake_api.rs"]
mod fake_api;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fake_api::{FakeApi, Reply, TOKEN, UPLOAD_JSON};
use frameio_ext::{Client, RateLimiting, RetryPolicy};
use frameio_gen::v4::types::{FileCreateLocalUploadParams, FileCreateLocalUploadParamsData};
use futures::future::join_all;

/// The documented window of `files_create_local_upload` is 1 s; tests run ten times faster.
const SCALE: f64 = 0.1;
const LIMIT: usize = 5;
const WINDOW: Duration = Duration::from_millis(100);
const BURST: usize = 200;

/// A server that accepts at most [`LIMIT`] calls in any [`WINDOW`] (the
/// strictest reading of "N calls per window") and answers the rest 429; the
/// counter says how many it rejected.
async fn enforcing_server() -> (FakeApi, Arc<AtomicUsize>) {
    let rejected = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&rejected);
    let accepted = Mutex::new(VecDeque::<Instant>::new());
    let server = FakeApi::start(move |request, _| {
        let mut accepted = accepted.lock().unwrap();
        while accepted.front().is_some_and(|t| request.at.duration_since(*t) >= WINDOW) {
            accepted.pop_front();
        }
        if accepted.len() >= LIMIT {
            counter.fetch_add(1, Ordering::SeqCst);
            return Reply::json(429, r#"{"errors": [{"detail": "Rate limit exceeded"}]}"#)
                .header("x-ratelimit-remaining", "0");
        }
        accepted.push_back(request.at);
        Reply::json(201, UPLOAD_JSON)
            .header("x-ratelimit-limit", &LIMIT.to_string())
            .header("x-ratelimit-remaining", &(LIMIT - accepted.len()).to_string())
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
    let (server, rejected) = enforcing_server().await;
    let started = Instant::now();
    let failed = burst(&server, RateLimiting::new().window_scale(SCALE)).await;
    let elapsed = started.elapsed();
    assert_eq!(server.count(), BURST, "each call sent once");
    assert_eq!((failed, rejected.load(Ordering::SeqCst)), (0, 0), "no 429 in {elapsed:?}");
    // 40 rounds of a window plus the (local) latency: paced, but not needlessly slow.
    let windows = (BURST / LIMIT - 1) as u32;
    assert!(elapsed >= WINDOW * windows, "{elapsed:?}");
    assert!(elapsed < WINDOW * windows * 2, "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpaced_burst_is_rejected_by_the_same_server() {
    let (server, rejected) = enforcing_server().await;
    let failed = burst(&server, RateLimiting::disabled()).await;
    assert!(failed > BURST / 2, "only {failed} of {BURST} calls were rejected");
    assert_eq!(failed, rejected.load(Ordering::SeqCst));
}

#[tokio::test]
async fn pacing_is_per_operation() {
    let server = FakeApi::scripted(vec![Reply::json(201, UPLOAD_JSON)]).await;
    let client = Client::builder()
        .base_url(server.url())
        .bearer_token(TOKEN)
        .rate_limiting(RateLimiting::new().window_scale(10.0))
        .build()
        .unwrap();
    // Five uploads take every slot for the (now 10 s) window; a sixth would wait.
    for i in 0..LIMIT {
        let body = FileCreateLocalUploadParams {
            data: FileCreateLocalUploadParamsData { file_size: 10, name: format!("{i}.mp4") },
        };
        client.files_create_local_upload().account_id("a").folder_id("d").body(body).send().await.unwrap();
    }
    let sixth = FileCreateLocalUploadParams {
        data: FileCreateLocalUploadParamsData { file_size: 10, name: "6.mp4".to_string() },
    };
    let waiting = client.files_create_local_upload().account_id("a").folder_id("d").body(sixth).send();
    assert!(tokio::time::timeout(Duration::from_millis(300), waiting).await.is_err(), "the sixth upload waits");
    // Another operation has its own slots and goes at once (its answer does not decode; only timing matters).
    let started = Instant::now();
    let _ = client.files_show().account_id("a").file_id("f").send().await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.count(), LIMIT + 1);
    assert_eq!(client.last_rate_limit(), None, "this server sends no rate-limit headers");
}
