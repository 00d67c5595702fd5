//! TLS: one crypto provider (`ring`) and the platform's trust store, for API
//! calls, storage transfers and the C2C realtime socket alike.
//!
//! The crate's HTTP clients get their rustls configuration from here, so no
//! process-wide default provider is needed and no second provider (aws-lc-rs,
//! which needs cmake to build) is compiled in. An application that builds
//! its own `reqwest::Client` (for [`ClientBuilder::http_client`](crate::ClientBuilder::http_client),
//! or for anything else) calls [`install_default_provider`] first, or enables
//! reqwest's own `rustls` feature.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls_platform_verifier::BuilderVerifierExt;

/// ALPN for API calls: HTTP/2 where the server offers it.
pub(crate) const HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];
/// ALPN for storage parts (one connection per part) and the WebSocket upgrade.
pub(crate) const HTTP1: &[&[u8]] = &[b"http/1.1"];

/// A client configuration with the `ring` provider, safe protocol versions,
/// the platform verifier and `alpn`.
pub(crate) fn client_config(alpn: &[&[u8]]) -> Result<ClientConfig, rustls::Error> {
    let mut config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_platform_verifier()?
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    Ok(config)
}

/// A reqwest builder whose TLS is [`client_config`] with `alpn`: build it
/// after setting what else the client needs.
pub(crate) fn reqwest_builder(alpn: &[&[u8]]) -> Result<reqwest::ClientBuilder, rustls::Error> {
    Ok(reqwest::Client::builder().tls_backend_preconfigured(client_config(alpn)?))
}

/// Makes `ring` the process's default rustls provider, for `reqwest::Client`s
/// the application builds itself (frameio-ext's own clients do not need it).
/// Returns `false` if a default was already installed, which is kept.
///
/// ```
/// frameio_ext::tls::install_default_provider();
/// let http = reqwest::Client::builder().build().expect("TLS is set up");
/// # drop(http);
/// ```
pub fn install_default_provider() -> bool {
    rustls::crypto::ring::default_provider().install_default().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configurations_use_ring_and_offer_their_protocols() {
        let api = client_config(HTTP).unwrap();
        assert_eq!(api.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
        let ring = rustls::crypto::ring::default_provider();
        let suites = |provider: &rustls::crypto::CryptoProvider| -> Vec<_> {
            provider.cipher_suites.iter().map(|suite| suite.suite()).collect()
        };
        assert_eq!(suites(api.crypto_provider()), suites(&ring));
        assert_eq!(client_config(HTTP1).unwrap().alpn_protocols, [b"http/1.1".to_vec()]);
        assert!(reqwest_builder(HTTP1).unwrap().build().is_ok());
    }
}
