//! Rate limits: the `x-ratelimit-limit`, `x-ratelimit-remaining` and
//! `x-ratelimit-window` (ms) headers every V4 response carries for its
//! operation, from the operation table or an override, and, when enforced, the
//! documented leaky bucket per operation and token that answers 429 with
//! `Retry-After` once it is full.
//!
//! The bucket runs on tokio's clock, so a test on a paused clock sees it drain
//! exactly as time is advanced.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// A limit: at most `calls` per `window`, refilling continuously.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub calls: u32,
    pub window: Duration,
}

impl Limit {
    /// `calls` per `window` (at least one call, and a window of at least 1 ms).
    pub fn new(calls: u32, window: Duration) -> Self {
        Self { calls: calls.max(1), window: window.max(Duration::from_millis(1)) }
    }
}

/// Rate-limit configuration: the documented table by default, announced in
/// headers but not enforced.
///
/// ```
/// use std::time::Duration;
/// use frameio_fake::RateLimits;
///
/// let limits = RateLimits::documented()
///     .enforced()
///     .limit("files_create_local_upload", 5, Duration::from_millis(100))
///     .announce("files_show", 2, Duration::from_secs(1));
/// # let _ = limits;
/// ```
#[derive(Debug, Clone, Default)]
pub struct RateLimits {
    enforce: bool,
    silent: bool,
    limits: HashMap<String, Limit>,
    announced: HashMap<String, Limit>,
}

impl RateLimits {
    /// The operation table's limits, announced and not enforced.
    pub fn documented() -> Self {
        Self::default()
    }

    /// Answer 429 once an operation's bucket is full.
    pub fn enforced(mut self) -> Self {
        self.enforce = true;
        self
    }

    /// Replaces an operation's limit (enforced, and announced unless [`Self::announce`] says otherwise).
    pub fn limit(mut self, operation: &str, calls: u32, window: Duration) -> Self {
        self.limits.insert(operation.to_string(), Limit::new(calls, window));
        self
    }

    /// What the headers announce for an operation, whatever is enforced.
    pub fn announce(mut self, operation: &str, calls: u32, window: Duration) -> Self {
        self.announced.insert(operation.to_string(), Limit::new(calls, window));
        self
    }

    /// Sends no `x-ratelimit-*` headers (as behind a proxy that strips them), so a client can
    /// only go by the documented table; an enforced bucket still answers 429 + `Retry-After`.
    ///
    /// ```
    /// use frameio_fake::RateLimits;
    ///
    /// let quiet = RateLimits::documented().unannounced();
    /// # let _ = quiet;
    /// ```
    pub fn unannounced(mut self) -> Self {
        self.silent = true;
        self
    }

    fn enforced_limit(&self, op: &frameio_gen::Operation) -> Option<Limit> {
        self.limits
            .get(op.name)
            .copied()
            .or_else(|| op.rate_limit.map(|documented| Limit::new(documented.calls, documented.window)))
    }
}

/// The verdict on one request.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    /// The headers to send, whatever the outcome.
    pub headers: Vec<(&'static str, String)>,
    /// `Some(wait)` when the request is refused.
    pub retry_after: Option<Duration>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    level: f64,
    at: Instant,
}

/// The buckets of a running fake.
#[derive(Debug, Default)]
pub(crate) struct Buckets {
    config: RateLimits,
    buckets: HashMap<(&'static str, String), Bucket>,
}

impl Buckets {
    pub fn new(config: RateLimits) -> Self {
        Self { config, buckets: HashMap::new() }
    }

    pub fn set_config(&mut self, config: RateLimits) {
        self.config = config;
        self.buckets.clear();
    }

    /// Counts one request of `op` by `who`.
    pub fn check(&mut self, op: &'static frameio_gen::Operation, who: &str) -> Verdict {
        let Some(limit) = self.config.enforced_limit(op) else {
            return Verdict { headers: Vec::new(), retry_after: None };
        };
        let announced = self.config.announced.get(op.name).copied().unwrap_or(limit);
        let now = Instant::now();
        let calls = f64::from(limit.calls);
        let per_second = calls / limit.window.as_secs_f64();
        let bucket = self.buckets.entry((op.name, who.to_string())).or_insert(Bucket { level: 0.0, at: now });
        let drained = now.saturating_duration_since(bucket.at).as_secs_f64() * per_second;
        bucket.level = (bucket.level - drained).max(0.0);
        bucket.at = now;
        let full = bucket.level + 1.0 > calls + 1e-9;
        let retry_after = if full && self.config.enforce {
            Some(Duration::from_secs_f64((bucket.level + 1.0 - calls) / per_second))
        } else {
            bucket.level = (bucket.level + 1.0).min(calls);
            None
        };
        let remaining = (calls - bucket.level).floor().clamp(0.0, f64::from(announced.calls));
        let headers = if self.config.silent {
            Vec::new()
        } else {
            vec![
                ("x-ratelimit-limit", announced.calls.to_string()),
                ("x-ratelimit-remaining", format!("{remaining}")),
                ("x-ratelimit-window", announced.window.as_millis().to_string()),
            ]
        };
        Verdict { headers, retry_after }
    }
}
