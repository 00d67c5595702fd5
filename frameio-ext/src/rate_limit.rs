//! Rate limits: what the API reports about them ([`RateLimitStatus`], read from
//! every response's `x-ratelimit-*` headers) and the client-side pacing that
//! keeps calls under each operation's documented limit ([`RateLimiting`]).
//!
//! Frame.io documents a limit per operation ("5 calls per 1 second per
//! account_user"); the generator copies it into
//! [`Operation::rate_limit`](frameio_gen::Operation::rate_limit). Before each
//! attempt the client waits until sending keeps that operation under its
//! limit, so a burst is spread out instead of drawing 429s.
//!
//! # How calls are counted
//!
//! An operation has `calls` slots. A call takes one before it is sent and
//! holds it until `window` after its answer (or failure) arrived; a call
//! waits while all slots are taken. The server counts a call when it arrives,
//! which is after it was sent and before it was answered, so two calls that
//! used the same slot arrive at least `window` apart *whatever the network
//! delays*: the server never sees more than `calls` calls in any window.
//! That is the strictest reading of the documented limit (a sliding window);
//! a client that keeps it also keeps a fixed window and Frame.io's documented
//! leaky bucket of the same size. The price is that each call's latency is
//! added to its slot's cycle.
//!
//! # Why not `governor`
//!
//! `governor`'s GCRA counts departures and allows a full burst followed by
//! the steady rate, which puts `calls + 1` arrivals into some windows of a
//! sliding-window server, and it cannot account for a call's answer. The
//! slots above are a counter and a `VecDeque` of at most `calls` instants per
//! operation: memory is bounded by the documented limits, never by the number
//! of calls. Waiting callers queue in arrival order on a fair `tokio` mutex,
//! so none starves and none spins.
//!
//! The limit is counted per operation for the whole client, although Frame.io
//! counts it per account and user: a client working in two accounts is paced
//! as if they were one, which is slower than needed but never too fast.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
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

