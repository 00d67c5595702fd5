//! C2C uploads against the fake Frame.io's device API and storage on 127.0.0.1,
//! which keep every byte: basic uploads split as the guide does, asset creation
//! retried with a fresh `offset`, real-time uploads of a file that grows while
//! it is being uploaded, and the guide's AWS error table.

mod support;

use std::io::Write;
use std::time::{Duration, SystemTime};

use frameio_ext::c2c::{
    C2cClient, C2cErrorClass, C2cErrorKind, CreatedAsset, NewAsset, PartSizer, RealtimeError, RealtimeProgress,
    RealtimeUpload, classify, error_kind,
};
use frameio_ext::upload::{UploadOptions, UploadSource, Uploader};
use frameio_ext::{Backoff, Error, RetryPolicy};
use frameio_fake::{Fake, FakeBuilder, Fault, RecordedRequest, STORAGE_UPLOAD, Target};
use support::{c2c_builder, fixture, json};
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const CREATE: &str = "devices_device_asset_create";
const PARTS: &str = "devices_device_create_realtime_upload_parts";

fn data(len: u64) -> Vec<u8> {
    frameio_fake::patterned_bytes(42, 0..len)
}

fn uploader() -> Uploader {
    Uploader::builder()
        .concurrency(3)
        .buffer_size(256 * 1024)
        .retry_policy(
            RetryPolicy::storage()
                .backoff(Backoff::new().initial(Duration::from_millis(2)).max_delay(Duration::from_millis(10))),
        )
        .build()
        .unwrap()
}

/// A fake with a device paired to a project; its parts are recorded whole (up to 32 MiB).
struct Camera {
    fake: Fake,
    access_token: String,
}

impl Camera {
    async fn start() -> Self {
        Self::with(Fake::builder()).await
    }

    async fn with(builder: FakeBuilder) -> Self {
        let fake = builder.record_body_limit(32 << 20).max_file_size(64 << 20).start().await.unwrap();
        let project = fake.seed().account("Acme").workspace("W").project("Set").id;
        let access_token = fake.seed().device("SN-0042", &project).tokens.access_token;
        Self { fake, access_token }
    }

    fn client(&self) -> C2cClient {
        c2c_builder(&self.fake).bearer_token(self.access_token.as_str()).uploader(uploader()).build().unwrap()
    }

    /// The part requests the storage received for part `number`, in order.
    fn puts(&self, number: usize) -> Vec<RecordedRequest> {
        let suffix = format!("/part_{number}");
        self.fake.requests_to(STORAGE_UPLOAD).into_iter().filter(|r| r.path.ends_with(&suffix)).collect()
    }
}

fn assert_part(req: &RecordedRequest, expected: &[u8], media_type: &str) {
    assert_eq!(req.method, "PUT");
    assert_eq!(req.headers["content-type"], media_type);
    assert_eq!(req.headers["x-amz-acl"], "private");
    assert!(req.headers.get("authorization").is_none(), "no credentials to storage");
    assert!(req.body_complete, "{} was cut short", req.path);
    assert!(req.body == expected, "{} received the wrong bytes", req.path);
    assert_eq!(req.status(), Some(200), "the storage accepted {}", req.path);
}

/// When the storage answered `req`.
fn answered(req: &RecordedRequest) -> Instant {
    req.response.as_ref().expect("answered").at
}

// ---------------------------------------------------------------------------
// Basic uploads

