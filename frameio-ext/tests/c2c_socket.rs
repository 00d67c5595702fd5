//! The C2C realtime socket against a real WebSocket server on 127.0.0.1
//! speaking the guide's Phoenix channel messages (`c2c_socket_server`): the
//! join and heartbeats in the guide's shapes, pushes, replies paired by
//! `ref`, reconnection (a closed socket, a dead heartbeat, an oversized
//! frame), a refused join, malformed frames, a token refused at the upgrade
//! (renewed, or lost), bounded requests, the device status that folds the
//! socket in, and no token in any log line, `Debug` or error.
//!
//! Intervals are milliseconds on the real clock (a paused clock would jump
//! past the server's answers while real sockets wait).

mod support;

use std::cell::RefCell;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use frameio_ext::c2c::{
    C2cClient, ConnectionState, DeviceAuth, DeviceCredentials, DeviceStatus, DeviceTokenProvider, Event, Link,
    ReplyStatus, Socket, SocketBuilder, SocketError, SocketState, StatusUpdate,
};
use frameio_ext::{AccessToken, Backoff, RetryPolicy, TokenSet};
use futures::StreamExt;
use serde_json::{Value, json};
use support::socket_server::{DEVICE_ID, PhoenixServer, Script};
use tokio::time::{Instant, timeout};

/// Every secret in this file has it; none may show anywhere.
const MARK: &str = "5ecre7";
const TOKEN: &str = "at-5ecre7-socket-1";
const RENEWED: &str = "at-5ecre7-socket-2";
const REFRESH: &str = "rt-5ecre7-socket";
const CLIENT_SECRET: &str = "cs-5ecre7-socket";

const fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn topic() -> String {
    format!("devices:{DEVICE_ID}")
}

fn tokens_json(access: &str, refresh: &str) -> String {
    format!(
        r#"{{"access_token": "{access}", "expires_in": 28800, "refresh_token": "{refresh}", "token_type": "bearer"}}"#
    )
}

/// A client of `server` paired with [`TOKEN`], refreshing through the same
/// server.
fn paired(server: &PhoenixServer) -> (C2cClient, DeviceTokenProvider) {
    let builder = C2cClient::builder().base_url(server.url()).client_version("1.4.2").retry_policy(RetryPolicy::none());
    let auth = DeviceAuth::new(builder.clone().build().unwrap(), DeviceCredentials::new("SN-0042", CLIENT_SECRET));
    let tokens = TokenSet::new(AccessToken::new(TOKEN).with_expiry(SystemTime::now() + Duration::from_secs(8 * 3600)))
        .with_refresh_token(REFRESH);
    let provider = DeviceTokenProvider::builder(auth, tokens).build();
    (builder.token_provider(provider.clone()).build().unwrap(), provider)
}

/// A socket beating every 50 ms (a reply may take 400 ms), reconnecting after
/// `backoff`.
fn quick(client: &C2cClient, backoff: Duration) -> SocketBuilder {
    client.socket().heartbeat_interval(ms(50)).heartbeat_timeout(ms(400)).reply_timeout(ms(500)).reconnect_policy(
        RetryPolicy::c2c()
            .backoff(Backoff::new().initial(backoff).max_delay(backoff).jitter(0.0))
            .rate_limit_floor(backoff)
            .max_attempts(u32::MAX)
            .max_elapsed(Duration::MAX),
    )
}

/// Waits (up to 10 s) until the socket's state satisfies `done`.
async fn wait_until(socket: &Socket, what: &str, done: impl Fn(&SocketState) -> bool) -> SocketState {
    let mut status = socket.status();
    let waited = timeout(Duration::from_secs(10), status.wait_for(|s| done(s))).await;
    waited.unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", socket.current())).unwrap().clone()
}

/// Every connection state the socket goes through from now on.
fn record(socket: &Socket) -> Arc<Mutex<Vec<ConnectionState>>> {
    let mut status = socket.status();
    let seen = Arc::new(Mutex::new(vec![status.borrow_and_update().connection.clone()]));
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        while status.changed().await.is_ok() {
            let now = status.borrow_and_update().connection.clone();
            let mut log = log.lock().unwrap();
            if log.last() != Some(&now) {
                log.push(now);
            }
        }
    });
    seen
}

