//! Receive Frame.io webhooks with axum: verify each request from its raw body,
//! accept each signed request once, then dispatch on the event type.
//!
//! ```text
//! FRAMEIO_WEBHOOK_SECRET=<secret from the webhook's create response> \
//!     cargo run -p frameio-ext --example axum_webhook
//! ```
//!
//! The handler takes the body as `Bytes`, not `Json<...>`: the signature covers
//! the exact bytes Frame.io sent, which a JSON extractor would already have
//! consumed.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use frameio_ext::signature::{Verifier, VerifyError};
use frameio_ext::webhook::{EventType, WebhookEvent};

/// Signed requests remembered at once: room for 30 deliveries a second over
/// twice the 5-minute tolerance, in about 1.2 MB.
const REPLAY_CACHE_CAPACITY: usize = 18_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("FRAMEIO_WEBHOOK_SECRET")
        .map_err(|_| "set FRAMEIO_WEBHOOK_SECRET to the webhook's signing secret")?;
    // One verifier for the whole server: its clones share one replay cache.
    let verifier = Verifier::builder(secret).replay_cache(REPLAY_CACHE_CAPACITY).build();
    let app = Router::new().route("/frameio/webhook", post(receive)).with_state(verifier);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}/frameio/webhook", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn receive(State(verifier): State<Verifier>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let event: WebhookEvent = match verifier.verify_and_parse(&headers, &body) {
        Ok(event) => event,
        Err(err) => {
            eprintln!("rejected webhook: {err}");
            return match err {
                VerifyError::Payload(_) => StatusCode::BAD_REQUEST,
                // Authentic but not recorded: Frame.io retries after a non-2xx answer.
                VerifyError::ReplayCacheFull { .. } => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::UNAUTHORIZED,
            };
        }
    };

    // Frame.io retries after 5 seconds without a 2xx: answer now, and hand
    // slow work (API look-ups, downloads) to a background task or queue.
    match &event.r#type {
        EventType::FileReady => println!("file {} is ready", event.resource.id),
        EventType::CommentCreated => println!("new comment {}", event.resource.id),
        EventType::Unknown(other) => println!("unrecognised event type {other}"),
        other => println!("{other} on {} {}", event.resource.r#type, event.resource.id),
    }
    StatusCode::NO_CONTENT
}
