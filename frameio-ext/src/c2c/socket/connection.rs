//! The socket's task: connect, join, beat, reconnect, until the device's
//! authorization is lost, the join is refused, the back-off gives up, or the
//! application closes the socket.
//!
//! One connection attempt:
//!
//! 1. a token from the client's [`TokenProvider`](crate::TokenProvider),
//!    asked every time (it refreshes ahead of expiry);
//! 2. if the token is not the one the device was last identified with (the
//!    first connection, a refresh, a new pairing): the connection information
//!    (`/v2/devices/me`), as the guide asks "after any new authorization or
//!    token refresh"; its `id` names the channel;
//! 3. TCP, TLS and the upgrade, within the connect timeout. A 401 or 403
//!    ("An expired token will produce a `403` response") invalidates the
//!    token and connects again at once with a renewed one; a second refusal
//!    in a row, or a renewal that is refused, ends the socket
//!    ([`SocketError::AuthorizationLost`]);
//! 4. `phx_join` on `devices:<id>`; a refusal ends the socket
//!    ([`SocketError::JoinRefused`]).
//!
//! While open, a heartbeat goes out every interval (from the upgrade on, so
//! the join is covered too); a heartbeat whose reply does not come within the
//! heartbeat timeout means the connection is dead. Any failure, or the server
//! closing the socket or the channel, leads to a new attempt after the
//! back-off's delay for the number of failures in a row (a connection that
//! was online starts that count again), no sooner than a `Retry-After`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use super::protocol::{self, Frame, Push, Reply, StatusUpdate};
use super::transport::{self, Endpoint, Open, Ws};
use super::{ConnectionState, Event, SocketError, SocketState};
use crate::auth::{AccessToken, AuthError};
use crate::c2c::C2cClient;
use crate::c2c::errors::{self, C2cErrorKind};
use crate::c2c::types::ProjectDeviceStatus;
use crate::retry::{Retrier, Retry, RetryPolicy};

/// The longest a device id may be to name a channel.
const MAX_DEVICE_ID: usize = 128;
/// The longest server-sent name (an event) written to the log.
const MAX_LOGGED_NAME: usize = 64;
/// How long a closing handshake may take when the application closes the socket.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// The socket's settings, from the [`SocketBuilder`](super::SocketBuilder).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) heartbeat_interval: Duration,
    pub(crate) heartbeat_timeout: Duration,
    pub(crate) reply_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) reconnect: RetryPolicy,
    pub(crate) max_pending: usize,
    pub(crate) max_message_size: usize,
}

/// A message to send on the device channel, from [`Socket::send`](super::Socket::send).
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) event: String,
    pub(crate) payload: Value,
    pub(crate) deadline: Instant,
    pub(crate) reply: oneshot::Sender<Result<Reply, SocketError>>,
}

/// The task's ends of the handle's channels.
pub(crate) struct Channels {
    pub(crate) state: watch::Sender<SocketState>,
    pub(crate) events: broadcast::Sender<Event>,
    pub(crate) requests: mpsc::Receiver<Request>,
    pub(crate) stop: CancellationToken,
}

/// The running socket.
pub(crate) struct Task {
    client: C2cClient,
    settings: Settings,
    endpoint: Endpoint,
    channels: Channels,
    tls: Option<tokio_rustls::TlsConnector>,
    /// The token the device was last identified with.
    identified: Option<AccessToken>,
    device_id: Option<String>,
    next_ref: u64,
}

/// How an attempt or a connection ended.
enum Ended {
    /// The application closed the socket.
    Stopped,
    /// A refused token was renewed: connect again now.
    Renewed,
    /// The attempt failed before the channel was joined.
    Failed(SocketError),
    /// A joined connection was lost.
    Dropped(SocketError),
    /// The socket cannot go on.
    Fatal(SocketError),
}

/// A request waiting for its reply.
struct Pending {
    event: String,
    deadline: Instant,
    reply: oneshot::Sender<Result<Reply, SocketError>>,
}

/// One connection's state.
struct Link {
    joined: bool,
    join_ref: String,
    join_deadline: Instant,
    /// The heartbeat waiting for its reply, and until when.
    heartbeat: Option<(String, Instant)>,
    pending: HashMap<String, Pending>,
}

