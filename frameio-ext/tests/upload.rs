//! The upload engine against the fake Frame.io's storage on 127.0.0.1, which
//! really receives the bytes and checks each part as S3 checks a pre-signed
//! `PUT` (its exact size, `Content-Type`, `x-amz-acl`): headers, byte ranges,
//! retries, failures, progress and cancellation.

mod support;

use std::io;
use std::time::Duration;

use frameio_ext::retry::{Backoff, RetryPolicy};
use frameio_ext::upload::{
    PlanError, TransientFailure, UploadError, UploadErrorKind, UploadOptions, UploadProgress, UploadReport,
    UploadSource, UploadUrl, Uploader, UploaderBuilder,
};
use frameio_fake::{Fake, Fault, RecordedRequest, STORAGE_UPLOAD, Target, UploadSeed};
use tempfile::TempDir;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What `clip.mov` is uploaded as.
const MEDIA_TYPE: &str = "video/quicktime";
/// Deliberately not the even split, so that sizes are shown to be honoured.
const SIZES: [u64; 3] = [400_000, 350_000, 250_003];
const TOTAL: u64 = 1_000_003;
/// `ceil(TOTAL / 3)` per part, the last one taking the rest: how unsized URLs split the file.
const EVEN: [u64; 3] = [333_335, 333_335, 333_333];

/// Bytes that differ from one offset to the next, so a part sent with the wrong
/// range shows up in what the storage received.
fn data(len: u64) -> Vec<u8> {
    frameio_fake::patterned_bytes(42, 0..len)
}

const S3_EXPIRED: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>\
    <Message>Request has expired</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>";
const S3_SLOW_DOWN: &str = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
const S3_INTERNAL: &str =
    "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>";

/// The fake, with `clip.mov` waiting for its upload in parts of `sizes`.
struct Storage {
    fake: Fake,
    upload: UploadSeed,
}

impl Storage {
    async fn start(sizes: &[u64]) -> Self {
        let fake = Fake::start().await.unwrap();
        let upload = fake.seed().account("Acme").workspace("W").project("P").root().upload("clip.mov", sizes);
        assert_eq!(upload.media_type, MEDIA_TYPE);
        Self { fake, upload }
    }

    /// Part `number`'s pre-signed URL.
    fn url(&self, number: usize) -> &str {
        &self.upload.parts[number - 1].url
    }

    fn sized_urls(&self) -> Vec<UploadUrl> {
        self.upload.parts.iter().map(|p| UploadUrl::new(p.size, &p.url)).collect()
    }

    fn unsized_urls(&self) -> Vec<UploadUrl> {
        self.upload.parts.iter().map(|p| UploadUrl::without_size(&p.url)).collect()
    }

    /// The next request to part `number` suffers `fault`.
    fn fault(&self, number: usize, fault: Fault) {
        self.fake.fault(Target::upload_part(&self.upload.id, number), fault);
    }

    /// Every part request so far, in the order their bodies ended.
    fn received(&self) -> Vec<RecordedRequest> {
        self.fake.requests_to(STORAGE_UPLOAD)
    }

    /// The requests to part `number`.
    fn received_for(&self, number: usize) -> Vec<RecordedRequest> {
        let path = path_of(self.url(number));
        self.received().into_iter().filter(|r| r.path == path).collect()
    }

    /// The credentials in the part URLs' queries, which must never be shown.
    fn signatures(&self) -> Vec<String> {
        self.upload.parts.iter().map(|p| query_of(&p.url, "X-Amz-Signature")).collect()
    }
}

fn path_of(url: &str) -> String {
    reqwest::Url::parse(url).unwrap().path().to_string()
}

fn query_of(url: &str, name: &str) -> String {
    let url = reqwest::Url::parse(url).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned()).unwrap()
}

async fn file_source(bytes: &[u8]) -> (TempDir, UploadSource) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mov");
    std::fs::write(&path, bytes).unwrap();
    let source = UploadSource::open(&path).await.unwrap();
    (dir, source)
}

/// Byte range of part `number` (1-based) under `sizes`.
fn range_in(sizes: &[u64], number: usize) -> std::ops::Range<usize> {
    let start: u64 = sizes[..number - 1].iter().sum();
    start as usize..(start + sizes[number - 1]) as usize
}

/// Byte range of part `number` (1-based) under [`SIZES`].
fn range(number: usize) -> std::ops::Range<usize> {
    range_in(&SIZES, number)
}

