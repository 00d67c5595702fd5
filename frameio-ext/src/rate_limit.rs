//! Rate limits: what the API says about them ([`RateLimitStatus`], read from the
//! `x-ratelimit-*` headers of every response) and the client-side pacing that
//! keeps each operation under its limit ([`RateLimiting`]).
//!
//! # Pacing: a leaky bucket per operation, learnt from the server
//!
//! Frame.io enforces its limits with a leaky bucket ("limits refresh gradually
//! during their allotted time window") and says the limits may change. The
//! client paces each operation with a leaky bucket of its own (GCRA: calls go
//! out at most one per `window / limit`, after a burst that fills the bucket):
//!
//! * it starts from the limit the operation documents (the generated
//!   [`Operation::rate_limit`](frameio_gen::Operation::rate_limit));
//! * every response's `x-ratelimit-limit` and `x-ratelimit-window` replace it,
//!   up or down, for that operation: the headers are the truth, the table a
//!   starting point (an operation the table has no limit for is paced once the
//!   server announces one);
//! * `x-ratelimit-remaining` can only slow the bucket down: when the server has
//!   counted calls the client has not (other processes on the same account),
//!   the client waits for them too;
//! * a 429 fills the bucket (the server said the client is over), while an
//!   attempt that failed with a 5xx or never reached the server gives its call
//!   back: it does not spend pace it did not use.
//!
//! The bucket holds [`JITTER_ALLOWANCE`] worth of calls (at least one) less
//! than the limit, so that calls which arrive closer together than they were
//! sent (network and scheduling jitter) still fit the server's bucket. Waiting callers take their turn in the order they asked;
//! the state is one instant and two numbers per operation, so memory is
//! bounded by the number of operations, never by the number of calls.
//!
//! The limit is counted per operation for the whole client, although Frame.io
//! counts it per user: a client working for several users is paced as if they
//! were one, which is slower than needed but never too fast.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use frameio_gen::Operation;
use http::HeaderMap;
use tokio::time::Instant;

/// The `x-ratelimit-limit` response header: calls allowed per window.
pub const LIMIT_HEADER: &str = "x-ratelimit-limit";
/// The `x-ratelimit-remaining` response header: calls left in the current window.
pub const REMAINING_HEADER: &str = "x-ratelimit-remaining";
/// The `x-ratelimit-window` response header: the window, in milliseconds.
pub const WINDOW_HEADER: &str = "x-ratelimit-window";

/// The longest a server's hint is ever obeyed, whatever a policy says: a
/// `Retry-After`, a rate-limit window or an `expires_in` beyond it is read as
/// this (retry policies cap hints lower still, see
/// [`RetryPolicy::max_hint`](crate::RetryPolicy::max_hint)).
pub const MAX_HINT: Duration = Duration::from_secs(60 * 60);

/// How much earlier than paced a call may arrive at the server (latency that
/// varies from call to call) without overflowing its bucket: the client's
/// bucket is smaller by this much (and by at least one call).
pub const JITTER_ALLOWANCE: Duration = Duration::from_millis(50);

/// The largest limit a header is believed for; larger values are read as this.
const MAX_LIMIT: u32 = 1_000_000;

/// What one response said about its operation's rate limit.
///
/// Each field is `None` when its header was absent or unreadable; numbers are
/// clamped (a limit to a million calls, a window to an hour).
///
/// ```
/// use std::time::Duration;
/// use frameio_ext::rate_limit::RateLimitStatus;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert("x-ratelimit-limit", "5".parse().unwrap());
/// headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
/// headers.insert("x-ratelimit-window", "1000".parse().unwrap());
/// let status = RateLimitStatus::from_headers(&headers).unwrap();
/// assert_eq!(status.limit(), Some(5));
/// assert!(status.is_exhausted());
/// assert_eq!(status.window(), Some(Duration::from_secs(1)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitStatus {
    operation: Option<&'static str>,
    limit: Option<u32>,
    remaining: Option<u32>,
    window: Option<Duration>,
}