impl Link {
    fn lost(&self, error: SocketError) -> Ended {
        if self.joined { Ended::Dropped(error) } else { Ended::Failed(error) }
    }

    /// The next moment something times out.
    fn next_deadline(&self) -> Option<Instant> {
        let join = (!self.joined).then_some(self.join_deadline);
        let heartbeat = self.heartbeat.as_ref().map(|(_, at)| *at);
        let replies = self.pending.values().map(|p| p.deadline);
        join.into_iter().chain(heartbeat).chain(replies).min()
    }
}

impl Task {
    pub(crate) fn new(client: C2cClient, settings: Settings, endpoint: Endpoint, channels: Channels) -> Self {
        Self { client, settings, endpoint, channels, tls: None, identified: None, device_id: None, next_ref: 0 }
    }

    /// Runs until the socket is closed for good, then publishes why.
    pub(crate) async fn run(mut self) {
        let stop = self.channels.stop.clone();
        let mut retrier = Retrier::new(self.settings.reconnect);
        let mut renewed = false;
        let end = loop {
            let connected = tokio::select! {
                biased;
                () = stop.cancelled() => break SocketError::Stopped,
                connected = self.connect(&mut renewed) => connected,
            };
            let ended = match connected {
                Ok((ws, topic)) => self.session(ws, &topic).await,
                Err(ended) => ended,
            };
            let error = match ended {
                Ended::Stopped => break SocketError::Stopped,
                Ended::Fatal(error) => break error,
                Ended::Renewed => continue,
                Ended::Failed(error) => {
                    retrier.attempt();
                    error
                }
                Ended::Dropped(error) => {
                    // A connection that was up starts the count again.
                    retrier = Retrier::new(self.settings.reconnect);
                    retrier.attempt();
                    error
                }
            };
            let failures = retrier.attempts();
            let retry = match &error {
                SocketError::Upgrade { retry_after: Some(wait), .. } => Retry::RateLimited { hint: Some(*wait) },
                _ => Retry::Transient { reason: "socket closed" },
            };
            let Some(delay) = retrier.next_wait(retry) else {
                break SocketError::GaveUp { attempts: failures, last: Box::new(error) };
            };
            let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            tracing::warn!(attempt = failures, delay_ms, %error, "reconnecting");
            self.channels
                .state
                .send_modify(|s| s.connection = ConnectionState::Reconnecting { attempt: failures, error });
            tokio::select! {
                biased;
                () = stop.cancelled() => break SocketError::Stopped,
                () = tokio::time::sleep(delay) => {}
            }
        };
        tracing::info!(reason = %end, "closed");
        self.channels.state.send_modify(|s| s.connection = ConnectionState::Closed(end));
    }

    /// A token, the device's id if needed, and an open socket; the channel's
    /// topic.
    async fn connect(&mut self, renewed: &mut bool) -> Result<(Ws, String), Ended> {
        let token = self.client.token_provider().token().await.map_err(|error| token_failure(&error, None))?;
        let fresh = self.identified.as_ref().is_none_or(|seen| seen.expose_secret() != token.expose_secret());
        if fresh || self.device_id.is_none() {
            self.identify(&token).await?;
        }
        let device_id = self
            .device_id
            .clone()
            .ok_or_else(|| Ended::Failed(SocketError::InvalidDevice { reason: "no device id was read".into() }))?;
        if self.endpoint.is_secure() && self.tls.is_none() {
            self.tls = Some(transport::tls_connector().map_err(Ended::Failed)?);
        }
        tracing::info!(url = %self.endpoint, "connecting");
        let config = WebSocketConfig::default()
            .max_message_size(Some(self.settings.max_message_size))
            .max_frame_size(Some(self.settings.max_message_size));
        let open = Open { token: &token, client_version: self.client.client_version(), tls: self.tls.as_ref(), config };
        let timeout = self.settings.connect_timeout;
        match tokio::time::timeout(timeout, transport::open(&self.endpoint, open)).await {
            Err(_) => Err(Ended::Failed(SocketError::Timeout { waiting_for: "connection", after: timeout })),
            Ok(Ok(ws)) => {
                *renewed = false;
                tracing::info!("connected");
                Ok((ws, protocol::device_topic(&device_id)))
            }
            Ok(Err(SocketError::Upgrade { status: status @ (401 | 403), .. })) => {
                Err(self.renew(&token, status, renewed).await)
            }
            Ok(Err(error)) => Err(Ended::Failed(error)),
        }
    }

