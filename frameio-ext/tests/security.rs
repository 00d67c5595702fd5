//! Issue 18's findings, one section each, against real servers on 127.0.0.1
//! (the fake Frame.io, httpmock, or a few lines of `TcpListener`): what a
//! hostile or broken server sends is bounded, redacted, or refused with a
//! typed error. SECURITY.md lists which test proves which rule; findings
//! proved elsewhere (pagination cycles, files that change during an upload,
//! webhook headers and replays, the token file) are named there too.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use frameio_ext::auth::{AuthError, MAX_RATE_LIMITED_WAIT};
use frameio_ext::c2c::device_auth::{MAX_CODE_LIFETIME, MAX_POLL_INTERVAL};
use frameio_ext::c2c::{C2cClient, DeviceAuth, DeviceCredentials, DeviceTokenProvider};
use frameio_ext::ims::ImsServerToServer;
use frameio_ext::rate_limit::MAX_HINT;
use frameio_ext::transfer::{FileUploadError, WaitOptions};
use frameio_ext::{AccessToken, Backoff, Client, Error, RateLimiting, RetryPolicy, TokenProvider, TokenSet};
use frameio_fake::{Fake, Fault, RecordedRequest, Target};
use httpmock::prelude::*;
use support::{TOKEN, World, c2c_builder, fixture};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::time::Instant;

const SECRET: &str = "cs-5ecre7-model";
const SERIAL: &str = "SN-0042";
const CODE_OP: &str = "authentication_device_request_code";
const TOKEN_OP: &str = "authentication_auth_device_token";
const IMS_TOKEN: &str = "/ims/token/v3";

fn device() -> DeviceCredentials {
    DeviceCredentials::new(SERIAL, SECRET)
}

/// A fake C2C API that knows the device model's secret.
async fn c2c_fake() -> Fake {
    Fake::builder().c2c_client_secret(SECRET).start().await.unwrap()
}

/// The gaps between consecutive requests, from `started`.
fn gaps(requests: &[RecordedRequest], started: Instant) -> Vec<Duration> {
    let times: Vec<Instant> = std::iter::once(started).chain(requests.iter().map(|r| r.at)).collect();
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

/// A wall clock the test moves by hand (IMS expiry and rate-limit decisions).
#[derive(Clone)]
struct FakeClock(Arc<Mutex<SystemTime>>);

impl FakeClock {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000))))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    fn source(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let clock = self.clone();
        move || *clock.0.lock().unwrap()
    }
}

/// A policy that would obey any hint, however long, and never give up in
/// time: only the crate's own cap ([`MAX_HINT`]) bounds the wait.
fn patient() -> RetryPolicy {
    RetryPolicy::api().max_hint(Duration::MAX).max_elapsed(Duration::MAX).backoff(Backoff::new().jitter(0.0))
}

fn ims(base_url: &str, clock: &FakeClock) -> ImsServerToServer {
    ImsServerToServer::builder()
        .client_id("ims-client")
        .client_secret("ims-5ecre7")
        .ims_base_url(base_url)
        .clock(clock.source())
        .build()
        .unwrap()
}

// ---------------------------------------------------------------------------
// 1. Server-given durations are clamped, and arithmetic on them saturates.

#[tokio::test(start_paused = true)]
async fn a_pairing_code_that_claims_to_live_1e19_seconds_is_polled_within_the_clamps_and_expires() {
    let fake = c2c_fake().await;
    let answer =
        r#"{"device_code": "dc-1", "user_code": "573131", "name": "Cam", "expires_in": 1e19, "interval": 1e19}"#;
    fake.fault(Target::operation(CODE_OP), Fault::json(200, answer));
    let pending = Fault::json(400, fixture("auth_token_400_authorization_pending")).times(1000);
    fake.fault(Target::operation(TOKEN_OP), pending);
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), device());

    let code = auth.request_code().await.unwrap();
    assert_eq!((code.expires_in(), code.interval()), (MAX_CODE_LIFETIME, MAX_POLL_INTERVAL));
    let started = Instant::now();
    let outcome = auth.wait(&code).await.unwrap();

    assert!(outcome.is_none(), "the code expired after its clamped lifetime");
    let polls = fake.requests_to(TOKEN_OP);
    let expected = (MAX_CODE_LIFETIME.as_secs() / MAX_POLL_INTERVAL.as_secs() - 1) as usize;
    assert_eq!(polls.len(), expected, "one poll a minute for the hour, none after");
    assert!(gaps(&polls, started).iter().all(|gap| *gap == MAX_POLL_INTERVAL));
}

