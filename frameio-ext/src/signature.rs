//! Signed incoming requests: checking that a webhook delivery or a
//! custom-action request came from Frame.io, recently, and (optionally) only
//! once.
//!
//! This module owns the request [`Verifier`] (configured with
//! [`VerifierBuilder`]), its [`VerifyError`], and [`Verifier::sign`] for
//! testing receivers. The payloads live in [`webhook`](crate::webhook) and
//! [`custom_action`](crate::custom_action).
//!
//! Frame.io signs every webhook and custom-action `POST` with the secret
//! returned when the webhook or action was created: the `X-Frameio-Signature`
//! header is `v0=` followed by the hex HMAC-SHA256 of `v0:{timestamp}:{body}`,
//! where `timestamp` is the `X-Frameio-Request-Timestamp` header (Unix
//! seconds). Verify the raw body bytes exactly as received, before any JSON
//! parsing: re-encoded JSON does not match the signature.
//!
//! The verifier takes an [`http::HeaderMap`] and the body bytes, so it works with
//! any server framework (see `examples/axum_webhook.rs`). It reads at most one
//! value of each header (two of either is an error), at most
//! [`MAX_TIMESTAMP_LEN`] bytes of the timestamp and [`SIGNATURE_LEN`] bytes of
//! the signature; the body is hashed once, so bound its size in the server
//! (axum's `DefaultBodyLimit`, 2 MB by default).
//!
//! # Replays
//!
//! The timestamp window alone lets a captured request be replayed for as long
//! as it is in the window (5 minutes either way by default). A verifier built
//! with [`replay_cache`](VerifierBuilder::replay_cache) also remembers every
//! signature it accepted until that signature's window closes, and rejects a
//! second delivery with [`VerifyError::Replay`]:
//!
//! ```
//! use frameio_ext::signature::{SIGNATURE_HEADER, TIMESTAMP_HEADER, Verifier, VerifyError};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let verifier = Verifier::builder("s3cr3t").replay_cache(10_000).build();
//! let body = br#"{"type":"file.ready","resource":{"id":"d3075547","type":"file"}}"#;
//! let mut headers = http::HeaderMap::new();
//! headers.insert(TIMESTAMP_HEADER, "1604004499".parse()?);
//! headers.insert(SIGNATURE_HEADER, verifier.sign(1604004499, body).parse()?);
//!
//! // A real receiver calls `verify`, which reads the system clock.
//! let now = UNIX_EPOCH + Duration::from_secs(1604004499 + 10);
//! verifier.verify_at(&headers, body, now)?;
//! let again = verifier.verify_at(&headers, body, now + Duration::from_secs(1));
//! assert!(matches!(again, Err(VerifyError::Replay)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The cache holds at most `capacity` signatures (about 70 bytes each), however
//! much traffic arrives: only requests whose signature verified are recorded,
//! so nobody without the secret can fill it. An entry is dropped once its
//! request would be rejected as [`Stale`](VerifyError::Stale) anyway, that is
//! `tolerance` after the request's own timestamp. When the cache is full of
//! entries still in their window, a new request is rejected with
//! [`VerifyError::ReplayCacheFull`] rather than making room by forgetting a
//! live entry: forgetting one would let its replay through, while a rejected
//! genuine delivery is retried by Frame.io. Size the capacity for the most
//! requests one webhook or action can receive in twice the tolerance (a
//! request signed up to `tolerance` ahead of local time stays that much
//! longer).
//!
//! Clones of a verifier share one cache, so one verifier (or clones of it) per
//! secret, shared by all request handlers, sees every delivery. The cache
//! trusts the clock it is given: a clock stepped back by more than the
//! tolerance reopens windows that had closed, for the cache as for the
//! timestamp check.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use sha2::Sha256;

/// Header carrying the Unix time (seconds) at which Frame.io signed the request.
pub const TIMESTAMP_HEADER: &str = "x-frameio-request-timestamp";
/// Header carrying the request signature, `v0=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "x-frameio-signature";
/// How far the request timestamp may be from local time, either way, by
/// default: the 5 minutes Frame.io recommends.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);
/// The longest timestamp accepted: the digits of `u64::MAX`. Anything longer is
/// rejected before it is parsed.
pub const MAX_TIMESTAMP_LEN: usize = 20;
/// The length of every valid signature header: `v0=` and 64 lower-case hex
/// digits. Anything else is rejected before it is decoded.
pub const SIGNATURE_LEN: usize = SIGNATURE_PREFIX.len() + 2 * TAG_LEN;

/// The only signature scheme Frame.io uses so far.
const SIGNATURE_VERSION: &str = "v0";
const SIGNATURE_PREFIX: &str = "v0=";
/// HMAC-SHA256 output, in bytes.
const TAG_LEN: usize = 32;
/// How much of a malformed timestamp an error repeats.
const ECHOED_TIMESTAMP_LEN: usize = 32;