#[tokio::test]
async fn a_basic_upload_creates_the_asset_and_splits_the_file_as_the_guide_does() {
    // Parts of at most 400,000 bytes: the fake splits 1,000,003 bytes in three.
    let camera = Camera::with(Fake::builder().part_size(400_000)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("A001_C002.mov");
    let bytes = data(1_000_003);
    std::fs::write(&path, &bytes).unwrap();

    let source = UploadSource::open(&path).await.unwrap();
    let asset = NewAsset::named_after(&path).created_at(SystemTime::now() - Duration::from_secs(10)).channel(2);
    let uploaded = camera.client().upload_file(&source, asset, UploadOptions::new()).await.unwrap();
    assert_eq!(uploaded.report.bytes, 1_000_003);
    assert_eq!(uploaded.asset.upload_urls.len(), 3);
    assert_eq!(camera.fake.file_bytes(&uploaded.asset.id).unwrap(), bytes, "the file is whole in the project");

    let body = json(&camera.fake.requests_to(CREATE)[0]);
    assert_eq!(body["name"], "A001_C002.mov");
    assert_eq!(body["filetype"], "video/quicktime");
    assert_eq!(body["filesize"], 1_000_003);
    assert_eq!(body["channel"], 2);
    assert_eq!(body["is_realtime_upload"], false);
    assert!((10..=11).contains(&body["offset"].as_i64().unwrap()), "{body}");
    // ceil(1,000,003 / 3) = 333,335 per part, the last taking the rest.
    for (n, range) in [(1, 0..333_335), (2, 333_335..666_670), (3, 666_670..1_000_003)] {
        let received = camera.puts(n);
        assert_eq!(received.len(), 1);
        assert_part(&received[0], &bytes[range], "video/quicktime");
    }
}

#[tokio::test]
async fn the_offset_defaults_to_the_files_age() {
    let camera = Camera::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("take.wav");
    std::fs::write(&path, data(1_000)).unwrap();
    let source = UploadSource::open(&path).await.unwrap();
    camera.client().upload_file(&source, NewAsset::named_after(&path), UploadOptions::new()).await.unwrap();
    let body = json(&camera.fake.requests_to(CREATE)[0]);
    assert!((0..=2).contains(&body["offset"].as_i64().unwrap()), "a file written just now: {body}");
    assert_eq!(body["filetype"], "audio/wav");
}

#[tokio::test]
async fn asset_creation_is_retried_with_a_fresh_offset_and_never_after_a_pause() {
    let camera = Camera::start().await;
    camera.fake.fault(Target::operation(CREATE), Fault::json(429, r#"{"error": "slow_down"}"#));
    // One retry, a little over a second later: the offset must have grown.
    let slow = c2c_builder(&camera.fake)
        .bearer_token(camera.access_token.as_str())
        .call_retry_policy(
            RetryPolicy::c2c()
                .backoff(Backoff::new().initial(Duration::from_millis(1_050)).jitter(0.0))
                .rate_limit_floor(Duration::from_millis(1_050))
                .max_attempts(2),
        )
        .build()
        .unwrap();
    let asset = NewAsset::new("A001.mov", "video/quicktime").created_at(SystemTime::now() - Duration::from_secs(60));
    let created = slow.create_asset(&asset, 10).await.unwrap();
    assert_eq!(camera.fake.file_status(&created.id), Some("created"), "the fake created it on the retry");
    let offsets: Vec<i64> = camera.fake.requests().iter().map(|h| json(h)["offset"].as_i64().unwrap()).collect();
    assert_eq!(offsets.len(), 2, "the middleware does not resend the stale body itself");
    assert!(offsets[1] > offsets[0], "each attempt sends the media's age at that moment: {offsets:?}");

    for (reply, kind, calls) in [
        (Fault::json(409, fixture("assets_create_409_channel_paused")), C2cErrorKind::ChannelPaused, 1),
        (Fault::json(422, r#"{"code": 422, "message": "Invalid Argument"}"#), C2cErrorKind::InvalidArgument, 1),
        (Fault::json(400, r#"{"error": "invalid_request"}"#), C2cErrorKind::InvalidRequest, 2),
        (Fault::json(500, fixture("assets_create_500_invalid_chunk_count")), C2cErrorKind::InternalServerError, 4),
    ] {
        camera.fake.clear_requests();
        camera.fake.fault(Target::operation(CREATE), reply.times(10));
        let err = camera.client().create_asset(&asset, 10).await.unwrap_err();
        camera.fake.clear_faults();
        assert_eq!(error_kind(&err), kind, "{err}");
        let sent = camera.fake.requests_to(CREATE).len();
        assert_eq!(sent, calls, "{kind:?}: fatal once, `once` twice, `yes` as the back-off allows");
    }
}

// ---------------------------------------------------------------------------
// Real-time uploads

#[test]
fn part_sizes_keep_to_s3s_limits_at_every_edge() {
    use frameio_ext::c2c::part_size::{MAXIMUM_DATA_RATE, MAXIMUM_FILE_SIZE, MINIMUM_PART_SIZE};
    use frameio_ext::c2c::{PartNumberError, part_size};

    // Part numbers: 1 to 10,000, as S3 allows.
    assert_eq!(part_size(0, MINIMUM_PART_SIZE), Err(PartNumberError(0)));
    assert_eq!(part_size(10_001, MINIMUM_PART_SIZE), Err(PartNumberError(10_001)));
    assert_eq!(part_size(1, MINIMUM_PART_SIZE), Ok(5_242_896));
    assert_eq!(part_size(10_000, MINIMUM_PART_SIZE), Ok(1_638_536_679));
    // Data rates below 5 MiB/s size parts as 5 MiB/s does; above ~549.8 MB/s, as that.
    for n in [1, 2, 500, 9_999, 10_000] {
        assert_eq!(part_size(n, 0), part_size(n, MINIMUM_PART_SIZE));
        assert_eq!(part_size(n, u64::MAX), part_size(n, MAXIMUM_DATA_RATE));
    }
    // At the maximum rate the parts are all but uniform: floor(2.66e-8 × n²) + r.
    assert_eq!(part_size(1, MAXIMUM_DATA_RATE), Ok(549_755_813));
    assert_eq!(part_size(10_000, MAXIMUM_DATA_RATE), Ok(549_755_815));
    // Whatever the rate: every part at least 5 MiB, at most 5 GiB, and 10,000 of
    // them within 10,000 bytes of 5 TiB without exceeding it.
    for rate in [0, MINIMUM_PART_SIZE, 12_750_000, 280_000_000, MAXIMUM_DATA_RATE, u64::MAX] {
        let sizer = PartSizer::new(rate);
        let sizes: Vec<u64> = (1..=10_000).map(|n| sizer.size(n).unwrap()).collect();
        assert!(sizes.windows(2).all(|w| w[0] <= w[1]), "sizes grow with the part number");
        assert!(sizes[0] >= MINIMUM_PART_SIZE && sizes[9_999] <= 5 * 1024 * 1024 * 1024);
        let total: u64 = sizes.iter().sum();
        assert!(total <= MAXIMUM_FILE_SIZE && MAXIMUM_FILE_SIZE - total <= 10_000, "rate {rate}: {total}");
    }
}

#[tokio::test]
async fn a_file_that_grows_while_it_uploads_arrives_whole() {
    const TOTAL: usize = 18_000_000;
    let camera = Camera::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("A001_C003.mov");
    std::fs::File::create(&path).unwrap();
    let bytes = data(TOTAL as u64);

    // The recorder: appends 64 KiB every 2 ms, then says the file is complete.
    let (complete, completed) = oneshot::channel::<Instant>();
    let writer = {
        let (path, bytes) = (path.clone(), bytes.clone());
        std::thread::spawn(move || {
            let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
            for chunk in bytes.chunks(64 * 1024) {
                file.write_all(chunk).unwrap();
                std::thread::sleep(Duration::from_millis(2));
            }
            file.sync_all().unwrap();
            complete.send(Instant::now()).unwrap();
        })
    };
    let (progress, watching) = watch::channel(RealtimeProgress::default());
    let upload = RealtimeUpload::new(NewAsset::new("A001_C003.mov", "video/quicktime"))
        .poll_interval(Duration::from_millis(5))
        .progress(progress);
    let finished_at = std::sync::Arc::new(std::sync::Mutex::new(None));
    let mark = std::sync::Arc::clone(&finished_at);
    let report = camera
        .client()
        .upload_realtime(&path, upload, async move {
            *mark.lock().unwrap() = Some(completed.await.unwrap());
        })
        .await
        .unwrap();
    writer.join().unwrap();
    let writer_done = finished_at.lock().unwrap().unwrap();

    // Every byte arrived, in parts of the guide's sizes, the last one final.
    let sizer = PartSizer::new(5_242_880);
    let mut start = 0;
    for (i, part) in report.parts.iter().enumerate() {
        let n = i as u32 + 1;
        assert_eq!(part.number, n);
        let received = camera.puts(n as usize);
        assert_eq!(received.len(), 1, "part {n}");
        let len = (part.range.end - part.range.start) as usize;
        assert_eq!(part.range.start as usize, start);
        assert_part(&received[0], &bytes[start..start + len], "video/quicktime");
        if i + 1 < report.parts.len() {
            assert_eq!(len as u64, sizer.size(n).unwrap(), "part {n} has the formula's size");
            assert!(!part.is_final);
        } else {
            assert!(part.is_final);
        }
        start += len;
    }
    assert_eq!((start, report.bytes), (TOTAL, TOTAL as u64));
    assert_eq!(report.parts.len(), 4, "5,242,896 + 5,242,945 + 5,243,026 + the rest");
    assert_eq!(camera.fake.file_bytes(&report.asset.id).unwrap(), bytes, "the fake assembled the parts in order");

    // The URLs were requested as the file grew; only the last request is final.
    let requests = camera.fake.requests_to(PARTS);
    assert!(requests[0].at < writer_done, "the first part was requested while the file was still growing");
    let (last, earlier) = requests.split_last().unwrap();
    for request in earlier {
        let body = json(request);
        assert!(body.get("asset_filesize").is_none(), "{body}");
        assert!(body["parts"].as_array().unwrap().iter().all(|p| p["is_final"] == false), "{body}");
    }
    let body = json(last);
    assert_eq!(body["asset_filesize"], TOTAL);
    let flags: Vec<bool> = body["parts"].as_array().unwrap().iter().map(|p| p["is_final"].as_bool().unwrap()).collect();
    assert_eq!(flags.last(), Some(&true));
    assert_eq!(flags.iter().filter(|f| **f).count(), 1);
    let created = json(&camera.fake.requests_to(CREATE)[0]);
    assert_eq!((created["is_realtime_upload"].as_bool(), created.get("filesize")), (Some(true), None));

    // The final part went out only after every other part was accepted.
    let final_put = &camera.puts(report.parts.len())[0];
    for other in camera.fake.requests_to(STORAGE_UPLOAD).iter().filter(|r| r.path != final_put.path) {
        assert!(answered(other) <= final_put.at, "{} was answered after the final part began", other.path);
    }
    let progress = *watching.borrow();
    assert_eq!((progress.uploaded, progress.parts, progress.complete), (TOTAL as u64, 4, true));
}

#[tokio::test]
async fn the_final_part_goes_out_after_all_others() {
    let camera = Camera::start().await;
    // The first three parts are answered late: the final one must wait for them.
    camera.fake.fault(Target::operation(STORAGE_UPLOAD), Fault::delay(Duration::from_millis(150)).times(3));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("render.mp4");
    std::fs::File::create(&path).unwrap();
    let bytes = data(18_000_000);
    // The whole render lands between two checks of the file: one request for
    // all four parts, the final one among them.
    let upload = RealtimeUpload::new(NewAsset::new("render.mp4", "video/mp4")).poll_interval(Duration::from_secs(30));
    let report =
        camera.client().upload_realtime(&path, upload, async { std::fs::write(&path, &bytes).unwrap() }).await.unwrap();
    assert_eq!(report.parts.len(), 4);
    let requests = camera.fake.requests_to(PARTS);
    assert_eq!(requests.len(), 1);
    assert_eq!(json(&requests[0])["parts"].as_array().unwrap().len(), 4);
    let final_put = &camera.puts(4)[0];
    assert_part(final_put, &bytes[15_728_867..], "video/mp4");
    for n in 1..=3 {
        let other = &camera.puts(n)[0];
        assert!(answered(other) - other.finished >= Duration::from_millis(150), "part {n} was answered late");
        assert!(answered(other) <= final_put.at, "part {n} was still in flight when the final part began");
    }
}

#[tokio::test]
async fn a_real_time_part_cut_off_midway_is_read_again_and_sent_again() {
    let camera = Camera::start().await;
    // The first part sent is part 1 (the final part waits for the others).
    camera.fake.fault(Target::operation(STORAGE_UPLOAD), Fault::reset_after(100_000));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("take.wav");
    let bytes = data(6_000_000);
    std::fs::write(&path, &bytes).unwrap();
    let upload = RealtimeUpload::new(NewAsset::new("take.wav", "audio/wav")).poll_interval(Duration::from_millis(5));
    let report = camera.client().upload_realtime(&path, upload, async {}).await.unwrap();

    assert_eq!(report.parts.len(), 2);
    let first = camera.puts(1);
    assert_eq!(first.len(), 2, "cut off, then sent again from the file");
    assert!(!first[0].body_complete && first[0].status().is_none());
    assert_part(&first[1], &bytes[..5_242_896], "audio/wav");
    assert_part(&camera.puts(2)[0], &bytes[5_242_896..], "audio/wav");
}

#[tokio::test]
async fn a_file_that_shrinks_or_is_cancelled_stops_the_upload() {
    let camera = Camera::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("take.wav");
    std::fs::write(&path, data(6_000_000)).unwrap();
    let upload = RealtimeUpload::new(NewAsset::new("take.wav", "audio/wav")).poll_interval(Duration::from_millis(5));
    let client = camera.client();
    let truncate = async {
        while camera.puts(1).is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        std::fs::write(&path, b"short").unwrap();
        std::future::pending::<()>().await
    };
    let err = tokio::select! {
        result = client.upload_realtime(&path, upload.clone(), std::future::pending()) => result.unwrap_err(),
        () = truncate => unreachable!(),
    };
    assert!(matches!(err, Error::Realtime(RealtimeError::Shrank { was: 5_242_896, now: 5, .. })), "{err:?}");
    assert_eq!(classify(&err), C2cErrorClass::Fatal);

    let cancel = CancellationToken::new();
    cancel.cancel();
    let created = camera.fake.requests().len();
    let err = client.upload_realtime(&path, upload.cancel(cancel), std::future::pending()).await.unwrap_err();
    assert_eq!((error_kind(&err), classify(&err)), (C2cErrorKind::Cancelled, C2cErrorClass::Fatal));
    assert_eq!(camera.fake.requests().len(), created, "nothing is created for a cancelled upload");
}

// ---------------------------------------------------------------------------
// The guide's AWS error table

#[tokio::test]
async fn every_row_of_the_aws_error_table_is_classified() {
    use C2cErrorClass::{Retry, RetryOnce};
    let rows = [
        ("InternalError", 500, Retry),
        ("OperationAborted", 409, Retry),
        ("RequestTimeout", 400, Retry),
        ("ServiceUnavailable", 503, Retry),
        ("SlowDown", 503, Retry),
        // "[All Other Errors]": once.
        ("AccessDenied", 403, RetryOnce),
        ("NoSuchUpload", 404, RetryOnce),
    ];
    let camera = Camera::start().await;
    let no_retry = Uploader::builder().retry_policy(RetryPolicy::none()).build().unwrap();
    let client =
        c2c_builder(&camera.fake).bearer_token(camera.access_token.as_str()).uploader(no_retry).build().unwrap();
    // A 10-byte upload waiting on the fake's storage, whose one part answers each row in turn.
    let upload = {
        let project = camera.fake.seed().account("Acme").workspace("W").project("P");
        project.root().upload("clip.mp4", &[10])
    };
    let asset: CreatedAsset =
        serde_json::from_value(serde_json::json!({"id": upload.id, "upload_urls": [upload.parts[0].url]})).unwrap();
    let part = Target::upload_part(&upload.id, 1);
    for (code, status, class) in rows {
        let xml = format!("<Error><Code>{code}</Code><Message>m</Message></Error>");
        camera.fake.fault(part.clone(), Fault::status(status).body("application/xml", xml));
        let source = UploadSource::from_reader(std::io::Cursor::new(vec![1u8; 10]), 10);
        let err = client.upload_asset(&asset, &source, "video/mp4", UploadOptions::new()).await.unwrap_err();
        assert_eq!((error_kind(&err), classify(&err)), (C2cErrorKind::Storage(Some(code.to_owned())), class), "{err}");
    }
    // A refusal without an S3 document: by its status.
    camera.fake.fault(part, Fault::empty(403));
    let source = UploadSource::from_reader(std::io::Cursor::new(vec![1u8; 10]), 10);
    let err = client.upload_asset(&asset, &source, "video/mp4", UploadOptions::new()).await.unwrap_err();
    assert_eq!((error_kind(&err), classify(&err)), (C2cErrorKind::Storage(None), RetryOnce));
}