async fn next_event(events: &mut frameio_ext::c2c::Events) -> Event {
    timeout(Duration::from_secs(5), events.next()).await.expect("an event in time").expect("the stream is open")
}

/// `frame` with its `ref` checked to be a string and replaced by `"<ref>"`.
fn without_ref(frame: &Value) -> Value {
    assert!(frame["ref"].is_string(), "refs are strings: {frame}");
    let mut frame = frame.clone();
    frame["ref"] = json!("<ref>");
    frame
}

// ---------------------------------------------------------------------------
// Log capture: `tracing` (through tracing-subscriber's formatter) and the
// `log` records of tungstenite, per test thread.

thread_local! {
    static CAPTURED: RefCell<Option<Arc<Mutex<String>>>> = const { RefCell::new(None) };
}

fn capture(write: impl FnOnce(&mut String)) {
    CAPTURED.with(|captured| {
        if let Some(logs) = &*captured.borrow() {
            write(&mut logs.lock().unwrap());
        }
    });
}

struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        capture(|logs| logs.push_str(&String::from_utf8_lossy(bytes)));
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct LogRecords;

impl log::Log for LogRecords {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        capture(|logs| {
            let _ = writeln!(logs, "{} {}: {}", record.level(), record.target(), record.args());
        });
    }

    fn flush(&self) {}
}

/// Captures everything logged on this thread (the test's current-thread
/// runtime runs the socket and the server there too). Installed globally
/// once: callsite interest is cached process-wide.
fn capture_logs_on_this_thread() -> Arc<Mutex<String>> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadWriter)
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        log::set_logger(&LogRecords).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
    let logs = Arc::default();
    CAPTURED.with(|captured| *captured.borrow_mut() = Some(Arc::clone(&logs)));
    logs
}

fn assert_no_secret(logs: &Mutex<String>) {
    let logs = logs.lock().unwrap();
    assert!(!logs.is_empty(), "something was logged");
    assert!(!logs.contains(MARK), "a secret was logged:\n{logs}");
    // tungstenite traces frame payloads in hex.
    let hex: String = MARK.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!logs.contains(&hex), "a secret was logged in hex:\n{logs}");
}

// ---------------------------------------------------------------------------

