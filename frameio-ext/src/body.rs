//! Bounded body reads: how much of a response the client is willing to hold
//! in memory. Anything a server sends is read up to a limit and no further,
//! so a misbehaving server cannot exhaust memory.

use bytes::{Bytes, BytesMut};

/// The body, read to its end or up to `limit` bytes, and whether it went on
/// beyond them (what is beyond is not read).
pub(crate) async fn read_up_to(response: &mut reqwest::Response, limit: usize) -> reqwest::Result<(Bytes, bool)> {
    let declared = response.content_length().and_then(|n| usize::try_from(n).ok());
    let mut body = BytesMut::with_capacity(declared.unwrap_or(8 * 1024).min(limit));
    while let Some(chunk) = response.chunk().await? {
        let room = limit - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body.freeze(), true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body.freeze(), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_are_read_at_most_to_their_limit() {
        let server = httpmock::MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.path("/big");
                then.status(500).body("x".repeat(256 * 1024));
            })
            .await;
        let http = crate::tls::reqwest_builder(crate::tls::HTTP).unwrap().build().unwrap();
        let mut response = http.get(server.url("/big")).send().await.unwrap();
        let (prefix, cut) = read_up_to(&mut response, 64 * 1024).await.unwrap();
        assert_eq!((prefix.len(), cut), (64 * 1024, true));
        let mut response = http.get(server.url("/big")).send().await.unwrap();
        let (whole, cut) = read_up_to(&mut response, usize::MAX).await.unwrap();
        assert_eq!((whole.len(), cut), (256 * 1024, false));
    }
}
