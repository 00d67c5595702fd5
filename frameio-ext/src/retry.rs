//! Retries, once for the whole crate: the policy ([`RetryPolicy`]: how many
//! tries, how long to wait, for how long in all), the classifier ([`classify`]:
//! which failures are worth another try) and the runner ([`Retrier`] for loops
//! that need a hand in each step, [`run`] for the rest).
//!
//! API calls, upload and download parts, C2C calls and device-code polling all
//! go through them; what differs between those contexts is data on the policy
//! ([`RetryPolicy::api`], [`RetryPolicy::storage`], [`RetryPolicy::c2c`]), not
//! code.
//!
//! # What is retried
//!
//! | failure | retried when |
//! |---|---|
//! | 429 | always: the server did not act on the request |
//! | 408, 500, 502, 503, 504 | the request is safe to repeat (GET, HEAD, PUT, DELETE, and the POSTs the spec marks read-only) |
//! | connection not opened | always: the request never left |
//! | timeout, reset, body cut short | the request is safe to repeat |
//!
//! Anything else (other 4xx, 501, a body that does not decode) is the caller's
//! to handle: trying again would get the same answer.
//!
//! # How long to wait
//!
//! | failure | wait before retry *n* (1 = first retry) |
//! |---|---|
//! | 429 | the larger of the server's hint (`Retry-After`, or `x-ratelimit-window` when `x-ratelimit-remaining` is 0) and `rate_limit_floor × 2^(n-1)` |
//! | 5xx | `server_error_floor × multiplier^(n-1)` (Frame.io asks for 30 s or more) |
//! | 408, timeout, connection | the [`Backoff`] |
//!
//! Floors are waited in full and lengthened at random by up to the back-off's
//! jitter fraction, so clients that failed together do not retry together. A
//! server's hint is capped at [`RetryPolicy::max_hint`] (a `Retry-After` of
//! years must not park a call forever), and a call never waits past
//! [`RetryPolicy::max_elapsed`] from its first attempt.

use std::future::Future;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, StatusCode};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

pub use crate::rate_limit::MAX_HINT;
use crate::rate_limit::{self, RateLimitStatus};

/// Exponential back-off with jitter: the waits between tries of transient
/// failures (timeouts, dropped connections).
///
/// The wait before retry `n` is `initial × multiplier^(n-1)`, capped at
/// `max_delay`, then shortened at random by up to `jitter` of itself so that
/// clients which failed together do not retry together. The default (500 ms,
/// ×2, capped at 30 s, jitter 0.5) waits about 0.25–0.5 s, 0.5–1 s, 1–2 s, …
///
/// ```
/// use std::time::Duration;
/// use frameio_ext::retry::Backoff;
///
/// let backoff = Backoff::new()
///     .initial(Duration::from_millis(100))
///     .multiplier(3.0)
///     .max_delay(Duration::from_secs(1))
///     .jitter(0.0);
/// assert_eq!(backoff.delay(1), Duration::from_millis(100));
/// assert_eq!(backoff.delay(2), Duration::from_millis(300));
/// assert_eq!(backoff.delay(3), Duration::from_millis(900));
/// assert_eq!(backoff.delay(4), Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max_delay: Duration,
    multiplier: f64,
    jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Backoff {
    /// The default back-off (see the type's documentation).
    pub const fn new() -> Self {
        Self { initial: Duration::from_millis(500), max_delay: Duration::from_secs(30), multiplier: 2.0, jitter: 0.5 }
    }

    /// The wait before the first retry.
    pub const fn initial(mut self, initial: Duration) -> Self {
        self.initial = initial;
        self
    }

    /// The longest wait between two attempts, whatever the attempt number.
    pub const fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// How much each wait grows over the previous one; values below 1 are
    /// read as 1 (constant delay).
    pub const fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// The fraction (0 to 1, clamped) by which each wait is shortened at
    /// random: 0 gives exact delays, 1 "full jitter".
    pub const fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// How long to wait after `failed_attempts` failed tries (0 is read as 1),
    /// jitter included.
    pub fn delay(&self, failed_attempts: u32) -> Duration {
        self.delay_with(failed_attempts, fastrand::f64())
    }

    /// The delay for a given random draw `unit` in `[0, 1)`.
    fn delay_with(&self, failed_attempts: u32, unit: f64) -> Duration {
        let base = self.grown(failed_attempts).min(self.max_delay);
        let shortened = base.as_secs_f64() * (1.0 - self.jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0));
        Duration::try_from_secs_f64(shortened).unwrap_or(self.max_delay).min(self.max_delay)
    }

    /// `initial × multiplier^(n-1)`, uncapped and unjittered (saturating).
    fn grown(&self, failed_attempts: u32) -> Duration {
        if self.initial.is_zero() {
            return Duration::ZERO;
        }
        let exponent = failed_attempts.saturating_sub(1).min(i32::MAX as u32) as i32;
        // `f64::max` ignores NaN, so a NaN multiplier also means "constant".
        let growth = self.multiplier.max(1.0).powi(exponent);
        Duration::try_from_secs_f64(self.initial.as_secs_f64() * growth).unwrap_or(Duration::MAX)
    }
}