#[tokio::test]
async fn connects_joins_beats_and_exchanges_messages_in_the_guides_shapes() {
    let logs = capture_logs_on_this_thread();
    let server = PhoenixServer::start(Script::default()).await;
    let (client, _) = paired(&server);
    let socket = quick(&client, ms(50)).connect().await.unwrap();
    let mut status = socket.status();
    let state = socket.current();
    assert_eq!(state.connection, ConnectionState::Online);
    assert_eq!((state.device_id(), state.paused), (Some(DEVICE_ID), Some(false)), "the connection information");

    let upgrades = server.upgrades();
    assert_eq!(upgrades.len(), 1);
    assert_eq!(upgrades[0].query, format!("Authorization=Bearer%20{TOKEN}"), "the token, URL-encoded after `Bearer `");
    assert_eq!(upgrades[0].client_version.as_deref(), Some("1.4.2"), "the upgrade carries x-client-version");
    let identified = server.calls("/v2/devices/me");
    assert_eq!(identified.len(), 1);
    assert_eq!(identified[0].authorization, Some(format!("Bearer {TOKEN}")));

    server.wait_for("five heartbeats", |s| s[0].events("heartbeat").len() >= 5).await;
    let session = &server.sessions()[0];
    assert_eq!(
        without_ref(&session.frames[0].1),
        json!({"topic": topic(), "event": "phx_join", "payload": "", "ref": "<ref>"}),
        "the guide's join"
    );
    let beats = session.events("heartbeat");
    for (_, beat) in &beats {
        assert_eq!(without_ref(beat), json!({"topic": "phoenix", "event": "heartbeat", "payload": "", "ref": "<ref>"}));
    }
    let refs: std::collections::HashSet<&Value> = beats.iter().map(|(_, b)| &b["ref"]).collect();
    assert_eq!(refs.len(), beats.len(), "every message has a ref of its own");
    for pair in beats.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(gap >= ms(40) && gap < ms(1000), "a heartbeat every 50 ms: {gap:?}");
    }
    assert_eq!(socket.current().connection, ConnectionState::Online, "every heartbeat was answered");

    let mut events = socket.events();
    server.push(&json!({"topic": topic(), "event": "status_updated", "payload": "paused", "ref": null}).to_string());
    assert_eq!(next_event(&mut events).await, Event::Status(StatusUpdate::Paused));
    assert_eq!(socket.current().paused, Some(true));
    server.push(&json!({"topic": topic(), "event": "config_updated", "payload": {"bitrate": 12}}).to_string());
    match next_event(&mut events).await {
        Event::Push(push) => {
            assert_eq!((push.topic.as_str(), push.event.as_str()), (topic().as_str(), "config_updated"));
            assert_eq!(push.payload, json!({"bitrate": 12}), "kept as raw JSON");
        }
        other => panic!("a push: {other:?}"),
    }

    let reply = socket.send("ping", json!({"n": 1})).await.unwrap();
    assert!(reply.is_ok());
    assert_eq!(reply.response, json!({"echo": {"n": 1}}));
    assert!(matches!(next_event(&mut events).await, Event::Reply { event, reply: r } if event == "ping" && r == reply));
    let refused = socket.send("refuse", json!("")).await.unwrap();
    assert_eq!((refused.status, refused.response), (ReplyStatus::Error, json!({"reason": "refused"})));
    assert!(matches!(next_event(&mut events).await, Event::Reply { event, .. } if event == "refuse"));
    let sent = server.sessions()[0].events("ping");
    assert_eq!(
        without_ref(&sent[0].1),
        json!({"topic": topic(), "event": "ping", "payload": {"n": 1}, "ref": "<ref>"})
    );

    socket.close().await;
    assert_eq!(status.borrow_and_update().connection, ConnectionState::Closed(SocketError::Stopped));
    server.wait_for("the session to end", |s| s[0].ended).await;
    assert!(events.next().await.is_none(), "the events end with the socket");
    assert_no_secret(&logs);
}

#[tokio::test]
async fn a_closed_socket_is_opened_again_and_the_channel_joined_again() {
    let logs = capture_logs_on_this_thread();
    let server = PhoenixServer::start(Script::default()).await;
    let (client, _) = paired(&server);
    let socket = quick(&client, ms(100)).connect().await.unwrap();
    let seen = record(&socket);

    server.close_all();
    server.wait_for("a second session", |s| s.len() == 2).await;
    wait_until(&socket, "online again", |s| s.connection.is_online()).await;
    let closed = SocketError::Closed { code: Some(1001), reason: "restarting".into() };
    assert_eq!(
        *seen.lock().unwrap(),
        [ConnectionState::Online, ConnectionState::Reconnecting { attempt: 1, error: closed }, ConnectionState::Online]
    );
    let sessions = server.sessions();
    assert!(sessions[0].ended);
    assert_eq!(without_ref(&sessions[1].frames[0].1)["event"], "phx_join", "joined again");
    assert_eq!(sessions[1].frames[0].1["topic"], topic());
    let upgrades = server.upgrades();
    assert_eq!(upgrades.len(), 2);
    assert!(upgrades.iter().all(|u| u.authorization == Some(format!("Bearer {TOKEN}"))));
    assert_eq!(server.calls("/v2/devices/me").len(), 1, "the same token: no need to identify again");
    server.wait_for("heartbeats on the new session", |s| s[1].events("heartbeat").len() >= 2).await;
    assert_no_secret(&logs);
}

