//! The device's pulse: a background task that sends the heartbeat at the
//! documented cadence and publishes what it learns about the device (online,
//! paused, authorization lost) on a `watch` channel, for the status display
//! the integrator checklist asks for.
//!
//! * Cadence: the heartbeat "should be called no more then once a minute, and
//!   no less than once every 5 minutes" (Heartbeat ping reference); the
//!   interval is kept within those bounds, measured from the start of one
//!   beat to the start of the next.
//! * Status: after each beat the task reads the device's connection
//!   information (`/v2/devices/me`), whose `status` may be `paused` ("Device
//!   has been temporarily disabled in the Frame.io C2C Connections panel");
//!   the guide asks to poll it "no more than once every 60 seconds", which the
//!   cadence guarantees. A `409 Channel Paused` answer marks the device
//!   paused too.
//! * Pausing blocks nothing here: the backend rejects media created while
//!   paused when its asset is created ("Don't rely solely on the identity
//!   endpoint to validate upload eligibility"), see
//!   [`C2cErrorKind::ChannelPaused`].
//! * With the realtime socket ([`Heartbeat::socket`]), one status reflects
//!   both: [`DeviceStatus::socket`] is the socket's connection; `paused` and
//!   `device` take whichever of the two learned something last (a
//!   `status_updated` push, or either side's connection information), so a
//!   push that was missed or came out of order is corrected by the next
//!   beat's connection information, as the guide advises ("verify its
//!   accuracy by periodically checking the connection info"); the socket
//!   closing because the authorization is lost makes `link`
//!   [`Link::Unauthorized`] until the next beat's outcome; and the device
//!   counts as connected ([`DeviceStatus::is_connected`]) when either the
//!   last beat got through or the socket is online.

use std::sync::Arc;
use std::time::Duration;

use frameio_gen::c2c::types::{ProjectDevice, ProjectDeviceStatus};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::C2cClient;
use super::errors::{self, C2cErrorClass, C2cErrorKind};
use super::socket::{ConnectionState, Socket, SocketError, SocketState};

/// The shortest interval between two heartbeats ("no more then once a minute").
pub const MIN_INTERVAL: Duration = Duration::from_secs(60);
/// The longest interval between two heartbeats ("no less than once every 5 minutes").
pub const MAX_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Whether the device reaches Frame.io, as the last heartbeat found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Link {
    /// No heartbeat has been answered yet.
    #[default]
    Starting,
    /// The last heartbeat was accepted.
    Online,
    /// The last heartbeat did not get through (network, timeout, a server
    /// error or rate limit): show the device as disconnected.
    Unreachable {
        /// What went wrong.
        reason: String,
    },
    /// The device's authorization is gone (expired, revoked, refused
    /// refresh): ask the user to pair the device again.
    Unauthorized {
        /// What went wrong.
        reason: String,
    },
    /// Frame.io refused the heartbeat for another reason (e.g. an invalid
    /// `x-client-version`): retrying will not help until the cause is fixed.
    Rejected {
        /// What went wrong.
        reason: String,
    },
}

/// What the heartbeat task knows about the device.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct DeviceStatus {
    /// Whether the last heartbeat got through.
    pub link: Link,
    /// Whether the device is paused in Frame.io; `None` until known.
    pub paused: Option<bool>,
    /// The last connection information read (project, authorizing user,
    /// channels), for the display.
    pub device: Option<Arc<ProjectDevice>>,
    /// How many heartbeats were accepted.
    pub beats: u64,
    /// The realtime socket's connection, when the heartbeat follows one
    /// ([`Heartbeat::socket`]).
    pub socket: Option<ConnectionState>,
}

impl DeviceStatus {
    /// Whether the device is known to be paused.
    pub fn is_paused(&self) -> bool {
        self.paused == Some(true)
    }

    /// The name of the project the device is paired to, if known ("Shows the
    /// connected project name").
    pub fn project_name(&self) -> Option<&str> {
        self.device.as_ref()?.project.as_ref()?.name.as_deref()
    }

    /// Whether the device reaches Frame.io: the last heartbeat got through,
    /// or the socket is online (the guide's "Connected" indicator).
    pub fn is_connected(&self) -> bool {
        self.link == Link::Online || self.socket.as_ref().is_some_and(ConnectionState::is_online)
    }
}

/// Configures the heartbeat task; from [`C2cClient::heartbeat`].
#[derive(Debug, Clone)]
pub struct Heartbeat {
    client: C2cClient,
    interval: Duration,
    identify: bool,
    socket: Option<watch::Receiver<SocketState>>,
}

impl C2cClient {
    /// A heartbeat task for this client: every [`MIN_INTERVAL`] by default,
    /// reading the connection information after each beat.
    ///
    /// ```no_run
    /// # async fn run(client: frameio_ext::c2c::C2cClient) {
    /// let heartbeat = client.heartbeat().start();
    /// let mut status = heartbeat.status();
    /// while status.changed().await.is_ok() {
    ///     let now = status.borrow_and_update().clone();
    ///     println!("{:?}, paused: {}, project: {:?}", now.link, now.is_paused(), now.project_name());
    /// }
    /// # }
    /// ```
    pub fn heartbeat(&self) -> Heartbeat {
        Heartbeat { client: self.clone(), interval: MIN_INTERVAL, identify: true, socket: None }
    }
}

