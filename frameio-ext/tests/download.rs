//! The download engine against real local servers: frameio-fake's storage
//! (media links with `Range`, faults) and, where a behaviour is needed that the
//! fake lacks (a file replaced between two requests), a small hyper server.
//! Every completed download is compared byte for byte with what was served.

// One-element arrays of byte ranges are lists of ranges, not of numbers.
#![allow(clippy::single_range_in_vec_init)]

use std::convert::Infallible;
use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use frameio_ext::download::{
    DownloadErrorKind, DownloadManifest, DownloadOptions, Downloader, Existing, RemoteChange, TransferProgress,
};
use frameio_ext::rate_limit::RateLimiting;
use frameio_ext::types::AssetInclude;
use frameio_ext::{Backoff, Client, RetryPolicy};
use frameio_fake::{Fake, Fault, STORAGE_DOWNLOAD, Target};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const MIB: u64 = 1024 * 1024;

/// Bytes that differ from one offset to the next (and between seeds), so a
/// piece written at the wrong offset shows.
fn pattern(len: u64, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Storage retries that wait milliseconds, not seconds.
fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::storage().max_attempts(attempts).backoff(Backoff::new().initial(Duration::from_millis(5)).jitter(0.0))
}

fn downloader() -> Downloader {
    Downloader::builder().part_size(8 * MIB).retry_policy(quick_retries(4)).build().unwrap()
}

/// A fake with one file of `bytes`, and that file's download URL.
async fn fake_with(bytes: Vec<u8>) -> (Fake, String, String) {
    let fake = Fake::start().await.unwrap();
    let (account_id, file_id) = {
        let account = fake.seed().account("Acme");
        let folder = account.workspace("Post").project("Launch").root();
        (account.id.clone(), folder.file("A001_C003.mov", bytes).id)
    };
    let url = media_url(&fake, &account_id, &file_id).await;
    (fake, file_id, url)
}

/// The original's download URL, as a client asks Frame.io for it.
async fn media_url(fake: &Fake, account_id: &str, file_id: &str) -> String {
    let client = Client::builder()
        .base_url(fake.base_url())
        .bearer_token(fake.token())
        .rate_limiting(RateLimiting::disabled())
        .build()
        .unwrap();
    let shown = client
        .files_show()
        .account_id(account_id)
        .file_id(file_id)
        .include(AssetInclude::MediaLinksOriginal)
        .await
        .unwrap();
    shown.data.media_links.unwrap().original.unwrap().download_url.unwrap()
}

/// The `Range` of each download request the fake received, as `start..end`.
fn ranges_asked(fake: &Fake) -> Vec<Option<Range<u64>>> {
    fake.requests_to(STORAGE_DOWNLOAD)
        .iter()
        .map(|r| {
            let spec = r.header("range")?.strip_prefix("bytes=")?;
            let (start, end) = spec.split_once('-')?;
            Some(start.parse().ok()?..end.parse::<u64>().ok()? + 1)
        })
        .collect()
}

fn sorted(mut ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
    ranges.sort_by_key(|r| r.start);
    ranges
}

fn leftovers(dest: &Path) -> (bool, bool) {
    let name = dest.file_name().unwrap().to_string_lossy().into_owned();
    (dest.with_file_name(format!("{name}.part")).exists(), dest.with_file_name(format!("{name}.part.json")).exists())
}

