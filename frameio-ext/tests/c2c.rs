//! The C2C device API layer against the fake Frame.io's device API on
//! 127.0.0.1: pairing (pending, slow_down, expiry, denial), single-flight
//! refresh with the rotated refresh token on disk, `x-client-version` on every
//! call, the heartbeat's cadence and status, channels, and the error tables.
//! Uploads are in `c2c_upload.rs`.

mod support;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use frameio_ext::auth::AuthError;
use frameio_ext::c2c::{
    C2cClient, C2cErrorClass, C2cErrorKind, ChannelConnection, DeviceAuth, DeviceCredentials, DeviceStatus,
    DeviceTokenProvider, ExposeSecret, FileTokenStore, Link, PollOutcome, SubDevice, TokenStore, classify, error_kind,
};
use frameio_ext::{AccessToken, Error, TokenProvider, TokenSet};
use frameio_fake::{DeviceSeed, Fake, Fault, Pairing, RecordedRequest, Target};
use support::{c2c_builder, fixture, form, json};
use tokio::time::Instant;

const SECRET: &str = "cs-5ecre7-model";
const SERIAL: &str = "SN-0042";
const TOKEN_OP: &str = "authentication_auth_device_token";
const CODE_OP: &str = "authentication_device_request_code";
const HEARTBEAT: &str = "devices_device_heartbeat";
const IDENTIFY: &str = "accounts_device_identify";

fn device() -> DeviceCredentials {
    DeviceCredentials::new(SERIAL, SECRET)
}

/// A fake that knows the device model's secret, with a project (`Testbed`) to pair with;
/// returns it and the project's id.
async fn start(pairing: Pairing) -> (Fake, String) {
    let fake = Fake::builder().c2c_client_secret(SECRET).c2c_pairing(pairing).start().await.unwrap();
    let project = fake.seed().account("Acme").workspace("W").project("Testbed").id;
    (fake, project)
}

