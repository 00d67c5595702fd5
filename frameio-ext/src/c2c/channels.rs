//! Channels (the C2C guide "How to: Manage Channels"): the sub-devices a
//! device uploads or logs on behalf of, connected and disconnected as they
//! come and go.
//!
//! Connecting a channel that is already connected answers `409 Already
//! Exists` ("If a channel has already been declared, you will receive a 409
//! error with the error title Already Exists"): the channel is there, which is
//! what was asked, so it is a success here, reported as
//! [`ChannelConnection::AlreadyConnected`]. [`C2cClient::sync_channels`] is
//! the guide's boot sequence.

use frameio_gen::c2c::types::{ChannelConnectRequest, ProjectDeviceChannel};

use super::C2cClient;
use super::errors::{self, C2cErrorKind};
use crate::error::Result;

/// A sub-device: its own unique `client_id` ("it must be a stable value,
/// such as the serial number") and its model's `device_model_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubDevice {
    /// The sub-device's stable unique identifier.
    pub client_id: String,
    /// Its model, as set up by Frame.io.
    pub device_model_id: String,
}

impl SubDevice {
    /// A sub-device.
    pub fn new(client_id: impl Into<String>, device_model_id: impl Into<String>) -> Self {
        Self { client_id: client_id.into(), device_model_id: device_model_id.into() }
    }
}

/// The outcome of connecting a channel.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ChannelConnection {
    /// The channel was connected (or reconnected, with its previous
    /// configuration restored).
    Connected(Box<ProjectDeviceChannel>),
    /// The channel was connected already (409 `Already Exists`); its details
    /// are in the device's connection information (`/v2/devices/me`).
    AlreadyConnected,
}

impl ChannelConnection {
    /// The channel, when Frame.io returned it.
    pub fn channel(&self) -> Option<&ProjectDeviceChannel> {
        match self {
            ChannelConnection::Connected(channel) => Some(channel),
            ChannelConnection::AlreadyConnected => None,
        }
    }
}

impl C2cClient {
    /// Connects `sub_device` as a channel of this device; an already
    /// connected channel is a success ([`ChannelConnection::AlreadyConnected`]).
    ///
    /// # Errors
    /// The crate's [`Error`](crate::Error) for any other failure.
    pub async fn connect_channel(&self, sub_device: &SubDevice) -> Result<ChannelConnection> {
        let body = ChannelConnectRequest {
            client_id: sub_device.client_id.clone(),
            device_model_id: sub_device.device_model_id.clone(),
        };
        match self.devices_connect_device_channel().body(body).send().await {
            Ok(channel) => Ok(ChannelConnection::Connected(Box::new(channel))),
            Err(error) => {
                // This endpoint's 409 means "already connected", whatever its body says.
                match errors::error_kind(&error) {
                    C2cErrorKind::ChannelPaused => Err(error),
                    C2cErrorKind::AlreadyExists => Ok(ChannelConnection::AlreadyConnected),
                    _ if error.status() == Some(http::StatusCode::CONFLICT) => Ok(ChannelConnection::AlreadyConnected),
                    _ => Err(error),
                }
            }
        }
    }

    /// Disconnects the channel with Frame.io's `channel_id` (not the
    /// sub-device's client id). The device's primary channel cannot be
    /// disconnected.
    ///
    /// # Errors
    /// A 404 when there is no such channel, or another
    /// [`Error`](crate::Error).
    pub async fn disconnect_channel(&self, channel_id: &str) -> Result<()> {
        self.devices_disconnect_device_channel().channel_id(channel_id).send().await?;
        Ok(())
    }

    /// Disconnects every sub-device channel ("This call will always succeed,
    /// even if the project device has no client device channels").
    ///
    /// # Errors
    /// The crate's [`Error`](crate::Error).
    pub async fn disconnect_all_channels(&self) -> Result<()> {
        self.devices_disconnect_all_device_channels().send().await?;
        Ok(())
    }

    /// The guide's boot sequence: "Call the Bulk Channel Disconnect endpoint
    /// to clear all existing sub-device channels", then "Call the Channel
    /// Connect endpoint for each sub-device currently connected". Rather than
    /// keeping channel ids across power cycles, which the guide advises
    /// against.
    ///
    /// # Errors
    /// The first call that failed.
    pub async fn sync_channels(&self, sub_devices: &[SubDevice]) -> Result<Vec<ChannelConnection>> {
        self.disconnect_all_channels().await?;
        let mut connected = Vec::with_capacity(sub_devices.len());
        for sub_device in sub_devices {
            connected.push(self.connect_channel(sub_device).await?);
        }
        Ok(connected)
    }
}
