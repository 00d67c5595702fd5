//! The C2C device API layer against fake Frame.io and S3 servers on
//! 127.0.0.1: pairing (pending, slow_down, expiry, denial), single-flight
//! refresh with the rotated refresh token on disk, `x-client-version` on every
//! call, the heartbeat's cadence and status, channels, and the error tables.
//! Uploads are in `c2c_upload.rs`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use frameio_ext::auth::AuthError;
use frameio_ext::c2c::{
    C2cClient, C2cErrorClass, C2cErrorKind, ChannelConnection, DeviceAuth, DeviceCredentials, DeviceStatus,
    DeviceTokenProvider, ExposeSecret, FileTokenStore, Link, PollOutcome, SubDevice, TokenStore, classify, error_kind,
};
use frameio_ext::{AccessToken, Error, TokenProvider, TokenSet};
use support::c2c_fake::{FakeC2c, fixture, form, route, script};
use support::fake_api::Reply;
use tokio::time::Instant;

const SECRET: &str = "cs-5ecre7-model";

fn device() -> DeviceCredentials {
    DeviceCredentials::new("SN-0042", SECRET)
}

fn code_json(device_code: &str, user_code: &str, expires_in: u64, interval: u64) -> String {
    format!(
        r#"{{"device_code": "{device_code}", "expires_in": {expires_in}, "interval": {interval},
            "name": "MyDevice-SN-0042", "user_code": "{user_code}"}}"#
    )
}

fn tokens_json(access: &str, refresh: &str) -> String {
    format!(
        r#"{{"access_token": "{access}", "expires_in": 28800, "refresh_token": "{refresh}", "token_type": "bearer"}}"#
    )
}

fn expired_tokens(access: &str, refresh: &str) -> TokenSet {
    TokenSet::new(AccessToken::new(access).with_expiry(SystemTime::now() - Duration::from_secs(1)))
        .with_refresh_token(refresh)
}

fn valid_tokens(access: &str, refresh: &str) -> TokenSet {
    TokenSet::new(AccessToken::new(access).with_expiry(SystemTime::now() + Duration::from_secs(8 * 3600)))
        .with_refresh_token(refresh)
}

/// A paired client of `fake` with `tokens`, refreshing through the same fake.
fn paired(fake: &FakeC2c, tokens: TokenSet) -> (C2cClient, DeviceTokenProvider) {
    let auth = DeviceAuth::new(fake.builder().build().unwrap(), device());
    let provider = DeviceTokenProvider::builder(auth, tokens).build();
    (fake.builder().token_provider(provider.clone()).build().unwrap(), provider)
}

// ---------------------------------------------------------------------------
// x-client-version, credentials and the anonymous pairing calls