type Tag = [u8; TAG_LEN];

/// Checks that a request was signed by Frame.io with one webhook's (or custom
/// action's) secret, recently, and, with a [replay
/// cache](VerifierBuilder::replay_cache), that it is the first delivery of that
/// signed request.
///
/// Cheap to clone (one reference count), `Send` and `Sync`: clones share the
/// secret and the replay cache. The secret is held as a [`SecretString`];
/// `Debug` shows `[redacted]`.
///
/// ```
/// use frameio_ext::signature::Verifier;
/// use std::time::Duration;
///
/// // Defaults: 5-minute window, no replay cache.
/// let simple = Verifier::new("s3cr3t");
/// // A wider window for a server with a loose clock, and replay protection.
/// let strict = Verifier::builder("s3cr3t").tolerance(Duration::from_secs(600)).replay_cache(50_000).build();
/// assert_eq!(strict.tolerance(), Duration::from_secs(600));
/// assert_eq!((simple.replay_cache_len(), strict.replay_cache_len()), (None, Some(0)));
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    secret: SecretString,
    tolerance: Duration,
    replay: Option<ReplayCache>,
}

/// Configures a [`Verifier`]: see [`Verifier::builder`].
pub struct VerifierBuilder {
    secret: SecretString,
    tolerance: Duration,
    replay_capacity: Option<usize>,
}

impl VerifierBuilder {
    /// Accept timestamps up to `tolerance` away from local time in either
    /// direction (compared in whole seconds, as Frame.io sends them). The
    /// default is [`DEFAULT_TOLERANCE`].
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Remember up to `capacity` accepted signatures, each until its window
    /// closes, and reject a second delivery of any of them with
    /// [`VerifyError::Replay`] (see the [module docs](self#replays) for the
    /// memory bound and what happens when it is full).
    ///
    /// # Panics
    ///
    /// If `capacity` is 0: such a cache would reject every request.
    pub fn replay_cache(mut self, capacity: usize) -> Self {
        assert!(capacity > 0, "a replay cache needs room for at least one signature");
        self.replay_capacity = Some(capacity);
        self
    }

    /// The verifier.
    pub fn build(self) -> Verifier {
        Verifier {
            inner: Arc::new(Inner {
                secret: self.secret,
                tolerance: self.tolerance,
                replay: self.replay_capacity.map(ReplayCache::new),
            }),
        }
    }
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("secret", &"[redacted]")
            .field("tolerance", &self.tolerance)
            .field("replay_capacity", &self.replay_capacity)
            .finish()
    }
}