#[tokio::test]
async fn parts_arrive_concurrently_and_the_file_is_byte_identical() {
    let data = pattern(20 * MIB + 17, 1);
    let (fake, _, url) = fake_with(data.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");
    let (tx, rx) = tokio::sync::watch::channel(TransferProgress::default());

    // On a task of its own: the download's future is `Send`.
    let task = tokio::spawn({
        let (url, dest) = (url.clone(), dest.clone());
        async move { downloader().download(&url, &dest, DownloadOptions::new().progress(tx)).await }
    });
    let report = task.await.unwrap().unwrap();

    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(
        (report.bytes, report.bytes_fetched, report.requests, report.ranged),
        (data.len() as u64, data.len() as u64, 3, true)
    );
    let asked = ranges_asked(&fake).into_iter().map(Option::unwrap).collect();
    assert_eq!(sorted(asked), [0..8 * MIB, 8 * MIB..16 * MIB, 16 * MIB..20 * MIB + 17]);
    assert_eq!(leftovers(&dest), (false, false), "no .part or manifest left behind");
    let done = *rx.borrow();
    assert_eq!(
        (done.bytes_received, done.total_bytes, done.parts_done, done.parts_total),
        (data.len() as u64, data.len() as u64, 3, 3)
    );
    let probe = &fake.requests_to(STORAGE_DOWNLOAD)[0];
    assert!(probe.header("authorization").is_none(), "no API token goes to storage");
}

#[tokio::test]
async fn a_server_that_ignores_range_is_read_as_one_stream() {
    let data = pattern(9 * MIB + 3, 2);
    let (fake, _, url) = fake_with(data.clone()).await;
    fake.set_ignore_range(true);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");

    let report = downloader().download(&url, &dest, DownloadOptions::new()).await.unwrap();

    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert!(!report.ranged);
    assert_eq!(report.requests, 1, "the whole body of the first answer is used");
    assert_eq!(leftovers(&dest), (false, false));
}

#[tokio::test]
async fn a_part_that_fails_with_5xx_is_retried() {
    let data = pattern(17 * MIB, 3);
    let (fake, _, url) = fake_with(data.clone()).await;
    // The first request goes through; the next two answer 503.
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::ZERO));
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::status(503).times(2));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");

    let report = downloader().download(&url, &dest, DownloadOptions::new()).await.unwrap();

    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!((report.retries, report.requests), (2, 5));
    assert_eq!(fake.pending_faults(), 0);
}

#[tokio::test]
async fn a_storm_of_5xx_ends_in_an_error_naming_the_file_the_range_and_the_status() {
    let data = pattern(17 * MIB, 4);
    let (fake, _, url) = fake_with(data).await;
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::ZERO));
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::status(503).times(1000));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");
    std::fs::write(&dest, b"the old version").unwrap();
    let downloader =
        Downloader::builder().part_size(8 * MIB).parts_in_flight(1).retry_policy(quick_retries(3)).build().unwrap();

    let err = downloader.download(&url, &dest, DownloadOptions::new()).await.unwrap_err();

    let DownloadErrorKind::RetriesExhausted { range, attempts, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!((range.clone(), *attempts), (Some(8 * MIB..16 * MIB), 3));
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.path(), Some(dest.as_path()));
    let shown = err.to_string();
    for expected in [&dest.display().to_string(), "bytes 8388608..16777216", "503", "8388608 bytes are kept"] {
        assert!(shown.contains(expected), "{expected:?} in {shown}");
    }
    assert!(!shown.contains("X-Amz") && !format!("{err:?}").contains("X-Amz-Signature"), "{shown}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"the old version", "the destination is not touched");
    assert_eq!(leftovers(&dest), (true, true), "the part and its manifest are kept to resume");
    let manifest = DownloadManifest::load_for(&dest).unwrap().unwrap();
    assert_eq!(manifest.completed(), [0..8 * MIB]);
}

#[tokio::test]
async fn a_body_cut_short_is_resumed_from_the_last_byte_written() {
    let data = pattern(17 * MIB, 5);
    let (fake, _, url) = fake_with(data.clone()).await;
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::ZERO));
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::truncate(3 * MIB as usize + 5));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");
    let downloader =
        Downloader::builder().part_size(8 * MIB).parts_in_flight(1).retry_policy(quick_retries(4)).build().unwrap();

    let report = downloader.download(&url, &dest, DownloadOptions::new()).await.unwrap();

    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(report.retries, 1);
    let asked: Vec<_> = ranges_asked(&fake).into_iter().map(Option::unwrap).collect();
    assert_eq!(asked, [0..8 * MIB, 8 * MIB..16 * MIB, 11 * MIB + 5..16 * MIB, 16 * MIB..17 * MIB]);
}