#[tokio::test]
async fn every_call_carries_the_client_version_and_only_device_calls_a_token() {
    let fake = FakeC2c::start(vec![
        route("/v2/auth/device/code", script(vec![Reply::json(200, &fixture("auth_device_code_200_url_pairing"))])),
        // A 429 on the anonymous token call is retried, still without a token.
        route(
            "/v2/auth/token",
            script(vec![Reply::json(429, r#"{"error": "slow_down"}"#), Reply::json(200, &tokens_json("at-9", "rt-9"))]),
        ),
        route("/v2/auth/revoke", script(vec![Reply::empty(200)])),
        route("/v2/devices/heartbeat", script(vec![Reply::empty(204)])),
        route("/v2/devices/me", script(vec![Reply::json(200, &fixture("devices_me_200_channels_abridged"))])),
        route("/v2/devices/channels/disconnect", script(vec![Reply::empty(204)])),
        route("/v2/devices/channels", script(vec![Reply::json(200, &fixture("channels_connect_200"))])),
    ])
    .await;
    let builder = fake.builder().client_version("1.4.2-rc.1+build_7");
    let auth = DeviceAuth::new(builder.clone().build().unwrap(), device()).url_pairing(true);
    let code = auth.request_code().await.unwrap();
    assert_eq!(code.verification_uri_complete(), Some("https://next.frame.io/pair/573131"));
    assert!(matches!(auth.poll(&code).await.unwrap(), PollOutcome::Authorized(_)));
    auth.revoke(&"rt-9".to_string().into()).await.unwrap();

    let client = builder.bearer_token("at-device").build().unwrap();
    client.devices_device_heartbeat().send().await.unwrap();
    client.accounts_device_identify().send().await.unwrap();
    client.sync_channels(&[SubDevice::new("MIC-1", "model-mic")]).await.unwrap();
    // A call that sets the header itself keeps its own value.
    client.devices_device_heartbeat().x_client_version("9.9.9").send().await.unwrap();

    let hits = fake.hits();
    assert_eq!(hits.len(), 9, "{:#?}", hits.iter().map(|h| &h.path).collect::<Vec<_>>());
    for (i, hit) in hits.iter().enumerate() {
        let expected = if i == hits.len() - 1 { "9.9.9" } else { "1.4.2-rc.1+build_7" };
        assert_eq!(hit.header("x-client-version"), Some(expected), "{}", hit.path);
        assert_eq!(hit.headers.get_all("x-client-version").iter().count(), 1, "never duplicated: {}", hit.path);
        let bearer = hit.header("authorization");
        if hit.path.starts_with("/v2/auth/") {
            assert_eq!(bearer, None, "{} is authenticated by its form body", hit.path);
        } else {
            assert_eq!(bearer, Some("Bearer at-device"), "{}", hit.path);
        }
    }
    assert_eq!(hits[0].header("x-client-platypus-enabled"), Some("true"));
    assert_eq!(hits[0].header("connection"), Some("close"), "a device code request gets a connection of its own");
    let code_form = form(&hits[0]);
    assert_eq!((code_form["client_id"].as_str(), code_form["client_secret"].as_str()), ("SN-0042", SECRET));
    assert_eq!(code_form["scope"], "asset_create offline");
    assert_eq!(hits[1].path, "/v2/auth/token");
    assert_eq!(hits[2].path, "/v2/auth/token", "the 429 was retried");
    let revoke = form(&hits[3]);
    assert_eq!((revoke["token"].as_str(), revoke["client_secret"].as_str()), ("rt-9", SECRET));
}

#[tokio::test]
async fn the_default_version_is_the_guides_and_a_bad_one_is_refused() {
    let fake = FakeC2c::start(vec![route("/v2/devices/heartbeat", script(vec![Reply::empty(204)]))]).await;
    let client = C2cClient::builder().base_url(fake.url()).bearer_token("t").build().unwrap();
    client.devices_device_heartbeat().send().await.unwrap();
    assert_eq!(fake.hits()[0].header("x-client-version"), Some("2.0.0"));
    assert_eq!(client.client_version(), "2.0.0");

    for bad in ["1.4", "v1.4.2", "01.4.2", "1.4.2-"] {
        let err = C2cClient::builder().client_version(bad).build().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{bad}: {err:?}");
        assert!(err.to_string().contains("semantic version"), "{err}");
    }
}

#[tokio::test]
async fn a_client_without_tokens_can_pair_but_asks_to_pair_for_device_calls() {
    let fake = FakeC2c::start(vec![]).await;
    let unpaired = fake.builder().build().unwrap();
    let err = unpaired.devices_device_heartbeat().send().await.unwrap_err();
    assert!(matches!(err, Error::Auth(AuthError::SignInAgain { .. })), "{err:?}");
    assert_eq!((error_kind(&err), classify(&err)), (C2cErrorKind::SignInAgain, C2cErrorClass::Fatal));
    assert!(fake.hits().is_empty(), "nothing was sent");
}

// ---------------------------------------------------------------------------
// Pairing

#[tokio::test(start_paused = true)]
async fn polling_waits_the_interval_and_slows_down_when_told() {
    let fake = FakeC2c::start(vec![
        route("/v2/auth/device/code", script(vec![Reply::json(200, &code_json("dc-1", "573131", 120, 2))])),
        route(
            "/v2/auth/token",
            script(vec![
                Reply::json(400, &fixture("auth_token_400_authorization_pending")),
                Reply::json(400, &fixture("error_400_slow_down")),
                Reply::json(400, &fixture("auth_token_400_authorization_pending")),
                Reply::json(400, &fixture("error_400_slow_down")),
                Reply::json(200, &fixture("auth_token_200")),
            ]),
        ),
    ])
    .await;
    let auth = DeviceAuth::new(fake.builder().build().unwrap(), device());
    let shown = Mutex::new(Vec::new());
    let started = Instant::now();
    let tokens = auth.authorize(|code| shown.lock().unwrap().push(code.user_code().to_owned())).await.unwrap();
    assert_eq!(tokens.access_token().expose_secret(), "[access_token]");
    assert_eq!(shown.into_inner().unwrap(), ["573131"]);

    let polls: Vec<_> = fake.hits().into_iter().filter(|h| h.path == "/v2/auth/token").collect();
    let gaps: Vec<u64> = std::iter::once(started)
        .chain(polls.iter().map(|p| p.at))
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| (w[1] - w[0]).as_secs())
        .collect();
    // interval 2 s; each slow_down adds 5 s for this and every later poll.
    assert_eq!(gaps, [2, 2, 7, 7, 12]);
    let poll = form(&polls[0]);
    assert_eq!(poll["grant_type"], "urn:ietf:params:oauth:grant-type:device_code");
    assert_eq!((poll["client_id"].as_str(), poll["device_code"].as_str()), ("SN-0042", "dc-1"));
    assert!(!poll.contains_key("client_secret"), "the guide's poll sends no secret");
}

#[tokio::test(start_paused = true)]
async fn an_expired_code_is_replaced_and_the_new_one_shown() {
    let token_calls = Arc::new(AtomicUsize::new(0));
    let calls = Arc::clone(&token_calls);
    let fake = FakeC2c::start(vec![
        route(
            "/v2/auth/device/code",
            script(vec![
                Reply::json(200, &code_json("dc-1", "111111", 120, 5)),
                // The second code expires on the device's clock before the server says so.
                Reply::json(200, &code_json("dc-2", "222222", 12, 5)),
                Reply::json(200, &code_json("dc-3", "333333", 120, 5)),
            ]),
        ),
        route(
            "/v2/auth/token",
            Box::new(move |hit, _| {
                calls.fetch_add(1, Ordering::SeqCst);
                match form(hit)["device_code"].as_str() {
                    "dc-1" => Reply::json(400, &fixture("auth_token_400_expired_token")),
                    "dc-2" => Reply::json(400, &fixture("auth_token_400_authorization_pending")),
                    _ => Reply::json(200, &tokens_json("at-3", "rt-3")),
                }
            }),
        ),
    ])
    .await;
    let auth = DeviceAuth::new(fake.builder().build().unwrap(), device());
    let mut shown = Vec::new();
    let tokens = auth.authorize(|code| shown.push(code.user_code().to_owned())).await.unwrap();
    assert_eq!(tokens.refresh_token().map(|t| t.expose_secret().to_owned()).as_deref(), Some("rt-3"));
    assert_eq!(shown, ["111111", "222222", "333333"], "every new code is handed to the app");
    // dc-1: one poll (expired_token); dc-2: polls at 5 s and 10 s, none at 15 s (past its 12 s); dc-3: one.
    assert_eq!(token_calls.load(Ordering::SeqCst), 4);
}

#[tokio::test(start_paused = true)]
async fn a_declined_pairing_fails_and_transient_failures_do_not() {
    let fake = FakeC2c::start(vec![
        route("/v2/auth/device/code", script(vec![Reply::json(200, &code_json("dc-1", "573131", 120, 1))])),
        route(
            "/v2/auth/token",
            script(vec![
                Reply::text(502, "<html>Bad gateway</html>"),
                Reply::json(400, &fixture("auth_token_400_authorization_pending")),
                Reply::json(401, r#"{"error": "access_denied"}"#),
            ]),
        ),
    ])
    .await;
    let auth = DeviceAuth::new(fake.builder().build().unwrap(), device());
    let err = auth.authorize(|_| {}).await.unwrap_err();
    assert_eq!(error_kind(&err), C2cErrorKind::AccessDenied, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(fake.hits().iter().filter(|h| h.path == "/v2/auth/token").count(), 3);
}

// ---------------------------------------------------------------------------
// Refresh: single-flight, rotation persisted, refusal

/// A token endpoint that rotates `rt-N` into `at-(N+1)`/`rt-(N+1)` and refuses
/// a refresh token used twice, as Frame.io does.
fn rotating_token_endpoint() -> support::c2c_fake::Route {
    let spent = Mutex::new(Vec::<String>::new());
    Box::new(move |hit, _| {
        let form = form(hit);
        if form.get("grant_type").map(String::as_str) != Some("refresh_token") || form["client_secret"] != SECRET {
            return Reply::json(400, r#"{"error": "invalid_grant"}"#);
        }
        let token = form["refresh_token"].clone();
        let mut spent = spent.lock().unwrap();
        if spent.contains(&token) {
            return Reply::json(400, &fixture("auth_token_400_invalid_request_reused_refresh_token"));
        }
        spent.push(token.clone());
        let n: u32 = token.trim_start_matches("rt-").parse().unwrap();
        Reply::json(200, &tokens_json(&format!("at-{}", n + 1), &format!("rt-{}", n + 1)))
            .after(Duration::from_millis(50))
    })
}

#[tokio::test]
async fn concurrent_calls_share_one_refresh_and_the_new_refresh_token_is_on_disk() {
    let fake = FakeC2c::start(vec![
        route("/v2/auth/token", rotating_token_endpoint()),
        route("/v2/devices/heartbeat", script(vec![Reply::empty(204)])),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("tokens.json"));
    let auth = DeviceAuth::new(fake.builder().build().unwrap(), device());
    let provider = DeviceTokenProvider::builder(auth, expired_tokens("at-1", "rt-1")).store(store.clone()).build();
    let client = fake.builder().token_provider(provider.clone()).build().unwrap();

    let beats = (0..8).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.devices_device_heartbeat().send().await })
    });
    for beat in futures::future::join_all(beats).await {
        beat.unwrap().unwrap();
    }
    let refreshes = fake.hits().into_iter().filter(|h| h.path == "/v2/auth/token").count();
    assert_eq!(refreshes, 1, "one refresh for eight callers");
    assert!(
        fake.hits()
            .iter()
            .filter(|h| h.path == "/v2/devices/heartbeat")
            .all(|h| h.header("authorization") == Some("Bearer at-2"))
    );
    let saved = store.load().unwrap().unwrap();
    assert_eq!(saved.refresh_token().unwrap().expose_secret(), "rt-2", "the rotated refresh token is on disk");
    assert!(saved.expires_at().unwrap() > SystemTime::now() + Duration::from_secs(7 * 3600));

    // The next refresh spends rt-2, never rt-1 again.
    let access = provider.refresh().await.unwrap();
    assert_eq!(access.expose_secret(), "at-3");
    assert_eq!(store.load().unwrap().unwrap().refresh_token().unwrap().expose_secret(), "rt-3");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["tokens.json"], "no temporary file is left behind");
}

#[tokio::test]
async fn a_dropped_caller_does_not_lose_the_rotated_token() {
    let fake = FakeC2c::start(vec![route("/v2/auth/token", rotating_token_endpoint())]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("tokens.json"));
    let auth = DeviceAuth::new(fake.builder().build().unwrap(), device());
    let provider = DeviceTokenProvider::builder(auth, expired_tokens("at-1", "rt-1")).store(store.clone()).build();
    // Give up while the refresh is in flight (the endpoint answers after 50 ms).
    assert!(tokio::time::timeout(Duration::from_millis(10), provider.token()).await.is_err());
    let saved = async {
        loop {
            if let Some(tokens) = store.load().unwrap() {
                return tokens;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let saved = tokio::time::timeout(Duration::from_secs(10), saved).await.expect("the refresh went on and saved");
    assert_eq!(saved.refresh_token().unwrap().expose_secret(), "rt-2");
    assert_eq!(provider.token().await.unwrap().expose_secret(), "at-2");
    assert_eq!(fake.hits().len(), 1);
}

#[tokio::test]
async fn a_401_is_refreshed_once_and_a_refused_refresh_asks_to_pair_again() {
    let fake = FakeC2c::start(vec![
        route("/v2/auth/token", rotating_token_endpoint()),
        route(
            "/v2/devices/me",
            Box::new(|hit, _| match hit.header("authorization") {
                Some("Bearer at-2") => Reply::json(200, &fixture("devices_me_200_channels_abridged")),
                _ => Reply::json(401, &fixture("error_401_not_authorized")),
            }),
        ),
    ])
    .await;
    let (client, provider) = paired(&fake, valid_tokens("at-1", "rt-1"));
    client.accounts_device_identify().send().await.unwrap();
    let paths: Vec<_> = fake.hits().into_iter().map(|h| h.path).collect();
    assert_eq!(paths, ["/v2/devices/me", "/v2/auth/token", "/v2/devices/me"]);

    // A refresh token that was already spent: the authorization is gone.
    provider.replace(valid_tokens("at-1", "rt-1"));
    let err = provider.refresh().await.unwrap_err();
    assert!(matches!(err, AuthError::SignInAgain { .. }), "{err:?}");
    assert!(provider.tokens().is_none());
    let err = client.accounts_device_identify().send().await.unwrap_err();
    assert_eq!((error_kind(&err), classify(&err)), (C2cErrorKind::SignInAgain, C2cErrorClass::Fatal));
}

#[tokio::test]
async fn revoking_forgets_the_tokens_everywhere() {
    let fake = FakeC2c::start(vec![route("/v2/auth/revoke", script(vec![Reply::empty(200)]))]).await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("tokens.json"));
    store.save(&valid_tokens("at-1", "rt-1")).unwrap();
    let auth = DeviceAuth::new(fake.builder().build().unwrap(), device());
    let provider = DeviceTokenProvider::builder(auth, valid_tokens("at-1", "rt-1")).store(store.clone()).build();
    provider.revoke().await.unwrap();
    assert_eq!(form(&fake.hits()[0])["token"], "rt-1");
    assert!(store.load().unwrap().is_none());
    assert!(matches!(provider.token().await, Err(AuthError::SignInAgain { .. })));
}

#[test]
fn the_file_store_never_shows_a_torn_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("tokens.json"));
    assert!(store.load().unwrap().is_none());
    store.save(&valid_tokens("at-0", "rt-0")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(store.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "tokens are readable by their owner only");
    }
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (done, path) = (Arc::clone(&done), store.path().to_owned());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::SeqCst) {
                let bytes = std::fs::read(&path).unwrap();
                let tokens: TokenSet = serde_json::from_slice(&bytes)
                    .unwrap_or_else(|e| panic!("a reader saw a torn file ({e}): {}", String::from_utf8_lossy(&bytes)));
                assert!(tokens.refresh_token().is_some());
                reads += 1;
            }
            reads
        })
    };
    // Long tokens, so that a non-atomic write would be seen half done.
    for n in 1..=200 {
        let long = format!("rt-{n}-{}", "x".repeat(64 * 1024));
        store.save(&valid_tokens(&format!("at-{n}"), &long)).unwrap();
    }
    done.store(true, Ordering::SeqCst);
    assert!(reader.join().unwrap() > 0);
    let last = store.load().unwrap().unwrap();
    assert!(last.refresh_token().unwrap().expose_secret().starts_with("rt-200-"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left behind");
    store.clear().unwrap();
    assert!(store.load().unwrap().is_none());
    // A store whose directory is gone fails, and says so.
    let gone = FileTokenStore::new(dir.path().join("missing").join("tokens.json"));
    assert!(gone.save(&last).is_err());
}

// ---------------------------------------------------------------------------
// Heartbeat

fn device_json(status: &str) -> String {
    format!(
        r#"{{"_type": "project_device", "id": "d-1", "name": "Recorder", "status": "{status}",
            "project": {{"_type": "project", "id": "p-1", "name": "Testbed"}}}}"#
    )
}

