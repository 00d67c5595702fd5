//! A Camera to Cloud device in a page: pair by the device code flow, stay
//! online with the realtime socket and the heartbeat, report the device's
//! status as it changes, and upload clips by the real-time upload flow (each
//! clip goes up while it is still being written), retrying what the C2C error
//! tables say is worth retrying.
//!
//! With `--demo` it runs on the embedded fake Frame.io (`frameio-fake`),
//! started in this process, with no credentials: the fake plays the user who
//! enters the pairing code, the device records one generated clip and uploads
//! it as it grows, and the demo checks on the fake that the device was online
//! and that the asset holds exactly the clip's bytes; it exits 0 when all of
//! that held (`cargo test -p frameio-ext --example c2c_device` runs it too).
//!
//! ```sh
//! cargo run -p frameio-ext --example c2c_device -- --demo
//! ```
//!
//! Without `--demo` it is a device of real Frame.io: it pairs once (the tokens
//! are kept in `c2c-tokens.json` in the working directory) and uploads the
//! files named on the command line.
//!
//! ```sh
//! C2C_CLIENT_ID=SN-0042 C2C_CLIENT_SECRET=... C2C_FIRMWARE=1.4.2 \
//!     cargo run -p frameio-ext --example c2c_device -- A001_C002.mov A001_C003.mov
//! ```
//!
//! `C2C_BASE_URL` points it at another API host (for instance a local fake
//! on `http://127.0.0.1:<port>`, whose socket is then `ws://`).

use std::error::Error;
use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use frameio_ext::c2c::socket::DEFAULT_HEARTBEAT_INTERVAL;
use frameio_ext::c2c::{
    C2cClient, C2cClientBuilder, C2cErrorClass, C2cErrorKind, ConnectionState, DeviceAuth, DeviceCredentials,
    DeviceTokenProvider, Event, FileTokenStore, HeartbeatHandle, NewAsset, RealtimeReport, RealtimeUpload, Socket,
    StatusUpdate, TokenStore, classify, error_kind,
};
use frameio_fake::{Fake, Pairing};
use futures::StreamExt;
use tokio::sync::oneshot;

type Failure = Box<dyn Error>;

#[tokio::main]
async fn main() -> Result<(), Failure> {
    if std::env::args().nth(1).as_deref() == Some("--demo") { demo().await } else { device().await }
}

/// The device of real Frame.io (or of `C2C_BASE_URL`).
async fn device() -> Result<(), Failure> {
    let client_id = std::env::var("C2C_CLIENT_ID").map_err(|_| "set C2C_CLIENT_ID (or run with --demo)")?;
    let secret = std::env::var("C2C_CLIENT_SECRET").map_err(|_| "set C2C_CLIENT_SECRET (or run with --demo)")?;
    let firmware = std::env::var("C2C_FIRMWARE").unwrap_or_else(|_| "1.0.0".to_string());

    let mut builder = C2cClient::builder().client_version(firmware);
    if let Ok(base_url) = std::env::var("C2C_BASE_URL") {
        builder = builder.base_url(base_url);
    }
    let auth = DeviceAuth::new(builder.clone().build()?, DeviceCredentials::new(client_id, secret)).url_pairing(true);
    let store = FileTokenStore::new("c2c-tokens.json");
    let tokens = match store.load()? {
        Some(tokens) => tokens,
        None => {
            let tokens = auth.authorize(show_code).await?;
            store.save(&tokens)?;
            tokens
        }
    };
    let provider = DeviceTokenProvider::builder(auth, tokens).store(store).build();
    let client = builder.token_provider(provider).build()?;
    let (socket, heartbeat) = go_online(&client, DEFAULT_HEARTBEAT_INTERVAL);
    let device = client.accounts_device_identify().await?;
    println!("Connected to {:?}", device.project.as_ref().and_then(|p| p.name.as_deref()));

    // Files already recorded: complete from the start.
    for path in std::env::args().skip(1) {
        match upload(&client, Path::new(&path), async {}).await {
            Ok(Some(report)) => println!("{path}: asset {} ({} bytes)", report.asset.id, report.bytes),
            Ok(None) => {}
            Err(e) => println!("{path}: {e}"),
        }
    }
    print_status(&heartbeat);
    heartbeat.stop().await;
    socket.close().await;
    Ok(())
}

