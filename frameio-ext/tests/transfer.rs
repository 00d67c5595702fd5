//! Transfer jobs end to end against frameio-fake: a file to disk by its id,
//! folder trees up and down (skips, nested folders, version stacks, one file
//! failing, fail-fast, cancellation), resumable uploads (and expired URLs), a
//! file that changes while it uploads, and waiting for a transcode. Every
//! transferred file is compared byte for byte with its source.

use std::path::{Path, PathBuf};
use std::time::Duration;

use frameio_ext::rate_limit::RateLimiting;
use frameio_ext::transfer::{
    DownloadOptions, Existing, NewFile, SkipReason, TransferError, TransferProgress, TreeOptions, VersionStacks,
    WaitOptions,
};
use frameio_ext::types::{AssetWithIncludes, FileStatus};
use frameio_ext::upload::{UploadErrorKind, UploadManifest, UploadOptions, Uploader};
use frameio_ext::{Backoff, Client, Error, RetryPolicy};
use frameio_fake::{Fake, Fault, STORAGE_DOWNLOAD, STORAGE_UPLOAD, Target};
use futures::TryStreamExt;
use tokio_util::sync::CancellationToken;

fn pattern(len: usize, seed: u64) -> Vec<u8> {
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

fn client(fake: &Fake) -> Client {
    let uploader = Uploader::builder()
        .retry_policy(RetryPolicy::storage().max_attempts(2).backoff(Backoff::new().initial(Duration::from_millis(5))))
        .build()
        .unwrap();
    Client::builder()
        .base_url(fake.base_url())
        .bearer_token(fake.token())
        .rate_limiting(RateLimiting::disabled())
        .uploader(uploader)
        .build()
        .unwrap()
}

/// Everything in a remote folder, by name.
async fn listing(client: &Client, account_id: &str, folder_id: &str) -> Vec<AssetWithIncludes> {
    client.folders_index().account_id(account_id).folder_id(folder_id).stream().try_collect().await.unwrap()
}

fn find<'a>(items: &'a [AssetWithIncludes], name: &str) -> &'a AssetWithIncludes {
    items.iter().find(|i| i.name() == Some(name)).unwrap_or_else(|| panic!("no {name} in {items:?}"))
}

