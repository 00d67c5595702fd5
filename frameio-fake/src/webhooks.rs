//! Webhook deliveries: which subscriptions an event reaches, the documented
//! payload, its signature (`X-Frameio-Signature: v0=hex(HMAC-SHA256(secret,
//! "v0:{timestamp}:{body}"))`), and the documented retries (five attempts,
//! back-off from 15 s) for a subscriber that fails or is too slow.
//!
//! Every attempt is recorded as a [`Delivery`]; [`crate::Fake::webhooks_settled`]
//! waits until none is in flight.

use std::time::{Duration, SystemTime};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;

/// Every event name the webhooks guide documents.
pub const EVENT_NAMES: &[&str] = &[
    "project.created",
    "project.updated",
    "project.deleted",
    "file.created",
    "file.ready",
    "file.updated",
    "file.deleted",
    "file.upload.completed",
    "file.versioned",
    "folder.created",
    "folder.updated",
    "folder.deleted",
    "comment.created",
    "comment.updated",
    "comment.deleted",
    "comment.completed",
    "comment.uncompleted",
    "metadata.value.updated",
    "collection.created",
    "collection.updated",
    "collection.deleted",
    "customfield.created",
    "customfield.updated",
    "customfield.deleted",
    "share.created",
    "share.updated",
    "share.deleted",
    "share.viewed",
];

/// Something that happened, as a webhook payload describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Event {
    pub kind: &'static str,
    pub account_id: String,
    pub workspace_id: String,
    pub project_id: String,
    pub resource_type: &'static str,
    pub resource_id: String,
    pub user_id: String,
}

impl Event {
    /// The documented payload.
    pub fn payload(&self) -> Vec<u8> {
        let body = json!({
            "account": {"id": self.account_id},
            "project": {"id": self.project_id},
            "resource": {"id": self.resource_id, "type": self.resource_type},
            "type": self.kind,
            "user": {"id": self.user_id},
            "workspace": {"id": self.workspace_id},
        });
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// Checks a subscription's URL and event names.
pub(crate) fn check_subscription(url: &str, events: &[String]) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("url: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("url: must be an http or https URL".into());
    }
    if events.is_empty() {
        return Err("events: at least one event is required".into());
    }
    if let Some(unknown) = events.iter().find(|e| !EVENT_NAMES.contains(&e.as_str())) {
        return Err(format!("events: {unknown} is not an event type"));
    }
    Ok(())
}

/// The `X-Frameio-Signature` value for `body` sent at `timestamp` (Unix seconds).
///
/// ```
/// let signature = frameio_fake::webhooks::signature("s3cret", 1604004499, br#"{"type":"file.ready"}"#);
/// assert!(signature.starts_with("v0=") && signature.len() == 3 + 64);
/// ```
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// How the fake delivers webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryPolicy {
    /// Attempts per event and subscription, the first included (documented: 5).
    pub attempts: u32,
    /// The wait before the first retry, doubled for each later one (documented: 15 s).
    pub first_retry: Duration,
    /// How long a subscriber may take to answer (documented: 5 s).
    pub timeout: Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        Self { attempts: 5, first_retry: Duration::from_secs(15), timeout: Duration::from_secs(5) }
    }
}

impl DeliveryPolicy {
    /// The documented policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attempts per event (at least 1).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The wait before the first retry.
    pub fn first_retry(mut self, wait: Duration) -> Self {
        self.first_retry = wait;
        self
    }

    /// How long a subscriber may take to answer.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// One delivery attempt, as the fake saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery {
    pub webhook_id: String,
    /// The event type, e.g. `file.ready`.
    pub event: String,
    /// The `resource.id` of the payload.
    pub resource_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The subscriber's status, if it answered in time.
    pub status: Option<u16>,
    /// Why the attempt failed without a status (connection refused, timeout).
    pub error: Option<String>,
}

impl Delivery {
    /// Whether the subscriber answered 2xx.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// One subscriber to send one event to.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub webhook_id: String,
    pub url: String,
    pub secret: String,
    pub event: Event,
}

/// Sends `job` with retries, reporting each attempt to `record`.
pub(crate) async fn deliver(client: reqwest::Client, policy: DeliveryPolicy, job: Job, record: impl Fn(Delivery)) {
    let body = job.event.payload();
    let mut wait = policy.first_retry;
    for attempt in 1..=policy.attempts.max(1) {
        let timestamp = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let request = client
            .post(&job.url)
            .header("content-type", "application/json")
            .header("user-agent", "Frame.io V4 API")
            .header("x-frameio-request-timestamp", timestamp.to_string())
            .header("x-frameio-signature", signature(&job.secret, timestamp, &body))
            .body(body.clone())
            .send();
        let (status, error) = match tokio::time::timeout(policy.timeout, request).await {
            Ok(Ok(response)) => (Some(response.status().as_u16()), None),
            Ok(Err(e)) => (None, Some(e.without_url().to_string())),
            Err(_) => (None, Some(format!("no answer within {:?}", policy.timeout))),
        };
        let delivery = Delivery {
            webhook_id: job.webhook_id.clone(),
            event: job.event.kind.to_string(),
            resource_id: job.event.resource_id.clone(),
            attempt,
            status,
            error,
        };
        let done = delivery.succeeded();
        record(delivery);
        if done || attempt == policy.attempts {
            return;
        }
        tokio::time::sleep(wait).await;
        wait = wait.saturating_mul(2);
    }
}