/// A fake with the device already paired.
async fn with_device() -> (Fake, DeviceSeed) {
    let (fake, project) = start(Pairing::new()).await;
    let seeded = fake.seed().device(SERIAL, &project);
    (fake, seeded)
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
fn paired(fake: &Fake, tokens: TokenSet) -> (C2cClient, DeviceTokenProvider) {
    let auth = DeviceAuth::new(c2c_builder(fake).build().unwrap(), device());
    let provider = DeviceTokenProvider::builder(auth, tokens).build();
    (c2c_builder(fake).token_provider(provider.clone()).build().unwrap(), provider)
}

/// A client of `fake` with a fixed bearer token.
fn bearer(fake: &Fake, token: &str) -> C2cClient {
    c2c_builder(fake).bearer_token(token).build().unwrap()
}

fn secret(value: Option<&secrecy::SecretString>) -> String {
    value.map(|s| s.expose_secret().to_owned()).unwrap_or_default()
}

/// When each request to `operation` arrived, in whole seconds after `started`.
fn seconds_after(requests: &[RecordedRequest], started: Instant) -> Vec<u64> {
    requests.iter().map(|r| (r.at - started).as_secs()).collect()
}

// ---------------------------------------------------------------------------
// x-client-version, credentials and the anonymous pairing calls

#[tokio::test]
async fn every_call_carries_the_client_version_and_only_device_calls_a_token() {
    let (fake, project) = start(Pairing::new()).await;
    // A 429 on the anonymous token call is retried, still without a token.
    fake.fault(Target::operation(TOKEN_OP), Fault::json(429, r#"{"error": "slow_down"}"#));
    // The fake has no channels: their answers are the guide's.
    fake.fault(Target::operation("devices_disconnect_all_device_channels"), Fault::empty(204));
    fake.fault(Target::operation("devices_connect_device_channel"), Fault::json(200, fixture("channels_connect_200")));
    let builder = c2c_builder(&fake).client_version("1.4.2-rc.1+build_7");
    let auth = DeviceAuth::new(builder.clone().build().unwrap(), device()).url_pairing(true);
    let code = auth.request_code().await.unwrap();
    let pair_url = format!("https://next.frame.io/pair/{}", code.user_code());
    assert_eq!(code.verification_uri_complete(), Some(pair_url.as_str()));
    assert!(fake.pair_device(code.user_code(), &project));
    let PollOutcome::Authorized(tokens) = auth.poll(&code).await.unwrap() else { panic!("paired") };

    let access = tokens.access_token().expose_secret().to_owned();
    let client = builder.bearer_token(access.as_str()).build().unwrap();
    client.devices_device_heartbeat().send().await.unwrap();
    client.accounts_device_identify().send().await.unwrap();
    client.sync_channels(&[SubDevice::new("MIC-1", "model-mic")]).await.unwrap();
    // A call that sets the header itself keeps its own value.
    client.devices_device_heartbeat().x_client_version("9.9.9").send().await.unwrap();
    auth.revoke(tokens.refresh_token().unwrap()).await.unwrap();

    let hits = fake.requests();
    assert_eq!(hits.len(), 9, "{:#?}", hits.iter().map(|h| &h.path).collect::<Vec<_>>());
    for (i, hit) in hits.iter().enumerate() {
        let expected = if i == hits.len() - 2 { "9.9.9" } else { "1.4.2-rc.1+build_7" };
        assert_eq!(hit.header("x-client-version"), Some(expected), "{}", hit.path);
        assert_eq!(hit.headers.get_all("x-client-version").iter().count(), 1, "never duplicated: {}", hit.path);
        let bearer = hit.header("authorization");
        if hit.path.starts_with("/v2/auth/") {
            assert_eq!(bearer, None, "{} is authenticated by its form body", hit.path);
        } else {
            assert_eq!(bearer, Some(format!("Bearer {access}").as_str()), "{}", hit.path);
            assert!(hit.status().is_some_and(|s| s < 300), "{} was accepted: {:?}", hit.path, hit.status());
        }
    }
    assert_eq!(hits[0].header("x-client-platypus-enabled"), Some("true"));
    assert_eq!(hits[0].header("connection"), Some("close"), "a device code request gets a connection of its own");
    let code_form = form(&hits[0]);
    assert_eq!((code_form["client_id"].as_str(), code_form["client_secret"].as_str()), (SERIAL, SECRET));
    assert_eq!(code_form["scope"], "asset_create offline");
    assert_eq!((hits[1].path.as_str(), hits[1].status()), ("/v2/auth/token", Some(429)));
    assert_eq!((hits[2].path.as_str(), hits[2].status()), ("/v2/auth/token", Some(200)), "the 429 was retried");
    let revoke = form(&hits[8]);
    assert_eq!(revoke["token"], secret(tokens.refresh_token()));
    assert_eq!(revoke["client_secret"], SECRET);
    let revoked = client.devices_device_heartbeat().send().await.unwrap_err();
    assert_eq!(revoked.status().map(|s| s.as_u16()), Some(401), "the fake revoked the authorization");
}

#[tokio::test]
async fn the_default_version_is_the_guides_and_a_bad_one_is_refused() {
    let (fake, seeded) = with_device().await;
    let client =
        C2cClient::builder().base_url(fake.base_url()).bearer_token(seeded.tokens.access_token).build().unwrap();
    client.devices_device_heartbeat().send().await.unwrap();
    assert_eq!(fake.requests()[0].header("x-client-version"), Some("2.0.0"));
    assert_eq!(client.client_version(), "2.0.0");

    for bad in ["1.4", "v1.4.2", "01.4.2", "1.4.2-"] {
        let err = C2cClient::builder().client_version(bad).build().unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{bad}: {err:?}");
        assert!(err.to_string().contains("semantic version"), "{err}");
    }
}

#[tokio::test]
async fn a_client_without_tokens_can_pair_but_asks_to_pair_for_device_calls() {
    let (fake, _) = start(Pairing::new()).await;
    let unpaired = c2c_builder(&fake).build().unwrap();
    let err = unpaired.devices_device_heartbeat().send().await.unwrap_err();
    assert!(matches!(err, Error::Auth(AuthError::SignInAgain { .. })), "{err:?}");
    assert_eq!((error_kind(&err), classify(&err)), (C2cErrorKind::SignInAgain, C2cErrorClass::Fatal));
    assert!(fake.requests().is_empty(), "nothing was sent");
}

// ---------------------------------------------------------------------------
// Pairing

#[tokio::test(start_paused = true)]
async fn polling_waits_the_interval_and_slows_down_when_told() {
    let (fake, project) = start(Pairing::new().interval(Duration::from_secs(2))).await;
    // The guide's answers for the first four polls: a well-behaved device never polls too
    // fast for the fake to say `slow_down` by itself.
    let pending = || Fault::status(400).body("application/json", fixture("auth_token_400_authorization_pending"));
    let slow_down = || Fault::status(400).body("application/json", fixture("error_400_slow_down"));
    for fault in [pending(), slow_down(), pending(), slow_down()] {
        fake.fault(Target::operation(TOKEN_OP), fault);
    }
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), device());
    let shown = Mutex::new(Vec::new());
    let started = Instant::now();
    let tokens = auth
        .authorize(|code| {
            shown.lock().unwrap().push(code.user_code().to_owned());
            assert!(fake.pair_device(code.user_code(), &project));
        })
        .await
        .unwrap();
    let [user_code] = &shown.into_inner().unwrap()[..] else { panic!("one code shown") };
    assert_eq!(user_code.len(), 6);
    let access = tokens.access_token().expose_secret();
    bearer(&fake, access).accounts_device_identify().send().await.expect("the fake's own tokens, which work");

    let polls = fake.requests_to(TOKEN_OP);
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
    assert_eq!(poll["client_id"], SERIAL);
    assert!(!poll["device_code"].is_empty());
    assert!(polls.iter().all(|p| form(p)["device_code"] == poll["device_code"]), "one code, polled five times");
    assert!(!poll.contains_key("client_secret"), "the guide's poll sends no secret");
}

#[tokio::test(start_paused = true)]
async fn an_expired_code_is_replaced_and_the_new_one_shown() {
    // Codes live 12 s, polled every 5 s; the fake says the first one expired early.
    let (fake, project) =
        start(Pairing::new().code_ttl(Duration::from_secs(12)).interval(Duration::from_secs(5))).await;
    fake.fault(
        Target::operation(TOKEN_OP),
        Fault::status(400).body("application/json", fixture("auth_token_400_expired_token")),
    );
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), device());
    let mut shown = Vec::new();
    let tokens = auth
        .authorize(|code| {
            shown.push(code.user_code().to_owned());
            if shown.len() == 3 {
                assert!(fake.pair_device(code.user_code(), &project));
            }
        })
        .await
        .unwrap();
    assert!(tokens.refresh_token().is_some());
    assert_eq!(shown.len(), 3, "every new code is handed to the app: {shown:?}");
    assert!(shown[0] != shown[1] && shown[1] != shown[2], "{shown:?}");
    // Code 1: one poll (expired_token); code 2: polls at 5 s and 10 s, none at 15 s (past its 12 s); code 3: one.
    let codes: Vec<String> = fake.requests_to(TOKEN_OP).iter().map(|p| form(p)["device_code"].clone()).collect();
    assert_eq!(codes.len(), 4, "{codes:?}");
    assert!(codes[0] != codes[1] && codes[1] == codes[2] && codes[2] != codes[3], "{codes:?}");
    assert_eq!(fake.requests_to(CODE_OP).len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_declined_pairing_fails_and_transient_failures_do_not() {
    let (fake, _) = start(Pairing::new().interval(Duration::from_secs(1))).await;
    fake.fault(Target::operation(TOKEN_OP), Fault::status(502).body("text/html", "<html>Bad gateway</html>"));
    fake.fault(
        Target::operation(TOKEN_OP),
        Fault::status(400).body("application/json", fixture("auth_token_400_authorization_pending")),
    );
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), device());
    let err = auth.authorize(|code| assert!(fake.deny_device(code.user_code()))).await.unwrap_err();
    assert_eq!(error_kind(&err), C2cErrorKind::AccessDenied, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    let statuses: Vec<_> = fake.requests_to(TOKEN_OP).iter().map(RecordedRequest::status).collect();
    assert_eq!(statuses, [Some(502), Some(400), Some(401)], "the fake's own denial last");
}