#[tokio::test(start_paused = true)]
async fn negative_or_overflowing_pairing_durations_fall_back_to_safe_values() {
    let fake = c2c_fake().await;
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), device());
    for (expires_in, interval) in [("-5", "-1"), ("1e300", "0"), ("18446744073709551616", "1e-300")] {
        let body = format!(
            r#"{{"device_code": "dc-1", "user_code": "573131", "name": "Cam", "expires_in": {expires_in}, "interval": {interval}}}"#
        );
        fake.fault(Target::operation(CODE_OP), Fault::json(200, body));
        let code = auth.request_code().await.unwrap();
        assert!(code.expires_in() <= MAX_CODE_LIFETIME, "{expires_in}: {:?}", code.expires_in());
        assert!(!code.interval().is_zero() && code.interval() <= MAX_POLL_INTERVAL, "{interval}: {code:?}");
        assert!(code.remaining() <= code.expires_in());
    }
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_of_a_trillion_seconds_waits_at_most_the_hint_cap() {
    let world = World::start().await;
    let file = world.file("a.mov", 10);
    world.fake.fault(Target::operation("files_show"), Fault::status(429).header("retry-after", "1000000000000"));
    let client = world.client().retry_policy(patient()).rate_limiting(RateLimiting::disabled()).build().unwrap();

    let started = Instant::now();
    client.files_show().account_id(&world.account).file_id(&file).send().await.unwrap();

    let [first, retry] = &gaps(&world.fake.requests_to("files_show"), started)[..] else { panic!("two attempts") };
    assert!(first.is_zero());
    assert_eq!(*retry, MAX_HINT, "a trillion seconds, read as the cap");
    // The error's own reading is capped too, whatever the policy.
    world.fake.fault(Target::operation("files_show"), Fault::status(429).header("retry-after", "1000000000000"));
    let once = world.client().retry_policy(RetryPolicy::none()).build().unwrap();
    let error = once.files_show().account_id(&world.account).file_id(&file).send().await.unwrap_err();
    assert_eq!(error.retry_after(), Some(MAX_HINT));
}

#[tokio::test(start_paused = true)]
async fn an_x_ratelimit_window_of_u64_max_milliseconds_paces_at_most_an_hour_apart() {
    let world = World::start().await;
    let file = world.file("a.mov", 10);
    let exhausted = || {
        Fault::status(429)
            .header("x-ratelimit-limit", "1")
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-window", &u64::MAX.to_string())
    };
    world.fake.fault(Target::operation("files_show"), exhausted());
    let client = world.client().retry_policy(patient()).build().unwrap();

    let started = Instant::now();
    for _ in 0..3 {
        client.files_show().account_id(&world.account).file_id(&file).send().await.unwrap();
    }

    let waits = gaps(&world.fake.requests_to("files_show"), started);
    assert_eq!(waits.len(), 4, "one 429, then three answers");
    assert!(waits.iter().all(|wait| *wait <= MAX_HINT), "{waits:?}");
    world.fake.fault(Target::operation("files_show"), exhausted());
    let once = world.client().retry_policy(RetryPolicy::none()).build().unwrap();
    let error = once.files_show().account_id(&world.account).file_id(&file).send().await.unwrap_err();
    assert_eq!(error.rate_limit().and_then(|status| status.window()), Some(MAX_HINT));
}

