//! Retry timing: the [`Backoff`] policy shared by every part of the client
//! that retries (upload parts today, API requests later).
//!
//! This module only answers "how many tries, and how long to wait before the
//! next one"; deciding *whether* a failure is worth retrying stays with the
//! caller, which knows what the failure means. [`RetryPolicy`] is the API
//! client's timing: a [`Backoff`] plus the waits Frame.io documents for 429
//! and 5xx answers, and a cap on a call's total time.

use std::time::Duration;

/// Exponential back-off with jitter and a bounded number of attempts.
///
/// The wait before retry `n` (after `n` failed attempts) is
/// `initial × multiplier^(n-1)`, capped at `max_delay`, then shortened at
/// random by up to `jitter` of itself so that clients which failed together
/// do not retry together.
///
/// The default (500 ms, ×2, capped at 30 s, jitter 0.5, 5 attempts) waits
/// about 0.25–0.5 s, 0.5–1 s, 1–2 s and 2–4 s between its five tries: long
/// enough to ride out an S3 `SlowDown` or a dropped connection, short enough
/// that a dead network is reported within ten seconds. Half jitter rather
/// than full keeps a guaranteed minimum pause while still spreading retries.
///
/// ```
/// use std::time::Duration;
/// use frameio_ext::retry::Backoff;
///
/// let backoff = Backoff::new()
///     .initial(Duration::from_millis(100))
///     .multiplier(3.0)
///     .max_delay(Duration::from_secs(1))
///     .jitter(0.0)
///     .max_attempts(4);
/// assert_eq!(backoff.delay(1), Duration::from_millis(100));
/// assert_eq!(backoff.delay(2), Duration::from_millis(300));
/// assert_eq!(backoff.delay(3), Duration::from_millis(900));
/// assert_eq!(backoff.delay(4), Duration::from_secs(1));
/// assert!(backoff.allows_retry_after(3));
/// assert!(!backoff.allows_retry_after(4));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    initial: Duration,
    max_delay: Duration,
    multiplier: f64,
    jitter: f64,
    max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self::new()
    }
}

impl Backoff {
    /// The default policy (see the type's documentation).
    pub const fn new() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: 0.5,
            max_attempts: 5,
        }
    }

    /// A policy that tries once and never retries.
    pub const fn no_retry() -> Self {
        Self::new().max_attempts(1)
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
    /// treated as 1 (constant delay).
    pub const fn multiplier(mut self, multiplier: f64) -> Self {
        self.multiplier = multiplier;
        self
    }

    /// The fraction (0 to 1, clamped) by which each wait is shortened at
    /// random: 0 gives exact delays, 1 gives "full jitter" (anywhere from zero
    /// to the computed delay).
    pub const fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// The total number of tries, the first one included; 0 is treated as 1.
    pub const fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// The total number of tries allowed, the first one included (at least 1).
    pub const fn attempts(&self) -> u32 {
        if self.max_attempts == 0 { 1 } else { self.max_attempts }
    }

    /// Whether another try is allowed after `failed_attempts` tries failed.
    pub const fn allows_retry_after(&self, failed_attempts: u32) -> bool {
        failed_attempts < self.attempts()
    }

    /// How long to wait after `failed_attempts` failed tries before the next
    /// one, jitter included (`failed_attempts` 0 is treated as 1).
    pub fn delay(&self, failed_attempts: u32) -> Duration {
        self.delay_with(failed_attempts, fastrand::f64())
    }

    /// The delay for a given random draw `unit` in `[0, 1)`.
    fn delay_with(&self, failed_attempts: u32, unit: f64) -> Duration {
        let exponent = failed_attempts.saturating_sub(1).min(i32::MAX as u32) as i32;
        // `f64::max` ignores NaN, so a NaN multiplier also means "constant".
        let growth = self.multiplier.max(1.0).powi(exponent);
        let uncapped = self.initial.as_secs_f64() * growth;
        let base = if self.initial.is_zero() { 0.0 } else { uncapped.min(self.max_delay.as_secs_f64()) };
        let shortened = base * (1.0 - self.jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0));
        Duration::try_from_secs_f64(shortened).unwrap_or(self.max_delay).min(self.max_delay)
    }
}