#[tokio::test]
async fn an_unanswered_heartbeat_is_detected_and_the_socket_reconnected() {
    let logs = capture_logs_on_this_thread();
    let script = Script { heartbeats: Arc::new(|session| session > 0), ..Script::default() };
    let server = PhoenixServer::start(script).await;
    let (client, _) = paired(&server);
    let socket = quick(&client, ms(50)).heartbeat_timeout(ms(150)).connect().await.unwrap();
    let seen = record(&socket);

    server.wait_for("a second session", |s| s.len() == 2 && !s[1].frames.is_empty()).await;
    wait_until(&socket, "online again", |s| s.connection.is_online()).await;
    let dead = SocketError::Timeout { waiting_for: "heartbeat reply", after: ms(150) };
    assert_eq!(
        *seen.lock().unwrap(),
        [ConnectionState::Online, ConnectionState::Reconnecting { attempt: 1, error: dead }, ConnectionState::Online]
    );
    let sessions = server.sessions();
    let unanswered = sessions[0].events("heartbeat");
    assert_eq!(unanswered.len(), 1, "no second heartbeat while one waits for its reply");
    let detected = sessions[1].frames[0].0 - unanswered[0].0;
    assert!(detected >= ms(150) + ms(50), "the timeout, then the back-off: {detected:?}");
    assert!(detected < ms(2000), "detected soon after the timeout: {detected:?}");
    server.wait_for("answered heartbeats", |s| s[1].events("heartbeat").len() >= 3).await;
    assert!(socket.current().connection.is_online(), "answered heartbeats keep it up");
    assert_no_secret(&logs);
}

/// The one-line form: `C2cClient::connect` opens the socket with the
/// defaults, online when it returns, and `?` turns a refusal into the crate's
/// error.
#[tokio::test]
async fn the_client_connects_with_the_defaults_in_one_call() {
    let server = PhoenixServer::start(Script::default()).await;
    let (client, _) = paired(&server);
    let socket = client.connect().await.unwrap();
    assert_eq!(socket.current().connection, ConnectionState::Online);
    assert_eq!(socket.current().device_id(), Some(DEVICE_ID));
    socket.close().await;

    let refusing = Script {
        join: Arc::new(|_| json!({"response": {"reason": "unmatched topic"}, "status": "error"})),
        ..Script::default()
    };
    let server = PhoenixServer::start(refusing).await;
    let (client, _) = paired(&server);
    let connect = async { Ok::<_, frameio_ext::Error>(client.connect().await?) };
    let error = connect.await.unwrap_err();
    assert!(matches!(error, frameio_ext::Error::Socket(SocketError::JoinRefused { .. })), "{error}");
    assert_eq!(frameio_ext::c2c::classify(&error), frameio_ext::c2c::C2cErrorClass::Fatal);
}

#[tokio::test]
async fn a_refused_join_is_a_typed_error_and_not_retried() {
    let logs = capture_logs_on_this_thread();
    let script = Script {
        join: Arc::new(|_| json!({"response": {"reason": "unmatched topic"}, "status": "error"})),
        ..Script::default()
    };
    let server = PhoenixServer::start(script).await;
    let (client, _) = paired(&server);
    let error = quick(&client, ms(20)).connect().await.unwrap_err();
    assert_eq!(error, SocketError::JoinRefused { topic: topic(), response: json!({"reason": "unmatched topic"}) });
    assert!(error.to_string().contains("refused to join the device channel"), "{error}");

    let socket = quick(&client, ms(20)).start();
    let state = wait_until(&socket, "closed", |s| matches!(s.connection, ConnectionState::Closed(_))).await;
    assert!(matches!(state.connection, ConnectionState::Closed(SocketError::JoinRefused { .. })));
    tokio::time::sleep(ms(200)).await;
    assert_eq!(server.upgrades().len(), 2, "one attempt per socket: a refusal is not retried");
    assert_eq!(socket.send("ping", json!({})).await.unwrap_err(), state_error(&state), "send says why it closed");
    assert_no_secret(&logs);
}

fn state_error(state: &SocketState) -> SocketError {
    match &state.connection {
        ConnectionState::Closed(error) => error.clone(),
        other => panic!("closed: {other:?}"),
    }
}

