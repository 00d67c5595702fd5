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

use std::sync::Arc;
use std::time::Duration;

use frameio_gen::c2c::types::ProjectDevice;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::C2cClient;
use super::errors::{self, C2cErrorClass, C2cErrorKind};

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
}

/// Configures the heartbeat task; from [`C2cClient::heartbeat`].
#[derive(Debug, Clone)]
pub struct Heartbeat {
    client: C2cClient,
    interval: Duration,
    identify: bool,
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
        Heartbeat { client: self.clone(), interval: MIN_INTERVAL, identify: true }
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
    let mut next = Instant::now();
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            () = tokio::time::sleep_until(next) => {}
        }
        let started = Instant::now();
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            () = beat(&heartbeat, &status) => {}
        }
        next = started + heartbeat.interval;
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
            // The API's status enum lacks `paused`, which decodes as `Unknown("paused")`.
            if let Some(state) = &device.status {
                current.paused = Some(state.as_str() == "paused");
            }
            current.device = Some(Arc::new(device));
        }
    });
}