    /// Reads the connection information with `token` and publishes it.
    async fn identify(&mut self, token: &AccessToken) -> Result<(), Ended> {
        let device = match self.client.accounts_device_identify().send().await {
            Ok(device) => device,
            Err(error) => {
                return Err(match errors::error_kind(&error) {
                    C2cErrorKind::UnauthorizedClient | C2cErrorKind::SignInAgain => {
                        Ended::Fatal(SocketError::AuthorizationLost { reason: format!("/v2/devices/me: {error}") })
                    }
                    _ => Ended::Failed(SocketError::Identify { reason: error.to_string() }),
                });
            }
        };
        let id = device_id(device.id.as_deref()).map_err(Ended::Failed)?;
        tracing::info!(device_id = %id, "identified the device");
        self.device_id = Some(id);
        self.identified = Some(token.clone());
        let paused = device.status.as_ref().map(|status| *status == ProjectDeviceStatus::Paused);
        self.channels.state.send_modify(|s| {
            s.device = Some(Arc::new(device));
            if paused.is_some() {
                s.paused = paused;
            }
        });
        Ok(())
    }

    /// After a 401 or 403 on the upgrade: a renewed token, once.
    async fn renew(&self, rejected: &AccessToken, status: u16, renewed: &mut bool) -> Ended {
        if *renewed {
            return Ended::Fatal(SocketError::AuthorizationLost {
                reason: format!("the socket refused the renewed token too (HTTP {status})"),
            });
        }
        let provider = self.client.token_provider();
        provider.invalidate(rejected);
        match provider.token().await {
            Ok(fresh) if fresh.expose_secret() != rejected.expose_secret() => {
                *renewed = true;
                tracing::info!(status, "the socket refused the token; connecting again with a renewed one");
                Ended::Renewed
            }
            Ok(_) => Ended::Fatal(SocketError::AuthorizationLost {
                reason: format!("the socket refused the token (HTTP {status}) and it cannot be renewed"),
            }),
            Err(error) => token_failure(&error, Some(status)),
        }
    }

    /// Joins the channel and keeps the connection until it ends.
    async fn session(&mut self, mut ws: Ws, topic: &str) -> Ended {
        let join_ref = self.reference();
        let now = Instant::now();
        let mut link = Link {
            joined: false,
            join_ref,
            join_deadline: now + self.settings.reply_timeout,
            heartbeat: None,
            pending: HashMap::new(),
        };
        let ended = match self.write(&mut ws, protocol::join(topic, &link.join_ref)).await {
            Ok(()) => self.keep(&mut ws, &mut link, topic).await,
            Err(error) => link.lost(error),
        };
        for (_, pending) in link.pending.drain() {
            let _ = pending.reply.send(Err(SocketError::ConnectionLost));
        }
        ended
    }