/// How often and how long to retry: one type for every context that retries
/// (see the [module documentation](self) for what is retried and the waits).
///
/// ```
/// use std::time::Duration;
/// use frameio_ext::{Backoff, RetryPolicy};
///
/// let policy = RetryPolicy::api()
///     .max_attempts(3)
///     .server_error_floor(Duration::from_millis(10))
///     .backoff(Backoff::new().jitter(0.0));
/// assert_eq!(policy.attempts(), 3);
/// assert_eq!(policy.server_error_delay(2), Duration::from_millis(20));
/// assert_eq!(policy.rate_limited_delay(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    max_elapsed: Duration,
    backoff: Backoff,
    rate_limit_floor: Duration,
    server_error_floor: Duration,
    max_hint: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::api()
    }
}

impl RetryPolicy {
    /// Frame.io API calls (the client's default): 4 tries; 429s wait the
    /// server's hint or 1 s doubling; 5xx wait 30 s, 60 s, 120 s (Frame.io
    /// asks for "a minimum of 30 seconds … exponential back-off … a
    /// randomized interval"); hints are obeyed up to 5 minutes; a call gives up
    /// 6 minutes after its first attempt, which the documented 5xx schedule
    /// (at most 315 s with jitter) fits in.
    pub const fn api() -> Self {
        Self {
            max_attempts: 4,
            max_elapsed: Duration::from_secs(6 * 60),
            backoff: Backoff::new(),
            rate_limit_floor: Duration::from_secs(1),
            server_error_floor: Duration::from_secs(30),
            max_hint: Duration::from_secs(5 * 60),
        }
    }

    /// Alias of [`RetryPolicy::api`].
    pub const fn new() -> Self {
        Self::api()
    }

    /// Storage transfers (upload and download parts to and from S3 or a CDN):
    /// 5 tries on the [`Backoff`] for every retryable failure, 5xx included (S3
    /// asks for exponential back-off, not Frame.io's 30 s), within 5 minutes.
    pub const fn storage() -> Self {
        Self {
            max_attempts: 5,
            max_elapsed: Duration::from_secs(5 * 60),
            backoff: Backoff::new(),
            rate_limit_floor: Duration::from_secs(1),
            server_error_floor: Duration::ZERO,
            max_hint: Duration::from_secs(60),
        }
    }

    /// Camera to Cloud calls: the C2C guide's `delay = min(2 ** attempt / 2,
    /// 32.0)` (0.5 s, 1 s, 2 s, … 32 s) with jitter over its example's 8 tries
    /// (Handle Errors > Exponential Backoff), for 5xx as well.
    pub const fn c2c() -> Self {
        Self {
            max_attempts: 8,
            max_elapsed: Duration::from_secs(10 * 60),
            backoff: Backoff::new().max_delay(Duration::from_secs(32)),
            rate_limit_floor: Duration::from_secs(1),
            server_error_floor: Duration::ZERO,
            max_hint: Duration::from_secs(5 * 60),
        }
    }