/// Short back-off, small buffers so every part takes several chunks.
fn builder() -> UploaderBuilder {
    Uploader::builder()
        .concurrency(3)
        .buffer_size(64 * 1024)
        .retry_policy(
            RetryPolicy::storage()
                .backoff(Backoff::new().initial(Duration::from_millis(2)).max_delay(Duration::from_millis(10)))
                .max_attempts(4),
        )
        .stall_timeout(Duration::from_secs(10))
}

fn uploader() -> Uploader {
    builder().build().unwrap()
}

fn progress() -> (watch::Sender<UploadProgress>, watch::Receiver<UploadProgress>) {
    watch::channel(UploadProgress::default())
}

/// A complete request that reached `url`, checked against the file and accepted by the storage.
fn assert_part_received(req: &RecordedRequest, url: &str, expected: &[u8]) {
    assert_eq!(req.method, "PUT");
    assert_eq!(req.path, path_of(url));
    assert_eq!(req.query.as_deref(), url.split_once('?').map(|(_, q)| q), "the URL is used as given");
    assert_eq!(req.headers["content-type"], MEDIA_TYPE);
    assert_eq!(req.headers["x-amz-acl"], "private");
    assert_eq!(req.headers["content-length"], expected.len().to_string().as_str());
    assert!(req.headers.get("authorization").is_none(), "no credentials to storage");
    assert!(req.headers.get("transfer-encoding").is_none(), "not chunked");
    assert!(req.body_complete);
    assert_eq!(req.body.len(), expected.len());
    assert!(req.body == expected, "{} received the wrong bytes", req.path);
    assert_eq!(req.status(), Some(200), "the storage accepted {}", req.path);
}

/// Everything a person or a log could see of an error.
fn all_renderings(err: &UploadError) -> String {
    let mut out = format!("{err}\n{err:?}\n{err:#?}");
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        out.push_str(&format!("\n{inner}\n{inner:?}"));
        source = inner.source();
    }
    out
}

/// No credential of a pre-signed URL in `text`: the parameter names, the access key
/// (`AKIA...`) and these signatures.
fn assert_no_secret(text: &str, signatures: &[String]) {
    for secret in
        ["X-Amz-Signature", "AKIA", "X-Amz-Credential"].into_iter().chain(signatures.iter().map(String::as_str))
    {
        assert!(!text.contains(secret), "leaked {secret}: {text}");
    }
}

#[tokio::test]
async fn each_part_carries_exactly_its_range_and_the_required_headers() {
    let storage = Storage::start(&SIZES).await;
    let bytes = data(TOTAL);
    let (_dir, source) = file_source(&bytes).await;

    let report =
        uploader().upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new()).await.unwrap();

    assert_eq!(storage.received().len(), 3);
    for number in 1..=3 {
        let got = storage.received_for(number);
        assert_eq!(got.len(), 1, "part {number} sent once");
        assert_part_received(&got[0], storage.url(number), &bytes[range(number)]);
    }
    assert_eq!(storage.fake.file_bytes(&storage.upload.id).unwrap(), bytes, "the file is whole");
    assert_eq!(report.bytes, TOTAL);
    assert_eq!(report.retries(), 0);
    let ranges: Vec<_> = report.parts.iter().map(|p| p.range.clone()).collect();
    assert_eq!(ranges, [0..400_000, 400_000..750_000, 750_000..TOTAL]);
    for (i, part) in report.parts.iter().enumerate() {
        assert_eq!(part.number, i + 1);
        assert_eq!(part.attempts, 1);
        let answered = storage.received_for(i + 1)[0].response.clone().unwrap();
        assert!(answered.header("etag").is_some());
        assert_eq!(part.etag.as_deref(), answered.header("etag"), "part {} keeps its own ETag", i + 1);
    }
}

#[tokio::test]
async fn urls_without_sizes_split_the_file_evenly() {
    // The storage expects the even split: a part of any other size is refused.
    let storage = Storage::start(&EVEN).await;
    let bytes = data(TOTAL);
    let (_dir, source) = file_source(&bytes).await;

    uploader().upload_parts(&source, MEDIA_TYPE, &storage.unsized_urls(), UploadOptions::new()).await.unwrap();

    assert_eq!(TOTAL.div_ceil(3), 333_335);
    for number in 1..=3 {
        let got = storage.received_for(number);
        assert_eq!(got.len(), 1);
        assert_part_received(&got[0], storage.url(number), &bytes[range_in(&EVEN, number)]);
    }
}