#[tokio::test]
async fn a_reset_mid_body_is_retried() {
    let data = pattern(12 * MIB, 6);
    let (fake, _, url) = fake_with(data.clone()).await;
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::reset_response_after(MIB as usize));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");

    let report = downloader().download(&url, &dest, DownloadOptions::new()).await.unwrap();

    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert!(report.retries >= 1);
}

#[tokio::test]
async fn resets_that_do_not_stop_end_in_a_typed_error() {
    let data = pattern(9 * MIB, 7);
    let (fake, _, url) = fake_with(data).await;
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::ZERO));
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::reset_response_after(1000).times(1000));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");

    let err = downloader().download(&url, &dest, DownloadOptions::new()).await.unwrap_err();

    let DownloadErrorKind::RetriesExhausted { range, attempts: 4, .. } = err.kind() else { panic!("{err:?}") };
    let range = range.clone().unwrap();
    assert!(range.start >= 8 * MIB && range.end == 9 * MIB, "{range:?}");
    assert!(err.to_string().contains(&format!("bytes {}..{}", range.start, range.end)), "{err}");
    assert!(!dest.exists());
}

#[tokio::test]
async fn cancelling_keeps_what_arrived_and_the_next_run_fetches_only_the_rest() {
    let data = pattern(30 * MIB + 1, 8);
    let (fake, _, url) = fake_with(data.clone()).await;
    // One part at a time: the first two arrive, the third is held back by the server.
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::ZERO).times(2));
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::from_secs(60)));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");
    let downloader = Downloader::builder().part_size(8 * MIB).parts_in_flight(1).build().unwrap();
    let (tx, mut rx) = tokio::sync::watch::channel(TransferProgress::default());
    let cancel = CancellationToken::new();
    let canceller = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let _ = rx.wait_for(|p| p.bytes_received >= 16 * MIB).await;
            cancel.cancel();
        })
    };

    let options = DownloadOptions::new().progress(tx).cancel(cancel);
    let run = tokio::time::timeout(Duration::from_secs(10), downloader.download(&url, &dest, options));
    let err = run.await.expect("cancelling stops the download promptly").unwrap_err();
    canceller.await.unwrap();

    assert!(err.is_cancelled(), "{err:?}");
    assert_eq!(err.bytes_done(), 16 * MIB);
    assert!(!dest.exists());
    let manifest = DownloadManifest::load_for(&dest).unwrap().unwrap();
    assert_eq!((manifest.size(), manifest.completed()), (data.len() as u64, &[0..16 * MIB][..]));
    assert!(!std::fs::read_to_string(dest.with_file_name("clip.mov.part.json")).unwrap().contains("X-Amz"));

    fake.clear_requests();
    let report = downloader.download(&url, &dest, DownloadOptions::new()).await.unwrap();

    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!((report.bytes_resumed, report.bytes_fetched), (16 * MIB, 14 * MIB + 1));
    let asked: Vec<_> = ranges_asked(&fake).into_iter().map(Option::unwrap).collect();
    assert_eq!(asked, [16 * MIB..24 * MIB, 24 * MIB..30 * MIB + 1], "only the missing ranges");
    assert_eq!(leftovers(&dest), (false, false));
}