    async fn keep(&mut self, ws: &mut Ws, link: &mut Link, topic: &str) -> Ended {
        let stop = self.channels.stop.clone();
        let interval = self.settings.heartbeat_interval;
        let mut beats = tokio::time::interval_at(Instant::now() + interval, interval);
        beats.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let deadline = link.next_deadline();
            tokio::select! {
                biased;
                () = stop.cancelled() => {
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close(None)).await;
                    return Ended::Stopped;
                }
                frame = ws.next() => {
                    if let Some(ended) = self.on_frame(frame, link, topic) {
                        return ended;
                    }
                }
                request = self.channels.requests.recv(), if link.joined => {
                    let Some(request) = request else { return Ended::Stopped };
                    if let Err(error) = self.on_request(ws, link, topic, request).await {
                        return link.lost(error);
                    }
                }
                _ = beats.tick() => {
                    if link.heartbeat.is_none() {
                        let reference = self.reference();
                        if let Err(error) = self.write(ws, protocol::heartbeat(&reference)).await {
                            return link.lost(error);
                        }
                        tracing::trace!("heartbeat sent");
                        link.heartbeat = Some((reference, Instant::now() + self.settings.heartbeat_timeout));
                    }
                }
                () = sleep_until(deadline), if deadline.is_some() => {
                    if let Some(error) = self.expire(link) {
                        return link.lost(error);
                    }
                }
            }
        }
    }

    fn on_frame(
        &self,
        frame: Option<Result<Message, tungstenite::Error>>,
        link: &mut Link,
        topic: &str,
    ) -> Option<Ended> {
        match frame {
            None => Some(link.lost(SocketError::Closed { code: None, reason: String::new() })),
            Some(Err(error)) => Some(link.lost(SocketError::Transport { reason: error.to_string() })),
            Some(Ok(Message::Text(text))) => self.on_text(text.as_str(), link, topic),
            Some(Ok(Message::Close(frame))) => Some(link.lost(SocketError::Closed {
                code: frame.as_ref().map(|f| u16::from(f.code)),
                reason: frame.map(|f| clamp(f.reason.as_str(), 123)).unwrap_or_default(),
            })),
            Some(Ok(Message::Binary(bytes))) => {
                tracing::warn!(bytes = bytes.len(), "ignored a binary frame: the channel speaks JSON text");
                None
            }
            // tungstenite answers pings itself.
            Some(Ok(_)) => None,
        }
    }

    fn on_text(&self, text: &str, link: &mut Link, topic: &str) -> Option<Ended> {
        let frame = match protocol::parse(text) {
            Ok(frame) => frame,
            Err(error) => {
                tracing::warn!(bytes = text.len(), %error, "ignored a frame that is not a Phoenix message");
                return None;
            }
        };
        match frame {
            Frame::Reply { reference, reply } => self.on_reply(&reference, reply, link, topic),
            Frame::Push(push) => self.on_push(push, link, topic),
        }
    }

    fn on_reply(&self, reference: &str, reply: Reply, link: &mut Link, topic: &str) -> Option<Ended> {
        if !link.joined && reference == link.join_ref {
            if !reply.is_ok() {
                return Some(Ended::Fatal(SocketError::JoinRefused {
                    topic: topic.to_owned(),
                    response: reply.response,
                }));
            }
            link.joined = true;
            tracing::info!(topic, "joined the device channel");
            self.channels.state.send_modify(|s| s.connection = ConnectionState::Online);
        } else if link.heartbeat.as_ref().is_some_and(|(sent, _)| sent == reference) {
            link.heartbeat = None;
            tracing::trace!("heartbeat answered");
        } else if let Some(pending) = link.pending.remove(reference) {
            let _ = self.channels.events.send(Event::Reply { event: pending.event, reply: reply.clone() });
            let _ = pending.reply.send(Ok(reply));
        } else {
            tracing::debug!("ignored a reply to nothing this socket waits for");
        }
        None
    }

    fn on_push(&self, push: Push, link: &Link, topic: &str) -> Option<Ended> {
        if push.topic == topic && (push.event == protocol::ERROR_EVENT || push.event == protocol::CLOSE_EVENT) {
            return Some(link.lost(SocketError::ChannelClosed { event: push.event }));
        }
        let event = match push.status_update() {
            Some(update) => {
                tracing::info!(?update, "the device's status changed");
                self.channels.state.send_modify(|s| s.paused = Some(update == StatusUpdate::Paused));
                Event::Status(update)
            }
            None => {
                tracing::debug!(event = %clamp(&push.event, MAX_LOGGED_NAME), "push");
                Event::Push(push)
            }
        };
        let _ = self.channels.events.send(event);
        None
    }

    async fn on_request(
        &mut self,
        ws: &mut Ws,
        link: &mut Link,
        topic: &str,
        request: Request,
    ) -> Result<(), SocketError> {
        if request.reply.is_closed() {
            return Ok(());
        }
        if Instant::now() >= request.deadline {
            let _ = request.reply.send(Err(self.reply_timeout()));
            return Ok(());
        }
        if link.pending.len() >= self.settings.max_pending {
            let _ = request.reply.send(Err(SocketError::TooManyPending { limit: self.settings.max_pending }));
            return Ok(());
        }
        let reference = self.reference();
        self.write(ws, protocol::encode(topic, &request.event, &request.payload, &reference)).await?;
        link.pending
            .insert(reference, Pending { event: request.event, deadline: request.deadline, reply: request.reply });
        Ok(())
    }

    /// Fails the replies that are overdue; the error that ends the
    /// connection, if the join or a heartbeat is.
    fn expire(&self, link: &mut Link) -> Option<SocketError> {
        let now = Instant::now();
        if !link.joined && now >= link.join_deadline {
            return Some(SocketError::Timeout { waiting_for: "join reply", after: self.settings.reply_timeout });
        }
        if link.heartbeat.as_ref().is_some_and(|(_, deadline)| now >= *deadline) {
            return Some(SocketError::Timeout {
                waiting_for: "heartbeat reply",
                after: self.settings.heartbeat_timeout,
            });
        }
        let overdue: Vec<String> =
            link.pending.iter().filter(|(_, p)| now >= p.deadline).map(|(r, _)| r.clone()).collect();
        for reference in overdue {
            if let Some(pending) = link.pending.remove(&reference) {
                let _ = pending.reply.send(Err(self.reply_timeout()));
            }
        }
        None
    }

    async fn write(&self, ws: &mut Ws, text: String) -> Result<(), SocketError> {
        let limit = self.settings.heartbeat_timeout;
        match tokio::time::timeout(limit, ws.send(Message::text(text))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(SocketError::Transport { reason: error.to_string() }),
            Err(_) => Err(SocketError::Timeout { waiting_for: "write", after: limit }),
        }
    }

    fn reply_timeout(&self) -> SocketError {
        SocketError::Timeout { waiting_for: "reply", after: self.settings.reply_timeout }
    }

    /// A new `ref`.
    fn reference(&mut self) -> String {
        self.next_ref = self.next_ref.wrapping_add(1);
        self.next_ref.to_string()
    }
}