fn id_of(item: &AssetWithIncludes) -> String {
    match item {
        AssetWithIncludes::File(f) => f.id.clone(),
        AssetWithIncludes::Folder(f) => f.id.clone(),
        AssetWithIncludes::VersionStack(s) => s.id.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_file_is_downloaded_by_its_id_into_a_directory() {
    let fake = Fake::start().await.unwrap();
    let account = fake.seed().account("Acme");
    let root = account.workspace("Post").project("Launch").root();
    let data = pattern(3 * 1024 * 1024 + 5, 1);
    let file = root.file("A001_C003.mov", data.clone());
    let dir = tempfile::tempdir().unwrap();
    let client = client(&fake);

    let report =
        client.transfers().download_file(&account.id, &file.id, dir.path(), DownloadOptions::new()).await.unwrap();

    let dest = dir.path().join("A001_C003.mov");
    assert_eq!(report.path.as_deref(), Some(dest.as_path()));
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    let shown = fake.requests_to("files_show");
    assert_eq!(shown[0].query_param("include").as_deref(), Some("media_links.original"));

    // Already there with Frame.io's size: skipped without asking storage.
    fake.clear_requests();
    let options = DownloadOptions::new().existing(Existing::SkipSameSize);
    let again = client.transfers().download_file(&account.id, &file.id, &dest, options).await.unwrap();
    assert!(again.skipped);
    assert!(fake.requests_to(STORAGE_DOWNLOAD).is_empty());

    // A file whose upload never finished has nothing to download.
    let folder_id = root.id.clone();
    let created = client.files_create_local_upload().account_id(&account.id).folder_id(&folder_id);
    let body = frameio_ext::types::FileCreateLocalUploadParams {
        data: frameio_ext::types::FileCreateLocalUploadParamsData { file_size: 10, name: "pending.mov".into() },
    };
    let created = created.body(body).send().await.unwrap().data;
    let err = client
        .transfers()
        .download_file(&account.id, created.id.as_deref().unwrap(), dir.path().join("p.mov"), DownloadOptions::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transfer(TransferError::NoDownloadLink { .. })), "{err:?}");
}

#[tokio::test]
async fn waiting_for_a_transcode_polls_until_it_is_done_and_gives_up_in_time() {
    let fake = Fake::builder().transcode_delay(Duration::from_millis(400)).start().await.unwrap();
    let account = fake.seed().account("Acme");
    let folder_id = account.workspace("Post").project("Launch").root().id;
    let client = client(&fake);
    let data = pattern(1000, 2);
    let file = NewFile::from_reader(std::io::Cursor::new(data.clone()), 1000, "clip.mov");
    let uploaded = client.uploads().local(&account.id, &folder_id, file, UploadOptions::new()).await.unwrap();
    let file_id = uploaded.id.unwrap();

    let impatient =
        WaitOptions::new().timeout(Duration::ZERO).first_interval(Duration::MAX).max_interval(Duration::MAX);
    let err = client.transfers().wait_until_transcoded(&account.id, &file_id, impatient).await.unwrap_err();
    let Error::Transfer(TransferError::NotTranscoded { status, .. }) = &err else { panic!("{err:?}") };
    assert_eq!(status, "uploaded");

    let wait = WaitOptions::new().first_interval(Duration::from_millis(100)).max_interval(Duration::from_millis(200));
    let file = client.transfers().wait_until_transcoded(&account.id, &file_id, wait).await.unwrap();
    assert_eq!(file.status, FileStatus::Transcoded);
    assert!(fake.requests_to("files_show").len() >= 3, "polled until transcoded");
    assert_eq!(&fake.file_bytes(&file_id).unwrap()[..], &data[..]);
}

/// A local tree: `a.mov`, `same.mov` (also in Frame.io), `grown.mov` (in
/// Frame.io with another size), `day1/b.mov`, `day1/deep/c.mov`, `day2/`.
fn local_tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let files = vec![
        (PathBuf::from("a.mov"), pattern(300_000, 3)),
        ("same.mov".into(), pattern(2_000, 4)),
        ("grown.mov".into(), pattern(5_000, 5)),
        ("day1/b.mov".into(), pattern(2 * 1024 * 1024 + 1, 6)),
        ("day1/deep/c.mov".into(), pattern(10, 7)),
    ];
    std::fs::create_dir_all(root.join("day1/deep")).unwrap();
    std::fs::create_dir_all(root.join("day2")).unwrap();
    for (path, bytes) in &files {
        std::fs::write(root.join(path), bytes).unwrap();
    }
    files
}

#[tokio::test]
async fn a_tree_is_uploaded_with_its_folders_skipping_what_is_there() {
    let fake = Fake::builder().part_size(1024 * 1024).start().await.unwrap();
    let account = fake.seed().account("Acme");
    let root = account.workspace("Post").project("Launch").root();
    let same = root.file("same.mov", pattern(2_000, 4));
    let grown = root.file("grown.mov", pattern(4_000, 5));
    let (account_id, root_id) = (account.id.clone(), root.id.clone());
    let dir = tempfile::tempdir().unwrap();
    let files = local_tree(dir.path());
    let client = client(&fake);
    let (tx, rx) = tokio::sync::watch::channel(TransferProgress::default());

    let report = client
        .transfers()
        .upload_tree(dir.path(), &account_id, &root_id, TreeOptions::new().progress(tx))
        .await
        .unwrap();

    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(
        (report.skipped[0].path.as_path(), report.skipped[0].reason),
        (Path::new("same.mov"), SkipReason::SameSize)
    );
    assert_eq!(report.skipped[0].file_id.as_deref(), Some(same.id.as_str()));
    assert_eq!(report.transferred.len(), 4);
    assert_eq!(report.folders_created, 3, "day1, day1/deep, day2");
    let sent: u64 = files.iter().filter(|(p, _)| p != Path::new("same.mov")).map(|(_, b)| b.len() as u64).sum();
    assert_eq!(report.bytes, sent);
    let done = *rx.borrow();
    assert_eq!((done.files_total, done.files_done, done.files_skipped, done.files_failed), (5, 4, 1, 0));
    assert_eq!((done.bytes_sent, done.total_bytes), (sent, sent));

    // Every byte, where it belongs.
    for file in &report.transferred {
        let local = &files.iter().find(|(p, _)| *p == file.path).unwrap().1;
        assert_eq!(&fake.file_bytes(&file.file_id).unwrap()[..], &local[..], "{}", file.path.display());
    }
    let top = listing(&client, &account_id, &root_id).await;
    let day1 = id_of(find(&top, "day1"));
    let deep = id_of(find(&listing(&client, &account_id, &day1).await, "deep"));
    assert!(matches!(find(&listing(&client, &account_id, &deep).await, "c.mov"), AssetWithIncludes::File(_)));
    assert!(listing(&client, &account_id, &id_of(find(&top, "day2"))).await.is_empty(), "empty folders are made too");
    // The file of another size became a new version on top of the old one.
    let AssetWithIncludes::VersionStack(stack) = find(&top, "grown.mov") else { panic!("{top:?}") };
    let head = stack.head_version.as_ref().unwrap();
    assert_eq!(head.file_size, 5_000);
    assert_ne!(head.id, grown.id);

    // A second run finds everything there.
    fake.clear_requests();
    let again = client.transfers().upload_tree(dir.path(), &account_id, &root_id, TreeOptions::new()).await.unwrap();
    assert_eq!((again.transferred.len(), again.skipped.len(), again.folders_created), (0, 5, 0));
    assert!(fake.requests_to(STORAGE_UPLOAD).is_empty());
}