#[tokio::test]
async fn existing_files_are_replaced_or_skipped_as_asked() {
    let data = pattern(1000, 9);
    let (fake, _, url) = fake_with(data.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");
    std::fs::write(&dest, pattern(1000, 10)).unwrap();

    let skipped = downloader().download(&url, &dest, DownloadOptions::new().existing(Existing::SkipSameSize)).await;
    assert!(skipped.unwrap().skipped);
    assert_eq!(std::fs::read(&dest).unwrap(), pattern(1000, 10), "same size: left alone");
    let skipped = downloader().download(&url, &dest, DownloadOptions::new().existing(Existing::Skip)).await;
    assert_eq!(skipped.unwrap().requests, 0, "skipped without asking storage");

    let replaced = downloader().download(&url, &dest, DownloadOptions::new()).await.unwrap();
    assert!(!replaced.skipped);
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(fake.requests_to(STORAGE_DOWNLOAD).len(), 2);

    let err = downloader().download(&url, &dest, DownloadOptions::new().expect_size(999)).await.unwrap_err();
    assert!(matches!(err.kind(), DownloadErrorKind::SizeMismatch { expected: 999, remote: 1000 }), "{err:?}");
}

#[tokio::test]
async fn a_writer_gets_the_bytes_in_order_even_across_a_cut() {
    let data = pattern(3 * MIB + 11, 11);
    let (fake, _, url) = fake_with(data.clone()).await;
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::truncate(MIB as usize));
    let task = tokio::spawn(async move {
        let mut out = Vec::new();
        let report = downloader().download_to_writer(&url, &mut out, DownloadOptions::new()).await;
        (out, report)
    });
    let (out, report) = task.await.unwrap();
    let report = report.unwrap();

    assert_eq!(out, data);
    assert_eq!((report.requests, report.retries, report.ranged), (2, 1, false));
    let asked = ranges_asked(&fake);
    assert_eq!(asked, [None, Some(MIB..3 * MIB + 11)], "a plain GET, then the rest");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_is_a_typed_error_and_nothing_is_overwritten() {
    let (_fake, _, url) = fake_with(pattern(MIB, 12)).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");
    std::fs::write(&dest, b"keep me").unwrap();
    // The partial file is a way into /dev/full: every write fails with ENOSPC.
    std::os::unix::fs::symlink("/dev/full", dir.path().join("clip.mov.part")).unwrap();

    let err = downloader().download(&url, &dest, DownloadOptions::new()).await.unwrap_err();

    assert!(err.is_disk_full(), "{err:?}");
    let DownloadErrorKind::Write { path, .. } = err.kind() else { panic!("{err:?}") };
    assert_eq!(path.as_deref(), Some(dir.path().join("clip.mov.part").as_path()));
    assert_eq!(err.partial_path(), Some(dir.path().join("clip.mov.part").as_path()));
    assert_eq!(std::fs::read(&dest).unwrap(), b"keep me");

    let full = tokio::fs::OpenOptions::new().write(true).open("/dev/full").await.unwrap();
    let err = downloader().download_to_writer(&url, full, DownloadOptions::new()).await.unwrap_err();
    assert!(err.is_disk_full(), "{err:?}");
    assert!(err.to_string().contains("writing failed"), "{err}");
}

#[tokio::test]
async fn an_unwritable_target_is_a_typed_error() {
    let (fake, _, url) = fake_with(pattern(2 * MIB, 13)).await;
    let dir = tempfile::tempdir().unwrap();
    // The destination's directory is a file: nothing can be created in it.
    std::fs::write(dir.path().join("not-a-dir"), b"").unwrap();
    let dest = dir.path().join("not-a-dir").join("clip.mov");
    let err = downloader().download(&url, &dest, DownloadOptions::new()).await.unwrap_err();
    assert!(matches!(err.kind(), DownloadErrorKind::Write { .. }), "{err:?}");
    assert!(err.to_string().contains("clip.mov.part"), "{err}");

    // The destination is a directory: refused before anything is fetched.
    let dest = dir.path().join("clip.mov");
    std::fs::create_dir(&dest).unwrap();
    fake.clear_requests();
    let err = downloader().download(&url, &dest, DownloadOptions::new()).await.unwrap_err();
    assert!(matches!(err.kind(), DownloadErrorKind::Write { .. }), "{err:?}");
    assert!(fake.requests_to(STORAGE_DOWNLOAD).is_empty());
    std::fs::remove_dir(&dest).unwrap();
}

#[tokio::test]
async fn a_destination_that_cannot_be_replaced_keeps_the_complete_part_for_a_rename() {
    let data = pattern(17 * MIB, 18);
    let (fake, _, url) = fake_with(data.clone()).await;
    // The last part is held back while a directory takes the destination's name.
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::ZERO).times(2));
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::from_millis(300)));
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("clip.mov");
    let single = Downloader::builder().part_size(8 * MIB).parts_in_flight(1).build().unwrap();
    let (tx, mut rx) = tokio::sync::watch::channel(TransferProgress::default());
    let squatter = {
        let dest = dest.clone();
        tokio::spawn(async move {
            let _ = rx.wait_for(|p| p.bytes_received >= 16 * MIB).await;
            std::fs::create_dir(&dest).unwrap();
            std::fs::write(dest.join("inside"), b"x").unwrap();
        })
    };

    let err = single.download(&url, &dest, DownloadOptions::new().progress(tx)).await.unwrap_err();
    squatter.await.unwrap();

    assert!(matches!(err.kind(), DownloadErrorKind::Write { path: Some(p), .. } if *p == dest), "{err:?}");
    assert_eq!(err.bytes_done(), 17 * MIB);
    assert!(dest.join("inside").exists(), "nothing overwritten");
    assert_eq!(std::fs::read(dir.path().join("clip.mov.part")).unwrap(), data);

    // Once the way is clear, the next run only checks the version and renames.
    std::fs::remove_dir_all(&dest).unwrap();
    fake.clear_requests();
    let report = single.download(&url, &dest, DownloadOptions::new()).await.unwrap();
    assert_eq!((report.bytes_resumed, report.requests), (17 * MIB, 1));
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert_eq!(leftovers(&dest), (false, false));
}

