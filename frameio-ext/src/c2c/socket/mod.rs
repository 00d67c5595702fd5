//! The device's realtime connection (How to: Manage Status and State): the
//! WebSocket that makes the device show as online in Frame.io's C2C
//! Connections panel and brings Frame.io's pushes, such as the device being
//! paused.
//!
//! "Connecting to Frame.io's websocket involves two steps: 1. Establishing
//! the TCP/IP handshake and opening the physical websocket connection 2.
//! Joining the device's specific channel to identify your device to our
//! backend." [`C2cClient::socket`] configures the socket and
//! [`SocketBuilder::connect`] does both, then keeps the connection in a
//! background task:
//!
//! * the socket is on the API's host, `wss://api.frame.io/devices/websocket`
//!   (`ws://` for an `http://` base URL), with the client's token as
//!   `Authorization=Bearer%20<token>`; every `Debug`, `Display`, error and
//!   log line shows that URL as `Authorization=[redacted]`;
//! * the channel is `devices:<id>`, the `id` of the connection information
//!   (`/v2/devices/me`), which is read again whenever the socket connects
//!   with a token it was not read with, as the guide asks "after any new
//!   authorization or token refresh" (the [`Heartbeat`](super::Heartbeat)
//!   reads it after every beat as well);
//! * a heartbeat every 15 s ("The server automatically terminates socket
//!   connections after 60 seconds without a heartbeat message … we
//!   recommend sending heartbeats every 15 seconds"); a heartbeat left
//!   unanswered for the heartbeat timeout counts as a dead connection;
//! * "If the connection unexpectedly closes, simply reestablish it": a lost
//!   connection is opened again with a fresh token and the channel joined
//!   again, under the crate's [retry policy](crate::retry); a 401 or 403 on
//!   the upgrade ("An expired token will produce a `403` response") renews
//!   the token once, and the socket ends with
//!   [`SocketError::AuthorizationLost`] when that fails;
//! * frames are limited in size, replies awaited in bounded numbers, and the
//!   server's values (close reasons, `Retry-After`) clamped.
//!
//! The state ([`SocketState`]) is a `watch`; the pushes are a [`Stream`] of
//! [`Event`]s; [`Socket::send`] sends on the channel and waits for the reply.
//! A [`Heartbeat`](super::Heartbeat) given the socket
//! ([`Heartbeat::socket`](super::Heartbeat::socket)) folds its state into
//! the device's [`DeviceStatus`](super::DeviceStatus).
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use frameio_ext::c2c::{C2cClient, Event, StatusUpdate};
//! use futures::StreamExt;
//!
//! # async fn run(client: C2cClient) -> Result<(), frameio_ext::c2c::SocketError> {
//! let socket = client.socket().heartbeat_interval(Duration::from_secs(15)).connect().await?;
//! println!("online as {:?}", socket.current().device_id());
//!
//! let mut events = socket.events();
//! while let Some(event) = events.next().await {
//!     match event {
//!         Event::Status(StatusUpdate::Paused) => println!("paused in Frame.io"),
//!         Event::Status(StatusUpdate::Resumed) => println!("resumed"),
//!         other => println!("{other:?}"),
//!     }
//! }
//! println!("closed: {:?}", socket.current().connection);
//! # Ok(()) }
//! ```
//!
//! [`Stream`]: futures::Stream

mod connection;
mod error;
mod handle;
mod protocol;
mod transport;

use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use error::SocketError;
pub use handle::{ConnectionState, Event, Events, Socket, SocketState};
pub use protocol::{Push, Reply, ReplyStatus, StatusUpdate, device_topic};
pub use transport::SOCKET_PATH;

use super::C2cClient;
use crate::retry::{Backoff, RetryPolicy};

