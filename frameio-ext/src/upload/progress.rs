//! Progress reporting: the [`TransferProgress`] snapshot published on a
//! `tokio::sync::watch` channel, one type for uploads, downloads and folder
//! trees, and the bookkeeping that keeps it honest.
//!
//! Upload bytes count as sent when the HTTP connection takes them from the
//! body, so the numbers move smoothly within a part. A failed attempt takes its
//! bytes back before the part is retried, and a finished part counts exactly
//! its length, so a completed upload always ends at exactly the source's size.
//! Download bytes count once they are written to the destination.

use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;
use tokio::time::Instant;

/// Where a transfer stands: bytes and parts of the file(s) moving and, for a
/// folder tree, files.
///
/// Receive it from a `tokio::sync::watch` channel handed to
/// [`UploadOptions::progress`](super::UploadOptions::progress),
/// [`DownloadOptions::progress`](crate::download::DownloadOptions::progress) or
/// [`TreeOptions::progress`](crate::transfer::TreeOptions::progress); a single
/// transfer replaces the channel's value when it starts, a tree sets the totals
/// it knows and every file adds to them.
///
/// ```
/// use frameio_ext::upload::TransferProgress;
///
/// let (tx, rx) = tokio::sync::watch::channel(TransferProgress::default());
/// # drop(tx);
/// let now = *rx.borrow();
/// println!("{} of {} bytes, {:.0}%", now.bytes_done(), now.total_bytes, now.fraction() * 100.0);
/// println!("{} of {} files ({} skipped)", now.files_done, now.files_total, now.files_skipped);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransferProgress {
    /// Upload bytes handed to the network so far, minus those of failed attempts.
    pub bytes_sent: u64,
    /// Download bytes written to their destination so far (those a resumed
    /// download found already there included).
    pub bytes_received: u64,
    /// The bytes to move: the source's length for an upload, the remote file's
    /// (once known) for a download, the sum over the files to transfer for a tree.
    pub total_bytes: u64,
    /// Parts that are done (acknowledged by storage, or received and written).
    pub parts_done: usize,
    /// How many parts the transfer has (for a tree: of the files started so far).
    pub parts_total: usize,
    /// Attempts that failed and were retried so far.
    pub retries: u32,
    /// Files transferred completely (trees).
    pub files_done: usize,
    /// Files left alone because they were already there (trees).
    pub files_skipped: usize,
    /// Files that failed (trees).
    pub files_failed: usize,
    /// Files in the job (trees; 0 for a single transfer).
    pub files_total: usize,
}

/// The upload engine's name for [`TransferProgress`] (uploads use `bytes_sent`).
pub type UploadProgress = TransferProgress;

impl TransferProgress {
    /// Bytes moved in either direction (a transfer only moves one way).
    pub fn bytes_done(&self) -> u64 {
        self.bytes_sent.saturating_add(self.bytes_received)
    }

    /// `bytes_done / total_bytes` between 0 and 1 (1 when there is nothing to move).
    pub fn fraction(&self) -> f64 {
        if self.total_bytes == 0 { 1.0 } else { (self.bytes_done() as f64 / self.total_bytes as f64).min(1.0) }
    }

    /// Whether every part has been acknowledged.
    pub fn is_complete(&self) -> bool {
        self.parts_total > 0 && self.parts_done == self.parts_total
    }
}

/// Where a transfer publishes its progress.
#[derive(Debug, Clone, Default)]
pub(crate) enum ProgressTarget {
    /// Nobody watches.
    #[default]
    None,
    /// The transfer's own channel: replaced with its totals when it starts.
    Own(watch::Sender<TransferProgress>),
    /// A channel shared with other transfers (a tree's): the transfer adds its
    /// parts and bytes, the job owns the totals.
    Shared(watch::Sender<TransferProgress>),
}

/// One transfer's progress, published on every change.
#[derive(Debug, Clone)]
pub(crate) struct Tracker {
    tx: watch::Sender<TransferProgress>,
}