#[tokio::test]
async fn an_empty_file_is_one_empty_put() {
    let storage = Storage::start(&[0]).await;
    let (_dir, source) = file_source(&[]).await;

    let report =
        uploader().upload_parts(&source, MEDIA_TYPE, &storage.unsized_urls(), UploadOptions::new()).await.unwrap();

    let got = storage.received();
    assert_eq!(got.len(), 1);
    assert_part_received(&got[0], storage.url(1), &[]);
    assert_eq!((report.bytes, report.parts.len()), (0, 1));
}

#[tokio::test]
async fn sizes_that_do_not_add_up_are_rejected_before_any_byte_is_sent() {
    let storage = Storage::start(&SIZES).await;
    let bytes = data(TOTAL + 1);
    let (_dir, source) = file_source(&bytes).await;

    let err =
        uploader().upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new()).await.unwrap_err();

    assert!(
        matches!(
            err.kind(),
            UploadErrorKind::Plan(PlanError::SizeMismatch { sizes_total: 1_000_003, source_len: 1_000_004 })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("1000003"), "{err}");
    assert!(err.completed_parts().is_empty());

    let mixed = [UploadUrl::new(TOTAL, storage.url(1)), UploadUrl::without_size(storage.url(2))];
    let err = uploader().upload_parts(&source, MEDIA_TYPE, &mixed, UploadOptions::new()).await.unwrap_err();
    assert!(matches!(err.kind(), UploadErrorKind::Plan(PlanError::MixedSizes { .. })));

    let (_dir, source) = file_source(&bytes[..TOTAL as usize]).await;
    let err =
        uploader().upload_parts(&source, "not\na type", &storage.sized_urls(), UploadOptions::new()).await.unwrap_err();
    assert!(matches!(err.kind(), UploadErrorKind::InvalidMediaType(_)));

    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(storage.fake.connections(), 0, "storage must not have been contacted");
    assert!(storage.received().is_empty());
}

#[tokio::test]
async fn part_3_is_retried_through_two_503s() {
    let storage = Storage::start(&SIZES).await;
    storage.fault(3, Fault::status(503).body("application/xml", S3_SLOW_DOWN));
    storage.fault(3, Fault::empty(503));
    let bytes = data(TOTAL);
    let (_dir, source) = file_source(&bytes).await;
    let (tx, rx) = progress();

    let report = uploader()
        .upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new().progress(tx))
        .await
        .unwrap();

    let attempts: Vec<_> = report.parts.iter().map(|p| p.attempts).collect();
    assert_eq!(attempts, [1, 1, 3]);
    assert_eq!(report.retries(), 2);
    let tries = storage.received_for(3);
    assert_eq!(tries.iter().map(|t| t.status()).collect::<Vec<_>>(), [Some(503), Some(503), Some(200)]);
    for attempt in &tries {
        assert_eq!(attempt.body, &bytes[range(3)], "every attempt sends the whole part");
    }
    assert_part_received(&tries[2], storage.url(3), &bytes[range(3)]);
    assert_eq!(storage.received_for(1).len(), 1);
    assert_eq!(storage.fake.file_bytes(&storage.upload.id).unwrap(), bytes);
    let done = *rx.borrow();
    assert_eq!((done.bytes_sent, done.parts_done, done.retries), (TOTAL, 3, 2));
}

#[tokio::test]
async fn an_expired_url_fails_fast_and_names_the_part() {
    let storage = Storage::start(&SIZES).await;
    // The storage's own answer to an expired URL, for part 2 only.
    storage.fault(2, Fault::status(403).body("application/xml", S3_EXPIRED));
    let bytes = data(TOTAL);
    let (_dir, source) = file_source(&bytes).await;

    let err = builder()
        .concurrency(1)
        .build()
        .unwrap()
        .upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new())
        .await
        .unwrap_err();

    let UploadErrorKind::Rejected { part, status, s3 } = err.kind() else {
        panic!("expected a rejection, got {err:?}");
    };
    assert_eq!((part.number, part.count), (2, 3));
    assert_eq!(part.range, 400_000..750_000);
    assert_eq!(status.as_u16(), 403);
    assert_eq!(s3.as_ref().map(|e| e.code.as_str()), Some("AccessDenied"));
    let shown = err.to_string();
    let part_path = path_of(storage.url(2));
    for needle in ["part 2 of 3", "bytes 400000..750000", "403", "AccessDenied", "Request has expired", &part_path] {
        assert!(shown.contains(needle), "{needle:?} missing from {shown}");
    }
    assert!(shown.contains("1 of 3 parts, 400000 bytes"), "{shown}");
    assert_eq!(err.failed_part(), Some(part));
    assert_eq!(storage.received_for(2).len(), 1, "a 403 is not retried");
    assert!(storage.received_for(3).is_empty(), "nothing after a fatal failure");
    let completed: Vec<_> = err.completed_parts().iter().map(|p| p.number).collect();
    assert_eq!(completed, [1]);
    assert_eq!(err.bytes_completed(), 400_000);
    assert_no_secret(&all_renderings(&err), &storage.signatures());

    let err: frameio_ext::Error = err.into();
    assert!(matches!(err, frameio_ext::Error::Upload(_)));
    assert!(err.to_string().contains("part 2 of 3"));
}

