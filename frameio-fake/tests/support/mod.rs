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

/// One request a [`Receiver`] got.
#[derive(Debug, Clone)]
pub struct Hook {
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: bytes::Bytes,
}

/// A webhook subscriber on 127.0.0.1 that keeps what it receives and answers
/// `statuses` in order (then 200).
pub struct Receiver {
    pub url: String,
    hooks: std::sync::Arc<std::sync::Mutex<Vec<Hook>>>,
}

impl Receiver {
    pub async fn start(statuses: Vec<u16>) -> Self {
        use http_body_util::BodyExt;
        use std::sync::{Arc, Mutex};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(std::collections::VecDeque::from(statuses)));
        let log = Arc::clone(&hooks);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (log, script) = (Arc::clone(&log), Arc::clone(&script));
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let (log, script) = (Arc::clone(&log), Arc::clone(&script));
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                            log.lock().unwrap().push(Hook {
                                path: parts.uri.path().into(),
                                headers: parts.headers,
                                body,
                            });
                            let status = script.lock().unwrap().pop_front().unwrap_or(200);
                            let mut response = hyper::Response::new(http_body_util::Full::new(bytes::Bytes::new()));
                            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        Self { url, hooks }
    }

    pub fn hooks(&self) -> Vec<Hook> {
        self.hooks.lock().unwrap().clone()
    }
}