impl RateLimitStatus {
    /// Reads the `x-ratelimit-*` headers; `None` when none of them is present.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX).min(MAX_LIMIT);
        let status = Self {
            operation: None,
            limit: number(LIMIT_HEADER).map(clamp),
            remaining: number(REMAINING_HEADER).map(clamp),
            window: number(WINDOW_HEADER).map(|ms| Duration::from_millis(ms).min(MAX_HINT)),
        };
        (status.limit.is_some() || status.remaining.is_some() || status.window.is_some()).then_some(status)
    }

    /// The same status, labelled with the operation whose response it came from.
    pub(crate) fn for_operation(mut self, name: &'static str) -> Self {
        self.operation = Some(name);
        self
    }

    /// The generated operation (e.g. `files_show`) whose response this was,
    /// when recorded by the client.
    pub fn operation(&self) -> Option<&'static str> {
        self.operation
    }

    /// Calls allowed per window for this operation.
    pub fn limit(&self) -> Option<u32> {
        self.limit
    }

    /// Calls left in the current window.
    pub fn remaining(&self) -> Option<u32> {
        self.remaining
    }

    /// The length of the window.
    pub fn window(&self) -> Option<Duration> {
        self.window
    }

    /// Whether the server said no calls are left in the current window.
    pub fn is_exhausted(&self) -> bool {
        self.remaining == Some(0)
    }
}

/// The `Retry-After` header as a wait from `now`: delay-seconds or an HTTP
/// date (a date in the past means "now"), at most [`MAX_HINT`].
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let mut values = headers.get_all(http::header::RETRY_AFTER).iter();
    let value = values.next()?.to_str().ok()?.trim();
    if values.next().is_some() {
        // Two hints that may disagree: the retry policy's own floor applies.
        return None;
    }
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value).ok()?.duration_since(now).unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_HINT))
}

/// Client-side pacing of each operation (see the [module documentation](self)).
/// On by default, learning from the server's headers.
///
/// ```
/// use frameio_ext::rate_limit::RateLimiting;
///
/// assert!(RateLimiting::new().is_enabled());
/// assert!(!RateLimiting::disabled().is_enabled());
/// // A fake server enforcing the documented limits 10 times faster:
/// let fast = RateLimiting::new().window_scale(0.1);
/// // The documented limits only, whatever the server announces:
/// let fixed = RateLimiting::new().learn_from_headers(false);
/// # let _ = (fast, fixed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimiting {
    enabled: bool,
    window_scale: f64,
    learn: bool,
}

impl Default for RateLimiting {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimiting {
    /// Pacing on, from the documented limits, learning from the headers.
    pub const fn new() -> Self {
        Self { enabled: true, window_scale: 1.0, learn: true }
    }

    /// No client-side pacing: calls go out as fast as they are made (a 429
    /// is still retried under the [`RetryPolicy`](crate::RetryPolicy)).
    pub const fn disabled() -> Self {
        Self::new().enabled(false)
    }

    /// Turns pacing on or off.
    pub const fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Multiplies every documented window, e.g. 0.1 to test against a server
    /// that enforces the documented limits ten times faster. Non-positive
    /// values are read as 1. Windows the server announces are not scaled.
    pub const fn window_scale(mut self, window_scale: f64) -> Self {
        self.window_scale = window_scale;
        self
    }

    /// Whether the limits announced in responses replace the documented ones
    /// (default: yes).
    pub const fn learn_from_headers(mut self, learn: bool) -> Self {
        self.learn = learn;
        self
    }

    /// Whether calls are paced.
    pub const fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The window a documented one is paced to.
    fn paced_window(&self, documented: Duration) -> Duration {
        let scale = if self.window_scale > 0.0 { self.window_scale } else { 1.0 };
        Duration::try_from_secs_f64(documented.as_secs_f64() * scale).unwrap_or(MAX_HINT).min(MAX_HINT)
    }
}

/// How an attempt that took a call from the bucket ended, for [`Permit::settle`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Settled<'a> {
    /// The server answered (any status but 429 and 5xx), with these headers.
    Answered(&'a HeaderMap),
    /// The server answered 429: the bucket is full.
    RateLimited(&'a HeaderMap),
    /// A 5xx, or the request never reached the server: the call is given back.
    Unused,
}

/// One operation's bucket: calls go out one per `interval` after a burst of `burst`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    interval: Duration,
    burst: u32,
    /// When the bucket will be empty (GCRA's theoretical arrival time).
    empty_at: Instant,
}

impl Bucket {
    fn new(limit: u32, window: Duration, now: Instant) -> Self {
        let mut bucket = Self { interval: Duration::ZERO, burst: 1, empty_at: now };
        bucket.set_limit(limit, window, now);
        bucket
    }