#[tokio::test]
async fn a_connection_reset_mid_part_is_retried_without_double_counting() {
    let storage = Storage::start(&SIZES).await;
    storage.fault(2, Fault::reset_after(100_000));
    let bytes = data(TOTAL);
    let (_dir, source) = file_source(&bytes).await;
    let (tx, rx) = progress();

    let report = uploader()
        .upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new().progress(tx))
        .await
        .unwrap();

    let tries = storage.received_for(2);
    assert_eq!(tries.len(), 2);
    assert!(!tries[0].body_complete && tries[0].status().is_none(), "the first attempt was cut off");
    assert!(tries[0].body_len >= 100_000 && tries[0].body_len < SIZES[1]);
    assert_part_received(&tries[1], storage.url(2), &bytes[range(2)]);
    assert_eq!(report.parts[1].attempts, 2);
    let done = *rx.borrow();
    assert_eq!(done.bytes_sent, TOTAL, "retried bytes are counted once");
    assert_eq!(done.retries, 1);
}

#[tokio::test]
async fn progress_climbs_to_exactly_the_file_size() {
    let storage = Storage::start(&SIZES).await;
    // Storage sits on part 1 for a while: its bytes must show before its ack.
    storage.fault(1, Fault::delay(Duration::from_millis(100)));
    let bytes = data(TOTAL);
    let (_dir, source) = file_source(&bytes).await;
    let (tx, mut rx) = progress();
    let watcher = tokio::spawn(async move {
        let mut seen = Vec::new();
        while rx.changed().await.is_ok() {
            seen.push(*rx.borrow_and_update());
        }
        seen
    });

    builder()
        .concurrency(1)
        .buffer_size(16 * 1024)
        .build()
        .unwrap()
        .upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new().progress(tx))
        .await
        .unwrap();

    let seen = watcher.await.unwrap();
    assert!(seen.len() > 3, "progress moves within parts: {} updates", seen.len());
    assert!(seen.windows(2).all(|w| w[0].bytes_sent <= w[1].bytes_sent));
    assert!(seen.iter().all(|p| p.total_bytes == TOTAL && p.parts_total == 3));
    let last = seen.last().unwrap();
    assert_eq!((last.bytes_sent, last.parts_done), (TOTAL, 3));
    assert!(last.is_complete());
    assert!(seen.iter().any(|p| p.parts_done == 0 && p.bytes_sent == SIZES[0]), "bytes count as they go out");
}

