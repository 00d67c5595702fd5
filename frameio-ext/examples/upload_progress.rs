//! Uploads a file to pre-signed part URLs with a progress bar.
//!
//! ```text
//! cargo run -p frameio-ext --example upload_progress -- FILE [SIZE=]URL...
//! ```
//!
//! Give the URLs of a File's `upload_urls` in order, each as `SIZE=URL` (the
//! part's `size`) or as a bare URL to split the file evenly. Quote them: they
//! hold `&`. The media type is guessed from the file name unless
//! `FRAMEIO_MEDIA_TYPE` is set. Ctrl-C cancels and reports what was sent.

use std::process::ExitCode;

use frameio_ext::upload::{UploadOptions, UploadProgress, UploadSource, UploadUrl, Uploader, guess_media_type};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((path, urls)) = args.split_first().filter(|(_, urls)| !urls.is_empty()) else {
        eprintln!("usage: upload_progress FILE [SIZE=]URL...");
        return ExitCode::FAILURE;
    };
    let urls: Vec<UploadUrl> = urls.iter().map(|arg| parse_url(arg)).collect();
    let media_type = std::env::var("FRAMEIO_MEDIA_TYPE").unwrap_or_else(|_| guess_media_type(path).to_owned());

    let source = match UploadSource::open(path).await {
        Ok(source) => source,
        Err(e) => {
            eprintln!("cannot open {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let uploader = match Uploader::builder().build() {
        Ok(uploader) => uploader,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };

    let (progress, watcher) = watch::channel(UploadProgress::default());
    let bar = progress_bar(source.len());
    let drawing = tokio::spawn(draw(watcher.clone(), bar.clone()));
    let cancel = CancellationToken::new();
    tokio::spawn({
        let cancel = cancel.clone();
        async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        }
    });

    let result = uploader
        .upload_parts(&source, &media_type, &urls, UploadOptions::new().progress(progress).cancel(cancel))
        .await;
    drawing.abort();
    show(&bar, &watcher.borrow());
    bar.finish();
    match result {
        Ok(report) => {
            let secs = report.elapsed.as_secs_f64();
            println!(
                "uploaded {} bytes in {} parts in {secs:.2} s ({:.1} MB/s, {} retries)",
                report.bytes,
                report.parts.len(),
                report.bytes as f64 / 1e6 / secs.max(1e-9),
                report.retries()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            let done: Vec<_> = e.completed_parts().iter().map(|p| p.number).collect();
            eprintln!("parts accepted: {done:?}");
            ExitCode::FAILURE
        }
    }
}

/// `SIZE=URL` or `URL`.
fn parse_url(arg: &str) -> UploadUrl {
    match arg.split_once('=') {
        Some((size, url)) if size.bytes().all(|b| b.is_ascii_digit()) && !size.is_empty() => {
            UploadUrl::new(size.parse().unwrap_or(u64::MAX), url)
        }
        _ => UploadUrl::without_size(arg),
    }
}

fn progress_bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// Redraws `bar` on every progress update, until aborted.
async fn draw(mut progress: watch::Receiver<UploadProgress>, bar: ProgressBar) {
    while progress.changed().await.is_ok() {
        show(&bar, &progress.borrow_and_update());
    }
}

fn show(bar: &ProgressBar, now: &UploadProgress) {
    bar.set_position(now.bytes_sent);
    bar.set_message(format!("parts {}/{}, retries {}", now.parts_done, now.parts_total, now.retries));
}