    /// Paces to `limit` calls per `window`, keeping how full the bucket is.
    fn set_limit(&mut self, limit: u32, window: Duration, now: Instant) {
        let limit = limit.clamp(1, MAX_LIMIT);
        let interval = window.min(MAX_HINT) / limit;
        let level = self.level(now);
        self.interval = interval;
        // Slack for arrival jitter (see the module documentation).
        let slack = if interval.is_zero() {
            1
        } else {
            u32::try_from(JITTER_ALLOWANCE.as_nanos().div_ceil(interval.as_nanos())).unwrap_or(u32::MAX).max(1)
        };
        self.burst = limit.saturating_sub(slack).max(1);
        let filled = Duration::try_from_secs_f64(interval.as_secs_f64() * level).unwrap_or(MAX_HINT);
        self.empty_at = later(now, filled);
    }

    /// How many calls' worth the bucket holds now.
    fn level(&self, now: Instant) -> f64 {
        if self.interval.is_zero() {
            return 0.0;
        }
        self.empty_at.saturating_duration_since(now).as_secs_f64() / self.interval.as_secs_f64()
    }

    /// Takes one call; says when it may go out.
    fn take(&mut self, now: Instant) -> Instant {
        let tolerance = self.interval.saturating_mul(self.burst - 1);
        let allowed_at = self.empty_at.checked_sub(tolerance).map_or(now, |at| at.max(now));
        self.empty_at = later(self.empty_at.max(now), self.interval);
        allowed_at
    }

    fn give_back(&mut self, now: Instant) {
        self.empty_at = self.empty_at.checked_sub(self.interval).map_or(now, |at| at.max(now));
    }

    fn fill(&mut self, now: Instant) {
        self.empty_at = self.empty_at.max(later(now, self.interval.saturating_mul(self.burst)));
    }

    /// At least as full as the server says it is (`used` calls of its limit).
    fn at_least(&mut self, used: u32, now: Instant) {
        self.empty_at = self.empty_at.max(later(now, self.interval.saturating_mul(used)));
    }
}

/// `now + wait`, the wait capped at twice [`MAX_HINT`] so that no bookkeeping
/// can overflow the clock.
fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait.min(MAX_HINT.saturating_mul(2))).unwrap_or(now)
}

/// Paces calls per operation (see the [module documentation](self)).
#[derive(Debug)]
pub(crate) struct Limiter {
    config: RateLimiting,
    buckets: Mutex<HashMap<&'static str, Bucket>>,
}

impl Limiter {
    /// A limiter, or `None` when pacing is off.
    pub(crate) fn new(config: RateLimiting) -> Option<Self> {
        config.enabled.then(|| Self { config, buckets: Mutex::default() })
    }