#[tokio::test]
async fn cancellation_stops_promptly_and_reports_what_was_sent() {
    let storage = Storage::start(&SIZES).await;
    storage.fault(2, Fault::stall_after(10_000));
    storage.fault(3, Fault::stall_after(10_000));
    let bytes = data(TOTAL);
    let (_dir, source) = file_source(&bytes).await;
    let (tx, rx) = progress();
    let cancel = CancellationToken::new();

    let upload = tokio::spawn({
        let cancel = cancel.clone();
        let urls = storage.sized_urls();
        async move {
            builder()
                .concurrency(2)
                .stall_timeout(Duration::from_secs(60))
                .build()
                .unwrap()
                .upload_parts(&source, MEDIA_TYPE, &urls, UploadOptions::new().progress(tx).cancel(cancel))
                .await
        }
    });
    let waited = Instant::now();
    while storage.received().len() < 3 {
        assert!(waited.elapsed() < Duration::from_secs(10), "parts never reached storage");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cancelled_at = Instant::now();
    cancel.cancel();
    let err = tokio::time::timeout(Duration::from_secs(5), upload)
        .await
        .expect("the upload ignored the cancellation")
        .unwrap()
        .unwrap_err();

    assert!(cancelled_at.elapsed() < Duration::from_millis(500), "took {:?}", cancelled_at.elapsed());
    assert!(err.is_cancelled(), "{err:?}");
    let completed: Vec<_> = err.completed_parts().iter().map(|p| p.number).collect();
    assert_eq!(completed, [1]);
    assert_eq!(err.bytes_completed(), SIZES[0]);
    assert!(err.to_string().contains("1 of 3 parts, 400000 bytes"), "{err}");
    let now = *rx.borrow();
    assert_eq!((now.bytes_sent, now.parts_done), (SIZES[0], 1), "abandoned parts give their bytes back");
}

#[tokio::test]
async fn an_async_reader_is_sent_part_after_part() {
    let storage = Storage::start(&SIZES).await;
    // A slow answer to part 1 would let part 2 overtake it if parts overlapped.
    storage.fault(1, Fault::delay(Duration::from_millis(150)));
    let bytes = data(TOTAL);
    let source = UploadSource::from_reader(io::Cursor::new(bytes.clone()), TOTAL);

    let report = builder()
        .concurrency(8)
        .build()
        .unwrap()
        .upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new())
        .await
        .unwrap();

    let got = storage.received();
    let order: Vec<_> = got.iter().map(|r| r.path.clone()).collect();
    assert_eq!(order, (1..=3).map(|n| path_of(storage.url(n))).collect::<Vec<_>>());
    for (i, req) in got.iter().enumerate() {
        assert_part_received(req, storage.url(i + 1), &bytes[range(i + 1)]);
    }
    let answered = |r: &RecordedRequest| r.response.as_ref().unwrap().at;
    assert!(got.windows(2).all(|w| w[1].at >= answered(&w[0])), "a part began before the previous one was answered");
    assert_eq!(report.bytes, TOTAL);
}

#[tokio::test]
async fn a_reader_part_that_broke_midway_is_not_resent() {
    let storage = Storage::start(&SIZES).await;
    storage.fault(2, Fault::reset_after(50_000));
    let bytes = data(TOTAL);
    let source = UploadSource::from_reader(io::Cursor::new(bytes), TOTAL);

    let err =
        uploader().upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new()).await.unwrap_err();

    let UploadErrorKind::NotRewindable { part, cause } = err.kind() else {
        panic!("expected NotRewindable, got {err:?}");
    };
    assert_eq!(part.number, 2);
    assert!(matches!(cause, TransientFailure::Network(_)), "{cause:?}");
    assert_eq!(storage.received_for(2).len(), 1);
    assert_eq!(err.completed_parts().len(), 1);
}

#[tokio::test]
async fn retries_stop_where_the_policy_says() {
    let storage = Storage::start(&SIZES).await;
    storage.fault(1, Fault::status(500).body("application/xml", S3_INTERNAL).times(10));
    let (_dir, source) = file_source(&data(TOTAL)).await;

    let err =
        uploader().upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new()).await.unwrap_err();

    let UploadErrorKind::RetriesExhausted { part, attempts, last } = err.kind() else {
        panic!("expected RetriesExhausted, got {err:?}");
    };
    assert_eq!((part.number, *attempts), (1, 4));
    assert!(matches!(last, TransientFailure::Status { status, .. } if status.as_u16() == 500));
    assert_eq!(storage.received_for(1).len(), 4);
    let shown = err.to_string();
    assert!(shown.contains("after 4 attempts") && shown.contains("InternalError"), "{shown}");
    assert_no_secret(&all_renderings(&err), &storage.signatures());
}

#[tokio::test]
async fn a_stalled_part_is_abandoned_and_retried() {
    let storage = Storage::start(&SIZES).await;
    storage.fault(1, Fault::stall_after(0));
    let bytes = data(TOTAL);
    let (_dir, source) = file_source(&bytes).await;

    let uploader = builder().stall_timeout(Duration::from_millis(300)).build().unwrap();
    let urls = storage.sized_urls();
    let upload = uploader.upload_parts(&source, MEDIA_TYPE, &urls, UploadOptions::new());
    let report: UploadReport =
        tokio::time::timeout(Duration::from_secs(5), upload).await.expect("the stall went unnoticed").unwrap();

    assert_eq!(report.parts[0].attempts, 2);
    let tries = storage.received_for(1);
    assert_eq!(tries.len(), 2);
    assert_part_received(&tries[1], storage.url(1), &bytes[range(1)]);
}

