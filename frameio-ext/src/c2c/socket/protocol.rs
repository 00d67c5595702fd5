//! The Phoenix channel messages of the C2C socket, in the shapes the guide
//! shows (How to: Manage Status and State):
//!
//! ```json
//! {"topic":"devices:YOUR_DEVICE_ID", "event":"phx_join", "payload":"", "ref":"channel_connect"}
//! {"event":"phx_reply","payload":{"response":{},"status":"ok"},"ref":"channel_connect","topic":"devices:YOUR_DEVICE_ID"}
//! {"topic":"phoenix", "event":"heartbeat", "payload":"", "ref":"heartbeat"}
//! ```
//!
//! Every message has the four fields; "the `payload` field must always be
//! present but can often be an empty string", which the join and the
//! heartbeat send. `ref` pairs a reply with the message it answers ("Since
//! event ordering isn't guaranteed, this identifier helps pair server
//! responses with the triggering events"); the socket numbers its messages.
//! Frame.io pushes `status_updated` with the payload `"paused"` or
//! `"resumed"` when the device is paused or resumed in the C2C Connections
//! panel; every other push is kept as it came.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The topic of the socket's own messages (heartbeats).
pub const PHOENIX_TOPIC: &str = "phoenix";
/// Joins a channel.
pub const JOIN_EVENT: &str = "phx_join";
/// Answers a message that had a `ref`.
pub const REPLY_EVENT: &str = "phx_reply";
/// Keeps the socket open ("The server automatically terminates socket
/// connections after 60 seconds without a heartbeat message").
pub const HEARTBEAT_EVENT: &str = "heartbeat";
/// The server's side of a channel crashed.
pub const ERROR_EVENT: &str = "phx_error";
/// The server closed a channel.
pub const CLOSE_EVENT: &str = "phx_close";
/// The device was paused or resumed.
pub const STATUS_UPDATED_EVENT: &str = "status_updated";

/// The device channel's topic: `devices:<device id>`, with the `id` of the
/// device's connection information (`/v2/devices/me`).
pub fn device_topic(device_id: &str) -> String {
    format!("devices:{device_id}")
}

/// The outcome a reply reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplyStatus {
    /// `"status": "ok"`.
    Ok,
    /// `"status": "error"`.
    Error,
    /// Any other status, as sent.
    Other(String),
}

/// A `phx_reply`: the answer to a message the device sent.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Reply {
    /// Whether the server accepted the message.
    pub status: ReplyStatus,
    /// The reply's `response` (`{}` in the guide's examples; `null` if absent).
    pub response: Value,
}

impl Reply {
    /// Whether the status is `ok`.
    pub fn is_ok(&self) -> bool {
        self.status == ReplyStatus::Ok
    }
}

/// A message the server pushed, kept as it came.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Push {
    /// Its topic (normally the device channel's).
    pub topic: String,
    /// Its event.
    pub event: String,
    /// Its payload, as raw JSON.
    pub payload: Value,
}

/// What a `status_updated` push says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusUpdate {
    /// The device was paused in Frame.io: media created from now on is
    /// rejected when its asset is created.
    Paused,
    /// The device was resumed.
    Resumed,
}

impl Push {
    /// The pause or resume this push announces, if it is one.
    pub fn status_update(&self) -> Option<StatusUpdate> {
        if self.event != STATUS_UPDATED_EVENT {
            return None;
        }
        match self.payload.as_str()? {
            "paused" => Some(StatusUpdate::Paused),
            "resumed" => Some(StatusUpdate::Resumed),
            _ => None,
        }
    }
}

/// An incoming text frame, understood.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Frame {
    /// A reply, with the `ref` it answers.
    Reply { reference: String, reply: Reply },
    /// Anything else.
    Push(Push),
}

/// An outgoing message, fields in the guide's order.
#[derive(Serialize)]
struct Outgoing<'a> {
    topic: &'a str,
    event: &'a str,
    payload: &'a Value,
    #[serde(rename = "ref")]
    reference: &'a str,
}

#[derive(Deserialize)]
struct Incoming {
    topic: String,
    event: String,
    #[serde(default)]
    payload: Value,
    #[serde(rename = "ref", default)]
    reference: Option<Value>,
}

#[derive(Deserialize)]
struct ReplyPayload {
    status: String,
    #[serde(default)]
    response: Value,
}

/// A message as sent on the wire.
pub(crate) fn encode(topic: &str, event: &str, payload: &Value, reference: &str) -> String {
    let message = Outgoing { topic, event, payload, reference };
    serde_json::to_string(&message).expect("a message of strings and JSON values serializes")
}

/// The join of `topic`, with the guide's empty payload.
pub(crate) fn join(topic: &str, reference: &str) -> String {
    encode(topic, JOIN_EVENT, &Value::String(String::new()), reference)
}