    fn buckets(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Bucket>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for `op`'s turn and takes a call from its bucket. Operations with
    /// no known limit pass at once.
    pub(crate) async fn acquire(&self, op: &'static Operation) -> Permit<'_> {
        let now = Instant::now();
        let allowed_at = {
            let mut buckets = self.buckets();
            let bucket = match buckets.get_mut(op.name) {
                Some(bucket) => Some(bucket),
                None => op.rate_limit.map(|documented| {
                    let window = self.config.paced_window(documented.window);
                    buckets.entry(op.name).or_insert_with(|| Bucket::new(documented.calls, window, now))
                }),
            };
            bucket.map(|bucket| bucket.take(now))
        };
        if let Some(at) = allowed_at.filter(|at| *at > now) {
            tokio::time::sleep_until(at).await;
        }
        Permit { limiter: self, op: op.name, took: allowed_at.is_some() }
    }

    fn settle(&self, op: &'static str, took: bool, outcome: Settled<'_>) {
        let now = Instant::now();
        let mut buckets = self.buckets();
        match outcome {
            Settled::Unused => {
                if took && let Some(bucket) = buckets.get_mut(op) {
                    bucket.give_back(now);
                }
            }
            Settled::RateLimited(headers) => {
                self.learn(&mut buckets, op, headers, now);
                if let Some(bucket) = buckets.get_mut(op) {
                    bucket.fill(now);
                }
            }
            Settled::Answered(headers) => self.learn(&mut buckets, op, headers, now),
        }
    }

    fn learn(&self, buckets: &mut HashMap<&'static str, Bucket>, op: &'static str, headers: &HeaderMap, now: Instant) {
        if !self.config.learn {
            return;
        }
        let Some(status) = RateLimitStatus::from_headers(headers) else { return };
        if let (Some(limit), Some(window)) = (status.limit, status.window.filter(|w| !w.is_zero())) {
            match buckets.get_mut(op) {
                Some(bucket) => bucket.set_limit(limit, window, now),
                None => {
                    buckets.insert(op, Bucket::new(limit, window, now));
                }
            }
        }
        if let (Some(bucket), Some(limit), Some(remaining)) = (buckets.get_mut(op), status.limit, status.remaining) {
            bucket.at_least(limit.saturating_sub(remaining), now);
        }
    }

    #[cfg(test)]
    fn interval(&self, op: &str) -> Option<Duration> {
        self.buckets().get(op).map(|b| b.interval)
    }
}

/// A call taken from an operation's bucket by one attempt; say how the
/// attempt ended with [`settle`](Self::settle).
#[derive(Debug)]
#[must_use = "settle the permit with the attempt's outcome"]
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
    op: &'static str,
    took: bool,
}

impl Permit<'_> {
    /// Feeds the attempt's outcome back into the bucket.
    pub(crate) fn settle(self, outcome: Settled<'_>) {
        self.limiter.settle(self.op, self.took, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frameio_gen::{Method, RateLimit};

    const OP: Operation = Operation {
        name: "files_create_local_upload",
        method: Method::POST,
        path: "/v4/accounts/{account_id}/folders/{folder_id}/files/local_upload",
        rate_limit: Some(RateLimit { calls: 5, window: Duration::from_secs(1), scope: "account_user" }),
        api_version: None,
        idempotent: false,
        paginated: false,
    };
    const UNLIMITED: Operation = Operation { name: "unlimited", rate_limit: None, ..OP };
    const MS: Duration = Duration::from_millis(1);

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn status_reads_present_headers_only_and_clamps() {
        assert_eq!(RateLimitStatus::from_headers(&HeaderMap::new()), None);
        let partial = RateLimitStatus::from_headers(&headers(&[(REMAINING_HEADER, " 3 ")])).unwrap();
        assert_eq!((partial.limit(), partial.remaining(), partial.window()), (None, Some(3), None));
        let junk = headers(&[(LIMIT_HEADER, "many"), (WINDOW_HEADER, "60000")]);
        let status = RateLimitStatus::from_headers(&junk).unwrap().for_operation("files_show");
        assert_eq!((status.limit(), status.window()), (None, Some(Duration::from_secs(60))));
        assert_eq!(status.operation(), Some("files_show"));
        let huge = headers(&[(LIMIT_HEADER, "99999999999999"), (WINDOW_HEADER, "18446744073709551615")]);
        let status = RateLimitStatus::from_headers(&huge).unwrap();
        assert_eq!((status.limit(), status.window()), (Some(MAX_LIMIT), Some(MAX_HINT)));
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after(&headers(&[("retry-after", "7")]), now), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(retry_after(&headers(&[("retry-after", &date)]), now), Some(Duration::from_secs(90)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after(&headers(&[("retry-after", &past)]), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "1000000000000")]), now), Some(MAX_HINT));
        let mut twice = headers(&[("retry-after", "1")]);
        twice.append("retry-after", "100".parse().unwrap());
        assert_eq!(retry_after(&twice, now), None, "conflicting hints are not believed");
    }

    /// Takes `n` calls of `op` one after the other; says when each went out.
    async fn calls(limiter: &Limiter, op: &'static Operation, n: usize, answer: &HeaderMap) -> Vec<Duration> {
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..n {
            let permit = limiter.acquire(op).await;
            sent.push(Instant::now() - start);
            permit.settle(Settled::Answered(answer));
        }
        sent
    }

    #[tokio::test(start_paused = true)]
    async fn the_documented_limit_paces_after_a_burst() {
        let limiter = Limiter::new(RateLimiting::new()).unwrap();
        let sent = calls(&limiter, &OP, 8, &HeaderMap::new()).await;
        // 5 per second: a burst of 4, then one every 200 ms.
        assert_eq!(sent, [0, 0, 0, 0, 200, 400, 600, 800].map(|ms| ms * MS));
    }