/// The demo: the same device on an embedded fake Frame.io, checked on the fake.
async fn demo() -> Result<(), Failure> {
    // A short polling interval, so that the pairing takes a moment, not 5 s.
    let pairing = Pairing::new().interval(Duration::from_millis(200));
    let fake = Fake::builder().c2c_pairing(pairing).c2c_client_secret("demo-model-secret").start().await?;
    let project = fake.seed().account("Demo Studio").workspace("Set").project("Day 1");
    println!("Fake Frame.io at {}, project {:?}", fake.base_url(), "Day 1");

    let builder: C2cClientBuilder = C2cClient::builder().base_url(fake.base_url()).client_version("1.0.0");
    let credentials = DeviceCredentials::new("SN-DEMO-0001", "demo-model-secret");
    let auth = DeviceAuth::new(builder.clone().build()?, credentials).url_pairing(true);
    let tokens = auth
        .authorize(|code| {
            show_code(code);
            // The user enters the code in Frame.io's C2C Connections panel and picks the project.
            let entered = fake.pair_device(code.user_code(), &project.id);
            println!("  (demo) the user entered {} and chose \"Day 1\": {entered}", code.user_code());
        })
        .await?;
    println!("Paired");
    let client = builder.token_provider(DeviceTokenProvider::builder(auth, tokens).build()).build()?;

    // Socket heartbeats every 100 ms rather than the guide's 15 s: the demo lasts a second.
    let (socket, heartbeat) = go_online(&client, Duration::from_millis(100));
    let mut state = socket.status();
    tokio::time::timeout(Duration::from_secs(10), state.wait_for(|s| s.connection.is_online()))
        .await
        .map_err(|_| "the socket did not come online within 10 s")??;
    let device_id = socket.current().device_id().ok_or("the socket named no device")?.to_string();
    let mut beats = heartbeat.status();
    tokio::time::timeout(Duration::from_secs(10), beats.wait_for(|s| s.beats >= 1))
        .await
        .map_err(|_| "no heartbeat was accepted within 10 s")??;
    let on_fake = fake.device_socket(&device_id);
    if on_fake.joined != 1 {
        return Err(format!("the fake does not show device {device_id} online: {on_fake:?}").into());
    }
    println!("Online: the fake shows device {device_id} with its channel joined");

    // Record a clip: 12 MiB appended in 256 KiB chunks, uploaded while it grows.
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("A001_C001.mov");
    std::fs::File::create(&path)?;
    let clip = frameio_fake::patterned_bytes(1, 0..12 << 20);
    let (stopped, recording_stopped) = oneshot::channel();
    let recorder = {
        let (path, clip) = (path.clone(), clip.clone());
        std::thread::spawn(move || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new().append(true).open(&path)?;
            for chunk in clip.chunks(256 * 1024) {
                file.write_all(chunk)?;
                std::thread::sleep(Duration::from_millis(5));
            }
            file.sync_all()?;
            let _ = stopped.send(());
            Ok(())
        })
    };
    println!("Recording {} ({} bytes)", path.display(), clip.len());
    let report = upload(&client, &path, async {
        let _ = recording_stopped.await;
    })
    .await?
    .ok_or("the device is paused")?;
    recorder.join().map_err(|_| "the recorder panicked")??;
    let requests = fake.requests_to("devices_device_create_realtime_upload_parts").len();
    println!(
        "Real-time upload: {} parts, their URLs asked for in {requests} request(s) as the clip grew",
        report.parts.len()
    );
    for part in &report.parts {
        let final_part = if part.is_final { " (final)" } else { "" };
        println!("  part {}: bytes {}..{}{final_part}", part.number, part.range.start, part.range.end);
    }

    // What Frame.io (the fake) has.
    let status = fake.file_status(&report.asset.id);
    let stored = fake.file_bytes(&report.asset.id).unwrap_or_default();
    if !matches!(status, Some("uploaded" | "transcoded")) || stored != clip {
        return Err(format!(
            "asset {} is {status:?} with {} bytes; expected the clip's {} bytes",
            report.asset.id,
            stored.len(),
            clip.len()
        )
        .into());
    }
    println!(
        "Uploaded: asset {} is {}, with the clip's {} bytes",
        report.asset.id,
        status.unwrap_or("?"),
        stored.len()
    );
    let socket_beats = fake.device_socket(&device_id).heartbeats;
    if socket_beats == 0 || !socket.current().connection.is_online() {
        return Err(format!("the socket is {:?} after {socket_beats} heartbeats", socket.current().connection).into());
    }
    println!("Still online: the fake answered {socket_beats} socket heartbeats");
    print_status(&heartbeat);
    heartbeat.stop().await;
    socket.close().await;
    Ok(())
}