#[tokio::test(start_paused = true)]
async fn an_upload_wait_whose_interval_cannot_double_saturates_and_times_out() {
    let world = World::start().await;
    let never = world.folder_seed().upload("never.mov", &[5]);
    let client = world.client().rate_limiting(RateLimiting::disabled()).build().unwrap();
    // Doubling this interval overflows `Duration`; the timeout leaves room for two polls.
    let interval = Duration::MAX / 2 + Duration::from_secs(1);
    let wait = WaitOptions::new()
        .first_interval(interval)
        .max_interval(Duration::MAX)
        .timeout(interval + Duration::from_secs(45 * 365 * 24 * 3600));

    let error = client.uploads().wait_until_uploaded(&world.account, &never.id, wait).await.unwrap_err();

    assert!(matches!(error, Error::FileUpload(FileUploadError::NotReady { .. })), "{error:?}");
    assert!(world.fake.requests_to("files_show_file_upload_status").len() >= 2);
}

#[tokio::test(start_paused = true)]
async fn a_zero_poll_interval_is_raised_to_the_minimum_not_a_busy_loop() {
    let world = World::start().await;
    let never = world.folder_seed().upload("never.mov", &[5]);
    let client = world.client().rate_limiting(RateLimiting::disabled()).build().unwrap();
    let timeout = Duration::from_secs(1);
    let wait = WaitOptions::new().first_interval(Duration::ZERO).max_interval(Duration::ZERO).timeout(timeout);

    let error = client.uploads().wait_until_uploaded(&world.account, &never.id, wait).await.unwrap_err();

    assert!(matches!(error, Error::FileUpload(FileUploadError::NotReady { .. })), "{error:?}");
    let polls = world.fake.requests_to("files_show_file_upload_status").len();
    let most = 1 + (timeout.as_millis() / WaitOptions::MIN_INTERVAL.as_millis()) as usize;
    assert!((2..=most).contains(&polls), "{polls} polls in {timeout:?}");
}

// ---------------------------------------------------------------------------
// 2. Debug and Display never print secrets.

#[tokio::test]
async fn an_answer_that_does_not_decode_keeps_no_token_secret_code_or_signature() {
    let world = World::start().await;
    let file = world.file("a.mov", 10);
    let secrets = ["eyJ-at-5ecre7", "rt-5ecre7", "cs-5ecre7", "dc-5ecre7", "sig-5ecre7", "cred-5ecre7"];
    let body = format!(
        r#"{{"access_token": "{}", "refresh_token": "{}", "client_secret": "{}", "device_code": "{}",
            "upload_urls": [{{"url": "https://s3.example/p?X-Amz-Signature={}&X-Amz-Credential={}"}}],
            "data": 5}}"#,
        secrets[0], secrets[1], secrets[2], secrets[3], secrets[4], secrets[5]
    );
    world.fake.fault(Target::operation("files_show"), Fault::json(200, body));
    let client = world.client().build().unwrap();

    let error = client.files_show().account_id(&world.account).file_id(&file).send().await.unwrap_err();

    let Error::Decode(decode) = &error else { panic!("expected a decode error, got {error:?}") };
    assert_eq!(decode.field(), Some("data"));
    assert!(decode.excerpt().contains("[redacted]"), "the excerpt is around the secrets: {}", decode.excerpt());
    for shown in [format!("{error:?}"), error.to_string(), format!("{decode:?}")] {
        for secret in secrets.iter().chain([&TOKEN]) {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}

// ---------------------------------------------------------------------------
// 3. https is required for base URLs, except on loopback or with the loud opt-in.

#[test]
fn both_builders_refuse_plain_http_to_a_remote_host_unless_told_loudly() {
    let v4 = |url: &str, allow: bool| {
        Client::builder().bearer_token(TOKEN).base_url(url).danger_allow_plain_http(allow).build().map(drop)
    };
    let c2c =
        |url: &str, allow: bool| C2cClient::builder().base_url(url).danger_allow_plain_http(allow).build().map(drop);
    for build in [&v4 as &dyn Fn(&str, bool) -> frameio_ext::Result<()>, &c2c] {
        let refused = build("http://api.frame.io", false).unwrap_err();
        assert!(matches!(&refused, Error::Config(m) if m.contains("danger_allow_plain_http")), "{refused}");
        for local in ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9"] {
            build(local, false).unwrap();
        }
        build("https://api.frame.io", false).unwrap();
        build("http://api.frame.io", true).expect("the explicit opt-in");
        assert!(build("http://localhost.evil.example", false).is_err(), "loopback by address, not by prefix");
    }
    let ims = ImsServerToServer::builder().client_id("c").client_secret("s").ims_base_url("http://ims.example").build();
    assert!(ims.is_err(), "IMS has no plain-http opt-in at all");
}