// ---------------------------------------------------------------------------
// Refresh: single-flight, rotation persisted, refusal

#[tokio::test]
async fn concurrent_calls_share_one_refresh_and_the_new_refresh_token_is_on_disk() {
    let (fake, seeded) = with_device().await;
    // The refresh takes a while, so that all eight callers wait for it.
    fake.fault(Target::operation(TOKEN_OP), Fault::delay(Duration::from_millis(50)));
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("tokens.json"));
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), device());
    let stale = expired_tokens("at-stale", &seeded.tokens.refresh_token);
    let provider = DeviceTokenProvider::builder(auth, stale).store(store.clone()).build();
    let client = c2c_builder(&fake).token_provider(provider.clone()).build().unwrap();

    let beats = (0..8).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.devices_device_heartbeat().send().await })
    });
    for beat in futures::future::join_all(beats).await {
        beat.unwrap().unwrap();
    }
    let [refresh] = &fake.requests_to(TOKEN_OP)[..] else { panic!("one refresh for eight callers") };
    let sent = form(refresh);
    assert_eq!(
        (sent["grant_type"].as_str(), sent["refresh_token"].as_str()),
        ("refresh_token", seeded.tokens.refresh_token.as_str())
    );
    assert_eq!(sent["client_secret"], SECRET);
    let live = fake.device_tokens(&seeded.id).unwrap();
    let bearer = format!("Bearer {}", live.access_token);
    assert!(fake.requests_to(HEARTBEAT).iter().all(|h| h.header("authorization") == Some(bearer.as_str())));
    let saved = store.load().unwrap().unwrap();
    assert_eq!(secret(saved.refresh_token()), live.refresh_token, "the rotated refresh token is on disk");
    assert!(saved.expires_at().unwrap() > SystemTime::now() + Duration::from_secs(7 * 3600));

    // The next refresh spends the new refresh token; the fake refuses the old one, spent.
    let access = provider.refresh().await.unwrap();
    let rotated = fake.device_tokens(&seeded.id).unwrap();
    assert_eq!(access.expose_secret(), rotated.access_token);
    assert_eq!(form(&fake.requests_to(TOKEN_OP)[1])["refresh_token"], live.refresh_token);
    assert_eq!(secret(store.load().unwrap().unwrap().refresh_token()), rotated.refresh_token);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["tokens.json"], "no temporary file is left behind");
}