    /// Sends once (a 401 is still retried once with a renewed token).
    pub const fn none() -> Self {
        Self::api().max_attempts(1)
    }

    /// The back-off of transient failures, whose jitter and multiplier also
    /// apply to the floored waits.
    pub const fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The total number of tries, the first included; 0 is read as 1.
    pub const fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// The longest a call keeps retrying, from its first attempt to the end of
    /// its last wait.
    pub const fn max_elapsed(mut self, max_elapsed: Duration) -> Self {
        self.max_elapsed = max_elapsed;
        self
    }

    /// The first wait after a 429 without a hint, doubled for each further 429
    /// (Frame.io asks for at least 1 s, then at least double).
    pub const fn rate_limit_floor(mut self, floor: Duration) -> Self {
        self.rate_limit_floor = floor;
        self
    }

    /// The first wait after a 5xx, grown by the back-off's multiplier for each
    /// further one; zero means the [`Backoff`] alone.
    pub const fn server_error_floor(mut self, floor: Duration) -> Self {
        self.server_error_floor = floor;
        self
    }

    /// The longest wait a server's hint (`Retry-After`, a rate-limit window)
    /// can ask for; a longer hint is read as this (never more than [`MAX_HINT`]).
    pub const fn max_hint(mut self, max_hint: Duration) -> Self {
        self.max_hint = max_hint;
        self
    }

    /// The total number of tries allowed, the first included (at least 1).
    pub const fn attempts(&self) -> u32 {
        if self.max_attempts == 0 { 1 } else { self.max_attempts }
    }

    /// The hint cap in force: [`max_hint`](Self::max_hint), at most [`MAX_HINT`].
    pub fn hint_cap(&self) -> Duration {
        self.max_hint.min(MAX_HINT)
    }

    /// The wait after a call's `nth` 429, given the server's hint.
    pub fn rate_limited_delay(&self, nth: u32, hint: Option<Duration>) -> Duration {
        let hint = hint.map(|h| h.min(self.hint_cap()));
        self.floored(self.rate_limit_floor, self.backoff.multiplier.max(2.0), nth, hint, fastrand::f64())
    }

    /// The wait after a call's `nth` 5xx.
    pub fn server_error_delay(&self, nth: u32) -> Duration {
        if self.server_error_floor.is_zero() {
            return self.backoff.delay(nth);
        }
        self.floored(self.server_error_floor, self.backoff.multiplier, nth, None, fastrand::f64())
    }

    /// The wait after a call's `nth` timeout, dropped connection or 408.
    pub fn transient_delay(&self, nth: u32) -> Duration {
        self.backoff.delay(nth)
    }

    /// `floor × multiplier^(nth-1)` or `hint`, whichever is longer, lengthened
    /// at random by up to the jitter fraction.
    fn floored(&self, floor: Duration, multiplier: f64, nth: u32, hint: Option<Duration>, unit: f64) -> Duration {
        let grown = Backoff::new().initial(floor).multiplier(multiplier).grown(nth);
        let base = grown.max(hint.unwrap_or_default());
        let extra = base.as_secs_f64() * self.backoff.jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0);
        base.saturating_add(Duration::try_from_secs_f64(extra).unwrap_or(Duration::MAX))
    }
}

/// Why a failure may be worth another try, and what kind of wait it calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retry {
    /// A 429, with the server's own hint of how long to wait.
    RateLimited { hint: Option<Duration> },
    /// A 500, 502, 503 or 504.
    ServerError,
    /// A 408, a timeout, a connection that failed or broke, a body cut short.
    Transient { reason: &'static str },
}

impl Retry {
    /// A short, secret-free name for logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Retry::RateLimited { .. } => "rate limited",
            Retry::ServerError => "server error",
            Retry::Transient { reason } => reason,
        }
    }
}

/// The S3 error codes that mean "try again", whatever their status:
/// throttling, storage's own faults, or a socket it gave up waiting on
/// (`RequestTimeout` comes with a 400). The C2C guide's AWS table names the
/// same five.
pub const STORAGE_RETRY_CODES: [&str; 5] =
    ["InternalError", "OperationAborted", "RequestTimeout", "ServiceUnavailable", "SlowDown"];