// ---------------------------------------------------------------------------
// 4. Redirects are reported, never followed.

#[tokio::test]
async fn a_307_from_the_api_is_a_redirect_error_and_its_target_hears_nothing() {
    let world = World::start().await;
    let file = world.file("a.mov", 10);
    let other = MockServer::start_async().await;
    let anything = other
        .mock_async(|_, then| {
            then.status(200);
        })
        .await;
    let to = format!("{}/steal?token=abc", other.base_url());
    world.fake.fault(Target::operation("files_show"), Fault::status(307).header("location", &to));
    let client = world.client().build().unwrap();

    let error = client.files_show().account_id(&world.account).file_id(&file).send().await.unwrap_err();

    let Error::Redirect { status, location, operation } = &error else { panic!("expected a redirect, got {error:?}") };
    assert_eq!((status.as_u16(), *operation), (307, Some("files_show")));
    assert_eq!(location, &format!("{}/steal?[redacted]", other.base_url()), "the query is not shown");
    assert_eq!(world.fake.requests_to("files_show").len(), 1, "a redirect is not retried");
    anything.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_307_from_the_ims_token_endpoint_is_a_redirect_error_and_its_target_hears_nothing() {
    let server = MockServer::start_async().await;
    let other = MockServer::start_async().await;
    let anything = other
        .mock_async(|_, then| {
            then.status(200);
        })
        .await;
    let to = other.url(IMS_TOKEN);
    let redirect = server
        .mock_async(|when, then| {
            when.method(POST).path(IMS_TOKEN);
            then.status(307).header("location", &to);
        })
        .await;
    let auth = ims(&server.base_url(), &FakeClock::new());

    let error = auth.token().await.unwrap_err();

    assert!(
        matches!(&error, AuthError::Redirect { status: 307, location } if *location == to),
        "expected a redirect, got {error:?}"
    );
    assert!(!error.to_string().contains("ims-5ecre7"), "{error}");
    redirect.assert_calls_async(1).await;
    anything.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_307_from_the_c2c_token_endpoint_is_a_redirect_error_and_its_target_hears_nothing() {
    let fake = c2c_fake().await;
    let other = MockServer::start_async().await;
    let anything = other
        .mock_async(|_, then| {
            then.status(200);
        })
        .await;
    let to = other.url("/v2/auth/device/token");
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), device());
    let code = auth.request_code().await.unwrap();

    // A poll (device code in the body)...
    fake.fault(Target::operation(TOKEN_OP), Fault::status(307).header("location", &to));
    let polled = auth.poll(&code).await.unwrap_err();
    assert!(matches!(&polled, Error::Redirect { status, .. } if status.as_u16() == 307), "{polled:?}");
    // ...and a refresh (client secret and refresh token in the body).
    fake.fault(Target::operation(TOKEN_OP), Fault::status(307).header("location", &to));
    let expired = TokenSet::new(AccessToken::new("at-old").with_expiry(SystemTime::now() - Duration::from_secs(1)))
        .with_refresh_token("rt-5ecre7");
    let provider = DeviceTokenProvider::builder(auth, expired).build();
    let refreshed = provider.token().await.unwrap_err();
    assert!(matches!(&refreshed, AuthError::Redirect { status: 307, location } if *location == to), "{refreshed:?}");

    assert_eq!(fake.requests_to(TOKEN_OP).len(), 2, "neither redirect was retried");
    anything.assert_calls_async(0).await;
}

// ---------------------------------------------------------------------------
// 5. An IMS 429 cannot lock sign-in out for longer than the cap.