fn show_code(code: &frameio_ext::c2c::DeviceCode) {
    println!("Pair this device: enter {} in Frame.io's C2C Connections", code.user_code());
    if let Some(url) = code.verification_uri_complete() {
        println!("  or open {url}");
    }
    println!("  (the code expires in {} s)", code.remaining().as_secs());
}

/// The socket shows the device online in Frame.io and brings its pushes; the
/// heartbeat folds the socket's state into one device status.
fn go_online(client: &C2cClient, socket_heartbeat: Duration) -> (Socket, HeartbeatHandle) {
    let socket = client.socket().heartbeat_interval(socket_heartbeat).start();
    let heartbeat = client.heartbeat().socket(&socket).start();
    let mut connection = socket.status();
    tokio::spawn(async move {
        let mut shown = ConnectionState::Connecting;
        while connection.changed().await.is_ok() {
            let now = connection.borrow_and_update().connection.clone();
            // The state also changes when the connection information is read.
            if now == shown {
                continue;
            }
            shown = now.clone();
            match now {
                ConnectionState::Online => println!("Socket: online"),
                ConnectionState::Reconnecting { attempt, error } => {
                    println!("Socket: reconnecting ({attempt}): {error}")
                }
                ConnectionState::Closed(why) => println!("Socket: closed: {why}"),
                other => println!("Socket: {other:?}"),
            }
        }
    });
    let mut events = socket.events();
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            match event {
                Event::Status(StatusUpdate::Paused) => println!("Paused in Frame.io: new media will not upload"),
                Event::Status(StatusUpdate::Resumed) => println!("Resumed in Frame.io"),
                other => println!("Socket event: {other:?}"),
            }
        }
    });
    (socket, heartbeat)
}

/// Uploads `path` by the real-time flow until `recorded` says the file is
/// complete; `None` if it was recorded while the device was paused.
async fn upload(
    client: &C2cClient,
    path: &Path,
    recorded: impl Future<Output = ()>,
) -> frameio_ext::Result<Option<RealtimeReport>> {
    let name = path.display();
    let mut recorded = Some(recorded);
    let mut tries = 0;
    loop {
        tries += 1;
        // A retry starts over with a new asset, once the file is complete.
        let complete = recorded.take();
        let upload = RealtimeUpload::new(NewAsset::named_after(path)).poll_interval(Duration::from_millis(50));
        let result = client
            .upload_realtime(path, upload, async move {
                if let Some(complete) = complete {
                    complete.await;
                }
            })
            .await;
        match result {
            Ok(report) => return Ok(Some(report)),
            Err(e) if error_kind(&e) == C2cErrorKind::ChannelPaused => {
                println!("{name}: recorded while the device was paused; not uploaded");
                return Ok(None);
            }
            Err(e) if classify(&e) == C2cErrorClass::Retry && tries < 5 => {
                println!("{name}: {e}; trying again");
                tokio::time::sleep(Duration::from_secs(2u64.pow(tries))).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn print_status(heartbeat: &HeartbeatHandle) {
    let status = heartbeat.current();
    println!(
        "Status: {:?}, socket: {:?}, connected: {}, paused: {}, heartbeats: {}",
        status.link,
        status.socket,
        status.is_connected(),
        status.is_paused(),
        status.beats
    );
}

#[cfg(test)]
mod tests {
    /// The demo pairs, comes online, beats and uploads on the fake, and checks it all there.
    #[tokio::test]
    async fn the_demo_runs_on_the_fake() {
        if let Err(e) = super::demo().await {
            panic!("the demo failed: {e}");
        }
    }
}