#[tokio::test]
async fn malformed_frames_are_ignored_and_the_connection_stays_up() {
    let logs = capture_logs_on_this_thread();
    let server = PhoenixServer::start(Script::default()).await;
    let (client, _) = paired(&server);
    let socket = quick(&client, ms(50)).connect().await.unwrap();
    let mut events = socket.events();

    for bad in [
        "not json at all",
        r#"{"foo": 1}"#,
        "[1, 2, 3]",
        r#"{"topic": "phoenix", "event": "phx_reply", "payload": {"status": "ok"}}"#,
        r#"{"topic": "phoenix", "event": "phx_reply", "payload": "", "ref": "1"}"#,
        r#"{"topic": 7, "event": "x", "payload": ""}"#,
    ] {
        server.push(bad);
    }
    server.push_binary(&[0, 159, 146, 150]);
    server.push(&json!({"topic": topic(), "event": "after", "payload": {}}).to_string());
    match next_event(&mut events).await {
        Event::Push(push) => assert_eq!(push.event, "after", "nothing came before the valid push"),
        other => panic!("the valid push: {other:?}"),
    }
    assert!(socket.current().connection.is_online());
    assert_eq!(socket.send("ping", json!(2)).await.unwrap().response, json!({"echo": 2}));
    assert_eq!(server.sessions().len(), 1, "the same connection");
    let logged = logs.lock().unwrap().clone();
    assert_eq!(logged.matches("ignored a frame that is not a Phoenix message").count(), 6, "{logged}");
    assert!(logged.contains("ignored a binary frame"), "{logged}");
    assert_no_secret(&logs);
}

#[tokio::test]
async fn an_oversized_frame_drops_the_connection_which_is_opened_again() {
    let logs = capture_logs_on_this_thread();
    let server = PhoenixServer::start(Script::default()).await;
    let (client, _) = paired(&server);
    let socket = quick(&client, ms(50)).max_message_size(4096).connect().await.unwrap();
    let seen = record(&socket);
    let big = json!({"topic": topic(), "event": "big", "payload": "x".repeat(10_000)});
    server.push(&big.to_string());
    server.wait_for("a second session", |s| s.len() == 2).await;
    wait_until(&socket, "online again", |s| s.connection.is_online()).await;
    let seen = seen.lock().unwrap().clone();
    assert!(
        matches!(&seen[1], ConnectionState::Reconnecting { attempt: 1, error: SocketError::Transport { reason } }
            if reason.contains("too long")),
        "{seen:?}"
    );
    assert_no_secret(&logs);
}

#[tokio::test]
async fn a_token_refused_at_the_upgrade_is_renewed_and_the_device_identified_again() {
    let logs = capture_logs_on_this_thread();
    let script = Script {
        accept: Arc::new(|token| token == RENEWED),
        token: Arc::new(|_| (200, tokens_json(RENEWED, "rt-5ecre7-socket-2"))),
        ..Script::default()
    };
    let server = PhoenixServer::start(script).await;
    let (client, provider) = paired(&server);
    let socket = quick(&client, ms(50)).connect().await.unwrap();
    assert!(socket.current().connection.is_online());

    let upgrades = server.upgrades();
    let tried: Vec<(Option<&str>, u16)> = upgrades.iter().map(|u| (u.authorization.as_deref(), u.status)).collect();
    let (old, new) = (format!("Bearer {TOKEN}"), format!("Bearer {RENEWED}"));
    assert_eq!(tried, [(Some(old.as_str()), 403), (Some(new.as_str()), 101)]);
    assert_eq!(server.calls("/v2/auth/token").len(), 1, "renewed once");
    let identified: Vec<Option<String>> = server.calls("/v2/devices/me").into_iter().map(|c| c.authorization).collect();
    assert_eq!(identified, [Some(old), Some(new)], "the connection information again after the refresh");
    assert_eq!(provider.tokens().unwrap().access_token().expose_secret(), RENEWED);
    assert_no_secret(&logs);
}

