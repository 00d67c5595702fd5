//! Helpers the fake's tests share: clients pointed at a fake, and raw requests.

#![allow(dead_code)]

use frameio_fake::Fake;
use frameio_gen::Hooks;
use frameio_gen::v4::Client;

/// The generated client, authenticated with the fake's token.
pub fn client(fake: &Fake) -> Client {
    client_with_token(fake, fake.token())
}

pub fn client_with_token(fake: &Fake, token: &str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let http = reqwest::Client::builder().default_headers(headers).build().unwrap();
    Client::new_with_client(fake.base_url(), http, Hooks::default())
}

/// A plain HTTP client (no credentials).
pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// `GET base_url + path` with the fake's token.
pub async fn get(fake: &Fake, path: &str) -> reqwest::Response {
    http().get(format!("{}{path}", fake.base_url())).bearer_auth(fake.token()).send().await.unwrap()
}

/// The error envelope of a response, as the generated type.
pub async fn envelope(response: reqwest::Response) -> frameio_gen::v4::types::Error {
    let body = response.bytes().await.unwrap();
    serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not an error envelope ({e}): {}", String::from_utf8_lossy(&body)))
}