#[tokio::test]
async fn network_errors_never_show_the_presigned_query() {
    const SECRET_QUERY: &str = "X-Amz-Credential=AKIAFAKE%2F20250101&X-Amz-Signature=d0d0cafe5ecre7&X-Amz-Expires=3600";
    // A port that was just free: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/parts/part_1?{SECRET_QUERY}");
    let (_dir, source) = file_source(&data(1000)).await;

    let err = builder()
        .retry_policy(RetryPolicy::storage().backoff(Backoff::new().initial(Duration::from_millis(1))).max_attempts(2))
        .build()
        .unwrap()
        .upload_parts(&source, MEDIA_TYPE, &[UploadUrl::new(1000, &url)], UploadOptions::new())
        .await
        .unwrap_err();

    let UploadErrorKind::RetriesExhausted { attempts: 2, last: TransientFailure::Network(_), .. } = err.kind() else {
        panic!("expected exhausted network retries, got {err:?}");
    };
    let shown = all_renderings(&err);
    assert!(shown.contains(&format!("127.0.0.1:{port}/parts/part_1")), "{shown}");
    let signature = ["d0d0cafe5ecre7".to_string()];
    assert_no_secret(&shown, &signature);
    assert_no_secret(&format!("{:?}", UploadUrl::new(1000, &url)), &signature);
}

#[tokio::test]
async fn a_file_that_shrinks_before_the_upload_sends_nothing() {
    let storage = Storage::start(&SIZES).await;
    let (dir, source) = file_source(&data(TOTAL)).await;
    std::fs::OpenOptions::new().write(true).open(dir.path().join("clip.mov")).unwrap().set_len(500_000).unwrap();

    let err = builder()
        .concurrency(1)
        .build()
        .unwrap()
        .upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new())
        .await
        .unwrap_err();

    let UploadErrorKind::SourceChanged(changed) = err.kind() else {
        panic!("expected the change to be detected, got {err:?}");
    };
    assert_eq!((changed.was, changed.now), (TOTAL, 500_000));
    assert!(err.to_string().contains("changed while it was being uploaded"), "{err}");
    assert_eq!(storage.received().len(), 0, "nothing is sent from a file that changed");
}

#[tokio::test]
async fn a_file_rewritten_and_grown_during_the_upload_is_reported_not_mixed() {
    let storage = Storage::start(&SIZES).await;
    let (dir, source) = file_source(&data(TOTAL)).await;
    // Part 1 is answered late; meanwhile the file is rewritten and grown.
    storage.fault(1, Fault::delay(Duration::from_millis(300)));
    let file = dir.path().join("clip.mov");
    let writer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut bigger = data(TOTAL + 4096);
        bigger.reverse();
        std::fs::write(&file, bigger).unwrap();
    });

    let err = builder()
        .concurrency(1)
        .build()
        .unwrap()
        .upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new())
        .await
        .unwrap_err();
    writer.await.unwrap();

    let UploadErrorKind::SourceChanged(changed) = err.kind() else {
        panic!("expected the change to be detected, got {err:?}");
    };
    assert_eq!((changed.was, changed.now), (TOTAL, TOTAL + 4096));
    assert!(err.completed_parts().len() < SIZES.len(), "never reported complete: {err}");
}

#[tokio::test]
async fn a_file_that_shrinks_mid_part_fails_the_part_it_cannot_read() {
    let storage = Storage::start(&SIZES).await;
    let (dir, source) = file_source(&data(TOTAL)).await;
    // Truncated while part 1 is in flight: the next part's check, or its read
    // past the new end, stops the upload.
    storage.fault(1, Fault::delay(Duration::from_millis(200)));
    let file = dir.path().join("clip.mov");
    let truncate = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        std::fs::OpenOptions::new().write(true).open(&file).unwrap().set_len(500_000).unwrap();
    });

    let err = builder()
        .concurrency(1)
        .build()
        .unwrap()
        .upload_parts(&source, MEDIA_TYPE, &storage.sized_urls(), UploadOptions::new())
        .await
        .unwrap_err();
    truncate.await.unwrap();
    assert!(
        matches!(err.kind(), UploadErrorKind::SourceChanged(_) | UploadErrorKind::Source { .. }),
        "a shrunk file fails the upload: {err:?}"
    );
    assert!(storage.received_for(2).iter().all(|r| !r.body_complete));
}
