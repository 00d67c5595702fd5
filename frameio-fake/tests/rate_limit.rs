//! Rate-limit headers on every response, and the enforced leaky bucket
//! (429 with `Retry-After`), on a paused clock so the refill is exact.

mod support;

use std::time::Duration;

use frameio_fake::{Fake, RateLimits};
use support::{envelope, get};

fn header(response: &reqwest::Response, name: &str) -> String {
    response.headers()[name].to_str().unwrap().to_string()
}

#[tokio::test]
async fn every_response_announces_the_documented_limit_of_its_operation() {
    let fake = Fake::start().await.unwrap();
    let documented = frameio_gen::operation::find(frameio_gen::v4::operations::OPERATIONS, "users_show")
        .and_then(|op| op.rate_limit)
        .unwrap();
    let first = get(&fake, "/v4/me").await;
    assert_eq!(header(&first, "x-ratelimit-limit"), documented.calls.to_string());
    assert_eq!(header(&first, "x-ratelimit-window"), documented.window.as_millis().to_string());
    let remaining: u32 = header(&first, "x-ratelimit-remaining").parse().unwrap();
    assert_eq!(remaining, documented.calls - 1);
    let second = get(&fake, "/v4/me").await;
    let after: u32 = header(&second, "x-ratelimit-remaining").parse().unwrap();
    assert!(after <= remaining, "{after} after {remaining}");
    // A 404 of a known operation carries them too.
    let missing = get(&fake, "/v4/accounts/nope/workspaces").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().contains_key("x-ratelimit-limit"));
}

#[tokio::test(start_paused = true)]
async fn an_enforced_bucket_answers_429_with_retry_after_and_refills_over_the_window() {
    let limits = RateLimits::documented().enforced().limit("users_show", 3, Duration::from_secs(3));
    let fake = Fake::builder().rate_limits(limits).start().await.unwrap();
    for expected in ["2", "1", "0"] {
        let response = get(&fake, "/v4/me").await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "x-ratelimit-remaining"), expected);
        assert_eq!(header(&response, "x-ratelimit-limit"), "3");
        assert_eq!(header(&response, "x-ratelimit-window"), "3000");
    }
    let refused = get(&fake, "/v4/me").await;
    assert_eq!(refused.status(), 429);
    assert_eq!(header(&refused, "retry-after"), "1", "one call drains in 1 s");
    assert_eq!(header(&refused, "x-ratelimit-remaining"), "0");
    assert_eq!(envelope(refused).await.errors[0].title.as_deref(), Some("Too Many Requests"));
    // Other operations have buckets of their own.
    assert_eq!(get(&fake, "/v4/accounts").await.status(), 200);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(get(&fake, "/v4/me").await.status(), 200, "refilled by one call");
    assert_eq!(get(&fake, "/v4/me").await.status(), 429);
    tokio::time::sleep(Duration::from_secs(3)).await;
    for _ in 0..3 {
        assert_eq!(get(&fake, "/v4/me").await.status(), 200, "the whole bucket drained");
    }
}

#[tokio::test]
async fn headers_can_announce_other_limits_than_the_table() {
    let limits = RateLimits::documented().announce("users_show", 7, Duration::from_millis(700));
    let fake = Fake::builder().rate_limits(limits).start().await.unwrap();
    let response = get(&fake, "/v4/me").await;
    assert_eq!(
        (header(&response, "x-ratelimit-limit"), header(&response, "x-ratelimit-window")),
        ("7".into(), "700".into())
    );
    fake.set_rate_limits(RateLimits::documented().limit("users_show", 2, Duration::from_secs(60)));
    let response = get(&fake, "/v4/me").await;
    assert_eq!(header(&response, "x-ratelimit-limit"), "2");
    assert_eq!(header(&response, "x-ratelimit-remaining"), "1");
}

#[tokio::test]
async fn an_unenforced_bucket_never_refuses() {
    let limits = RateLimits::documented().limit("users_show", 1, Duration::from_secs(60));
    let fake = Fake::builder().rate_limits(limits).start().await.unwrap();
    for _ in 0..5 {
        let response = get(&fake, "/v4/me").await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(header(&get(&fake, "/v4/me").await, "x-ratelimit-remaining"), "0");
}