/// The time between two heartbeats, by default (the guide's recommendation).
pub const DEFAULT_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(15);
/// The longest time between two heartbeats: the server drops a socket after
/// 60 s without one, and this leaves 10 s for the beat to get there.
pub const MAX_HEARTBEAT_INTERVAL: Duration = Duration::from_secs(50);
/// The shortest time between two heartbeats.
pub const MIN_HEARTBEAT_INTERVAL: Duration = Duration::from_millis(10);
/// How long a heartbeat's reply may take, by default, before the connection
/// counts as dead.
pub const DEFAULT_HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the join's and each [`Socket::send`]'s reply may take, by default.
pub const DEFAULT_REPLY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long opening the socket (TCP, TLS, upgrade) may take, by default (the
/// C2C guides' 15 s for basic requests).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How many [`Socket::send`]s may wait for their replies at once, by default.
pub const DEFAULT_MAX_PENDING: usize = 64;
/// The largest incoming message (and frame), by default, in bytes.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1024 * 1024;
/// The smallest message size limit, in bytes.
pub const MIN_MESSAGE_SIZE: usize = 4 * 1024;
/// How many events a slow [`Events`] stream may fall behind, by default.
pub const DEFAULT_EVENT_CAPACITY: usize = 64;
/// How the socket retries failed connections, by default: 1 s, 2 s, 4 s … up
/// to 30 s, each shortened by up to half at random, without end (a device keeps
/// trying to come online); a server's `Retry-After` on the upgrade is obeyed
/// up to 5 minutes.
pub const DEFAULT_RECONNECT_POLICY: RetryPolicy = RetryPolicy::c2c()
    .backoff(
        Backoff::new().initial(Duration::from_secs(1)).multiplier(2.0).max_delay(Duration::from_secs(30)).jitter(0.5),
    )
    .max_attempts(u32::MAX)
    .max_elapsed(Duration::MAX);

/// Configures the realtime socket; from [`C2cClient::socket`].
#[derive(Debug, Clone)]
pub struct SocketBuilder {
    client: C2cClient,
    settings: connection::Settings,
    event_capacity: usize,
}

impl C2cClient {
    /// The device's realtime socket, with the defaults: a heartbeat every
    /// [`DEFAULT_HEARTBEAT_INTERVAL`], reconnecting with
    /// [`DEFAULT_RECONNECT_POLICY`]. See the [module documentation](crate::c2c::socket).
    pub fn socket(&self) -> SocketBuilder {
        SocketBuilder {
            client: self.clone(),
            settings: connection::Settings {
                heartbeat_interval: DEFAULT_HEARTBEAT_INTERVAL,
                heartbeat_timeout: DEFAULT_HEARTBEAT_TIMEOUT,
                reply_timeout: DEFAULT_REPLY_TIMEOUT,
                connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                reconnect: DEFAULT_RECONNECT_POLICY,
                max_pending: DEFAULT_MAX_PENDING,
                max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            },
            event_capacity: DEFAULT_EVENT_CAPACITY,
        }
    }

    /// Opens the realtime socket with the defaults and waits until it is
    /// online: `client.socket().connect()` (see [`SocketBuilder::connect`]).
    ///
    /// ```no_run
    /// # async fn run(client: frameio_ext::c2c::C2cClient) -> frameio_ext::Result<()> {
    /// let socket = client.connect().await?;
    /// println!("{:?}", socket.status().borrow().connection);
    /// socket.close().await;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`SocketBuilder::connect`].
    pub async fn connect(&self) -> Result<Socket, SocketError> {
        self.socket().connect().await
    }
}

impl SocketBuilder {
    /// The time between two heartbeats, kept within
    /// [`MIN_HEARTBEAT_INTERVAL`] and [`MAX_HEARTBEAT_INTERVAL`].
    pub fn heartbeat_interval(mut self, interval: Duration) -> Self {
        self.settings.heartbeat_interval = interval.clamp(MIN_HEARTBEAT_INTERVAL, MAX_HEARTBEAT_INTERVAL);
        self
    }

    /// How long a heartbeat's reply may take before the connection counts as
    /// dead and is opened again (at least 1 ms, at most 60 s); also the limit
    /// on writing one message.
    pub fn heartbeat_timeout(mut self, timeout: Duration) -> Self {
        self.settings.heartbeat_timeout = timeout.clamp(Duration::from_millis(1), Duration::from_secs(60));
        self
    }

    /// How long the join's and each [`Socket::send`]'s reply may take (at
    /// least 1 ms).
    pub fn reply_timeout(mut self, timeout: Duration) -> Self {
        self.settings.reply_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long opening the socket (TCP, TLS and the upgrade) may take (at
    /// least 1 ms).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How failed connections are retried: the crate's one
    /// [`RetryPolicy`], whose `max_attempts` bounds the failures in a row
    /// before the socket gives up ([`SocketError::GaveUp`]). Default
    /// [`DEFAULT_RECONNECT_POLICY`].
    pub fn reconnect_policy(mut self, policy: RetryPolicy) -> Self {
        self.settings.reconnect = policy;
        self
    }

    /// How many [`Socket::send`]s may wait for their replies at once (at
    /// least 1); more fail at once with [`SocketError::TooManyPending`].
    pub fn max_pending(mut self, requests: usize) -> Self {
        self.settings.max_pending = requests.max(1);
        self
    }

    /// The largest message (and frame) the server may send, in bytes (at
    /// least [`MIN_MESSAGE_SIZE`]); a larger one drops the connection, which
    /// is then opened again.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.settings.max_message_size = bytes.max(MIN_MESSAGE_SIZE);
        self
    }

    /// How many events an [`Events`] stream may fall behind before it misses
    /// some (at least 1).
    pub fn event_capacity(mut self, events: usize) -> Self {
        self.event_capacity = events.max(1);
        self
    }

    /// Starts the socket in the background and returns at once, the state
    /// [`ConnectionState::Connecting`]: for a device that shows its status
    /// while it comes online.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(self) -> Socket {
        let (state, status) = watch::channel(SocketState::default());
        let (events, events_receiver) = broadcast::channel(self.event_capacity);
        let (requests, requests_receiver) = mpsc::channel(self.settings.max_pending);
        let stop = CancellationToken::new();
        let reply_timeout = self.settings.reply_timeout;
        let max_pending = self.settings.max_pending;
        let task = match transport::Endpoint::for_api(self.client.base_url()) {
            Ok(endpoint) => {
                let span = tracing::info_span!("frameio.c2c.socket", url = %endpoint);
                let channels = connection::Channels { state, events, requests: requests_receiver, stop: stop.clone() };
                let task = connection::Task::new(self.client, self.settings, endpoint, channels);
                Some(tokio::spawn(task.run().instrument(span)))
            }
            Err(error) => {
                state
                    .send_replace(SocketState { connection: ConnectionState::Closed(error), ..SocketState::default() });
                None
            }
        };
        Socket { status, events: events_receiver, requests, reply_timeout, max_pending, stop, task }
    }

    /// Starts the socket and waits until the device channel is joined.
    /// Failures the socket recovers from are retried meanwhile (bound the
    /// wait with `tokio::time::timeout`, or use [`start`](Self::start) to
    /// show the state while connecting).
    ///
    /// # Errors
    /// Why the socket closed before it came online:
    /// [`SocketError::AuthorizationLost`], [`SocketError::JoinRefused`] or
    /// [`SocketError::GaveUp`].
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub async fn connect(self) -> Result<Socket, SocketError> {
        let socket = self.start();
        let mut status = socket.status();
        let settled = status
            .wait_for(|s| matches!(s.connection, ConnectionState::Online | ConnectionState::Closed(_)))
            .await
            .map(|state| state.connection.clone());
        match settled {
            Ok(ConnectionState::Closed(error)) => Err(error),
            Ok(_) => Ok(socket),
            Err(_) => Err(SocketError::Stopped),
        }
    }
}