#[tokio::test]
async fn one_file_failing_does_not_stop_the_others_unless_fail_fast() {
    // The fake refuses to create files over 1 MiB: `day1/b.mov` fails.
    let fake = Fake::builder().max_file_size(1024 * 1024).start().await.unwrap();
    let account = fake.seed().account("Acme");
    let root_id = account.workspace("Post").project("Launch").root().id;
    let dir = tempfile::tempdir().unwrap();
    local_tree(dir.path());
    let client = client(&fake);

    let report = client.transfers().upload_tree(dir.path(), &account.id, &root_id, TreeOptions::new()).await.unwrap();

    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].path, Path::new("day1/b.mov"));
    assert_eq!(report.failed[0].error.status().map(|s| s.as_u16()), Some(422));
    assert_eq!(report.transferred.len(), 4, "the others all went");
    assert!(!report.is_complete());

    // Fail fast, one file at a time: after the failure nothing more starts.
    let fresh = account.workspace("Other").project("Second").root().id;
    let options = TreeOptions::new().fail_fast(true).files_in_flight(1);
    let report = client.transfers().upload_tree(dir.path(), &account.id, &fresh, options).await.unwrap();
    assert_eq!(report.failed.len(), 1);
    // Walk order: a.mov, grown.mov, same.mov, day1/b.mov, day1/deep/c.mov.
    assert_eq!(report.transferred.len(), 3);
    assert_eq!(report.unfinished, [PathBuf::from("day1/deep/c.mov")]);
}

