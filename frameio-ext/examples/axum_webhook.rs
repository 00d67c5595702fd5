//! Receive Frame.io webhooks with axum: verify each request from its raw body,
//! then dispatch on the event type.
//!
//! ```text
//! FRAMEIO_WEBHOOK_SECRET=<secret from the webhook's create response> \
//!     cargo run -p frameio-ext --example axum_webhook
//! ```
//!
//! The handler takes the body as `Bytes`, not `Json<...>`: the signature covers
//! the exact bytes Frame.io sent, which a JSON extractor would already have
//! consumed.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use frameio_ext::webhook::{EventType, Verifier, VerifyError, WebhookEvent};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secret = std::env::var("FRAMEIO_WEBHOOK_SECRET")
        .map_err(|_| "set FRAMEIO_WEBHOOK_SECRET to the webhook's signing secret")?;
    let app = Router::new().route("/frameio/webhook", post(receive)).with_state(Arc::new(Verifier::new(secret)));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on http://{}/frameio/webhook", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

async fn receive(State(verifier): State<Arc<Verifier>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let event: WebhookEvent = match verifier.verify_and_parse(&headers, &body) {
        Ok(event) => event,
        Err(err) => {
            eprintln!("rejected webhook: {err}");
            return match err {
                VerifyError::Payload(_) => StatusCode::BAD_REQUEST,
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