/// A failure the [`classify`] function judges.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Failure<'a> {
    /// An answer with an error status.
    Status { status: StatusCode, headers: &'a HeaderMap },
    /// A storage (S3) answer with an error status, and the `<Code>` of its
    /// error document, if any.
    Storage { status: StatusCode, headers: &'a HeaderMap, code: Option<&'a str> },
    /// The request could not be sent, or its answer not received.
    Transport(&'a reqwest::Error),
    /// The answer's body ended before the length it declared (or its JSON did).
    Truncated,
}

/// Whether `failure` is worth another try (see the [module documentation](self)):
/// `idempotent` says whether the request is safe to repeat.
pub fn classify(failure: Failure<'_>, idempotent: bool) -> Option<Retry> {
    match failure {
        Failure::Status { status, headers } => classify_status(status, headers, idempotent),
        Failure::Storage { status, headers, code } => classify_status(status, headers, idempotent).or_else(|| {
            code.filter(|c| STORAGE_RETRY_CODES.contains(c))
                .map(|_| Retry::Transient { reason: "storage asked to retry" })
        }),
        // A connection that was never opened cannot have delivered the request.
        Failure::Transport(error) if error.is_connect() => Some(Retry::Transient { reason: "connection failed" }),
        Failure::Transport(error) if idempotent && error.is_timeout() => Some(Retry::Transient { reason: "timeout" }),
        Failure::Transport(error) if idempotent && (error.is_request() || error.is_body() || error.is_decode()) => {
            Some(Retry::Transient { reason: "connection lost" })
        }
        Failure::Transport(_) => None,
        Failure::Truncated if idempotent => Some(Retry::Transient { reason: "body cut short" }),
        Failure::Truncated => None,
    }
}

fn classify_status(status: StatusCode, headers: &HeaderMap, idempotent: bool) -> Option<Retry> {
    match status.as_u16() {
        429 => Some(Retry::RateLimited { hint: rate_limit_hint(headers) }),
        408 if idempotent => Some(Retry::Transient { reason: "request timeout" }),
        500 | 502 | 503 | 504 if idempotent => Some(Retry::ServerError),
        _ => None,
    }
}

/// What a 429's headers say about how long to wait: `Retry-After`, else the
/// window when no calls remain.
fn rate_limit_hint(headers: &HeaderMap) -> Option<Duration> {
    rate_limit::retry_after(headers, SystemTime::now()).or_else(|| {
        RateLimitStatus::from_headers(headers).filter(RateLimitStatus::is_exhausted).and_then(|s| s.window())
    })
}

/// The retry bookkeeping of one call: how many attempts, of which failures,
/// since when; [`Retrier::next_wait`] answers "try again, after how long?".
#[derive(Debug, Clone)]
pub struct Retrier {
    policy: RetryPolicy,
    started: Option<Instant>,
    attempts: u32,
    rate_limited: u32,
    server_errors: u32,
    transient: u32,
}

impl Retrier {
    /// Bookkeeping under `policy`, before the first attempt.
    pub fn new(policy: RetryPolicy) -> Self {
        Self { policy, started: None, attempts: 0, rate_limited: 0, server_errors: 0, transient: 0 }
    }

    /// Records that an attempt is being made.
    pub fn attempt(&mut self) {
        self.started.get_or_insert_with(Instant::now);
        self.attempts = self.attempts.saturating_add(1);
    }

    /// Records an attempt that does not count against the policy (the one
    /// repeat after a 401 with a renewed token).
    pub fn free_attempt(&mut self) {
        self.attempt();
        self.attempts = self.attempts.saturating_sub(1);
    }

    /// The attempts made so far that count against the policy.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How long to wait before trying again after `retry`, or `None` when the
    /// policy's attempts or time are used up.
    pub fn next_wait(&mut self, retry: Retry) -> Option<Duration> {
        let wait = match retry {
            Retry::RateLimited { hint } => {
                self.rate_limited = self.rate_limited.saturating_add(1);
                self.policy.rate_limited_delay(self.rate_limited, hint)
            }
            Retry::ServerError => {
                self.server_errors = self.server_errors.saturating_add(1);
                self.policy.server_error_delay(self.server_errors)
            }
            Retry::Transient { .. } => {
                self.transient = self.transient.saturating_add(1);
                self.policy.transient_delay(self.transient)
            }
        };
        let elapsed = self.started.map_or(Duration::ZERO, |t| t.elapsed());
        let in_time = elapsed.saturating_add(wait) <= self.policy.max_elapsed;
        (self.attempts < self.policy.attempts() && in_time).then_some(wait)
    }
}

/// One failed attempt, as [`run`] sees it: the error to report if it gives
/// up, and whether (and how) it may be retried.
#[derive(Debug)]
pub struct Failed<E> {
    /// What the caller gets if this was the last attempt.
    pub error: E,
    /// Why another try may succeed, if it may.
    pub retry: Option<Retry>,
}

impl<E> Failed<E> {
    /// A failure that is not retried.
    pub fn fatal(error: E) -> Self {
        Self { error, retry: None }
    }
}

/// Why [`run`] gave up.
#[derive(Debug)]
pub struct GaveUp<E> {
    /// The last attempt's error (or the error given for a cancellation).
    pub error: E,
    /// How many attempts were made.
    pub attempts: u32,
    /// Whether the wait before another attempt was cancelled.
    pub cancelled: bool,
}

/// Makes attempts (`attempt(n)`, n from 1) until one succeeds, one fails for
/// good, the policy is used up, or `cancel` fires during a wait.
pub async fn run<T, E, F, Fut>(
    policy: RetryPolicy,
    cancel: Option<&CancellationToken>,
    what: &'static str,
    mut attempt: F,
) -> Result<T, GaveUp<E>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, Failed<E>>>,
{
    let mut retrier = Retrier::new(policy);
    loop {
        retrier.attempt();
        let failed = match attempt(retrier.attempts()).await {
            Ok(value) => return Ok(value),
            Err(failed) => failed,
        };
        let attempts = retrier.attempts();
        let Some(wait) = failed.retry.and_then(|retry| retrier.next_wait(retry)) else {
            return Err(GaveUp { error: failed.error, attempts, cancelled: false });
        };
        let reason = failed.retry.map_or("", |r| r.reason());
        tracing::debug!(what, attempt = attempts, wait_ms = millis(wait), reason, "retrying");
        match cancel {
            Some(token) => {
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = token.cancelled() => return Err(GaveUp { error: failed.error, attempts, cancelled: true }),
                }
            }
            None => tokio::time::sleep(wait).await,
        }
    }
}