#[tokio::test]
async fn a_tree_is_downloaded_with_stacks_as_their_head_skips_and_one_failure() {
    let fake = Fake::start().await.unwrap();
    let account = fake.seed().account("Acme");
    let root = account.workspace("Post").project("Launch").root();
    let top = pattern(20_000, 10);
    root.file("top.mov", top.clone());
    let dailies = root.folder("Dailies");
    let day1 = dailies.folder("Day 01");
    let clip = pattern(9 * 1024 * 1024 + 3, 11);
    day1.file("A001.mov", clip.clone());
    let kept = pattern(777, 12);
    day1.file("kept.mov", kept.clone());
    let broken = day1.file("broken.mov", pattern(100, 13));
    dailies.folder("Empty");
    let edits = root.folder("Edits");
    let cuts: Vec<_> =
        (1..=3).map(|v| edits.file(&format!("Cut v{v}.mp4"), pattern(1000 + v, 20 + v as u64))).collect();
    edits.version_stack(&cuts.iter().collect::<Vec<_>>());
    root.file("../escape.mov", pattern(10, 14));
    let (account_id, root_id, broken_id) = (account.id.clone(), root.id.clone(), broken.id.clone());
    // Storage refuses one file's bytes for good.
    fake.fault(Target::path(&format!("/_fake/media/{broken_id}/original")), Fault::status(403).times(100));
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("Dailies/Day 01")).unwrap();
    std::fs::write(dir.path().join("Dailies/Day 01/kept.mov"), pattern(777, 99)).unwrap();
    let client = client(&fake);
    let (tx, rx) = tokio::sync::watch::channel(TransferProgress::default());

    let report = client
        .transfers()
        .download_tree(&account_id, &root_id, dir.path(), TreeOptions::new().progress(tx))
        .await
        .unwrap();

    let read = |p: &str| std::fs::read(dir.path().join(p)).unwrap();
    assert_eq!(read("top.mov"), top);
    assert_eq!(read("Dailies/Day 01/A001.mov"), clip);
    assert_eq!(read("Edits/Cut v3.mp4"), pattern(1003, 23), "the stack's head version");
    assert_eq!(read("Dailies/Day 01/kept.mov"), pattern(777, 99), "same name and size: left alone");
    assert!(dir.path().join("Dailies/Empty").is_dir());
    assert!(!dir.path().join("Dailies/Day 01/broken.mov").exists());
    assert!(!dir.path().parent().unwrap().join("escape.mov").exists(), "nothing written outside the tree");

    assert_eq!(report.transferred.len(), 3, "{report:?}");
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].path, Path::new("Dailies/Day 01/kept.mov"));
    let failed: Vec<_> = report.failed.iter().map(|f| f.path.clone()).collect();
    assert_eq!(failed.len(), 2, "{:?}", report.failed);
    assert!(failed.contains(&PathBuf::from("Dailies/Day 01/broken.mov")));
    assert!(failed.contains(&PathBuf::from("../escape.mov")));
    for f in &report.failed {
        match &f.error {
            Error::Download(e) => assert_eq!(e.status().map(|s| s.as_u16()), Some(403)),
            Error::Transfer(TransferError::UnsafeName { name, .. }) => assert_eq!(name, "../escape.mov"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(report.folders_created, 2, "Empty and Edits; Dailies/Day 01 was there");
    let done = *rx.borrow();
    assert_eq!((done.files_done, done.files_skipped, done.files_failed), (3, 1, 1));
    let expected = (top.len() + clip.len() + 1003) as u64;
    assert_eq!(report.bytes, expected);
    assert_eq!(done.bytes_received, expected);

    // Version stacks can be left out; a rerun downloads nothing new.
    fake.clear_requests();
    let options = TreeOptions::new().version_stacks(VersionStacks::Skip);
    let again = client.transfers().download_tree(&account_id, &root_id, dir.path(), options).await.unwrap();
    assert!(again.transferred.is_empty(), "{again:?}");
    assert!(again.skipped.iter().any(|s| s.reason == SkipReason::VersionStack));
    let asked: Vec<_> = fake.requests_to(STORAGE_DOWNLOAD).iter().map(|r| r.path.clone()).collect();
    assert_eq!(asked, [format!("/_fake/media/{broken_id}/original")], "only the failing file is asked for again");
}

#[tokio::test]
async fn a_cancelled_tree_download_is_resumed_by_the_next_run() {
    let fake = Fake::start().await.unwrap();
    let account = fake.seed().account("Acme");
    let root = account.workspace("Post").project("Launch").root();
    let big = pattern(20 * 1024 * 1024, 30);
    root.file("big.mov", big.clone());
    let (account_id, root_id) = (account.id.clone(), root.id.clone());
    // The first part arrives; the others are held back.
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::ZERO));
    fake.fault(Target::operation(STORAGE_DOWNLOAD), Fault::delay(Duration::from_secs(60)).times(3));
    let dir = tempfile::tempdir().unwrap();
    let client = client(&fake);
    let (tx, mut rx) = tokio::sync::watch::channel(TransferProgress::default());
    let cancel = CancellationToken::new();
    let canceller = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let _ = rx.wait_for(|p| p.bytes_received >= 16 * 1024 * 1024).await;
            cancel.cancel();
        })
    };

    let options = TreeOptions::new().progress(tx).cancel(cancel);
    let transfers = client.transfers();
    let run = transfers.download_tree(&account_id, &root_id, dir.path(), options);
    let report = tokio::time::timeout(Duration::from_secs(10), run).await.expect("cancelled promptly").unwrap();
    canceller.await.unwrap();

    assert!(report.cancelled);
    assert_eq!(report.unfinished, [PathBuf::from("big.mov")]);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(dir.path().join("big.mov.part").exists() && !dir.path().join("big.mov").exists());

    fake.clear_faults();
    fake.clear_requests();
    let again = client.transfers().download_tree(&account_id, &root_id, dir.path(), TreeOptions::new()).await.unwrap();
    assert!(again.is_complete(), "{again:?}");
    assert_eq!(std::fs::read(dir.path().join("big.mov")).unwrap(), big);
    assert_eq!(again.bytes, 4 * 1024 * 1024, "only what was missing");
}