/// What one response said about its operation's rate limit.
///
/// Each field is `None` when its header was absent or unreadable.
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
        let status = Self {
            operation: None,
            limit: number(LIMIT_HEADER).map(saturate),
            remaining: number(REMAINING_HEADER).map(saturate),
            window: number(WINDOW_HEADER).map(Duration::from_millis),
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

fn saturate(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The `Retry-After` header as a wait from `now`: delay-seconds or an HTTP
/// date (a date in the past means "now").
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Client-side pacing of calls to each operation's documented limit (see
/// the module documentation). On by default.
///
/// ```
/// use frameio_ext::rate_limit::RateLimiting;
///
/// assert!(RateLimiting::new().is_enabled());
/// assert!(!RateLimiting::disabled().is_enabled());
/// // A fake server enforcing the documented limits 10 times faster:
/// let fast = RateLimiting::new().window_scale(0.1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimiting {
    enabled: bool,
    window_scale: f64,
}

impl Default for RateLimiting {
    fn default() -> Self {
        Self::new()
    }
}

impl RateLimiting {
    /// Pacing on, to the documented limits.
    pub const fn new() -> Self {
        Self { enabled: true, window_scale: 1.0 }
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
    /// values are read as 1.
    pub const fn window_scale(mut self, window_scale: f64) -> Self {
        self.window_scale = window_scale;
        self
    }

    /// Whether calls are paced.
    pub const fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The window a documented one is paced to.
    fn paced_window(&self, documented: Duration) -> Duration {
        let scale = if self.window_scale > 0.0 { self.window_scale } else { 1.0 };
        Duration::try_from_secs_f64(documented.as_secs_f64() * scale).unwrap_or(Duration::MAX)
    }
}

/// One operation's slots.
#[derive(Debug, Default)]
struct Slots {
    /// Callers queue here; the one holding it is next to take a slot.
    queue: tokio::sync::Mutex<()>,
    state: Mutex<SlotState>,
    /// Woken when a call in flight gives its slot back.
    released: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct SlotState {
    in_flight: usize,
    /// When recent calls gave their slots back, oldest first: at most `calls`.
    released: VecDeque<Instant>,
}

/// Paces calls per operation (see the module documentation).
#[derive(Debug)]
pub(crate) struct Limiter {
    config: RateLimiting,
    slots: Mutex<HashMap<&'static str, Arc<Slots>>>,
}

impl Limiter {
    /// A limiter, or `None` when pacing is off.
    pub(crate) fn new(config: RateLimiting) -> Option<Self> {
        config.enabled.then(|| Self { config, slots: Mutex::default() })
    }

    /// Waits for a slot of `op`, held until the returned permit is dropped
    /// (when the call's answer or failure has arrived) plus the window.
    /// Operations without a documented limit pass at once.
    #[must_use = "the slot is given back when the permit is dropped"]
    pub(crate) async fn acquire(&self, op: &'static Operation) -> Option<Permit> {
        let limit = op.rate_limit?;
        let calls = usize::try_from(limit.calls.max(1)).unwrap_or(usize::MAX);
        let window = self.config.paced_window(limit.window);
        let slots = Arc::clone(self.slots.lock().unwrap_or_else(|e| e.into_inner()).entry(op.name).or_default());
        let _next_in_line = slots.queue.lock().await;
        loop {
            let free_at = {
                let mut state = slots.state.lock().unwrap_or_else(|e| e.into_inner());
                let now = Instant::now();
                while state.released.front().is_some_and(|t| now.duration_since(*t) >= window) {
                    state.released.pop_front();
                }
                if state.in_flight + state.released.len() < calls {
                    state.in_flight += 1;
                    return Some(Permit { slots: Arc::clone(&slots), window });
                }
                state.released.front().map(|t| *t + window)
            };
            match free_at {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        () = slots.released.notified() => {}
                    }
                }
                None => slots.released.notified().await,
            }
        }
    }
}

/// A slot taken by one attempt; dropping it starts the slot's window.
#[derive(Debug)]
pub(crate) struct Permit {
    slots: Arc<Slots>,
    window: Duration,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = self.slots.state.lock().unwrap_or_else(|e| e.into_inner());
        state.in_flight -= 1;
        let now = Instant::now();
        while state.released.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            state.released.pop_front();
        }
        state.released.push_back(now);
        drop(state);
        // Stored if no one is waiting yet, so a release is never missed.
        self.slots.released.notify_one();
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
        paginated: false,
    };
    const UNLIMITED: Operation = Operation { name: "unlimited", rate_limit: None, ..OP };

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn status_reads_present_headers_only() {
        assert_eq!(RateLimitStatus::from_headers(&HeaderMap::new()), None);
        let partial = RateLimitStatus::from_headers(&headers(&[(REMAINING_HEADER, " 3 ")])).unwrap();
        assert_eq!((partial.limit(), partial.remaining(), partial.window()), (None, Some(3), None));
        let junk = headers(&[(LIMIT_HEADER, "many"), (WINDOW_HEADER, "60000")]);
        let status = RateLimitStatus::from_headers(&junk).unwrap().for_operation("files_show");
        assert_eq!((status.limit(), status.window()), (None, Some(Duration::from_secs(60))));
        assert_eq!(status.operation(), Some("files_show"));
        assert!(!status.is_exhausted());
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after(&headers(&[("retry-after", "7")]), now), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(90));
        assert_eq!(retry_after(&headers(&[("retry-after", &date)]), now), Some(Duration::from_secs(90)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
        assert_eq!(retry_after(&headers(&[("retry-after", &past)]), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn paced_window_applies_the_scale() {
        let w = Duration::from_secs(1);
        assert_eq!(RateLimiting::new().paced_window(w), w);
        assert_eq!(RateLimiting::new().window_scale(0.1).paced_window(w), Duration::from_millis(100));
        assert_eq!(RateLimiting::new().window_scale(-1.0).paced_window(w), w);
        assert!(Limiter::new(RateLimiting::disabled()).is_none());
    }

    fn state(limiter: &Limiter) -> (usize, usize) {
        let slots = Arc::clone(&limiter.slots.lock().unwrap()[OP.name]);
        let state = slots.state.lock().unwrap();
        (state.in_flight, state.released.len())
    }

    /// Takes a slot of `OP`, holds it for `latency`, and says when it was taken.
    async fn call(limiter: &Limiter, latency: Duration, start: Instant) -> Duration {
        let permit = limiter.acquire(&OP).await.expect("OP is limited");
        let taken = Instant::now() - start;
        tokio::time::sleep(latency).await;
        drop(permit);
        taken
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_is_free_again_a_window_after_its_answer() {
        let limiter = Arc::new(Limiter::new(RateLimiting::new()).unwrap());
        let start = Instant::now();
        let latency = Duration::from_millis(300);
        let tasks: Vec<_> = (0..23)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                tokio::spawn(async move { call(&limiter, latency, start).await })
            })
            .collect();
        let mut taken = Vec::new();
        for task in tasks {
            taken.push(task.await.unwrap());
        }
        taken.sort();
        for (i, t) in taken.iter().enumerate() {
            // Each round of 5 takes the latency plus the window.
            assert_eq!(*t, Duration::from_millis(1300) * (i / 5) as u32, "call {i}");
        }
        assert_eq!(state(&limiter), (0, 3), "only the last round is remembered, never more than the limit");
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_call_wakes_when_a_slot_is_released() {
        let limiter = Arc::new(Limiter::new(RateLimiting::new().window_scale(0.001)).unwrap());
        let start = Instant::now();
        // Five slow calls hold every slot; the sixth goes 1 ms after the first answer.
        let slow: Vec<_> = (0..5)
            .map(|i| {
                let limiter = Arc::clone(&limiter);
                tokio::spawn(async move { call(&limiter, Duration::from_secs(10 + i), start).await })
            })
            .collect();
        tokio::task::yield_now().await;
        assert_eq!(state(&limiter), (5, 0));
        assert_eq!(call(&limiter, Duration::ZERO, start).await, Duration::from_millis(10_001));
        for task in slow {
            task.await.unwrap();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn unlimited_operations_and_idle_windows_pass_at_once() {
        let limiter = Limiter::new(RateLimiting::new()).unwrap();
        let start = Instant::now();
        for _ in 0..100 {
            assert!(limiter.acquire(&UNLIMITED).await.is_none());
        }
        for _ in 0..5 {
            call(&limiter, Duration::ZERO, start).await;
        }
        assert_eq!(Instant::now(), start);
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(call(&limiter, Duration::ZERO, start).await, Duration::from_secs(1), "the window has passed");
    }
}
