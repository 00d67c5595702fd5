//! The C2C realtime socket at `/devices/websocket`, spoken to with a plain
//! WebSocket client: the upgrade (the device's token in the query, 403 for any
//! other, 400 for a plain GET, faults), the guide's join and heartbeat replies
//! with the messages' `ref`s, errors for other channels and events, the device
//! online in its connection information while joined, the idle timeout, and
//! frames that are not Phoenix messages.

mod support;

use std::time::Duration;

use frameio_fake::{C2C_SOCKET, Fake, Fault, Target};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{WebSocketStream, client_async};

type Ws = WebSocketStream<TcpStream>;

/// A fake with a device paired to a project: (fake, device id, access token).
async fn paired(fake: Fake) -> (Fake, String, String) {
    let project = fake.seed().account("Acme").workspace("W").project("Set").id;
    let device = fake.seed().device("SN-0042", &project);
    (fake, device.id, device.tokens.access_token)
}

/// Opens the socket with `token` as the guide writes it (`Bearer%20<token>`).
async fn open(fake: &Fake, token: &str) -> Result<Ws, WsError> {
    let url = format!("ws://{}/devices/websocket?Authorization=Bearer%20{token}", fake.addr());
    let tcp = TcpStream::connect(fake.addr()).await.unwrap();
    client_async(url.into_client_request().unwrap(), tcp).await.map(|(ws, _)| ws)
}

fn refused_with(result: Result<Ws, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
}

/// Sends a message and reads the next text frame as JSON (within 5 s).
async fn ask(ws: &mut Ws, message: Value) -> Value {
    ws.send(Message::text(message.to_string())).await.unwrap();
    next(ws).await
}

async fn next(ws: &mut Ws) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("an answer").unwrap().unwrap();
        if let Message::Text(text) = frame {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// The close frame's code the server ends the session with (within 5 s).
async fn closed_with(ws: &mut Ws) -> CloseCode {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a close frame") {
            Some(Ok(Message::Close(Some(frame)))) => return frame.code,
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => panic!("closed without a close frame"),
            Some(Ok(_)) => {}
        }
    }
}

fn reply(topic: &str, reference: &str, payload: Value) -> Value {
    json!({"event": "phx_reply", "payload": payload, "ref": reference, "topic": topic})
}

fn ok() -> Value {
    json!({"response": {}, "status": "ok"})
}

fn error(reason: &str) -> Value {
    json!({"response": {"reason": reason}, "status": "error"})
}