#[tokio::test]
async fn an_interrupted_upload_is_resumed_and_an_expired_one_starts_over() {
    let fake = Fake::builder().part_size(1024 * 1024).start().await.unwrap();
    let account = fake.seed().account("Acme");
    let folder_id = account.workspace("Post").project("Launch").root().id;
    let client = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mov");
    let data = pattern(3 * 1024 * 1024, 40);
    std::fs::write(&path, &data).unwrap();
    let manifest = dir.path().join("clip.upload.json");

    // Part 1 is accepted, part 2 is held back by storage; then the upload is cancelled.
    fake.fault(Target::operation(STORAGE_UPLOAD), Fault::delay(Duration::ZERO));
    fake.fault(Target::operation(STORAGE_UPLOAD), Fault::delay(Duration::from_secs(60)));
    let cancel = CancellationToken::new();
    let options = UploadOptions::new().manifest(&manifest).concurrency(1).cancel(cancel.clone());
    let file = NewFile::open(&path).await.unwrap();
    let uploads = client.uploads();
    let upload = uploads.local(&account.id, &folder_id, file, options);
    let stopper = async {
        while fake.requests_to(STORAGE_UPLOAD).len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cancel.cancel();
    };
    let (err, ()) = tokio::join!(upload, stopper);
    assert!(err.is_err());
    let recorded = UploadManifest::load(&manifest).unwrap();
    assert_eq!(recorded.completed_parts(), [1]);
    assert!(!std::fs::read_to_string(&manifest).unwrap().is_empty());
    #[cfg(unix)]
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&manifest).unwrap().permissions()) & 0o777,
        0o600
    );

    // Resumed: parts 2 and 3 only, into the same Frame.io file.
    fake.clear_faults();
    let file = NewFile::open(&path).await.unwrap();
    let options = UploadOptions::new().manifest(&manifest).concurrency(1);
    let resumed = client.uploads().local(&account.id, &folder_id, file, options).await.unwrap();
    let file_id = resumed.id.unwrap();
    assert_eq!(fake.requests_to("files_create_local_upload").len(), 1, "no second file");
    let parts: Vec<_> =
        fake.requests_to(STORAGE_UPLOAD).iter().filter(|r| r.body_complete).map(|r| r.path.clone()).collect();
    assert_eq!(parts.iter().filter(|p| p.ends_with("part_1")).count(), 1, "part 1 was not sent again: {parts:?}");
    assert_eq!(&fake.file_bytes(&file_id).unwrap()[..], &data[..]);
    assert_eq!(fake.file_status(&file_id), Some("transcoded"));
    assert!(!manifest.exists(), "a finished upload's manifest goes");

    // URLs valid for one second: interrupted, then resumed too late.
    fake.set_url_ttl(Duration::from_secs(1));
    fake.fault(Target::operation(STORAGE_UPLOAD), Fault::delay(Duration::ZERO));
    fake.fault(Target::operation(STORAGE_UPLOAD), Fault::delay(Duration::from_secs(60)));
    let cancel = CancellationToken::new();
    let options = UploadOptions::new().manifest(&manifest).concurrency(1).cancel(cancel.clone());
    let before = fake.requests_to(STORAGE_UPLOAD).len();
    let upload = uploads.local(&account.id, &folder_id, NewFile::open(&path).await.unwrap(), options);
    let stopper = async {
        while fake.requests_to(STORAGE_UPLOAD).len() < before + 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cancel.cancel();
    };
    let (err, ()) = tokio::join!(upload, stopper);
    assert!(err.is_err());
    let stale: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let stale_id = stale["context"]["created"]["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    fake.clear_faults();
    fake.set_url_ttl(Duration::from_secs(3600));

    // The engine says clearly that the URLs expired.
    let source = frameio_ext::UploadSource::open(&path).await.unwrap();
    let engine = client.uploader().resume(&source, &manifest, UploadOptions::new()).await.unwrap_err();
    assert!(engine.is_expired(), "{engine}");
    assert!(engine.to_string().contains("Request has expired"), "{engine}");
    assert!(matches!(engine.kind(), UploadErrorKind::Rejected { .. }));

    // The job starts a new upload, and the unfinished file goes.
    let file = NewFile::open(&path).await.unwrap();
    let options = UploadOptions::new().manifest(&manifest);
    let fresh = client.uploads().local(&account.id, &folder_id, file, options).await.unwrap();
    let fresh_id = fresh.id.unwrap();
    assert_ne!(fresh_id, stale_id);
    assert_eq!(&fake.file_bytes(&fresh_id).unwrap()[..], &data[..]);
    assert_eq!(fake.file_status(&stale_id), None, "the unfinished file was deleted");
    assert!(!manifest.exists());
}