impl Verifier {
    /// A verifier for the signing `secret` Frame.io returned when the webhook or
    /// custom action was created, with the [`DEFAULT_TOLERANCE`] and no replay
    /// cache.
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self::builder(secret).build()
    }

    /// Configures a verifier for `secret`: its window and replay cache.
    pub fn builder(secret: impl Into<SecretString>) -> VerifierBuilder {
        VerifierBuilder { secret: secret.into(), tolerance: DEFAULT_TOLERANCE, replay_capacity: None }
    }

    /// The accepted distance between the request timestamp and local time.
    pub fn tolerance(&self) -> Duration {
        self.inner.tolerance
    }

    /// How many signatures the replay cache holds now (never more than its
    /// capacity), or `None` without a replay cache: for metrics.
    pub fn replay_cache_len(&self) -> Option<usize> {
        self.inner.replay.as_ref().map(ReplayCache::len)
    }

    /// Checks the signature headers against the raw `body`, using the system
    /// clock for the window.
    pub fn verify(&self, headers: &http::HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        self.verify_at(headers, body, SystemTime::now())
    }

    /// [`verify`](Self::verify) with the current time given, for tests and for
    /// requests that were queued before being checked.
    ///
    /// The signature is checked before the timestamp, so a stale, future or
    /// replayed error always concerns a request that Frame.io really signed.
    pub fn verify_at(&self, headers: &http::HeaderMap, body: &[u8], now: SystemTime) -> Result<(), VerifyError> {
        let (timestamp, sent_at) = parse_timestamp(single_header(headers, TIMESTAMP_HEADER)?)?;
        let tag = parse_signature(single_header(headers, SIGNATURE_HEADER)?)?;
        self.mac(timestamp, body).verify_slice(&tag).map_err(|_| VerifyError::Mismatch)?;
        // A clock before 1970 is broken; treating it as 0 rejects everything as
        // "from the future", which points at the clock.
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        self.check_window(sent_at, now)?;
        match &self.inner.replay {
            // The tag covers the timestamp, so one tag has one window.
            Some(cache) => cache.record(tag, sent_at.saturating_add(self.inner.tolerance.as_secs()), now),
            None => Ok(()),
        }
    }

    /// Verifies the request, then parses the body as `T`: a
    /// [`WebhookEvent`](crate::webhook::WebhookEvent) or a
    /// [`custom_action::ActionRequest`](crate::custom_action::ActionRequest).
    pub fn verify_and_parse<T: DeserializeOwned>(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<T, VerifyError> {
        self.verify_and_parse_at(headers, body, SystemTime::now())
    }

    /// [`verify_and_parse`](Self::verify_and_parse) with the current time given.
    pub fn verify_and_parse_at<T: DeserializeOwned>(
        &self,
        headers: &http::HeaderMap,
        body: &[u8],
        now: SystemTime,
    ) -> Result<T, VerifyError> {
        self.verify_at(headers, body, now)?;
        serde_json::from_slice(body).map_err(VerifyError::Payload)
    }

    /// The `X-Frameio-Signature` value Frame.io would send for `body` signed at
    /// `timestamp` (Unix seconds): for testing your own receivers.
    pub fn sign(&self, timestamp: u64, body: &[u8]) -> String {
        let tag = self.mac(timestamp.to_string().as_bytes(), body).finalize().into_bytes();
        format!("{SIGNATURE_PREFIX}{}", hex::encode(tag))
    }

    /// HMAC-SHA256 of `v0:{timestamp}:{body}`, fed in pieces to avoid copying
    /// the body.
    fn mac(&self, timestamp: &[u8], body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.inner.secret.expose_secret().as_bytes())
            .expect("HMAC accepts keys of any length");
        for part in [SIGNATURE_VERSION.as_bytes(), b":", timestamp, b":", body] {
            mac.update(part);
        }
        mac
    }

    fn check_window(&self, sent_at: u64, now: u64) -> Result<(), VerifyError> {
        let tolerance = self.inner.tolerance;
        if sent_at <= now {
            let age = now - sent_at;
            if age > tolerance.as_secs() {
                return Err(VerifyError::Stale { age: Duration::from_secs(age), tolerance });
            }
        } else {
            let ahead = sent_at - now;
            if ahead > tolerance.as_secs() {
                return Err(VerifyError::Future { ahead: Duration::from_secs(ahead), tolerance });
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secret", &"[redacted]")
            .field("tolerance", &self.inner.tolerance)
            .field("replay_cache", &self.inner.replay)
            .finish()
    }
}

/// The signatures accepted whose window is still open, each keyed by the Unix
/// second its window closes (so the oldest are first to go) and its tag.
struct ReplayCache {
    capacity: usize,
    seen: Mutex<BTreeSet<(u64, Tag)>>,
}

impl ReplayCache {
    fn new(capacity: usize) -> Self {
        Self { capacity, seen: Mutex::new(BTreeSet::new()) }
    }

    fn len(&self) -> usize {
        self.lock().len()
    }

    /// Records `tag`, open until `closes` (inclusive), unless it is already
    /// there; `now` lets entries whose window has closed go first.
    fn record(&self, tag: Tag, closes: u64, now: u64) -> Result<(), VerifyError> {
        // Check and insert under one lock: of concurrent deliveries of one
        // request, exactly one gets in.
        let mut seen = self.lock();
        if seen.contains(&(closes, tag)) {
            return Err(VerifyError::Replay);
        }
        while seen.first().is_some_and(|&(closed, _)| closed < now) {
            seen.pop_first();
        }
        if seen.len() >= self.capacity {
            return Err(VerifyError::ReplayCacheFull { capacity: self.capacity });
        }
        seen.insert((closes, tag));
        Ok(())
    }

    /// The set is consistent after every operation, so a panic elsewhere while
    /// it was locked leaves nothing to repair.
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<(u64, Tag)>> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayCache").field("capacity", &self.capacity).field("len", &self.len()).finish()
    }
}

/// The one value of the header `name`.
fn single_header<'h>(headers: &'h http::HeaderMap, name: &'static str) -> Result<&'h [u8], VerifyError> {
    let mut values = headers.get_all(name).iter();
    let value = values.next().ok_or(VerifyError::MissingHeader { name })?;
    // Which one Frame.io sent cannot be told, and a proxy that reads the other
    // one would disagree with this check.
    if values.next().is_some() {
        return Err(VerifyError::DuplicateHeader { name });
    }
    Ok(value.as_bytes())
}