async fn device_status(fake: &Fake, token: &str) -> String {
    let me: Value = reqwest::Client::new()
        .get(format!("{}/v2/devices/me", fake.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["status"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_guides_join_and_heartbeat_are_answered_and_the_device_is_online_while_joined() {
    let (fake, device, token) = paired(Fake::start().await.unwrap()).await;
    assert_eq!(device_status(&fake, &token).await, "offline", "no socket yet");
    let mut ws = open(&fake, &token).await.unwrap();
    let topic = format!("devices:{device}");

    // The guide's messages, word for word, and its answers.
    let join = json!({"topic": topic, "event": "phx_join", "payload": "", "ref": "channel_connect"});
    assert_eq!(ask(&mut ws, join).await, reply(&topic, "channel_connect", ok()));
    assert_eq!(device_status(&fake, &token).await, "online");
    let beat = json!({"topic": "phoenix", "event": "heartbeat", "payload": "", "ref": "heartbeat"});
    assert_eq!(ask(&mut ws, beat).await, reply("phoenix", "heartbeat", ok()));
    // Numbered refs come back as sent.
    for n in 1..=3 {
        let beat = json!({"topic": "phoenix", "event": "heartbeat", "payload": "", "ref": n.to_string()});
        assert_eq!(ask(&mut ws, beat).await, reply("phoenix", &n.to_string(), ok()));
    }
    let activity = fake.device_socket(&device);
    assert_eq!((activity.sessions, activity.joined, activity.heartbeats), (1, 1, 4));

    // Another device's channel, another topic, an event the channel does not handle.
    let other = json!({"topic": "devices:someone-else", "event": "phx_join", "payload": "", "ref": "5"});
    assert_eq!(ask(&mut ws, other).await, reply("devices:someone-else", "5", error("unauthorized")));
    let lobby = json!({"topic": "rooms:lobby", "event": "phx_join", "payload": "", "ref": "6"});
    assert_eq!(ask(&mut ws, lobby).await, reply("rooms:lobby", "6", error("unmatched topic")));
    let ping = json!({"topic": topic, "event": "ping", "payload": {}, "ref": "7"});
    assert_eq!(ask(&mut ws, ping).await, reply(&topic, "7", error("unknown event")));

    // Leaving the channel takes the device offline; so does closing the socket after a new join.
    let leave = json!({"topic": topic, "event": "phx_leave", "payload": "", "ref": "8"});
    assert_eq!(ask(&mut ws, leave).await, reply(&topic, "8", ok()));
    assert_eq!(device_status(&fake, &token).await, "offline");
    let not_joined = json!({"topic": topic, "event": "ping", "payload": {}, "ref": "9"});
    assert_eq!(ask(&mut ws, not_joined).await, reply(&topic, "9", error("unmatched topic")));
    let rejoin = json!({"topic": topic, "event": "phx_join", "payload": "", "ref": "10"});
    assert_eq!(ask(&mut ws, rejoin).await, reply(&topic, "10", ok()));
    assert_eq!(fake.device_socket(&device).joined, 1);
    ws.close(None).await.unwrap();
    while ws.next().await.is_some() {}
    for _ in 0..200 {
        if fake.device_socket(&device).joined == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(device_status(&fake, &token).await, "offline", "the socket closed");
}

#[tokio::test]
async fn the_upgrade_needs_a_device_token() {
    let (fake, device, token) = paired(Fake::start().await.unwrap()).await;
    assert_eq!(refused_with(open(&fake, "c2c-at-not-issued").await), 403);
    assert_eq!(refused_with(open(&fake, fake.token()).await), 403, "a V4 user token is not a device's");
    let bare = format!("ws://{}/devices/websocket", fake.addr());
    let tcp = TcpStream::connect(fake.addr()).await.unwrap();
    assert_eq!(refused_with(client_async(bare, tcp).await.map(|(ws, _)| ws)), 403, "no token");
    let plain = reqwest::get(format!("{}/devices/websocket?Authorization=Bearer%20{token}", fake.base_url())).await;
    assert_eq!(plain.unwrap().status(), 400, "not an upgrade");

    // The upgrade is recorded, the token redacted; faults can target it.
    fake.fault(Target::operation(C2C_SOCKET), Fault::status(503));
    assert_eq!(refused_with(open(&fake, &token).await), 503);
    assert!(open(&fake, &token).await.is_ok());
    let upgrades = fake.requests_to(C2C_SOCKET);
    let statuses: Vec<_> = upgrades.iter().map(|r| r.status()).collect();
    assert_eq!(statuses, [Some(403), Some(403), Some(403), Some(400), Some(503), Some(101)]);
    assert_eq!(upgrades[5].query_param("Authorization"), Some(format!("Bearer {token}")));
    let shown = format!("{upgrades:?}");
    assert!(!shown.contains(&token), "{shown}");
    assert_eq!(fake.device_socket(&device).sessions, 1);
}

#[tokio::test]
async fn a_socket_without_heartbeats_is_closed() {
    let builder = Fake::builder().c2c_socket_timeout(Duration::from_millis(300));
    let (fake, device, token) = paired(builder.start().await.unwrap()).await;
    let topic = format!("devices:{device}");

    // Beating every 50 ms keeps it open well past the timeout.
    let mut ws = open(&fake, &token).await.unwrap();
    let join = json!({"topic": topic, "event": "phx_join", "payload": "", "ref": "1"});
    assert_eq!(ask(&mut ws, join).await["payload"]["status"], "ok");
    for n in 0..12 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let beat = json!({"topic": "phoenix", "event": "heartbeat", "payload": "", "ref": format!("b{n}")});
        assert_eq!(ask(&mut ws, beat).await["payload"]["status"], "ok");
    }
    // Then silence: the server closes it, and the device is offline.
    assert_eq!(closed_with(&mut ws).await, CloseCode::Normal);
    assert_eq!(fake.device_socket(&device).joined, 0);
    assert_eq!(device_status(&fake, &token).await, "offline");
}

#[tokio::test]
async fn frames_that_are_not_phoenix_messages_close_the_socket() {
    let (fake, _, token) = paired(Fake::start().await.unwrap()).await;
    let mut ws = open(&fake, &token).await.unwrap();
    ws.send(Message::binary(b"\x00\x01".to_vec())).await.unwrap();
    assert_eq!(closed_with(&mut ws).await, CloseCode::Unsupported);
    for bad in ["not json", r#"{"topic": "phoenix", "event": "heartbeat"}"#, r#"[1, 2]"#] {
        let mut ws = open(&fake, &token).await.unwrap();
        ws.send(Message::text(bad)).await.unwrap();
        assert_eq!(closed_with(&mut ws).await, CloseCode::Invalid, "{bad}");
    }
    let mut huge = open(&fake, &token).await.unwrap();
    let long = json!({"topic": "phoenix", "event": "heartbeat", "payload": "x".repeat(100_000), "ref": "1"});
    let _ = huge.send(Message::text(long.to_string())).await;
    assert!(
        matches!(huge.next().await, Some(Ok(Message::Close(_))) | Some(Err(_)) | None),
        "an oversized frame ends it"
    );
}

#[tokio::test]
async fn pausing_a_device_pushes_status_updated_refuses_its_assets_and_shows_in_its_info() {
    let (fake, device, token) = paired(Fake::start().await.unwrap()).await;
    let topic = format!("devices:{device}");
    let mut ws = open(&fake, &token).await.unwrap();
    // Not joined yet: nothing is pushed, the next frame is the join's reply.
    assert!(fake.pause_device(&device));
    let join = json!({"topic": topic, "event": "phx_join", "payload": "", "ref": "1"});
    assert_eq!(ask(&mut ws, join).await, reply(&topic, "1", ok()));

    assert!(fake.resume_device(&device));
    let pushed = |payload: &str| json!({"event": "status_updated", "payload": payload, "ref": null, "topic": topic});
    assert_eq!(next(&mut ws).await, pushed("resumed"));
    assert_eq!(device_status(&fake, &token).await, "online");
    assert!(fake.pause_device(&device));
    assert_eq!(next(&mut ws).await, pushed("paused"));
    assert_eq!(device_status(&fake, &token).await, "paused");

    let asset = json!({"name": "A001.mov", "filetype": "video/quicktime", "filesize": 10});
    let created = reqwest::Client::new()
        .post(format!("{}/v2/devices/assets", fake.base_url()))
        .bearer_auth(&token)
        .json(&asset)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 409);
    let body: Value = created.json().await.unwrap();
    assert_eq!(body["errors"][0]["title"], "Channel Paused", "{body}");
    assert!(!fake.pause_device("no-such-device"));
}