#[tokio::test(start_paused = true)]
async fn heartbeats_go_out_once_a_minute_until_stopped() {
    let fake = FakeC2c::start(vec![
        route("/v2/devices/heartbeat", script(vec![Reply::empty(204)])),
        route("/v2/devices/me", script(vec![Reply::json(200, &device_json("online"))])),
    ])
    .await;
    let client = fake.builder().bearer_token("at").build().unwrap();
    let heartbeat = client.heartbeat().interval(Duration::from_secs(10));
    assert_eq!(heartbeat.current_interval(), Duration::from_secs(60), "no more than once a minute");
    assert_eq!(client.heartbeat().interval(Duration::from_secs(3600)).current_interval(), Duration::from_secs(300));
    let started = Instant::now();
    let handle = heartbeat.start();
    tokio::time::sleep(Duration::from_secs(330)).await;

    let beats: Vec<u64> =
        fake.hits().iter().filter(|h| h.path == "/v2/devices/heartbeat").map(|h| (h.at - started).as_secs()).collect();
    assert_eq!(beats, [0, 60, 120, 180, 240, 300]);
    let status = handle.current();
    assert_eq!((status.link.clone(), status.beats, status.paused), (Link::Online, 6, Some(false)));
    assert_eq!(status.project_name(), Some("Testbed"));

    drop(handle);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(fake.hits().iter().filter(|h| h.path == "/v2/devices/heartbeat").count(), 6, "stopped on drop");
}