/// A duration in whole milliseconds, for logs (saturating).
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);
    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn backoff_grows_exponentially_then_caps() {
        let b = Backoff::new().initial(100 * MS).multiplier(2.0).max_delay(700 * MS).jitter(0.0);
        let delays: Vec<_> = (1..=6).map(|n| b.delay(n)).collect();
        assert_eq!(delays, [100 * MS, 200 * MS, 400 * MS, 700 * MS, 700 * MS, 700 * MS]);
        assert_eq!(b.delay(0), 100 * MS, "0 is read as the first retry");
        assert_eq!(b.delay(u32::MAX), 700 * MS, "huge attempt numbers stay capped");
    }

    #[test]
    fn jitter_only_shortens_within_its_fraction() {
        let b = Backoff::new().initial(1000 * MS).jitter(0.25).max_delay(60 * S);
        assert_eq!(b.delay_with(1, 0.0), 1000 * MS);
        assert_eq!(b.delay_with(1, 0.5), 875 * MS);
        for _ in 0..1000 {
            let d = b.delay(3);
            assert!((3000 * MS..=4000 * MS).contains(&d), "{d:?}");
        }
        let full = Backoff::new().initial(1000 * MS).jitter(7.0);
        assert_eq!(full.delay_with(1, 0.9), 100 * MS, "jitter is clamped to 1");
    }

    #[test]
    fn degenerate_backoffs_are_tamed() {
        let b = Backoff::new().initial(100 * MS).multiplier(0.1).jitter(-1.0);
        assert_eq!(b.delay(5), 100 * MS, "multiplier below 1 means constant");
        assert_eq!(Backoff::new().multiplier(f64::NAN).jitter(0.0).delay(3), 500 * MS);
        assert_eq!(Backoff::new().initial(Duration::ZERO).multiplier(f64::MAX).delay(100), Duration::ZERO);
        let huge = Backoff::new().initial(Duration::MAX).max_delay(Duration::MAX);
        assert!(huge.delay(3) > Duration::from_secs(1 << 60), "no overflow panic");
    }

    #[test]
    fn rate_limited_waits_start_at_the_floor_and_at_least_double() {
        let p = RetryPolicy::api().backoff(Backoff::new().multiplier(1.5).jitter(0.0));
        let waits: Vec<_> = (1..=4).map(|n| p.rate_limited_delay(n, None)).collect();
        assert_eq!(waits, [S, 2 * S, 4 * S, 8 * S], "a multiplier below 2 still doubles");
        assert_eq!(p.rate_limited_delay(1, Some(5 * S)), 5 * S, "Retry-After wins when longer");
        assert_eq!(p.rate_limited_delay(3, Some(S)), 4 * S, "doubling wins when longer");
    }

    #[test]
    fn server_hints_are_capped() {
        let p = RetryPolicy::api().backoff(Backoff::new().jitter(0.0));
        let years = Duration::from_secs(1_000_000_000_000);
        assert_eq!(p.rate_limited_delay(1, Some(years)), 5 * 60 * S);
        let generous = p.max_hint(Duration::MAX);
        assert_eq!(generous.rate_limited_delay(1, Some(years)), MAX_HINT, "never beyond the absolute cap");
    }

    #[test]
    fn server_error_waits_never_go_below_the_floor() {
        let p = RetryPolicy::api();
        assert_eq!(p.floored(30 * S, 2.0, 1, None, 0.0), 30 * S);
        assert_eq!(p.floored(30 * S, 2.0, 2, None, 0.5), 75 * S, "60 s plus a quarter");
        for _ in 0..200 {
            let d = p.server_error_delay(1);
            assert!((30 * S..=45 * S).contains(&d), "{d:?}");
        }
        assert_eq!(p.floored(Duration::MAX, 2.0, 9, None, 0.9), Duration::MAX, "no overflow panic");
        let storage = RetryPolicy::storage().backoff(Backoff::new().jitter(0.0));
        assert_eq!(storage.server_error_delay(2), S, "storage 5xx follow the back-off");
    }

    #[tokio::test(start_paused = true)]
    async fn the_documented_5xx_schedule_fits_the_default_policy() {
        let p = RetryPolicy::api();
        let worst: Duration = (1..=3).map(|n| p.floored(30 * S, 2.0, n, None, 1.0)).sum();
        assert_eq!(worst, 315 * S, "45 + 90 + 180 s with the most jitter");
        let mut retrier = Retrier::new(p);
        for _ in 0..3 {
            retrier.attempt();
            let wait = retrier.next_wait(Retry::ServerError).expect("the schedule is allowed");
            tokio::time::advance(wait).await;
        }
        retrier.attempt();
        assert_eq!(retrier.attempts(), 4, "three 5xx in a row, then a fourth attempt");
        assert_eq!(retrier.next_wait(Retry::ServerError), None, "which is the last");
    }

    #[tokio::test(start_paused = true)]
    async fn retries_stop_at_the_attempt_or_time_cap() {
        let mut retrier = Retrier::new(RetryPolicy::api().max_attempts(2));
        retrier.attempt();
        assert!(retrier.next_wait(Retry::Transient { reason: "t" }).is_some());
        retrier.attempt();
        assert!(retrier.next_wait(Retry::Transient { reason: "t" }).is_none(), "attempt cap");

        let mut retrier = Retrier::new(RetryPolicy::api().max_elapsed(10 * S));
        retrier.attempt();
        tokio::time::advance(9 * S).await;
        assert!(retrier.next_wait(Retry::RateLimited { hint: Some(2 * S) }).is_none(), "time cap");
        let mut once = Retrier::new(RetryPolicy::none());
        once.attempt();
        assert!(once.next_wait(Retry::ServerError).is_none(), "one attempt in all");
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().unwrap())).collect()
    }

    #[test]
    fn statuses_are_classified_by_meaning_and_idempotency() {
        let none = HeaderMap::new();
        let status = |code: u16, idempotent| {
            classify(Failure::Status { status: StatusCode::from_u16(code).unwrap(), headers: &none }, idempotent)
        };
        assert_eq!(status(429, false), Some(Retry::RateLimited { hint: None }), "429 is always retried");
        assert_eq!(status(503, true), Some(Retry::ServerError));
        assert_eq!(status(503, false), None, "a POST may have been acted on");
        assert_eq!(status(501, true), None, "not implemented stays so");
        assert_eq!(status(404, true), None);
        assert!(matches!(status(408, true), Some(Retry::Transient { .. })));
        assert_eq!(classify(Failure::Truncated, false), None);
        let storage = |code: u16, s3: Option<&'static str>| {
            let status = StatusCode::from_u16(code).unwrap();
            classify(Failure::Storage { status, headers: &none, code: s3 }, true)
        };
        assert!(storage(400, Some("RequestTimeout")).is_some(), "S3's 400 RequestTimeout is transient");
        assert_eq!(storage(403, Some("AccessDenied")), None, "an expired URL stays expired");
        assert_eq!(storage(503, Some("SlowDown")), Some(Retry::ServerError));
        let hinted = headers(&[("retry-after", "7")]);
        let retry = classify(Failure::Status { status: StatusCode::TOO_MANY_REQUESTS, headers: &hinted }, true);
        assert_eq!(retry, Some(Retry::RateLimited { hint: Some(7 * S) }));
        let exhausted = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-window", "2500")]);
        let retry = classify(Failure::Status { status: StatusCode::TOO_MANY_REQUESTS, headers: &exhausted }, true);
        assert_eq!(retry, Some(Retry::RateLimited { hint: Some(2500 * MS) }), "the window when none remain");
    }

    #[tokio::test]
    async fn connection_failures_are_retried_even_for_posts() {
        let refused = crate::tls::reqwest_builder(crate::tls::HTTP)
            .unwrap()
            .build()
            .unwrap()
            .get("http://127.0.0.1:1/")
            .send()
            .await
            .unwrap_err();
        assert!(matches!(classify(Failure::Transport(&refused), false), Some(Retry::Transient { .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn run_stops_on_success_fatal_or_cancellation() {
        let policy = RetryPolicy::storage();
        let calls = std::sync::atomic::AtomicU32::new(0);
        let outcome: Result<u32, GaveUp<&str>> = run(policy, None, "test", |n| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move { if n < 3 { Err(Failed { error: "busy", retry: Some(Retry::ServerError) }) } else { Ok(n) } }
        })
        .await;
        assert_eq!(outcome.unwrap(), 3);

        let fatal: Result<(), _> = run(policy, None, "test", |_| async { Err(Failed::fatal("no")) }).await;
        let gave_up = fatal.unwrap_err();
        assert_eq!((gave_up.error, gave_up.attempts, gave_up.cancelled), ("no", 1, false));

        let exhausted: Result<(), _> =
            run(policy, None, "test", |_| async { Err(Failed { error: "busy", retry: Some(Retry::ServerError) }) })
                .await;
        assert_eq!(exhausted.unwrap_err().attempts, 5, "the storage policy's tries");

        let token = CancellationToken::new();
        token.cancel();
        let cancelled: Result<(), _> = run(policy, Some(&token), "test", |_| async {
            Err(Failed { error: "busy", retry: Some(Retry::ServerError) })
        })
        .await;
        assert!(cancelled.unwrap_err().cancelled);
    }
}