    #[tokio::test(start_paused = true)]
    async fn the_servers_headers_replace_the_documented_limit_up_and_down() {
        let limiter = Limiter::new(RateLimiting::new()).unwrap();
        let faster = headers(&[(LIMIT_HEADER, "100"), (WINDOW_HEADER, "1000")]);
        calls(&limiter, &OP, 1, &faster).await;
        assert_eq!(limiter.interval(OP.name), Some(10 * MS), "100 per second");
        let slower = headers(&[(LIMIT_HEADER, "2"), (WINDOW_HEADER, "1000")]);
        let sent = calls(&limiter, &OP, 3, &slower).await;
        assert_eq!(limiter.interval(OP.name), Some(500 * MS));
        assert!(sent[2] - sent[1] >= 500 * MS, "{sent:?}");

        let fixed = Limiter::new(RateLimiting::new().learn_from_headers(false)).unwrap();
        calls(&fixed, &OP, 1, &faster).await;
        assert_eq!(fixed.interval(OP.name), Some(200 * MS), "learning off: the table");
    }

    #[tokio::test(start_paused = true)]
    async fn an_operation_without_a_documented_limit_is_paced_once_announced() {
        let limiter = Limiter::new(RateLimiting::new()).unwrap();
        let announced = headers(&[(LIMIT_HEADER, "2"), (WINDOW_HEADER, "1000"), (REMAINING_HEADER, "1")]);
        let sent = calls(&limiter, &UNLIMITED, 3, &announced).await;
        assert_eq!(sent[0], Duration::ZERO);
        assert!(sent[2] >= Duration::from_millis(500), "{sent:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn remaining_only_slows_down() {
        let limiter = Limiter::new(RateLimiting::new()).unwrap();
        let busy = headers(&[(LIMIT_HEADER, "5"), (WINDOW_HEADER, "1000"), (REMAINING_HEADER, "0")]);
        let sent = calls(&limiter, &OP, 2, &busy).await;
        // The server's bucket is full: it drains one call per 200 ms, and the
        // client keeps one call of slack.
        assert_eq!(sent[1], Duration::from_millis(400), "{sent:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_fills_the_bucket_and_an_unused_call_is_given_back() {
        let limiter = Limiter::new(RateLimiting::new()).unwrap();
        let start = Instant::now();
        limiter.acquire(&OP).await.settle(Settled::RateLimited(&HeaderMap::new()));
        limiter.acquire(&OP).await.settle(Settled::Unused);
        assert!(Instant::now() - start >= 200 * MS, "after a 429 the next call waits");

        let limiter = Limiter::new(RateLimiting::new()).unwrap();
        let start = Instant::now();
        for _ in 0..50 {
            limiter.acquire(&OP).await.settle(Settled::Unused);
        }
        assert_eq!(Instant::now() - start, Duration::ZERO, "failed attempts hold no pace");
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_operations_and_disabled_pacing_pass_at_once() {
        let limiter = Limiter::new(RateLimiting::new()).unwrap();
        let start = Instant::now();
        calls(&limiter, &UNLIMITED, 100, &HeaderMap::new()).await;
        assert_eq!(Instant::now(), start);
        assert!(Limiter::new(RateLimiting::disabled()).is_none());
        assert_eq!(RateLimiting::new().window_scale(0.1).paced_window(Duration::from_secs(1)), 100 * MS);
        assert_eq!(RateLimiting::new().window_scale(-1.0).paced_window(Duration::from_secs(1)), 1000 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_callers_go_in_turn() {
        let limiter = std::sync::Arc::new(Limiter::new(RateLimiting::new()).unwrap());
        let start = Instant::now();
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let limiter = std::sync::Arc::clone(&limiter);
                tokio::spawn(async move {
                    limiter.acquire(&OP).await.settle(Settled::Answered(&HeaderMap::new()));
                    Instant::now() - start
                })
            })
            .collect();
        let mut sent = Vec::new();
        for task in tasks {
            sent.push(task.await.unwrap());
        }
        sent.sort();
        let expected: Vec<Duration> = (0..12u32).map(|i| i.saturating_sub(3) * 200 * MS).collect();
        assert_eq!(sent, expected);
    }
}