#[tokio::test]
async fn an_ims_retry_after_of_a_trillion_seconds_is_capped_and_token_recovers() {
    let server = MockServer::start_async().await;
    let clock = FakeClock::new();
    let limited = server
        .mock_async(|when, then| {
            when.method(POST).path(IMS_TOKEN);
            then.status(429).header("retry-after", "1000000000000");
        })
        .await;
    let auth = ims(&server.base_url(), &clock);

    let error = auth.token().await.unwrap_err();
    assert!(
        matches!(error, AuthError::RateLimited { retry_after: Some(wait) } if wait == MAX_RATE_LIMITED_WAIT),
        "{error:?}"
    );
    clock.advance(MAX_RATE_LIMITED_WAIT - Duration::from_secs(1));
    assert!(matches!(auth.token().await, Err(AuthError::RateLimited { .. })), "IMS is not asked before the cap");
    limited.assert_calls_async(1).await;
    limited.delete_async().await;
    let issued = r#"{"access_token": "at-1", "token_type": "bearer", "expires_in": 3600}"#;
    server
        .mock_async(|when, then| {
            when.method(POST).path(IMS_TOKEN);
            then.status(200).header("content-type", "application/json").body(issued);
        })
        .await;

    clock.advance(Duration::from_secs(2));
    let token = auth.token().await.expect("asked again once the capped wait is over");
    assert_eq!(token.expose_secret(), "at-1");
}

// ---------------------------------------------------------------------------
// 7. Error bodies are read up to a bound, not buffered whole.

/// What [`endless_error`] wrote before the client hung up.
const SERVED: usize = 64 * 1024 * 1024;

/// A server that answers one request with `status` and a 64 MiB body, sent as
/// fast as the client reads; the task returns how much it could write before
/// the client went away.
async fn endless_error(status: u16) -> (String, tokio::task::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buffer = [0; 4096];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return 0,
                Ok(n) => request.extend_from_slice(&buffer[..n]),
            }
        }
        let head = format!("HTTP/1.1 {status} Oops\r\ncontent-type: text/html\r\ncontent-length: {SERVED}\r\n\r\n");
        if socket.write_all(head.as_bytes()).await.is_err() {
            return 0;
        }
        let chunk = vec![b'x'; 64 * 1024];
        let mut written = 0;
        while written < SERVED {
            match socket.write(&chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => written += n,
            }
        }
        written
    });
    (url, task)
}

/// The most the server can have written to a client that stopped reading at
/// 64 KiB: that, plus both sides' socket buffers (a few MiB on loopback).
const READ_BOUND: usize = 16 * 1024 * 1024;

async fn written(task: tokio::task::JoinHandle<usize>) -> usize {
    tokio::time::timeout(Duration::from_secs(60), task).await.expect("the client hung up").unwrap()
}

#[tokio::test]
async fn a_64_mib_api_error_body_is_read_only_to_its_excerpt() {
    let (url, server) = endless_error(500).await;
    let client = Client::builder()
        .base_url(&url)
        .bearer_token(TOKEN)
        .retry_policy(RetryPolicy::none())
        .rate_limiting(RateLimiting::disabled())
        .build()
        .unwrap();

    let error = client.files_show().account_id("a").file_id("f").send().await.unwrap_err();

    let api = error.api().expect("an API error");
    assert_eq!(api.status().as_u16(), 500);
    let excerpt = api.body_excerpt().expect("a synthesized envelope with an excerpt");
    assert!(excerpt.starts_with("xxxx") && excerpt.len() <= 64 * 1024, "{} bytes", excerpt.len());
    let written = written(server).await;
    assert!(written < READ_BOUND, "the client read {written} of {SERVED} bytes");
}

#[tokio::test]
async fn a_64_mib_ims_error_body_is_read_only_to_its_bound() {
    let (url, server) = endless_error(500).await;
    let auth = ims(&url, &FakeClock::new());

    let error = auth.token().await.unwrap_err();

    assert!(matches!(error, AuthError::InvalidResponse(_)), "{error:?}");
    assert!(error.to_string().len() <= 64 * 1024);
    let written = written(server).await;
    assert!(written < READ_BOUND, "the client read {written} of {SERVED} bytes");
}