#[tokio::test]
async fn a_dropped_caller_does_not_lose_the_rotated_token() {
    let (fake, seeded) = with_device().await;
    fake.fault(Target::operation(TOKEN_OP), Fault::delay(Duration::from_millis(50)));
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("tokens.json"));
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), device());
    let stale = expired_tokens("at-stale", &seeded.tokens.refresh_token);
    let provider = DeviceTokenProvider::builder(auth, stale).store(store.clone()).build();
    // Give up while the refresh is in flight (the fake answers after 50 ms).
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
    let live = fake.device_tokens(&seeded.id).unwrap();
    assert_eq!(secret(saved.refresh_token()), live.refresh_token);
    assert_eq!(provider.token().await.unwrap().expose_secret(), live.access_token);
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_401_is_refreshed_once_and_a_refused_refresh_asks_to_pair_again() {
    let (fake, seeded) = with_device().await;
    // An access token the fake no longer takes, though the device thinks it valid.
    let (client, provider) = paired(&fake, valid_tokens("at-revoked", &seeded.tokens.refresh_token));
    client.accounts_device_identify().send().await.unwrap();
    let paths: Vec<_> = fake.requests().into_iter().map(|h| (h.status(), h.path)).collect();
    let expected = [(Some(401), "/v2/devices/me"), (Some(200), "/v2/auth/token"), (Some(200), "/v2/devices/me")];
    assert_eq!(paths, expected.map(|(s, p)| (s, p.to_string())));

    // A refresh token that was already spent: the authorization is gone.
    provider.replace(valid_tokens("at-revoked", &seeded.tokens.refresh_token));
    let err = provider.refresh().await.unwrap_err();
    assert!(matches!(err, AuthError::SignInAgain { .. }), "{err:?}");
    assert!(provider.tokens().is_none());
    let err = client.accounts_device_identify().send().await.unwrap_err();
    assert_eq!((error_kind(&err), classify(&err)), (C2cErrorKind::SignInAgain, C2cErrorClass::Fatal));
}