impl Tracker {
    /// Starts publishing a transfer of `total_bytes` in `parts_total` parts.
    pub(crate) fn start(target: &ProgressTarget, total_bytes: u64, parts_total: usize) -> Self {
        match target {
            ProgressTarget::None => Self { tx: watch::Sender::new(TransferProgress::default()) },
            ProgressTarget::Own(tx) => {
                tx.send_replace(TransferProgress { total_bytes, parts_total, ..TransferProgress::default() });
                Self { tx: tx.clone() }
            }
            ProgressTarget::Shared(tx) => {
                tx.send_modify(|p| p.parts_total = p.parts_total.saturating_add(parts_total));
                Self { tx: tx.clone() }
            }
        }
    }

    /// The total became known (a download learns it from its first answer).
    pub(crate) fn set_total(&self, target: &ProgressTarget, total_bytes: u64, parts_total: usize) {
        self.tx.send_modify(|p| {
            if matches!(target, ProgressTarget::Own(_)) {
                p.total_bytes = total_bytes;
            }
            p.parts_total = p.parts_total.saturating_add(parts_total);
        });
    }

    pub(crate) fn retried(&self) {
        self.tx.send_modify(|p| p.retries = p.retries.saturating_add(1));
    }

    /// Parts (and their bytes) found done before this run started: a resumed upload's.
    pub(crate) fn already_sent(&self, parts: usize, bytes: u64) {
        self.tx.send_modify(|p| {
            p.parts_done = p.parts_done.saturating_add(parts);
            p.bytes_sent = p.bytes_sent.saturating_add(bytes);
        });
    }

    /// `bytes` more were written to a download's destination.
    pub(crate) fn received(&self, bytes: u64) {
        self.tx.send_modify(|p| p.bytes_received = p.bytes_received.saturating_add(bytes));
    }

    /// A download part was received and written.
    pub(crate) fn part_done(&self) {
        self.tx.send_modify(|p| p.parts_done = p.parts_done.saturating_add(1));
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
            self.tracker.tx.send_modify(|p| p.bytes_sent = p.bytes_sent.saturating_add(n as u64));
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
            p.bytes_sent = p.bytes_sent.saturating_sub(sent);
            if let Some(len) = accepted_len {
                p.bytes_sent = p.bytes_sent.saturating_add(len);
                p.parts_done = p.parts_done.saturating_add(1);
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

    #[test]
    fn failed_attempts_give_their_bytes_back() {
        let (tx, rx) = watch::channel(UploadProgress::default());
        let tracker = Tracker::start(&ProgressTarget::Own(tx), 100, 2);
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
    fn shared_channels_add_up_and_own_ones_start_over() {
        let (tx, rx) = watch::channel(TransferProgress { total_bytes: 300, files_total: 3, ..Default::default() });
        let shared = ProgressTarget::Shared(tx.clone());
        let first = Tracker::start(&shared, 100, 2);
        let second = Tracker::start(&shared, 0, 0);
        second.set_total(&shared, 200, 4);
        first.received(100);
        second.received(50);
        first.part_done();
        let now = *rx.borrow();
        assert_eq!((now.total_bytes, now.parts_total, now.bytes_received, now.parts_done), (300, 6, 150, 1));
        assert_eq!(now.files_total, 3, "a tree's own numbers stay");
        assert!((now.fraction() - 0.5).abs() < 1e-9);

        let own = ProgressTarget::Own(tx);
        let single = Tracker::start(&own, 10, 1);
        single.already_sent(1, 10);
        let now = *rx.borrow();
        assert_eq!((now.total_bytes, now.bytes_sent, now.bytes_received, now.files_total), (10, 10, 0, 0));
        assert!(now.is_complete());
    }

    #[test]
    fn empty_sources_are_complete_when_their_part_is() {
        let p = UploadProgress { total_bytes: 0, parts_total: 1, parts_done: 1, ..UploadProgress::default() };
        assert_eq!(p.fraction(), 1.0);
        assert!(p.is_complete());
        assert!(!UploadProgress::default().is_complete());
    }
}