impl Heartbeat {
    /// The time between two heartbeats, kept within [`MIN_INTERVAL`] and
    /// [`MAX_INTERVAL`].
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.clamp(MIN_INTERVAL, MAX_INTERVAL);
        self
    }

    /// Whether to read the connection information (and with it the paused
    /// status) after each heartbeat (default `true`).
    pub fn identify(mut self, identify: bool) -> Self {
        self.identify = identify;
        self
    }

    /// Folds the state of the device's realtime `socket` into the status
    /// (see the [module documentation](self)).
    ///
    /// ```no_run
    /// # async fn run(client: frameio_ext::c2c::C2cClient) -> Result<(), frameio_ext::c2c::SocketError> {
    /// let socket = client.socket().connect().await?;
    /// let heartbeat = client.heartbeat().socket(&socket).start();
    /// let status = heartbeat.current();
    /// println!("connected: {}, socket: {:?}", status.is_connected(), status.socket);
    /// # Ok(()) }
    /// ```
    pub fn socket(mut self, socket: &Socket) -> Self {
        self.socket = Some(socket.status());
        self
    }

    /// The interval in use.
    pub fn current_interval(&self) -> Duration {
        self.interval
    }

    /// Starts the task: a first heartbeat now, then one every interval, until
    /// the handle is stopped or dropped.
    ///
    /// # Panics
    /// Outside a tokio runtime.
    pub fn start(self) -> HeartbeatHandle {
        let (sender, receiver) = watch::channel(DeviceStatus::default());
        let stop = CancellationToken::new();
        let task = tokio::spawn(run(self, sender, stop.clone()));
        HeartbeatHandle { status: receiver, stop, task: Some(task) }
    }
}

/// The running heartbeat task; dropping it stops the task.
#[derive(Debug)]
pub struct HeartbeatHandle {
    status: watch::Receiver<DeviceStatus>,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl HeartbeatHandle {
    /// A receiver of the device's status, updated after every heartbeat. It
    /// reports the end of the task as a closed channel.
    pub fn status(&self) -> watch::Receiver<DeviceStatus> {
        self.status.clone()
    }

    /// The status now.
    pub fn current(&self) -> DeviceStatus {
        self.status.borrow().clone()
    }

    /// Stops the task and waits until it has stopped (a heartbeat in flight
    /// is abandoned).
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for HeartbeatHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn run(heartbeat: Heartbeat, status: watch::Sender<DeviceStatus>, stop: CancellationToken) {
    let mut socket = Followed::new(heartbeat.socket.clone());
    socket.fold(&status);
    let mut next = Instant::now();
    loop {
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                () = tokio::time::sleep_until(next) => break,
                () = socket.changed() => socket.fold(&status),
            }
        }
        let started = Instant::now();
        let beating = beat(&heartbeat, &status);
        tokio::pin!(beating);
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                () = &mut beating => break,
                () = socket.changed() => socket.fold(&status),
            }
        }
        next = started + heartbeat.interval;
    }
}

/// The socket the heartbeat follows, and its state as last folded in.
struct Followed {
    receiver: Option<watch::Receiver<SocketState>>,
    seen: SocketState,
}

impl Followed {
    fn new(receiver: Option<watch::Receiver<SocketState>>) -> Self {
        Self { receiver, seen: SocketState::default() }
    }

    /// Resolves when the socket's state changed (never without a socket, or
    /// once its task has ended, its last state folded in).
    async fn changed(&mut self) {
        if let Some(receiver) = &mut self.receiver
            && receiver.changed().await.is_ok()
        {
            return;
        }
        self.receiver = None;
        std::future::pending().await
    }

    /// Copies what changed in the socket's state since the last fold.
    fn fold(&mut self, status: &watch::Sender<DeviceStatus>) {
        let Some(receiver) = &mut self.receiver else { return };
        let now = receiver.borrow_and_update().clone();
        let seen = std::mem::replace(&mut self.seen, now);
        let now = &self.seen;
        status.send_modify(|current| {
            current.socket = Some(now.connection.clone());
            if now.paused.is_some() && now.paused != seen.paused {
                current.paused = now.paused;
            }
            let new_device = match (&now.device, &seen.device) {
                (Some(now), Some(seen)) => !Arc::ptr_eq(now, seen),
                (device, _) => device.is_some(),
            };
            if new_device {
                current.device = now.device.clone();
            }
            if let ConnectionState::Closed(SocketError::AuthorizationLost { reason }) = &now.connection
                && now.connection != seen.connection
            {
                current.link = Link::Unauthorized { reason: format!("the realtime socket closed: {reason}") };
            }
        });
    }
}

/// One heartbeat, then the connection information.
async fn beat(heartbeat: &Heartbeat, status: &watch::Sender<DeviceStatus>) {
    let client = &heartbeat.client;
    let sent = client.devices_device_heartbeat().send().await;
    let accepted = sent.is_ok();
    let (link, paused) = match sent {
        Ok(_) => (Link::Online, None),
        Err(error) => {
            tracing::warn!(%error, "heartbeat failed");
            let reason = error.to_string();
            match errors::error_kind(&error) {
                C2cErrorKind::ChannelPaused => (Link::Online, Some(true)),
                C2cErrorKind::UnauthorizedClient | C2cErrorKind::SignInAgain => (Link::Unauthorized { reason }, None),
                _ if errors::classify(&error) == C2cErrorClass::Retry => (Link::Unreachable { reason }, None),
                _ => (Link::Rejected { reason }, None),
            }
        }
    };
    let device = if heartbeat.identify && link == Link::Online {
        match client.accounts_device_identify().send().await {
            Ok(device) => Some(device),
            Err(error) => {
                tracing::debug!(%error, "reading the connection information failed");
                None
            }
        }
    } else {
        None
    };
    status.send_modify(|current| {
        current.beats += u64::from(accepted);
        current.link = link;
        if let Some(paused) = paused {
            current.paused = Some(paused);
        }
        if let Some(device) = device {
            if let Some(state) = &device.status {
                current.paused = Some(*state == ProjectDeviceStatus::Paused);
            }
            current.device = Some(Arc::new(device));
        }
    });
}
