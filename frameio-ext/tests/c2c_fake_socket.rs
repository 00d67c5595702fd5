//! The C2C realtime socket client against the embedded fake's socket
//! (`frameio_fake`, `/devices/websocket` on 127.0.0.1): the client joins the
//! device channel the fake names in `/v2/devices/me`, the fake answers its
//! heartbeats (the socket stays online, with one session) and its requests by
//! `ref`, shows the device online while joined, refuses at the upgrade
//! (403) a token it no longer honours, and pushes `status_updated` when a test
//! pauses the device.
//!
//! Intervals are milliseconds on the real clock, as in `c2c_socket.rs`.

mod support;

use std::time::{Duration, SystemTime};

use frameio_ext::c2c::{
    C2cClient, C2cErrorKind, ConnectionState, DeviceAuth, DeviceCredentials, DeviceTokenProvider, ReplyStatus, Socket,
    SocketBuilder, SocketError, SocketState, error_kind,
};
use frameio_ext::{AccessToken, Backoff, RetryPolicy, TokenSet};
use frameio_fake::{C2C_SOCKET, Fake, FakeBuilder, Fault, IssuedTokens, Target};
use frameio_gen::c2c::types::{AssetCreateRequest, ProjectDeviceStatus};
use serde_json::json;
use support::c2c_builder;
use tokio::time::timeout;

const CLIENT_SECRET: &str = "cs-5ecre7-fake-socket";

/// A fake with device `SN-0042` paired to a project: the fake, the device id, its tokens.
async fn paired(builder: FakeBuilder) -> (Fake, String, IssuedTokens) {
    let fake = builder.start().await.unwrap();
    let project = fake.seed().account("Acme").workspace("W").project("Set").id;
    let device = fake.seed().device("SN-0042", &project);
    (fake, device.id, device.tokens)
}

/// A socket beating every `beat`, a reply allowed 500 ms, reconnecting after 20 ms.
fn quick(client: &C2cClient, beat: Duration) -> SocketBuilder {
    let backoff = Duration::from_millis(20);
    client.socket().heartbeat_interval(beat).heartbeat_timeout(Duration::from_millis(500)).reconnect_policy(
        RetryPolicy::c2c()
            .backoff(Backoff::new().initial(backoff).max_delay(backoff).jitter(0.0))
            .max_attempts(u32::MAX)
            .max_elapsed(Duration::MAX),
    )
}

/// A client refreshing its tokens through the fake.
fn refreshing(fake: &Fake, tokens: &IssuedTokens) -> C2cClient {
    let auth = DeviceAuth::new(c2c_builder(fake).build().unwrap(), DeviceCredentials::new("SN-0042", CLIENT_SECRET));
    let expiry = SystemTime::now() + Duration::from_secs(8 * 3600);
    let set = TokenSet::new(AccessToken::new(tokens.access_token.as_str()).with_expiry(expiry))
        .with_refresh_token(tokens.refresh_token.as_str());
    c2c_builder(fake).token_provider(DeviceTokenProvider::builder(auth, set).build()).build().unwrap()
}

async fn wait_until(socket: &Socket, what: &str, done: impl Fn(&SocketState) -> bool) -> SocketState {
    let mut status = socket.status();
    let waited = timeout(Duration::from_secs(10), status.wait_for(|s| done(s))).await;
    waited.unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", socket.current())).unwrap().clone()
}

async fn wait_for(what: &str, done: impl Fn() -> bool) {
    for _ in 0..2000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("timed out waiting for {what}");
}

/// The statuses the fake answered the socket's upgrades with, in order.
fn upgrades(fake: &Fake) -> Vec<Option<u16>> {
    fake.requests_to(C2C_SOCKET).iter().map(|r| r.status()).collect()
}