/// The `Range` and `If-Match` of each request a server received.
type Log = Arc<Mutex<Vec<(Option<String>, Option<String>)>>>;

/// A storage server whose object is replaced by a new version from request
/// `switch_at` on (1-based), honouring `Range` and `If-Match` as S3 does.
struct Versioned {
    url: String,
    requests: Log,
}

async fn versioned(first: Vec<u8>, second: Vec<u8>, switch_at: usize, honour_if_match: bool) -> Versioned {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/bucket/clip.mov?X-Amz-Signature=5ecre7", listener.local_addr().unwrap());
    let requests: Log = Arc::new(Mutex::new(Vec::new()));
    let versions = Arc::new([(Bytes::from(first), "\"v1\""), (Bytes::from(second), "\"v2\"")]);
    let log = Arc::clone(&requests);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (log, versions) = (Arc::clone(&log), Arc::clone(&versions));
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let (log, versions) = (Arc::clone(&log), Arc::clone(&versions));
                    async move {
                        let header =
                            |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
                        let (range, if_match) = (header("range"), header("if-match"));
                        let n = {
                            let mut log = log.lock().unwrap();
                            log.push((range.clone(), if_match.clone()));
                            log.len()
                        };
                        let (bytes, etag) = &versions[usize::from(n >= switch_at)];
                        let reply = Response::builder().header("etag", *etag).header("accept-ranges", "bytes");
                        if honour_if_match && if_match.as_deref().is_some_and(|m| m != *etag) {
                            return Ok::<_, Infallible>(reply.status(412).body(Full::new(Bytes::new())).unwrap());
                        }
                        let total = bytes.len() as u64;
                        let asked =
                            range.as_deref().and_then(|r| r.strip_prefix("bytes=")).and_then(|r| r.split_once('-'));
                        let Some((start, end)) =
                            asked.and_then(|(s, e)| Some((s.parse::<u64>().ok()?, e.parse::<u64>().ok()?)))
                        else {
                            return Ok(reply.status(200).body(Full::new(bytes.clone())).unwrap());
                        };
                        if start >= total {
                            let reply = reply.status(416).header("content-range", format!("bytes */{total}"));
                            return Ok(reply.body(Full::new(Bytes::new())).unwrap());
                        }
                        let end = end.min(total - 1);
                        let body = bytes.slice(start as usize..end as usize + 1);
                        let reply = reply.status(206).header("content-range", format!("bytes {start}-{end}/{total}"));
                        Ok(reply.body(Full::new(body)).unwrap())
                    }
                });
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Versioned { url, requests }
}