#[tokio::test]
async fn revoking_forgets_the_tokens_everywhere() {
    let (fake, seeded) = with_device().await;
    let dir = tempfile::tempdir().unwrap();
    let store = FileTokenStore::new(dir.path().join("tokens.json"));
    let tokens = valid_tokens(&seeded.tokens.access_token, &seeded.tokens.refresh_token);
    store.save(&tokens).unwrap();
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), device());
    let provider = DeviceTokenProvider::builder(auth, tokens).store(store.clone()).build();
    provider.revoke().await.unwrap();
    assert_eq!(form(&fake.requests()[0])["token"], seeded.tokens.refresh_token);
    assert_eq!(fake.device_tokens(&seeded.id), None, "the fake revoked the authorization");
    assert!(store.load().unwrap().is_none());
    assert!(matches!(provider.token().await, Err(AuthError::SignInAgain { .. })));
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
    let (fake, seeded) = with_device().await;
    let client = bearer(&fake, &seeded.tokens.access_token);
    let heartbeat = client.heartbeat().interval(Duration::from_secs(10));
    assert_eq!(heartbeat.current_interval(), Duration::from_secs(60), "no more than once a minute");
    assert_eq!(client.heartbeat().interval(Duration::from_secs(3600)).current_interval(), Duration::from_secs(300));
    let started = Instant::now();
    let handle = heartbeat.start();
    tokio::time::sleep(Duration::from_secs(330)).await;

    let beats = fake.requests_to(HEARTBEAT);
    assert_eq!(seconds_after(&beats, started), [0, 60, 120, 180, 240, 300]);
    assert!(beats.iter().all(|b| b.status() == Some(204)));
    let status = handle.current();
    assert_eq!((status.link.clone(), status.beats, status.paused), (Link::Online, 6, Some(false)));
    assert_eq!(status.project_name(), Some("Testbed"), "from the fake's `/v2/devices/me`");

    drop(handle);
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(fake.requests_to(HEARTBEAT).len(), 6, "stopped on drop");
}

#[tokio::test(start_paused = true)]
async fn the_status_reports_pauses_outages_and_lost_authorization() {
    let (fake, seeded) = with_device().await;
    // Two good beats, then an outage, a pause (the guide's 409) and a lost authorization.
    for fault in [
        Fault::pass().times(2),
        Fault::hang_up(),
        Fault::json(409, fixture("assets_create_409_channel_paused")),
        Fault::json(401, fixture("error_401_not_authorized")),
    ] {
        fake.fault(Target::operation(HEARTBEAT), fault);
    }
    // The fake's own answer first (online), then the device is paused in Frame.io.
    fake.fault(Target::operation(IDENTIFY), Fault::pass());
    fake.fault(Target::operation(IDENTIFY), Fault::json(200, device_json("paused")).times(10));
    let client = c2c_builder(&fake)
        .bearer_token(seeded.tokens.access_token.as_str())
        .retry_policy(frameio_ext::RetryPolicy::none())
        .build()
        .unwrap();
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
    let (fake, seeded) = with_device().await;
    // The fake has no channels: every answer is the guide's (or a proxy's).
    fake.fault(Target::operation("devices_disconnect_all_device_channels"), Fault::empty(204));
    let one = Target::operation("devices_disconnect_device_channel");
    fake.fault(one.clone(), Fault::empty(204));
    fake.fault(one, Fault::json(404, "{}"));
    let connect = Target::operation("devices_connect_device_channel");
    for fault in [
        Fault::json(200, fixture("channels_connect_200")),
        Fault::json(409, already),
        Fault::empty(409),
        Fault::json(409, fixture("assets_create_409_channel_paused")),
    ] {
        fake.fault(connect.clone(), fault);
    }
    let client = bearer(&fake, &seeded.tokens.access_token);
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

    let hits = fake.requests();
    assert_eq!(hits[0].path, "/v2/devices/channels/disconnect", "the boot sequence clears the channels first");
    assert_eq!(json(&hits[1]), serde_json::json!({"client_id": "MIC-1", "device_model_id": "model-mic"}));
    assert_eq!(hits.last().unwrap().path, "/v2/devices/channels/ch-1/disconnect");
    assert_eq!(fake.pending_faults(), 0, "every scripted answer was asked for");
}

