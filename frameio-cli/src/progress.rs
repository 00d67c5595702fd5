//! Progress bars on stderr for transfers (indicatif), fed by the engines'
//! [`TransferProgress`] channels. They draw only when stderr is a terminal,
//! so scripts and `--json` output stay clean.

use std::time::Duration;

use frameio_ext::transfer::TransferProgress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;
use tokio::task::JoinHandle;

const TEMPLATE: &str = "{spinner} {msg:32!} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta:>4}";

/// The bars of one command.
#[derive(Debug, Clone)]
pub struct Bars {
    multi: MultiProgress,
}

impl Bars {
    /// Bars on stderr (hidden unless it is a terminal).
    pub fn new() -> Self {
        Self { multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()) }
    }

    /// A bar that follows a transfer's progress channel until the transfer
    /// ends (drops its sender); returns the sender to give the transfer. For
    /// a folder tree the label counts files.
    pub fn follow(&self, name: &str, total: u64) -> (watch::Sender<TransferProgress>, Follower) {
        let style = ProgressStyle::with_template(TEMPLATE)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = self.multi.add(ProgressBar::new(total).with_style(style).with_message(name.to_string()));
        bar.enable_steady_tick(Duration::from_millis(200));
        let (tx, mut rx) = watch::channel(TransferProgress::default());
        let (task_bar, label) = (bar.clone(), name.to_string());
        let task = tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let now = *rx.borrow_and_update();
                task_bar.set_length(now.total_bytes);
                task_bar.set_position(now.bytes_done());
                if now.files_total > 0 {
                    let done = now.files_done + now.files_skipped + now.files_failed;
                    task_bar.set_message(format!("{label} {done}/{} files", now.files_total));
                }
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
    /// Ends the bar once the transfer has dropped its sender: kept full on
    /// success, left where it stopped otherwise.
    pub async fn finish(self, ok: bool) {
        let _ = self.task.await;
        if ok {
            self.bar.finish();
        } else {
            self.bar.abandon();
        }
    }
}