/// The timestamp's digits (as signed) and value.
fn parse_timestamp(value: &[u8]) -> Result<(&[u8], u64), VerifyError> {
    let malformed = || VerifyError::MalformedTimestamp {
        value: String::from_utf8_lossy(&value[..value.len().min(ECHOED_TIMESTAMP_LEN)]).into_owned(),
    };
    // `u64::from_str` also takes a leading `+`, which Frame.io never sends.
    if value.is_empty() || value.len() > MAX_TIMESTAMP_LEN || !value.iter().all(u8::is_ascii_digit) {
        return Err(malformed());
    }
    // All ASCII digits, so valid UTF-8; 20 digits may still exceed `u64::MAX`.
    let parsed = std::str::from_utf8(value).ok().and_then(|digits| digits.parse().ok()).ok_or_else(malformed)?;
    Ok((value, parsed))
}

fn parse_signature(value: &[u8]) -> Result<Tag, VerifyError> {
    if value.len() != SIGNATURE_LEN {
        return Err(VerifyError::MalformedSignature);
    }
    let hex_digest = value.strip_prefix(SIGNATURE_PREFIX.as_bytes()).ok_or(VerifyError::MalformedSignature)?;
    // Frame.io sends lower case (the guide's own check compares the strings),
    // so each signature has one spelling and any changed byte is caught.
    if !hex_digest.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(VerifyError::MalformedSignature);
    }
    let mut tag = [0; TAG_LEN];
    hex::decode_to_slice(hex_digest, &mut tag).map_err(|_| VerifyError::MalformedSignature)?;
    Ok(tag)
}

/// Why a request was not accepted as coming from Frame.io.
///
/// Answer [`ReplayCacheFull`](Self::ReplayCacheFull) with `503` (Frame.io
/// retries), [`Payload`](Self::Payload) with `400` and all others with `401`;
/// do not act on the request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A signature header is absent.
    #[error(
        "the request has no `{name}` header: it was not sent by Frame.io, or a proxy in front of \
         this server dropped the header"
    )]
    MissingHeader {
        /// The missing header, lower-case.
        name: &'static str,
    },
    /// A signature header appears more than once.
    #[error(
        "the request has more than one `{name}` header: Frame.io sends one, so another was added \
         on the way (by a client forging the request, or a proxy that should replace the header \
         rather than append to it)"
    )]
    DuplicateHeader {
        /// The repeated header, lower-case.
        name: &'static str,
    },
    /// `X-Frameio-Request-Timestamp` is not a Unix time in seconds.
    #[error(
        "`X-Frameio-Request-Timestamp` is {value:?}, not a Unix time in seconds: the request was \
         not sent by Frame.io"
    )]
    MalformedTimestamp {
        /// The header's value (lossily decoded, at most its first 32 bytes).
        value: String,
    },
    /// `X-Frameio-Signature` is not `v0=` followed by 64 lower-case hex digits.
    #[error(
        "`X-Frameio-Signature` is not `v0=` followed by 64 lower-case hex digits: the request was \
         not sent by Frame.io"
    )]
    MalformedSignature,
    /// The signature does not match the body and timestamp.
    #[error(
        "the signature does not match the request: check that the secret is the one returned \
         when this webhook or custom action was created, and that the body is verified \
         byte-for-byte as received, before any parsing or re-encoding"
    )]
    Mismatch,
    /// The request was signed longer ago than the window allows.
    #[error(
        "the request was signed {age:?} ago, outside the {tolerance:?} replay window: reject it \
         as a possible replay; if genuine requests fail this way, sync this server's clock (NTP) \
         or widen the window with `VerifierBuilder::tolerance`"
    )]
    Stale {
        /// How long ago the request was signed.
        age: Duration,
        /// The window in force.
        tolerance: Duration,
    },
    /// The request claims to be signed further in the future than the window
    /// allows.
    #[error(
        "the request timestamp is {ahead:?} in the future, outside the {tolerance:?} replay \
         window: this server's clock is probably behind; sync it (NTP) or widen the window with \
         `VerifierBuilder::tolerance`"
    )]
    Future {
        /// How far ahead of local time the timestamp is.
        ahead: Duration,
        /// The window in force.
        tolerance: Duration,
    },
    /// This signed request was already accepted within its window: a replay
    /// (or the same delivery handled twice). Only with a replay cache.
    #[error(
        "this signed request was already accepted: it is a replay of an earlier delivery; do not \
         act on it again"
    )]
    Replay,
    /// The request is authentic and new, but the replay cache is full of
    /// signatures still in their window, so it could not be recorded.
    #[error(
        "the replay cache is full ({capacity} requests signed within the window): answer 503 so \
         Frame.io delivers the request again later, and raise the capacity with \
         `VerifierBuilder::replay_cache` to match the traffic"
    )]
    ReplayCacheFull {
        /// The capacity in force.
        capacity: usize,
    },
    /// The request is authentic but its body is not the expected JSON payload.
    #[error(
        "the request is authentic but its body is not the expected Frame.io payload ({0}): if \
         this is a new payload shape, parse the body as `serde_json::Value` instead"
    )]
    Payload(#[source] serde_json::Error),
}