#[tokio::test]
async fn a_refused_renewal_ends_the_socket_without_a_loop() {
    let logs = capture_logs_on_this_thread();
    let server = PhoenixServer::start(Script { accept: Arc::new(|_| false), ..Script::default() }).await;
    let (client, _) = paired(&server);
    let error = quick(&client, ms(20)).connect().await.unwrap_err();
    assert!(matches!(&error, SocketError::AuthorizationLost { reason } if reason.contains("HTTP 403")), "{error:?}");
    assert!(error.to_string().contains("pair the device again"), "{error}");
    tokio::time::sleep(ms(200)).await;
    assert_eq!(server.upgrades().len(), 1, "no loop");
    assert_eq!(server.calls("/v2/auth/token").len(), 1);

    // A renewed token that is refused too.
    let script = Script {
        accept: Arc::new(|_| false),
        token: Arc::new(|_| (200, tokens_json(RENEWED, "rt-5ecre7-socket-2"))),
        ..Script::default()
    };
    let refusing = PhoenixServer::start(script).await;
    let (client, _) = paired(&refusing);
    let error = quick(&client, ms(20)).connect().await.unwrap_err();
    assert!(
        matches!(&error, SocketError::AuthorizationLost { reason } if reason.contains("renewed token too")),
        "{error:?}"
    );
    tokio::time::sleep(ms(200)).await;
    let tried: Vec<u16> = refusing.upgrades().iter().map(|u| u.status).collect();
    assert_eq!((tried, refusing.calls("/v2/auth/token").len()), (vec![403, 403], 1), "renewed once, no loop");

    // A token that cannot be renewed at all.
    let fixed = C2cClient::builder().base_url(server.url()).bearer_token(TOKEN).build().unwrap();
    let error = quick(&fixed, ms(20)).connect().await.unwrap_err();
    assert!(
        matches!(&error, SocketError::AuthorizationLost { reason } if reason.contains("cannot be renewed")),
        "{error:?}"
    );
    tokio::time::sleep(ms(200)).await;
    assert_eq!(server.upgrades().len(), 2);
    assert_no_secret(&logs);
}

#[tokio::test]
async fn a_reply_with_an_unknown_ref_is_ignored() {
    let logs = capture_logs_on_this_thread();
    let server = PhoenixServer::start(Script::default()).await;
    let (client, _) = paired(&server);
    let socket = quick(&client, ms(50)).connect().await.unwrap();
    let mut events = socket.events();
    server.push(
        &json!({"event": "phx_reply", "payload": {"response": {"stray": true}, "status": "ok"}, "ref": "stray",
            "topic": topic()})
        .to_string(),
    );
    let reply = socket.send("ping", json!("a")).await.unwrap();
    assert_eq!(reply.response, json!({"echo": "a"}), "the reply to this send, not the stray one");
    assert!(matches!(next_event(&mut events).await, Event::Reply { event, .. } if event == "ping"));
    assert!(socket.current().connection.is_online());
    assert!(logs.lock().unwrap().contains("ignored a reply to nothing this socket waits for"));
    assert_no_secret(&logs);
}

#[tokio::test]
async fn requests_beyond_the_bound_fail_fast_and_unanswered_ones_time_out() {
    let logs = capture_logs_on_this_thread();
    let server = PhoenixServer::start(Script::default()).await;
    let (client, _) = paired(&server);
    let socket = Arc::new(quick(&client, ms(300)).max_pending(2).reply_timeout(ms(300)).connect().await.unwrap());
    let waiting: Vec<_> = (0..2)
        .map(|_| {
            let socket = Arc::clone(&socket);
            tokio::spawn(async move { socket.send("slow", json!({})).await })
        })
        .collect();
    server.wait_for("two slow requests", |s| s[0].events("slow").len() == 2).await;
    let started = Instant::now();
    assert_eq!(socket.send("ping", json!({})).await.unwrap_err(), SocketError::TooManyPending { limit: 2 });
    assert!(started.elapsed() < ms(100), "at once");
    for request in waiting {
        let error = request.await.unwrap().unwrap_err();
        assert_eq!(error, SocketError::Timeout { waiting_for: "reply", after: ms(300) });
    }
    assert_eq!(socket.send("ping", json!(3)).await.unwrap().response, json!({"echo": 3}), "room again");

    server.close_all();
    wait_until(&socket, "reconnecting", |s| matches!(s.connection, ConnectionState::Reconnecting { .. })).await;
    assert_eq!(socket.send("ping", json!({})).await.unwrap_err(), SocketError::NotConnected);
    assert_no_secret(&logs);
}

