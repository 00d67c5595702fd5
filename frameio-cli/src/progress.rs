//! Progress bars on stderr for transfers (indicatif). They draw only when
//! stderr is a terminal, so scripts and `--json` output stay clean.

use std::time::Duration;

use frameio_ext::upload::UploadProgress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

const TEMPLATE: &str = "{spinner} {msg:30!} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta:>4}";

/// The bars of one command.
#[derive(Debug, Clone)]
pub struct Bars {
    multi: MultiProgress,
}

impl Default for Bars {
    fn default() -> Self {
        Self::new()
    }
}

impl Bars {
    /// Bars on stderr (hidden unless it is a terminal).
    pub fn new() -> Self {
        Self { multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()) }
    }

    /// A bar for a transfer of `total` bytes, labelled `name`.
    pub fn bar(&self, name: &str, total: u64) -> ProgressBar {
        let style = ProgressStyle::with_template(TEMPLATE)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = self.multi.add(ProgressBar::new(total).with_style(style).with_message(name.to_string()));
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }

    /// A bar that follows an upload's progress channel until the upload ends
    /// (its sender is dropped); returns the sender to give the upload.
    pub fn follow_upload(&self, name: &str, total: u64) -> (watch::Sender<UploadProgress>, Follower) {
        let bar = self.bar(name, total);
        let (tx, mut rx) = watch::channel(UploadProgress::default());
        let task_bar = bar.clone();
        let task = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let now = *rx.borrow_and_update();
                task_bar.set_length(now.total_bytes);
                task_bar.set_position(now.bytes_sent);
            }
        });
        (tx, Follower { bar, task })
    }
}

/// A bar following a transfer.
#[derive(Debug)]
pub struct Follower {
    bar: ProgressBar,
    task: JoinHandle<()>,
}

impl Follower {
    /// Ends the bar: full and kept on success, cleared otherwise.
    pub async fn finish(self, ok: bool) {
        let _ = self.task.await;
        if ok {
            self.bar.finish();
        } else {
            self.bar.abandon();
        }
    }
}