#[tokio::test]
async fn a_file_that_changes_while_it_uploads_is_detected() {
    let fake = Fake::builder().part_size(1024 * 1024).start().await.unwrap();
    let account = fake.seed().account("Acme");
    let folder_id = account.workspace("Post").project("Launch").root().id;
    let client = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("growing.mov");
    std::fs::write(&path, pattern(3 * 1024 * 1024, 50)).unwrap();
    // Part 2 is answered late; the file is written to meanwhile.
    fake.fault(Target::operation(STORAGE_UPLOAD), Fault::delay(Duration::ZERO));
    fake.fault(Target::operation(STORAGE_UPLOAD), Fault::delay(Duration::from_millis(500)));
    let file = NewFile::open(&path).await.unwrap();
    let options = UploadOptions::new().concurrency(1);
    let uploads = client.uploads();
    let upload = uploads.local(&account.id, &folder_id, file, options);
    let writer = async {
        while fake.requests_to(STORAGE_UPLOAD).len() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(&mut f, b"more frames").unwrap();
    };
    let (uploaded, ()) = tokio::join!(upload, writer);

    let err = uploaded.unwrap_err();
    let Error::FileUpload(frameio_ext::transfer::FileUploadError::Parts { source, .. }) = &err else {
        panic!("{err:?}")
    };
    let UploadErrorKind::SourceChanged(changed) = source.kind() else { panic!("{source:?}") };
    assert_eq!((changed.was, changed.now), (3 * 1024 * 1024, 3 * 1024 * 1024 + 11));
    assert!(err.to_string().contains("changed while it was being uploaded"), "{err}");
}

#[tokio::test]
async fn jobs_can_run_on_spawned_tasks() {
    let fake = Fake::start().await.unwrap();
    let account = fake.seed().account("Acme");
    let root = account.workspace("Post").project("Launch").root();
    root.file("a.mov", pattern(100, 60));
    let (account_id, root_id) = (account.id.clone(), root.id.clone());
    let client = client(&fake);
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().to_path_buf();

    let down = tokio::spawn({
        let (client, account_id, root_id, local) = (client.clone(), account_id.clone(), root_id.clone(), local.clone());
        async move { client.transfers().download_tree(&account_id, &root_id, &local, TreeOptions::new()).await }
    });
    let report = down.await.unwrap().unwrap();
    assert_eq!(report.transferred.len(), 1);
    let up =
        tokio::spawn(
            async move { client.transfers().upload_tree(&local, &account_id, &root_id, TreeOptions::new()).await },
        );
    let report = up.await.unwrap().unwrap();
    assert_eq!(report.skipped.len(), 1, "the file it just downloaded is there");
}
