//! Why the realtime socket is not online, or why a request on it failed:
//! [`SocketError`].

use std::time::Duration;

use serde_json::Value;

/// The longest excerpt of a server's JSON kept in an error message, in
/// characters.
const EXCERPT_CHARS: usize = 200;

/// Why the realtime socket is not online, or why a [`Socket::send`](super::Socket::send)
/// failed.
///
/// The socket recovers from most of these by itself (reconnecting with
/// back-off, see [`SocketState`](super::SocketState)); three end it for good:
/// [`AuthorizationLost`](Self::AuthorizationLost),
/// [`JoinRefused`](Self::JoinRefused) and [`GaveUp`](Self::GaveUp), plus
/// [`Stopped`](Self::Stopped) when the application closed it. No variant ever
/// holds a token: the socket URL shows as `Authorization=[redacted]`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// Frame.io refused the device's token (401 or 403 on the upgrade, even
    /// after a renewal) or the token could not be renewed: pair the device
    /// again.
    #[error("the device's authorization is lost ({reason}); pair the device again")]
    AuthorizationLost {
        /// What was refused, and by whom.
        reason: String,
    },
    /// Frame.io answered the channel join with `"status": "error"`. Not
    /// retried: the topic comes from the device's own connection information,
    /// so the same join would be refused again; pair the device again or
    /// check it in the C2C Connections panel.
    #[error("Frame.io refused to join the device channel {topic}: {}", excerpt(response))]
    JoinRefused {
        /// The channel, `devices:<device id>`.
        topic: String,
        /// The reply's `response`.
        response: Value,
    },
    /// The WebSocket upgrade was answered with an HTTP error other than 401
    /// and 403 (retried with back-off, no sooner than `retry_after`).
    #[error("Frame.io answered the WebSocket upgrade with HTTP {status}; retrying")]
    Upgrade {
        /// The HTTP status.
        status: u16,
        /// The server's `Retry-After`, clamped.
        retry_after: Option<Duration>,
    },
    /// No token could be had for the connection (the network, a rate limit
    /// or a server error at the token endpoint): retried with back-off.
    #[error("no access token for the socket: {reason}; retrying")]
    Token {
        /// What the token provider said.
        reason: String,
    },
    /// The connection could not be opened, or failed while open (network,
    /// TLS, a frame over the size limit, a broken WebSocket stream).
    #[error("the realtime connection failed: {reason}")]
    Transport {
        /// What failed.
        reason: String,
    },
    /// Something the socket waits for did not come in time.
    #[error("no {waiting_for} within {after:?}")]
    Timeout {
        /// What: `connection`, `join reply`, `heartbeat reply`, `reply`, `write`.
        waiting_for: &'static str,
        /// The limit.
        after: Duration,
    },
    /// The server closed the WebSocket.
    #[error("the server closed the socket{}{}", code.map(|c| format!(" (code {c})")).unwrap_or_default(),
        if reason.is_empty() { String::new() } else { format!(": {reason}") })]
    Closed {
        /// The close code, if the server sent a close frame.
        code: Option<u16>,
        /// The close reason (at most 123 bytes, as the protocol allows).
        reason: String,
    },
    /// The server closed or crashed the device channel (`phx_close`,
    /// `phx_error`): the socket reconnects and joins again.
    #[error("the server ended the device channel ({event})")]
    ChannelClosed {
        /// The event.
        event: String,
    },
    /// Reading the device's connection information (`/v2/devices/me`) failed.
    #[error("reading the device's connection information failed: {reason}")]
    Identify {
        /// The API error.
        reason: String,
    },
    /// The connection information has no device id fit for a channel topic.
    #[error("the device's connection information has no usable id ({reason})")]
    InvalidDevice {
        /// What is wrong with it.
        reason: String,
    },
    /// As many requests as allowed already wait for their replies.
    #[error("{limit} requests already wait for a reply; wait for some before sending more")]
    TooManyPending {
        /// The limit ([`SocketBuilder::max_pending`](super::SocketBuilder::max_pending)).
        limit: usize,
    },
    /// The socket is not online (connecting or reconnecting): send again once
    /// it is.
    #[error("the socket is not online; send again once it is")]
    NotConnected,
    /// The connection dropped before the reply came: send again once the
    /// socket is online.
    #[error("the connection dropped before the reply came; send again once the socket is online")]
    ConnectionLost,
    /// The application closed the socket.
    #[error("the socket was closed by the application")]
    Stopped,
    /// The back-off's attempts ran out.
    #[error("gave up after {attempts} failed connection attempts; the last: {last}")]
    GaveUp {
        /// The consecutive failed attempts.
        attempts: u32,
        /// Why the last one failed.
        #[source]
        last: Box<SocketError>,
    },
}

impl SocketError {
    /// Whether the socket ended because the device must be paired again.
    pub fn is_authorization_lost(&self) -> bool {
        matches!(self, Self::AuthorizationLost { .. })
    }

    /// Whether the socket is over: it does not reconnect after this error
    /// (authorization lost, join refused, an unusable device id, attempts run
    /// out, or closed by the application).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::AuthorizationLost { .. }
                | Self::JoinRefused { .. }
                | Self::InvalidDevice { .. }
                | Self::GaveUp { .. }
                | Self::Stopped
        )
    }

    /// Whether the network failed: the connection could not be opened, broke,
    /// timed out or was closed by the server.
    pub fn is_network(&self) -> bool {
        matches!(
            self,
            Self::Transport { .. }
                | Self::Timeout { .. }
                | Self::Closed { .. }
                | Self::ConnectionLost
                | Self::NotConnected
        )
    }
}

/// `value` as JSON, cut to [`EXCERPT_CHARS`].
fn excerpt(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(EXCERPT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_happened_and_stay_short() {
        let refused = SocketError::JoinRefused {
            topic: "devices:d-1".into(),
            response: serde_json::json!({ "reason": "x".repeat(1000) }),
        };
        let text = refused.to_string();
        assert!(
            text.starts_with("Frame.io refused to join the device channel devices:d-1: {\"reason\":\"xxx"),
            "{text}"
        );
        assert!(text.chars().count() < 300 && text.ends_with('…'), "{text}");
        let closed = SocketError::Closed { code: Some(1001), reason: "going away".into() };
        assert_eq!(closed.to_string(), "the server closed the socket (code 1001): going away");
        assert_eq!(
            SocketError::Closed { code: None, reason: String::new() }.to_string(),
            "the server closed the socket"
        );
        let gave_up = SocketError::GaveUp { attempts: 3, last: Box::new(SocketError::NotConnected) };
        assert!(std::error::Error::source(&gave_up).is_some());
        let lost = SocketError::AuthorizationLost { reason: "403".into() };
        assert!(lost.is_authorization_lost() && lost.is_terminal() && !lost.is_network());
        assert!(gave_up.is_terminal() && !gave_up.is_network());
        assert!(SocketError::ConnectionLost.is_network() && !SocketError::ConnectionLost.is_terminal());
    }
}