/// A heartbeat, with the guide's empty payload.
pub(crate) fn heartbeat(reference: &str) -> String {
    encode(PHOENIX_TOPIC, HEARTBEAT_EVENT, &Value::String(String::new()), reference)
}

/// Reads a text frame: a Phoenix message with a string `topic` and `event`;
/// a `phx_reply` also needs a `ref` and a payload with a string `status`.
pub(crate) fn parse(text: &str) -> Result<Frame, serde_json::Error> {
    use serde::de::Error as _;
    let message: Incoming = serde_json::from_str(text)?;
    if message.event != REPLY_EVENT {
        return Ok(Frame::Push(Push { topic: message.topic, event: message.event, payload: message.payload }));
    }
    // Phoenix sends refs as strings; a number is taken as its digits.
    let reference = match message.reference {
        Some(Value::String(reference)) => reference,
        Some(Value::Number(number)) => number.to_string(),
        _ => return Err(serde_json::Error::custom("a phx_reply without a string `ref`")),
    };
    let payload: ReplyPayload = serde_json::from_value(message.payload)?;
    let status = match payload.status.as_str() {
        "ok" => ReplyStatus::Ok,
        "error" => ReplyStatus::Error,
        _ => ReplyStatus::Other(payload.status),
    };
    Ok(Frame::Reply { reference, reply: Reply { status, response: payload.response } })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn value(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn outgoing_messages_have_the_guides_shapes() {
        let topic = device_topic("YOUR_DEVICE_ID");
        assert_eq!(
            value(&join(&topic, "channel_connect")),
            value(r#"{"topic":"devices:YOUR_DEVICE_ID", "event":"phx_join", "payload":"", "ref":"channel_connect"}"#)
        );
        assert_eq!(
            value(&heartbeat("heartbeat")),
            value(r#"{"topic":"phoenix", "event":"heartbeat", "payload":"", "ref":"heartbeat"}"#)
        );
        assert_eq!(
            encode(&topic, "ping", &json!({"a": 1}), "7"),
            r#"{"topic":"devices:YOUR_DEVICE_ID","event":"ping","payload":{"a":1},"ref":"7"}"#,
            "fields in the guide's order"
        );
    }

    #[test]
    fn the_guides_replies_are_read() {
        let join_reply = r#"{"event":"phx_reply","payload":{"response":{},"status":"ok"},"ref":"channel_connect","topic":"devices:YOUR_DEVICE_ID"}"#;
        assert_eq!(
            parse(join_reply).unwrap(),
            Frame::Reply {
                reference: "channel_connect".into(),
                reply: Reply { status: ReplyStatus::Ok, response: json!({}) }
            }
        );
        let refused = r#"{"event":"phx_reply","payload":{"response":{"reason":"unmatched topic"},"status":"error"},"ref":"3","topic":"devices:x"}"#;
        let Frame::Reply { reply, .. } = parse(refused).unwrap() else { panic!("a reply") };
        assert_eq!(reply.status, ReplyStatus::Error);
        assert!(!reply.is_ok());
        let numbered = r#"{"event":"phx_reply","payload":{"status":"timeout"},"ref":12,"topic":"phoenix"}"#;
        let Frame::Reply { reference, reply } = parse(numbered).unwrap() else { panic!("a reply") };
        assert_eq!(
            (reference.as_str(), reply.status, reply.response),
            ("12", ReplyStatus::Other("timeout".into()), Value::Null)
        );
    }

    #[test]
    fn pushes_are_kept_and_pauses_recognized() {
        let paused = r#"{"topic":"devices:d","event":"status_updated","payload":"paused","ref":null}"#;
        let Frame::Push(push) = parse(paused).unwrap() else { panic!("a push") };
        assert_eq!(push.status_update(), Some(StatusUpdate::Paused));
        let resumed = r#"{"topic":"devices:d","event":"status_updated","payload":"resumed"}"#;
        let Frame::Push(push) = parse(resumed).unwrap() else { panic!("a push") };
        assert_eq!(push.status_update(), Some(StatusUpdate::Resumed));
        let other = r#"{"topic":"devices:d","event":"config_changed","payload":{"bitrate":12}}"#;
        let Frame::Push(push) = parse(other).unwrap() else { panic!("a push") };
        assert_eq!((push.event.as_str(), push.status_update()), ("config_changed", None));
        assert_eq!(push.payload, json!({"bitrate": 12}));
    }

    #[test]
    fn malformed_messages_are_errors() {
        for bad in [
            "not json",
            "[1, 2]",
            r#"{"topic": "devices:d"}"#,
            r#"{"topic": 1, "event": "x", "payload": ""}"#,
            r#"{"topic": "phoenix", "event": "phx_reply", "payload": {"status": "ok"}}"#,
            r#"{"topic": "phoenix", "event": "phx_reply", "payload": "", "ref": "1"}"#,
            r#"{"topic": "phoenix", "event": "phx_reply", "payload": {"status": 1}, "ref": "1"}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