#[tokio::test(start_paused = true)]
async fn the_status_reports_pauses_outages_and_lost_authorization() {
    let fake = FakeC2c::start(vec![
        route(
            "/v2/devices/heartbeat",
            script(vec![
                Reply::empty(204),
                Reply::empty(204),
                Reply::hang_up(),
                Reply::json(409, &fixture("assets_create_409_channel_paused")),
                Reply::json(401, &fixture("error_401_not_authorized")),
            ]),
        ),
        route(
            "/v2/devices/me",
            script(vec![Reply::json(200, &device_json("online")), Reply::json(200, &device_json("paused"))]),
        ),
    ])
    .await;
    let client = fake.builder().bearer_token("at").retry_policy(frameio_ext::RetryPolicy::none()).build().unwrap();
    let handle = client.heartbeat().identify(true).start();
    let mut status = handle.status();
    let mut seen: Vec<(Link, Option<bool>)> = Vec::new();
    while seen.len() < 5 {
        status.changed().await.unwrap();
        let now: DeviceStatus = status.borrow_and_update().clone();
        seen.push((now.link, now.paused));
    }
    assert_eq!(seen[0], (Link::Online, Some(false)));
    assert_eq!(seen[1], (Link::Online, Some(true)), "the connection information says paused");
    assert!(matches!(&seen[2], (Link::Unreachable { .. }, Some(true))), "{:?}", seen[2]);
    assert_eq!(seen[3].1, Some(true), "a 409 Channel Paused also says paused");
    assert!(matches!(&seen[4].0, Link::Unauthorized { reason } if reason.contains("401")), "{:?}", seen[4]);
    handle.stop().await;
    assert!(status.changed().await.is_err(), "the channel closes with the task");
}

