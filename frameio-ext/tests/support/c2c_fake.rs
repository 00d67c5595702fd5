//! A fake C2C API for the `c2c*` tests, on the shared fake API server:
//! replies routed by path (each route with its own script), and every request
//! recorded with tokio's clock, so that tests on a paused clock can measure
//! cadences.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frameio_ext::c2c::{C2cClient, C2cClientBuilder};
use frameio_ext::{Backoff, RetryPolicy};
use hyper::HeaderMap;
use tokio::time::Instant;

use super::fake_api::{FakeApi, Received, Reply};

/// Answers the `n`-th request (0-based) of its route.
pub type Route = Box<dyn Fn(&Received, usize) -> Reply + Send + Sync>;

/// A route for `path` (matched exactly).
pub fn route(path: &'static str, reply: Route) -> (&'static str, Route) {
    (path, reply)
}

/// Replies in order, then the last one again.
pub fn script(replies: Vec<Reply>) -> Route {
    Box::new(move |_, n| replies[n.min(replies.len() - 1)].clone())
}

/// A JSON example of the C2C guides, from the conformance fixtures.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/../tests/fixtures/conformance/c2c/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A request with a body.
pub trait HasBody {
    fn body(&self) -> &[u8];
}

impl HasBody for Received {
    fn body(&self) -> &[u8] {
        &self.body
    }
}

impl HasBody for Hit {
    fn body(&self) -> &[u8] {
        &self.body
    }
}

/// The fields of a form-encoded body.
pub fn form(request: &impl HasBody) -> HashMap<String, String> {
    let url = reqwest::Url::parse(&format!("http://form/?{}", String::from_utf8_lossy(request.body()))).unwrap();
    url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// A JSON body.
pub fn json(request: &impl HasBody) -> serde_json::Value {
    serde_json::from_slice(request.body()).unwrap()
}

/// One request, as received.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// When it arrived, on tokio's (possibly paused) clock.
    pub at: Instant,
}

impl Hit {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The running fake; it stops with the test's runtime.
pub struct FakeC2c {
    api: FakeApi,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl FakeC2c {
    pub async fn start(routes: Vec<(&'static str, Route)>) -> Self {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&hits);
        let counts = Mutex::new(HashMap::<String, usize>::new());
        let api = FakeApi::start(move |request, _| {
            log.lock().unwrap().push(Hit {
                path: request.path.clone(),
                headers: request.headers.clone(),
                body: request.body.clone(),
                at: Instant::now(),
            });
            let Some((_, reply)) = routes.iter().find(|(path, _)| *path == request.path) else {
                return Reply::json(404, r#"{"message": "no such route in the fake"}"#);
            };
            let n = {
                let mut counts = counts.lock().unwrap();
                let count = counts.entry(request.path.clone()).or_default();
                *count += 1;
                *count - 1
            };
            reply(request, n)
        })
        .await;
        Self { api, hits }
    }

    pub fn url(&self) -> String {
        self.api.url()
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    /// A client builder for this fake, retrying without long waits.
    pub fn builder(&self) -> C2cClientBuilder {
        let quick = Backoff::new().initial(Duration::from_millis(1)).max_delay(Duration::from_millis(5)).jitter(0.0);
        C2cClient::builder()
            .base_url(self.url())
            .retry_policy(
                RetryPolicy::new()
                    .backoff(quick)
                    .rate_limit_floor(Duration::from_millis(1))
                    .server_error_floor(Duration::from_millis(1)),
            )
            .call_retry_policy(RetryPolicy::c2c().backoff(quick).max_attempts(4))
    }
}