#[tokio::test]
async fn the_device_status_folds_in_the_socket() {
    let logs = capture_logs_on_this_thread();
    let refusing = Arc::new(AtomicBool::new(false));
    let refuse = Arc::clone(&refusing);
    let script = Script { accept: Arc::new(move |_| !refuse.load(Ordering::SeqCst)), ..Script::default() };
    let server = PhoenixServer::start(script).await;
    let (client, _) = paired(&server);
    let socket = quick(&client, ms(50)).connect().await.unwrap();
    let heartbeat = client.heartbeat().socket(&socket).start();
    let mut status = heartbeat.status();

    let now =
        wait_status(&mut status, "online", |s| s.link == Link::Online && s.socket == Some(ConnectionState::Online))
            .await;
    assert!(now.is_connected());
    assert_eq!(now.project_name(), Some("Testbed"));
    server.push(&json!({"topic": topic(), "event": "status_updated", "payload": "paused"}).to_string());
    wait_status(&mut status, "paused by the push", |s| s.paused == Some(true)).await;
    server.push(&json!({"topic": topic(), "event": "status_updated", "payload": "resumed"}).to_string());
    wait_status(&mut status, "resumed by the push", |s| s.paused == Some(false)).await;

    refusing.store(true, Ordering::SeqCst);
    server.close_all();
    let lost =
        wait_status(&mut status, "the authorization lost", |s| matches!(s.link, Link::Unauthorized { .. })).await;
    assert!(matches!(lost.socket, Some(ConnectionState::Closed(SocketError::AuthorizationLost { .. }))), "{lost:?}");
    assert!(!lost.is_connected());
    heartbeat.stop().await;
    assert_no_secret(&logs);
}

async fn wait_status(
    status: &mut tokio::sync::watch::Receiver<DeviceStatus>,
    what: &str,
    done: impl Fn(&DeviceStatus) -> bool,
) -> DeviceStatus {
    let waited = timeout(Duration::from_secs(10), status.wait_for(|s| done(s))).await.map(|now| now.unwrap().clone());
    waited.unwrap_or_else(|_| panic!("timed out waiting for {what}: {:?}", *status.borrow()))
}

#[tokio::test]
async fn no_token_reaches_logs_debug_or_errors() {
    let logs = capture_logs_on_this_thread();
    let script = Script {
        accept: Arc::new(|token| token == RENEWED),
        token: Arc::new(|_| (200, tokens_json(RENEWED, "rt-5ecre7-socket-2"))),
        ..Script::default()
    };
    let server = PhoenixServer::start(script).await;
    let (client, provider) = paired(&server);
    let socket = quick(&client, ms(30)).connect().await.unwrap();
    socket.send("ping", json!({})).await.unwrap();
    server.close_all();
    server.wait_for("a second session", |s| s.len() == 2).await;
    wait_until(&socket, "online again", |s| s.connection.is_online()).await;
    let mut shown = format!("{socket:?} {:?} {client:?} {provider:?}", socket.current());
    socket.close().await;

    let refusing = PhoenixServer::start(Script { accept: Arc::new(|_| false), ..Script::default() }).await;
    let (client, _) = paired(&refusing);
    let error = quick(&client, ms(30)).connect().await.unwrap_err();
    write!(shown, "{error} {error:?}").unwrap();

    assert!(!shown.contains(MARK), "{shown}");
    let logged = logs.lock().unwrap().clone();
    for expected in ["connecting", "connected", "joined the device channel", "reconnecting", "closed"] {
        assert!(logged.contains(expected), "{expected:?} is logged:\n{logged}");
    }
    assert!(logged.contains("/devices/websocket?Authorization=[redacted]"), "the URL, redacted:\n{logged}");
    assert!(logged.contains("tokio_tungstenite"), "tungstenite's own `log` records are captured too");
    assert_no_secret(&logs);
}