// ---------------------------------------------------------------------------
// Channels

#[tokio::test]
async fn a_channel_that_exists_already_is_connected() {
    let already = r#"{"code": 409, "errors": [{"code": 409, "detail": "Channel already exists", "status": 409,
        "title": "Already Exists"}], "message": "Already Exists"}"#;
    let fake = FakeC2c::start(vec![
        route("/v2/devices/channels/disconnect", script(vec![Reply::empty(204)])),
        route("/v2/devices/channels/ch-1/disconnect", script(vec![Reply::empty(204), Reply::json(404, "{}")])),
        route(
            "/v2/devices/channels",
            script(vec![
                Reply::json(200, &fixture("channels_connect_200")),
                Reply::json(409, already),
                Reply::empty(409),
                Reply::json(409, &fixture("assets_create_409_channel_paused")),
            ]),
        ),
    ])
    .await;
    let client = fake.builder().bearer_token("at").build().unwrap();
    let mic = SubDevice::new("MIC-1", "model-mic");
    let connected = client.sync_channels(&[mic.clone(), SubDevice::new("MIC-2", "model-mic")]).await.unwrap();
    assert_eq!(connected[0].channel().and_then(|c| c.id.as_deref()), Some("0b17e1e3-588c-4365-be51-5cf097c8f004"));
    assert_eq!(connected[1], ChannelConnection::AlreadyConnected);
    assert_eq!(client.connect_channel(&mic).await.unwrap(), ChannelConnection::AlreadyConnected, "a bare 409");
    let paused = client.connect_channel(&mic).await.unwrap_err();
    assert_eq!(error_kind(&paused), C2cErrorKind::ChannelPaused);
    client.disconnect_channel("ch-1").await.unwrap();
    let missing = client.disconnect_channel("ch-1").await.unwrap_err();
    assert!(missing.is_not_found());

    let paths: Vec<_> = fake.hits().into_iter().map(|h| h.path).collect();
    assert_eq!(paths[0], "/v2/devices/channels/disconnect", "the boot sequence clears the channels first");
    let connect = serde_json::from_slice::<serde_json::Value>(&fake.hits()[1].body).unwrap();
    assert_eq!(connect, serde_json::json!({"client_id": "MIC-1", "device_model_id": "model-mic"}));
}

