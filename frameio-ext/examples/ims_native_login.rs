//! Signs a user in from a terminal with an Adobe IMS "OAuth Native App" (or
//! single-page app) credential: PKCE, no client secret, and the redirect
//! received on a loopback address.
//!
//! Register `http://127.0.0.1:8765/callback` (or your port) as a redirect URI
//! pattern on the credential, then:
//!
//! ```text
//! FRAMEIO_CLIENT_ID=… cargo run -p frameio-ext --example ims_native_login [port]
//! ```

use std::time::Duration;

use frameio_ext::TokenProvider;
use frameio_ext::ims::{ExposeSecret, ImsPkceApp, LoopbackRedirect};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client_id = std::env::var("FRAMEIO_CLIENT_ID").map_err(|_| "set FRAMEIO_CLIENT_ID")?;
    let port = match std::env::args().nth(1) {
        Some(port) => port.parse()?,
        None => 8765,
    };

    let redirect = LoopbackRedirect::bind(port).await?;
    let auth = ImsPkceApp::builder()
        .client_id(client_id)
        .redirect_uri(redirect.redirect_uri())
        // A real app saves `tokens` (serde) in the OS keychain here, so the
        // next start can `import` them instead of signing in again.
        .on_token(|tokens| eprintln!("new tokens: {tokens:?}"))
        .build()?;

    let (request, verifier) = auth.authorization_url();
    println!("Open this URL to sign in:\n\n  {}\n", request.url());
    let code = tokio::time::timeout(Duration::from_secs(300), redirect.wait_for_code(request.state()))
        .await
        .map_err(|_| "no sign-in within 5 minutes")??;
    auth.exchange_code(code.expose_secret(), &verifier).await?;

    // From here on the provider renews the token with the refresh token.
    let token = auth.token().await?;
    println!("Signed in; the access token expires at {:?}.", token.expires_at());
    Ok(())
}
