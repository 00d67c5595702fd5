//! What the application holds: the [`Socket`] handle, its [`SocketState`]
//! and the stream of [`Event`]s.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use frameio_gen::c2c::types::ProjectDevice;
use futures::Stream;
use serde_json::Value;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::SocketError;
use super::connection::Request;
use super::protocol::{Push, Reply, StatusUpdate};

/// Where the connection stands.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum ConnectionState {
    /// The first connection is being made.
    #[default]
    Connecting,
    /// The device channel is joined: the device shows as online in Frame.io.
    Online,
    /// The connection failed or was lost; the next attempt is `attempt`
    /// (counting from 1 since the socket was last online).
    Reconnecting {
        /// The attempt to come.
        attempt: u32,
        /// Why the last connection ended.
        error: SocketError,
    },
    /// The socket has stopped for good.
    Closed(SocketError),
}

impl ConnectionState {
    /// Whether the device channel is joined.
    pub fn is_online(&self) -> bool {
        matches!(self, Self::Online)
    }
}

/// What the socket knows: its connection, and what the connection
/// information (`/v2/devices/me`, read after every new token) and the
/// `status_updated` pushes said.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct SocketState {
    /// Where the connection stands.
    pub connection: ConnectionState,
    /// The connection information last read (device id, project, status).
    pub device: Option<Arc<ProjectDevice>>,
    /// Whether the device is paused, from the latest of the connection
    /// information and the `status_updated` pushes; `None` until known.
    pub paused: Option<bool>,
}

impl SocketState {
    /// The device's id (the channel is `devices:<id>`), once read.
    pub fn device_id(&self) -> Option<&str> {
        self.device.as_ref()?.id.as_deref()
    }
}

/// Something the server sent on the device channel.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The device was paused or resumed (`status_updated`). Pushes "may be
    /// missed or delivered out of order": the REST heartbeat's connection
    /// information confirms them.
    Status(StatusUpdate),
    /// The reply to a [`Socket::send`] (which also returns it).
    Reply {
        /// The event it answers.
        event: String,
        /// The reply.
        reply: Reply,
    },
    /// Any other push, its payload as raw JSON.
    Push(Push),
    /// This stream fell behind and `count` events were dropped.
    Missed {
        /// How many.
        count: u64,
    },
}

/// The events of a [`Socket`], from [`Socket::events`]. It ends when the
/// socket closes.
pub struct Events {
    inner: Pin<Box<dyn Stream<Item = Event> + Send>>,
}

impl Stream for Events {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

/// The realtime connection of a C2C device; from
/// [`SocketBuilder::connect`](super::SocketBuilder::connect) or
/// [`start`](super::SocketBuilder::start). Dropping it closes the socket.
#[derive(Debug)]
pub struct Socket {
    pub(crate) status: watch::Receiver<SocketState>,
    /// Never read: each [`Events`] stream is a fresh subscription of it.
    pub(crate) events: broadcast::Receiver<Event>,
    pub(crate) requests: mpsc::Sender<Request>,
    pub(crate) reply_timeout: Duration,
    pub(crate) max_pending: usize,
    pub(crate) stop: CancellationToken,
    pub(crate) task: Option<JoinHandle<()>>,
}

impl Socket {
    /// A receiver of the socket's state, updated as it changes.
    pub fn status(&self) -> watch::Receiver<SocketState> {
        self.status.clone()
    }

    /// The state now.
    pub fn current(&self) -> SocketState {
        self.status.borrow().clone()
    }

    /// The events from now on. Each stream gets every event; one that falls
    /// more than [`SocketBuilder::event_capacity`](super::SocketBuilder::event_capacity)
    /// events behind gets [`Event::Missed`] in place of the oldest.
    pub fn events(&self) -> Events {
        let receiver = self.events.resubscribe();
        let inner = futures::stream::unfold(receiver, |mut receiver| async move {
            match receiver.recv().await {
                Ok(event) => Some((event, receiver)),
                Err(broadcast::error::RecvError::Lagged(count)) => Some((Event::Missed { count }, receiver)),
                Err(broadcast::error::RecvError::Closed) => None,
            }
        });
        Events { inner: Box::pin(inner) }
    }

    /// Sends `event` with `payload` on the device channel and waits for its
    /// reply (which may have `"status": "error"`). Put no secret in the
    /// payload: tungstenite traces every frame (in hex) to the `log` crate.
    ///
    /// # Errors
    /// Fails at once when the socket is not online
    /// ([`SocketError::NotConnected`], or why it closed) or as many requests
    /// as [`SocketBuilder::max_pending`](super::SocketBuilder::max_pending)
    /// wait already; later with [`SocketError::Timeout`] after the reply
    /// timeout, or [`SocketError::ConnectionLost`].
    pub async fn send(&self, event: impl Into<String>, payload: Value) -> Result<Reply, SocketError> {
        match &self.status.borrow().connection {
            ConnectionState::Online => {}
            ConnectionState::Closed(why) => return Err(why.clone()),
            ConnectionState::Connecting | ConnectionState::Reconnecting { .. } => {
                return Err(SocketError::NotConnected);
            }
        }
        let deadline = Instant::now() + self.reply_timeout;
        let (reply, answer) = oneshot::channel();
        let request = Request { event: event.into(), payload, deadline, reply };
        self.requests.try_send(request).map_err(|error| match error {
            TrySendError::Full(_) => SocketError::TooManyPending { limit: self.max_pending },
            TrySendError::Closed(_) => SocketError::Stopped,
        })?;
        match tokio::time::timeout_at(deadline, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(SocketError::ConnectionLost),
            Err(_) => Err(SocketError::Timeout { waiting_for: "reply", after: self.reply_timeout }),
        }
    }

    /// Closes the socket (with a close frame, if it is open) and waits until
    /// it has stopped.
    pub async fn close(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