/// What a token that could not be had means: a refused refresh ends the
/// socket; anything else (network, rate limit, a server error) is retried.
fn token_failure(error: &AuthError, upgrade_status: Option<u16>) -> Ended {
    let context = upgrade_status.map(|s| format!("HTTP {s} on the upgrade, and ")).unwrap_or_default();
    match error {
        AuthError::SignInAgain { .. } => {
            Ended::Fatal(SocketError::AuthorizationLost { reason: format!("{context}no token: {error}") })
        }
        _ => Ended::Failed(SocketError::Token { reason: format!("{context}no token: {error}") }),
    }
}

/// The device id, checked to name a channel.
fn device_id(id: Option<&str>) -> Result<String, SocketError> {
    let invalid = |reason: &str| SocketError::InvalidDevice { reason: reason.to_owned() };
    let id = id.filter(|id| !id.is_empty()).ok_or_else(|| invalid("`id` is missing"))?;
    if id.len() > MAX_DEVICE_ID {
        return Err(invalid("`id` is too long"));
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(invalid("`id` has characters other than letters, digits, `-` and `_`"));
    }
    Ok(id.to_owned())
}

/// `text`, cut to at most `max` bytes on a character boundary.
fn clamp(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_device_ids_name_a_channel() {
        assert_eq!(
            device_id(Some("a7e95254-8cd6-4d59-b54d-28c58570a8de")).unwrap(),
            "a7e95254-8cd6-4d59-b54d-28c58570a8de"
        );
        for bad in [None, Some(""), Some("a:b"), Some("a b"), Some("é")] {
            assert!(matches!(device_id(bad), Err(SocketError::InvalidDevice { .. })), "{bad:?}");
        }
        assert!(device_id(Some(&"a".repeat(MAX_DEVICE_ID + 1))).is_err());
    }

    #[test]
    fn clamping_keeps_whole_characters() {
        assert_eq!(clamp("héllo", 2), "h");
        assert_eq!(clamp("héllo", 3), "hé");
        assert_eq!(clamp("hi", 10), "hi");
    }

    #[test]
    fn a_refused_refresh_ends_the_socket_and_a_network_failure_does_not() {
        let lost = token_failure(&AuthError::SignInAgain { reason: "invalid_grant".into() }, Some(403));
        assert!(
            matches!(lost, Ended::Fatal(SocketError::AuthorizationLost { ref reason }) if reason.contains("HTTP 403"))
        );
        let blip = token_failure(&AuthError::Unreachable { reason: "dns".into() }, None);
        assert!(matches!(blip, Ended::Failed(SocketError::Token { .. })));
    }
}