/// How the API client times its retries, and how long it keeps trying.
///
/// *Which* failures are retried is fixed by what they mean (see the
/// [`Client`](crate::Client) documentation): 429s always; 408, 500, 502, 503,
/// 504, timeouts and dropped connections only for methods that are safe to
/// repeat (GET, HEAD, PUT, DELETE); a connection that could not be opened
/// always, since the server never saw the request.
///
/// The waits follow Frame.io's guidance:
///
/// | failure | wait before retry *n* (1 = first retry) |
/// |---|---|
/// | 429 | the larger of `Retry-After` (or the `x-ratelimit-window` when `x-ratelimit-remaining` is 0) and `rate_limit_floor × 2^(n-1)`, plus jitter |
/// | 5xx | `server_error_floor × multiplier^(n-1)`, plus jitter |
/// | 408, timeout, connection | [`Backoff::delay`]`(n)` |
///
/// "Plus jitter" adds up to the back-off's jitter fraction (default 50 %), so
/// the floors are always waited in full. Defaults: 4 attempts in all, 1 s rate
/// limit floor, 30 s server error floor (the documented minimum), 2 minutes
/// total: a call is never retried if the wait would end more than 2 minutes
/// after its first attempt, which allows one or two 5xx retries.
///
/// ```
/// use std::time::Duration;
/// use frameio_ext::{Backoff, RetryPolicy};
///
/// let policy = RetryPolicy::new()
///     .max_attempts(3)
///     .server_error_floor(Duration::from_millis(10))
///     .backoff(Backoff::new().jitter(0.0).max_attempts(3));
/// assert_eq!(policy.attempts(), 3);
/// assert_eq!(policy.server_error_delay(2), Duration::from_millis(20));
/// assert_eq!(policy.rate_limited_delay(1, Some(Duration::from_secs(3))), Duration::from_secs(3));
/// assert!(policy.allows_retry(2, Duration::from_secs(1), Duration::from_secs(1)));
/// assert!(!policy.allows_retry(3, Duration::ZERO, Duration::ZERO));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    backoff: Backoff,
    max_elapsed: Duration,
    rate_limit_floor: Duration,
    server_error_floor: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl RetryPolicy {
    /// The default policy (see the type's documentation).
    pub const fn new() -> Self {
        Self {
            backoff: Backoff::new().max_attempts(4),
            max_elapsed: Duration::from_secs(120),
            rate_limit_floor: Duration::from_secs(1),
            server_error_floor: Duration::from_secs(30),
        }
    }

    /// A policy that sends each request once (a 401 is still retried once
    /// with a refreshed token).
    pub const fn none() -> Self {
        Self::new().max_attempts(1)
    }

    /// The back-off for timeouts and connection failures, whose jitter and
    /// multiplier also apply to the floored waits; its `max_attempts` becomes
    /// the policy's.
    pub const fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The total number of tries, the first included; 0 is read as 1.
    pub const fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.backoff = self.backoff.max_attempts(max_attempts);
        self
    }

    /// The longest a call keeps retrying, from its first attempt to the end of
    /// the last wait.
    pub const fn max_elapsed(mut self, max_elapsed: Duration) -> Self {
        self.max_elapsed = max_elapsed;
        self
    }

    /// The wait before the first retry of a 429 without `Retry-After`, doubled
    /// for each further 429 (Frame.io asks for at least 1 s, then at least double).
    pub const fn rate_limit_floor(mut self, floor: Duration) -> Self {
        self.rate_limit_floor = floor;
        self
    }

    /// The wait before the first retry of a 5xx, grown by the back-off's
    /// multiplier for each further one (Frame.io asks for at least 30 s).
    pub const fn server_error_floor(mut self, floor: Duration) -> Self {
        self.server_error_floor = floor;
        self
    }

    /// The total number of tries allowed, the first included (at least 1).
    pub const fn attempts(&self) -> u32 {
        self.backoff.attempts()
    }

    /// Whether a call that has made `attempts` tries, the first of them
    /// `elapsed` ago, may wait `wait` and try again.
    pub fn allows_retry(&self, attempts: u32, elapsed: Duration, wait: Duration) -> bool {
        self.backoff.allows_retry_after(attempts) && elapsed.saturating_add(wait) <= self.max_elapsed
    }

    /// The wait after a call's `nth` 429, given the server's own hint
    /// (`Retry-After`, or the window when none are remaining).
    pub fn rate_limited_delay(&self, nth: u32, hint: Option<Duration>) -> Duration {
        self.floored(self.rate_limit_floor, self.backoff.multiplier.max(2.0), nth, hint)
    }

    /// The wait after a call's `nth` 5xx.
    pub fn server_error_delay(&self, nth: u32) -> Duration {
        self.floored(self.server_error_floor, self.backoff.multiplier, nth, None)
    }

    /// The wait after a call's `nth` timeout, dropped connection or 408.
    pub fn transient_delay(&self, nth: u32) -> Duration {
        self.backoff.delay(nth)
    }

    /// `floor × multiplier^(nth-1)` or `hint`, whichever is longer, lengthened
    /// at random by up to the jitter fraction.
    fn floored(&self, floor: Duration, multiplier: f64, nth: u32, hint: Option<Duration>) -> Duration {
        self.floored_with(floor, multiplier, nth, hint, fastrand::f64())
    }

    fn floored_with(&self, floor: Duration, multiplier: f64, nth: u32, hint: Option<Duration>, unit: f64) -> Duration {
        let grown =
            Backoff::new().initial(floor).multiplier(multiplier).max_delay(Duration::MAX).jitter(0.0).delay(nth);
        let base = grown.max(hint.unwrap_or_default());
        let extra = base.as_secs_f64() * self.backoff.jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0);
        base.saturating_add(Duration::try_from_secs_f64(extra).unwrap_or(Duration::MAX))
    }
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn rate_limited_waits_start_at_the_floor_and_at_least_double() {
        let p = RetryPolicy::new().backoff(Backoff::new().multiplier(1.5).jitter(0.0));
        let waits: Vec<_> = (1..=4).map(|n| p.rate_limited_delay(n, None)).collect();
        assert_eq!(waits, [S, 2 * S, 4 * S, 8 * S], "a multiplier below 2 still doubles");
        assert_eq!(p.rate_limited_delay(1, Some(5 * S)), 5 * S, "Retry-After wins when longer");
        assert_eq!(p.rate_limited_delay(3, Some(S)), 4 * S, "doubling wins when longer");
    }

    #[test]
    fn server_error_waits_never_go_below_the_floor() {
        let p = RetryPolicy::new();
        assert_eq!(p.floored_with(30 * S, 2.0, 1, None, 0.0), 30 * S);
        assert_eq!(p.floored_with(30 * S, 2.0, 2, None, 0.5), 75 * S, "60 s plus a quarter");
        for _ in 0..200 {
            let d = p.server_error_delay(1);
            assert!((30 * S..=45 * S).contains(&d), "{d:?}");
        }
        assert_eq!(p.floored_with(Duration::MAX, 2.0, 9, None, 0.9), Duration::MAX, "no overflow panic");
    }

    #[test]
    fn retries_stop_at_the_attempt_or_time_cap() {
        let p = RetryPolicy::new();
        assert_eq!(p.attempts(), 4);
        assert!(p.allows_retry(3, 60 * S, 60 * S));
        assert!(!p.allows_retry(4, S, S), "attempt cap");
        assert!(!p.allows_retry(1, 60 * S, 61 * S), "time cap");
        assert!(!RetryPolicy::none().allows_retry(1, Duration::ZERO, Duration::ZERO));
        assert_eq!(RetryPolicy::default(), RetryPolicy::new());
        let first = p.transient_delay(1);
        assert!((S / 4..=S / 2).contains(&first), "the back-off's first wait: {first:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn grows_exponentially_then_caps() {
        let b = Backoff::new().initial(100 * MS).multiplier(2.0).max_delay(700 * MS).jitter(0.0);
        let delays: Vec<_> = (1..=6).map(|n| b.delay(n)).collect();
        assert_eq!(delays, [100 * MS, 200 * MS, 400 * MS, 700 * MS, 700 * MS, 700 * MS]);
        assert_eq!(b.delay(0), 100 * MS, "0 is read as the first retry");
        assert_eq!(b.delay(u32::MAX), 700 * MS, "huge attempt numbers stay capped");
    }

    #[test]
    fn jitter_only_shortens_within_its_fraction() {
        let b = Backoff::new().initial(MS * 1000).jitter(0.25).max_delay(Duration::from_secs(60));
        assert_eq!(b.delay_with(1, 0.0), 1000 * MS);
        assert_eq!(b.delay_with(1, 0.5), 875 * MS);
        assert_eq!(b.delay_with(2, 0.999_999), Duration::from_secs_f64(1.500_000_5));
        for _ in 0..1000 {
            let d = b.delay(3);
            assert!(d <= 4000 * MS && d >= 3000 * MS, "{d:?}");
        }
    }

    #[test]
    fn full_jitter_spans_zero_to_base() {
        let b = Backoff::new().initial(MS * 1000).jitter(7.0);
        assert_eq!(b.delay_with(1, 0.0), 1000 * MS, "jitter is clamped to 1");
        assert_eq!(b.delay_with(1, 0.9), 100 * MS);
        let spread: Vec<_> = (0..200).map(|_| b.delay(1)).collect();
        assert!(spread.iter().any(|d| *d < 500 * MS));
        assert!(spread.iter().any(|d| *d >= 500 * MS));
    }

    #[test]
    fn degenerate_settings_are_tamed() {
        let b = Backoff::new().initial(100 * MS).multiplier(0.1).jitter(-1.0);
        assert_eq!(b.delay(5), 100 * MS, "multiplier below 1 means constant");
        let nan = Backoff::new().multiplier(f64::NAN).jitter(0.0);
        assert_eq!(nan.delay(3), 500 * MS, "a NaN multiplier means constant");
        let zero = Backoff::new().initial(Duration::ZERO).multiplier(f64::MAX);
        assert_eq!(zero.delay(100), Duration::ZERO);
        let huge = Backoff::new().initial(Duration::MAX).max_delay(Duration::MAX);
        assert!(huge.delay(3) > Duration::from_secs(1 << 60), "no overflow panic");
    }

    #[test]
    fn attempts_are_bounded() {
        let b = Backoff::new().max_attempts(3);
        assert_eq!(b.attempts(), 3);
        assert!(b.allows_retry_after(1));
        assert!(b.allows_retry_after(2));
        assert!(!b.allows_retry_after(3));
        assert_eq!(Backoff::new().max_attempts(0).attempts(), 1);
        assert!(!Backoff::no_retry().allows_retry_after(1));
        assert_eq!(Backoff::default(), Backoff::new());
    }
}
