//! Progress reporting: the [`UploadProgress`] snapshot published on a
//! `tokio::sync::watch` channel, and the bookkeeping that keeps it honest.
//!
//! Bytes count as sent when the HTTP connection takes them from the body, so
//! the numbers move smoothly within a part. A failed attempt takes its bytes
//! back before the part is retried, and a finished part counts exactly its
//! length, so a completed upload always ends at exactly the source's size.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;
use tokio::time::Instant;

use super::plan::PartPlan;

/// Where an upload stands.
///
/// Receive it from a `tokio::sync::watch` channel handed to
/// [`UploadOptions::progress`](super::UploadOptions::progress); the upload
/// replaces the channel's value when it starts.
///
/// ```
/// use frameio_ext::upload::UploadProgress;
///
/// let (tx, rx) = tokio::sync::watch::channel(UploadProgress::default());
/// # drop(tx);
/// let now = *rx.borrow();
/// println!("{} of {} bytes, {:.0}%", now.bytes_sent, now.total_bytes, now.fraction() * 100.0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UploadProgress {
    /// Bytes handed to the network so far, minus those of failed attempts.
    pub bytes_sent: u64,
    /// The source's length.
    pub total_bytes: u64,
    /// Parts that storage has acknowledged.
    pub parts_done: usize,
    /// How many parts the upload has.
    pub parts_total: usize,
    /// Attempts that failed and were retried so far.
    pub retries: u32,
}

impl UploadProgress {
    /// `bytes_sent / total_bytes` between 0 and 1 (1 for an empty source).
    pub fn fraction(&self) -> f64 {
        if self.total_bytes == 0 { 1.0 } else { self.bytes_sent as f64 / self.total_bytes as f64 }
    }

    /// Whether every part has been acknowledged.
    pub fn is_complete(&self) -> bool {
        self.parts_total > 0 && self.parts_done == self.parts_total
    }
}

/// The upload-wide progress, published on every change.
#[derive(Debug, Clone)]
pub(crate) struct Tracker {
    tx: watch::Sender<UploadProgress>,
}

impl Tracker {
    /// Starts publishing on `tx` (or on a private channel nobody watches).
    pub(crate) fn start(tx: Option<watch::Sender<UploadProgress>>, plan: &PartPlan) -> Self {
        let tx = tx.unwrap_or_else(|| watch::Sender::new(UploadProgress::default()));
        tx.send_replace(UploadProgress {
            bytes_sent: 0,
            total_bytes: plan.total_bytes(),
            parts_done: 0,
            parts_total: plan.parts().len(),
            retries: 0,
        });
        Self { tx }
    }

    pub(crate) fn retried(&self) {
        self.tx.send_modify(|p| p.retries += 1);
    }
}

/// One attempt's share of the progress. The request body reports through
/// [`AttemptMeter::record`]; the attempt itself settles through
/// [`AttemptMeter::settle`] (or by dropping its [`AttemptGuard`]), after
/// which late bytes from a body still being torn down are ignored.
#[derive(Debug)]
pub(crate) struct AttemptMeter {
    tracker: Tracker,
    state: Mutex<MeterState>,
}

#[derive(Debug)]
struct MeterState {
    sent: u64,
    open: bool,
    last_activity: Instant,
}

impl AttemptMeter {
    pub(crate) fn new(tracker: Tracker) -> Arc<Self> {
        Arc::new(Self { tracker, state: Mutex::new(MeterState { sent: 0, open: true, last_activity: Instant::now() }) })
    }

    /// The connection took `n` more bytes of the body.
    pub(crate) fn record(&self, n: usize) {
        let mut state = self.lock();
        if state.open {
            state.sent += n as u64;
            state.last_activity = Instant::now();
            self.tracker.tx.send_modify(|p| p.bytes_sent += n as u64);
        }
    }

    /// When the connection last took bytes (or the attempt started).
    pub(crate) fn last_activity(&self) -> Instant {
        self.lock().last_activity
    }

    /// Closes the attempt: a part of `part_len` bytes that storage accepted
    /// counts exactly that many bytes; a failed attempt counts none.
    pub(crate) fn settle(&self, accepted_len: Option<u64>) {
        let mut state = self.lock();
        if !state.open {
            return;
        }
        state.open = false;
        let sent = state.sent;
        self.tracker.tx.send_modify(|p| {
            p.bytes_sent -= sent;
            if let Some(len) = accepted_len {
                p.bytes_sent += len;
                p.parts_done += 1;
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MeterState> {
        // The state stays consistent even if a holder panicked.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Settles its meter as failed when dropped unsettled: an attempt abandoned
/// by cancellation or by another part's failure gives its bytes back.
#[derive(Debug)]
pub(crate) struct AttemptGuard(pub(crate) Arc<AttemptMeter>);

impl Drop for AttemptGuard {
    fn drop(&mut self) {
        self.0.settle(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::UploadUrl;

    fn plan() -> PartPlan {
        PartPlan::new(100, &[UploadUrl::new(60, "https://s3.example/1"), UploadUrl::new(40, "https://s3.example/2")])
            .unwrap()
    }

    #[test]
    fn failed_attempts_give_their_bytes_back() {
        let (tx, rx) = watch::channel(UploadProgress::default());
        let tracker = Tracker::start(Some(tx), &plan());
        assert_eq!(rx.borrow().total_bytes, 100);
        assert_eq!(rx.borrow().parts_total, 2);

        let failed = AttemptMeter::new(tracker.clone());
        failed.record(25);
        assert_eq!(rx.borrow().bytes_sent, 25);
        drop(AttemptGuard(failed.clone()));
        failed.record(10);
        assert_eq!(rx.borrow().bytes_sent, 0, "late bytes after settling are ignored");
        tracker.retried();

        let ok = AttemptMeter::new(tracker.clone());
        ok.record(30);
        ok.record(30);
        ok.settle(Some(60));
        ok.settle(None);
        drop(AttemptGuard(ok));
        let now = *rx.borrow();
        assert_eq!((now.bytes_sent, now.parts_done, now.retries), (60, 1, 1));
        assert!(!now.is_complete());
        assert!((now.fraction() - 0.6).abs() < 1e-9);
    }

    #[test]
    fn empty_sources_are_complete_when_their_part_is() {
        let p = UploadProgress { total_bytes: 0, parts_total: 1, parts_done: 1, ..UploadProgress::default() };
        assert_eq!(p.fraction(), 1.0);
        assert!(p.is_complete());
        assert!(!UploadProgress::default().is_complete());
    }
}