#[tokio::test]
async fn the_client_comes_online_on_the_fake_and_its_heartbeats_and_requests_are_answered_by_ref() {
    let (fake, device, tokens) = paired(Fake::builder()).await;
    let client = c2c_builder(&fake).bearer_token(tokens.access_token.as_str()).build().unwrap();
    let offline = client.accounts_device_identify().await.unwrap();
    assert_eq!(offline.status, Some(ProjectDeviceStatus::Offline), "no socket yet");

    let socket = quick(&client, Duration::from_millis(20)).connect().await.unwrap();
    assert_eq!(socket.current().device_id(), Some(device.as_str()), "the channel of /v2/devices/me's id");
    assert_eq!(fake.device_socket(&device).joined, 1);
    let online = client.accounts_device_identify().await.unwrap();
    assert_eq!(online.status, Some(ProjectDeviceStatus::Online), "joined: online in the C2C Connections panel");

    // 20 ms beats with a 500 ms reply timeout: an unanswered (or misreferenced)
    // heartbeat would drop the connection and open a second session.
    wait_for("ten heartbeats answered", || fake.device_socket(&device).heartbeats >= 10).await;
    assert_eq!(socket.current().connection, ConnectionState::Online);
    assert_eq!(fake.device_socket(&device).sessions, 1, "never reconnected");
    assert_eq!(upgrades(&fake), [Some(101)]);

    // A request on the channel gets the reply with its own ref.
    let reply = socket.send("ping", json!({"n": 1})).await.unwrap();
    assert_eq!((reply.status, reply.response), (ReplyStatus::Error, json!({"reason": "unknown event"})));

    socket.close().await;
    wait_for("the channel left", || fake.device_socket(&device).joined == 0).await;
    let closed = client.accounts_device_identify().await.unwrap();
    assert_eq!(closed.status, Some(ProjectDeviceStatus::Offline));
}

#[tokio::test]
async fn a_revoked_token_is_refused_at_the_upgrade_and_the_socket_gives_up() {
    // The fake drops sockets quiet for 150 ms; this client beats every 10 s, so it reconnects.
    let (fake, device, tokens) = paired(Fake::builder().c2c_socket_timeout(Duration::from_millis(150))).await;
    let client = c2c_builder(&fake).bearer_token(tokens.access_token.as_str()).build().unwrap();
    let socket = quick(&client, Duration::from_secs(10)).connect().await.unwrap();

    // The device is unpaired meanwhile: its tokens are gone.
    let auth = DeviceAuth::new(c2c_builder(&fake).build().unwrap(), DeviceCredentials::new("SN-0042", CLIENT_SECRET));
    auth.revoke(&tokens.refresh_token.clone().into()).await.unwrap();
    assert!(fake.device_tokens(&device).is_none());

    let state =
        wait_until(&socket, "the socket to close", |s| matches!(s.connection, ConnectionState::Closed(_))).await;
    let ConnectionState::Closed(SocketError::AuthorizationLost { reason }) = &state.connection else {
        panic!("{:?}", state.connection)
    };
    assert!(reason.contains("403"), "{reason}");
    assert_eq!(upgrades(&fake), [Some(101), Some(403)], "the same token, now refused");
    assert_eq!(fake.device_socket(&device).joined, 0);
}

#[tokio::test]
async fn a_refused_upgrade_renews_the_token_and_the_fake_accepts_the_new_one() {
    let (fake, device, tokens) = paired(Fake::builder()).await;
    fake.fault(Target::operation(C2C_SOCKET), Fault::status(403));
    let client = refreshing(&fake, &tokens);
    let socket = quick(&client, Duration::from_millis(50)).connect().await.unwrap();
    assert!(socket.current().connection.is_online());

    assert_eq!(upgrades(&fake), [Some(403), Some(101)]);
    let renewed = fake.device_tokens(&device).unwrap();
    assert_ne!(renewed.access_token, tokens.access_token, "the refresh rotated the tokens");
    let accepted = &fake.requests_to(C2C_SOCKET)[1];
    assert_eq!(accepted.query_param("Authorization"), Some(format!("Bearer {}", renewed.access_token)));
    assert_eq!(fake.device_socket(&device).joined, 1);
    socket.close().await;
}

#[tokio::test]
async fn a_device_paused_on_the_fake_is_paused_in_the_socket_state_and_its_assets_are_refused() {
    let (fake, device, tokens) = paired(Fake::builder()).await;
    let client = c2c_builder(&fake).bearer_token(tokens.access_token.as_str()).build().unwrap();
    let socket = quick(&client, Duration::from_millis(50)).connect().await.unwrap();
    assert_eq!(socket.current().paused, Some(false), "online, from /v2/devices/me");

    assert!(fake.pause_device(&device));
    wait_until(&socket, "the status_updated push", |s| s.paused == Some(true)).await;
    let asset = json!({"name": "A001.mov", "filetype": "video/quicktime", "filesize": 10});
    let body: AssetCreateRequest = serde_json::from_value(asset).unwrap();
    let refused = client.devices_device_asset_create().body(body).await.unwrap_err();
    assert_eq!(error_kind(&refused), C2cErrorKind::ChannelPaused, "{refused}");

    assert!(fake.resume_device(&device));
    wait_until(&socket, "the resumed push", |s| s.paused == Some(false)).await;
    assert_eq!(socket.current().connection, ConnectionState::Online);
    socket.close().await;
}
