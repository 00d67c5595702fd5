//! A Camera to Cloud device in a page: pair once (the tokens are kept in a
//! file next to the working directory), stay online with the realtime socket
//! and the heartbeat, report the device's status as it changes, and upload
//! the files named on the command line, retrying what the C2C error tables
//! say is worth retrying.
//!
//! ```sh
//! C2C_CLIENT_ID=SN-0042 C2C_CLIENT_SECRET=... C2C_FIRMWARE=1.4.2 \
//!     cargo run -p frameio-ext --example c2c_device -- A001_C002.mov A001_C003.mov
//! ```
//!
//! `C2C_BASE_URL` points it at another API host (for instance a local fake
//! on `http://127.0.0.1:<port>`, whose socket is then `ws://`).

use std::error::Error;
use std::time::Duration;

use frameio_ext::c2c::{
    C2cClient, C2cErrorClass, C2cErrorKind, ConnectionState, DeviceAuth, DeviceCredentials, DeviceTokenProvider, Event,
    FileTokenStore, NewAsset, StatusUpdate, TokenStore, classify, error_kind,
};
use frameio_ext::upload::{UploadOptions, UploadSource};
use futures::StreamExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let client_id = std::env::var("C2C_CLIENT_ID")?;
    let secret = std::env::var("C2C_CLIENT_SECRET")?;
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
            let tokens = auth
                .authorize(|code| {
                    println!("Pair this device: enter {} in Frame.io's C2C Connections", code.user_code());
                    if let Some(url) = code.verification_uri_complete() {
                        println!("  or open {url}");
                    }
                    println!("  (the code expires in {:?})", code.remaining());
                })
                .await?;
            store.save(&tokens)?;
            tokens
        }
    };
    let provider = DeviceTokenProvider::builder(auth, tokens).store(store).build();
    let client = builder.token_provider(provider).build()?;

    // The socket shows the device online in Frame.io and brings its pushes;
    // the heartbeat folds the socket's state into one device status.
    let socket = client.socket().start();
    let heartbeat = client.heartbeat().socket(&socket).start();
    let mut connection = socket.status();
    tokio::spawn(async move {
        while connection.changed().await.is_ok() {
            match connection.borrow_and_update().connection.clone() {
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
    let device = client.accounts_device_identify().await?;
    println!("Connected to {:?}", device.project.as_ref().and_then(|p| p.name.as_deref()));

    for path in std::env::args().skip(1) {
        let source = UploadSource::open(&path).await?;
        let mut tries = 0;
        loop {
            tries += 1;
            let asset = NewAsset::named_after(&path);
            match client.upload_file(&source, asset, UploadOptions::new()).await {
                Ok(uploaded) => {
                    println!("{path}: asset {}", uploaded.asset.id);
                    break;
                }
                Err(e) if error_kind(&e) == C2cErrorKind::ChannelPaused => {
                    println!("{path}: recorded while the device was paused; not uploaded");
                    break;
                }
                Err(e) if classify(&e) == C2cErrorClass::Retry && tries < 5 => {
                    println!("{path}: {e}; trying again");
                    tokio::time::sleep(Duration::from_secs(2u64.pow(tries))).await;
                }
                Err(e) => {
                    println!("{path}: {e}");
                    break;
                }
            }
        }
    }
    let status = heartbeat.current();
    println!(
        "Status: {:?}, socket: {:?}, connected: {}, paused: {}",
        status.link,
        status.socket,
        status.is_connected(),
        status.is_paused()
    );
    heartbeat.stop().await;
    socket.close().await;
    Ok(())
}