#[tokio::test]
async fn a_file_replaced_between_parts_fails_and_is_never_stitched() {
    let dir = tempfile::tempdir().unwrap();
    let single = Downloader::builder().part_size(8 * MIB).parts_in_flight(1).build().unwrap();

    // A new version of the same length: the ETag changes.
    let server = versioned(pattern(20 * MIB, 14), pattern(20 * MIB, 15), 2, false).await;
    let dest = dir.path().join("etag.mov");
    let err = single.download(&server.url, &dest, DownloadOptions::new()).await.unwrap_err();
    let DownloadErrorKind::RemoteChanged { range, change } = err.kind() else { panic!("{err:?}") };
    assert_eq!(range.clone(), Some(8 * MIB..16 * MIB));
    assert_eq!(*change, RemoteChange::Etag { was: Some("\"v1\"".into()), now: Some("\"v2\"".into()) });
    assert!(!dest.exists());
    assert_eq!(server.requests.lock().unwrap()[1].1.as_deref(), Some("\"v1\""), "later parts carry If-Match");
    assert!(!err.to_string().contains("5ecre7"), "{err}");

    // A storage that checks If-Match answers 412.
    let server = versioned(pattern(20 * MIB, 14), pattern(20 * MIB, 15), 2, true).await;
    let dest = dir.path().join("precondition.mov");
    let err = single.download(&server.url, &dest, DownloadOptions::new()).await.unwrap_err();
    assert!(matches!(err.kind(), DownloadErrorKind::RemoteChanged { change: RemoteChange::PreconditionFailed, .. }));

    // A shorter version: the length changes.
    let server = versioned(pattern(20 * MIB, 14), pattern(12 * MIB, 14), 3, false).await;
    let dest = dir.path().join("size.mov");
    let err = single.download(&server.url, &dest, DownloadOptions::new()).await.unwrap_err();
    assert!(err.is_remote_changed(), "{err:?}");
    let DownloadErrorKind::RemoteChanged { change: RemoteChange::Size { was, now }, .. } = err.kind() else { panic!() };
    assert_eq!((*was, *now), (20 * MIB, 12 * MIB));
    assert!(!dest.exists());
}

#[tokio::test]
async fn a_partial_download_of_an_older_version_starts_over_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (pattern(20 * MIB, 16), pattern(20 * MIB, 17));
    // Version 2 from the second request on: the first run keeps part 1 of version 1.
    let server = versioned(old, new.clone(), 2, true).await;
    let dest = dir.path().join("clip.mov");
    let single = Downloader::builder().part_size(8 * MIB).parts_in_flight(1).build().unwrap();
    let err = single.download(&server.url, &dest, DownloadOptions::new()).await.unwrap_err();
    assert!(err.is_remote_changed());
    assert_eq!(DownloadManifest::load_for(&dest).unwrap().unwrap().etag(), Some("\"v1\""));

    let report = single.download(&server.url, &dest, DownloadOptions::new()).await.unwrap();

    assert_eq!(std::fs::read(&dest).unwrap(), new, "only version 2's bytes");
    assert_eq!((report.bytes_resumed, report.bytes_fetched), (0, 20 * MIB));
    let requests = server.requests.lock().unwrap().clone();
    let second_run = &requests[2..];
    assert_eq!(second_run[0], (Some(format!("bytes={}-{}", 8 * MIB, 16 * MIB - 1)), Some("\"v1\"".into())));
    assert_eq!(second_run[1].0.as_deref(), Some(format!("bytes=0-{}", 8 * MIB - 1).as_str()), "then from the start");
}