// ---------------------------------------------------------------------------
// Secrets

#[tokio::test]
async fn secrets_stay_out_of_debug_and_errors() {
    let (fake, seeded) = with_device().await;
    // A device code we know, to look for.
    let code_json = r#"{"device_code": "dc-5ecre7", "expires_in": 120, "interval": 5, "name": "MyDevice-SN-0042",
        "user_code": "573131"}"#;
    fake.fault(Target::operation(CODE_OP), Fault::json(200, code_json));
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), device());
    let code = auth.request_code().await.unwrap();
    // A refresh token the fake does not know: refused as a reused one.
    let provider = DeviceTokenProvider::builder(auth.clone(), expired_tokens("at-5ecre7", "rt-5ecre7")).build();
    let refused = provider.token().await.unwrap_err();
    assert_eq!(fake.requests_to(TOKEN_OP)[0].status(), Some(400));
    let client = c2c_builder(&fake).token_provider(provider.clone()).build().unwrap();
    let live = bearer(&fake, &seeded.tokens.access_token);
    for shown in [
        format!("{auth:?}"),
        format!("{code:?}"),
        format!("{provider:?}"),
        format!("{client:?}"),
        format!("{live:?}"),
        format!("{:?}", expired_tokens("at-5ecre7", "rt-5ecre7")),
        format!("{refused:?} {refused}"),
    ] {
        let tokens = [seeded.tokens.access_token.as_str(), &seeded.tokens.refresh_token];
        for secret in [SECRET, "dc-5ecre7", "at-5ecre7", "rt-5ecre7"].into_iter().chain(tokens) {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
    assert!(format!("{code:?}").contains("573131"), "the user code is for showing");
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
            replies.push(Fault::json(status, body(message, status, shape)));
            expected.push((format!("{message} ({status})"), kind.clone(), class));
        }
    }
    replies.push(Fault::json(409, fixture("assets_create_409_channel_paused")));
    expected.push(("the guide's Channel Paused".into(), K::ChannelPaused, Fatal));
    for (status, kind, class) in statuses {
        replies.push(Fault::empty(status));
        expected.push((format!("bare {status}"), kind.clone(), class));
        replies.push(Fault::status(status).body("text/html", "<html>proxy</html>"));
        expected.push((format!("{status} from a proxy"), kind, class));
    }
    // Beyond the tables: the example handler retries unknown API errors and 404s.
    replies.push(Fault::json(403, r#"{"error": "something_new"}"#));
    expected.push(("an unknown message".into(), K::Unknown, Retry));
    replies.push(Fault::json(404, "{}"));
    expected.push(("404".into(), K::NotFound, Retry));

    let count = replies.len();
    let (fake, seeded) = with_device().await;
    for reply in replies {
        fake.fault(Target::operation(HEARTBEAT), reply);
    }
    let client = c2c_builder(&fake)
        .bearer_token(seeded.tokens.access_token.as_str())
        .retry_policy(frameio_ext::RetryPolicy::none())
        .build()
        .unwrap();
    for (what, kind, class) in expected {
        let err = client.devices_device_heartbeat().send().await.unwrap_err();
        assert_eq!((error_kind(&err), classify(&err)), (kind, class), "{what}: {err}");
    }
    assert_eq!(fake.requests().len(), count);
    assert_eq!(fake.pending_faults(), 0);
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

    let (fake, seeded) = with_device().await;
    fake.fault(Target::operation(HEARTBEAT), Fault::delay(Duration::from_secs(5)));
    let slow = c2c_builder(&fake)
        .bearer_token(seeded.tokens.access_token.as_str())
        .timeout(Duration::from_millis(100))
        .retry_policy(frameio_ext::RetryPolicy::none())
        .build()
        .unwrap();
    let err = slow.devices_device_heartbeat().send().await.unwrap_err();
    assert_eq!((error_kind(&err), classify(&err)), (C2cErrorKind::Timeout, C2cErrorClass::Retry));
    assert!(error_kind(&err).suggests_disconnected());
}