// ---------------------------------------------------------------------------
// Secrets

#[tokio::test]
async fn secrets_stay_out_of_debug_and_errors() {
    let fake = FakeC2c::start(vec![
        route("/v2/auth/device/code", script(vec![Reply::json(200, &code_json("dc-5ecre7", "573131", 120, 5))])),
        route(
            "/v2/auth/token",
            script(vec![Reply::json(400, &fixture("auth_token_400_invalid_request_reused_refresh_token"))]),
        ),
    ])
    .await;
    let auth = DeviceAuth::new(fake.builder().build().unwrap(), device());
    let code = auth.request_code().await.unwrap();
    let provider = DeviceTokenProvider::builder(auth.clone(), expired_tokens("at-5ecre7", "rt-5ecre7")).build();
    let refused = provider.token().await.unwrap_err();
    let client = fake.builder().token_provider(provider.clone()).build().unwrap();
    for shown in [
        format!("{auth:?}"),
        format!("{code:?}"),
        format!("{provider:?}"),
        format!("{client:?}"),
        format!("{:?}", expired_tokens("at-5ecre7", "rt-5ecre7")),
        format!("{refused:?} {refused}"),
    ] {
        for secret in [SECRET, "dc-5ecre7", "at-5ecre7", "rt-5ecre7"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
    assert!(format!("{code:?}").contains("573131"), "the user code is for showing");
}

// ---------------------------------------------------------------------------
// The error tables

/// One row of the guide's "Frame.io Error Messages" table, transcribed:
/// message, error type, HTTP code, schema, retry.
struct MessageRow(&'static str, C2cErrorKind, u16, Schema, C2cErrorClass);

#[derive(Clone, Copy)]
enum Schema {
    Simple,
    Detailed,
}

fn body(message: &str, status: u16, schema: Schema) -> String {
    match schema {
        Schema::Simple => format!(r#"{{"error": "{message}"}}"#),
        Schema::Detailed => format!(
            r#"{{"code": {status}, "errors": [{{"code": {status}, "detail": "d", "status": {status}, "title": "{message}"}}],
                "message": "{message}"}}"#
        ),
    }
}

#[tokio::test]
async fn every_row_of_the_guides_error_tables_is_classified() {
    use C2cErrorClass::{Fatal, Retry, RetryOnce};
    use C2cErrorKind as K;
    use Schema::{Detailed, Simple};
    let messages = [
        MessageRow("access_denied", K::AccessDenied, 401, Simple, RetryOnce),
        MessageRow("authorization_pending", K::AuthorizationPending, 400, Simple, Retry),
        MessageRow("Channel Paused", K::ChannelPaused, 409, Simple, Fatal),
        MessageRow("expired_token", K::ExpiredToken, 400, Simple, Fatal),
        MessageRow("Invalid Argument", K::InvalidArgument, 422, Detailed, Fatal),
        MessageRow("invalid_client", K::InvalidClient, 400, Simple, Fatal),
        MessageRow("Invalid client version", K::InvalidClientVersion, 400, Simple, Fatal),
        MessageRow("invalid_grant", K::InvalidGrant, 400, Simple, Fatal),
        MessageRow("invalid_request", K::InvalidRequest, 400, Simple, RetryOnce),
        MessageRow("Not Authorized", K::UnauthorizedClient, 401, Detailed, Fatal),
        MessageRow("slow_down", K::SlowDown, 400, Simple, Retry),
        MessageRow("unauthorized_client", K::UnauthorizedClient, 401, Simple, Retry),
    ];
    // "Frame.io Status Codes": bodies without a payload.
    let statuses = [
        (400, K::InvalidRequest, RetryOnce),
        (401, K::UnauthorizedClient, Fatal),
        (422, K::InvalidContentType, Fatal),
        (429, K::SlowDown, Retry),
        (500, K::InternalServerError, Retry),
    ];

    let mut replies = Vec::new();
    let mut expected = Vec::new();
    for MessageRow(message, kind, status, schema, class) in messages {
        for shape in [schema, Simple, Detailed] {
            replies.push(Reply::json(status, &body(message, status, shape)));
            expected.push((format!("{message} ({status})"), kind.clone(), class));
        }
    }
    replies.push(Reply::json(409, &fixture("assets_create_409_channel_paused")));
    expected.push(("the guide's Channel Paused".into(), K::ChannelPaused, Fatal));
    for (status, kind, class) in statuses {
        replies.push(Reply::text(status, ""));
        expected.push((format!("bare {status}"), kind.clone(), class));
        replies.push(Reply::text(status, "<html>proxy</html>"));
        expected.push((format!("{status} from a proxy"), kind, class));
    }
    // Beyond the tables: the example handler retries unknown API errors and 404s.
    replies.push(Reply::json(403, r#"{"error": "something_new"}"#));
    expected.push(("an unknown message".into(), K::Unknown, Retry));
    replies.push(Reply::json(404, "{}"));
    expected.push(("404".into(), K::NotFound, Retry));

    let count = replies.len();
    let fake = FakeC2c::start(vec![route("/v2/devices/heartbeat", script(replies))]).await;
    let client = fake.builder().bearer_token("at").retry_policy(frameio_ext::RetryPolicy::none()).build().unwrap();
    for (what, kind, class) in expected {
        let err = client.devices_device_heartbeat().send().await.unwrap_err();
        assert_eq!((error_kind(&err), classify(&err)), (kind, class), "{what}: {err}");
    }
    assert_eq!(fake.hits().len(), count);
}

#[tokio::test]
async fn network_failures_suggest_a_disconnection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = C2cClient::builder()
        .base_url(closed)
        .bearer_token("t")
        .retry_policy(frameio_ext::RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.devices_device_heartbeat().send().await.unwrap_err();
    assert_eq!((error_kind(&err), classify(&err)), (C2cErrorKind::Network, C2cErrorClass::Retry));
    assert!(error_kind(&err).suggests_disconnected());

    let fake = FakeC2c::start(vec![route(
        "/v2/devices/heartbeat",
        script(vec![Reply::empty(204).after(Duration::from_secs(5))]),
    )])
    .await;
    let slow = fake
        .builder()
        .bearer_token("t")
        .timeout(Duration::from_millis(100))
        .retry_policy(frameio_ext::RetryPolicy::none())
        .build()
        .unwrap();
    let err = slow.devices_device_heartbeat().send().await.unwrap_err();
    assert_eq!((error_kind(&err), classify(&err)), (C2cErrorKind::Timeout, C2cErrorClass::Retry));
    assert!(error_kind(&err).suggests_disconnected());
}
